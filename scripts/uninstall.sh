#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install and make uninstall keep a list of what make install put in
# place, build/installed-files.txt: every install adds to it (the paths of
# CMake's BUILD/install_manifest.txt, under DESTDIR when one was given), and
# make uninstall removes what it lists, wherever it went (several --prefix,
# DESTDIR), then empties it. Not CMake's manifest itself: every
# `cmake --install` of the tree rewrites that one (the tests install into
# temporary prefixes from build/release), so after `sudo make install` then
# `make test` it would no longer name /usr/local.
#   scripts/uninstall.sh --record MANIFEST LIST   (make install) add MANIFEST's paths to LIST
#   scripts/uninstall.sh LIST                     (make uninstall) remove what LIST names
# Removing: a file already gone is fine; running it twice removes nothing the
# second time. Then ferry's own directories that are now empty go
# (include/ferry, lib/cmake/ferry, lib/ferry, share/doc/ferry and those below
# it); shared ones (lib, share/man/man3, the prefix) stay, even when empty.
# As root, it then runs ldconfig, as make install does. Packages (make
# package) are removed with the package manager instead.
set -euo pipefail

if [ "${1:-}" = --record ]; then
  [ $# = 3 ] || { echo "usage: uninstall.sh --record MANIFEST LIST" >&2; exit 2; }
  manifest=$2 list=$3
  [ -f "$manifest" ] || { echo "uninstall.sh: no $manifest: nothing installed to record" >&2; exit 1; }
  mkdir -p -- "$(dirname -- "$list")"
  # CMake lists the paths without DESTDIR.
  { [ ! -f "$list" ] || cat -- "$list"; sed "/^\$/d; s|^|${DESTDIR:-}|" -- "$manifest"; } | sort -u >"$list.new"
  mv -- "$list.new" "$list"
  exit 0
fi

[ $# = 1 ] || { echo "usage: uninstall.sh LIST" >&2; exit 2; }
list=$1
if [ ! -f "$list" ]; then
  echo "uninstall: no $list: nothing was installed with make install from this tree" >&2
  exit 1
fi
removed=0 dirs=()
while IFS= read -r f || [ -n "$f" ]; do
  [ -n "$f" ] || continue
  case $f in /*) ;; *) echo "uninstall: $list: not an absolute path: $f" >&2; exit 1 ;; esac
  if [ -L "$f" ] || [ -f "$f" ]; then
    rm -f -- "$f"
    removed=$((removed + 1))
  fi
  dirs+=("$(dirname -- "$f")")
done <"$list"
: >"$list"
# Deepest first: a directory is removed when it is empty and it is ferry's
# own: a "ferry" directory right under include, doc, cmake or a library
# directory (lib, lib64, lib/<triplet>), or one below such a directory.
# The prefix itself is never removed, whatever its name ($HOME/ferry).
own='(^|/)(include|doc|cmake|lib[^/]*|lib/[^/]+)/ferry(/|$)'
left=0
if [ ${#dirs[@]} -gt 0 ]; then
  while IFS= read -r d; do
    while [[ $d =~ $own ]] && [ -d "$d" ] && rmdir -- "$d" 2>/dev/null; do
      d=$(dirname -- "$d")
    done
  done < <(printf '%s\n' "${dirs[@]}" | sort -u -r)
  for d in "${dirs[@]}"; do if [[ $d =~ $own ]] && [ -d "$d" ]; then left=1; fi; done
fi
# As make install does: the loader's cache forgets the removed library.
if [ "$removed" != 0 ] && [ "$(id -u)" = 0 ]; then PATH="$PATH:/sbin:/usr/sbin" ldconfig; fi
echo "uninstall: removed $removed file(s) listed in $list"
[ $left = 0 ] || echo "uninstall: directories named for ferry that hold other files were kept"
