#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every file of the project carries an SPDX license line near its top.
#
#   scripts/spdx.sh --check   list the files without one; exit 1 if any
#   scripts/spdx.sh --fix     add the line where it is missing (idempotent)
#   scripts/spdx.sh --list    print the files it covers and their comment style
#
# The files are those tracked by git (every file under the tree when it is
# not a git checkout, build trees aside) that are source, header, script, CMake,
# Makefile, Markdown, manual page or model text; data (JSON, CSV, test
# corpora, the stored ABI in abi/, LICENSE itself) is left alone. The line
# goes first, or right after a "#!" line:
#   C, C++, Promela, linker scripts   /* SPDX-License-Identifier: MIT */
#   shell, Perl, CMake, Makefile, ... # SPDX-License-Identifier: MIT
#   Markdown                          <!-- SPDX-License-Identifier: MIT -->
#   manual pages (roff)               .\" SPDX-License-Identifier: MIT
#   Go, Rust                          // SPDX-License-Identifier: MIT
#   SQL                               -- SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."
id="SPDX-License-Identifier: MIT"
mode=${1:-}

files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files
  else
    # A release tarball: every file but build trees (build/, or any directory
    # with a CMakeCache.txt, such as a packager's obj-ARCH/) and .git.
    find . \( -path ./build -o -path ./.git \) -prune -o \
      -type d -exec test -e '{}/CMakeCache.txt' ';' -prune -o -type f -print | sed 's|^\./||'
  fi
}

# The comment style of a file, or nothing for files that are data.
style() {
  local f=$1
  case "/$f" in
    */abi/* | */corpus/* | */corpora/* | */testdata/* | */third_party/* | */vendor/*) return ;;
  esac
  case "$f" in
    CMakeLists.txt | */CMakeLists.txt) echo hash ;;
    LICENSE | */LICENSE | *.json | *.csv | *.txt | *.abi | *.svg | *.png | *.gitignore) return ;;
    *.c | *.h | *.cpp | *.hpp | *.cc | *.h.in | *.pml | *.map | *.map.in | *.ld) echo c ;;
    *.md) echo md ;;
    *.[1-8]) echo roff ;;
    *.go | *.rs) echo slash ;;
    *.sql) echo sql ;;
    *.cmake | *.cmake.in | *.sh | *.pl | *.py | *.awk | \
    Makefile | */Makefile | *.mk | *.pc.in | *.toml | *.yml | *.yaml | *.gp | *.plt) echo hash ;;
    *) if [ -f "$f" ] && head -c2 "$f" | grep -q '^#!'; then echo hash; fi ;;
  esac
}

line_for() {
  case "$1" in
    c) echo "/* $id */" ;;
    md) echo "<!-- $id -->" ;;
    roff) echo ".\\\" $id" ;;
    slash) echo "// $id" ;;
    sql) echo "-- $id" ;;
    hash) echo "# $id" ;;
  esac
}

has_id() { head -n 3 "$1" | grep -q "SPDX-License-Identifier:"; }

case "$mode" in
--check | --fix | --list) ;;
*) echo "usage: scripts/spdx.sh --check | --fix | --list" >&2; exit 2 ;;
esac

missing=0 fixed=0 total=0
while IFS= read -r f; do
  [ -f "$f" ] || continue
  s=$(style "$f")
  [ -n "$s" ] || continue
  total=$((total + 1))
  if [ "$mode" = --list ]; then echo "$s $f"; continue; fi
  has_id "$f" && continue
  if [ "$mode" = --check ]; then
    echo "no SPDX line: $f"; missing=$((missing + 1)); continue
  fi
  line=$(line_for "$s")
  tmp=$(mktemp)
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } > "$tmp"
  else
    { echo "$line"; cat "$f"; } > "$tmp"
  fi
  cat "$tmp" > "$f"   # keeps the file's mode
  rm -f "$tmp"
  fixed=$((fixed + 1))
done < <(files)

case "$mode" in
--check)
  if [ $missing -gt 0 ]; then
    echo "spdx: $missing of $total files lack '$id' (scripts/spdx.sh --fix adds it)"; exit 1
  fi
  echo "spdx: all $total files carry '$id'" ;;
--fix) echo "spdx: added the line to $fixed of $total files" ;;
esac
