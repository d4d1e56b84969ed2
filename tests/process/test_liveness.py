"""Liveness across a stalled process, with real node processes on 127.0.0.1: a node whose own
process was stopped (SIGSTOP: a starved or frozen process, a suspended machine) must not evict
a live peer whose heartbeats are waiting in its socket when it resumes; a peer that really is
silent must still be evicted within the liveness timeout. Found by the benchmark and the
hostile flood under ASan: a loaded node evicted live peers ("timeout") on resuming.
Usage: test_liveness.py <path to mesh_demo>."""
import signal
import time

from meshproc import run

STALL_S = 4.0        # longer than the default liveness timeout (3 s)
LIVENESS_S = 3.0


def pause(mesh, seconds, what):
    """Lets `seconds` pass while reading the nodes' output (the fault's duration, not a wait)."""
    end = time.monotonic() + seconds
    mesh.wait(lambda: time.monotonic() >= end, seconds + 1, what)


def converging(mesh, a, b, tag):
    a.tell(f"set {tag}a")
    b.tell(f"set {tag}b")
    mesh.wait(lambda: mesh.view(b).get(a.short()) == f"a:{tag}a", 10, f"b sees a's {tag}")
    mesh.wait(lambda: mesh.view(a).get(b.short()) == f"b:{tag}b", 10, f"a sees b's {tag}")


def stalled_node_keeps_its_live_peer(mesh):
    # a waits 10 s before judging b, so only b's judgement of a is under test.
    a = mesh.start("a", expect=2, extra=("--liveness-ms", "10000"))
    b = mesh.start("b", expect=2)
    mesh.wait(lambda: all(any(l == "CONVERGED 2" for l in n.lines) for n in (a, b)), 10, "convergence")
    for cycle in range(2):  # once right after the link came up, once later
        b.kill(signal.SIGSTOP)
        pause(mesh, STALL_S, "b stopped")
        b.kill(signal.SIGCONT)
        pause(mesh, 1.0, "b resumed")  # several of b's liveness checks
        removed = [l for l in a.lines + b.lines if l.startswith("REMOVED")]
        assert not removed, f"cycle {cycle}: a live peer was evicted: {removed}"
        converging(mesh, a, b, f"c{cycle}")


def silent_peer_is_still_evicted(mesh):
    a = mesh.start("a", expect=2)
    b = mesh.start("b", expect=2)
    mesh.wait(lambda: all(any(l == "CONVERGED 2" for l in n.lines) for n in (a, b)), 10, "convergence")
    t0 = time.monotonic()
    b.kill(signal.SIGSTOP)
    try:
        mesh.wait(lambda: any(l.startswith(f"REMOVED {b.short()} timeout") for l in a.lines), LIVENESS_S + 2,
                  "a evicting the stopped b")
        took = time.monotonic() - t0
        print(f"  stopped peer evicted after {took:.2f} s", flush=True)
        assert took <= LIVENESS_S + 1, took
    finally:
        b.kill(signal.SIGCONT)
    converging(mesh, a, b, "back")  # b reconnects once it runs again


if __name__ == "__main__":
    run([stalled_node_keeps_its_live_peer, silent_peer_is_still_evicted])
