#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make package` as its user runs it (into a temporary PACKAGE_DIR): the
# packages are built with Debian's hardening flags, as a Debian build is, and
# lintian's hardening checks would pass: the library and the programs
# bound now with RELRO (BIND_NOW, GNU_RELRO) and calling the fortified
# variants of libc's functions (__*_chk). About 15 s of CPU.
#   make.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "make package: $*"; exit 1; }

make -C "$src" package PACKAGE_DIR="$tmp/pkg" JOBS=2 >"$tmp/log" 2>&1 || { tail -n 30 "$tmp/log"; fail "failed"; }
n=0
for deb in "$tmp"/pkg/*.deb; do
  dpkg-deb -x "$deb" "$tmp/root"; n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "only $n packages in $tmp/pkg"
lib=$(find "$tmp/root" -name 'libferry.so.*' -type f)
[ -n "$lib" ] || fail "no libferry.so.* in the packages"
for f in "$lib" $(find "$tmp/root/usr/bin" -type f -exec sh -c 'head -c 4 "$1" | grep -q ELF' _ {} \; -print); do
  name=${f#"$tmp/root/"}
  # (Whole outputs, not pipes into grep -q: under pipefail its early exit
  # would fail the writer.)
  dynamic=$(readelf -d "$f") headers=$(readelf -l -W "$f") symbols=$(nm -D "$f")
  grep -q -E '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' <<<"$dynamic" || fail "$name: not linked with -z now"
  grep -q GNU_RELRO <<<"$headers" || fail "$name: no RELRO"
  grep -q -E ' U __[a-z_]+_chk(@|$)' <<<"$symbols" || fail "$name: no fortified calls (_FORTIFY_SOURCE)"
done
echo "make package: $n packages, library and programs hardened (BIND_NOW, RELRO, fortify): ok"
