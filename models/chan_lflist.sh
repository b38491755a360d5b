#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the block-list model with spin (models/chan_lflist.pml): the list
# must hold in four configurations (no errors: no assertion, no thread
# stranded), and each broken variant must fail with an assertion, so that
# the model is known to be able to fail.
# Usage: models/chan_lflist.sh [spin] [cc]
set -eu
SPIN=${1:-spin}
CC=${2:-cc}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

run() {   # name spin-flags...
    name=$1; shift
    "$SPIN" "$@" -a "$here/chan_lflist.pml" >/dev/null
    "$CC" -O2 -DSAFETY -DCOLLAPSE -o "pan_$name" pan.c 2>/dev/null
    "./pan_$name" -m200000 >"out_$name" 2>&1 || true
    grep -E "errors:|assertion violated|invalid end state \(|states, stored" "out_$name" | sed "s/^/$name: /"
}

# The list (blocks of 1 or 2 slots, 3 or fewer blocks in all, so that
# every run recycles): 2 producers x 2 items, 1 consumer; the same on
# 2-slot blocks; 2 producers x 1 item, 2 consumers; 1 producer x 3 items,
# 2 consumers.
run one_consumer -DCONS=1
run two_slots -DCAP=2 -DCONS=1
run two_consumers -DPER=1
run three_items -DPROD=1 -DPER=3
# Broken variants.
run ptr_first -DPROD=1 -DPER=3 -DPTR_FIRST
run early_recycle -DCAP=2 -DCONS=1 -DEARLY_RECYCLE
run publish_first -DCONS=1 -DPUBLISH_FIRST
run pop_no_lock -DCONS=1 -DPOP_NO_LOCK

ok=1
for good in one_consumer two_slots two_consumers three_items; do
    grep -q "errors: 0" "out_$good" || { echo "FAIL: the list violates its properties ($good)"; ok=0; }
done
for bad in ptr_first early_recycle publish_first pop_no_lock; do
    if grep -q "errors: 0" "out_$bad" || ! grep -q "assertion violated" "out_$bad"; then
        echo "FAIL: spin found no violation in the $bad variant"; ok=0
    fi
done
[ $ok = 1 ] && echo "PASS: block list holds; pointer before index, early recycling, publishing before linking, unlocked pops break"
[ $ok = 1 ]
