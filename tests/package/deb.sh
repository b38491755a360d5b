#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make package`'s Debian packages, split as Debian splits a library:
#   libferry<SOVERSION>  the shared library and its SONAME link, the shlibs
#                        file (naming this package) and the ldconfig trigger;
#   libferry-dev         everything to build against it, and the real-time
#                        checker (ferry-rtcheck, LIBDIR/ferry);
#   ferry-dupes          the program (when it is part of the build).
# Build them from this build tree with CPack, check each one's control fields
# and contents (what lintian would reject among them), that no file is in two
# packages and that together they hold exactly what `cmake --install`
# installs; then unpack them all into one temporary root and check it as an
# installed tree (tests/install/consumer.sh: pkg-config, find_package, man
# pages, docs, examples).
#   deb.sh BUILD_DIR SOURCE_DIR LIBDIR SOVERSION "PROGRAM..."
set -euo pipefail
build=$1 src=$2 libdir=$3 sover=$4 programs=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package: $*"; exit 1; }

# Built as a hostile packager's setup would: under umask 077, from a
# read-only source tree (its LICENSE, which becomes each package's copyright
# file, mode 0444). Every entry must still be 0755 (directories, programs) or
# 0644 (other files), as Debian policy (10.9) asks; lintian, where it is
# installed, says the same, but scripts/deps.sh does not install it.
install -m 0444 "$src/LICENSE" "$tmp/LICENSE"
(umask 077 && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" \
   -D CPACK_RESOURCE_FILE_LICENSE="$tmp/LICENSE" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log"; fail "cpack failed"; }

runtime=libferry$sover
# The packages expected, and the package of each program: ferry-rtcheck is a
# development tool; any other program is a package of its own.
expect=("$runtime" libferry-dev)
declare -A program_pkg=()
for p in $programs; do
  case $p in
    ferry-rtcheck) program_pkg[$p]=libferry-dev ;;
    *) program_pkg[$p]=$p; expect+=("$p") ;;
  esac
done
got=$(find "$tmp/out" -maxdepth 1 -name '*.deb' -printf '%f\n' | sed 's/_.*//' | sort)
[ "$got" = "$(printf '%s\n' "${expect[@]}" | sort)" ] ||
  fail "expected the packages ${expect[*]}, got: $(ls "$tmp/out")"
deb() { echo "$tmp"/out/"$1"_*.deb; }
version=$(dpkg-deb -f "$(deb "$runtime")" Version)
[ -n "$version" ] || fail "$runtime has no Version"

# What every package has: its name and version in the file name, one source,
# a maintainer, an extended description, compressed manual pages, and
# usr/share/doc/PACKAGE/copyright and changelog.gz (Debian's format).
# Its entries (symlinks as "path -> target", directories left out) go to
# $tmp/PACKAGE.list.
for pkg in "${expect[@]}"; do
  f=$(deb "$pkg")
  field() { dpkg-deb -f "$f" "$1"; }
  [ "$(field Package)" = "$pkg" ] || fail "$f: Package: $(field Package)"
  [ "$(field Version)" = "$version" ] || fail "$pkg: Version $(field Version), $runtime has $version"
  [[ "$(basename "$f")" == "${pkg}_${version}_"*.deb ]] || fail "file name $(basename "$f") vs $pkg $version"
  [ "$(field Source)" = ferry ] || fail "$pkg: Source: '$(field Source)'"
  [[ "$(field Maintainer)" == *"<"*">"* ]] || fail "$pkg: Maintainer: $(field Maintainer)"
  [ "$(field Description | wc -l)" -ge 3 ] || fail "$pkg: Description has no extended text"
  [[ "$(field Depends)" == *libc6* ]] || fail "$pkg: Depends lacks libc6 (dpkg-shlibdeps): '$(field Depends)'"
  dpkg-deb -c "$f" | awk '$1 !~ /^d/ { p = $6; if ($7 == "->") p = p " -> " $8; print p }' |
    sed 's|^\./||' | sort > "$tmp/$pkg.list"
  modes=$(dpkg-deb -c "$f" | awk '$1 !~ /^(drwxr-xr-x|-rw-r--r--|-rwxr-xr-x|lrwxrwxrwx)$/ { print $1, $6 }')
  [ -z "$modes" ] || fail "$pkg: entries not 0755/0644 (built under umask 077, read-only source): $(head -n 3 <<<"$modes")"
  for w in "usr/share/doc/$pkg/copyright" "usr/share/doc/$pkg/changelog.gz"; do
    grep -q -x -F "$w" "$tmp/$pkg.list" || fail "$pkg: no $w"
  done
  dpkg-deb --fsys-tarfile "$f" | tar -xO "./usr/share/doc/$pkg/changelog.gz" | gzip -dc |
    head -n 1 | grep -q -E "^ferry \($version\) [a-z]+; urgency=[a-z]+$" ||
    fail "$pkg: changelog.gz does not start with a Debian changelog entry for ferry $version"
  uncompressed=$(grep -E '^usr/share/man/man[1-8]/.*\.[1-8]$' "$tmp/$pkg.list" || true)
  [ -z "$uncompressed" ] || fail "$pkg: manual pages not compressed: $(head -n 3 <<<"$uncompressed")"
  dpkg-deb -e "$f" "$tmp/control-$pkg"
  field Section > "$tmp/section-$pkg"
  field Depends > "$tmp/depends-$pkg"
