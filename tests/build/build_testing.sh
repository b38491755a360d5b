#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A distribution's recipe leaves the tests out with CTest's switch,
# -DBUILD_TESTING=OFF: then no test is built or registered. An explicit
# -DFERRY_BUILD_TESTS=ON still wins. Configures only (about 5 s).
#   build_testing.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
off=(-DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_BUILD_DUPES=OFF)
cmake -S "$src" -B "$tmp/off" -DCMAKE_C_COMPILER="$cc" -DBUILD_TESTING=OFF "${off[@]}" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; echo "configure with BUILD_TESTING=OFF failed"; exit 1; }
grep -q -x 'FERRY_BUILD_TESTS:BOOL=OFF' "$tmp/off/CMakeCache.txt" ||
  { echo "BUILD_TESTING=OFF: $(grep '^FERRY_BUILD_TESTS:' "$tmp/off/CMakeCache.txt")"; exit 1; }
n=$(ctest --test-dir "$tmp/off" -N | sed -n 's/^Total Tests: //p')
[ "${n:-0}" = 0 ] || { echo "BUILD_TESTING=OFF: $n tests registered"; exit 1; }
cmake -S "$src" -B "$tmp/on" -DCMAKE_C_COMPILER="$cc" -DBUILD_TESTING=OFF -DFERRY_BUILD_TESTS=ON "${off[@]}" \
  >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "configure with FERRY_BUILD_TESTS=ON failed"; exit 1; }
grep -q -x 'FERRY_BUILD_TESTS:BOOL=ON' "$tmp/on/CMakeCache.txt" ||
  { echo "BUILD_TESTING=OFF FERRY_BUILD_TESTS=ON: $(grep '^FERRY_BUILD_TESTS:' "$tmp/on/CMakeCache.txt")"; exit 1; }
echo "BUILD_TESTING=OFF leaves the tests out; FERRY_BUILD_TESTS=ON still builds them: ok"
