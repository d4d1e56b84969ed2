"""Runs the examples (examples/*.cc, examples/c_presence.c) in pairs on 127.0.0.1 and checks
what a user would see: todo lists appear and disappear, chat messages arrive, presence views
follow joins, changes and leaves, embed_loop connects and closes its loop cleanly.

Usage: test_examples.py <build>/examples   (registered in tests/CMakeLists.txt when the
examples are built).
Every wait is event-driven (lines the programs print) with a deadline. Network: TCP on
127.0.0.1, and mDNS only on the loopback interface on a private port.
"""
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time


class Program:
    """One example process: commands on stdin, lines from stdout."""

    def __init__(self, binary, name, invite, peers=(), extra=()):
        args = [binary, "--name", name, "--invite", invite, "--listen", "127.0.0.1:0"]
        for p in peers:
            args += ["--peer", p]
        args += list(extra)
        self.name = name
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, bufsize=0)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.lines = []
        self.addr = None

    def tell(self, command):
        self.proc.stdin.write((command + "\n").encode())

    def has(self, pattern):
        return any(re.search(pattern, line) for line in self.lines)

    def last(self, prefix):
        found = [line for line in self.lines if line.startswith(prefix)]
        return found[-1] if found else None

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]


class Session:
    def __init__(self, examples):
        self.examples = examples
        self.programs = []
        self.sel = selectors.DefaultSelector()
        out = subprocess.run([self.binary("todo"), "--new-invite"], capture_output=True, text=True)
        self.invite = out.stdout.strip()
        assert self.invite.startswith("msm1-"), out

    def binary(self, example):
        path = os.path.join(self.examples, example)
        assert os.access(path, os.X_OK), f"{path} is not built"
        return path

    def start(self, example, name, peers=(), extra=(), dial=True):
        if dial and not peers:
            peers = [p.addr for p in self.programs if p.addr and p.proc.poll() is None]
        p = Program(self.binary(example), name, self.invite, peers, extra)
        self.programs.append(p)
        self.sel.register(p.proc.stdout, selectors.EVENT_READ, p)
        self.wait(lambda: p.addr is not None, 10, f"{name} ({example}) to start")
        return p

    def _pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            p = key.data
            try:
                chunk = p.proc.stdout.read()
            except (BlockingIOError, ValueError):
                continue
            if not chunk:
                self.sel.unregister(key.fileobj)
                continue
            p.buffer += chunk
            while b"\n" in p.buffer:
                line, p.buffer = p.buffer.split(b"\n", 1)
                line = line.decode(errors="replace")
                p.lines.append(line)
                m = re.search(r"listening on (\S+)", line)
                if m:
                    p.addr = m.group(1)

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            self._pump(min(left, 0.2))

    def wait_line(self, program, pattern, timeout=10):
        self.wait(lambda: program.has(pattern), timeout, f"{program.name}: /{pattern}/")

    def finish(self, program, timeout=10):
        """Closes stdin (EOF ends an example) and waits for a clean exit."""
        program.proc.stdin.close()
        self.wait(lambda: program.proc.poll() is not None, timeout, f"{program.name} to exit")
        self._pump(0)
        assert program.proc.returncode == 0, f"{program.name} exited {program.proc.returncode}"

    def close(self):
        for p in self.programs:
            if p.proc.poll() is None:
                p.proc.kill()
            p.proc.wait()


# ---------------------------------------------------------------- the examples' behaviour

def todo_lists_appear_live_and_disappear_when_a_device_goes_offline(s):
    alice = s.start("todo", "alice")
    bob = s.start("todo", "bob")
    alice.tell("add milk")
    bob.tell("add bread")
    s.wait_line(alice, r"^list bob: 1 item: \[ \] bread$")
    s.wait_line(bob, r"^list alice: 1 item: \[ \] milk$")
    bob.tell("done 1")
    s.wait_line(alice, r"^list bob: 1 item: \[x\] bread$")
    carol = s.start("todo", "carol")
    s.wait_line(carol, r"^list alice: 1 item: \[ \] milk$")
    s.wait_line(carol, r"^list bob: 1 item: \[x\] bread$")
    s.wait_line(alice, r"^list carol: empty$")
    # A crash (no goodbye) and a graceful quit: both lists leave every other device.
    bob.proc.kill()
    s.wait_line(alice, r"^gone bob \((timeout|link-lost)\): list removed$")
    s.wait_line(carol, r"^gone bob \((timeout|link-lost)\): list removed$")
    carol.tell("quit")
    s.wait_line(alice, r"^gone carol \(goodbye\): list removed$")
    alice.tell("show")
    s.wait(lambda: alice.lines and alice.lines[-1] == "end", 5, "alice's board")
    board = alice.lines[len(alice.lines) - 1 - alice.lines[::-1].index("board:"):]
    assert len(board) == 3 and board[1].startswith("  alice [") and "milk" in board[1], board
    alice.tell("done 7")
    s.wait_line(alice, r"^error: no item 7")


def chat_messages_arrive_as_peers_join_and_leave(s):
    alice = s.start("chat", "alice")
    bob = s.start("chat", "bob")
    s.wait_line(alice, r"^\* bob joined$")
    s.wait_line(bob, r"^\* alice joined$")
    alice.tell("hello bob")
    s.wait_line(alice, r"^\(sent to 1\)$")
    s.wait_line(bob, r"^<alice> hello bob$")
    bob.tell("/to alice just for you")
    s.wait_line(alice, r"^<bob> just for you$")
    carol = s.start("chat", "carol")
    s.wait_line(carol, r"^\* alice joined$")
    s.wait_line(carol, r"^\* bob joined$")
    carol.tell("hi both")
    s.wait_line(carol, r"^\(sent to 2\)$")
    s.wait_line(alice, r"^<carol> hi both$")
    s.wait_line(bob, r"^<carol> hi both$")
    s.finish(carol)  # EOF on stdin: leaves with goodbyes
    s.wait_line(alice, r"^\* carol left \(goodbye\)$")
    s.wait_line(bob, r"^\* carol left \(goodbye\)$")
    alice.tell("/peers")
    s.wait_line(alice, r"^peers: bob$")


