#!/usr/bin/env bash
# The Debian packages (cmake/package.cmake, `cpack -G DEB`) built from this build tree, unpacked
# into a clean root (dpkg-deb -x: nothing touches the system's dpkg database or /usr), checked
# (names, version, unit, config, license), and the README's example session run against the
# unpacked binary on 127.0.0.1 (--no-mdns: nothing leaves loopback).
# Usage: package_deb.sh <build-dir>. Exit 77 (skipped) without cpack or dpkg-deb.
set -euo pipefail
build=$(cd "$1" && pwd)
for tool in cpack dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (apt-get install cmake dpkg)"; exit 77; }
done
work=$(mktemp -d /tmp/meshslice-deb.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || fail "no project version in $build/CMakeCache.txt"
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack"; }
shopt -s nullglob
daemon_debs=("$work"/out/meshslice_"$version"_*.deb)
dev_debs=("$work"/out/libmeshslice-dev_"$version"_*.deb)
[ ${#daemon_debs[@]} -eq 1 ] || fail "no meshslice_${version}_*.deb in: $(ls "$work/out")"
[ ${#dev_debs[@]} -eq 1 ] || fail "no libmeshslice-dev_${version}_*.deb in: $(ls "$work/out")"
[ "$(dpkg-deb -f "${daemon_debs[0]}" Package)" = meshslice ] || fail "package name"
[ "$(dpkg-deb -f "${daemon_debs[0]}" Version)" = "$version" ] || fail "package version"
dpkg-deb -f "${daemon_debs[0]}" Depends | grep -q libuv || fail "meshslice does not depend on libuv"
dpkg-deb -I "${daemon_debs[0]}" postinst | grep -q 'addgroup --system meshslice' || fail "no postinst creating the group"

root=$work/root
mkdir -p "$root"
for deb in "${daemon_debs[0]}" "${dev_debs[0]}"; do dpkg-deb -x "$deb" "$root"; done
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
bin=$root$prefix/bin/meshslice
[ -x "$bin" ] || fail "no $prefix/bin/meshslice in the package"
unit=$root$prefix/lib/systemd/system/meshslice.service
[ -f "$unit" ] || fail "no systemd unit in the package"
grep -qx "ExecStart=$prefix/bin/meshslice up --state-dir /var/lib/meshslice --config .*/meshslice/meshslice.conf --control-group meshslice" "$unit" \
  || fail "unit ExecStart: $(grep ExecStart= "$unit")"
conf=$(grep '^ExecStart=' "$unit" | sed 's/.*--config \([^ ]*\).*/\1/')
[ -f "$root$conf" ] || fail "the unit's config file $conf is not in the package"
grep -q 'Apache License' "$root$prefix/share/doc/meshslice/LICENSE" || fail "no LICENSE in the package"
[ -f "$root$prefix/include/meshslice/mesh/mesh_node.h" ] || fail "no headers in libmeshslice-dev"
[ -n "$(find "$root$prefix" -name 'libmeshslice.so*' -print -quit)" ] || fail "no libmeshslice.so in libmeshslice-dev"
if ldd "$bin" | grep -q 'not found'; then fail "unresolved libraries: $(ldd "$bin" | grep 'not found')"; fi
[ "$("$bin" --version)" = "meshslice $version" ] || fail "--version: $("$bin" --version)"

# The README session with the unpacked binary. Waits poll with a deadline (other processes).
waitfor() {  # waitfor <seconds> <command...>: until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.05; done
}
start() {  # start <name> <args...>: `up` in the background, waits for "ready"
  local name=$1; shift
  "$bin" up --state-dir "$work/$name" --no-mdns --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  waitfor 20 grep -qx ready "$work/$name.out" || { cat "$work/$name.err" >&2; fail "$name did not start"; }
}
start a --name kitchen
invite=$(sed -n 's/^invite: //p' "$work/a.out")
a_listen=$(sed -n 's/^listen: //p' "$work/a.out" | head -1)
a_id=$(sed -n 's/^device: //p' "$work/a.out")
"$bin" mesh join "$invite" --state-dir "$work/b" | grep -q '^joined mesh ' || fail "mesh join"
start b --name hall --peer "$a_listen"
linked() { "$bin" --state-dir "$work/a" peers | grep -q ' hall '; }
waitfor 15 linked || fail "hall never linked to kitchen"
"$bin" --state-dir "$work/a" set sensors '{"temp": 21.5}'
synced() { [ "$("$bin" --state-dir "$work/b" get sensors 2>/dev/null)" = "{\"$a_id\":{\"temp\":21.5}}" ]; }
waitfor 15 synced || fail "b never saw a's slice: $("$bin" --state-dir "$work/b" get sensors 2>&1)"
"$bin" --state-dir "$work/a" down
gone() { [ "$("$bin" --state-dir "$work/b" get sensors 2>/dev/null)" = "{}" ]; }
waitfor 15 gone || fail "a's slice outlived its goodbye: $("$bin" --state-dir "$work/b" get sensors 2>&1)"
"$bin" --state-dir "$work/b" down
echo "packages $(basename "${daemon_debs[0]}") $(basename "${dev_debs[0]}"): installed into a clean root, README session passed"
