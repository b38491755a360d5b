#!/bin/sh
# SPDX-License-Identifier: MIT
# RCU scaling run for a many-core machine (the 16-updater case): call
# throughput with 1..16 updater threads (default workers, then one worker
# per CPU) and synchronize with 1..16 updaters and no reader, ferry against
# liburcu in the same run, interleaved. Runs the static bench/rcu binary of
# a release build tree, so the machine needs no toolchain; under 3 minutes
# on 16 cores.
# Usage: bench/rcu_scaling.sh [BUILD_DIR]     (default: build/release)
set -eu
bin=${1:-build/release}/bench/rcu
[ -x "$bin" ] || { echo "rcu_scaling.sh: $bin not found (build the release tree first)" >&2; exit 2; }
echo "# $(uname -srm); $(nproc) CPUs online; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" --case call --threads 1,2,4,8,16 --rounds 5 --calls 500000
"$bin" --case uperf --threads 1,4,16 --rounds 5
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
