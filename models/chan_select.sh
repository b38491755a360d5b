#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the select claim models with spin: the protocol must hold
# (models/chan_select.pml: no errors, every outcome of the selector
# reached; models/chan_select_pair.pml: two selects across each other, no
# errors), and the broken variants must fail -- NO_OWN_CLAIM (a start that
# moves items without claiming its own case) with an assertion violation,
# STICKY_CLAIM (a claim left on a case whose take came up empty) with a
# select that sleeps forever, UNORDERED (pair claims not in address order)
# with a deadlock (both invalid end states) -- so that the models are known
# to be able to fail.
# Usage: models/chan_select.sh [spin] [cc]
set -eu
SPIN=${1:-spin}
CC=${2:-cc}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

run() {   # name model spin-flags...
    name=$1 model=$2; shift 2
    "$SPIN" "$@" -a "$here/$model" >/dev/null
    "$CC" -O0 -DSAFETY -o "pan_$name" pan.c  # tiny state spaces: compiling is the cost
    "./pan_$name" -m100000 >"out_$name" 2>&1 || true
    grep -E "errors:|assertion violated|invalid end state \(|states, stored" "out_$name" | sed "s/^/$name: /"
}

run protocol chan_select.pml
run no_own_claim chan_select.pml -DNO_OWN_CLAIM
run sticky_claim chan_select.pml -DSTICKY_CLAIM
run pair chan_select_pair.pml
run unordered chan_select_pair.pml -DUNORDERED

ok=1
grep -q "errors: 0" out_protocol || { echo "FAIL: the claim protocol violates its properties"; ok=0; }
# Coverage: every outcome of the selector's starts is reached (A won at
# once; B won, lost to A, or linked -- after an empty take too; the sleep),
# senderX drops a lost A, senderY finds the ring emptied by the thief.
section() { sed -n "/unreached in proctype $1\$/,/^unreached in/p" out_protocol; }
for s in '"startA = 2"' '"startB = 1"' '"startB = 2"' '"startB = 3"' '"(woken)"'; do
    section selector | grep -qF "$s" && { echo "FAIL: the selector never reaches $s (the model lost coverage)"; ok=0; }
done
section senderX | grep -qF '"bx = (bx+1)"' && { echo "FAIL: senderX never drops a lost case"; ok=0; }
section senderY | grep -qF '"moved = 0"' && { echo "FAIL: senderY never finds the ring emptied"; ok=0; }
if grep -q "errors: 0" out_no_own_claim || ! grep -q "assertion violated" out_no_own_claim; then
    echo "FAIL: spin found no violation in the variant without the start's own claim"; ok=0
fi
if grep -q "errors: 0" out_sticky_claim || ! grep -q "invalid end state" out_sticky_claim; then
    echo "FAIL: spin found no stuck select in the sticky-claim variant"; ok=0
fi
grep -q "errors: 0" out_pair || { echo "FAIL: two selects across each other violate their properties"; ok=0; }
if grep -q "errors: 0" out_unordered || ! grep -q "invalid end state" out_unordered; then
    echo "FAIL: spin found no deadlock when each select claims its own case first"; ok=0
fi
[ $ok = 1 ] && echo "PASS: claim protocol holds; a start without its own claim moves two cases; a sticky claim strands the select; two selects across pair; unordered claims deadlock"
[ $ok = 1 ]