def presence_view_follows_join_change_and_leave(s):
    alice = s.start("presence", "alice")
    bob = s.start("presence", "bob", extra=["--status", "busy"])
    s.wait_line(alice, r"^\+ bob: busy$")
    s.wait_line(alice, r"^view: alice=online bob=busy$")
    s.wait_line(bob, r"^view: alice=online bob=busy$")
    bob.tell("status away")
    s.wait_line(alice, r"^~ bob: away$")
    s.wait_line(alice, r"^view: alice=online bob=away$")
    bob.tell("quit")
    s.wait_line(alice, r"^- bob \(goodbye\)$")
    s.wait(lambda: alice.last("view:") == "view: alice=online", 5, "alice's view without bob")


def presence_finds_peers_with_mdns_on_loopback_only(s):
    port = str(20000 + os.getpid() % 5000)  # private port: no other responder hears us
    mdns = ["--mdns-interface", "lo", "--mdns-port", port]
    alice = s.start("presence", "alice", extra=mdns, dial=False)
    bob = s.start("presence", "bob", extra=mdns, dial=False)
    s.wait_line(alice, r"^view: alice=online bob=online$", 15)
    s.wait_line(bob, r"^view: alice=online bob=online$", 15)


def embed_loop_connects_syncs_and_closes_its_loop_cleanly(s):
    alice = s.start("embed_loop", "alice")
    bob = s.start("embed_loop", "bob")
    s.wait_line(alice, r"^joined bob$")
    s.wait_line(alice, r"^peers: 1$")
    s.wait_line(bob, r"^peers: 1$")
    alice.tell("note hello from the app loop")
    s.wait_line(bob, r"^note from alice: hello from the app loop$")
    alice.tell("quit")
    s.wait_line(bob, r"^left alice \(goodbye\)$")
    s.wait_line(bob, r"^peers: 0$")
    s.wait(lambda: alice.proc.poll() is not None, 10, "alice to exit")
    s._pump(0.2)
    assert alice.proc.returncode == 0 and alice.has(r"^loop closed cleanly$"), alice.lines[-3:]
    bob.proc.send_signal(signal.SIGTERM)  # handled on the loop: a graceful stop too
    s.wait(lambda: bob.proc.poll() is not None, 10, "bob to exit on SIGTERM")
    s._pump(0.2)
    assert bob.proc.returncode == 0 and bob.has(r"^loop closed cleanly$"), bob.lines[-3:]


def c_presence_views_follow_join_change_crash_and_leave(s):
    alice = s.start("c_presence", "alice")
    bob = s.start("c_presence", "bob", extra=["--status", "busy"])
    carol = s.start("c_presence", "carol")
    for p in (alice, bob, carol):
        s.wait_line(p, r"^view: alice=online bob=busy carol=online$")
    bob.tell("status away")
    s.wait_line(alice, r"^~ bob: away$")
    s.wait_line(carol, r"^view: alice=online bob=away carol=online$")
    alice.tell("ping bob")  # a bus request answered by bob's service
    s.wait_line(alice, r"^pong bob: away$")
    alice.tell("ping zed")
    s.wait_line(alice, r"^error: nobody named zed$")
    carol.proc.kill()
    s.wait_line(alice, r"^- carol \((timeout|link-lost)\)$")
    s.finish(bob)
    s.wait_line(alice, r"^- bob \(goodbye\)$")
    s.wait(lambda: alice.last("view:") == "view: alice=online", 5, "alice alone")


def examples_run_unattended_for_a_bounded_time(s):
    for example in ("todo", "chat", "presence", "embed_loop", "c_presence"):
        start = time.monotonic()
        out = subprocess.run([s.binary(example), "--invite", s.invite, "--run-for", "0.3"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
        took = time.monotonic() - start
        assert out.returncode == 0, f"{example}: exit {out.returncode}: {out.stderr[-500:]}"
        assert 0.3 <= took < 10, f"{example} ran {took:.2f} s"
        assert "listening on 127.0.0.1:" in out.stdout, f"{example}: {out.stdout[-500:]}"


TESTS = [
    todo_lists_appear_live_and_disappear_when_a_device_goes_offline,
    chat_messages_arrive_as_peers_join_and_leave,
    presence_view_follows_join_change_and_leave,
    presence_finds_peers_with_mdns_on_loopback_only,
    embed_loop_connects_syncs_and_closes_its_loop_cleanly,
    c_presence_views_follow_join_change_crash_and_leave,
    examples_run_unattended_for_a_bounded_time,
]


def main():
    examples = os.path.abspath(sys.argv[1])
    passed = failed = 0
    for t in TESTS:
        s = Session(examples)
        start = time.monotonic()
        try:
            t(s)
            passed += 1
            print(f"PASS {t.__name__} ({time.monotonic() - start:.2f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAIL {t.__name__}: {e}", flush=True)
            for p in s.programs:
                print(f"  {p.name}: last lines {p.lines[-6:]}\n  stderr: {p.errors()}", flush=True)
        finally:
            s.close()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
