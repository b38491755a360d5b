#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the cancel / wake-round model with spin (models/chan_cancel.pml):
# the protocol must hold (no errors, no unreached state in the canceller),
# and both broken variants must fail -- PHASE_WAIT (the old whole-round
# wait) with a deadlock, NO_WAIT with an assertion violation -- so that the
# model is known to be able to fail.
# Usage: models/chan_cancel.sh [spin] [cc]
set -eu
SPIN=${1:-spin}
CC=${2:-cc}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

run() {   # name spin-flags...
    name=$1; shift
    "$SPIN" "$@" -a "$here/chan_cancel.pml" >/dev/null
    "$CC" -O1 -DSAFETY -o "pan_$name" pan.c
    "./pan_$name" -m100000 >"out_$name" 2>&1 || true
    grep -E "errors:|assertion violated|invalid end state \(|states, stored" "out_$name" | sed "s/^/$name: /"
}

run protocol
run phase_wait -DPHASE_WAIT
run no_wait -DNO_WAIT

ok=1
grep -q "errors: 0" out_protocol || { echo "FAIL: the cancel protocol violates its properties"; ok=0; }
grep -A1 "unreached in proctype canceller" out_protocol | grep -q "(0 of" ||
    { echo "FAIL: the canceller has unreached states (the model lost coverage)"; ok=0; }
if grep -q "errors: 0" out_phase_wait || ! grep -q "invalid end state" out_phase_wait; then
    echo "FAIL: spin found no deadlock in the whole-round-wait variant"; ok=0
fi
if grep -q "errors: 0" out_no_wait || ! grep -q "assertion violated" out_no_wait; then
    echo "FAIL: spin found no violation in the no-wait variant"; ok=0
fi
[ $ok = 1 ] && echo "PASS: cancel protocol holds; whole-round wait deadlocks; no wait breaks"
[ $ok = 1 ]
