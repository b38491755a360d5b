#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library built with a 64-bit time_t for a 32-bit x86 target (gcc -m32
# -D_TIME_BITS=64, what a distribution's time64 build does), with -Werror:
# its timed futex waits (src/futex.c) and the mutex's deadlines
# and the channel's, select's and deadline.h's (tests/unit/futex.c, mutex.c,
# mutex_args.c, mutex_time64.c, chan_time64.c and deadline.c, every case
# but the death tests, which the suite runs). The m32 job of
# scripts/test.sh covers the default 32-bit time_t, with programs built for
# 64-bit time_t in tests/unit/mutex_time64.c and chan_time64.c. Skipped (exit 77) where the
# compiler cannot build and run a 32-bit program (gcc-multilib). About 20 s
# of CPU.
#   m32_time64.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "32-bit time64 build: $*"; exit 1; }
flags="-m32 -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64"

printf '#include <pthread.h>\n#include <time.h>\nint main(void) { return sizeof(time_t) != 8 || pthread_self() == 0; }\n' > "$tmp/probe.c"
# shellcheck disable=SC2086
if ! "$cc" $flags -pthread "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null || ! "$tmp/probe"; then
  echo "$cc $flags cannot build or run a 32-bit program with a 64-bit time_t here (gcc-multilib): skipped"
  exit 77
fi

cmake -S "$src" -B "$tmp/b" -DCMAKE_C_COMPILER="$cc" "-DCMAKE_C_FLAGS=$flags" -DCMAKE_BUILD_TYPE=Release \
  -DFERRY_WERROR=ON -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF \
  -DFERRY_BUILD_DUPES=OFF >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "configure failed"; }
cmake --build "$tmp/b" -j2 --target ferry_static >"$tmp/log" 2>&1 ||
  { grep -E 'error|warning' "$tmp/log" | head -n 20; fail "the library does not build"; }

for t in futex mutex mutex_args mutex_time64 chan_time64 deadline; do
  # shellcheck disable=SC2086
  "$cc" $flags -std=gnu11 -O2 -I"$src/include" -I"$tmp/b/include" -I"$src/tests/harness" -I"$src/src" \
    "$src/tests/unit/$t.c" "$src/tests/harness/test.c" "$tmp/b/libferry.a" -pthread -lm -o "$tmp/$t" ||
    fail "tests/unit/$t.c does not build"
  n=0
  while read -r name kind; do
    [ "$kind" = plain ] || continue
    out=$("$tmp/$t" "$name" 2>&1) || fail "$t.$name: $out"
    n=$((n + 1))
  done < <("$tmp/$t" --list)
  [ $n -gt 0 ] || fail "$t: no case ran"
  echo "$t: $n cases passed"
done
echo "32-bit build with a 64-bit time_t: library with -Werror, futex, mutex, channel and select deadlines: ok"
