"""Drives mesh_demo --child node processes on 127.0.0.1 for multi-process tests.

Every wait is event-driven (lines a node prints) with a deadline; no fixed sleeps.
"""
import fcntl
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time


F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_BYTES = 1024 * 1024


class Node:
    def __init__(self, binary, name, invite, peers=(), expect=0, state_dir=None, extra=()):
        args = [binary, "--child", "--name", name, "--invite", invite, "--expect", str(expect)]
        for p in peers:
            args += ["--peer", p]
        if state_dir:
            args += ["--state-dir", state_dir]
        args += list(extra)
        self.name = name
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, bufsize=0)
        os.set_blocking(self.proc.stdout.fileno(), False)
        try:  # room for ~1 s of a flooded node's output, so a briefly descheduled test does not block it
            fcntl.fcntl(self.proc.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass  # above /proc/sys/fs/pipe-max-size: keep the default
        self.buffer = b""
        self.lines = []
        self.line_times = []  # time.monotonic() when each line of `lines` was read
        # Lines for which keep(line) is false are counted in `filtered`, not stored (a flooded
        # node prints hundreds of thousands of them).
        self.keep = None
        self.filtered = 0
        self.addr = self.id = None

    def short(self):
        return self.id[:9]

    def tell(self, command):
        self.proc.stdin.write((command + "\n").encode())

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)

    def cpu_seconds(self):
        """User + system CPU time of the process so far (/proc/<pid>/stat fields 14, 15)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


class Mesh:
    def __init__(self, binary):
        self.binary = binary
        self.nodes = []
        self.sel = selectors.DefaultSelector()
        self.tmp = tempfile.TemporaryDirectory()
        out = subprocess.run([binary, "--child", "--print-invite"], capture_output=True, text=True)
        self.invite = out.stdout.strip()
        assert self.invite.startswith("msm1-"), out

    def start(self, name, dial_all=True, expect=0, state_dir=None, extra=()):
        peers = [n.addr for n in self.nodes if n.addr and n.proc.poll() is None] if dial_all else []
        n = Node(self.binary, name, self.invite, peers, expect, state_dir, extra)
        self.nodes.append(n)
        self.sel.register(n.proc.stdout, selectors.EVENT_READ, n)
        self.wait(lambda: n.addr is not None, 10, f"{name} start")
        return n

    def _pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            n = key.data
            try:
                chunk = n.proc.stdout.read()
            except (BlockingIOError, ValueError):
                continue
            if not chunk:
                self.sel.unregister(key.fileobj)
                continue
            n.buffer += chunk
            *whole, n.buffer = n.buffer.split(b"\n")  # linear: a flooded node prints fast
            now = time.monotonic()
            for raw in whole:
                line = raw.decode()
                if n.keep is not None and not n.keep(line):
                    n.filtered += 1
                    continue
                n.lines.append(line)
                n.line_times.append(now)
                if line.startswith("LISTEN "):
                    _, n.addr, n.id = line.split()

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            self._pump(min(left, 0.5))

    def view(self, n):
        before = len([l for l in n.lines if l.startswith("VIEW")])
        n.tell("view")
        self.wait(lambda: len([l for l in n.lines if l.startswith("VIEW")]) > before, 5, "view")
        last = [l for l in n.lines if l.startswith("VIEW")][-1]
        return dict(item.split("=", 1) for item in last.split()[1:])

    def close(self):
        for n in self.nodes:
            if n.proc.poll() is None:
                n.proc.kill()
            n.proc.wait()
        self.tmp.cleanup()


def run(tests):
    binary = sys.argv[1]
    passed = failed = 0
    for t in tests:
        mesh = Mesh(binary)
        start = time.monotonic()
        try:
            t(mesh)
            passed += 1
            print(f"PASS {t.__name__} ({time.monotonic() - start:.2f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAIL {t.__name__}: {e}", flush=True)
            for n in mesh.nodes:
                print(f"  {n.name}: last lines {n.lines[-5:]}", flush=True)
        finally:
            mesh.close()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
