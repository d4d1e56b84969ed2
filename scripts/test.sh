#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs these stages (docs/TESTING.md):
#   unit  build $BUILD_DIR (default build/) and run every ctest test, script tests included
#   asan  build build-asan/ (Debug, -DMESHSLICE_SANITIZE=ON: ASan + UBSan) and run ctest there,
#         the root/namespace script tests included (they run the asan build's binaries), except
#         those matching the ctest regex $MESHSLICE_ASAN_EXCLUDE (default: the LAN harness
#         self-test, which runs no meshslice code, and the web.* browser/Node tests, whose
#         daemon side the HTTP tests of meshslice_node_tests cover under ASan; "" excludes
#         nothing)
#   fuzz  scripts/fuzz.sh: every libFuzzer target for $MESHSLICE_FUZZ_SECONDS s (default 20)
# Both builds treat warnings as errors (-DMESHSLICE_WERROR=ON), whatever $CI says: this is
# what CI runs (.ci/run). scripts/build.sh alone leaves -Werror to CI=true.
# Usage: scripts/test.sh                                     every stage
#        MESHSLICE_TEST_STAGES="unit" scripts/test.sh        only these, in this order
# Every selected stage runs even when an earlier one failed. The last line of output is
# "N passed, M failed" over the stages; the exit status is non-zero if any stage failed.
set -uo pipefail
cd "$(dirname "$0")/.."

known="unit asan fuzz"
read -r -a stages <<<"${MESHSLICE_TEST_STAGES:-$known}"
for s in "${stages[@]}"; do
  case " $known " in *" $s "*) ;; *)
    echo "test.sh: unknown stage '$s' in MESHSLICE_TEST_STAGES (known: $known)" >&2; exit 2 ;;
  esac
done
[ ${#stages[@]} -gt 0 ] || { echo "test.sh: MESHSLICE_TEST_STAGES selects nothing" >&2; exit 2; }

ASAN_BUILD_DIR=${MESHSLICE_ASAN_BUILD_DIR:-build-asan}
# Unset: the default; set to "" to run every test under ASan.
ASAN_EXCLUDE=${MESHSLICE_ASAN_EXCLUDE-'^(script\.lan_harness_selftest|web\..*)$'}

stage_unit() {
  scripts/build.sh -DMESHSLICE_WERROR=ON
  cd "${BUILD_DIR:-build}"
  ctest --output-on-failure -j"$(nproc)" --timeout 600
}

stage_asan() {
  # Debug keeps assert() on; -O1 (what the ASan docs advise) runs the heavier tests several
  # times faster than -O0. No benchmarks or examples: they run no tests.
  BUILD_DIR=$ASAN_BUILD_DIR BUILD_TYPE=Debug scripts/build.sh -DMESHSLICE_WERROR=ON -DMESHSLICE_SANITIZE=ON \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
    -DMESHSLICE_BUILD_BENCH=OFF -DMESHSLICE_BUILD_EXAMPLES=OFF
  cd "$ASAN_BUILD_DIR"
  local exclude=()
  [ -n "$ASAN_EXCLUDE" ] && exclude=(-E "$ASAN_EXCLUDE")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$(nproc)" --timeout 600 "${exclude[@]}"
}

stage_fuzz() {
  scripts/fuzz.sh "${MESHSLICE_FUZZ_SECONDS:-20}"
}

banner() {
  echo
  echo "=================================================================================="
  echo "=== $*"
  echo "=================================================================================="
}

if ! scripts/deps.sh lan web; then
  echo "test.sh: scripts/deps.sh failed"
  echo "0 passed, ${#stages[@]} failed"
  exit 1
fi

passed=0
failed=0
summary=()
for s in "${stages[@]}"; do
  banner "stage $s"
  start=$SECONDS
  # A subshell per stage: set -e stops the stage at its first failing step, and a `cd` in
  # one stage does not leak into the next.
  (set -e; "stage_$s")
  rc=$?
  took=$((SECONDS - start))
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1)); result=PASS
  else
    failed=$((failed + 1)); result="FAIL (exit $rc)"
  fi
  echo "=== stage $s: $result in ${took}s"
  summary+=("$(printf '  %-5s %-16s %5ss' "$s" "$result" "$took")")
done

banner "summary"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
