#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/test.sh's configure (scripts/configure.sh) keeps every setting it
# asks for in a build tree configured before with another compiler, as
# build/release is after `make` or the README's cmake command (cc), when
# test.sh then asks for gcc: plain cmake deleted the cache on the compiler
# change and dropped the rest, so the release job ran without -Werror and
# not as Release. Configures only (library alone, about 5 s).
#   reconfigure.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
off=(-DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_BUILD_DUPES=OFF)
# First with the compiler by another name (a symlink to it: a different path).
ln -s "$(command -v "$cc")" "$tmp/othercc"
cmake -S "$src" -B "$tmp/b" -DCMAKE_C_COMPILER="$tmp/othercc" "${off[@]}" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; echo "first configure failed"; exit 1; }
"$src/scripts/configure.sh" "$src" "$tmp/b" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
  -DFERRY_WERROR=ON "${off[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "configure.sh failed"; exit 1; }
for want in CMAKE_BUILD_TYPE:STRING=Release FERRY_WERROR:BOOL=ON FERRY_BUILD_DUPES:BOOL=OFF; do
  grep -q -x -F "$want" "$tmp/b/CMakeCache.txt" ||
    { echo "after the compiler changed, the cache lost $want: $(grep "^${want%%:*}:" "$tmp/b/CMakeCache.txt")"; exit 1; }
done
echo "configure.sh after a compiler change: every -D kept: ok"
