#!/usr/bin/env bash
# The one command behind docs/PERFORMANCE.md. Installs what is missing (Debian packages via
# deps.sh, node 20 + npm when absent, the js-libp2p baseline's packages with `npm ci`), builds
# Release into $BUILD_DIR (default build-bench/), then runs on this machine, 127.0.0.1 only:
#   1. the machine description and load average,
#   2. the micro benchmarks (bench/*_bench),
#   3. meshslice_bench: the end-to-end figures with the raw TCP, AEAD, cross-thread wake and
#      js-libp2p baselines and their ratios in the same run. As root it also builds a LAN of two
#      network namespaces (tests/lan/lan.sh, removed on exit) for the mDNS figures on a veth;
#      otherwise that part is skipped with a message.
# Everything is printed and kept in $BUILD_DIR/bench-results/.
#
#   scripts/bench.sh [--quick] [meshslice_bench options...]
#     full run: N = 2..32, every size at every N; meshslice_bench about 6 minutes here, 7-8
#               with the build already done (docs/PERFORMANCE.md)
#     --quick:  N = 2, 4, shorter cells; about 2 minutes (not part of CI: the ctest
#               process.test_bench_smoke runs the tool in CI)
#   e.g. scripts/bench.sh --nodes 2 --pin split     (a placement experiment)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
OUT="$BUILD_DIR/bench-results"
args=("$@")
micro_time=0.5
for a in "$@"; do [ "$a" = "--quick" ] && micro_time=0.05; done

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

# mDNS between two network namespaces on a bridge (issue 7's topology): root only.
mdns_ns=()
if [ "$(id -u)" = 0 ] && timeout 10 ip netns list >/dev/null 2>&1 && command -v bridge >/dev/null; then
  # shellcheck source=../tests/lan/lan.sh
  source tests/lan/lan.sh
  if lan_up 2; then
    mdns_ns=(--mdns-netns "$(lan_ns 1),$(lan_ns 2)" --mdns-ips "$(lan_ip 1),$(lan_ip 2)")
  else
    echo "bench.sh: could not build the namespace LAN; mDNS is measured on lo only" >&2
  fi
else
  echo "bench.sh: not root (or no ip netns): mDNS is measured on lo only, not between namespaces" >&2
fi

"$BUILD_DIR/tools/meshslice_bench" --libp2p "$libp2p_dir" "${mdns_ns[@]}" "${args[@]}" | tee "$OUT/e2e.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
echo "results in $OUT/"
