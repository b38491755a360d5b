#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the peer suite's ferry binary (chan_ferry, static, Release) from another
# git revision, to run beside the current one in the same rounds:
#   scripts/bench-peers-at.sh REV OUTFILE
#   scripts/bench-peers-run.sh build/peers/bin --extra before=OUTFILE ...
# The revision's tree is exported with `git archive` into a temporary directory
# (the work tree and its branches are not touched) and built there; REV is
# anything git names a commit by (a hash, a tag, main~3). Revisions from
# before the peer suite (it has no peer_chan_ferry target) are refused by the
# build with cmake's message.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 REV OUTFILE" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$top" rev-parse --verify --quiet "$1^{commit}") ||
  { echo "bench-peers-at: '$1' names no commit here" >&2; exit 2; }
out=$2
[ -d "$(dirname "$out")" ] || { echo "bench-peers-at: no directory for $out" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
git -C "$top" archive "$rev" | tar -x -C "$tmp/src"
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF \
  -DFERRY_BUILD_DUPES=OFF -DFERRY_BUILD_EXAMPLES=OFF >"$tmp/log" 2>&1 &&
  cmake --build "$tmp/build" -j "$(nproc)" --target peer_chan_ferry >>"$tmp/log" 2>&1 ||
  { tail -20 "$tmp/log" >&2; echo "bench-peers-at: building chan_ferry at $1 failed" >&2; exit 1; }
cp "$tmp/build/bench-peers/chan_ferry" "$out"
echo "bench-peers-at: $out is chan_ferry at $(git -C "$top" log -1 --format='%h %s' "$rev" | cut -c1-80)"
