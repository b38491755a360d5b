#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cmake -S SOURCE -B BUILD ARGS..., so that every -D of ARGS holds afterwards.
# When ARGS name another compiler than the one BUILD was configured with
# (a tree made by hand with cc, then scripts/test.sh asking for gcc; or
# `make CC=gcc`, then `make CC=clang`), CMake deletes the cache and
# configures again without the other -D arguments: CMAKE_BUILD_TYPE,
# FERRY_WERROR, FERRY_SANITIZE, ... silently back to their defaults. Then
# this configures once more, which sets them on the new cache. Prints
# CMake's output (on stderr when it fails, so that a caller that hides the
# output still shows why); exits with its status.
#   scripts/configure.sh SOURCE BUILD ARGS...
set -euo pipefail
src=$1 build=$2; shift 2
out=$(cmake -S "$src" -B "$build" "$@" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
if grep -q 'require your cache to be deleted' <<<"$out"; then
  printf '%s\n' "$out"
  echo "configure.sh: the cache of $build was reset (another compiler): configuring again, afresh, with every argument"
  # Afresh: what CMake found out about the old compiler goes too (after its
  # own reset it kept the new compiler but dropped the arguments given with
  # it, CC="gcc -m32" or -DCMAKE_C_COMPILER="gcc;-m32").
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
  out=$(cmake -S "$src" -B "$build" "$@" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
fi
printf '%s\n' "$out"
