#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The peer suite's plot (gnuplot, PNG):
#   bench/peers/plot.sh PLOT.DAT OUT.PNG [TITLE]
# PLOT.DAT (written by scripts/bench-peers-run.sh): a header "case lib1 lib2 ...",
# then one line per case with each library's median M items/s (NaN: not run).
# Three panels: batch 1 bounded (and select), batch 1 unbounded, batch 16 and
# 256 (and the 1024 tight ring); clustered bars on a log scale, one colour per
# library (the same in every panel); libraries without a result in a panel
# are left out of it.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PLOT.DAT OUT.PNG [TITLE]" >&2; exit 2; }
data=$1 out=$2 title=${3:-ferry against its peers}
command -v gnuplot >/dev/null || { echo "bench/peers/plot.sh: no gnuplot (scripts/deps.sh bench installs gnuplot-nox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk 'NR == 1 || $1 ~ /-b1-bounded$|^select/' "$data" >"$tmp/p1.dat"
awk 'NR == 1 || $1 ~ /-b1-unbounded$/' "$data" >"$tmp/p2.dat"
awk 'NR == 1 || ($1 !~ /-b1-|^select/)' "$data" >"$tmp/p3.dat"

# One panel's plot command: a bar series per column with any value.
panel() {   # file title
  local f=$1 cols
  cols=$(awk 'NR > 1 { for (i = 2; i <= NF; i++) if ($i != "NaN") has[i] = 1 }
              END { for (i = 2; i <= 64; i++) if (has[i]) printf "%d ", i }' "$f")
  [ -n "$cols" ] || return 0
  echo "set title \"$2\" noenhanced"
  local sep="plot" c name color
  for c in $cols; do
    name=$(awk -v c="$c" 'NR == 1 { print $c }' "$f")
    case "$name" in
      ferry) color="#7b2d8e" ;; crossbeam) color="#1b9e77" ;; flume) color="#66c2e8" ;;
      go) color="#e6a01a" ;; moodycamel) color="#f0e050" ;; ring) color="#2c6fa8" ;; *) color="#888888" ;;
    esac
    echo "$sep '$f' using $c:xtic(1) title columnheader($c) lc rgb '$color' \\"
    sep="   ,"
  done
  echo ""
}
panels=0
for p in p1 p2 p3; do [ "$(wc -l <"$tmp/$p.dat")" -gt 1 ] && panels=$((panels + 1)); done
[ "$panels" -gt 0 ] || { echo "bench/peers/plot.sh: no data in $data" >&2; exit 1; }
{
  echo "set terminal pngcairo size 1600,$((450 * panels)) font 'sans,10'"
  echo "set output '$out'"
  echo "set style data histograms"
  echo "set style histogram clustered gap 1"
  echo "set style fill solid 0.85 border -1"
  echo "set boxwidth 0.9"
  echo "set logscale y"
  echo "set ylabel 'M items/s (median; higher is better)'"
  echo "set grid ytics"
  echo "set key outside right top vertical"
  echo "set xtics rotate by 30 right noenhanced"
  echo "set lmargin 10"
  echo "set bmargin 7"
  echo "set multiplot layout $panels,1 title \"$title\" noenhanced"
  panel "$tmp/p1.dat" "batch 1, bounded (capacity 4096); select over 2 and 8 channels"
  panel "$tmp/p2.dat" "batch 1, unbounded"
  panel "$tmp/p3.dat" "batch 16 and 256: bounded (4096), unbounded, and the tight ring (spsc, capacity 1024)"
  echo "unset multiplot"
} >"$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
