#!/bin/sh
# SPDX-License-Identifier: MIT
# The channel fuzzer's test run (torture.fuzz.chan): run every input of the
# corpus, then fuzz for SECONDS more with a fixed seed. New inputs go to
# WORK/new, never into the repository. Any crash, leak, hang (10 s for one
# input) or mismatch with the model fails it; the input is then left in WORK
# (crash-*, leak-*, timeout-*) and the fuzzer's report is printed.
# Usage: tests/fuzz/run.sh FUZZER CORPUS WORK SECONDS
set -eu
fuzzer=$1 corpus=$2 work=$3 secs=$4
rm -rf "$work/new"
mkdir -p "$work/new"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*
log="$work/fuzz.log"
echo "chan_fuzz: $(ls "$corpus" | wc -l) corpus inputs, then ${secs}s of fuzzing (seed 1)"
rc=0
"$fuzzer" -seed=1 -max_total_time="$secs" -timeout=10 -max_len=1024 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" -print_final_stats=1 "$work/new" "$corpus" >"$log" 2>&1 || rc=$?
# Absurd sizes make ASan warn that it returned NULL (the point of the test):
# leave those lines out of what is shown.
if [ "$rc" != 0 ]; then
    grep -v "failed to allocate" "$log" | tail -n 80
    echo "chan_fuzz: FAILED (exit $rc); the input is in $work"
    exit 1
fi
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
echo "chan_fuzz: PASS"
