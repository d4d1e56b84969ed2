#!/usr/bin/env bash
# Soak test (tests/process/soak.py): N nodes on 127.0.0.1, continuous bounded updates, periodic
# kill -9 / graceful restarts; fails if a node's RSS or open fds grow past a bound after its
# warm-up, or if the mesh does not converge exactly once quiet. Loopback only.
# Usage: scripts/soak.sh [--minutes M] [--nodes N] [other soak.py options]
#        (default 2 minutes; run it for hours outside CI: scripts/soak.sh --minutes 240)
# Env:   BUILD_DIR (default build/): where tools/mesh_demo is built.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=2
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$minutes" in ''|*[!0-9.]*) echo "soak.sh: --minutes must be a number" >&2; exit 2 ;; esac
demo=${BUILD_DIR:-build}/tools/mesh_demo
[ -x "$demo" ] || { echo "soak.sh: $demo not built (scripts/build.sh)" >&2; exit 2; }
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
exec python3 tests/process/soak.py "$demo" --seconds "$seconds" ${args[@]+"${args[@]}"}
