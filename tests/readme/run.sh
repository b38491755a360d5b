#!/usr/bin/env bash
# The README's usage example compiles (-Wall -Wextra -Werror) and prints 1 2 3.
#   run.sh SOURCE_DIR BUILD_DIR C_COMPILER
set -euo pipefail
src=$1 build=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/{f=1;next} /^```$/{if(f){exit}} f' "$src/README.md" > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "no C example in README.md"; exit 1; }
"$cc" -std=c11 -Wall -Wextra -Werror -I"$src/include" "$tmp/example.c" "$build/libferry.a" -pthread -o "$tmp/example"
out=$("$tmp/example" | tr '\n' ' ')
[ "$out" = "1 2 3 " ] || { echo "README example printed '$out'"; exit 1; }
echo "README example: ok"
