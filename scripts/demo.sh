#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a small mesh on 127.0.0.1: several
# node processes sync a slice store and each prints the converged view of every device.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh >/dev/null
exec "${BUILD_DIR:-build}/tools/mesh_demo" "$@"
