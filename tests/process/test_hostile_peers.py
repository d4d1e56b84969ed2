"""Hostile peers against real node processes on 127.0.0.1 (tools/hostile_peer): a wrong mesh
secret, slices claiming another device, an update flood, half-open handshakes by the hundred,
oversized frames and messages, malformed msgpack. Each test asserts the node survives, counts
the reason, keeps converging with its honest peers, and stays within a memory bound; the
floods also bound the attacked node's CPU time and its honest peer's update latency.
Usage: test_hostile_peers.py <path to mesh_demo> (hostile_peer is built beside it)."""
import os
import subprocess
import sys
import time

from meshproc import run

HOSTILE = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "hostile_peer")


def hostile(*args, timeout=30):
    out = subprocess.run([HOSTILE, *args], capture_output=True, text=True, timeout=timeout)
    lines = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
    assert lines, f"hostile_peer {args} printed no result (exit {out.returncode}): {out.stderr[-500:]}"
    return dict(kv.split("=", 1) for kv in lines[-1].split()[1:])


def stats(mesh, n):
    before = len([l for l in n.lines if l.startswith("STATS")])
    n.tell("stats")
    mesh.wait(lambda: len([l for l in n.lines if l.startswith("STATS")]) > before, 5, "stats")
    last = [l for l in n.lines if l.startswith("STATS")][-1]
    return {k: int(v) for k, v in (kv.split("=") for kv in last.split()[1:])}


def stats_when(mesh, n, pred, what, timeout=5):
    """The node's counters once pred(counters) holds: it may count an event just after the
    hostile peer saw its effect (a closed connection)."""
    got = {}

    def ready():
        got.update(stats(mesh, n))
        return pred(got)
    mesh.wait(ready, timeout, what)
    return got


def fd_count(n):
    return len(os.listdir(f"/proc/{n.proc.pid}/fd"))


def pair(mesh, extra=()):
    a = mesh.start("a", expect=2, extra=extra)
    b = mesh.start("b", expect=2)
    mesh.wait(lambda: all(any(l == "CONVERGED 2" for l in n.lines) for n in (a, b)), 10, "convergence")
    return a, b


def still_converging(mesh, a, b, tag):
    """Both directions still carry updates: the honest peers are unaffected."""
    b.tell(f"set {tag}b")
    a.tell(f"set {tag}a")
    mesh.wait(lambda: mesh.view(a).get(b.short()) == f"b:{tag}b", 10, f"a sees b's {tag}")
    mesh.wait(lambda: mesh.view(b).get(a.short()) == f"a:{tag}a", 10, f"b sees a's {tag}")


def alive(*nodes):
    for n in nodes:
        assert n.proc.poll() is None, f"{n.name} died (exit {n.proc.returncode})"


def wrong_secret_never_joins(mesh):
    a, b = pair(mesh)
    r = hostile("--target", a.addr, "--invite", mesh.invite, "--mode", "wrong-secret", "--count", "5")
    assert r["established"] == "0", r
    assert r["closed"] == "5", r
    s = stats_when(mesh, a, lambda s: s["handshakes_failed"] >= 5 and s["protocol_errors"] >= 5,
                   "5 failed handshakes counted")
    assert s["peers"] == 1, s
    alive(a, b)
    still_converging(mesh, a, b, "ws")


def slice_claiming_another_device_is_dropped(mesh):
    a = mesh.start("a", expect=3)
    b = mesh.start("b", expect=3)
    c = mesh.start("c", expect=3)
    mesh.wait(lambda: all(any(l == "CONVERGED 3" for l in n.lines) for n in (a, b, c)), 10, "convergence")
    b.tell("set real")
    mesh.wait(lambda: mesh.view(a).get(b.short()) == "b:real", 10, "a sees b")
    r = hostile("--target", a.addr, "--invite", mesh.invite, "--mode", "spoof-slice", "--victim", b.id)
    assert r["joined"] == "1" and r["sent"] == "20", r
    stats_when(mesh, a, lambda s: s["spoofed"] >= 20, "20 spoofed slices counted")
    assert mesh.view(a).get(b.short()) == "b:real", mesh.view(a)
    assert not any("pwned" in l for l in a.lines + c.lines), "a spoofed slice was applied"
    # b's real, lower-versioned updates still win everywhere.
    b.tell("set later")
    mesh.wait(lambda: all(mesh.view(n).get(b.short()) == "b:later" for n in (a, c)), 10, "b's update")
    alive(a, b, c)


