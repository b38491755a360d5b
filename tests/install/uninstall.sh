#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install PREFIX=DIR installs under DIR (prefix=DIR too; without it the
# configured prefix), and make uninstall (scripts/uninstall.sh) takes back
# what make install put in place and nothing else; as root, make install
# (not under DESTDIR) and make uninstall run ldconfig (a stand-in here). The
# make commands are taken from `make -n` and run in a directory whose
# build/release is this build (a real make would configure and build it
# first) and whose build/installed-files.txt is the test's own:
#   - into a prefix, named with a space, that already holds other files
#     (include/other.h, a library, a file of the user's in share/doc/ferry):
#     after the uninstall only those are left, ferry's own directories are
#     gone unless they hold something of the user's, the shared ones (lib,
#     share/man/man3) stay;
#   - another `cmake --install` of the tree in between (as the tests do from
#     build/release, rewriting its install_manifest.txt) changes nothing;
#   - again: nothing left to remove, and it still succeeds;
#   - an install staged under DESTDIR is taken back too;
#   - nothing installed: a clear error.
# It runs alone (RUN_SERIAL): make install reads the install_manifest.txt
# that every install from the tree rewrites.
#   uninstall.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/work/build"
ln -s "$(cd "$build" && pwd)" "$tmp/work/build/release"
ln -s "$src/scripts" "$tmp/work/scripts"
list="$tmp/work/build/installed-files.txt"
mk() {   # mk ARG...: the commands of the last target `make ARG...` would run
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -n --no-print-directory -C "$src" "$@" |
    sed -n '/^cmake --install\|^scripts\/uninstall/,$p'
}
p="$tmp/my prefix"
for v in PREFIX prefix; do
  line=$(mk install "$v=$p" | head -n 1)
  [ "$line" = "cmake --install build/release --prefix \"$p\"" ] || { echo "make install $v=DIR runs: $line"; exit 1; }
done
line=$(unset PREFIX prefix; mk install | head -n 1)
[[ $line =~ ^cmake\ --install\ build/release\ *$ ]] || { echo "make install runs: $line"; exit 1; }
install_recipe=$(mk install PREFIX="$p")
uninstall_recipe=$(mk uninstall)
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
ldconfig_runs() {   # ldconfig_runs COMMANDS [VAR=VALUE...]: prints how often they ran ldconfig
  rm -f "$tmp/ldconfig.calls"
  recipe "$@" >"$tmp/recipe.out" || { cat "$tmp/recipe.out" >&2; echo "failed: $1" >&2; exit 1; }
  if [ -f "$tmp/ldconfig.calls" ]; then wc -l <"$tmp/ldconfig.calls"; else echo 0; fi
}
# Only the ldconfig step, as another user and under DESTDIR.
ldconfig_step=$(grep ldconfig <<<"$install_recipe" || true)
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
[ -f "$p/include/ferry/chan.h" ] || { echo "make install put no include/ferry/chan.h in $p"; exit 1; }
n=$(grep -c . "$list" || true)
[ "$n" -gt 20 ] || { echo "make install listed $n files in build/installed-files.txt"; exit 1; }
# Never let the uninstall loose on a list that is not this test's install.
bad=$(grep -v -F "$p/" "$list" || true)
[ -z "$bad" ] || { echo "build/installed-files.txt names paths outside $p:"; head -n 3 <<<"$bad"; exit 1; }

cmake --install "$build" --prefix "$tmp/other" >/dev/null   # rewrites install_manifest.txt
[ "$(ldconfig_runs "$uninstall_recipe")" = 1 ] || { echo "make uninstall as root: ldconfig not run once"; exit 1; }
grep -q "removed $n file" "$tmp/recipe.out" || { cat "$tmp/recipe.out"; echo "uninstall did not remove the $n files"; exit 1; }
( cd "$p" && find . \( -type f -o -type l \) | sort ) >"$tmp/after"
diff "$tmp/before" "$tmp/after" || { echo "after uninstall, the prefix holds other files than before it (diff above)"; exit 1; }
for d in include/ferry lib/ferry lib/cmake/ferry share/doc/ferry/docs share/doc/ferry/examples; do
  [ ! -e "$p/$d" ] || { echo "uninstall left $d"; exit 1; }
done
for d in lib share/man/man3 share/doc/ferry; do
  [ -d "$p/$d" ] || { echo "uninstall removed $d, which is not ferry's alone"; exit 1; }
done
[ -f "$tmp/other/include/ferry/chan.h" ] || { echo "uninstall removed what another cmake --install put elsewhere"; exit 1; }

[ "$(ldconfig_runs "$uninstall_recipe")" = 0 ] || { echo "a second make uninstall ran ldconfig"; exit 1; }
grep -q 'removed 0 file' "$tmp/recipe.out" || { cat "$tmp/recipe.out"; echo "a second uninstall removed something"; exit 1; }

[ "$(ldconfig_runs "$(mk install PREFIX=/usr)" DESTDIR="$tmp/stage")" = 0 ] ||
  { echo "make install DESTDIR=... ran ldconfig"; exit 1; }
[ -n "$(find "$tmp/stage" -type f)" ] || { echo "nothing staged under DESTDIR"; exit 1; }
bad=$(grep -v -F "$tmp/stage/usr/" "$list" || true)
[ -z "$bad" ] || { echo "build/installed-files.txt names paths outside the DESTDIR:"; head -n 3 <<<"$bad"; exit 1; }
ldconfig_runs "$uninstall_recipe" FAKE_UID=1000 >/dev/null
left=$(find "$tmp/stage" \( -type f -o -type l \))
[ -z "$left" ] || { echo "uninstall of a DESTDIR install left:"; head -n 5 <<<"$left"; exit 1; }

rm "$list"
if recipe "$uninstall_recipe" 2>"$tmp/err" >/dev/null; then echo "make uninstall with nothing installed succeeded"; exit 1; fi
grep -q 'nothing was installed' "$tmp/err" || { cat "$tmp/err"; echo "its error does not say why"; exit 1; }
echo "make install PREFIX=DIR, make uninstall: $n installed files removed, the prefix's other files kept, another install in between, twice, under DESTDIR; ldconfig as root only: ok"
