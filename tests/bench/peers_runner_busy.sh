#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/bench-peers-run.sh --pin and --busy: the placement is named in the
# table's header, the table has its row, and the busy loop is gone once the
# runner is.
#   peers_runner_busy.sh RUNNER BINDIR OUTDIR
set -eu
runner=$1 bindir=$2 out=$3
rm -rf "$out"
if ! "$runner" "$bindir" --rounds 1 --n 4000 --filter '^spsc-b1-bounded$' --libs ferry,ring \
     --pin split --busy 0 --out "$out" >"$out.log" 2>&1; then
  cat "$out.log"; exit 1
fi
grep -q 'PEER_PIN=split, a busy loop on CPU 0' "$out/summary.md" ||
  { echo "the header does not name the placement:"; cat "$out/summary.md"; exit 1; }
grep -Eq '^\| spsc-b1-bounded \| [0-9.]+ \([0-9.]+\) \|' "$out/summary.md" ||
  { echo "no spsc-b1-bounded row:"; cat "$out/summary.md"; exit 1; }
sleep 0.2
# (The bracket keeps this command line from matching itself.)
if grep -qs 'ferry-peers-[b]usy' /proc/[0-9]*/cmdline; then
  echo "the busy loop outlived the runner"; exit 1
fi
echo ok
