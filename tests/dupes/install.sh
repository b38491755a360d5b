#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install puts ferry-dupes in bin/ and its man page in share/man/man1/,
# and the installed program runs.
#   install.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
"$tmp/prefix/bin/ferry-dupes" --version | grep -q '^ferry-dupes [0-9]'
page=$(ls "$tmp"/prefix/share/man/man1/ferry-dupes.1)
grep -q '^\.TH FERRY-DUPES 1' "$page"
if command -v man >/dev/null; then # the page renders without warnings
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || { echo "man page warnings: $warnings"; exit 1; }
fi
mkdir "$tmp/t"
printf 'same\n' > "$tmp/t/a"
printf 'same\n' > "$tmp/t/b"
out=$("$tmp/prefix/bin/ferry-dupes" --no-db -q --format fdupes "$tmp/t")
[ "$out" = "$(printf '%s\n%s\n' "$tmp/t/a" "$tmp/t/b")" ] || { echo "installed ferry-dupes printed: $out"; exit 1; }
echo "install: bin/ferry-dupes, share/man/man1/ferry-dupes.1: ok"
