#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/peers/summary.awk on a made-up raw.txt whose answer is known: the
# medians and worst rounds, ferry's ratios to the best peer (an extra ferry
# build is never a peer), each run's machine state from the probes around it
# (fast: both within 2x the smallest probe; slow: both above; mixed), the
# comparisons within one state, the probe line; and no state columns when
# nothing was probed.
#   peers_summary.sh SUMMARY_AWK WORKDIR
set -eu
awkf=$1 dir=$2
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "$1"; echo "--- summary:"; cat "$dir/out"; exit 1; }

cat >"$dir/raw.txt" <<'RAW'
# ferry peer suite, made up
# round case lib seconds items Mitems/s probe-before-ns probe-after-ns
1 x-b1-bounded ferry 1 100 100.000 50 52
2 x-b1-bounded ferry 1 90 90.000 55 60
3 x-b1-bounded ferry 1 20 20.000 300 320
4 x-b1-bounded ferry 1 70 70.000 60 250
1 x-b1-bounded crossbeam 1 50 50.000 50 51
2 x-b1-bounded crossbeam 1 50 50.000 52 53
3 x-b1-bounded crossbeam 1 40 40.000 310 305
1 x-b1-bounded before 1 500 500.000 51 51
# load round 1: before 0.1 0.1 0.1, after 0.2 0.2 0.2, 1 s
RAW
awk -v plot="$dir/plot.dat" -v extras=" before" -f "$awkf" "$dir/raw.txt" >"$dir/out"
row='| x-b1-bounded | 80.0 (20.0) | 50.0 (40.0) | - | - | - | - | 500.0 (500.0) | crossbeam 50.0 | 1.60 | 0.40 | 0.16 | 2/1 of 8 | 1.90, 1.80 | 0.50 |'
grep -qxF "$row" "$dir/out" || fail "want the row: $row"
grep -qF 'Handoff probe (ns per round trip, 16 probes): smallest 50.0, median 54.0, largest 320.0; runs fast 5, slow 2, mixed 1.' "$dir/out" ||
  fail "no or a wrong probe line"
grep -q 'slow/mixed runs' "$dir/out" || fail "no state columns"

# Nothing probed: the table without the state columns, no probe line.
sed "s/ [0-9]* [0-9]*\$/ - -/" "$dir/raw.txt" >"$dir/raw2.txt"
awk -v plot="$dir/plot2.dat" -v extras="" -f "$awkf" "$dir/raw2.txt" >"$dir/out"
grep -qxF '| x-b1-bounded | 80.0 (20.0) | 50.0 (40.0) | - | - | - | - | crossbeam 50.0 | 1.60 | 0.40 |' "$dir/out" ||
  fail "want the row without state columns"
if grep -q 'Handoff probe\|slow/mixed' "$dir/out"; then fail "state columns without probes"; fi
echo ok
