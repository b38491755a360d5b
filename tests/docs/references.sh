#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The documentation's references to itself and to the tree resolve:
#   1. every Markdown link of README.md, CHANGELOG.md and docs/*.md to a
#      file of the repository names a file that exists, and its #anchor, if
#      any, a heading of that file (GitHub's rule: lower case, punctuation
#      dropped, spaces to hyphens);
#   2. every section named in quotes after a page -- `docs/chan.md,
#      "Select"`, `[chan.md](chan.md), "fork()"` -- in README.md, docs/*.md
#      and the public headers is a heading of that page, or the bold label
#      that opens one of its paragraphs (**fork().**): the heading itself,
#      or its first words (`"Select"` for "Select -- ferry/select.h");
#   3. every file of the tree those files name in backticks (under src/,
#      tests/, examples/, models/, scripts/, cmake/, include/ferry/, tools/,
#      apps/, bench/ or abi/, with a file name extension; `*` and NAME as
#      wildcards) exists.
#   CHANGELOG.md and docs/performance.md are records, each entry written
#   as things were then: only their links (1) are checked;
#   4. the check itself: a copy of the tree with a renamed heading, a link to
#      a missing anchor and a path that does not exist fails each check.
#   references.sh SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check TREE: prints one line per reference that does not resolve
  (cd "$1" && perl -e '
    use strict; use warnings;
    sub slurp { open(my $fh, "<", $_[0]) or return undef; local $/; my $t = <$fh>; close $fh; $t }
    my %heads;   # page -> [headings as written, without markup]
    sub heads {
      my ($p) = @_;
      return $heads{$p} if $heads{$p};
      my $t = slurp($p) // "";
      $t =~ s/^```.*?^```//gms;   # code blocks hold no headings
      my @h = map { my $x = $_; $x =~ s/`//g; $x } ($t =~ /^#+[ \t]+(.*?)[ \t]*$/mg);
      push @h, map { my $x = $_; $x =~ s/`//g; $x =~ s/\.$//; $x } ($t =~ /^\*\*([^*\n]+)\*\*/mg);
      return $heads{$p} = \@h;
    }
    sub slug { my $s = lc shift; $s =~ s/[^\w\- ]//g; $s =~ tr/ /-/; $s }
    sub page {   # a page named in FROM: as a path, or by its name under docs/
      my ($from, $name) = @_;
      my $dir = $from =~ m{^(.*)/} ? "$1/" : "";
      for my $c ("$dir$name", $name, "docs/$name") {
        (my $n = $c) =~ s{(^|/)\./}{$1}g;
        1 while $n =~ s{[^/]+/\.\./}{};
        return $n if -f $n;
      }
      return undef;
    }
    my @docs = ("README.md", "CHANGELOG.md", glob("docs/*.md"));
    my %record = map { $_ => 1 } ("CHANGELOG.md", "docs/performance.md");
    my @headers = glob("include/ferry/*.h include/ferry/*.h.in");
    for my $f (@docs) {
      my $t = slurp($f) // next;
      (my $prose = $t) =~ s/^```.*?^```//gms;
      # 1. Links to files of the repository, and their anchors.
      while ($prose =~ /\]\(([^)\s#]*)(#[^)\s]*)?\)/g) {
        my ($path, $anchor) = ($1, $2);
        next if $path =~ m{^[a-z]+:};
        my $p = $path eq "" ? $f : page($f, $path);
        if (!defined $p && !-d (($f =~ m{^(.*)/} ? "$1/" : "") . $path)) { print "$f: link to $path, which does not exist\n"; next; }
        next unless $anchor && defined $p && $p =~ /\.md$/;
        my $a = substr($anchor, 1);
        print "$f: link to $path$anchor: no such heading in $p\n" unless grep { slug($_) eq $a } @{heads($p)};
      }
      next if $record{$f};
      # 3. Files of the tree in backticks.
      while ($prose =~ /`((?:src|tests|examples|models|scripts|cmake|include\/ferry|tools|apps|bench|abi)\/[\w.\/*+-]*\.\w+)`/g) {
        my $p = $1;
        (my $g = $p) =~ s/NAME/*/g;
        $g =~ s{/$}{};
        print "$f: names $p, which does not exist\n" unless grep { -e } glob($g);
      }
    }
    # 2. Sections named in quotes after a page.
    for my $f ((grep { !$record{$_} } @docs), @headers) {
      my $t = slurp($f) // next;
      $t =~ s/^[ \t]*\*[ \t]?//mg if $f =~ /\.h(\.in)?$/;
      $t =~ s/\s+/ /g;
      while ($t =~ /\b((?:docs\/)?[\w-]+\.md)\]?(?:\([^)\s]*\))?,? "([^"]{1,80})"/g) {
        my ($name, $sec) = ($1, $2);
        my $p = page($f, $name) // do { print "$f: names $name, which does not exist\n"; next };
        next if grep { $_ eq $sec || (index($_, $sec) == 0 && substr($_, length $sec, 1) =~ /^[^\w]$/) } @{heads($p)};
        print "$f: $name, \"$sec\": no such heading in $p\n";
      }
    }')
}

check "$src" >"$tmp/problems"
[ ! -s "$tmp/problems" ] || { cat "$tmp/problems"; exit 1; }

# 4. The check catches each kind of broken reference.
mkdir "$tmp/tree"
(cd "$src" && cp -r --parents README.md CHANGELOG.md docs include "$tmp/tree/")
for f in "$src"/*; do   # the rest of the tree, as links
  [ -e "$tmp/tree/${f##*/}" ] || ln -s "$f" "$tmp/tree/${f##*/}"
done
cp -r "$tmp/tree" "$tmp/clean"
check "$tmp/clean" >"$tmp/clean.out"
[ ! -s "$tmp/clean.out" ] || { cat "$tmp/clean.out"; echo "the copy of the tree does not pass"; exit 1; }
perl -0pi -e 's/^## fork\(\)$/## Forking/m' "$tmp/tree/docs/chan.md"
printf '\nSee [the rules](design.md#no-such-heading) and `tests/unit/no_such_test.c`.\n' >>"$tmp/tree/docs/list.md"
check "$tmp/tree" >"$tmp/bad.out" || true
for want in '"fork()": no such heading' 'design.md#no-such-heading' 'no_such_test.c'; do
  grep -q -F "$want" "$tmp/bad.out" || { cat "$tmp/bad.out"; echo "the check missed: $want"; exit 1; }
done
echo "references: links, anchors, quoted sections and tree paths of the docs resolve: ok"
