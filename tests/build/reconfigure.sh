#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/test.sh's configure (scripts/configure.sh) keeps every setting it
# asks for in a build tree configured before with another compiler, as
# build/release is after `make` or the README's cmake command (cc), when
# test.sh then asks for gcc: plain cmake deleted the cache on the compiler
# change and dropped the rest, so the release job ran without -Werror and
# not as Release. Then `make CC=...`'s configure command (make -n) and
# configure.sh's errors. Configures only (library alone, about 10 s).
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

# `make CC=... CXX=...` (also in the environment) builds with those compilers
# even where build/release exists from others: the configure command make
# runs names them (before, plain cmake kept the tree's first compiler and
# ignored CC). It is run here on this tree, configured with $cc above, with
# the compiler by another name; without CC, make names no compiler.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -n --no-print-directory -C "$src" "$@" release | grep -m1 -E '^(cmake|scripts/configure\.sh) ' || true; }
line=$(mk CC="$tmp/othercc" CXX=c++)
[[ $line == *"-DCMAKE_C_COMPILER=\"$tmp/othercc\""*"-DCMAKE_CXX_COMPILER=\"c++\""* ]] ||
  { echo "make CC=... CXX=... configures with: $line"; exit 1; }
line=$(CC="$tmp/othercc" mk)
[[ $line == *"-DCMAKE_C_COMPILER=\"$tmp/othercc\""* ]] || { echo "CC=... make configures with: $line"; exit 1; }
line=$(unset CC CXX; mk)
[[ $line != *CMAKE_C_COMPILER* ]] || { echo "make without CC configures with: $line"; exit 1; }
# A compiler with arguments, as CMake takes CC from the environment.
line=$(mk CC="$tmp/othercc -O1")
[[ $line == *"-DCMAKE_C_COMPILER=\"$tmp/othercc;-O1\""* ]] || { echo "make CC=\"cc -O1\" configures with: $line"; exit 1; }
line=${line/ . build\/release / \"$src\" \"$tmp\/b\" }
(cd "$src" && eval "$line ${off[*]}") || { echo "make CC=...'s configure failed: $line"; exit 1; }
grep -q -x -E "CMAKE_C_COMPILER:[A-Z]+=$tmp/othercc(;-O1)?" "$tmp/b/CMakeCache.txt" &&
  grep -q -F "set(CMAKE_C_COMPILER \"$tmp/othercc\")" "$tmp"/b/CMakeFiles/*/CMakeCCompiler.cmake &&
  grep -q -F 'set(CMAKE_C_COMPILER_ARG1 "-O1")' "$tmp"/b/CMakeFiles/*/CMakeCCompiler.cmake &&
  grep -q -x -F CMAKE_BUILD_TYPE:STRING=Release "$tmp/b/CMakeCache.txt" ||
  { echo "after make CC=...'s configure: $(grep -E '^CMAKE_(C_COMPILER|BUILD_TYPE):' "$tmp/b/CMakeCache.txt" | xargs)"; exit 1; }

# configure.sh says why it failed on stderr (make hides its stdout).
if "$src/scripts/configure.sh" "$src" "$tmp/bad" -DFERRY_SANITIZE=bogus "${off[@]}" >/dev/null 2>"$tmp/err"; then
  echo "configure.sh passed FERRY_SANITIZE=bogus"; exit 1
fi
grep -q 'FERRY_SANITIZE must be' "$tmp/err" || { cat "$tmp/err"; echo "configure.sh's failure is not on stderr"; exit 1; }
echo "configure.sh after a compiler change: every -D kept; make CC=... CXX=... takes the compilers: ok"
