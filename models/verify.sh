#!/bin/sh
# SPDX-License-Identifier: MIT
# Check a Promela model with spin in several configurations, some of which
# must hold and some of which (broken variants) spin must reject, so that the
# model is known to be able to fail. The one runner for every model in
# models/ (cmake/parts/models.cmake registers them).
# Usage: models/verify.sh SPIN CC MODEL RUN...
#   RUN is "WANT FLAGS", FLAGS the -D defines for spin, WANT one of:
#     pass        no error;
#     pass/PROC   no error, and every state of proctype PROC is reached (the
#                 configuration exercises all of it);
#     fail        an assertion violation or an invalid end state;
#     assert      an assertion violation;
#     deadlock    an invalid end state (processes stuck outside end states).
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
    found=
    grep -q "assertion violated" out && found=assert
    grep -q "invalid end state (" out && found="$found deadlock"
    case $want in
    pass | pass/*)
        grep -q "errors: 0" out || { echo "FAIL: [$flags ] must hold"; ok=0; }
        proc=${want#pass/}
        if [ "$proc" != "$want" ] &&
           ! grep -A1 "unreached in proctype $proc\$" out | grep -q "(0 of"; then
            echo "FAIL: [$flags ] leaves states of $proc unreached:"
            sed -n "/unreached in proctype $proc\$/,/unreached in/p" out | sed '$d'
            ok=0
        fi
        ;;
    fail | assert | deadlock)
        if grep -q "errors: 0" out || [ -z "$found" ]; then
            echo "FAIL: [$flags ] must be rejected"; ok=0
        elif [ "$want" != fail ] && ! echo "$found" | grep -qw "$want"; then
            echo "FAIL: [$flags ] must be rejected with: $want (spin found: $found)"; ok=0
        fi
        ;;
    *)
        echo "FAIL: unknown WANT '$want' in \"$run\""; ok=0
        ;;
    esac
done
[ $ok = 1 ] && echo "PASS: $(basename "$MODEL")"
[ $ok = 1 ]
