# shellcheck shell=bash
# Runs one scenario of tests/lan/lan_faults.py on a fresh namespace LAN. Sourced by
# tests/scripts/lan_*.sh: run_fault SCENARIO NODES BUILD_DIR [driver args...]
# LAN_UP_FLAGS (e.g. --ipv6) is passed to lan_up.
# Exit 77 (skip) without root / netns / python3 / the built tools; lan.sh removes the
# namespaces and every process in them when the script ends, however it ends.
LAN_FAULT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lan.sh
source "$LAN_FAULT_DIR/lan.sh"

run_fault() {
  local scenario=$1 nodes=$2 build=${3:-build}
  shift 3
  lan_require
  command -v python3 >/dev/null || lan_skip "no python3"
  build=$(cd "$build" 2>/dev/null && pwd) || lan_skip "no build dir '$build'"
  [ -x "$build/tools/mesh_demo" ] || lan_skip "$build/tools/mesh_demo not built"
  [ -x "$build/tools/hostile_peer" ] || lan_skip "$build/tools/hostile_peer not built"
  [ -x "$build/tools/mdns_probe" ] || lan_skip "$build/tools/mdns_probe not built"
  LAN_EXEC_TIMEOUT=${LAN_EXEC_TIMEOUT:-300}
  # shellcheck disable=SC2086  # zero or more flags
  lan_up "$nodes" ${LAN_UP_FLAGS:-} || { echo "FAIL: lan_up $nodes"; exit 1; }
  # In the background + wait, so a TERM from ctest runs lan.sh's cleanup trap at once.
  timeout -k 5 "${LAN_FAULT_TIMEOUT:-240}" python3 "$LAN_FAULT_DIR/lan_faults.py" "$scenario" --build "$build" \
    --run "$_LAN_RUN" --net "$_LAN_NET" --nodes "$nodes" "$@" &
  wait $!
}
