#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The public headers are C11: a program that includes one in C99, C89 or
# gnu99 mode gets, as its first error, the #error of <ferry/common.h> that
# says so -- not an obscure error about _Atomic or _Static_assert further
# down. Each header alone (every one includes common.h first), with this
# build's C compiler; and C11 still compiles (as C++ does: headers.sh).
# Compile only, a second.
#   c_standard.sh SOURCE_DIR BUILD_DIR C_COMPILER
set -euo pipefail
src=$1 build=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc=(-I"$src/include" -I"$build/include")
want="ferry's headers need C11 or later"
n=0
for h in "$src"/include/ferry/*.h "$build"/include/ferry/version.h; do
  b=$(basename "$h")
  printf '#include <ferry/%s>\nint ferry_c_standard;\n' "$b" > "$tmp/t.c"
  for std in c99 gnu99 c89; do
    if "$cc" -std=$std "${inc[@]}" -fsyntax-only "$tmp/t.c" 2>"$tmp/err"; then
      echo "<ferry/$b> compiled as $std: it must stop at common.h's #error"; exit 1
    fi
    first=$(grep -m1 -E 'error' "$tmp/err" || true)
    [[ $first == *"$want"* ]] ||
      { cat "$tmp/err"; echo "<ferry/$b> as $std: the first error is not common.h's: $first"; exit 1; }
  done
  "$cc" -std=c11 "${inc[@]}" -fsyntax-only "$tmp/t.c" 2>"$tmp/err" ||
    { cat "$tmp/err"; echo "<ferry/$b> does not compile as C11"; exit 1; }
  n=$((n + 1))
done
[ "$n" -ge 10 ] || { echo "only $n public headers found"; exit 1; }
echo "$n headers with $cc: C99, gnu99 and C89 stop at the #error that asks for C11; C11 compiles: ok"
