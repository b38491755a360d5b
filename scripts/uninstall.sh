#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make uninstall: remove what the last install from a build tree put in
# place (`make install`, or `cmake --install BUILD` with any --prefix), as
# CMake listed it in BUILD/install_manifest.txt. An install staged under
# DESTDIR is taken back with the same DESTDIR (CMake lists the paths
# without it: without DESTDIR this would remove them from the system). Then removes
# ferry's own directories that are now empty (include/ferry, lib/cmake/ferry,
# lib/ferry, share/doc/ferry and those below it); shared ones (lib,
# share/man/man3, the prefix) stay, even when empty. A file already gone is
# fine; running it twice removes nothing the second time. As root, and not
# under DESTDIR, it then runs ldconfig, as make install does. Packages (make
# package) are removed with the package manager instead.
#   scripts/uninstall.sh [BUILD_DIR]      (default build/release)
set -euo pipefail
build=${1:-build/release}
manifest=$build/install_manifest.txt
if [ ! -f "$manifest" ]; then
  echo "uninstall: no $manifest: nothing was installed from $build (make install writes it)" >&2
  exit 1
fi
removed=0 dirs=()
while IFS= read -r f || [ -n "$f" ]; do
  [ -n "$f" ] || continue
  case $f in /*) ;; *) echo "uninstall: $manifest: not an absolute path: $f" >&2; exit 1 ;; esac
  # CMake lists the paths without DESTDIR: an install staged under DESTDIR
  # is taken back with the same DESTDIR.
  f=${DESTDIR:-}$f
  if [ -L "$f" ] || [ -f "$f" ]; then
    rm -f -- "$f"
    removed=$((removed + 1))
  fi
  dirs+=("$(dirname -- "$f")")
done <"$manifest"
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
if [ -z "${DESTDIR:-}" ] && [ "$(id -u)" = 0 ]; then PATH="$PATH:/sbin:/usr/sbin" ldconfig; fi
echo "uninstall: removed $removed file(s) listed in $manifest"
[ $left = 0 ] || echo "uninstall: directories named for ferry that hold other files were kept"
