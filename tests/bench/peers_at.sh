#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/bench-peers-at.sh: refuses a name that is no commit, and builds a
# chan_ferry from HEAD that moves items. Skipped (77) outside a git checkout
# (a release tarball).
#   peers_at.sh SCRIPT OUTDIR
set -eu
script=$1 out=$2
top=$(cd "$(dirname "$script")/.." && pwd)
git -C "$top" rev-parse --verify --quiet HEAD >/dev/null 2>&1 || { echo "not a git checkout: skipped"; exit 77; }
mkdir -p "$out"
if "$script" no-such-revision-here "$out/x" 2>"$out/err"; then
  echo "a name that is no commit was accepted"; exit 1
fi
grep -q "names no commit" "$out/err" || { echo "no message:"; cat "$out/err"; exit 1; }
"$script" HEAD "$out/chan_ferry_head"
line=$("$out/chan_ferry_head" 2 2 1 64 20000)
case "$line" in "RESULT "*" 20000") echo ok ;; *) echo "unexpected: $line"; exit 1 ;; esac
