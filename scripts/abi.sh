#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI of libferry.so against the stored baselines: abi/libferry.abi
# (x86-64, LP64) and abi/libferry-i386.abi (32-bit x86, ILP32: the types
# have other sizes there, so each has its own).
#
#   scripts/abi.sh baseline          rebuild the library (build/abi, gcc
#                                    Release; build/abi32 with -m32 where gcc
#                                    builds 32-bit programs) and store its ABI
#                                    as the baselines
#   scripts/abi.sh check LIB INCDIR  compare LIB (built with the generated
#                                    headers in INCDIR) with the baseline of
#                                    its architecture (read from its ELF
#                                    header)
#   scripts/abi.sh selftest          show that the comparison fails on a grown
#                                    struct and a removed function, and accepts
#                                    an added function
#
# The ABI is what abidw (Debian's abigail-tools) reads from the library's
# debug information: exported functions and variables, and the layout of
# every type they reach that a public header defines (types private to src/
# are dropped, so internal changes do not count). check fails on any removed
# or changed function or variable, a changed type reached from them included,
# and accepts additions. Run `scripts/abi.sh baseline` (or make abi-baseline)
# when a release deliberately changes the ABI, and commit abi/libferry.abi;
# docs/design.md, "ABI", says when that is allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=abi/libferry.abi
baseline32=abi/libferry-i386.abi

# The baseline for a library, from its ELF header's class and machine; none
# (exit 1) for an architecture without one.
baseline_of() {
  local hdr; hdr=$(LC_ALL=C readelf -h "$1") || return 1
  if grep -q 'Class: *ELF64' <<<"$hdr" && grep -q 'Machine: *Advanced Micro Devices X86-64' <<<"$hdr"; then
    echo "$baseline"
  elif grep -q 'Class: *ELF32' <<<"$hdr" && grep -q 'Machine: *Intel 80386' <<<"$hdr"; then
    echo "$baseline32"
  else
    return 1
  fi
}

# Build the shared library alone in a tree of its own and store its ABI.
store() {   # store TREE OUT CMAKE_ARGS...
  local tree=$1 out=$2; shift 2
  cmake -S . -B "$tree" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc \
    -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_BUILD_DUPES=OFF "$@" >/dev/null
  cmake --build "$tree" --target ferry_shared -j "$(nproc)" >/dev/null
  mkdir -p abi
  dump "$tree/libferry.so" "$out" include/ferry "$tree/include/ferry"
  echo "abi.sh: wrote $out ($(grep -c '<elf-symbol' "$out") symbols); commit it"
}

m32_builds() {   # gcc -m32 links a 32-bit shared library here
  local d; d=$(mktemp -d) || return 1
  printf 'int f(void) { return 1; }\n' > "$d/f.c"
  gcc -m32 -shared -fPIC "$d/f.c" -o "$d/f.so" 2>/dev/null
  local rc=$?; rm -rf "$d"; return $rc
}

dump() {   # dump LIB OUT HEADER_DIR...
  local lib=$1 out=$2; shift 2
  local dirs=()
  for d in "$@"; do dirs+=(--headers-dir "$d"); done
  abidw --no-corpus-path --no-comp-dir-path --no-show-locs --drop-private-types \
    "${dirs[@]}" --out-file "$out" "$lib"
}

compare() {   # compare OLD NEW: 0 when NEW only adds to OLD
  local old=$1 new=$2 report rc=0
  report=$(abidiff "$old" "$new") || rc=$?
  if (( rc & 3 )); then
    echo "$report"; echo "abi.sh: abidiff failed (exit status $rc)"; return 1
  fi
  # Every "... changes summary: N Removed, N Changed, N Added ..." line must
  # have no removal and no change (filtered-out harmless changes aside).
  if (( rc & 8 )) || grep -E 'summary:' <<<"$report" | grep -q -E '(^|[^0-9])[1-9][0-9]* (Removed|Changed)'; then
    echo "$report"
    echo "abi.sh: incompatible ABI change against $old (a removed or changed function, variable or type)"
    return 1
  fi
  [ -z "$report" ] || echo "$report"
  return 0
}

need_tools() {
  command -v abidw >/dev/null && command -v abidiff >/dev/null ||
    { echo "abi.sh: abidw/abidiff not found (Debian package abigail-tools; scripts/deps.sh test)"; exit 1; }
}

case "${1:-}" in
baseline)
  need_tools
  store build/abi "$baseline"
  if m32_builds; then
    store build/abi32 "$baseline32" -DCMAKE_C_FLAGS=-m32
  else
    echo "abi.sh: gcc -m32 cannot build here (gcc-multilib): $baseline32 left as it is" >&2
  fi
  ;;
check)
  need_tools
  lib=$2 incdir=$3
  base=$(baseline_of "$lib") || { echo "abi.sh: $lib: no baseline for its architecture (x86-64 and i386 have one)"; exit 1; }
  [ -f "$base" ] || { echo "abi.sh: no $base: run scripts/abi.sh baseline"; exit 1; }
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  dump "$lib" "$tmp/new.abi" include/ferry "$incdir"
  compare "$base" "$tmp/new.abi"
  echo "abi.sh: $lib is compatible with $base"
  ;;
selftest)
  need_tools
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  mkdir "$tmp/inc"
  build() {   # build NAME EXTRA_FIELD EXTRA_FUNCTION KEEP_SECOND
    printf 'struct probe { int a; %s };\nint probe_use(struct probe *p);\n%s\n%s\n' \
      "$2" "$3" "$4" > "$tmp/inc/probe.h"
    {
      printf '#include "probe.h"\nint probe_use(struct probe *p) { return p->a; }\n'
      [ -z "$3" ] || printf 'int probe_new(void) { return 1; }\n'
      [ -z "$4" ] || printf 'int probe_second(void) { return 2; }\n'
    } > "$tmp/$1.c"
    cc -g -shared -fPIC -I"$tmp/inc" -o "$tmp/$1.so" "$tmp/$1.c"
    dump "$tmp/$1.so" "$tmp/$1.abi" "$tmp/inc"
  }
  build base "" "" "int probe_second(void);"
  build grown "int b;" "" "int probe_second(void);"
  build added "" "int probe_new(void);" "int probe_second(void);"
  build removed "" "" ""
  compare "$tmp/base.abi" "$tmp/base.abi" >/dev/null || { echo "selftest: identical ABIs rejected"; exit 1; }
  compare "$tmp/base.abi" "$tmp/added.abi" >/dev/null || { echo "selftest: an added function was rejected"; exit 1; }
  if compare "$tmp/base.abi" "$tmp/grown.abi" >/dev/null; then echo "selftest: a grown struct was accepted"; exit 1; fi
  if compare "$tmp/base.abi" "$tmp/removed.abi" >/dev/null; then echo "selftest: a removed function was accepted"; exit 1; fi
  echo "abi.sh selftest: identical and added pass, grown struct and removed function fail: ok"
  ;;
*)
  echo "usage: scripts/abi.sh baseline | check LIB GENERATED_INCLUDE_DIR | selftest" >&2; exit 2 ;;
esac
