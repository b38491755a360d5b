#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ferry as a subproject of another CMake project (add_subdirectory, which
# FetchContent does too), as a project that vendors it builds it:
#   1. the parent's build type stays its own: ferry puts no CMAKE_BUILD_TYPE
#      in the shared cache (it picks RelWithDebInfo only as the top project);
#   2. none of ferry's tests, benchmarks, examples, ferry-dupes or Debian
#      packaging is configured into the parent's build;
#   3. ferry::ferry and ferry::ferry_static carry their usage requirements
#      (include directories, threads): a program linked with each, and
#      nothing else, builds and runs.
# Configures, then builds the library and two programs (about 10 s of CPU).
#   subproject.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "ferry as a subproject: $*"; exit 1; }

mkdir "$tmp/app"
cat > "$tmp/app/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(app C)
add_subdirectory("$src" ferry)
add_executable(app_shared "$src/tests/install/consumer/main.c")
target_link_libraries(app_shared PRIVATE ferry::ferry)
add_executable(app_static "$src/tests/install/consumer/main.c")
target_link_libraries(app_static PRIVATE ferry::ferry_static)
EOF
cmake -S "$tmp/app" -B "$tmp/b" -DCMAKE_C_COMPILER="$cc" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "configure failed"; }

bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$tmp/b/CMakeCache.txt")
[ -z "$bt" ] || fail "the parent's CMAKE_BUILD_TYPE is '$bt': ferry chose it"

[ ! -e "$tmp/b/CPackConfig.cmake" ] || fail "ferry's packaging (CPack) took over the parent's"
extra=$(cmake --build "$tmp/b" --target help | grep -E '^\.\.\. (unit_|torture_|bench_|example_|ferry-dupes)' || true)
[ -z "$extra" ] || fail "targets a subproject does not build: $(head -n 3 <<<"$extra")"

cmake --build "$tmp/b" -j2 --target app_shared app_static >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "build failed"; }
for p in app_shared app_static; do
  out=$("$tmp/b/$p") || fail "$p: exit $?: $out"
  [[ $out == "installed ferry "*" works" ]] || fail "$p: $out"
done
echo "ferry as a subproject: build type left alone, no tests or packaging, ferry::ferry and ferry::ferry_static: ok"
