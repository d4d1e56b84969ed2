"""Soak: N node processes on 127.0.0.1 with continuous, bounded updates and periodic restarts
(kill -9 and graceful, in turn). Samples the RSS and open fds (/proc/<pid>/fd) of every node;
after a node's warm-up, each sample must stay within a bound of that node's first post-warm-up
sample. Ends with a quiet period in which every node must hold exactly the latest value of
every live device.

Usage: soak.py MESH_DEMO [--seconds S] [--nodes N] [--restart-every S] [--rss-growth-kib K]
               [--fd-growth F] [--warmup S] [--no-rss]
Every wait has a deadline; the whole run is bounded by --seconds plus the final check.
"""
import argparse
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshproc import Mesh  # noqa: E402


def fds(n):
    return len(os.listdir(f"/proc/{n.proc.pid}/fd"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mesh_demo")
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--restart-every", type=float, default=15)
    p.add_argument("--updates-per-second", type=float, default=50)
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--rss-growth-kib", type=int, default=16 * 1024)
    p.add_argument("--fd-growth", type=int, default=8)
    p.add_argument("--no-rss", action="store_true", help="check fds only (sanitizer builds)")
    p.add_argument("--seed", type=int, default=int(time.time()))
    a = p.parse_args()
    rng = random.Random(a.seed)
    mesh = Mesh(a.mesh_demo)
    started = {}    # node -> start time
    baseline = {}   # node -> (rss, fds) after its warm-up
    worst = {"rss": 0, "fds": 0}
    latest = {}
    stats = {"updates": 0, "restarts": 0, "samples": 0}
    print(f"soak: {a.nodes} nodes, {a.seconds:.0f} s, restart every {a.restart_every:.0f} s, "
          f"{a.updates_per_second:.0f} updates/s, seed {a.seed}", flush=True)
    try:
        names = [f"s{i}" for i in range(a.nodes)]
        for nm in names:
            n = mesh.start(nm, state_dir=os.path.join(mesh.tmp.name, nm))
            started[n] = time.monotonic()
        anchor = mesh.nodes[0]  # never restarted: its figures cover the whole run
        t_end = time.monotonic() + a.seconds
        next_restart = time.monotonic() + a.restart_every
        next_sample = time.monotonic() + 1
        gap = 1.0 / a.updates_per_second
        while time.monotonic() < t_end:
            live = [n for n in mesh.nodes if n.proc.poll() is None]
            n = rng.choice(live)
            value = f"u{stats['updates']}"
            n.tell(f"set {value}")
            latest[n.name] = value
            stats["updates"] += 1
            now = time.monotonic()
            if now >= next_restart:
                victim = rng.choice([x for x in live if x is not anchor])
                if stats["restarts"] % 2 == 0:
                    victim.kill(signal.SIGKILL)
                else:
                    victim.tell("quit")
                victim.proc.wait(timeout=10)
                again = mesh.start(victim.name, state_dir=os.path.join(mesh.tmp.name, victim.name))
                started[again] = time.monotonic()
                latest.pop(victim.name, None)  # it restarts at "online"
                stats["restarts"] += 1
                next_restart = now + a.restart_every
            if now >= next_sample:
                stats["samples"] += 1
                for x in [x for x in mesh.nodes if x.proc.poll() is None]:
                    if now - started[x] < a.warmup:
                        continue
                    rss, fd = x.rss_kib(), fds(x)
                    if x not in baseline:
                        baseline[x] = (rss, fd)
                        continue
                    grow_rss, grow_fd = rss - baseline[x][0], fd - baseline[x][1]
                    worst["rss"] = max(worst["rss"], grow_rss)
                    worst["fds"] = max(worst["fds"], grow_fd)
                    if not a.no_rss and grow_rss > a.rss_growth_kib:
                        raise AssertionError(f"{x.name}: RSS grew {grow_rss} KiB past warm-up (bound {a.rss_growth_kib})")
                    if grow_fd > a.fd_growth:
                        raise AssertionError(f"{x.name}: fds grew by {grow_fd} past warm-up (bound {a.fd_growth})")
                next_sample = now + 1
            tick_end = time.monotonic() + gap
            while time.monotonic() < tick_end:  # read output while waiting for the next update
                mesh._pump(max(0.001, tick_end - time.monotonic()))
        # Quiet: exactly the latest value of every live device, everywhere.
        live = [n for n in mesh.nodes if n.proc.poll() is None]
        want = {n.short(): f"{n.name}:{latest.get(n.name, 'online')}" for n in live}
        mesh.wait(lambda: all(mesh.view(n) == want for n in live), 30, "quiet convergence")
        print(f"PASS soak: {stats['updates']} updates, {stats['restarts']} restarts, {stats['samples']} samples; "
              f"largest growth after warm-up: RSS {worst['rss']} KiB, fds {worst['fds']}; anchor RSS "
              f"{anchor.rss_kib()} KiB, {fds(anchor)} fds; {len(live)} nodes converged", flush=True)
        return 0
    except Exception as e:  # noqa: BLE001
        print(f"FAIL soak: {e}", flush=True)
        for n in mesh.nodes:
            print(f"  {n.name}: last lines {n.lines[-4:]}", flush=True)
        return 1
    finally:
        mesh.close()


if __name__ == "__main__":
    sys.exit(main())
