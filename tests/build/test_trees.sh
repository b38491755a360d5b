#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make` and `make test` never share a build tree. build/release is make's
# (and make demo's), configured with the compiler CC names; make test's jobs
# each have their own tree with their own compilers, the release job in
# build/test-release. Before, that job used build/release with gcc: with
# `export CC=clang`, each of `make` and `make test` configured build/release
# again with its own compiler, a full rebuild at every switch.
# scripts/test.sh runs here on stubs (scripts/deps.sh, scripts/configure.sh,
# cmake and ctest record their calls and do nothing), twice, with CC and CXX
# exported as clang and as gcc: what it configures must not change with them
# and must not name build/release; make's configure (make -n) names
# build/release and CC's compiler. A second; builds nothing.
#   test_trees.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/repo/scripts" "$tmp/bin"
cp "$src/scripts/test.sh" "$tmp/repo/scripts/"
printf '#!/bin/sh\nexit 0\n' > "$tmp/repo/scripts/deps.sh"
# configure.sh SOURCE TREE ARGS...: one line "TREE ARGS..." per call.
printf '#!/bin/sh\nshift\necho "$*" >> "$CALLS"\n' > "$tmp/repo/scripts/configure.sh"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/cmake"
printf '#!/bin/sh\necho "100%% tests passed, 0 tests failed out of 1"\n' > "$tmp/bin/ctest"
chmod +x "$tmp/repo/scripts/"*.sh "$tmp/bin/"*

for cc in clang gcc; do
  cxx=$([ $cc = clang ] && echo clang++ || echo g++)
  CALLS="$tmp/calls.$cc" CC=$cc CXX=$cxx FERRY_TEST_M32=0 PATH="$tmp/bin:$PATH" \
    bash "$tmp/repo/scripts/test.sh" > "$tmp/out.$cc" 2>&1 || { cat "$tmp/out.$cc"; echo "test.sh on stubs failed"; exit 1; }
  [ -s "$tmp/calls.$cc" ] || { cat "$tmp/out.$cc"; echo "test.sh configured nothing"; exit 1; }
done
cmp -s "$tmp/calls.clang" "$tmp/calls.gcc" ||
  { diff "$tmp/calls.clang" "$tmp/calls.gcc" || true; echo "what make test configures changes with an exported CC"; exit 1; }
trees=$(cut -d' ' -f1 "$tmp/calls.gcc")
if grep -q -x 'build/release' <<<"$trees"; then
  echo "make test configures build/release, make's tree: $(grep '^build/release ' "$tmp/calls.gcc")"; exit 1
fi
[ "$(sort <<<"$trees" | uniq -d)" = "" ] || { echo "make test configures a tree twice: $trees"; exit 1; }
grep -q '^build/test-release .*-DCMAKE_BUILD_TYPE=Release .*-DCMAKE_C_COMPILER=gcc' "$tmp/calls.gcc" ||
  { cat "$tmp/calls.gcc"; echo "the release job is not gcc Release in build/test-release"; exit 1; }

# make's side: build/release, with the compiler the environment's CC names.
line=$(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL CC=clang CXX=clang++ make -s -n --no-print-directory release |
       grep -m1 '^scripts/configure\.sh ' || true)
[[ $line == "scripts/configure.sh . build/release "*'-DCMAKE_C_COMPILER="clang"'* ]] ||
  { echo "CC=clang make configures with: $line"; exit 1; }
echo "make test: $(wc -l < "$tmp/calls.gcc") trees, none of them build/release, the same whatever CC says; make: build/release with CC: ok"
