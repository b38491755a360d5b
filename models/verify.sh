#!/bin/sh
# SPDX-License-Identifier: MIT
# Check a Promela model with spin in several configurations, some of which
# must hold and some of which (broken variants) spin must reject, so that the
# model is known to be able to fail.
# Usage: models/verify.sh SPIN CC MODEL RUN...
#   RUN is "pass FLAGS" (no errors) or "fail FLAGS" (an assertion violation
#   or an invalid end state), FLAGS the -D defines for spin.
# Prints one line per run and "PASS: MODEL" when every run went as required.
set -eu
SPIN=$1 CC=$2 MODEL=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$MODEL" "$work/model.pml"
cd "$work"
ok=1
for run in "$@"; do
    want=${run%% *}
    flags=${run#"$want"}
    # shellcheck disable=SC2086  # FLAGS are separate words
    "$SPIN" $flags -a model.pml >/dev/null
    # -O0: for models this small, compiling pan.c costs more than checking.
    "$CC" -O0 -w -DSAFETY -DMEMLIM=2048 -o pan pan.c
    ./pan -m100000 >out 2>&1 || true
    summary=$(grep -E "assertion violated|invalid end state \(|errors: [0-9]+|states, stored" out |
              sed 's/^[[:space:]]*//' | tr '\n' ' ')
    echo "$want [$flags ]: $summary"
    if [ "$want" = pass ]; then
        grep -q "errors: 0" out || { echo "FAIL: [$flags ] must hold"; ok=0; }
    else
        if grep -q "errors: 0" out || ! grep -qE "assertion violated|invalid end state" out; then
            echo "FAIL: [$flags ] must be rejected"; ok=0
        fi
    fi
done
[ $ok = 1 ] && echo "PASS: $(basename "$MODEL")"
[ $ok = 1 ]