def claimed_version_cannot_freeze_a_slice(mesh):
    """Issue 14: one Digest entry claiming the victim's slice at 2^64 - 2 made the victim re-stamp
    to 2^64 - 1; from then on its sets "succeeded" but sent nothing, and the saved version kept
    it frozen across restarts. Now the claim is refused and counted, updates flow, and a restart
    (same identity, saved slice) continues with sane versions."""
    state = os.path.join(mesh.tmp.name, "victim")
    a = mesh.start("a", expect=3, state_dir=state, extra=("--persist",))
    b = mesh.start("b", expect=3)
    c = mesh.start("c", expect=3)
    mesh.wait(lambda: all(any(l == "CONVERGED 3" for l in n.lines) for n in (a, b, c)), 10, "convergence")
    sane = 2 ** 62  # wall-clock versions are ~2^50.6 (microseconds since 1970)
    before = stats(mesh, a)["version"]
    r = hostile("--target", a.addr, "--invite", mesh.invite, "--mode", "claim-version", "--victim", a.id)
    assert r["joined"] == "1" and r["sent"] == "1", r
    s = stats_when(mesh, a, lambda s: s["repairs_refused"] >= 1, "the claim refused")
    assert s["repairs"] == 0 and s["version"] == before, s
    for i in range(3):
        a.tell(f"set frz{i}")
        mesh.wait(lambda: all(mesh.view(n).get(a.short()) == f"a:frz{i}" for n in (b, c)), 10, f"a's update {i}")
    last = stats(mesh, a)["version"]
    assert before < last < sane, (before, last)
    # A restart as the same device with the saved slice: sane versions, updates both ways.
    a.kill()
    a.proc.wait()
    a2 = mesh.start("a", expect=3, state_dir=state, extra=("--persist",))
    assert a2.id == a.id
    mesh.wait(lambda: any(l == "CONVERGED 3" for l in a2.lines), 10, "the restarted node's view")
    a2.tell("set back")
    mesh.wait(lambda: all(mesh.view(n).get(a2.short()) == "a:back" for n in (b, c)), 10, "the restarted node's update")
    b.tell("set hello")
    mesh.wait(lambda: mesh.view(a2).get(b.short()) == "b:hello", 10, "b's update on the restarted node")
    s2 = stats(mesh, a2)
    assert last < s2["version"] < sane, (last, s2)
    alive(a2, b, c)


SANITIZED = "ASAN_OPTIONS" in os.environ
# Bounds of the flood tests (docs/RELIABILITY.md). The node handles every peer on its one loop
# thread, so a flooder costs it at most that thread: CPU time over the flood window <= 1.1 x the
# window. Per envelope the flooder sent: decrypt + decode + rate limit (+ apply when admitted).
# Under ASan the flood needs longer to reach a, and 20 paced honest updates with up to
# HONEST_LATENCY_S each took more than 8 s on a loaded 2-core host (seen once: the flood ended first).
FLOOD_SECONDS = 16 if SANITIZED else 8
FLOOD_CPU_CORES = 1.1
FLOOD_CPU_US_PER_ENVELOPE = 150 if SANITIZED else 15  # measured 2-5 us (ASan: 29-56 us)
FLOOD_RSS_GROWTH_KIB = 4 * 1024       # outside ASan (its quarantine keeps freed memory)
# Set on b -> applied on a, during the flood. A link gets at most 256 KiB of reads per loop turn
# (kFullReadsPerTurn x kReadBufferSize), so the flood holds b's link up by one such batch at most; the rest is
# CPU sharing and a's stdout, which carries a line per applied flood update (measured max
# 59-113 ms on a quiet machine, ~0.4 ms without a flood). Under ASan (5-15x slower) only
# starvation towards the 3 s liveness timeout is asserted.
HONEST_LATENCY_S = 2.0 if SANITIZED else 0.25
HONEST_UPDATES = 20                    # at 10/s, all inside the flood window
DISCONNECT_AFTER_DROPS = 20000         # PeerRateLimitOptions::disconnect_after_drops (default)


