#!/usr/bin/env bash
# Install the build into a temporary prefix, then build and run a consumer
# with pkg-config (shared and static) and with find_package(ferry).
#   run.sh BUILD_DIR SOURCE_DIR LIBDIR SOVERSION
set -euo pipefail
build=$1 src=$2 sover=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
test -f "$tmp/prefix/include/ferry/chan.h"
soname=$(readelf -d "$libdir/libferry.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libferry.so.$sover" ] || { echo "unexpected SONAME '$soname', expected libferry.so.$sover"; exit 1; }
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc "$src/tests/install/consumer/main.c" -o "$tmp/pc_shared" $(pkg-config --cflags --libs ferry) -Wl,-rpath,"$libdir"
"$tmp/pc_shared"
cc "$src/tests/install/consumer/main.c" -o "$tmp/pc_static" $(pkg-config --cflags ferry) "$libdir/libferry.a" $(pkg-config --static --libs-only-other ferry)
"$tmp/pc_static"
cmake -S "$src/tests/install/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer_shared"
"$tmp/cm/consumer_static"
echo "install: headers, SONAME $soname, pkg-config (shared, static), find_package: ok"
