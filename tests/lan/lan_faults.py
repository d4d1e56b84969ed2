"""Fault scenarios on the namespace LAN (tests/lan/lan.sh), one node process per namespace.

Started by tests/scripts/lan_fault_*.sh after `lan_up N`; those scripts own the namespaces
(their traps remove them, and every process inside, however the run ends). This driver only
starts mesh_demo --child inside the namespaces, applies faults through lan.sh functions, and
asserts that the mesh converges and nothing is lost: after every fault, each live node holds
exactly the latest value each live device set, and no slice of a dead device.

Usage: lan_faults.py SCENARIO --build DIR --run RUN --net NET --nodes N [--seconds S]
Every wait has a deadline; every loop is bounded in count and time.
"""
import argparse
import os
import random
import re
import selectors
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "process"))
from meshproc import Mesh  # noqa: E402

PORT = 7000


class Lan:
    def __init__(self, args):
        self.run, self.net, self.n = args.run, args.net, args.nodes
        self.lan_sh = os.path.join(HERE, "lan.sh")

    def ns(self, i):
        return f"ms-{self.run}-{i}"

    def ip(self, i):
        return f"10.78.{self.net}.{i}"

    def addr(self, i):
        return f"{self.ip(i)}:{PORT}"

    def call(self, *words):
        """Runs one lan.sh function against this run's LAN (not as its owner: no cleanup)."""
        script = f'source "{self.lan_sh}"; _LAN_RUN={self.run}; _LAN_NET={self.net}; _LAN_N={self.n}; "$@"'
        r = subprocess.run(["bash", "-c", script, "lan", *map(str, words)], capture_output=True, text=True,
                           timeout=30)
        return r.returncode, r.stdout + r.stderr


class LanMesh(Mesh):
    """A Mesh whose nodes run in namespaces: node i listens on 10.78.<net>.i:7000 and dials
    every other slot's address as a static peer."""

    def __init__(self, binary, lan, liveness_ms=None):
        super().__init__(binary)
        self.lan = lan
        self.liveness_ms = liveness_ms
        self.slot = {}  # node -> namespace index
        self.wrappers = {}

    def wrapper(self, i):
        if i not in self.wrappers:
            path = os.path.join(self.tmp.name, f"in-ns-{i}")
            with open(path, "w") as f:
                f.write(f'#!/bin/sh\nexec ip netns exec {self.lan.ns(i)} {self.binary} "$@"\n')
            os.chmod(path, stat.S_IRWXU)
            self.wrappers[i] = path
        return self.wrappers[i]

    def start_in(self, i, expect=0, extra=(), state=True):
        name = f"n{i}"
        args = ["--listen", self.lan.addr(i)]
        for j in range(1, self.lan.n + 1):
            if j != i:
                args += ["--peer", self.lan.addr(j)]
        if self.liveness_ms:
            args += ["--liveness-ms", str(self.liveness_ms)]
        binary, self.binary = self.binary, self.wrapper(i)
        try:
            state_dir = os.path.join(self.tmp.name, name) if state else None
            n = self.start(name, dial_all=False, expect=expect, state_dir=state_dir, extra=args + list(extra))
        finally:
            self.binary = binary
        self.slot[n] = i
        return n