def flood(mesh, a, b, tag):
    """Floods `a` from hostile_peer for FLOOD_SECONDS while b sets HONEST_UPDATES values at
    10/s. Returns (hostile result, stats of a, honest latencies in s, cpu seconds, window s,
    rss growth KiB). Honest updates start once a has applied the flooder's first update."""
    a.keep = lambda l: " hostile " not in l  # the flooder's own UPDATED lines: counted only
    rss0, fds0 = a.rss_kib(), fd_count(a)
    cpu0, t0 = a.cpu_seconds(), time.monotonic()
    # At the lowest priority: on a LAN the flooder's CPU is not the node's; here it must not
    # take the CPU the node and this test need (it still floods with whatever is left). Not
    # under ASan: there the instrumented flooder is slow itself and, niced beside the other
    # sanitized tests, barely floods; the latency bound there is loose anyway.
    proc = subprocess.Popen([HOSTILE, "--target", a.addr, "--invite", mesh.invite, "--mode", "flood",
                             "--seconds", str(FLOOD_SECONDS), "--timeout-ms", "20000"],
                            stdout=subprocess.PIPE, text=True,
                            preexec_fn=None if SANITIZED else (lambda: os.nice(19)))
    latencies = []
    try:
        mesh.wait(lambda: a.filtered > 0, 10, "the flood reaching a")
        for i in range(HONEST_UPDATES):  # while the flood runs, b's updates keep reaching a
            want = f"UPDATED {b.short()} b {tag}{i}"
            start = time.monotonic()
            b.tell(f"set {tag}{i}")
            mesh.wait(lambda: want in a.lines, 5, f"a sees {tag}{i}")
            latencies.append(a.line_times[a.lines.index(want)] - start)
            mesh.wait(lambda: time.monotonic() >= start + 0.1, 1, "pacing")  # reads output meanwhile
        assert proc.poll() is None, "the flood ended before the honest updates did"
        # Keep reading the nodes' output meanwhile: a node blocked on a full stdout pipe would
        # look like a node starved by the flood.
        mesh.wait(lambda: proc.poll() is not None, 30, "flood end")
        window = time.monotonic() - t0
        cpu = a.cpu_seconds() - cpu0
        out = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "RESULT " in out, f"hostile_peer exited {proc.returncode} without a result: {out!r}"
    r = dict(kv.split("=", 1) for kv in out.split("RESULT ")[-1].split())
    s = stats(mesh, a)
    grew = a.rss_kib() - rss0
    print(f"  flood ({tag}): hostile joined {r['joined']}x, sent {r['sent']} updates; a applied {a.filtered} of them, "
          f"dropped {s['rate_limited']}, disconnected it {s['flood_disconnects']}x; a's CPU {cpu:.2f} s over "
          f"{window:.2f} s ({cpu / max(1, int(r['sent'])) * 1e6:.2f} us per envelope sent); rss {rss0} -> "
          f"{rss0 + grew} KiB; honest set->applied max {max(latencies) * 1e3:.1f} ms, median "
          f"{sorted(latencies)[len(latencies) // 2] * 1e3:.1f} ms", flush=True)
    assert int(r["sent"]) > 20000, r
    assert cpu <= FLOOD_CPU_CORES * window, f"a used {cpu:.2f} s of CPU in {window:.2f} s"
    assert cpu / int(r["sent"]) * 1e6 <= FLOOD_CPU_US_PER_ENVELOPE, (cpu, r)
    if not SANITIZED:
        assert grew <= FLOOD_RSS_GROWTH_KIB, f"a grew by {grew} KiB under the flood"
    assert max(latencies) <= HONEST_LATENCY_S, f"honest updates took up to {max(latencies) * 1e3:.0f} ms: {latencies}"
    assert not any(l.startswith("REMOVED") for l in b.lines), "b lost a during the flood"
    still_converging(mesh, a, b, "post" + tag)
    mesh.wait(lambda: fd_count(a) <= fds0 + 2, 10, "fds back to baseline")
    alive(a, b)
    return r, s


