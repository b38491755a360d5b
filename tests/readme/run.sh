#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's usage example compiles with -Wall -Wextra -Werror, as C and
# (when a C++ compiler is given) as C++, and prints 1 2 3.
#   run.sh SOURCE_DIR BUILD_DIR C_COMPILER [CXX_COMPILER]
set -euo pipefail
src=$1 build=$2 cc=$3 cxx=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/{f=1;next} /^```$/{if(f){exit}} f' "$src/README.md" > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "no C example in README.md"; exit 1; }
inc=(-I"$src/include" -I"$build/include")
# The build's own flags (CFLAGS, CXXFLAGS from tests/CMakeLists.txt, e.g. -m32).
read -ra cflags <<<"${CFLAGS:-}"
read -ra cxxflags <<<"${CXXFLAGS:-}"
"$cc" "${cflags[@]}" -std=c11 -Wall -Wextra -Werror "${inc[@]}" "$tmp/example.c" "$build/libferry.a" -pthread -o "$tmp/example"
out=$("$tmp/example" | tr '\n' ' ')
[ "$out" = "1 2 3 " ] || { echo "README example printed '$out'"; exit 1; }
langs="C"
if [ -n "$cxx" ]; then
  cp "$tmp/example.c" "$tmp/example.cpp"
  "$cxx" "${cxxflags[@]}" -Wall -Wextra -Werror "${inc[@]}" "$tmp/example.cpp" "$build/libferry.a" -pthread -o "$tmp/example_cxx"
  out=$("$tmp/example_cxx" | tr '\n' ' ')
  [ "$out" = "1 2 3 " ] || { echo "README example as C++ printed '$out'"; exit 1; }
  langs="C and C++"
fi
echo "README example ($langs): ok"
