#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every section-3 page's SYNOPSIS says what its header declares, checked
# from the pages as a reader sees them (not from the generator's own parse):
#   1. each prototype in a SYNOPSIS is, word for word, a declaration in the
#      header the page names (#include <ferry/X.h>), comments and line breaks
#      aside;
#   2. the compiler agrees: every prototype, redeclared after the headers,
#      is compatible with the header's (a changed type is "conflicting types"),
#      and every function and macro it names is declared by the headers, as
#      C11 with -Wall -Wextra -Werror -pedantic, with and without FERRY_DEBUG;
#   3. every public function, macro and variable (manpages.pl --list-public)
#      is in a SYNOPSIS, and none is there twice; so is, independently of
#      that parse, every ferry_ symbol the shared library exports (nm -D);
#   4. the check itself: a page whose prototype has another parameter type,
#      or names a function no header declares, fails it.
#   synopsis.sh PERL SOURCE_DIR MAN_DIR C_COMPILER LIBFERRY_SO HEADER...
set -euo pipefail
perl=$1 src=$2 man=$3 cc=$4 lib=$5; shift 5
headers=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc=()
for h in "${headers[@]}"; do
  d=$(dirname "$(dirname "$h")")
  [[ " ${inc[*]-} " == *" -I$d "* ]] || inc+=("-I$d")
done

