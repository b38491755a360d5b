#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install PREFIX=DIR installs under DIR (prefix=DIR too; without it the
# configured prefix), and make uninstall (scripts/uninstall.sh) takes back
# what an install put in place and nothing else; as root, and not under
# DESTDIR, both then run ldconfig (a stand-in here). The make commands are
# taken from `make -n` and run in a directory whose build/release is this
# build (a real make would configure and build build/release first):
#   - into a prefix, named with a space, that already holds other files (include/other.h, a
#     library, a file of the user's in share/doc/ferry): after the uninstall
#     only those are left, ferry's own directories are gone unless they hold
#     something of the user's, the shared ones (lib, share/man/man3) stay;
#   - again: nothing left to remove, and it still succeeds;
#   - an install staged under DESTDIR is taken back the same way;
#   - a build tree that installed nothing: a clear error.
# It reads BUILD_DIR/install_manifest.txt, which every install from the tree
# rewrites: the test runs alone (RUN_SERIAL).
#   uninstall.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
un="$src/scripts/uninstall.sh"
mkdir -p "$tmp/work/build"
ln -s "$(cd "$build" && pwd)" "$tmp/work/build/release"
ln -s "$src/scripts" "$tmp/work/scripts"
mk() {   # mk ARG...: the commands of the last target `make ARG...` would run
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -n --no-print-directory -C "$src" "$@" |
    sed -n '/^cmake --install\|^scripts\/uninstall/,$p'
}
p="$tmp/my prefix"
line=$(mk install PREFIX="$p" | head -n 1)
[ "$line" = "cmake --install build/release --prefix \"$p\"" ] || { echo "make install PREFIX=DIR runs: $line"; exit 1; }
line=$(mk install prefix="$p" | head -n 1)
[ "$line" = "cmake --install build/release --prefix \"$p\"" ] || { echo "make install prefix=DIR runs: $line"; exit 1; }
line=$(unset PREFIX prefix; mk install | head -n 1)
[[ $line =~ ^cmake\ --install\ build/release\ *$ ]] || { echo "make install runs: $line"; exit 1; }
install_recipe=$(mk install PREFIX="$p")
uninstall_recipe=$(mk uninstall)
[ "$uninstall_recipe" = "scripts/uninstall.sh build/release" ] || { echo "make uninstall runs: $uninstall_recipe"; exit 1; }
# ldconfig and id stand-ins: which user the recipes think they run as, and
# whether they ran ldconfig (the real one would rebuild this machine's cache).
mkdir "$tmp/fake"
printf '#!/bin/sh\necho "${FAKE_UID:-0}"\n' >"$tmp/fake/id"
printf '#!/bin/sh\necho called >>"%s"\n' "$tmp/ldconfig.calls" >"$tmp/fake/ldconfig"
chmod +x "$tmp/fake/id" "$tmp/fake/ldconfig"
recipe() {   # recipe COMMANDS [VAR=VALUE...]: run them as make would, in the work directory
  local cmds=$1; shift
  (cd "$tmp/work" && env PATH="$tmp/fake:$PATH" "$@" bash -ec "$cmds")
}
ldconfig_runs() {   # ldconfig_runs COMMANDS [VAR=VALUE...]: prints how often they run ldconfig
  rm -f "$tmp/ldconfig.calls"
  recipe "$@" >/dev/null
  if [ -f "$tmp/ldconfig.calls" ]; then wc -l <"$tmp/ldconfig.calls"; else echo 0; fi
}
# Only the ldconfig step, as another user and under DESTDIR (the install
# itself is run for real below).
ldconfig_step=$(grep -v '^cmake --install' <<<"$install_recipe" || true)
[ "$(ldconfig_runs "$ldconfig_step")" = 1 ] || { echo "make install as root does not run ldconfig: $install_recipe"; exit 1; }
[ "$(ldconfig_runs "$ldconfig_step" FAKE_UID=1000)" = 0 ] || { echo "make install as a user runs ldconfig"; exit 1; }
[ "$(ldconfig_runs "$ldconfig_step" DESTDIR="$tmp/x")" = 0 ] || { echo "make install DESTDIR=... runs ldconfig"; exit 1; }
mkdir -p "$p/include" "$p/lib" "$p/share/doc/ferry"
echo '/* not ferry */' >"$p/include/other.h"
echo 'not ferry' >"$p/lib/libother.so.1"
ln -s libother.so.1 "$p/lib/libother.so"
echo 'my notes' >"$p/share/doc/ferry/notes.txt"
( cd "$p" && find . \( -type f -o -type l \) | sort ) >"$tmp/before"

