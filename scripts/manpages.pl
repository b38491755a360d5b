#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# manpages.pl: section-3 manual pages from ferry's public headers.
#
#   manpages.pl --out DIR --version V HEADER...   write DIR/man3/*.3
#   manpages.pl --check HEADER...                 fail on undocumented API
#   manpages.pl --list-externs HEADER...          print declared symbols
#   manpages.pl --list-public HEADER...           print public functions, macros, variables
#
# The headers are the documentation: the comment at the top of a header
# describes the component, and a comment directly above a declaration (or
# above a run of declarations with no blank line between them) documents
# those declarations. For each header ferry/NAME.h this writes one page,
# ferry_NAME(3) (the header comment, a synopsis, then every documented
# declaration with its comment, in header order), and one link page per
# public function, function-like macro, variable and type name
# (".so man3/ferry_NAME.3"),
# so that `man ferry_send` finds the page of ferry/chan.h.
#
# Public names start with "ferry_" (and "FERRY_" for constants); "ferry__"
# names are internal and never shown. --check (and page generation, which
# prints the same complaints as warnings) lists every public function and
# function-like macro (FERRY_ ones included) that has no comment, and exits
# 1 if there is one.
# --list-externs prints every function and variable that the headers declare
# with external linkage (not static inline, not macros), one per line: the
# symbols the shared library must export. --list-public prints every public
# function, function-like macro and variable (each has a page of its name and
# is in its header's SYNOPSIS).
#
# Only Perl's core is needed (perl-base, which every Debian system has).
use strict;
use warnings;

my ($out, $version, $check, $list, $public) = (undef, '', 0, 0, 0);
my @headers;
while (@ARGV) {
    my $a = shift @ARGV;
    if ($a eq '--out') { $out = shift @ARGV; }
    elsif ($a eq '--version') { $version = shift @ARGV; }
    elsif ($a eq '--check') { $check = 1; }
    elsif ($a eq '--list-externs') { $list = 1; }
    elsif ($a eq '--list-public') { $public = 1; }
    elsif ($a =~ /^-/) { die "manpages.pl: unknown option $a\n"; }
    else { push @headers, $a; }
}
die "usage: manpages.pl (--out DIR --version V | --check | --list-externs | --list-public) HEADER...\n"
    unless @headers && ($out || $check || $list || $public);

# ---------------------------------------------------------------------------
# Reading a header into items: comments, preprocessor lines, blank lines and
# code statements (a declaration, a definition, a struct), in order.

sub slurp {
    my ($f) = @_;
    open(my $fh, '<', $f) or die "manpages.pl: $f: $!\n";
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t;
}

# Code with comments, strings and character literals blanked out, so that
# braces, parentheses and semicolons can be counted.
sub bare {
    my ($s) = @_;
    $s =~ s{/\*.*?\*/}{ }gs;
    $s =~ s{//[^\n]*}{}g;
    $s =~ s{"(?:\\.|[^"\\])*"}{""}g;
    $s =~ s{'(?:\\.|[^'\\])*'}{''}g;
    return $s;
}

