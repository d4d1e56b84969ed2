#!/usr/bin/env bash
# Installs meshslice from a build directory into a temporary prefix, then builds and runs small
# applications out of tree against that install only (tests/consumer/):
#   1. CMake: find_package(meshslice) -> meshslice::meshslice (C++ and C), meshslice_static (C++)
#   2. pkg-config: `pkg-config --cflags --libs meshslice` (C++ and C), and a C program linked
#      against libmeshslice.a with `pkg-config --static --libs meshslice` (whose Libs.private
#      must bring the C++ runtime)
#   3. the daemon: bin/meshslice runs (`--version`), the systemd unit is in lib/systemd/system
# Before that: only the listed headers are installed, each compiles against the install alone,
# and nothing a consumer compiles comes from the source tree (sources copied out, -MD checked).
# Each consumer starts two nodes on 127.0.0.1 and checks that they sync. Registered in ctest as
# package.consumer. Exit 77 (skip) for fuzz builds, whose objects need the libFuzzer runtime.
# Usage: scripts/consumer_test.sh [BUILD_DIR]     (default: build/, already built)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
cache=$build/CMakeCache.txt
[ -f "$cache" ] || { echo "consumer_test: $build is not a configured build directory" >&2; exit 2; }
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$cache"; }

if [ "$(cache_value MESHSLICE_FUZZ)" = "ON" ]; then
  echo "consumer_test: skipped for a fuzz build"
  exit 77
fi
cc=$(cache_value CMAKE_C_COMPILER)
cxx=$(cache_value CMAKE_CXX_COMPILER)
flags=()
# A sanitizer build's libraries need the sanitizer runtime in the application too.
[ "$(cache_value MESHSLICE_SANITIZE)" = "ON" ] && flags+=(-fsanitize=address,undefined)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
echo "installed into a temporary prefix: $(cd "$prefix" && find . -name 'libmeshslice*' -o -name '*.pc' -o -name 'meshslice' -o -name '*.service' | sort | tr '\n' ' ')"
fail() { echo "consumer_test: $*" >&2; exit 1; }

run() {  # run NAME COMMAND...: runs one consumer, labelled
  echo "--- $1"
  "${@:2}"
}

# The consumers' sources are copied out of the tree, so that no include can resolve next to them.
src=$work/src
mkdir "$src"
cp "$root"/tests/consumer/CMakeLists.txt "$root"/tests/consumer/consumer.c "$root"/tests/consumer/consumer.cc "$src/"
headers=$prefix/include/meshslice
# Only the listed public headers are installed: no test doubles, no internal C API header.
for private in base/fake_env.h transport/memory_transport.h transport/noise_vectors.h capi/capi_internal.h; do
  [ ! -e "$headers/$private" ] || fail "the install ships $private"
done
# Every installed header compiles against the install alone: one that includes a header the
# install left out (cmake/install.cmake) fails here. Its dependencies must not reach the tree.
(cd "$headers" && find . -name '*.h' | sed 's|^\./||' | sort | sed 's|.*|#include "&"|') >"$work/all_headers.cc"
echo "installed headers: $(wc -l <"$work/all_headers.cc")"
"$cxx" -std=c++20 "${flags[@]}" -fsyntax-only -MD -MF "$work/all_headers.d" -DMSGPACK_NO_BOOST -I"$headers" \
  $(pkg-config --cflags libuv libsodium) "$work/all_headers.cc" || fail "the installed headers do not compile on their own"
if grep -q "$root/" "$work/all_headers.d"; then fail "the installed headers reach into the source tree"; fi

# 1. CMake package. CMAKE_PREFIX_PATH is the only hint: nothing points into the source tree.
cmake -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="${flags[*]:-}" -DCMAKE_CXX_FLAGS="${flags[*]:-}" >"$work/configure.log" \
  || { cat "$work/configure.log"; exit 1; }
if grep -q "$root" "$work/cmake/compile_commands.json"; then fail "the CMake consumer's compile commands name the source tree"; fi
cmake --build "$work/cmake" -j2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
run "cmake, C++, shared" "$work/cmake/consumer_cxx"
run "cmake, C++, static" "$work/cmake/consumer_cxx_static"
run "cmake, C, shared" "$work/cmake/consumer_c"
if ldd "$work/cmake/consumer_cxx_static" | grep -q libmeshslice; then
  echo "consumer_test: the static consumer links libmeshslice.so" >&2
  exit 1
fi

# 2. pkg-config.
pc=$(find "$prefix" -name meshslice.pc)
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir meshslice)
read -r -a pc_flags <<<"$(pkg-config --cflags --libs meshslice)"
"$cxx" -std=c++20 "${flags[@]}" "$src/consumer.cc" "${pc_flags[@]}" -Wl,-rpath,"$libdir" \
  -MD -MF "$work/pc_cxx.d" -o "$work/pc_cxx"
if grep -q "$root/" "$work/pc_cxx.d"; then fail "the pkg-config consumer includes headers from the source tree"; fi
"$cc" -std=c11 "${flags[@]}" "$src/consumer.c" "${pc_flags[@]}" -Wl,-rpath,"$libdir" \
  -o "$work/pc_c"
run "pkg-config, C++" "$work/pc_cxx"
run "pkg-config, C" "$work/pc_c"
# --static: the C program links the archive, so the C++ runtime must come from Libs.private.
read -r -a pc_static <<<"$(pkg-config --static --cflags --libs meshslice)"
echo "pkg-config --static: ${pc_static[*]}"
[[ " ${pc_static[*]} " == *" -lstdc++ "* ]] || fail "pkg-config --static does not list -lstdc++"
static_flags=()
for f in "${pc_static[@]}"; do
  if [ "$f" = "-lmeshslice" ]; then static_flags+=("$libdir/libmeshslice.a"); else static_flags+=("$f"); fi
done
"$cc" -std=c11 "${flags[@]}" "$src/consumer.c" "${static_flags[@]}" -o "$work/pc_c_static"
if ldd "$work/pc_c_static" | grep -q libmeshslice; then fail "the --static consumer links libmeshslice.so"; fi
run "pkg-config --static, C" "$work/pc_c_static"

# 3. The daemon and its unit.
bin=$prefix/bin/meshslice
[ -x "$bin" ] || fail "cmake --install did not install bin/meshslice"
unit=$prefix/lib/systemd/system/meshslice.service
[ -f "$unit" ] || fail "cmake --install did not install lib/systemd/system/meshslice.service"
grep -q '^ExecStart=.*/meshslice up ' "$unit" || fail "the unit has no ExecStart running meshslice up"
grep -q '^Type=notify$' "$unit" || fail "the unit is not Type=notify"
version=$("$bin" --version) || fail "the installed meshslice --version failed"
[ "$version" = "meshslice $(pkg-config --modversion meshslice)" ] || fail "installed meshslice --version says '$version'"
echo "--- installed daemon: $version; unit $(basename "$unit")"
echo "consumer_test: all consumers passed"
