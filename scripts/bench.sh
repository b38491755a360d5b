#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: every benchmark at full size, peers included.
# Arguments are passed to each benchmark (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build bench
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null
echo "# $(date -u +%Y-%m-%d) $(uname -m) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for b in build/release/bench/*; do
  [ -x "$b" ] || continue
  echo "## $(basename "$b")"
  "$b" "$@"
done
# ferry-dupes against jdupes, rdfind, fdupes and rmlint on /usr (bench/dupes.sh;
# about 20 minutes, or 2 with --quick).
echo "## dupes"
if [[ " $* " == *" --quick "* ]]; then
  ROUNDS=1 MODES="warm index memory" bench/dupes.sh
else
  bench/dupes.sh
fi
