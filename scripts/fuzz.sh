#!/usr/bin/env bash
# Builds every libFuzzer target (fuzz/<name>_fuzzer.cc) with clang into $FUZZ_BUILD_DIR (default
# build-fuzz/) and runs each one for a bounded time on a COPY of its seed corpus
# fuzz/corpus/<name>/, so the repository is never modified.
#
# Usage: scripts/fuzz.sh [seconds-per-target] [name...]    (default 20 s, every target)
# Env:   FUZZ_BUILD_DIR, FUZZ_RSS_MB (default 2048), FUZZ_TIMEOUT_S (per input, default 10),
#        FUZZ_KEEP_CORPUS=<dir>  keep the grown corpora there (to review and merge seeds by hand).
# Exit:  0 all targets clean; 1 a target crashed, leaked, timed out or hit the memory limit
#        (its reproducer is printed and kept under $FUZZ_BUILD_DIR/artifacts/<name>/);
#        2 bad usage, a target without seeds, or a build failure.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-20}
shift || true
case "$SECONDS_PER_TARGET" in ''|*[!0-9]*) echo "fuzz.sh: seconds must be a number" >&2; exit 2 ;; esac
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
RSS_MB=${FUZZ_RSS_MB:-2048}
INPUT_TIMEOUT=${FUZZ_TIMEOUT_S:-10}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for src in fuzz/*_fuzzer.cc; do names+=("$(basename "$src" _fuzzer.cc)"); done
fi
# A target without seeds starts from nothing and finds little in 20 s: refuse it.
for n in "${names[@]}"; do
  [ -f "fuzz/${n}_fuzzer.cc" ] || { echo "fuzz.sh: no fuzz/${n}_fuzzer.cc" >&2; exit 2; }
  if [ -z "$(ls -A "fuzz/corpus/$n" 2>/dev/null)" ]; then
    echo "fuzz.sh: fuzz/${n}_fuzzer.cc has no seed corpus: add files under fuzz/corpus/$n/" >&2
    exit 2
  fi
done

echo "fuzz.sh: building ${names[*]} in $BUILD"
# Only what the fuzzers need: no tests, benchmarks or examples (gtest is not built with clang).
# Warnings are errors here too; _GLIBCXX_ASSERTIONS turns libstdc++'s unchecked preconditions
# (operator[] out of range, front() of an empty container, * of an empty optional) into aborts,
# which ASan alone misses when the bytes read are inside an allocation.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMESHSLICE_FUZZ=ON -DMESHSLICE_WERROR=ON \
  -DCMAKE_CXX_FLAGS=-D_GLIBCXX_ASSERTIONS \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMESHSLICE_BUILD_TESTS=OFF \
  -DMESHSLICE_BUILD_BENCH=OFF -DMESHSLICE_BUILD_EXAMPLES=OFF >/dev/null || exit 2
targets=()
for n in "${names[@]}"; do targets+=("${n}_fuzzer"); done
cmake --build "$BUILD" -j"$(nproc)" --target "${targets[@]}" || exit 2

WORK=$(mktemp -d /tmp/meshslice-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# UBSan findings must stop the run like ASan's do, or they scroll by unnoticed.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for n in "${names[@]}"; do
  corpus="$WORK/corpus/$n"
  mkdir -p "$corpus" "$BUILD/artifacts/$n"
  artifacts=$(cd "$BUILD/artifacts/$n" && pwd)
  cp -r "fuzz/corpus/$n/." "$corpus/"
  seeds=$(find "$corpus" -type f | wc -l)
  echo "=== fuzz $n: ${SECONDS_PER_TARGET}s, $seeds seeds, -rss_limit_mb=$RSS_MB -timeout=$INPUT_TIMEOUT"
  log="$WORK/$n.log"
  before=$(ls -A "$artifacts")
  rc=0
  # The outer timeout only guards against a hung fuzzer process; libFuzzer stops by itself.
  timeout -k 10 $((SECONDS_PER_TARGET + 120)) "$BUILD/fuzz/${n}_fuzzer" \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb="$RSS_MB" -timeout="$INPUT_TIMEOUT" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" || true
  if [ "$rc" -ne 0 ]; then
    failed+=("$n")
    echo "--- fuzz $n FAILED (exit $rc); the finding:"
    # The sanitizer's one-line verdict comes before long stack traces: show it first.
    grep -m5 -E 'runtime error|ERROR: |SUMMARY: ' "$log" || true
    echo "--- last lines of its log:"
    tail -40 "$log"
    new=$(comm -13 <(echo "$before" | sort) <(ls -A "$artifacts" | sort) | grep -v '^$' || true)
    for f in $new; do
      echo "fuzz $n: crash input: $artifacts/$f"
      echo "fuzz $n: reproduce:   UBSAN_OPTIONS=$UBSAN_OPTIONS $(pwd)/$BUILD/fuzz/${n}_fuzzer $artifacts/$f"
    done
    [ -n "$new" ] || echo "fuzz $n: no reproducer written (killed by the outer timeout?)"
  else
    echo "--- fuzz $n ok: corpus $seeds -> $(find "$corpus" -type f | wc -l) inputs"
  fi
  if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
    mkdir -p "$FUZZ_KEEP_CORPUS/$n" && cp -r "$corpus/." "$FUZZ_KEEP_CORPUS/$n/"
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz.sh: ${#names[@]} targets ran ${SECONDS_PER_TARGET}s each without a finding"