# synopses MAN3_DIR: "HEADER<TAB>ENTRY" for every SYNOPSIS entry, wrapped
# lines joined, roff escapes undone.
synopses() {
  "$perl" -e '
    for my $f (sort glob("$ARGV[0]/*.3")) {
      open(my $fh, "<", $f) or die "$f: $!\n";
      my @l = <$fh>;
      next if @l && $l[0] =~ /^\.so /;
      my ($in, $hdr, @e) = (0, "");
      for (@l) {
        chomp;
        if (/^\.SH SYNOPSIS/) { $in = 1; next; }
        last if $in && /^\.SH /;
        next unless $in;
        next if /^\./ || /^\s*$/ || /^Compile and link/;
        s/\\-/-/g; s/\\e/\\/g; s/\\&//g;
        if (/^#include <(ferry\/\w+\.h)>/) { $hdr = $1; next; }
        if (/^\s/ && @e) { s/^\s+//; $e[-1] .= " $_"; } else { push @e, $_; }
      }
      die "$f: no SYNOPSIS with an #include\n" unless $hdr;
      print "$hdr\t$_\n" for @e;
    }' "$1"
}

# check MAN3_DIR: prints one line per disagreement.
check() {
  local m3=$1
  synopses "$m3" >"$tmp/entries" || { echo "cannot read the pages in $m3"; return; }
  # 1. Word for word in the header (squeezed as manpages.pl shows it).
  "$perl" -e '
    my ($list, @headers) = @ARGV;
    my %text;
    for my $h (@headers) {
      my ($b) = $h =~ m{/(\w+\.h)(?:\.in)?$} or next;
      open(my $fh, "<", $h) or die "$h: $!\n";
      local $/; my $t = <$fh>;
      $t =~ s{/\*.*?\*/}{ }gs; $t =~ s{//[^\n]*}{}g; $t =~ s/\\\n/ /g;
      $t =~ s/\s+/ /g; $t =~ s/\( /(/g; $t =~ s/ \)/)/g;
      # void (ferry_rcu_synchronize)(void): the name in parentheses, as the
      # SYNOPSIS does not show it (the parentheses keep a macro of that name out).
      $t =~ s/\((ferry_\w+)\)\s*\(/$1(/g;
      $text{"ferry/$b"} = $t;
    }
    open(my $fh, "<", $list) or die;
    while (<$fh>) {
      chomp;
      my ($h, $e) = split /\t/, $_, 2;
      defined $text{$h} or do { print "SYNOPSIS names <$h>, which is not a public header\n"; next; };
      my $want;
      if ($e =~ /^(\w+\([^)]*\))\s+\(macro\)$/) { $want = "#define $1"; }
      else { ($want = $e) =~ s/;$//; $want =~ s/\s+/ /g; }
      my $t = $text{$h};
      print "<$h> does not declare, word for word: $e\n" unless index($t, $want) >= 0;
    }' "$tmp/entries" "${headers[@]}"
  # 2. The compiler: names declared by the headers, prototypes compatible.
  "$perl" -e '
    my ($list, @headers) = @ARGV;
    my (%seen, @uses, @decls);
    print "#include <ferry/$_>\n" for map { m{/(\w+\.h)(?:\.in)?$} ? $1 : () } @headers;
    open(my $fh, "<", $list) or die;
    while (<$fh>) {
      chomp;
      my (undef, $e) = split /\t/, $_, 2;
      if ($e =~ /^(\w+)\(.*\(macro\)$/) {
        push @uses, "#ifndef $1\n#error \"SYNOPSIS macro $1 is not defined by the headers\"\n#endif";
        next;
      }
      if ($e =~ /^extern\b.*\b(ferry_\w+)\s*;$/) {   # a variable
        push @uses, "    (void)&$1;";
        push @decls, $e;
        next;
      }
      my ($name) = $e =~ /\b(ferry_\w+)\s*\(/ or do { print "#error \"not a prototype: $e\"\n"; next; };
      push @uses, "    (void)&$name;";
      (my $d = $e) =~ s/\b\Q$name\E\s*\(/($name)(/;
      push @decls, $d;
    }
    print "void ferry_synopsis_uses(void);\nvoid ferry_synopsis_uses(void) {\n";
    print "$_\n" for @uses;
    print "}\n";
    print "$_\n" for @decls;' "$tmp/entries" "${headers[@]}" >"$tmp/synopsis.c"
  for debug in 0 1; do
    "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -DFERRY_DEBUG=$debug "${inc[@]}" \
      "$tmp/synopsis.c" >"$tmp/cc.err" 2>&1 ||
      { sed 's/^/  /' "$tmp/cc.err"; echo "the SYNOPSIS prototypes do not compile against the headers (FERRY_DEBUG=$debug)"; }
  done
  # 3. Every public name once.
  cut -f2 "$tmp/entries" | "$perl" -ne 'print "$1\n" if /^extern\b.*\b(ferry_\w+)\s*;$/ || /\b((?:ferry|FERRY)_[A-Za-z0-9]\w*)\s*\(/' |
    sort >"$tmp/shown"
  uniq -d "$tmp/shown" | sed 's/^/SYNOPSIS shows twice: /'
  "$perl" "$src/scripts/manpages.pl" --list-public "${headers[@]}" | sort -u | comm -23 - <(sort -u "$tmp/shown") |
    sed 's/^/in no SYNOPSIS: /'
  nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $3); if ($3 ~ /^ferry_[a-z0-9]/) print $3 }' | sort -u |
    comm -23 - <(sort -u "$tmp/shown") | sed "s/^/exported by $(basename "$lib") but in no SYNOPSIS: /"
}

check "$man/man3" >"$tmp/problems"
[ ! -s "$tmp/problems" ] || { cat "$tmp/problems"; exit 1; }
n=$(wc -l <"$tmp/entries")

# 4. The check catches a changed parameter type and a function no header has.
page=$(grep -l -E '^(ssize_t|int) ferry_\w+\(.*\bsize_t\b' "$man"/man3/*.3 | head -n1)
[ -n "$page" ] || { echo "no page with a size_t parameter to tamper with"; exit 1; }
for how in type name; do
  rm -rf "$tmp/bad"; mkdir "$tmp/bad"; cp "$man"/man3/*.3 "$tmp/bad/"
  if [ $how = type ]; then
    "$perl" -0pi -e 's/^((?:ssize_t|int) ferry_\w+\(.*?)\bsize_t\b/$1unsigned char/m' "$tmp/bad/$(basename "$page")"
  else
    "$perl" -0pi -e 's/^(\.SH DESCRIPTION)/int ferry_no_such_function(void);\n$1/m' "$tmp/bad/$(basename "$page")"
  fi
  cmp -s "$page" "$tmp/bad/$(basename "$page")" && { echo "tampering ($how) changed nothing"; exit 1; }
  check "$tmp/bad" >"$tmp/bad.out"
  [ -s "$tmp/bad.out" ] || { echo "the check passed a page with a wrong SYNOPSIS ($how)"; exit 1; }
done
echo "SYNOPSIS: $n entries in $(ls "$man"/man3/*.3 | xargs grep -L '^\.so ' | wc -l) pages match their headers, word for word and to the compiler: ok"
