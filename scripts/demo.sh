#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a small mesh on 127.0.0.1: several
# node processes find each other by mDNS on lo (multicast pinned to 127.0.0.1, private port),
# link over Noise, sync a slice store and each prints the converged view of every device.
# Arguments go to mesh_demo: --nodes N (2..32), --static (static peers instead of mDNS).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh >/dev/null
exec "${BUILD_DIR:-build}/tools/mesh_demo" "$@"
