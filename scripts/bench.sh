#!/usr/bin/env bash
# The one command behind docs/PERFORMANCE.md. Installs what is missing (Debian packages via
# deps.sh, node 20 + npm when absent, the js-libp2p baseline's packages with `npm ci`), builds
# Release into $BUILD_DIR (default build-bench/), then runs on this machine, 127.0.0.1 only:
#   1. the machine description and load average,
#   2. the micro benchmarks (bench/*_bench),
#   3. meshslice_bench: the end-to-end figures with the raw TCP and js-libp2p baselines and
#      their ratios in the same run.
# Everything is printed and kept in $BUILD_DIR/bench-results/.
#
#   scripts/bench.sh            full run (N = 2..32; about 5-10 minutes)
#   scripts/bench.sh --quick    CI run (N = 2, 4; about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
OUT="$BUILD_DIR/bench-results"
quick=()
micro_time=0.5
if [ "${1:-}" = "--quick" ]; then
  quick=(--quick)
  micro_time=0.05
fi

scripts/deps.sh
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y nodejs npm >/dev/null
fi
libp2p_dir="$PWD/bench/libp2p"
if [ ! -d "$libp2p_dir/node_modules" ]; then
  (cd "$libp2p_dir" && npm ci --no-audit --no-fund >/dev/null) || echo "bench.sh: npm ci failed; the js-libp2p baseline is skipped" >&2
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMESHSLICE_BUILD_TESTS=OFF -DMESHSLICE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target meshslice_bench tcp_baseline codec_bench noise_bench store_bench dns_bench
mkdir -p "$OUT"

{
  echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "nproc:   $(nproc)"
  echo "kernel:  $(uname -r)"
  echo "memory:  $(grep MemTotal /proc/meminfo | awk '{print $2 " kB"}')"
  echo "node:    $(node --version 2>/dev/null || echo none)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

echo "== micro benchmarks ==" | tee "$OUT/micro.txt"
for b in codec_bench noise_bench store_bench dns_bench; do
  "$BUILD_DIR/bench/$b" --benchmark_min_time="$micro_time" 2>/dev/null | grep -E '^(BM_|Benchmark)' | tee -a "$OUT/micro.txt"
done

"$BUILD_DIR/tools/meshslice_bench" "${quick[@]}" --libp2p "$libp2p_dir" | tee "$OUT/e2e.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
echo "results in $OUT/"
