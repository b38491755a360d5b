#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the build into a temporary prefix and check it as a user would
# (tests/install/consumer.sh). The install runs under umask 077, as root's
# `sudo make install` may: what it creates must still be readable by every
# user (directories 0755, files 0644 or 0755), whatever the umask. Then
# without libferry.a, as a distribution that ships the shared library alone
# leaves it: find_package(ferry) still gives ferry::ferry, and only asking
# for the static component fails. Then the other way round: libferry.a
# alone.
#   run.sh BUILD_DIR SOURCE_DIR LIBDIR SOVERSION
set -euo pipefail
build=$1 src=$2 libdir=$3 sover=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(umask 077 && cmake --install "$build" --prefix "$tmp/prefix" >/dev/null)
bad=$(find "$tmp/prefix" \( \( -type d ! -perm 0755 \) -o \( -type f ! -perm 0644 ! -perm 0755 \) \) -printf '%m %P\n')
[ -z "$bad" ] || { echo "installed under umask 077, not readable by all:"; head -n 5 <<<"$bad"; exit 1; }
"$src/tests/install/consumer.sh" "$tmp/prefix" "$src" "$libdir" "$sover"

# (A copy for the static-only check below.)
cp -a "$tmp/prefix" "$tmp/static_prefix"
rm "$tmp/prefix/$libdir/libferry.a"
consumer() { # consumer NAME [COMPONENT...]: configure and build tests/install/consumer
  local name=$1; shift
  cmake -S "$src/tests/install/consumer" -B "$tmp/$name" -DCMAKE_PREFIX_PATH="${prefix:-$tmp/prefix}" \
    -DFERRY_COMPONENTS="$*" >"$tmp/$name.log" 2>&1 && cmake --build "$tmp/$name" >>"$tmp/$name.log" 2>&1
}
consumer no_static || { cat "$tmp/no_static.log"; echo "find_package(ferry) fails without libferry.a"; exit 1; }
out=$(LD_LIBRARY_PATH="$tmp/prefix/$libdir" "$tmp/no_static/consumer_shared")
[[ $out == "installed ferry "*" works" ]] || { echo "without libferry.a, ferry::ferry: $out"; exit 1; }
[ ! -e "$tmp/no_static/consumer_static" ] || { echo "without libferry.a, ferry::ferry_static is still defined"; exit 1; }
consumer shared_only shared || { cat "$tmp/shared_only.log"; echo "find_package(ferry COMPONENTS shared) fails"; exit 1; }
if consumer want_static static; then echo "find_package(ferry COMPONENTS static) passed without libferry.a"; exit 1; fi
grep -q 'component static asked for, but libferry.a is not installed' "$tmp/want_static.log" || { cat "$tmp/want_static.log"; echo "its error does not name the static component"; exit 1; }
echo "without libferry.a: find_package(ferry) gives ferry::ferry; COMPONENTS static fails: ok"

# Static only (a distribution or an embedded build that ships libferry.a
# alone): find_package(ferry) gives ferry::ferry_static and no ferry::ferry,
# COMPONENTS shared fails naming libferry.so, and pkg-config's plain --libs
# links libferry.a (the program needs no libferry.so).
rm "$tmp/static_prefix/$libdir"/libferry.so*
prefix="$tmp/static_prefix" consumer static_only ||
  { cat "$tmp/static_only.log"; echo "find_package(ferry) fails without libferry.so"; exit 1; }
[ ! -e "$tmp/static_only/consumer_shared" ] || { echo "without libferry.so, ferry::ferry is still defined"; exit 1; }
out=$("$tmp/static_only/consumer_static")
[[ $out == "installed ferry "*" works" ]] || { echo "without libferry.so, ferry::ferry_static: $out"; exit 1; }
if prefix="$tmp/static_prefix" consumer want_shared shared; then echo "find_package(ferry COMPONENTS shared) passed without libferry.so"; exit 1; fi
grep -q 'component shared asked for, but libferry.so is not installed' "$tmp/want_shared.log" ||
  { cat "$tmp/want_shared.log"; echo "its error does not name the shared component"; exit 1; }
read -ra cflags <<<"${CFLAGS:-}"
pc=$(PKG_CONFIG_PATH="$tmp/static_prefix/$libdir/pkgconfig" pkg-config --cflags --libs ferry)
read -ra pc <<<"$pc"
cc "${cflags[@]}" "$src/tests/install/consumer/main.c" "${pc[@]}" -o "$tmp/static_pc"
out=$("$tmp/static_pc")
[[ $out == "installed ferry "*" works" ]] || { echo "without libferry.so, pkg-config --libs: $out"; exit 1; }
if readelf -d "$tmp/static_pc" | grep -q 'NEEDED.*libferry'; then echo "linked against a libferry.so that is not installed"; exit 1; fi
echo "without libferry.so: find_package(ferry) gives ferry::ferry_static; COMPONENTS shared fails; pkg-config links libferry.a: ok"
