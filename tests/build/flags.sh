#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library builds with -Werror under the flags distributions and users
# build it with, beyond the suite's own builds (gcc -O3, clang -O1, the
# sanitizers at -O2): -O0; Debian's hardening (dpkg-buildflags
# hardening=+all, with _FORTIFY_SOURCE=3); link-time optimisation. Each is one
# compiler run over src/*.c into a shared library with the version script,
# and a program on it runs. About 8 s of CPU.
#   flags.sh SOURCE_DIR BUILD_DIR C_COMPILER
set -euo pipefail
src=$1 build=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "flags: $*"; exit 1; }

lto=-flto=auto
if "$cc" --version | grep -q clang; then lto=-flto=thin; fi
sets=(
  "-O0"
  "-O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection -fcf-protection -Wformat -Werror=format-security -Wl,-z,relro -Wl,-z,now"
  "-O3 $lto"
)
inc=(-I"$src/include" -I"$build/include")
for flags in "${sets[@]}"; do
  # shellcheck disable=SC2086 # $flags is a list of flags
  "$cc" -std=c11 -D_GNU_SOURCE -fPIC -shared -fvisibility=hidden $flags -Wall -Wextra -Werror \
    "${inc[@]}" -I"$src/src" "$src"/src/*.c -o "$tmp/libferry.so" -pthread -Wl,--no-undefined \
    -Wl,--version-script="$build/libferry.map" >"$tmp/log" 2>&1 ||
    { head -n 30 "$tmp/log"; fail "$cc $flags: the library does not build"; }
  # shellcheck disable=SC2086
  "$cc" -std=c11 $flags "${inc[@]}" "$src/tests/install/consumer/main.c" -o "$tmp/main" \
    -L"$tmp" -lferry -Wl,-rpath,"$tmp" -pthread || fail "$cc $flags: a program does not link"
  out=$("$tmp/main") || fail "$cc $flags: the program failed: $out"
  [[ $out == "installed ferry "*" works" ]] || fail "$cc $flags: $out"
done
echo "flags: $(basename "$cc") at -O0, hardened (_FORTIFY_SOURCE=3), LTO: ok"
