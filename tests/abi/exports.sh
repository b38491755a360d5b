#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libferry.so exports exactly what the public headers declare: every exported
# symbol is a function or variable declared in include/ferry/*.h (nothing
# internal leaks), every such declaration is exported (nothing public is
# hidden), and every export carries the library's version node.
#   exports.sh LIBFERRY_SO VERSION_NODE PERL SOURCE_DIR HEADER...
set -euo pipefail
lib=$1 node=$2 perl=$3 src=$4; shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only --with-symbol-versions "$lib" | awk '{print $3}' > "$tmp/raw"
grep -q . "$tmp/raw" || { echo "$lib exports nothing"; exit 1; }
grep -v -x "$node" "$tmp/raw" | sort > "$tmp/exported"
bad=$(grep -v -E "@@?${node//./\\.}\$" "$tmp/exported" || true)
[ -z "$bad" ] || { echo "exported without version node $node:"; echo "$bad"; exit 1; }
sed -E 's/@@?.*$//' "$tmp/exported" | sort -u > "$tmp/names"
"$perl" "$src/scripts/manpages.pl" --list-externs "$@" | sort -u > "$tmp/declared"

leaked=$(comm -23 "$tmp/names" "$tmp/declared")
hidden=$(comm -13 "$tmp/names" "$tmp/declared")
status=0
if [ -n "$leaked" ]; then
  echo "exported but not declared in a public header (internal symbols leak):"; echo "$leaked"; status=1
fi
if [ -n "$hidden" ]; then
  echo "declared in a public header but not exported (outside FERRY_EXTERN_C_BEGIN/END, or not defined):"
  echo "$hidden"; status=1
fi
[ $status = 0 ] && echo "exports: $(wc -l < "$tmp/names") symbols, all declared in public headers, all $node: ok"
exit $status
