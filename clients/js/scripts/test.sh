#!/usr/bin/env bash
# The client's tests (test/*.test.mjs) against real daemons: scripts/test.sh <build-dir>.
# Exit 77 (skip) without node or node_modules (scripts/npm-ci.sh installs it).
set -euo pipefail
build=$(cd "${1:-../../build}" && pwd)
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "SKIP: node is needed (scripts/deps.sh web)"; exit 77; }
[ -d node_modules/react ] || { echo "SKIP: run scripts/npm-ci.sh first"; exit 77; }
export MESHSLICE_BIN="${MESHSLICE_BIN_DIR:-$build}/meshslice"
exec node --test test/client.test.mjs test/react.test.mjs
