#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make package`'s Debian package: build it from this build tree with CPack,
# check its control fields and contents (what lintian would reject among
# them), then unpack it into a temporary
# root and check it as an installed tree (tests/install/consumer.sh:
# pkg-config, find_package, man pages, docs, examples).
#   deb.sh BUILD_DIR SOURCE_DIR LIBDIR SOVERSION "PROGRAM..."
set -euo pipefail
build=$1 src=$2 libdir=$3 sover=$4 programs=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package: $*"; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack failed"; }
debs=("$tmp"/out/*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb, got: $(ls "$tmp/out")"
deb=${debs[0]}

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = ferry ] || fail "Package: $(field Package)"
[ "$(field Section)" = libdevel ] || fail "Section: $(field Section)"
version=$(field Version)
[ -n "$version" ] && [[ "$(basename "$deb")" == "ferry_${version}_"*.deb ]] || fail "file name $(basename "$deb") vs Version $version"
[[ "$(field Depends)" == *libc6* ]] || fail "Depends lacks libc6 (dpkg-shlibdeps): '$(field Depends)'"
[[ "$(field Maintainer)" == *"<"*">"* ]] || fail "Maintainer: $(field Maintainer)"
[ "$(field Description | wc -l)" -ge 3 ] || fail "Description has no extended text"

# Contents: every path below must be in the package (symlinks as symlinks).
dpkg-deb -c "$deb" | awk '{ p = $6; if ($7 == "->") p = p " -> " $8; print p }' | sed 's|^\./||' > "$tmp/list"
want=(
  "usr/$libdir/libferry.a"
  "usr/$libdir/libferry.so -> libferry.so.$sover"
  "usr/$libdir/libferry.so.$sover -> libferry.so.$version"
  "usr/$libdir/libferry.so.$version"
  usr/include/ferry/chan.h usr/include/ferry/op.h usr/include/ferry/version.h
  "usr/$libdir/pkgconfig/ferry.pc"
  "usr/$libdir/cmake/ferry/ferry-config.cmake"
  "usr/$libdir/cmake/ferry/ferry-config-version.cmake"
  "usr/$libdir/cmake/ferry/ferryTargets.cmake"
  usr/share/man/man3/ferry_chan.3.gz usr/share/man/man3/ferry_send.3.gz
  usr/share/doc/ferry/README.md usr/share/doc/ferry/LICENSE usr/share/doc/ferry/CHANGELOG.md
  usr/share/doc/ferry/copyright usr/share/doc/ferry/changelog.gz
  usr/share/doc/ferry/docs/design.md usr/share/doc/ferry/docs/chan.md
  usr/share/doc/ferry/examples/dir_walker.c
)
for p in $programs; do
  want+=("usr/bin/$p")
  grep -q -E "^usr/share/man/man1/$p\.1(\.gz)?$" "$tmp/list" || fail "no manual page usr/share/man/man1/$p.1"
done
for w in "${want[@]}"; do
  grep -q -x -F "$w" "$tmp/list" || fail "missing $w"
done
# What Debian policy (lintian) rejects: manual pages not compressed, no
# copyright or changelog.gz (checked above), a changelog.gz not in Debian's
# format, a shared library in usr/lib without dpkg's ldconfig trigger.
uncompressed=$(grep -E '^usr/share/man/man[1-8]/.*\.[1-8]$' "$tmp/list" || true)
[ -z "$uncompressed" ] || fail "manual pages not compressed: $(head -n 3 <<<"$uncompressed")"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/ferry/changelog.gz | gzip -dc |
  head -n 1 | grep -q -E "^ferry \($version\) [a-z]+; urgency=[a-z]+$" ||
  fail "changelog.gz does not start with a Debian changelog entry for $version"
dpkg-deb -e "$deb" "$tmp/control"
grep -q -x 'activate-noawait ldconfig' "$tmp/control/triggers" 2>/dev/null || fail "no ldconfig trigger (DEBIAN/triggers)"
grep -q -x "libferry $sover ferry (>= $version)" "$tmp/control/shlibs" 2>/dev/null || fail "DEBIAN/shlibs: $(cat "$tmp/control/shlibs" 2>&1)"
# Nothing from the build machine: no absolute paths of the build tree.
if dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*.pc' '*/cmake/ferry/*.cmake' | grep -q -F "$build"; then
  fail "a .pc or CMake file refers to the build tree $build"
fi

# A consumer against the package unpacked into a temporary root.
dpkg-deb -x "$deb" "$tmp/root"
"$src/tests/install/consumer.sh" "$tmp/root/usr" "$src" "$libdir" "$sover"
echo "package $(basename "$deb"): fields, $(wc -l < "$tmp/list") entries, consumer: ok"
