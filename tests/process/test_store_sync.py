"""Real TCP, separate processes: store sync convergence, late join, crash eviction, restart,
bursts and a peer that stops reading. Usage: test_store_sync.py <path to mesh_demo>."""
import os
import signal
import time

from meshproc import run


def converged(mesh, nodes, expect):
    return all(len(mesh.view(n)) == expect for n in nodes)


def three_nodes_converge(mesh):
    nodes = [mesh.start(f"n{i}", expect=3) for i in range(3)]
    mesh.wait(lambda: all(any(l == "CONVERGED 3" for l in n.lines) for n in nodes), 10, "convergence")
    views = [mesh.view(n) for n in nodes]
    for v in views:
        assert v == views[0], views
        assert sorted(v.values()) == ["n0:online", "n1:online", "n2:online"], v


def five_nodes_and_a_late_joiner(mesh):
    nodes = [mesh.start(f"n{i}", expect=5) for i in range(5)]
    mesh.wait(lambda: all(any(l == "CONVERGED 5" for l in n.lines) for n in nodes), 10, "5 converge")
    for i, n in enumerate(nodes):
        n.tell(f"set state{i}")
    late = mesh.start("late", expect=6)
    mesh.wait(lambda: any(l == "CONVERGED 6" for l in late.lines), 10, "late joiner")
    want = {n.short(): f"n{i}:state{i}" for i, n in enumerate(nodes)}
    mesh.wait(lambda: all(mesh.view(late).get(k) == v for k, v in want.items()), 10, "late joiner sees latest")


def kill9_is_evicted_and_restart_is_accepted(mesh):
    state = mesh.tmp.name + "/victim"
    a = mesh.start("a", expect=3)
    b = mesh.start("b", expect=3)
    v = mesh.start("victim", expect=3, state_dir=state)
    mesh.wait(lambda: all(any(l == "CONVERGED 3" for l in n.lines) for n in (a, b, v)), 10, "convergence")
    victim_id = v.short()
    t0 = time.monotonic()
    v.kill(signal.SIGKILL)
    v.proc.wait()
    mesh.wait(lambda: all(any(l.startswith("REMOVED " + victim_id) for l in n.lines) for n in (a, b)),
              5, "eviction of the killed node")
    took = time.monotonic() - t0
    assert took < 3.5, f"eviction took {took:.2f} s, over the liveness timeout"
    for n in (a, b):
        assert victim_id not in mesh.view(n)
    # Restart as the same device (same identity, no persisted slice): its new slice must win.
    v2 = mesh.start("victim", expect=3, state_dir=state)
    assert v2.short() == victim_id
    v2.tell("set reborn")
    mesh.wait(lambda: all(mesh.view(n).get(victim_id) == "victim:reborn" for n in (a, b)), 10,
              "restarted node's slice accepted")


def rapid_sets_end_at_the_final_value(mesh):
    a = mesh.start("a", expect=3)
    b = mesh.start("b", expect=3)
    c = mesh.start("c", expect=3)
    mesh.wait(lambda: all(any(l == "CONVERGED 3" for l in n.lines) for n in (a, b, c)), 10, "convergence")
    rss_before = a.rss_kib()
    a.tell("burst 10000")
    mesh.wait(lambda: any(l == "BURST 10000" for l in a.lines), 30, "burst done")
    mesh.wait(lambda: all(mesh.view(n).get(a.short()) == "a:final10000" for n in (b, c)), 10,
              "final value everywhere")
    grew = a.rss_kib() - rss_before
    # ASan's quarantine keeps freed memory resident by design (256 MiB by default), so the RSS
    # bound is checked in the plain build only; the sanitizer run still checks the final values.
    if "ASAN_OPTIONS" not in os.environ:
        assert grew < 64 * 1024, f"writer grew by {grew} KiB during the burst"


def stopped_reader_does_not_stall_the_others(mesh):
    a = mesh.start("a", expect=3)
    b = mesh.start("b", expect=3)
    slow = mesh.start("slow", expect=3)
    mesh.wait(lambda: all(any(l == "CONVERGED 3" for l in n.lines) for n in (a, b, slow)), 10, "convergence")
    slow.kill(signal.SIGSTOP)  # stops reading entirely: its socket buffers fill
    try:
        a.tell("burst 3000")
        for i in range(20):
            a.tell(f"set step{i}")
            mesh.wait(lambda i=i: mesh.view(b).get(a.short()) == f"a:step{i}", 5, f"b sees step{i}")
    finally:
        slow.kill(signal.SIGCONT)
    a.tell("set after")
    mesh.wait(lambda: mesh.view(slow).get(a.short()) == "a:after", 15, "slow peer catches up")


if __name__ == "__main__":
    run([three_nodes_converge, five_nodes_and_a_late_joiner, kill9_is_evicted_and_restart_is_accepted,
         rapid_sets_end_at_the_final_value, stopped_reader_does_not_stall_the_others])
