#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library builds for a 32-bit x86 target (Debian's i386, here gcc -m32)
# with the project's warnings as errors, and a program linked with it, shared
# and static, runs. Only the library, quickly: scripts/test.sh's m32 job
# runs the whole suite for i386 (docs/testing.md). Skipped (exit 77) where the
# compiler cannot build and run a 32-bit program (no gcc-multilib: scripts/
# deps.sh test installs it on amd64). About 15 s of CPU.
#   m32.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "32-bit build: $*"; exit 1; }

printf '#include <pthread.h>\nint main(void) { return pthread_self() == 0; }\n' > "$tmp/probe.c"
if ! "$cc" -m32 -pthread "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null || ! "$tmp/probe"; then
  echo "$cc -m32 cannot build or run a 32-bit program here (gcc-multilib): skipped"
  exit 77
fi

cmake -S "$src" -B "$tmp/b" -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS=-m32 -DCMAKE_BUILD_TYPE=Release \
  -DFERRY_WERROR=ON -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF \
  -DFERRY_BUILD_DUPES=OFF >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "configure failed"; }
cmake --build "$tmp/b" -j2 --target ferry_shared ferry_static >"$tmp/log" 2>&1 ||
  { grep -E 'error|warning' "$tmp/log" | head -n 20; fail "the library does not build"; }
class=$(readelf -h "$tmp/b/libferry.so" | sed -n 's/^ *Class: *//p')
[ "$class" = ELF32 ] || fail "libferry.so is $class"

main="$src/tests/install/consumer/main.c"
inc=(-I"$src/include" -I"$tmp/b/include")
"$cc" -m32 -std=c11 -Wall -Wextra -Werror "${inc[@]}" "$main" -o "$tmp/shared" -L"$tmp/b" -lferry \
  -Wl,-rpath,"$tmp/b" -pthread || fail "a program does not link with the 32-bit libferry.so"
"$cc" -m32 -std=c11 -Wall -Wextra -Werror "${inc[@]}" "$main" -o "$tmp/static" "$tmp/b/libferry.a" \
  -pthread || fail "a program does not link with the 32-bit libferry.a"
for p in shared static; do
  out=$("$tmp/$p") || fail "$p: exit $?: $out"
  [[ $out == "installed ferry "*" works" ]] || fail "$p: $out"
done
echo "32-bit build: library with -Werror, a program linked shared and static: ok"
