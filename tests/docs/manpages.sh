#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The manual pages (scripts/manpages.pl) are complete and well formed:
#   1. every public function and macro of the headers has a doc comment;
#   2. the check catches an undocumented function, inline function and macro;
#   3. every public function and macro has a page of its name in the build,
#      each link page points at a page that exists;
#   4. the pages, and the section-1 pages of apps/ and tools/, format without
#      groff warnings (other than long code lines in verbatim blocks);
#   manpages.sh PERL SOURCE_DIR MAN_DIR HEADER...
set -euo pipefail
perl=$1 src=$2 man=$3; shift 3
gen="$src/scripts/manpages.pl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$perl" "$gen" --check "$@"

# 2. A header with one documented and three undocumented declarations.
mkdir -p "$tmp/inc"
cat > "$tmp/inc/probe.h" <<'H'
/* ferry/probe.h: a header for the check's own test. */
FERRY_EXTERN_C_BEGIN

/* Documented: does nothing. */
int ferry_probe_documented(void);

int ferry_probe_plain(void);

static inline int ferry_probe_inline(void) { return 0; }

#define ferry_probe_macro(x) ((x) + 1)

/* Internal helpers need no comment. */
int ferry__probe_internal(void);

FERRY_EXTERN_C_END
H
if "$perl" "$gen" --check "$tmp/inc/probe.h" 2>"$tmp/err"; then
  echo "manpages.pl --check passed a header with undocumented functions"; exit 1
fi
for f in ferry_probe_plain ferry_probe_inline ferry_probe_macro; do
  grep -q "$f" "$tmp/err" || { echo "--check did not name $f:"; cat "$tmp/err"; exit 1; }
done
if grep -q -E 'ferry_probe_documented|ferry__probe_internal' "$tmp/err"; then
  echo "--check complained about a documented or internal function:"; cat "$tmp/err"; exit 1
fi

# 3. A page for every public name; link pages resolve.
[ -s "$man/man3/ferry_chan.3" ] || { echo "no ferry_chan.3 in $man/man3"; exit 1; }
missing=0
while read -r name; do
  if [ ! -f "$man/man3/$name.3" ]; then echo "no page for $name"; missing=1; fi
done < <("$perl" "$gen" --list-public "$@")
[ $missing = 0 ] || exit 1
for f in "$man"/man3/*.3; do
  target=$(sed -n '1s/^\.so //p' "$f")
  [ -z "$target" ] || [ -f "$man/$target" ] || { echo "$f: links to missing $target"; exit 1; }
done

# 4. groff finds nothing wrong. A line it cannot break is allowed inside a
#    verbatim block (.nf ... .fi: code wider than the terminal) and nowhere
#    else: a line of prose or a heading that overflows is a rendering defect
#    (a comment's "-----" rule line once did).
if command -v groff >/dev/null; then
  # The section-1 pages are written by hand, in the source tree.
  for f in "$man"/man3/*.3 $(find "$src/apps" "$src/tools" -name '*.1' -type f); do
    grep -q '^\.so ' "$f" && continue
    groff -man -Tutf8 -ww -z "$f" 2>&1 |
      awk -v page="$f" '
        FNR == NR { if ($0 ~ /^\.nf/) v = 1; else if ($0 ~ /^\.fi/) v = 0; verbatim[FNR] = v; next }
        /can.t break line/ && match($0, /:[0-9]+: warning/) {
          n = substr($0, RSTART + 1, RLENGTH - 10) + 0
          if (verbatim[n]) next
        }
        { print page ": " $0 }' "$f" - >>"$tmp/groff" || true
  done
  [ ! -s "$tmp/groff" ] || { cat "$tmp/groff"; exit 1; }
else
  echo "groff not installed: formatting not checked"
fi
echo "manual pages: $(ls "$man"/man3/*.3 | wc -l) files; every public function documented and paged: ok"