done
has() { # has PACKAGE PATH...: each PATH is among PACKAGE's entries
  local pkg=$1; shift
  for w in "$@"; do grep -q -x -F "$w" "$tmp/$pkg.list" || fail "$pkg: missing $w"; done
}
lacks() { # lacks PACKAGE REGEX: no entry of PACKAGE matches
  local bad
  bad=$(grep -E "$2" "$tmp/$1.list" || true)
  [ -z "$bad" ] || fail "$1 holds what belongs elsewhere: $(head -n 3 <<<"$bad")"
}

# The runtime package: the library and its SONAME link, nothing else; the
# shlibs file names this package, the ldconfig trigger replaces ldconfig
# calls in maintainer scripts.
[ "$(cat "$tmp/section-$runtime")" = libs ] || fail "$runtime: Section $(cat "$tmp/section-$runtime")"
printf '%s\n' "usr/$libdir/libferry.so.$sover -> libferry.so.$version" "usr/$libdir/libferry.so.$version" \
  "usr/share/doc/$runtime/changelog.gz" "usr/share/doc/$runtime/copyright" | sort > "$tmp/want"
diff -u "$tmp/want" "$tmp/$runtime.list" >"$tmp/diff" || fail "$runtime holds more or less than the library: $(cat "$tmp/diff")"
grep -q -x 'activate-noawait ldconfig' "$tmp/control-$runtime/triggers" 2>/dev/null ||
  fail "$runtime: no ldconfig trigger (DEBIAN/triggers)"
grep -q -x "libferry $sover $runtime (>= $version)" "$tmp/control-$runtime/shlibs" 2>/dev/null ||
  fail "$runtime: DEBIAN/shlibs: $(cat "$tmp/control-$runtime/shlibs" 2>&1)"
for pkg in "${expect[@]}"; do
  if [ "$pkg" != "$runtime" ] && [ -e "$tmp/control-$pkg/shlibs" ]; then fail "$pkg has a shlibs file"; fi
  for s in postinst postrm; do
    if grep -q -w ldconfig "$tmp/control-$pkg/$s" 2>/dev/null; then fail "$pkg: $s calls ldconfig (the trigger does it)"; fi
  done
done

# The development package: all that builds against the library, the
# checker; it depends on exactly this version of the runtime package.
dev=libferry-dev
[ "$(cat "$tmp/section-$dev")" = libdevel ] || fail "$dev: Section $(cat "$tmp/section-$dev")"
[[ "$(cat "$tmp/depends-$dev")" == "$runtime (= $version)"* ]] || fail "$dev: Depends: $(cat "$tmp/depends-$dev")"
has "$dev" \
  "usr/$libdir/libferry.a" \
  "usr/$libdir/libferry.so -> libferry.so.$sover" \
  usr/include/ferry/chan.h usr/include/ferry/op.h usr/include/ferry/version.h \
  "usr/$libdir/pkgconfig/ferry.pc" \
  "usr/$libdir/cmake/ferry/ferry-config.cmake" \
  "usr/$libdir/cmake/ferry/ferry-config-version.cmake" \
  "usr/$libdir/cmake/ferry/ferryTargets.cmake" \
  usr/share/man/man3/ferry_chan.3.gz usr/share/man/man3/ferry_send.3.gz \
  usr/share/doc/ferry/README.md usr/share/doc/ferry/LICENSE usr/share/doc/ferry/CHANGELOG.md \
  usr/share/doc/ferry/docs/design.md usr/share/doc/ferry/docs/chan.md \
  usr/share/doc/ferry/examples/dir_walker.c
