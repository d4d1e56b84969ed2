#!/usr/bin/env bash
# Keeps README.md's library example true: extracts its first ```cpp block and compiles it
# (syntax and types, -fsyntax-only) against the source tree, with warnings (-Wpedantic too) as errors except
# for the names the snippet leaves unused on purpose.
# Usage: readme_example.sh <source-dir> <c++ compiler>
set -euo pipefail
src=$1
cxx=${2:-c++}
work=$(mktemp -d /tmp/meshslice-readme.XXXXXX)
trap 'rm -rf "$work"' EXIT
awk '/^```cpp$/ {on=1; next} on && /^```$/ {exit} on {print}' "$src/README.md" > "$work/example.cc"
[ -s "$work/example.cc" ] || { echo "README.md has no \`\`\`cpp block" >&2; exit 1; }
echo 'int main(int argc, char** argv) { return argc > 1 && runPresence(argv[1]).isOk() ? 0 : 1; }' >> "$work/example.cc"
inc=$(pkg-config --cflags libuv libsodium)
# shellcheck disable=SC2086
"$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -Wno-unused-parameter -Wno-unused-variable \
  -DMSGPACK_NO_BOOST -I"$src" $inc "$work/example.cc"
echo "README.md example compiles"
