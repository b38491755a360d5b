#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the grace-period model with spin: the two-phase algorithm must hold
# (no errors) and the single-flip variant must fail (an assertion violation).
# Usage: models/check.sh [spin] [cc]
set -eu
SPIN=${1:-spin}
CC=${2:-cc}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

run() {   # name spin-flags...
    name=$1; shift
    "$SPIN" "$@" -a "$here/rcu_gp.pml" >/dev/null
    "$CC" -O1 -DSAFETY -o "pan_$name" pan.c
    "./pan_$name" -m100000 >"out_$name" 2>&1 || true
    grep -E "errors:|assertion violated|State-vector|states, stored" "out_$name" | sed "s/^/$name: /"
}

run two_phase
run single_flip -DSINGLE_FLIP

ok=1
grep -q "errors: 0" out_two_phase || { echo "FAIL: two-phase grace period violates safety"; ok=0; }
if grep -q "errors: 0" out_single_flip || ! grep -q "assertion violated" out_single_flip; then
    echo "FAIL: spin found no violation in the single-flip variant"; ok=0
fi
[ $ok = 1 ] && echo "PASS: two-phase safe, single flip unsafe"
[ $ok = 1 ]
