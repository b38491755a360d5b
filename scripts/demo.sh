#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's main command (make demo): build ferry-dupes, then run it twice
# on /usr/share (about 70,000 files on a Debian machine): first with a new
# index -- it reads what it must -- then again from that index, which reads
# only what changed. Prints both times, each run's summary line and the
# largest groups.
#   scripts/demo.sh [TREE]        (default /usr/share)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
# CC and CXX, when set (make demo CC=clang), choose the compilers even where
# build/release was configured with others, as for a plain make.
# A compiler with arguments (CC="gcc -m32") goes as CMake's list "gcc;-m32".
compilers=()
as_list() { local w; read -ra w <<<"$1"; local IFS=';'; echo "${w[*]}"; }
if [ -n "${CC:-}" ]; then compilers+=(-DCMAKE_C_COMPILER="$(as_list "$CC")"); fi
if [ -n "${CXX:-}" ]; then compilers+=(-DCMAKE_CXX_COMPILER="$(as_list "$CXX")"); fi
scripts/configure.sh . build/release -DCMAKE_BUILD_TYPE=Release "${compilers[@]}" >/dev/null
cmake --build build/release -j "$(nproc)" --target ferry-dupes >/dev/null
tree=${1:-/usr/share}
bin=build/release/apps/ferry-dupes
dir=build/release/demo
mkdir -p "$dir"
db=$dir/index.db
rm -f "$db" "$db-wal" "$db-shm"

run() { # prints the milliseconds the run took; the groups go to $dir/groups.txt
  local t0 t1
  t0=$(date +%s%N)
  "$bin" --db "$db" "$tree" > "$dir/groups.txt"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}

echo "== ferry-dupes --db $db $tree    (a new index)"
first=$(run)
echo "== ferry-dupes --db $db $tree    (again: from the index)"
second=$(run)
echo
echo "== the largest groups (all of them: $dir/groups.txt)"
awk 'NR > 1 && /^[0-9]+ files, / { if (++g > 5) exit } { print }' "$dir/groups.txt"
echo
printf 'first run %d.%03d s, re-run from the index %d.%03d s\n' \
  $((first / 1000)) $((first % 1000)) $((second / 1000)) $((second % 1000))
