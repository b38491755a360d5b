#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Check an installed ferry (an install prefix, or a Debian package unpacked
# into a temporary root) as a user would use it:
#   - headers under include/ferry/ (version.h too), the shared library with
#     its SONAME and symlinks, the static library;
#   - a consumer built with pkg-config (shared, static) and with
#     find_package(ferry) (ferry::ferry, ferry::ferry_static) runs, and the
#     library it loads reports the version pkg-config does;
#   - the manual pages resolve (`man ferry_send`), docs and examples are in
#     share/doc/ferry, and every example compiles on its own with the
#     command in its header comment: cc -std=c11 NAME.c $(pkg-config --cflags --libs ferry).
#   consumer.sh PREFIX SOURCE_DIR LIBDIR SOVERSION
set -euo pipefail
prefix=$1 src=$2 libdir="$1/$3" sover=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "installed tree $prefix: $*"; exit 1; }

for h in chan.h op.h version.h common.h; do
  [ -f "$prefix/include/ferry/$h" ] || fail "no include/ferry/$h"
done
so="libferry.so.$sover"
[ -f "$libdir/libferry.a" ] || fail "no libferry.a in $libdir"
[ -L "$libdir/libferry.so" ] && [ "$(readlink "$libdir/libferry.so")" = "$so" ] ||
  fail "libferry.so is not a symlink to $so"
[ -L "$libdir/$so" ] && [ -f "$libdir/$(readlink "$libdir/$so")" ] || fail "$so is not a symlink to the library"
soname=$(readelf -d "$libdir/libferry.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "$so" ] || fail "SONAME '$soname', expected '$so'"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
version=$(pkg-config --modversion ferry)
cc "$src/tests/install/consumer/main.c" -o "$tmp/pc_shared" $(pkg-config --cflags --libs ferry) -Wl,-rpath,"$libdir"
[ "$("$tmp/pc_shared")" = "installed ferry $version works" ] || fail "pkg-config shared consumer: $("$tmp/pc_shared")"
cc "$src/tests/install/consumer/main.c" -o "$tmp/pc_static" $(pkg-config --cflags ferry) "$libdir/libferry.a" $(pkg-config --static --libs-only-other ferry)
"$tmp/pc_static" >/dev/null
cmake -S "$src/tests/install/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DFERRY_WANT_VERSION="$version" >/dev/null
cmake --build "$tmp/cm" >/dev/null
[ "$(LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer_shared")" = "installed ferry $version works" ] || fail "find_package consumer"
"$tmp/cm/consumer_static" >/dev/null

# Manual pages: a page per function, found the way man finds them (the
# Debian package compresses them).
man3="$prefix/share/man/man3"
for p in ferry_chan ferry_send; do
  [ -f "$man3/$p.3" ] || [ -f "$man3/$p.3.gz" ] || fail "no manual page $p.3 in $man3"
done
if command -v man >/dev/null; then
  MANPATH="$prefix/share/man" man ferry_send 2>/dev/null | grep -q 'ferry_send' || fail "man ferry_send does not show the page"
fi

# Documentation, and the examples compiled against this tree alone.
doc="$prefix/share/doc/ferry"
for f in README.md CHANGELOG.md LICENSE docs/design.md docs/chan.md examples/dir_walker.c; do
  [ -f "$doc/$f" ] || fail "no share/doc/ferry/$f"
done
n=0
for ex in "$src"/examples/*.c; do
  line=$(grep -m1 -E '^ \*\s+cc -std=c11 [a-z_]+\.c \$\(pkg-config --cflags --libs ferry\)' "$ex" || true)
  [ -n "$line" ] || fail "$(basename "$ex") has no 'cc -std=c11 NAME.c \$(pkg-config --cflags --libs ferry)' line"
  # What follows the ferry flags (more libraries), up to a "&& ./a.out".
  extra=$(sed -E 's/.*\$\(pkg-config --cflags --libs ferry\)//; s/ *&&.*$//' <<<"$line")
  if grep -q 'pkg-config --cflags --libs libuv' <<<"$extra" && ! pkg-config --exists libuv; then
    echo "$(basename "$ex"): libuv not installed, not compiled"; continue
  fi
  # shellcheck disable=SC2086 # $extra holds the example's extra flags
  eval "cc -std=c11 -Wall -Wextra -Werror '$ex' $(pkg-config --cflags --libs ferry) $extra -o '$tmp/example'" ||
    fail "$(basename "$ex") does not compile on its own"
  n=$((n + 1))
done
echo "installed tree: headers, SONAME $so, pkg-config (shared, static), find_package, man pages, docs, $n examples: ok"