class Probe:
    """tools/mdns_probe in a namespace, browse-only (--no-advertise), printing every question
    and record it hears (--dump). Looks like a node to Mesh._pump, which collects its lines."""

    def __init__(self, mesh, lan, build, i, seconds=60):
        binary = os.path.join(build, "tools", "mdns_probe")
        args = ["timeout", str(seconds + 10), "ip", "netns", "exec", lan.ns(i), binary, "-i", "eth0",
                "--no-advertise", "--no-ipv6", "--id", f"OBSERVER{i}", "--invite", mesh.invite, "--dump",
                "--seconds", str(seconds)]
        self.name = f"probe{i}"
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, bufsize=0)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.lines = []
        self.line_times = []
        self.keep = None  # every line is kept
        self.filtered = 0
        self.addr = self.id = None
        mesh.sel.register(self.proc.stdout, selectors.EVENT_READ, self)

    def key_of(self, device_id):
        """The advert key (instance name) the probe found for a device, or None."""
        for line in self.lines:  # found key=<key, may hold spaces> id=<id> v=<v> endpoints=<eps>
            m = re.match(r"^found key=(.*) id=(\S+) v=\d+ endpoints=\S*$", line)
            if m and m.group(2) == device_id:
                return m.group(1)
        return None

    def index(self, pred):
        """Index of the first line satisfying pred, or None."""
        return next((k for k, line in enumerate(self.lines) if pred(line)), None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_logged(mesh, lan, i, name, log, expect, extra):
    """Starts mesh_demo in namespace i with its info-level log (stderr) in `log`."""
    path = os.path.join(mesh.tmp.name, f"in-ns-{i}-logged")
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\nexec ip netns exec {lan.ns(i)} env MESHSLICE_LOG_LEVEL=info {mesh.binary} "$@" 2>>{log}\n')
    os.chmod(path, stat.S_IRWXU)
    binary, mesh.binary = mesh.binary, path
    try:
        n = mesh.start(name, dial_all=False, expect=expect, extra=extra)
    finally:
        mesh.binary = binary
    mesh.slot[n] = i
    return n


def log_lines(log):
    try:
        with open(log) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def live(mesh):
    return [n for n in mesh.nodes if n.proc.poll() is None]


def expected(mesh, latest):
    return {n.short(): f"{n.name}:{latest.get(n, 'online')}" for n in live(mesh)}


def wait_exact(mesh, latest, timeout, what):
    """Every live node's view equals exactly the live devices' latest values."""
    want = expected(mesh, latest)
    state = {}

    def ok():
        for n in live(mesh):
            v = mesh.view(n)
            if v != want:
                state["bad"] = (n.name, v)
                return False
        return True

    wait_checked(mesh, ok, state, timeout, f"{what}: want {want}")


def wait_checked(mesh, ok, state, timeout, what):
    """mesh.wait(ok), and on a timeout the state that was wrong (state['bad']) in the error."""
    try:
        mesh.wait(ok, timeout, what)
    except AssertionError:
        raise AssertionError(f"{what}: {state.get('bad')}")


def set_value(latest, n, value):
    n.tell(f"set {value}")
    latest[n] = value


def kill9(mesh, n):
    n.kill(signal.SIGKILL)
    n.proc.wait()


def pause(mesh, seconds):
    """Waits while reading the nodes' output (their pipes never fill)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        mesh._pump(max(0.01, min(0.2, end - time.monotonic())))


def report(msg):
    print(msg, flush=True)


# ------------------------------------------------------------------------------ scenarios
def kill_restart(mesh, lan, args):
    nodes = [mesh.start_in(i, expect=lan.n) for i in range(1, lan.n + 1)]
    latest = {}
    wait_exact(mesh, latest, 20, "initial convergence")
    victim_slot = lan.n
    for cycle in range(3):
        for n in live(mesh):
            set_value(latest, n, f"c{cycle}")
        victim = [n for n in live(mesh) if mesh.slot[n] == victim_slot][0]
        vid = victim.short()
        t0 = time.monotonic()
        kill9(mesh, victim)
        others = live(mesh)
        mesh.wait(lambda: all(vid not in mesh.view(n) for n in others), 10, "eviction of the killed node")
        report(f"  cycle {cycle}: kill -9 evicted in {time.monotonic() - t0:.2f} s")
        wait_exact(mesh, latest, 10, "survivors after the kill")
        again = mesh.start_in(victim_slot)
        assert again.short() == vid, "restart must keep its identity"
        set_value(latest, again, f"reborn{cycle}")
        t0 = time.monotonic()
        wait_exact(mesh, latest, 20, f"convergence after restart {cycle}")
        report(f"  cycle {cycle}: restarted node re-synced in {time.monotonic() - t0:.2f} s")
    return nodes


def partition(mesh, lan, args):
    for i in range(1, lan.n + 1):
        mesh.start_in(i, expect=lan.n)
    latest = {}
    wait_exact(mesh, latest, 20, "initial convergence")
    by_slot = {mesh.slot[n]: n for n in live(mesh)}
    cut, silent = lan.n, lan.n - 1
    for rnd in range(2):
        rc, out = lan.call("lan_link_down", cut)
        assert rc == 0, out
        rc, out = lan.call("lan_link_down", silent, "--silent")
        assert rc == 0, out
        t0 = time.monotonic()
        inside = [by_slot[i] for i in range(1, silent)]
        # Both sides evict: the majority loses both cut nodes, each cut node loses everyone.
        mesh.wait(lambda: all(len(mesh.view(n)) == lan.n - 2 for n in inside), 15, "majority evicts the cut nodes")
        mesh.wait(lambda: all(len(mesh.view(by_slot[i])) == 1 for i in (cut, silent)), 15, "cut nodes evict all")
        report(f"  round {rnd}: both sides evicted in {time.monotonic() - t0:.2f} s")
        for n in live(mesh):  # writes on both sides of the partition
            set_value(latest, n, f"split{rnd}")
        lan.call("lan_link_up", cut)
        lan.call("lan_link_up", silent)
        t0 = time.monotonic()
        wait_exact(mesh, latest, 40, f"re-sync after heal {rnd}")
        report(f"  round {rnd}: healed and re-synced in {time.monotonic() - t0:.2f} s")


def impair(lan, slots, loss, rest):
    """Applies 'loss <loss>% <rest>' to both directions of each slot's link; returns the backend
    and a description of what was applied."""
    spec = f"loss {loss}% {rest}"
    rc, backend = lan.call("lan_netem_backend")
    backend = backend.strip()
    applied = f"'{spec}' ({backend})"
    for i in slots:
        rc, out = lan.call("lan_netem", i, spec)
        if rc == 2:
            # Neither sch_netem nor python3 for the userspace impairer: only loss (nftables).
            applied = f"'loss {loss}%' (nftables; no jitter/duplication/reordering)"
            rc, out = lan.call("lan_loss", i, loss)
        assert rc == 0, out
    return backend, applied


def netem(mesh, lan, args):
    for i in range(1, lan.n + 1):
        mesh.start_in(i, expect=lan.n)
    latest = {}
    wait_exact(mesh, latest, 20, "initial convergence")
    backend, applied = impair(lan, (2, 3), 20, "delay 50ms 50ms duplicate 5% reorder 10%")
    report(f"  impairment on nodes 2 and 3, both directions: {applied}")
    t0 = time.monotonic()
    rounds = 10
    for r in range(rounds):
        for n in live(mesh):
            set_value(latest, n, f"r{r}")
        pause(mesh, 0.3)
    wait_exact(mesh, latest, 45, "convergence under loss/jitter/duplication/reordering")
    removed = [line for n in live(mesh) for line in n.lines if line.startswith("REMOVED ")]
    report(f"  {rounds * lan.n} updates under {applied} on 2 of {lan.n} nodes: converged "
           f"{time.monotonic() - t0:.2f} s after the first; {len(removed)} peer evictions on the way "
           f"{sorted(set(line.split()[-1] for line in removed))}")
    totals = {}
    for i in (2, 3):
        rc, out = lan.call("lan_faults_clear", i)
        assert rc == 0, out
        if out.strip():
            report(f"  node {i} {out.strip()}")
        for word in out.replace(";", " ").split():
            k, _, v = word.partition("=")
            if v.isdigit() and k != "max_frame":
                totals[k] = totals.get(k, 0) + int(v)
    if backend == "impairer":
        # The impairer's own counters: it really dropped, duplicated and reordered frames.
        assert totals.get("rx", 0) > 100 and all(totals.get(k, 0) > 0 for k in ("lost", "duplicated", "reordered")), \
            f"the impairer did not impair: {totals}"
        report(f"  impairer totals (2 links, both directions): {totals}")
    for n in live(mesh):
        set_value(latest, n, "clear")
    t0 = time.monotonic()
    wait_exact(mesh, latest, 20, "convergence after clearing")
    report(f"  cleared; converged again in {time.monotonic() - t0:.2f} s")


def ask(mesh, n, command, tag):
    """Sends `command` to n and returns the next line starting with `tag`."""
    before = len([l for l in n.lines if l.startswith(tag)])
    n.tell(command)
    mesh.wait(lambda: len([l for l in n.lines if l.startswith(tag)]) > before, 10, command)
    return [l for l in n.lines if l.startswith(tag)][-1]


def stats(mesh, n):
    return {k: int(v) for k, v in (w.split("=") for w in ask(mesh, n, "stats", "STATS ").split()[1:])}


def wait_docs(mesh, what, timeout=45):
    """Every live node holds exactly every other live node's current doc value (by digest)."""
    state = {}

    def ok():
        own = {}
        for n in live(mesh):
            docs = dict(w.split("=") for w in ask(mesh, n, "docview", "DOCS").split()[1:])
            if "self" in docs:
                own[n.short()] = docs.pop("self")
            state[n.name] = docs
        for n in live(mesh):
            want = {k: v for k, v in own.items() if k != n.short()}
            if state[n.name] != want:
                state["bad"] = (n.name, state[n.name], want)
                return False
        return True

    wait_checked(mesh, ok, state, timeout, what)


def deltas(mesh, lan, args):
    """Large slices edited at random travel as deltas under loss, jitter, duplication and
    reordering (nodes 2 and 3), and one node restarts between versions; after each phase every
    node holds every other node's current value byte for byte (BLAKE2b-256 compared)."""
    for i in range(1, lan.n + 1):
        mesh.start_in(i, expect=lan.n)
    wait_exact(mesh, {}, 20, "initial convergence")
    for n in live(mesh):
        ask(mesh, n, "docinit 131072", "DOCSET")
    wait_docs(mesh, "the first full values")
    _, applied = impair(lan, (2, 3), 10, "delay 20ms 20ms duplicate 5% reorder 10%")
    report(f"  impairment on nodes 2 and 3: {applied}")
    t0 = time.monotonic()
    for r in range(8):
        for n in live(mesh):
            ask(mesh, n, f"docedit {1 + r % 3}", "DOCSET")
        pause(mesh, 0.2)
        if r == 3:  # a peer that restarts between versions: it comes back with nothing
            victim = [n for n in live(mesh) if mesh.slot[n] == lan.n][0]
            kill9(mesh, victim)
            again = mesh.start_in(lan.n)
            ask(mesh, again, "docinit 65536", "DOCSET")
    wait_docs(mesh, "convergence of random edits under impairment and a restart")
    report(f"  8 rounds of edits on {lan.n} nodes: byte-exact everywhere {time.monotonic() - t0:.2f} s after the first")
    for i in (2, 3):
        lan.call("lan_faults_clear", i)
    for n in live(mesh):
        ask(mesh, n, "docedit 2", "DOCSET")
    wait_docs(mesh, "convergence after clearing", 20)
    totals = {}
    for n in live(mesh):
        for k, v in stats(mesh, n).items():
            totals[k] = totals.get(k, 0) + v
    report(f"  deltas sent {totals['deltas_sent']}, applied {totals['deltas_applied']}, refused {totals['deltas_refused']}"
           f" (full slices after refusals: {totals['delta_refusals_received']}), malformed {totals['malformed']}")
    assert totals["deltas_applied"] >= lan.n * 8, f"edits did not travel as deltas: {totals}"
    assert totals["malformed"] == 0, totals


def flapping(mesh, lan, args):
    for i in range(1, lan.n + 1):
        mesh.start_in(i, expect=lan.n)
    latest = {}
    wait_exact(mesh, latest, 20, "initial convergence")
    flap = lan.n
    rng = random.Random(args.seed)
    t0 = time.monotonic()
    for k in range(8):
        mode = ["--silent"] if k % 2 else []
        lan.call("lan_link_down", flap, *mode)
        for n in live(mesh):
            set_value(latest, n, f"f{k}")
        pause(mesh, rng.uniform(0.3, 1.5))
        lan.call("lan_link_up", flap)
        pause(mesh, rng.uniform(0.3, 1.5))
    wait_exact(mesh, latest, 40, "convergence after flapping")
    report(f"  8 flaps of node {flap} in {time.monotonic() - t0:.1f} s; converged, nothing lost")


def churn(mesh, lan, args):
    rng = random.Random(args.seed)
    latest = {}
    for i in range(1, lan.n // 2 + 1):
        mesh.start_in(i)
    end = time.monotonic() + args.seconds
    counts = {"start": 0, "kill9": 0, "quit": 0, "set": 0}
    stopped_by_us = set()
    while time.monotonic() < end:
        running = {mesh.slot[n]: n for n in live(mesh)}
        stopped = [i for i in range(1, lan.n + 1) if i not in running]
        action = rng.choice(["start", "start", "kill9", "quit", "set", "set"])  # ~half the slots live
        if action == "start" and stopped:
            n = mesh.start_in(rng.choice(stopped), state=rng.random() < 0.7)
            counts["start"] += 1
        elif action in ("kill9", "quit") and len(running) > 2:
            n = running[rng.choice(list(running))]
            stopped_by_us.add(n)
            if action == "kill9":
                kill9(mesh, n)
            else:
                n.tell("quit")
                mesh.wait(lambda: n.proc.poll() is not None, 10, "graceful quit")
            counts[action] += 1
        elif running:
            n = running[rng.choice(list(running))]
            set_value(latest, n, f"s{counts['set']}")
            counts["set"] += 1
        mesh._pump(rng.uniform(0.05, 0.4))
    # A last wave of joins, so the quiet check covers a large mesh, then no more changes.
    running = {mesh.slot[n] for n in live(mesh)}
    for i in [i for i in range(1, lan.n + 1) if i not in running][: max(0, lan.n * 3 // 4 - len(running))]:
        mesh.start_in(i)
        counts["start"] += 1
    crashed = [(n.name, n.proc.returncode, n.lines[-3:]) for n in mesh.nodes
               if n.proc.poll() is not None and n not in stopped_by_us]
    assert not crashed, f"nodes exited on their own: {crashed}"
    t0 = time.monotonic()
    wait_exact(mesh, latest, 45, "quiet convergence after churn")
    report(f"  churn {args.seconds} s on {lan.n} slots: {counts}; {len(live(mesh))} survivors hold exactly "
           f"the live devices' latest slices {time.monotonic() - t0:.2f} s after the churn stopped")


def mdns_discovery(mesh, lan, args):
    """Issue 7: three nodes find each other by real mDNS on the namespace LAN, converge, ignore
    a spoofed goodbye for a live peer sent from another host, and evict a stopped peer on its
    goodbye."""
    nodes = []
    for i in (1, 2, 3):
        binary, mesh.binary = mesh.binary, mesh.wrapper(i)
        try:
            n = mesh.start(f"n{i}", dial_all=False, expect=3,
                           extra=["--listen", lan.addr(i), "--mdns", "eth0"])
        finally:
            mesh.binary = binary
        mesh.slot[n] = i
        nodes.append(n)
    t0 = time.monotonic()
    mesh.wait(lambda: all(any(l == "CONVERGED 3" for l in n.lines) for n in nodes), 20, "mDNS discovery")
    report(f"  3 nodes discovered each other by mDNS and converged in {time.monotonic() - t0:.2f} s")
    n1, n2, n3 = nodes
    # A host without the mesh secret spoofs n2's mDNS goodbye (TTL 0) from namespace 4.
    hostile = os.path.join(args.build, "tools", "hostile_peer")
    r = subprocess.run(["timeout", "30", "ip", "netns", "exec", lan.ns(4), hostile, "--mode", "spoof-goodbye",
                        "--iface", "eth0", "--victim", n2.id, "--timeout-ms", "15000"],
                       capture_output=True, text=True, timeout=40)
    assert "seen=1" in r.stdout and "sent=" in r.stdout and "sent=0" not in r.stdout, (r.stdout, r.stderr)
    report(f"  spoofed goodbye: {r.stdout.strip()}")
    # Past the 1 s goodbye grace and well past a liveness timeout: n2 must still be there.
    pause(mesh, 4)
    for n in (n1, n3):
        assert not any(l.startswith("REMOVED " + n2.short()) for l in n.lines), f"{n.name} evicted live n2"
    n2.tell("set after-spoof")
    mesh.wait(lambda: all(mesh.view(n).get(n2.short()) == "n2:after-spoof" for n in (n1, n3)), 10,
              "n2 still linked after the spoofed goodbye")
    # An observer on a 4th host, browse-only, sees the stopped node's mDNS goodbye (TTL 0).
    probe = Probe(mesh, lan, args.build, 4)
    try:
        mesh.wait(lambda: probe.key_of(n3.id) is not None, 15, "the observer finds n3's advert")
        key3 = probe.key_of(n3.id)
        seen = len(probe.lines)
        t0 = time.monotonic()
        n3.tell("quit")
        mesh.wait(lambda: all(any(l == f"REMOVED {n3.short()} goodbye" for l in n.lines) for n in (n1, n2)), 5,
                  "goodbye of the stopped node")
        report(f"  stopped node removed with reason goodbye in {time.monotonic() - t0:.2f} s")
        try:
            mesh.wait(lambda: f"lost key={key3}" in probe.lines[seen:], 5, "the observer's lost event for n3")
        except AssertionError:
            raise AssertionError(f"no lost event for {key3}; the observer heard: {probe.lines[seen:][-15:]}")
        took = time.monotonic() - t0
        lines = probe.lines[seen:]
        lost_at = lines.index(f"lost key={key3}")
        bye = [l for l in lines[:lost_at]
               if l.startswith(f"rr an {key3} ttl=0 ") and l.endswith(f"from={lan.ip(3)}")]
        assert bye, f"no TTL-0 record for {key3} from {lan.ip(3)} before the lost event: {lines[:lost_at]}"
        # TTL expiry would take 120 s (SRV) or more; a goodbye takes its 1 s grace (RFC 6762 §10.1).
        assert took < 3, f"lost {took:.2f} s after the stop: not a goodbye"
        others = [l for l in lines if l.startswith("lost ") and l != f"lost key={key3}"]
        assert not others, f"the observer lost other nodes: {others}"
        report(f"  observer on host 4 saw n3's goodbye (TTL 0) and lost its advert {took:.2f} s after it stopped")
    finally:
        probe.stop()


def mdns_interfaces(mesh, lan, args):
    """Interface following: node 2 runs on every multicast interface ('*') with a 200 ms scan
    while it has none (eth0 deleted); when eth0 appears it advertises and browses on it and links
    with node 1; when eth0 is deleted again it drops the interface without an mDNS error. Twice."""
    rc, out = lan.call("lan_unplug", 2)
    assert rc == 0, out
    log = os.path.join(mesh.tmp.name, "n2.log")
    binary, mesh.binary = mesh.binary, mesh.wrapper(1)
    try:  # no static peers: only discovery can bring the two together
        n1 = mesh.start("n1", dial_all=False, expect=2, extra=["--listen", lan.addr(1), "--mdns", "eth0"])
    finally:
        mesh.binary = binary
    n2 = start_logged(mesh, lan, 2, "n2", log, 2, ["--listen", "0.0.0.0:7000", "--mdns", "*", "--mdns-scan-ms", "200"])
    assert not any("link up" in l for l in log_lines(log)), "n2 opened a link before it had an interface"
    probe = Probe(mesh, lan, args.build, 1)  # next to n1, sharing port 5353 with it
    from_n2 = f"from={lan.ip(2)}"
    try:
        for rnd in range(2):
            log_mark, probe_mark = len(log_lines(log)), len(probe.lines)
            t0 = time.monotonic()
            rc, out = lan.call("lan_plug", 2)
            assert rc == 0, out
            mesh.wait(lambda: any("link up on eth0" in l for l in log_lines(log)[log_mark:]) and
                      n2.short() in mesh.view(n1) and n1.short() in mesh.view(n2), 15,
                      f"n2 follows the new eth0 and links with n1 (round {rnd})")
            report(f"  round {rnd}: eth0 appeared; n2 linked with n1 {time.monotonic() - t0:.2f} s later")
            # Advertising (its records) and browsing (its queries) on the new interface.
            new = lambda: probe.lines[probe_mark:]  # noqa: E731
            mesh.wait(lambda: any(l.startswith("rr an ") and " SRV " in l and l.endswith(from_n2) for l in new()), 10,
                      "n2 advertises on eth0")
            mesh.wait(lambda: any(l.startswith("q _meshslice._tcp.local 12 ") and l.endswith(from_n2) for l in new()), 10,
                      "n2 browses on eth0")
            # (its log line may trail the packet the observer already printed)
            mesh.wait(lambda: any(l.endswith(" on eth0") and "announced " in l for l in log_lines(log)[log_mark:]), 5,
                      "n2 logs its announcement on eth0")
            log_mark = len(log_lines(log))
            t0 = time.monotonic()
            rc, out = lan.call("lan_unplug", 2)
            assert rc == 0, out
            mesh.wait(lambda: any("link down on eth0" in l for l in log_lines(log)[log_mark:]), 5, "n2 drops eth0")
            report(f"  round {rnd}: eth0 deleted; n2 dropped it {time.monotonic() - t0:.2f} s later")
            mesh.wait(lambda: n2.short() not in mesh.view(n1), 15, "n1 evicts the unreachable n2")
            bad = [l for l in log_lines(log)[log_mark:] if "[mdns]" in l and (" warn " in l or " error " in l)]
            assert not bad, f"mDNS errors after the interface went away: {bad}"
            assert n2.proc.poll() is None, "n2 exited"
    finally:
        probe.stop()


def mdns_ipv6(mesh, lan, args):
    """Two nodes with IPv6 only on their veth (the IPv4 address removed) discover each other by
    mDNS over ff02::fb and link over an IPv6 endpoint."""
    for i in (1, 2):
        r = subprocess.run(["timeout", "10", "ip", "-n", lan.ns(i), "addr", "del", f"{lan.ip(i)}/24", "dev", "eth0"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    nodes = []
    for i in (1, 2):
        binary, mesh.binary = mesh.binary, mesh.wrapper(i)
        try:
            n = mesh.start(f"n{i}", dial_all=False, expect=2, extra=["--listen", "[::]:7000", "--mdns", "eth0"])
        finally:
            mesh.binary = binary
        nodes.append(n)
    t0 = time.monotonic()
    mesh.wait(lambda: all(any(l == "CONVERGED 2" for l in n.lines) for n in nodes), 20, "discovery over IPv6 mDNS")
    report(f"  2 IPv6-only nodes discovered each other by mDNS and converged in {time.monotonic() - t0:.2f} s")
    for n, other in ((nodes[0], nodes[1]), (nodes[1], nodes[0])):
        before = len(n.lines)
        n.tell("addresses")
        mesh.wait(lambda: any(l.startswith("ADDRESSES") for l in n.lines[before:]), 5, "addresses")
        line = [l for l in n.lines[before:] if l.startswith("ADDRESSES")][0]
        addrs = dict(w.split("=", 1) for w in line.split()[1:])
        addr = addrs.get(other.short(), "")
        assert addr.startswith("[") and ("fd6d:736c:" in addr or "fe80:" in addr), \
            f"{n.name} is linked to {other.name} over {addr!r}, not IPv6"
        report(f"  {n.name} -> {other.name} link endpoint {addr}")


SCENARIOS = {f.__name__: f for f in (kill_restart, partition, netem, flapping, churn, mdns_discovery, mdns_interfaces,
                                     mdns_ipv6, deltas)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--build", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--net", required=True)
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--seed", type=int, default=int(os.environ.get("LAN_SEED", "0")) or int(time.time()))
    p.add_argument("--liveness-ms", type=int, default=None)
    args = p.parse_args()
    lan = Lan(args)
    mesh = LanMesh(os.path.join(args.build, "tools", "mesh_demo"), lan, args.liveness_ms)
    print(f"scenario {args.scenario}: {args.nodes} namespaces, seed {args.seed}", flush=True)
    t0 = time.monotonic()
    try:
        SCENARIOS[args.scenario](mesh, lan, args)
    except Exception as e:  # noqa: BLE001
        print(f"FAIL {args.scenario}: {e}", flush=True)
        for n in mesh.nodes:
            print(f"  {n.name}: last lines {n.lines[-6:]}", flush=True)
        mesh.close()
        return 1
    mesh.close()
    print(f"PASS {args.scenario} ({time.monotonic() - t0:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