[ "$(ldconfig_runs "$install_recipe")" = 1 ] || { echo "make install PREFIX=DIR as root: ldconfig not run once"; exit 1; }
n=$(grep -c . "$build/install_manifest.txt")
[ "$n" -gt 20 ] || { echo "install_manifest.txt lists $n files"; exit 1; }
[ -f "$p/include/ferry/chan.h" ] || { echo "the install put no include/ferry/chan.h in $p"; exit 1; }
# Never let the uninstall loose on a list that is not this test's install.
only_under() {   # only_under DIR: every path in the manifest is under DIR
  local bad; bad=$(grep -v -F "$1/" "$build/install_manifest.txt" | grep . || true)
  [ -z "$bad" ] || { echo "install_manifest.txt lists paths outside $1:"; head -n 3 <<<"$bad"; exit 1; }
}
only_under "$p"
rm -f "$tmp/ldconfig.calls"
recipe "$uninstall_recipe" >"$tmp/out" || { cat "$tmp/out"; echo "uninstall failed"; exit 1; }
[ "$(cat "$tmp/ldconfig.calls" 2>/dev/null)" = called ] || { echo "make uninstall as root did not run ldconfig once"; exit 1; }
grep -q "removed $n file" "$tmp/out" || { cat "$tmp/out"; echo "uninstall did not remove the $n files"; exit 1; }
( cd "$p" && find . \( -type f -o -type l \) | sort ) >"$tmp/after"
diff "$tmp/before" "$tmp/after" || { echo "after uninstall, the prefix holds other files than before it (diff above)"; exit 1; }
for d in include/ferry lib/ferry lib/cmake/ferry share/doc/ferry/docs share/doc/ferry/examples; do
  [ ! -e "$p/$d" ] || { echo "uninstall left $d"; exit 1; }
done
for d in lib share/man/man3 share/doc/ferry; do
  [ -d "$p/$d" ] || { echo "uninstall removed $d, which is not ferry's alone"; exit 1; }
done

only_under "$p"
recipe "$uninstall_recipe" >"$tmp/out2" || { cat "$tmp/out2"; echo "a second uninstall failed"; exit 1; }
grep -q 'removed 0 file' "$tmp/out2" || { cat "$tmp/out2"; echo "a second uninstall removed something"; exit 1; }

[ "$(ldconfig_runs "$(mk install PREFIX=/usr)" DESTDIR="$tmp/stage")" = 0 ] ||
  { echo "make install DESTDIR=... ran ldconfig"; exit 1; }
[ -n "$(find "$tmp/stage" -type f)" ] || { echo "nothing staged under DESTDIR"; exit 1; }
only_under /usr
[ "$(ldconfig_runs "$uninstall_recipe" DESTDIR="$tmp/stage")" = 0 ] ||
  { echo "make uninstall DESTDIR=... ran ldconfig"; exit 1; }
left=$(find "$tmp/stage" \( -type f -o -type l \))
[ -z "$left" ] || { echo "uninstall of a DESTDIR install left:"; head -n 5 <<<"$left"; exit 1; }

mkdir "$tmp/empty_build"
if recipe "$un $tmp/empty_build" 2>"$tmp/err"; then echo "uninstall from a tree that installed nothing succeeded"; exit 1; fi
grep -q 'nothing was installed' "$tmp/err" || { cat "$tmp/err"; echo "its error does not say why"; exit 1; }
echo "make install PREFIX=DIR, make uninstall: $n installed files removed, the prefix's other files kept, twice, under DESTDIR; ldconfig as root only, not under DESTDIR: ok"
