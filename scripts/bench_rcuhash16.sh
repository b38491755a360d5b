#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The hash-table benchmark for a 16-core machine: ferry_lfht against
# liburcu's cds_lfht with 1, 2, 4, 8 and 16 threads, both mixes, in one
# process (the static binary build/release/bench/rcuhash, which needs
# nothing installed). About 2 minutes on 16 cores.
#   scripts/bench_rcuhash16.sh [path/to/rcuhash]
set -euo pipefail
bin=${1:-$(dirname "$0")/../build/release/bench/rcuhash}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $(nproc) cores:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
# 2^20 keys (half present): a table larger than the caches, as real ones are;
# 1M operations per thread per round, 5 rounds per case.
"$bin" --threads 1,2,4,8,16 --keys 1048576 --ops 1000000 --rounds 5
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
