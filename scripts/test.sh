#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command (make test) runs this: install what is missing,
# then build and run the suite in four configurations:
#   release  gcc -O2                         unit, torture, death
#   debug    clang -O1, FERRY_DEBUG            unit, death
#   tsan     clang, ThreadSanitizer           unit, torture
#   asan     gcc, AddressSanitizer+UBSan      unit, torture
# Prints CTest's summary for each and one closing line for all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1

jobs=$(nproc)
total_pass=0 total_fail=0 status=0
failed_names=''   # "build: test (reason)" lines, repeated after the closing line
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {   # name labels cmake-args...
  local name=$1 labels=$2; shift 2
  echo "=== $name: configure and build"
  # (scripts/configure.sh: every setting holds even where build/$name was
  # configured before with another compiler, e.g. by `make`.)
  if ! scripts/configure.sh . "build/$name" -DFERRY_WERROR=ON "$@" >"$log" 2>&1 ||
     ! cmake --build "build/$name" -j "$jobs" >>"$log" 2>&1; then
    cat "$log"; echo "=== $name: BUILD FAILED"; status=1; total_fail=$((total_fail + 1)); return
  fi
  echo "=== $name: ctest -L '$labels'"
  ctest --test-dir "build/$name" -L "$labels" -j "$jobs" --output-on-failure 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -1)
  if [ -n "$line" ]; then
    local failed all
    failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    all=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    total_pass=$((total_pass + all - failed)); total_fail=$((total_fail + failed))
  fi
  if [ "$rc" != 0 ]; then status=1; [ -z "$line" ] && total_fail=$((total_fail + 1)); fi
  # CTest lists each failure as "<tab>NN - name (Failed)" after this heading.
  local names
  names=$(sed -n '/^The following tests FAILED:/,/^$/{/ - /s/^[[:space:]]*[0-9]* - /  '"$name"': /p}' "$log")
  [ -n "$names" ] && failed_names+="$names"$'\n'
}

run release 'unit|torture|death' -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++
run debug   'unit|death'         -DCMAKE_BUILD_TYPE=Debug -DFERRY_DEBUG=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DFERRY_BUILD_BENCH=OFF
run tsan    'unit|torture'       -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=thread -DFERRY_TEST_SCALE=0.25 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
run asan    'unit|torture'       -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=address -DFERRY_DEBUG=ON -DFERRY_TEST_SCALE=0.5 -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++

echo
echo "=== all builds (release, debug, tsan, asan):"
echo "$total_pass passed, $total_fail failed"
[ -n "$failed_names" ] && printf 'failed:\n%s' "$failed_names"
exit $status
