#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command (make test) runs this: install what is missing,
# then build and run the suite in four configurations, each in its own tree
# build/NAME -- the release job's is build/test-release, not build/release:
# that one is `make`'s, with the compiler CC names (export CC=clang), and
# sharing it made each of `make` and `make test` configure it again with
# its own compiler, a full rebuild at every switch:
#   release  gcc -O3 (CMake's Release)       unit, torture, death
#   debug    clang -O0 -g, FERRY_DEBUG         unit, death
#   tsan     clang -O2 -g, ThreadSanitizer    unit, torture
#   asan     gcc -O2 -g, AddressSanitizer+UBSan, FERRY_DEBUG  unit, torture
#   m32      gcc -m32 -O3 (i386)              unit, torture, death
# The m32 job runs where gcc and g++ build and run 32-bit programs
# (gcc-multilib, g++-multilib: scripts/deps.sh test installs them on amd64)
# and says it is skipped elsewhere, or with FERRY_TEST_M32=0. It leaves out
# what has no 32-bit libraries here: benchmarks (their peers), examples
# (libuv) and ferry-dupes (sqlite3, xxhash, b2). About 3 minutes on 2 CPUs.
# Prints CTest's summary for each and one closing line for all of them;
# before that line, what each failed test printed (its first 40 lines, for
# at most 5 tests a build), so that the end of the output, which is often
# all a CI log shows, says why.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1

jobs=$(nproc)
total_pass=0 total_fail=0 status=0
failed_names=''   # "build: test (reason)" lines, repeated after the closing line
failed_output=''  # what the failed tests printed, repeated before it
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {   # name labels cmake-args...
  local name=$1 labels=$2; shift 2
  local tree=build/$name
  [ "$name" = release ] && tree=build/test-release # build/release is make's (above)
  echo "=== $name: configure and build"
  # (scripts/configure.sh: every setting holds even where the tree was
  # configured before with another compiler, e.g. by hand.)
  if ! scripts/configure.sh . "$tree" -DFERRY_WERROR=ON "$@" >"$log" 2>&1 ||
     ! cmake --build "$tree" -j "$jobs" >>"$log" 2>&1; then
    cat "$log"; echo "=== $name: BUILD FAILED"; status=1; total_fail=$((total_fail + 1)); return
  fi
  echo "=== $name: ctest -L '$labels'"
  ctest --test-dir "$tree" -L "$labels" -j "$jobs" --output-on-failure 2>&1 | tee "$log"
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
  # A failed test's output follows its result line (--output-on-failure)
  # up to the next test's Start or result line.
  local out
  out=$(awk -v b="$name" '
    /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception|Not Run)/ { if (++k > 5) exit; grab = 1; n = 0; print "--- " b ": " $0; next }
    grab && (/^ +Start +[0-9]+: / || /^ *[0-9]+\/[0-9]+ Test +#/ || /^[0-9]+% tests passed/) { grab = 0 }
    grab && n < 40 { print; n++ }' "$log")
  [ -n "$out" ] && failed_output+="$out"$'\n'
}

run release 'unit|torture|death' -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++
run debug   'unit|death'         -DCMAKE_BUILD_TYPE=Debug -DFERRY_DEBUG=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DFERRY_BUILD_BENCH=OFF
run tsan    'unit|torture'       -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=thread -DFERRY_TEST_SCALE=0.25 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
run asan    'unit|torture'       -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=address -DFERRY_DEBUG=ON -DFERRY_TEST_SCALE=0.5 -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++

builds='release, debug, tsan, asan'
m32_works() {   # gcc and g++ -m32 build a threaded program that runs
  local d; d=$(mktemp -d) || return 1
  printf '#include <pthread.h>\nint main(void) { return pthread_self() == 0; }\n' > "$d/p.c"
  cp "$d/p.c" "$d/p.cpp"
  gcc -m32 -pthread "$d/p.c" -o "$d/p" 2>/dev/null && "$d/p" &&
    g++ -m32 -pthread "$d/p.cpp" -o "$d/pp" 2>/dev/null && "$d/pp"
  local rc=$?; rm -rf "$d"; return $rc
}
if [ "${FERRY_TEST_M32:-1}" = 0 ]; then
  echo "=== m32: skipped (FERRY_TEST_M32=0)"
elif ! m32_works; then
  echo "=== m32: skipped (gcc/g++ -m32 cannot build or run a 32-bit program here: gcc-multilib, g++-multilib)"
else
  builds+=', m32'
  run m32   'unit|torture|death' -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
            -DCMAKE_C_FLAGS=-m32 -DCMAKE_CXX_FLAGS=-m32 -DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF \
            -DFERRY_BUILD_DUPES=OFF
fi

if [ -n "$failed_output" ]; then
  echo
  echo "=== what the failed tests printed:"
  printf '%s' "$failed_output"
fi
echo
echo "=== all builds ($builds):"
echo "$total_pass passed, $total_fail failed"
[ -n "$failed_names" ] && printf 'failed:\n%s' "$failed_names"
exit $status