lacks "$dev" "^usr/$libdir/libferry\.so\.[0-9]"
# Each program and its section-1 page, in its package; the programs'
# packages hold nothing of the library's.
for p in $programs; do
  pkg=${program_pkg[$p]}
  has "$pkg" "usr/bin/$p" "usr/share/man/man1/$p.1.gz"
  if [ "$pkg" != "$dev" ]; then
    lacks "$pkg" "^usr/(include|$libdir)/"
    [ "$(cat "$tmp/section-$pkg")" = utils ] || fail "$pkg: Section $(cat "$tmp/section-$pkg")"
  fi
done

# No file in two packages, and together the packages hold what `cmake
# --install` installs: the same paths, manual pages compressed, with each
# package's copyright and changelog.gz added.
dups=$(sort "$tmp"/*.list | uniq -d)
[ -z "$dups" ] || fail "in two packages: $(head -n 3 <<<"$dups")"
cmake --install "$build" --prefix "$tmp/inst/usr" >/dev/null
(cd "$tmp/inst" && find . ! -type d | sed 's|^\./||' | while IFS= read -r p; do
  if [ -L "$p" ]; then p="$p -> $(readlink "$p")"; fi
  sed -E 's|^(usr/share/man/man[1-8]/[^/]*\.[1-8])$|\1.gz|' <<<"$p"
done
for pkg in "${expect[@]}"; do
  printf '%s\n' "usr/share/doc/$pkg/copyright" "usr/share/doc/$pkg/changelog.gz"
done) | sort > "$tmp/want"
sort "$tmp"/*.list > "$tmp/union"
diff -u "$tmp/want" "$tmp/union" >"$tmp/diff" ||
  fail "the packages (+) do not hold what cmake --install installs (-): $(grep '^[-+][^-+]' "$tmp/diff" | head -n 10)"

# Nothing from the build machine: no absolute paths of the build tree.
for pkg in "${expect[@]}"; do
  dpkg-deb -x "$(deb "$pkg")" "$tmp/root"
done
if grep -r -q -F "$build" --include='*.pc' --include='*.cmake' "$tmp/root"; then
  fail "a .pc or CMake file refers to the build tree $build"
fi
# Every object stripped as dh_strip strips it: no debug information (the
# objects are built with -g; in libferry.a it was six times the code) and no
# .comment section (compiler version strings).
while IFS= read -r -d '' f; do
  case $(head -c 4 "$f" | od -An -c | tr -d ' ') in
    177ELF|'!<ar') ;;
    *) continue ;;
  esac
  sections=$(readelf -S -W "$f" 2>/dev/null | { grep -o -E ' \.(debug_[a-z_]+|comment) ' || true; } | sort -u | xargs)
  [ -z "$sections" ] || fail "${f#"$tmp/root/"} is not stripped: $sections"
done < <(find "$tmp/root" -type f \( -name '*.so*' -o -name '*.a' -o -path '*/bin/*' \) -print0)

# lintian itself, where it is installed (scripts/deps.sh does not install it;
# it takes a few seconds): no errors or warnings but the maintainer address
# (FERRY_PACKAGE_CONTACT's placeholder) and, in a build tree whose LIBDIR is
# plain lib (a prefix other than /usr; `make package` uses /usr and gets
# Debian's multiarch directory), pkg-config's cross-compilation directory.
if command -v lintian >/dev/null; then
  rc=0
  lintian --suppress-tags bogus-mail-host,bogus-mail-host-in-debian-changelog,pkg-config-unavailable-for-cross-compilation \
    "$tmp"/out/*.deb >"$tmp/lintian" 2>&1 || rc=$?
  tags=$(grep -E '^[EW]: ' "$tmp/lintian" || true)
  if [ "$rc" != 0 ] || [ -n "$tags" ]; then fail "lintian (exit $rc): $(head -c 1000 "$tmp/lintian")"; fi
fi

# A consumer against all the packages unpacked into one root.
"$src/tests/install/consumer.sh" "$tmp/root/usr" "$src" "$libdir" "$sover"
for pkg in "${expect[@]}"; do
  echo "package $(basename "$(deb "$pkg")"): $(wc -l < "$tmp/$pkg.list") entries, Depends: $(cat "$tmp/depends-$pkg")"
done
echo "packages: fields, contents, no overlap, = cmake --install, consumer: ok"