sub items_of {
    my ($text) = @_;
    my @lines = split /\n/, $text, -1;
    pop @lines if @lines && $lines[-1] eq '';
    my @items;
    my $i = 0;
    while ($i < @lines) {
        my $l = $lines[$i];
        if ($l =~ /^\s*$/) {
            push @items, { kind => 'blank' };
            $i++;
        } elsif ($l =~ m{^\s*/\*}) {
            my @c = ($l);
            while ($c[-1] !~ m{\*/} && ++$i < @lines) { push @c, $lines[$i]; }
            $i++;
            push @items, { kind => 'comment', text => join("\n", @c) };
        } elsif ($l =~ m{^\s*//}) {
            push @items, { kind => 'comment', text => $l };
            $i++;
        } elsif ($l =~ /^\s*[A-Z][A-Z0-9_]*\s*$/) {
            # A lone macro invocation (FERRY_EXTERN_C_BEGIN): no statement.
            push @items, { kind => 'pp', text => $l };
            $i++;
        } elsif ($l =~ /^\s*#/) {
            my @p = ($l);
            while ($p[-1] =~ /\\$/ && ++$i < @lines) { push @p, $lines[$i]; }
            $i++;
            push @items, { kind => 'pp', text => join("\n", @p) };
        } else {
            # A statement: up to a ';' at depth 0, or up to the '}' that
            # closes a function body.
            my @s;
            my ($depth, $done) = (0, 0);
            while (!$done && $i < @lines) {
                my $line = $lines[$i++];
                push @s, $line;
                my $b = bare(join("\n", @s));
                $depth = 0;
                my $seen_brace = 0;
                for my $ch (split //, $b) {
                    if ($ch eq '{') { $depth++; $seen_brace = 1; }
                    elsif ($ch eq '}') { $depth--; }
                }
                next if $depth > 0;
                if ($b =~ /;\s*$/ && $depth == 0) { $done = 1; }
                elsif ($seen_brace && $depth == 0) {
                    my ($head) = $b =~ /^([^{]*)\{/s;
                    $done = 1 if defined $head && $head =~ /\)\s*$/s && $head !~ /=\s*$/s;
                }
            }
            push @items, { kind => 'code', text => join("\n", @s) };
        }
    }
    return @items;
}

# ---------------------------------------------------------------------------
# What a code or preprocessor item declares.
#   kind: function (prototype), inline (definition in the header), macro
#   (function-like), const (object-like macro), type, variable
#   name, show (what the synopsis shows)

sub strip_attributes {
    my ($s) = @_;
    # __attribute__((...)) with balanced parentheses.
    while ($s =~ /__attribute__\s*\(\(/g) {
        my $start = $-[0];
        my $pos = pos($s);
        my $depth = 2;
        while ($pos < length($s) && $depth > 0) {
            my $ch = substr($s, $pos++, 1);
            $depth++ if $ch eq '(';
            $depth-- if $ch eq ')';
        }
        substr($s, $start, $pos - $start) = ' ';
        pos($s) = $start;
    }
    return $s;
}

sub squeeze {
    my ($s) = @_;
    $s =~ s/\s+/ /g;
    $s =~ s/^ //;
    $s =~ s/ $//;
    $s =~ s/\( /(/g;
    $s =~ s/ \)/)/g;
    return $s;
}

sub decls_of {
    my ($item) = @_;
    my $t = $item->{text};
    my @d;
    if ($item->{kind} eq 'pp') {
        if ($t =~ /^\s*#\s*define\s+(\w+)\(([^)]*)\)/) {
            push @d, { kind => 'macro', name => $1, show => "$1($2)" };
        } elsif ($t =~ /^\s*#\s*define\s+(\w+)/) {
            push @d, { kind => 'const', name => $1, show => $t };
        }
        return @d;
    }
    my $b = strip_attributes(bare($t));
    # A static assertion (op.h checks sizeof(ferry_op)) declares nothing.
    return () if $b =~ /^\s*(?:_Static_assert|static_assert)\s*\(/;
    if ($b =~ /^\s*typedef\b/) {
        # typedef struct x {...} x;  typedef struct x x;  typedef void (*fn)(...);
        my $body = $b;
        $body =~ s/\{.*\}//s;
        if ($body =~ /\(\s*\*\s*(\w+)\s*\)/) { push @d, { kind => 'type', name => $1, show => $t }; }
        elsif ($body =~ /(\w+)\s*;\s*$/) { push @d, { kind => 'type', name => $1, show => $t }; }
        push @d, { kind => 'type', name => $1, show => $t } if $body =~ /^\s*typedef\s+(?:struct|union|enum)\s+(\w+)/;
        return @d;
    }
    if ($b =~ /^\s*(?:struct|union|enum)\s+(\w+)\s*\{/) {
        return ({ kind => 'type', name => $1, show => $t });
    }
    my ($head) = $b =~ /^([^{]*)/s;
    my $inline = $b =~ /\{/ ? 1 : 0;
    if ($head =~ /\(/) {
        # A function: its name is the identifier before the parameter list,
        # possibly in parentheses: void (ferry_rcu_synchronize)(void);
        my $name;
        if ($head =~ /\(\s*(\w+)\s*\)\s*\(/) { $name = $1; }
        elsif ($head =~ /(\w+)\s*\(/) { $name = $1; }
        return () unless $name;
        # A compile-time assertion is not a declaration of anything.
        return () if $name =~ /^(?:_Static_assert|static_assert)$/;
        my $show = squeeze($head);
        $show =~ s/\bstatic\s+inline\s+//;
        $show =~ s/\binline\s+//;
        $show =~ s/\(\s*\Q$name\E\s*\)/$name/;
        $show =~ s/\s*;?\s*$/;/;
        return ({ kind => $inline ? 'inline' : 'function', name => $name, show => $show });
    }
    if ($head =~ /^\s*extern\b.*?(\w+)\s*;/s) {
        return ({ kind => 'variable', name => $1, show => squeeze($head) });
    }
    return ();
}

# A prototype longer than a terminal line, broken after the commas of its
# parameter list, continuation lines aligned under the first parameter.
sub wrap_proto {
    my ($s) = @_;
    return $s if length($s) <= 74 || $s !~ /\(/;
    my $open = index($s, '(', index($s, $s =~ /^[^(]*\(\s*\w+\s*\)\s*\(/ ? ')' : '('));
    $open = index($s, '(') if $open < 0;
    my $ind = $open + 1 > 40 ? 8 : $open + 1;
    my @parts = split /(?<=,) /, $s;
    my @lines = (shift @parts);
    for my $p (@parts) {
        if (length($lines[-1]) + 1 + length($p) <= 74) { $lines[-1] .= " $p"; }
        else { push @lines, (' ' x $ind) . $p; }
    }
    return join("\n", @lines);
}

# Public: ferry_x / FERRY_X, not ferry__x, nor an include guard FERRY_X_H.
# Callable (a page of its own, in the SYNOPSIS, checked for a comment): the
# ferry_ functions and macros, and the FERRY_ function-like macros
# (FERRY_CHAN_TYPED, FERRY_LIST_INIT, ...); FERRY_ constants appear on their
# header's page only.
sub is_public { my ($n) = @_; return $n =~ /^(?:ferry|FERRY)_[A-Za-z0-9]/ && $n !~ /^FERRY_\w+_H$/ ? 1 : 0; }
sub is_callable {
    my ($d) = @_;
    return $d->{kind} =~ /^(?:function|inline|macro)$/
        && ($d->{name} =~ /^ferry_[a-z0-9]/ || ($d->{kind} eq 'macro' && $d->{name} =~ /^FERRY_[A-Z0-9]/));
}
# What a reader looks up by name (NAME, SYNOPSIS, a link page): the public
# functions and macros, and the public variables (ferry_lfht_flavor_memb).
sub is_listed { my ($d) = @_; return is_callable($d) || ($d->{kind} eq 'variable' && $d->{name} =~ /^ferry_[a-z0-9]/); }

# ---------------------------------------------------------------------------
# Groups: a comment and the declarations right below it (up to a blank line
# or the next comment); declarations with no comment above form groups
# without one.

sub comment_lines {
    my ($c) = @_;
    my @l = split /\n/, $c;
    for (@l) {
        s{^\s*/\*+ ?}{};
        s{\s*\*+/\s*$}{};
        s{^\s*\* ?}{};
        s{^\s*// ?}{};
        s{\s+$}{};
    }
    # A rule (a line of dashes or equals signs that sets a section apart in
    # the header) is layout, not text: as prose it would be one word wider
    # than the page.
    @l = grep { !/^[-=]{4,}$/ } @l;
    shift @l while @l && $l[0] eq '';
    pop @l while @l && $l[-1] eq '';
    return @l;
}

sub parse_header {
    my ($file) = @_;
    my @items = items_of(slurp($file));
    my ($base) = $file =~ m{([^/]+)\.h(?:\.in)?$};
    die "manpages.pl: $file: not a .h file\n" unless $base;
    my %h = (file => $file, base => $base, intro => [], groups => []);
    # The header comment: the first comment that is not the SPDX line.
    for my $it (@items) {
        next unless $it->{kind} eq 'comment';
        next if $it->{text} =~ /SPDX-License-Identifier/;
        $h{intro} = [comment_lines($it->{text})];
        $it->{intro} = 1;
        last;
    }
    my $g;
    for my $it (@items) {
        if ($it->{kind} eq 'blank') { $g = undef; next; }
        if ($it->{kind} eq 'comment') {
            next if $it->{intro} || $it->{text} =~ /SPDX-License-Identifier/;
            $g = { doc => [comment_lines($it->{text})], decls => [], code => [] };
            push @{$h{groups}}, $g;
            next;
        }
        next if $it->{kind} eq 'pp' && $it->{text} =~ /^\s*#\s*(?:if|ifdef|ifndef|elif|else|endif|include|pragma|error)\b/;
        my @d = decls_of($it);
        next unless @d;
        if (!$g) {
            $g = { doc => undef, decls => [], code => [] };
            push @{$h{groups}}, $g;
        }
        push @{$g->{decls}}, @d;
        push @{$g->{code}}, $it;
    }
    return \%h;
}

# ---------------------------------------------------------------------------
# roff output.

sub esc {
    my ($s) = @_;
    $s =~ s/\\/\\e/g;
    $s =~ s/-/\\-/g;
    $s =~ s/^([.'])/\\&$1/;
    return $s;
}

# Comment text to roff: prose paragraphs are filled, "- " items become
# bulleted paragraphs, anything else indented (code, tables) stays as is.
sub render_text {
    my (@lines) = @_;
    my @o;
    my $mode = '';   # prose, bullet, verbatim
    my $close = sub {
        push @o, '.fi', '.RE' if $mode eq 'verbatim';
        $mode = '';
    };
    for my $l (@lines) {
        if ($l eq '') { $close->(); push @o, '.PP'; next; }
        my ($ind) = $l =~ /^( *)/;
        my $n = length $ind;
        if ($n == 0 && $l =~ /^- (.*)/) {
            $close->();
            push @o, '.IP \(bu 2', esc($1);
            $mode = 'bullet';
        } elsif ($n == 0) {
            if ($mode ne 'prose' && $mode ne 'bullet') { $close->(); push @o, '.PP' unless @o && $o[-1] eq '.PP'; }
            if ($mode eq 'bullet') { push @o, '.PP'; }
            push @o, esc($l);
            $mode = 'prose';
        } elsif ($mode eq 'bullet' && $n <= 2 && $l !~ /^\s*- /) {
            push @o, esc(substr($l, $n));
        } else {
            if ($mode ne 'verbatim') { $close->(); push @o, '.RS 2', '.nf'; $mode = 'verbatim'; }
            push @o, esc($l);
        }
    }
    $close->();
    shift @o while @o && $o[0] eq '.PP';
    pop @o while @o && $o[-1] eq '.PP';
    my @clean;
    for (@o) { push @clean, $_ unless $_ eq '.PP' && @clean && $clean[-1] eq '.PP'; }
    return @clean;
}

sub write_file {
    my ($path, $text) = @_;
    open(my $fh, '>', $path) or die "manpages.pl: $path: $!\n";
    print $fh $text;
    close $fh or die "manpages.pl: $path: $!\n";
}

sub page_of {
    my ($h, $all) = @_;
    my $page = "ferry_$h->{base}";
    my @intro = @{$h->{intro}};
    # "ferry/chan.h: the batch channel." -> NAME's description.
    my $what = "ferry/$h->{base}.h";
    if (@intro && $intro[0] =~ m{^ferry/\w+\.h:\s*(.*)$}) {
        my $first = $1;
        shift @intro;
        if ($first =~ /^(.*?\.)\s+(\S.*)$/) { $what = $1; unshift @intro, $2; }
        else { $what = $first; }
        $what =~ s/\.$//;
        shift @intro while @intro && $intro[0] eq '';
    }
    my @groups = grep { grep { is_public($_->{name}) } @{$_->{decls}} } @{$h->{groups}};
    my (@names, %seen);
    for my $g (@groups) {
        for my $d (@{$g->{decls}}) {
            next unless is_listed($d) && !$seen{$d->{name}}++;
            push @names, $d->{name};
        }
    }
    # A macro that stands for a function of the same name is shown once, as
    # the function.
    my %function = map { $_->{name} => 1 } grep { $_->{kind} =~ /^(?:function|inline)$/ } map { @{$_->{decls}} } @groups;
    my $shown_decl = sub {
        my ($g, $d) = @_;
        return 0 unless is_public($d->{name});
        return 0 if $d->{kind} eq 'macro' && $function{$d->{name}};
        # Undocumented groups show types and constants, never functions.
        return 0 if !$g->{doc} && is_callable($d);
        return 1;
    };
    my $title = uc $page;
    my @o;
    push @o, ".\\\" SPDX-License-Identifier: MIT";
    push @o, ".\\\" Generated by scripts/manpages.pl from <ferry/$h->{base}.h>; do not edit.";
    push @o, ".TH $title 3 \"\" \"ferry $version\" \"ferry manual\"";
    push @o, '.nh', '.ad l';
    push @o, '.SH NAME';
    push @o, esc(join(', ', $page, grep { $_ ne $page } @names)) . ' \- ' . esc($what);
    push @o, '.SH SYNOPSIS', '.nf', esc("#include <ferry/$h->{base}.h>"), '';
    # Once each: a macro defined in both branches of an #if (FERRY_DEBUG or
    # not) is one name to the reader.
    my %synopsis;
    for my $g (@groups) {
        for my $d (@{$g->{decls}}) {
            next unless is_listed($d) && $shown_decl->($g, $d);
            my $s = $d->{kind} eq 'macro' ? "$d->{show}    (macro)" : $d->{show};
            next if $synopsis{$s}++;
            push @o, map { esc($_) } split /\n/, wrap_proto($s);
        }
    }
    push @o, '', esc('Compile and link with: $(pkg-config --cflags --libs ferry)'), '.fi';
    push @o, '.SH DESCRIPTION', render_text(@intro);
    for my $g (@groups) {
        my @pub = grep { $shown_decl->($g, $_) } @{$g->{decls}};
        next unless @pub;
        my %u;
        my @heads = grep { !$u{$_}++ } map { $_->{name} } @pub;
        push @o, '.SS ' . esc(join(', ', @heads));
        push @o, '.nf';
        my %shown;
        for my $c (@{$g->{code}}) {
            my @d = grep { $shown_decl->($g, $_) } decls_of($c);
            next unless @d;
            for my $d (@d) {
                my $s = $d->{kind} eq 'macro' ? "$d->{show}    (macro)"
                      : $d->{kind} =~ /^(?:type|const)$/ ? $c->{text}
                      : wrap_proto($d->{show});
                next if $shown{$s}++;
                push @o, map { "\\fB" . esc($_) . "\\fR" } split /\n/, $s;
            }
        }
        push @o, '.fi';
        push @o, '.PP', render_text(@{$g->{doc}}) if $g->{doc};
    }
    push @o, '.SH SEE ALSO';
    my @see = map { "\\fBferry_$_->{base}\\fR(3)" } grep { $_ ne $h } @$all;
    push @o, join(",\n", @see) . ',' if @see;
    push @o, "and the component's page in share/doc/ferry/docs/ under the installation prefix (docs/ in the source).";
    return ($page, join("\n", @o) . "\n", [@names, map { $_->{name} } grep { $_->{kind} eq 'type' && is_public($_->{name}) && $_->{name} =~ /^ferry_/ } map { @{$_->{decls}} } @groups]);
}

# ---------------------------------------------------------------------------

my @parsed = map { parse_header($_) } @headers;

my @missing;
for my $h (@parsed) {
    my (%documented, %where);
    for my $g (@{$h->{groups}}) {
        for my $d (@{$g->{decls}}) {
            next unless is_callable($d);
            $where{$d->{name}} //= $h->{file};
            $documented{$d->{name}} ||= $g->{doc} && @{$g->{doc}} ? 1 : 0;
        }
    }
    push @missing, map { "$where{$_}: $_" } grep { !$documented{$_} } sort keys %documented;
}

if ($public) {
    my %seen;
    for my $h (@parsed) {
        for my $d (map { @{$_->{decls}} } @{$h->{groups}}) {
            print "$d->{name}\n" if is_listed($d) && !$seen{$d->{name}}++;
        }
    }
    exit 0;
}

if ($list) {
    my %seen;
    for my $h (@parsed) {
        for my $g (@{$h->{groups}}) {
            for my $d (@{$g->{decls}}) {
                next unless $d->{kind} =~ /^(?:function|variable)$/;
                print "$d->{name}\n" unless $seen{$d->{name}}++;
            }
        }
    }
    exit 0;
}

if (@missing) {
    print STDERR ($check ? "" : "manpages.pl: warning: "), "no documentation comment above $_\n" for @missing;
}
if ($check) {
    if (@missing) {
        print STDERR "manpages.pl: ", scalar(@missing), " public function(s) or macro(s) undocumented: ",
            "put a comment directly above each declaration (see docs/design.md, \"Documentation\")\n";
        exit 1;
    }
    my $n = 0;
    $n += scalar grep { is_callable($_) } map { @{$_->{decls}} } @{$_->{groups}} for @parsed;
    print "manpages.pl: every public function and macro of ", scalar(@parsed), " headers is documented ($n declarations)\n";
    exit 0;
}

my $dir = "$out/man3";
mkdir $out;
mkdir $dir;
-d $dir or die "manpages.pl: cannot create $dir\n";
# Pages from an earlier run whose function is gone must not linger.
unlink glob("$dir/*.3");
my %link_of;
my %pages;
for my $h (@parsed) {
    my ($page, $text, $names) = page_of($h, \@parsed);
    write_file("$dir/$page.3", $text);
    $pages{$page} = 1;
    for my $n (@$names) { $link_of{$n} //= $page; }
}
for my $n (sort keys %link_of) {
    next if $pages{$n};
    write_file("$dir/$n.3", ".so man3/$link_of{$n}.3\n");
}
