#!/usr/bin/env bash
# Configures and builds meshslice into $BUILD_DIR (default: build/). Extra arguments go to cmake
# configure, e.g. scripts/build.sh -DMESHSLICE_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake_args=(-DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo})
[ "${CI:-}" = "true" ] && cmake_args+=(-DMESHSLICE_WERROR=ON)
cmake -S . -B "$BUILD_DIR" "${cmake_args[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
