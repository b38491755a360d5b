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
# Under each set, a program (tools/rtcheck/rtcheck_renamed.c) whose calls
# glibc's headers rename (_FORTIFY_SOURCE's __printf_chk, __read_chk, ...;
# 64-bit offsets' openat64, preadv64, ...; where -m32 builds, 64-bit time's
# __nanosleep64, ...) has each caught in a real-time section: they were not
# interposed, and such a program printed, read or slept uncaught.
#   rtcheck_flags.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
rt="$src/tools/rtcheck/rtcheck.c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What it interposes: every EXPORT definition (by its asm label where it has
# one), every *_WRAPPER(name, ...) (open, fcntl, the print calls, ...), and
# every entry of the call lists (SIMPLE_CALLS, LFS64_CALLS, FORTIFY_CALLS,
# TIME64_CALLS, ...; Z entries: the calls that return nothing). The
# _time64 forms (TIME64_CALLS, __fcntl_time64) exist on 32-bit targets only.
{
  sed -n -E '/__asm__/!s/^EXPORT [^(]*[ *]([a-z_0-9]+)\(.*/\1/p' "$rt"
  sed -n -E 's/^EXPORT .*__asm__\("([a-z_0-9]+)"\).*/\1/p' "$rt"
  sed -n -E 's/^[A-Z_]+_WRAPPER\(([a-z_0-9]+)[,)].*/\1/p' "$rt"
  sed -n -E 's/^ *[XY]\([^,]+, ([a-z_0-9]+), .*/\1/p' "$rt"
  sed -n -E 's/^ *Z\(([a-z_0-9]+), .*/\1/p' "$rt"
} | sort -u > "$tmp/want_all"
{
  sed -n '/^#define TIME64_CALLS(Y)/,/^TIME64_CALLS(/p' "$rt" | sed -n -E 's/^ *Y\([^,]+, ([a-z_0-9]+), .*/\1/p'
  echo __fcntl_time64
} | sort -u > "$tmp/want32"
comm -23 "$tmp/want_all" "$tmp/want32" > "$tmp/want64"
[ "$(wc -l < "$tmp/want64")" -ge 40 ] || { echo "found only $(wc -l < "$tmp/want64") interposed names in $rt"; exit 1; }
[ "$(wc -l < "$tmp/want32")" -ge 20 ] || { echo "found too few _time64 names in $rt"; exit 1; }
for name in open64 openat64 preadv64 __printf_chk __read_chk __open_2 fcntl64; do
  grep -qx "$name" "$tmp/want64" || { echo "$name is not among the interposed names found in $rt"; exit 1; }
done

variants=("-O2" "-O2 -D_FORTIFY_SOURCE=2" "-O2 -D_FILE_OFFSET_BITS=64")
# 32-bit packages' flags (64-bit offsets and time), where -m32 builds here.
if printf 'int main(void) { return 0; }\n' | "$cc" -m32 -x c - -o "$tmp/m32" 2>/dev/null; then
  variants+=("-m32 -O2 -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64")
fi
for flags in "${variants[@]}"; do
  # shellcheck disable=SC2086 # $flags is a list of flags
  "$cc" -std=c11 -D_GNU_SOURCE $flags -Wall -Wextra -Werror -fvisibility=hidden -fPIC -shared \
    "$rt" -o "$tmp/rt.so" -ldl || { echo "rtcheck.c does not build with $cc $flags"; exit 1; }
  want=$tmp/want64
  case $flags in *-m32*) want=$tmp/want_all ;; esac
  nm -D --defined-only "$tmp/rt.so" | awk '{print $3}' | sed 's/@.*//' | sort -u > "$tmp/have"
  missing=$(comm -23 "$want" "$tmp/have")
  [ -z "$missing" ] || { echo "$cc $flags: not exported: $missing"; exit 1; }
  # A program that calls the renamed forms (_FORTIFY_SOURCE, 64-bit
  # offsets, and with these flags 64-bit time) has each caught.
  # shellcheck disable=SC2086 # $flags is a list of flags
  "$cc" -std=c11 $flags -Wall -Wextra -Werror "$src/tools/rtcheck/rtcheck_renamed.c" \
    -o "$tmp/renamed" -pthread -ldl -lrt || { echo "rtcheck_renamed.c does not build with $cc $flags"; exit 1; }
  LD_PRELOAD="$tmp/rt.so" "$tmp/renamed" >"$tmp/out" ||
    { cat "$tmp/out"; echo "$cc $flags: renamed calls not caught"; exit 1; }
done
echo "rtcheck.c with $cc in ${#variants[@]} flag sets: builds, exports all $(wc -l < "$tmp/want_all") interposed calls: ok"
