#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's "Linking" commands work as written, copied into a fresh shell
# (env -i: no variables but HOME and PATH) whose HOME is a temporary
# directory, in a directory holding the build as build/release and the
# README's usage example as app.c:
#   - the block that installs under "$HOME/ferry" and builds app.c with an
#     rpath, then with LD_LIBRARY_PATH: each ./a.out prints 1 2 3;
#   - what the README says happens without either: the program does not
#     start, and the error names the SONAME the README names;
#   - the block for an install the system searches, with PKG_CONFIG_PATH
#     standing in for that: the shared build runs (with the library found
#     through LD_LIBRARY_PATH), the -static one needs no shared library.
#   linking.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/work/build"
ln -s "$(cd "$build" && pwd)" "$tmp/work/build/release"
awk '/^```c$/{f=1;next} /^```$/{if(f){exit}} f' "$src/README.md" >"$tmp/work/app.c"
[ -s "$tmp/work/app.c" ] || { echo "no C example in README.md"; exit 1; }
# The sh blocks of the "## Linking" section, one file each.
awk -v dir="$tmp" '/^## /{s = ($0 == "## Linking")} s && /^```sh$/{f=1; n++; next}
  f && /^```$/{f=0; next} f {print > (dir "/block" n ".sh")}' "$src/README.md"
local_block=$(grep -l -- '--prefix "$HOME/ferry"' "$tmp"/block*.sh | head -n1 || true)
system_block=$(grep -L -- '--prefix' "$tmp"/block*.sh | head -n1 || true)
[ -n "$local_block" ] && [ -n "$system_block" ] ||
  { echo "README.md, Linking: expected a block installing under \$HOME/ferry and one for a system install"; exit 1; }
fresh() {   # fresh [VAR=VALUE...] SCRIPT: run in a fresh shell in the work directory
  (cd "$tmp/work" && env -i HOME="$tmp/home" PATH="$PATH" "${@:1:$#-1}" bash -eo pipefail "${@: -1}")
}

fresh "$local_block" >"$tmp/local.out" 2>&1 || { cat "$tmp/local.out"; echo "README's \$HOME/ferry block failed"; exit 1; }
runs=$(grep -c -x -E '[123]' "$tmp/local.out" || true)
[ "$runs" = 6 ] || { cat "$tmp/local.out"; echo "README's \$HOME/ferry block: expected two runs printing 1 2 3"; exit 1; }

# "Without either, the program fails to start with `error while loading
# shared libraries: libferry.so.X`."
said=$(tr '\n' ' ' <"$src/README.md" |
  grep -o -E 'error while loading shared +libraries: libferry\.so\.[0-9.]*[0-9]' | head -n1 | tr -s ' ' || true)
[ -n "$said" ] || { echo "README.md no longer says how a program without the library fails"; exit 1; }
printf '%s\n' 'export PKG_CONFIG_PATH="$HOME/ferry/lib/pkgconfig"' \
  'cc app.c $(pkg-config --cflags --libs ferry) -o plain' >"$tmp/plain.sh"
fresh "$tmp/plain.sh" || { echo "building app.c against \$HOME/ferry failed"; exit 1; }
if "$tmp/work/plain" >/dev/null 2>"$tmp/plain.err"; then
  echo "a program linked without an rpath ran without LD_LIBRARY_PATH (is a libferry installed system-wide?)"
else
  grep -q -F "$said:" "$tmp/plain.err" || { cat "$tmp/plain.err"; echo "the loader did not say: $said"; exit 1; }
fi

# The system-install block, the system's pkg-config path being $HOME/ferry's.
fresh PKG_CONFIG_PATH="$tmp/home/ferry/lib/pkgconfig" "$system_block" >"$tmp/system.out" 2>&1 ||
  { cat "$tmp/system.out"; echo "README's system-install block failed"; exit 1; }
out=$("$tmp/work/a.out" | tr '\n' ' ')
[ "$out" = "1 2 3 " ] || { echo "the -static build printed '$out'"; exit 1; }
if readelf -d "$tmp/work/a.out" | grep -q NEEDED; then
  echo "the README's -static build needs shared libraries:"; readelf -d "$tmp/work/a.out" | grep NEEDED; exit 1
fi
echo "README Linking commands, copied into a fresh shell: ok"
