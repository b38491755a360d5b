#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# FERRY_CHAN_TYPED (ferry/typed.h) rejects the wrong item type at compile
# time: tests/typed/wrong_type.c compiles with CASE=0 (right use) and fails
# to compile with every misuse CASE=1..6, each failing on the line of the
# misuse (not on something else). Compiled as C11 with -pedantic-errors,
# which turns the constraint violations into errors (so does -Werror; GCC
# 14 and later make them errors by default). Also: ferry/chan.h compiles
# alone and defines what it documents.
#   compile_fail.sh CC SOURCE_DIR BUILD_DIR
set -euo pipefail
cc=$1 src=$2 build=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(-std=c11 -pedantic-errors -Wall -Wextra -I"$src/include" -I"$build/include" -c -o "$tmp/o.o")
file="$src/tests/typed/wrong_type.c"
"$cc" "${flags[@]}" -DCASE=0 "$file" 2>"$tmp/err" || { echo "the right use does not compile:"; cat "$tmp/err"; exit 1; }
for c in 1 2 3 4 5 6; do
  if "$cc" "${flags[@]}" -DCASE=$c "$file" 2>"$tmp/err"; then
    echo "misuse CASE=$c compiled: $(grep -n "CASE == $c\$" "$file" -A1 | tail -1)"; exit 1
  fi
  # The error is on the misuse's line (the line after "#elif CASE == c").
  line=$(grep -n "^#elif CASE == $c\$" "$file" | cut -d: -f1)
  grep -Eq "wrong_type\.c:($((line + 1))|$((line + 2))|$((line + 3))):[0-9]+: error" "$tmp/err" ||
    { echo "misuse CASE=$c failed, but not on its line:"; cat "$tmp/err"; exit 1; }
done
# And ferry/chan.h alone gives what its documentation names: the -E...
# results, ssize_t, struct timespec, the deadline helpers -- in strict C11,
# without POSIX feature macros.
cat >"$tmp/alone.c" <<'C'
#include <ferry/chan.h>
int chan_h_alone(ssize_t r, const struct timespec *t);
int chan_h_alone(ssize_t r, const struct timespec *t)
{
    struct timespec d = ferry_deadline_in_ms(1);
    return (r == -EAGAIN || r == -EPIPE || r == -ETIMEDOUT || r == -ENOMEM || r == -EINVAL ||
            r == -EINPROGRESS) + (int)(t->tv_sec + d.tv_sec);
}
C
"$cc" "${flags[@]}" "$tmp/alone.c" 2>"$tmp/err" || { echo "ferry/chan.h does not stand alone:"; cat "$tmp/err"; exit 1; }
echo "FERRY_CHAN_TYPED: the right use compiles, 6 misuses do not: ok; ferry/chan.h stands alone"
