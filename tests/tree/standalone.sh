#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The repository stands alone: no file of the project cites design notes or
# paths that exist only outside it (a DESIGN file in upper case, numbered
# "seed" articles, the shared folder beside the repository). A reader of
# the repository must find everything it refers to inside it.
#   standalone.sh SOURCE_DIR
set -euo pipefail
src=$1
# Written so that this file does not match itself.
patterns=('DESIGN[.]md' '[Ss]eed (article|0[0-9]{2})' '/work/[s]hared' '[.][.]/[s]hared/')
regex=$(IFS='|'; echo "${patterns[*]}")

check() {   # check DIR: print every citation, exit status 1 if any
  local dir=$1 list
  if git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    list=$(git -C "$dir" ls-files)
  else
    # Not build trees: build/, or any directory with a CMakeCache.txt.
    list=$(cd "$dir" && find . \( -path ./build -o -path ./.git \) -prune -o \
      -type d -exec test -e '{}/CMakeCache.txt' ';' -prune -o -type f -print | sed 's|^\./||')
  fi
  local found=0
  while IFS= read -r f; do
    [ -f "$dir/$f" ] || continue
    if grep -n -E -I "$regex" "$dir/$f" | sed "s|^|$f:|"; then found=1; fi
  done <<<"$list"
  return $found
}

# The check itself fails on a citation (not a git checkout: every file).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '/* see %s section 3 */\n' "DESIGN"".md" > "$tmp/a.c"
printf 'As the %s 001 says.\n' "seed" > "$tmp/b.md"
printf 'clean\n' > "$tmp/c.md"
mkdir "$tmp/obj-x86_64-linux-gnu"   # a build tree, as a packager names it
touch "$tmp/obj-x86_64-linux-gnu/CMakeCache.txt"
cp "$tmp/a.c" "$tmp/obj-x86_64-linux-gnu/generated.c"
out=$(check "$tmp" || true)
grep -q '^a.c:' <<<"$out" && grep -q '^b.md:' <<<"$out" && ! grep -q '^c.md:' <<<"$out" &&
  ! grep -q '^obj-' <<<"$out" ||
  { echo "the citation check does not work:"; echo "$out"; exit 1; }

if ! check "$src"; then
  echo "standalone: the files above cite documents outside the repository; say it in docs/ instead"
  exit 1
fi
echo "standalone: no file cites anything outside the repository"
