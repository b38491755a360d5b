#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the grace-period model with spin: the two-phase algorithm with the
# quick path must hold (no errors); the single-flip variant and the variant
# whose quick check precedes the publication must fail (an assertion
# violation each).
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
run quick_before_publish -DQUICK_BEFORE_PUBLISH

ok=1
grep -q "errors: 0" out_two_phase || { echo "FAIL: two-phase grace period violates safety"; ok=0; }
for bad in single_flip quick_before_publish; do
    if grep -q "errors: 0" "out_$bad" || ! grep -q "assertion violated" "out_$bad"; then
        echo "FAIL: spin found no violation in the $bad variant"; ok=0
    fi
done
[ $ok = 1 ] && echo "PASS: two-phase safe, single flip unsafe, quick check before publish unsafe"
[ $ok = 1 ]
