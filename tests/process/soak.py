"""Soak: N node processes on 127.0.0.1 with continuous, bounded updates and periodic restarts
(kill -9 and graceful, in turn). Ends with a quiet period in which every node must hold exactly
the latest value of every live device.

Memory: every second, after a node's warm-up, its RSS is sampled. For every node with at least
--slope-min-seconds of samples the least-squares slope of RSS over time must stay under
--rss-slope-kib-s (a leak of 100 KiB/s fails in seconds, 4 KiB/s within the CI run), and no
sample may exceed the node's first post-warm-up sample by more than --rss-growth-kib.
File descriptors: exactly flat. Right before each restart, and at the end, the mesh is
settled (every live node linked to every other) and each node's open fds (/proc/<pid>/fd,
the fewest of 5 readings 20 ms apart, so a connect attempt in flight does not count) must
equal its own first settled count.

Usage: soak.py MESH_DEMO [--seconds S] [--nodes N] [--restart-every S] [--warmup S]
               [--rss-slope-kib-s K] [--slope-min-seconds S] [--rss-growth-kib K] [--no-rss]
Every wait has a deadline; the whole run is bounded by --seconds plus the final checks.
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


def slope(samples):
    """Least-squares slope of [(t, value)] in value units per second."""
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    den = sum((t - mt) ** 2 for t, _ in samples)
    return sum((t - mt) * (v - mv) for t, v in samples) / den if den > 0 else 0.0


def connected_peers(mesh, n):
    before = len([l for l in n.lines if l.startswith("STATS")])
    n.tell("stats")
    mesh.wait(lambda: len([l for l in n.lines if l.startswith("STATS")]) > before, 5, "stats")
    last = [l for l in n.lines if l.startswith("STATS")][-1]
    return int(dict(kv.split("=") for kv in last.split()[1:])["peers"])


class Soak:
    def __init__(self, args):
        self.a = args
        self.mesh = Mesh(args.mesh_demo)
        self.rng = random.Random(args.seed)
        self.started = {}      # node -> start time
        self.rss = {}          # node -> [(t, rss KiB)] after warm-up
        self.fd_base = {}      # node -> fds at its first settled checkpoint
        self.latest = {}
        self.stats = {"updates": 0, "restarts": 0, "samples": 0, "fd_checks": 0}
        self.worst = {"growth": 0, "slope": 0.0, "slope_node": "-"}

    def live(self):
        return [n for n in self.mesh.nodes if n.proc.poll() is None]

    def start(self, name):
        n = self.mesh.start(name, state_dir=os.path.join(self.mesh.tmp.name, name))
        n.keep = lambda l: not l.startswith(("UPDATED", "SET "))  # hours of them: not kept
        self.started[n] = time.monotonic()
        return n

    def sample_rss(self, now):
        self.stats["samples"] += 1
        for x in self.live():
            if now - self.started[x] < self.a.warmup:
                continue
            series = self.rss.setdefault(x, [])
            series.append((now, x.rss_kib()))
            growth = series[-1][1] - series[0][1]
            self.worst["growth"] = max(self.worst["growth"], growth)
            if not self.a.no_rss and growth > self.a.rss_growth_kib:
                raise AssertionError(f"{x.name}: RSS grew {growth} KiB past warm-up (bound {self.a.rss_growth_kib})")

    def check_slopes(self):
        for x, series in self.rss.items():
            if series[-1][0] - series[0][0] < self.a.slope_min_seconds:
                continue
            k = slope(series)
            if k > self.worst["slope"]:
                self.worst["slope"], self.worst["slope_node"] = k, x.name
            if not self.a.no_rss and k > self.a.rss_slope_kib_s:
                raise AssertionError(f"{x.name}: RSS slope {k:.2f} KiB/s over {len(series)} samples "
                                     f"(bound {self.a.rss_slope_kib_s})")

    def check_fds(self):
        """Waits until every live node is linked to every other, then compares fds."""
        live = self.live()
        self.mesh.wait(lambda: all(connected_peers(self.mesh, n) == len(live) - 1 for n in live), 15, "settled mesh")
        for x in live:
            if time.monotonic() - self.started[x] < self.a.warmup:
                continue
            readings = []
            for _ in range(5):
                readings.append(fds(x))
                self.mesh._pump(0.02)
            now = min(readings)
            base = self.fd_base.setdefault(x, now)
            self.stats["fd_checks"] += 1
            if now != base:
                raise AssertionError(f"{x.name}: {now} open fds, {base} at its first settled checkpoint")

    def restart(self, anchor):
        self.check_fds()
        victim = self.rng.choice([x for x in self.live() if x is not anchor])
        if self.stats["restarts"] % 2 == 0:
            victim.kill(signal.SIGKILL)
        else:
            victim.tell("quit")
        victim.proc.wait(timeout=10)
        self.start(victim.name)
        self.latest.pop(victim.name, None)  # it restarts at "online"
        self.stats["restarts"] += 1

    def run(self):
        a = self.a
        for i in range(a.nodes):
            self.start(f"s{i}")
        anchor = self.mesh.nodes[0]  # never restarted: its samples cover the whole run
        t_end = time.monotonic() + a.seconds
        next_restart = time.monotonic() + a.restart_every
        next_sample = time.monotonic() + 1
        gap = 1.0 / a.updates_per_second
        while time.monotonic() < t_end:
            n = self.rng.choice(self.live())
            value = f"u{self.stats['updates']}"
            n.tell(f"set {value}")
            self.latest[n.name] = value
            self.stats["updates"] += 1
            now = time.monotonic()
            if now >= next_restart:
                self.restart(anchor)
                next_restart = time.monotonic() + a.restart_every
            if now >= next_sample:
                self.sample_rss(now)
                next_sample = now + 1
            tick_end = time.monotonic() + gap
            while time.monotonic() < tick_end:  # read output while waiting for the next update
                self.mesh._pump(max(0.001, tick_end - time.monotonic()))
        # Quiet: exactly the latest value of every live device, everywhere; fds as settled.
        live = self.live()
        want = {n.short(): f"{n.name}:{self.latest.get(n.name, 'online')}" for n in live}
        self.mesh.wait(lambda: all(self.mesh.view(n) == want for n in live), 30, "quiet convergence")
        self.check_fds()
        self.check_slopes()
        series = self.rss.get(anchor, [(0, anchor.rss_kib())])
        print(f"PASS soak: {self.stats['updates']} updates, {self.stats['restarts']} restarts, {self.stats['samples']} "
              f"RSS samples, {self.stats['fd_checks']} fd checks (all exactly flat); largest RSS growth after warm-up "
              f"{self.worst['growth']} KiB, steepest slope {self.worst['slope']:.2f} KiB/s ({self.worst['slope_node']}); "
              f"anchor RSS {series[0][1]} -> {anchor.rss_kib()} KiB, {fds(anchor)} fds; {len(live)} nodes converged",
              flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mesh_demo")
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--restart-every", type=float, default=15)
    p.add_argument("--updates-per-second", type=float, default=50)
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--rss-slope-kib-s", type=float, default=4.0)
    p.add_argument("--slope-min-seconds", type=float, default=60)
    p.add_argument("--rss-growth-kib", type=int, default=1536)
    p.add_argument("--no-rss", action="store_true", help="check fds only (sanitizer builds)")
    p.add_argument("--seed", type=int, default=int(time.time()))
    a = p.parse_args()
    print(f"soak: {a.nodes} nodes, {a.seconds:.0f} s, restart every {a.restart_every:.0f} s, "
          f"{a.updates_per_second:.0f} updates/s, seed {a.seed}", flush=True)
    soak = Soak(a)
    try:
        soak.run()
        return 0
    except Exception as e:  # noqa: BLE001
        print(f"FAIL soak: {e}", flush=True)
        for n in soak.mesh.nodes:
            print(f"  {n.name}: last lines {n.lines[-4:]}", flush=True)
        return 1
    finally:
        soak.mesh.close()


if __name__ == "__main__":
    sys.exit(main())