def update_flood_is_rate_limited_and_others_unaffected(mesh):
    # The defaults (400,000 envelopes/s) sit above what an honest peer reaches, so a flooder on
    # this machine may never cross them: this node gets the limit a presence-style deployment
    # would set, and must drop the excess and cut the flooder off.
    a, b = pair(mesh, extra=("--rate-limit", "5000"))
    r, s = flood(mesh, a, b, "lim")
    assert s["rate_limited"] > 0, s
    # One identity dropped 20,000 times within the flood (8 s < the 10 s window) must have been
    # cut off. (A niced flooder on a machine busy with other tests may not get that far.)
    if s["rate_limited"] >= DISCONNECT_AFTER_DROPS or int(r["joined"]) > 1:
        assert s["flood_disconnects"] >= 1 and int(r["disconnected"]) >= 1, (r, s)
    else:
        print(f"  note: the flood stayed below {DISCONNECT_AFTER_DROPS} drops: no disconnect expected", flush=True)
    # What a applied of the flood is bounded by the limit (plus one burst per flooder identity).
    assert a.filtered <= 5000 * (FLOOD_SECONDS + 1) * (int(r["joined"]) + 1), (a.filtered, r)


def update_flood_with_default_limits(mesh):
    # Default limits: however many of the flood's updates the node admits, it stays within its
    # CPU and memory bounds and its honest peer's updates still land within the latency bound.
    a, b = pair(mesh)
    r, s = flood(mesh, a, b, "def")
    assert a.filtered > 0, "a applied none of the flood"


def half_open_handshakes_by_the_hundred(mesh):
    a, b = pair(mesh)
    fds0 = fd_count(a)
    for extra in ([], ["--partial"]):
        r = hostile("--target", a.addr, "--mode", "half-open", "--count", "300", "--hold-ms", "1500", *extra)
        assert int(r["opened"]) >= 250, r
        # Past max_pending_handshakes (64) the node refuses at once.
        assert int(r["closed_by_node"]) >= int(r["opened"]) - 64, r
        still_converging(mesh, a, b, "ho" + str(len(extra)))
    stats_when(mesh, a, lambda s: s["refused_pending"] >= 2 * (250 - 64), "refused half-open connections counted")
    mesh.wait(lambda: fd_count(a) <= fds0 + 2, 10, "half-open sockets released")
    alive(a, b)


def oversized_frames_and_messages_close_the_link(mesh):
    a, b = pair(mesh)
    r = hostile("--target", a.addr, "--mode", "oversized-frame")
    assert r["disconnected"] == "1", r
    r = hostile("--target", a.addr, "--invite", mesh.invite, "--mode", "oversized-message")
    assert r["joined"] == "1" and r["disconnected"] == "1", r
    stats_when(mesh, a, lambda s: s["handshakes_failed"] >= 1, "the oversized handshake frame counted")
    alive(a, b)
    still_converging(mesh, a, b, "big")


def malformed_msgpack_is_counted_and_closes_the_link(mesh):
    a, b = pair(mesh)
    r = hostile("--target", a.addr, "--invite", mesh.invite, "--mode", "malformed")
    assert r["joined"] == "1", r
    assert r["link_kept_after_bad_sync"] == "1", r  # bad sync payloads: dropped, counted
    assert r["disconnected"] == "1", r               # a non-msgpack envelope: link closed
    stats_when(mesh, a, lambda s: s["malformed"] >= 4 and s["protocol_errors"] >= 1, "malformed input counted")
    alive(a, b)
    still_converging(mesh, a, b, "mal")


if __name__ == "__main__":
    if not os.access(HOSTILE, os.X_OK):
        print(f"FAIL: {HOSTILE} not built (cmake --build <dir> --target hostile_peer)")
        sys.exit(1)
    run([wrong_secret_never_joins, slice_claiming_another_device_is_dropped, claimed_version_cannot_freeze_a_slice,
         update_flood_is_rate_limited_and_others_unaffected, update_flood_with_default_limits,
         half_open_handshakes_by_the_hundred,
         oversized_frames_and_messages_close_the_link, malformed_msgpack_is_counted_and_closes_the_link])
