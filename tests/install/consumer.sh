#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Check an installed ferry (an install prefix, or a Debian package unpacked
# into a temporary root) as a user would use it:
#   - headers under include/ferry/ (version.h too), the shared library with
#     its SONAME and symlinks, needing libc alone, no rpath in any object,
#     the static library;
#   - a consumer built with pkg-config (shared, static) and with
#     find_package(ferry) (ferry::ferry, ferry::ferry_static) runs, and the
#     library it loads reports the version pkg-config does; find_package
#     refuses a version of another ABI (another minor while 0.x);
#   - ferry-rtcheck runs a program under the real-time checker (installed
#     in LIBDIR/ferry): it catches a malloc in a real-time section, --warn
#     goes on, a clean program runs as without it;
#   - the manual pages resolve (`man ferry_send`, `man ferry-rtcheck`), the
#     section-1 pages carry this version, docs and examples are in
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
# The library needs libc alone (pthreads are in it; ld.so for thread-local
# storage), and no installed object carries the build tree's rpath.
needed=$(readelf -d "$libdir/$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
other=$(grep -v -E '^(libc\.so\.6|libpthread\.so\.0|ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$' <<<"$needed" || true)
[ -z "$other" ] || fail "$so needs more than libc: $(xargs <<<"$other")"
for f in "$libdir/$so" "$libdir/ferry/libferry-rtcheck.so" "$prefix"/bin/*; do
  [ -f "$f" ] && head -c 4 "$f" | grep -q ELF || continue
  dynamic=$(readelf -d "$f")
  if grep -q -E '\((RPATH|RUNPATH)\)' <<<"$dynamic"; then fail "${f#"$prefix"/} has an rpath"; fi
done

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# The build's own C flags (CFLAGS from tests/CMakeLists.txt, e.g. -m32), on
# every compile here; CMake's configures below read the same variable.
# shellcheck disable=SC2086 # CFLAGS: words
cc() { command cc ${CFLAGS:-} "$@"; }
version=$(pkg-config --modversion ferry)
cc "$src/tests/install/consumer/main.c" -o "$tmp/pc_shared" $(pkg-config --cflags --libs ferry) -Wl,-rpath,"$libdir"
[ "$("$tmp/pc_shared")" = "installed ferry $version works" ] || fail "pkg-config shared consumer: $("$tmp/pc_shared")"
cc "$src/tests/install/consumer/main.c" -o "$tmp/pc_static" $(pkg-config --cflags ferry) "$libdir/libferry.a" $(pkg-config --static --libs-only-other ferry)
"$tmp/pc_static" >/dev/null
cmake -S "$src/tests/install/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DFERRY_WANT_VERSION="$version" >/dev/null
cmake --build "$tmp/cm" >/dev/null
[ "$(LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer_shared")" = "installed ferry $version works" ] || fail "find_package consumer"
"$tmp/cm/consumer_static" >/dev/null
# The package's version rule (docs/design.md, "The rules"): while the major
# version is 0, only the same minor version is accepted; from 1.0 on, the
# same major one. A newer patch level than the installed one is not.
IFS=. read -r major minor patch <<<"$version"
if [ "$major" = 0 ]; then
  refuse=("0.$((minor + 1))" "$major.$minor.$((patch + 1))" "1.0")
  [ "$minor" = 0 ] || refuse+=("0.$((minor - 1))")
else
  refuse=("$((major + 1)).0" "$((major - 1)).0" "$major.$minor.$((patch + 1))")
fi
for v in "${refuse[@]}"; do
  if cmake -S "$src/tests/install/consumer" -B "$tmp/cm_$v" -DCMAKE_PREFIX_PATH="$prefix" \
       -DFERRY_WANT_VERSION="$v" >"$tmp/cm_$v.log" 2>&1; then
    fail "find_package(ferry $v) accepted the installed $version"
  fi
  grep -q 'not compatible\|not found\|Could not find a configuration file' "$tmp/cm_$v.log" ||
    { cat "$tmp/cm_$v.log"; fail "find_package(ferry $v) failed for another reason"; }
done

# The real-time checker, through its command, on a program linked with the
# installed library: a malloc inside a section is caught (and the program
# aborted) or, with --warn, reported; a clean program is left alone.
rtcheck="$prefix/bin/ferry-rtcheck"
[ -x "$rtcheck" ] || fail "no bin/ferry-rtcheck"
[ -f "$libdir/ferry/libferry-rtcheck.so" ] || fail "no $3/ferry/libferry-rtcheck.so"
[ ! -e "$libdir/libferry-rtcheck.so" ] || fail "libferry-rtcheck.so in $3 itself (it belongs in $3/ferry)"
cat > "$tmp/rt_bad.c" <<'C'
#include <ferry/rt.h>
#include <stdio.h>
#include <stdlib.h>
void *volatile keep;
int main(void)
{
    ferry_rt_enter();
    keep = malloc(16);
    ferry_rt_exit();
    free(keep);
    puts("went on");
    return 0;
}
C
cc -std=c11 "$tmp/rt_bad.c" -o "$tmp/rt_bad" $(pkg-config --cflags --libs ferry) -Wl,-rpath,"$libdir"
[ "$("$tmp/rt_bad")" = "went on" ] || fail "rt_bad without the checker"
rc=0
"$rtcheck" "$tmp/rt_bad" >"$tmp/rt.out" 2>"$tmp/rt.err" || rc=$?
[ "$rc" = 134 ] && grep -q '^ferry-rtcheck: malloc in real-time section' "$tmp/rt.err" ||
  fail "ferry-rtcheck did not catch a malloc in a real-time section (exit $rc): $(head -c 300 "$tmp/rt.err")"
[ ! -s "$tmp/rt.out" ] || fail "the program went on after the checker's report"
"$rtcheck" --warn -- "$tmp/rt_bad" >"$tmp/rt.out" 2>"$tmp/rt.err" || fail "ferry-rtcheck --warn: exit $?"
grep -q '^ferry-rtcheck: malloc in real-time section' "$tmp/rt.err" && [ "$(cat "$tmp/rt.out")" = "went on" ] ||
  fail "ferry-rtcheck --warn: $(head -c 300 "$tmp/rt.err")"
[ "$("$rtcheck" "$tmp/pc_shared")" = "installed ferry $version works" ] || fail "ferry-rtcheck on a clean program"
ln -s "$rtcheck" "$tmp/rtcheck-link" # (a symlink elsewhere to the command finds the checker too)
"$tmp/rtcheck-link" "$tmp/rt_bad" >/dev/null 2>"$tmp/rt.err" || true
grep -q '^ferry-rtcheck: malloc in real-time section' "$tmp/rt.err" || fail "ferry-rtcheck through a symlink: $(head -c 300 "$tmp/rt.err")"
rc=0; "$rtcheck" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "ferry-rtcheck without a command: exit $rc, expected 2"

# Manual pages: a page per function, found the way man finds them (the
# Debian package compresses them).
man3="$prefix/share/man/man3"
for p in ferry_chan ferry_send; do
  [ -f "$man3/$p.3" ] || [ -f "$man3/$p.3.gz" ] || fail "no manual page $p.3 in $man3"
done
if command -v man >/dev/null; then
  MANPATH="$prefix/share/man" man ferry_send 2>/dev/null | grep -q 'ferry_send' || fail "man ferry_send does not show the page"
  MANPATH="$prefix/share/man" man ferry-rtcheck 2>/dev/null | grep -q 'LD_PRELOAD' || fail "man ferry-rtcheck does not show the page"
fi
# The section-1 pages (written by hand) name this version.
for page in "$prefix"/share/man/man1/ferry*.1*; do
  [ -e "$page" ] || fail "no section-1 manual pages in $prefix/share/man/man1"
  case $page in *.gz) th=$(gzip -dc "$page" | grep -m1 '^\.TH') ;; *) th=$(grep -m1 '^\.TH' "$page") ;; esac
  grep -q -F "\"ferry $version\"" <<<"$th" || fail "$(basename "$page"): '$th' does not name ferry $version"
done

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
  if grep -q 'pkg-config --cflags --libs libuv' <<<"$extra" &&
     { ! pkg-config --exists libuv ||
       ! echo 'int main(void) { return 0; }' | cc -x c - $(pkg-config --libs libuv) -o "$tmp/uv_probe" 2>/dev/null; }; then
    echo "$(basename "$ex"): libuv not installed (for this target), not compiled"; continue
  fi
  # shellcheck disable=SC2086 # $extra holds the example's extra flags
  eval "cc -std=c11 -Wall -Wextra -Werror '$ex' $(pkg-config --cflags --libs ferry) $extra -o '$tmp/example'" ||
    fail "$(basename "$ex") does not compile on its own"
  n=$((n + 1))
done
echo "installed tree: headers, SONAME $so, pkg-config (shared, static), find_package, ferry-rtcheck, man pages, docs, $n examples: ok"
