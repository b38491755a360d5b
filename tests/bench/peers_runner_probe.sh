#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/bench-peers-run.sh and handoff_probe: every run's line in raw.txt
# ends with the probes before and after it (ns, or "-" where fewer than two
# CPUs can be pinned), and the summary has the probe line; --no-probe
# leaves them out. The binaries are reached through a directory whose name
# has a space (a path the runner must keep in one piece).
#   peers_runner_probe.sh RUNNER BINDIR OUTDIR
set -eu
runner=$1 out=$3
rm -rf "$out" "$out.bins"
mkdir -p "$out.bins"
ln -s "$(cd "$2" && pwd)" "$out.bins/bin dir"
bindir="$out.bins/bin dir"
run() {
  "$runner" "$bindir" --rounds 2 --n 4000 --filter '^spsc-b1-bounded$' --libs ferry,ring --out "$out" "$@" \
    >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
}
run
runs=$(grep -c '^[0-9]' "$out/raw.txt")
[ "$runs" -eq 4 ] || { echo "want 4 runs:"; cat "$out/raw.txt"; exit 1; }
if [ "$("$bindir/handoff_probe" 1)" = "PROBE -" ]; then
  want='^[0-9]+ spsc-b1-bounded (ferry|ring) [0-9.]+ 4000 [0-9.]+ - -$'
else
  want='^[0-9]+ spsc-b1-bounded (ferry|ring) [0-9.]+ 4000 [0-9.]+ [0-9]+\.[0-9] [0-9]+\.[0-9]$'
  grep -q '^Handoff probe (ns per round trip, 8 probes): smallest' "$out/summary.md" ||
    { echo "no probe line:"; cat "$out/summary.md"; exit 1; }
fi
[ "$(grep -Ec "$want" "$out/raw.txt")" -eq 4 ] || { echo "runs without their probes:"; cat "$out/raw.txt"; exit 1; }
run --no-probe
[ "$(grep -Ec '^[0-9]+ spsc-b1-bounded (ferry|ring) [0-9.]+ 4000 [0-9.]+ - -$' "$out/raw.txt")" -eq 4 ] ||
  { echo "--no-probe: probes in raw.txt:"; cat "$out/raw.txt"; exit 1; }
if grep -q 'Handoff probe' "$out/summary.md"; then echo "--no-probe: a probe line"; exit 1; fi
echo ok
