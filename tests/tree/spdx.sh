#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every project file carries its SPDX line (scripts/spdx.sh --check), and the
# script does what it says on a probe tree: --check names the files without
# the line and only those, --fix adds it in each file's comment style (after
# a #! line) and is idempotent.
#   spdx.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/scripts" "$tmp/docs" "$tmp/tests/fuzz/corpus"
cp "$src/scripts/spdx.sh" "$tmp/scripts/"
printf 'int x;\n' > "$tmp/a.c"
printf '#!/bin/sh\necho hi\n' > "$tmp/run"
printf '# Title\n' > "$tmp/docs/page.md"
printf 'add_library(x a.c)\n' > "$tmp/CMakeLists.txt"
printf '{"data": 1}\n' > "$tmp/data.json"
printf 'seed bytes\n' > "$tmp/tests/fuzz/corpus/case1"
chmod +x "$tmp/run"
# A build tree inside the source (not a git checkout: a release tarball, built
# as a packager does in obj-ARCH/): not the project's files.
mkdir -p "$tmp/obj-x86_64-linux-gnu/CMakeFiles"
touch "$tmp/obj-x86_64-linux-gnu/CMakeCache.txt"
printf 'all:\n' > "$tmp/obj-x86_64-linux-gnu/Makefile"
printf 'set(x 1)\n' > "$tmp/obj-x86_64-linux-gnu/CMakeFiles/x.cmake"
if out=$("$tmp/scripts/spdx.sh" --check); then
  echo "spdx.sh --check passed a tree with files lacking the line"; exit 1
fi
for f in a.c run docs/page.md CMakeLists.txt; do
  grep -q -x "no SPDX line: $f" <<<"$out" || { echo "--check did not name $f:"; echo "$out"; exit 1; }
done
if grep -q -E 'data.json|corpus' <<<"$out"; then echo "--check named a data file:"; echo "$out"; exit 1; fi
if grep -q 'obj-' <<<"$out"; then echo "--check named a file of a build tree:"; echo "$out"; exit 1; fi
"$tmp/scripts/spdx.sh" --fix >/dev/null
"$tmp/scripts/spdx.sh" --check >/dev/null
[ "$(head -n 1 "$tmp/a.c")" = "/* SPDX-License-Identifier: MIT */" ] || { echo "a.c: $(head -n 1 "$tmp/a.c")"; exit 1; }
[ "$(sed -n 2p "$tmp/run")" = "# SPDX-License-Identifier: MIT" ] && [ "$(head -n 1 "$tmp/run")" = "#!/bin/sh" ] ||
  { echo "run: the line must follow #!"; exit 1; }
[ -x "$tmp/run" ] || { echo "--fix lost the executable bit"; exit 1; }
[ "$(head -n 1 "$tmp/docs/page.md")" = "<!-- SPDX-License-Identifier: MIT -->" ] || { echo "page.md"; exit 1; }
[ "$(head -n 1 "$tmp/data.json")" = '{"data": 1}' ] || { echo "--fix touched data.json"; exit 1; }
before=$(cat "$tmp/a.c" "$tmp/run" "$tmp/docs/page.md" "$tmp/CMakeLists.txt" | md5sum)
"$tmp/scripts/spdx.sh" --fix >/dev/null
[ "$(cat "$tmp/a.c" "$tmp/run" "$tmp/docs/page.md" "$tmp/CMakeLists.txt" | md5sum)" = "$before" ] ||
  { echo "--fix is not idempotent"; exit 1; }

"$src/scripts/spdx.sh" --check
