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
# Where -m32 builds, the 32-bit checker also exports the _time64 forms of
# the timed calls, and a program built with 64-bit time
# (tools/rtcheck/rtcheck_time64.c) has each of them caught in a real-time
# section: they were not interposed, and such a program slept uncaught.
#   rtcheck_flags.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
rt="$src/tools/rtcheck/rtcheck.c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What it interposes: every EXPORT definition (by its asm label where it has
# one: the stdio wrappers are named rtcheck_vprintf, ... in C), every
# FCNTL_WRAPPER, every SIMPLE_CALLS entry and every TIME64_CALLS entry. The
# names that begin with __ (the _time64 forms) exist on 32-bit targets only.
{
  sed -n -E '/__asm__/!s/^EXPORT [^(]*[ *]([a-z_0-9]+)\(.*/\1/p' "$rt"
  sed -n -E 's/^EXPORT .*__asm__\("([a-z_0-9]+)"\).*/\1/p' "$rt"
  sed -n -E 's/^FCNTL_WRAPPER\(([a-z_0-9]+)\).*/\1/p' "$rt"
  sed -n -E 's/^ *[XY]\([^,]+, ([a-z_0-9]+), .*/\1/p' "$rt"
} | sort -u > "$tmp/want_all"
grep -v '^__' "$tmp/want_all" > "$tmp/want64"
[ "$(wc -l < "$tmp/want64")" -ge 40 ] || { echo "found only $(wc -l < "$tmp/want64") interposed names in $rt"; exit 1; }
[ "$(grep -c '^__' "$tmp/want_all")" -ge 20 ] || { echo "found too few _time64 names in $rt"; exit 1; }

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
  case $flags in
    *_TIME_BITS=64*)
      # shellcheck disable=SC2086 # $flags is a list of flags
      "$cc" -std=c11 $flags -Wall -Wextra -Werror "$src/tools/rtcheck/rtcheck_time64.c" \
        -o "$tmp/time64" -pthread -ldl || { echo "rtcheck_time64.c does not build with $cc $flags"; exit 1; }
      LD_PRELOAD="$tmp/rt.so" "$tmp/time64" || { echo "$cc $flags: _time64 calls not caught"; exit 1; } ;;
  esac
done
echo "rtcheck.c with $cc in ${#variants[@]} flag sets: builds, exports all $(wc -l < "$tmp/want_all") interposed calls: ok"
