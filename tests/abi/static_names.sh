#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libferry.a defines no global symbol outside ferry's namespace (ferry_ for
# the API, ferry__ for internal helpers): a program linked statically shares
# one namespace with every object of the archive, so an internal helper
# named, say, "hash_bytes" would clash with the program's own. (The shared
# library's exports are checked by tests/abi/exports.sh; its version script
# hides the rest, which the archive cannot.) Then the check itself, on an
# archive with one such name.
#   static_names.sh LIBFERRY_A C_COMPILER
set -euo pipefail
lib=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# (__x86.get_pc_thunk.*: gcc's position-independent code for i386 defines
# these helpers, hidden and in COMDAT groups, in every object that uses them.)
outside() {   # outside ARCHIVE: its defined global symbols not named ferry_*
  nm -g --defined-only "$1" | awk 'NF == 3 { print $3 }' | grep -v -E '^(ferry_|__x86\.get_pc_thunk\.)' |
    sort -u || true
}
n=$(nm -g --defined-only "$lib" | awk 'NF == 3' | wc -l)
[ "$n" -gt 100 ] || { echo "$lib defines only $n global symbols"; exit 1; }
bad=$(outside "$lib")
[ -z "$bad" ] || { echo "$lib defines global symbols outside ferry_ / ferry__:"; echo "$bad"; exit 1; }

printf 'int ferry_probe_ok(void) { return 0; }\nint probe_helper(void) { return 1; }\n' > "$tmp/p.c"
"$cc" -c "$tmp/p.c" -o "$tmp/p.o" && ar rcs "$tmp/libp.a" "$tmp/p.o"
[ "$(outside "$tmp/libp.a")" = probe_helper ] || { echo "the check missed probe_helper: '$(outside "$tmp/libp.a")'"; exit 1; }
echo "libferry.a: $n global symbols, all ferry_ or ferry__: ok"
