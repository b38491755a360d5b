#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The public headers in a user's stricter build (docs/design.md, "C and C++"):
#   - each header on its own, as C11, with -Werror and the warnings careful
#     projects add (-Wconversion, -Wcast-qual, -Wshadow, ...), with and
#     without FERRY_DEBUG;
#   - all of them together as C17 and gnu11, and optimized with
#     _FORTIFY_SOURCE=2 (its inline checking versions of libc's functions);
#   - as C++11, C++17 and C++20, also inside the program's own extern "C" { }
#     block (as programs include C libraries whose headers they do not trust),
#     also with -Wold-style-cast and -Wzero-as-null-pointer-constant.
#   headers.sh SOURCE_DIR BUILD_DIR C_COMPILER [CXX_COMPILER]
set -euo pipefail
src=$1 build=$2 cc=$3 cxx=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc=(-I"$src/include" -I"$build/include")
common=(-Wall -Wextra -Werror -pedantic -Wconversion -Wsign-conversion -Wcast-qual -Wundef
        -Wpointer-arith -Wredundant-decls -Wformat=2 -Wmissing-declarations)
cwarn=("${common[@]}" -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings)
cxxwarn=("${common[@]}" -Wold-style-cast -Wzero-as-null-pointer-constant)

headers=()
for h in "$src"/include/ferry/*.h "$build"/include/ferry/version.h; do headers+=("$(basename "$h")"); done
[ ${#headers[@]} -ge 10 ] || { echo "only ${#headers[@]} public headers found"; exit 1; }
compile() {   # compile FILE DESCRIPTION COMPILER FLAG...
  local f=$1 what=$2; shift 2
  "$@" "${inc[@]}" -c "$f" -o "$tmp/out.o" 2>"$tmp/err" || { cat "$tmp/err"; echo "FAILED: $what"; exit 1; }
}

for h in "${headers[@]}"; do
  printf '#include <ferry/%s>\nint ferry_alone(void);\nint ferry_alone(void) { return 0; }\n' "$h" > "$tmp/alone.c"
  compile "$tmp/alone.c" "<ferry/$h> alone, C11" "$cc" -std=c11 -fsyntax-only "${cwarn[@]}"
  compile "$tmp/alone.c" "<ferry/$h> alone, C11, FERRY_DEBUG" "$cc" -std=c11 -fsyntax-only -DFERRY_DEBUG=1 "${cwarn[@]}"
done

{
  for h in "${headers[@]}"; do echo "#include <ferry/$h>"; done
  printf 'int ferry_all(void);\nint ferry_all(void) { return 0; }\n'
} > "$tmp/all.c"
compile "$tmp/all.c" "all headers, C17" "$cc" -std=c17 -fsyntax-only "${cwarn[@]}"
compile "$tmp/all.c" "all headers, gnu11" "$cc" -std=gnu11 -fsyntax-only "${cwarn[@]}"
compile "$tmp/all.c" "all headers, -O2 -D_FORTIFY_SOURCE=2" "$cc" -std=c11 -O2 -D_FORTIFY_SOURCE=2 "${cwarn[@]}"
langs="C11, C17, gnu11"

if [ -n "$cxx" ]; then
  { echo 'extern "C" {'; sed '$d' "$tmp/all.c" | sed '$d'; echo '}'; sed -n '$p' "$tmp/all.c"; } > "$tmp/extern_c.cpp"
  sed -i 's/^int ferry_all(void) {/extern "C" int ferry_all(void);\nint ferry_all(void) {/' "$tmp/extern_c.cpp"
  cp "$tmp/all.c" "$tmp/all.cpp"
  for std in c++11 c++17 c++20; do
    compile "$tmp/all.cpp" "all headers, $std" "$cxx" -std=$std -fsyntax-only "${cxxwarn[@]}"
    compile "$tmp/extern_c.cpp" "all headers inside extern \"C\", $std" "$cxx" -std=$std -fsyntax-only "${cxxwarn[@]}"
  done
  langs="$langs, C++11, C++17, C++20 (also in extern \"C\")"
fi
echo "${#headers[@]} headers with $cc${cxx:+ and $cxx}, strict warnings ($langs): ok"
