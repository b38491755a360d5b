#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-peers: build the channel peer suite and run it (issue 16).
#   scripts/bench-peers.sh [runner options]     e.g. --quick, --rounds 7, --filter 'b1-'
# 1. installs what it needs (scripts/deps.sh build bench: the peer libraries,
#    Debian's cargo/rustc and crate sources, golang-go, gnuplot);
# 2. builds the C/C++ binaries (cmake target bench_peers, Release, in
#    build/release) and the Rust and Go ones (bench/peers/build.sh), all
#    static, and gathers them in build/peers/bin/;
# 3. runs scripts/bench-peers-run.sh build/peers/bin with the options given
#    (results in build/peers/results/: summary.md, raw.txt, plot.dat);
# 4. plots (bench/peers/plot.sh) to build/peers/results/peers.png and, for a
#    full run (no --quick, --filter, --libs, --n), to docs/peers.png, the plot
#    docs/performance.md shows.
# build/peers/bin can be carried to a machine without toolchains and run
# there with scripts/bench-peers-run.sh alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build bench
jobs=$(nproc); [ "$jobs" -gt 2 ] || jobs=2
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$jobs" --target bench_peers >/dev/null
rm -rf build/peers/bin
mkdir -p build/peers/bin
cp build/release/bench-peers/* build/peers/bin/
bench/peers/build.sh build/peers/bin build/peers/work
for b in build/peers/bin/*; do
  if ! file -b "$b" | grep -Eq 'statically linked|static-pie linked'; then
    echo "bench-peers: $b is not static (it will not run on a machine without the libraries)" >&2
  fi
done
echo "bench-peers: binaries in build/peers/bin: $(cd build/peers/bin && echo *)"

full=1
for a in "$@"; do case "$a" in --quick|--filter|--libs|--n) full=0 ;; esac; done
rm -rf build/peers/results
status=0
scripts/bench-peers-run.sh build/peers/bin --out build/peers/results "$@" || status=$?
if [ -s build/peers/results/plot.dat ]; then
  loads=$(awk '/^# load round/ { for (i = 1; i <= NF; i++) if ($i == "before" || $i == "after") print $(i + 1) }' \
            build/peers/results/raw.txt | sort -n | sed -n '1p;$p' | tr '\n' ' ')
  title="ferry against its peers, $(nproc) CPUs, $(date -u +%Y-%m-%d), load average $(echo $loads | sed 's/ /-/')"
  bench/peers/plot.sh build/peers/results/plot.dat build/peers/results/peers.png "$title"
  echo "bench-peers: plot in build/peers/results/peers.png"
  if [ $full = 1 ] && [ $status = 0 ]; then
    cp build/peers/results/peers.png docs/peers.png
    echo "bench-peers: docs/peers.png updated (a full run)"
  fi
fi
exit $status
