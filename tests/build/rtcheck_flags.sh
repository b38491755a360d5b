#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real-time checker (tools/rtcheck/rtcheck.c) builds with -Werror under
# the flags a distribution or a release build uses (-O2, _FORTIFY_SOURCE),
# and still exports every call it interposes. glibc's headers then define
# some of those names as inline functions (getline when optimizing; read,
# printf, open, ... with _FORTIFY_SOURCE), which the checker must not clash
# with: clang refused the build, or without -Werror hid the wrapper. Also
# with 64-bit file offsets (and on 32-bit targets 64-bit time), where the
# headers would rename open to open64, which the checker defines too.
#   rtcheck_flags.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
rt="$src/tools/rtcheck/rtcheck.c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What it interposes: every EXPORT definition (by its asm label where it has
# one: fcntl's wrappers are named rtcheck_fcntl in C) and every SIMPLE_CALLS
# entry.
{
  sed -n -E '/__asm__/!s/^EXPORT [^(]*[ *]([a-z_0-9]+)\(.*/\1/p' "$rt"
  sed -n -E 's/^EXPORT .*__asm__\("([a-z_0-9]+)"\).*/\1/p' "$rt"
  sed -n -E 's/^ *X\([^,]+, ([a-z_0-9]+), .*/\1/p' "$rt"
} | sort -u > "$tmp/want"
[ "$(wc -l < "$tmp/want")" -ge 40 ] || { echo "found only $(wc -l < "$tmp/want") interposed names in $rt"; exit 1; }

variants=("-O2" "-O2 -D_FORTIFY_SOURCE=2" "-O2 -D_FILE_OFFSET_BITS=64")
# 32-bit packages' flags (64-bit offsets and time), where -m32 builds here.
if printf 'int main(void) { return 0; }\n' | "$cc" -m32 -x c - -o "$tmp/m32" 2>/dev/null; then
  variants+=("-m32 -O2 -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64")
fi
for flags in "${variants[@]}"; do
  # shellcheck disable=SC2086 # $flags is a list of flags
  "$cc" -std=c11 -D_GNU_SOURCE $flags -Wall -Wextra -Werror -fvisibility=hidden -fPIC -shared \
    "$rt" -o "$tmp/rt.so" -ldl || { echo "rtcheck.c does not build with $cc $flags"; exit 1; }
  nm -D --defined-only "$tmp/rt.so" | awk '{print $3}' | sed 's/@.*//' | sort -u > "$tmp/have"
  missing=$(comm -23 "$tmp/want" "$tmp/have")
  [ -z "$missing" ] || { echo "$cc $flags: not exported: $missing"; exit 1; }
done
echo "rtcheck.c with $cc in ${#variants[@]} flag sets: builds, exports all $(wc -l < "$tmp/want") interposed calls: ok"
