#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ferry.pc when a distribution gives CMAKE_INSTALL_INCLUDEDIR or _LIBDIR as
# absolute paths (split outputs, as Nix does): pkg-config must report those
# directories as they are. (The relocatable .pc of relative directories is
# checked by unit.install.consumer.) Configures the project only, without
# tests, benchmarks or examples.
#   pc_dirs.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "ferry.pc: $*"; exit 1; }

check() {   # check NAME LIBDIR_ARG INCLUDEDIR_ARG WANT_LIBDIR WANT_INCLUDEDIR
  local name=$1 libdir=$2 incdir=$3 want_lib=$4 want_inc=$5 b="$tmp/$1"
  cmake -S "$src" -B "$b" -DCMAKE_C_COMPILER="$cc" -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF \
    -DFERRY_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$tmp/prefix" \
    -DCMAKE_INSTALL_LIBDIR="$libdir" -DCMAKE_INSTALL_INCLUDEDIR="$incdir" >"$tmp/$name.log" 2>&1 ||
    { cat "$tmp/$name.log"; fail "$name: configure failed"; }
  # Where the install puts it.
  mkdir -p "$want_lib/pkgconfig"
  cp "$b/ferry.pc" "$want_lib/pkgconfig/ferry.pc"
  local cflags libs
  cflags=$(PKG_CONFIG_PATH="$want_lib/pkgconfig" pkg-config --cflags-only-I ferry | xargs)
  libs=$(PKG_CONFIG_PATH="$want_lib/pkgconfig" pkg-config --libs-only-L ferry | xargs)
  [ "$(realpath -m "${cflags#-I}")" = "$want_inc" ] || fail "$name: --cflags '$cflags', expected -I$want_inc"
  [ "$(realpath -m "${libs#-L}")" = "$want_lib" ] || fail "$name: --libs '$libs', expected -L$want_lib"
  rm -rf "$want_lib"
}

check abs_include lib "$tmp/dev/include" "$tmp/prefix/lib" "$tmp/dev/include"
check abs_both "$tmp/out/lib64" "$tmp/dev/include" "$tmp/out/lib64" "$tmp/dev/include"
check relative lib include "$tmp/prefix/lib" "$tmp/prefix/include"
echo "ferry.pc with absolute and relative install directories: ok"
