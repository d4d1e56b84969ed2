"""Smoke test of the end-to-end benchmark tool, so that it cannot rot: meshslice_bench (built
beside mesh_demo) with N=2, short cells, the raw TCP / AEAD / wake baseline (tcp_baseline), no
js-libp2p and no mDNS, and short delta cells (64 KiB, 10 updates each, deltas off and on). Asserts it exits 0 within its time bound and prints every kind of
result line with a positive figure; it asserts nothing about how fast (CI machines differ).
Usage: test_bench_smoke.py <path to mesh_demo>."""
import os
import re
import subprocess
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(sys.argv[1]))
BENCH = os.path.join(TOOLS, "meshslice_bench")
TIMEOUT_S = 120  # ~5 s here; ASan builds are several times slower

# Figures the run must print, each with a value > 0 (name, then the number).
EXPECTED = [
    r"raw TCP 1KiB paced RTT p50",
    r"AEAD ChaCha20-Poly1305 1KiB encrypt MB/s",
    r"wake: uv_async_send -> loop thread \(any\) p50",
    r"N2 mesh formed and synced",
    r"N2 RSS per node \(64 B slices\)",
    r"N2 64B latency p50 \(median receiver\)",
    r"N2 1KiB latency p99 \(worst receiver\)",
    r"N2 1KiB loop-thread set\(\) latency p50",
    r"N2 1KiB @10k/s applied/s \(sum of receivers\)",
    r"N2 1KiB @max CPU per applied update",
    r"N2 64KiB bus messages MB/s \(encrypted\)",
    r"N2 every slice rewritten at 1KiB, mesh synced",
    r"N2 join-to-synced 64B x 4 slices from spawn",
    r"N2 join-to-synced 1KiB x 4 slices from first link",
    r"N2 graceful stop -> peers evict median",
    r"N2 kill -9 -> peers evict max",
    r"N2 64KiB 1B changed, full: wire bytes per update per peer",
    r"N2 64KiB 1% changed, delta: CPU per update \(all nodes\)",
    r"N2 64KiB 50% changed, delta: propagation p50 \(median receiver\)",
]


def main():
    if not os.access(BENCH, os.X_OK):
        print(f"FAIL: {BENCH} not built")
        return 1
    cmd = [BENCH, "--quick", "--nodes", "2", "--sizes", "64,1024", "--stores", "2", "--lat-count", "200",
           "--burst-seconds", "0.3", "--no-mdns", "--delta-sizes", "65536", "--delta-count", "10"]
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    took = time.monotonic() - start
    print(out.stdout)
    if out.returncode != 0:
        print(f"FAIL: exit {out.returncode}: {out.stderr[-2000:]}")
        return 1
    missing = []
    for name in EXPECTED:
        m = re.search(r"^  " + name + r".*?\s(-?[0-9.]+) ", out.stdout, re.M)
        if not m or float(m.group(1)) <= 0:
            missing.append(name)
    for needed in ("== ratios ==", "false evictions during fan-out bursts", "benchmark finished in"):
        if needed not in out.stdout:
            missing.append(needed)
    if missing:
        print(f"FAIL: missing or non-positive: {missing}")
        return 1
    print(f"PASS bench smoke ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
