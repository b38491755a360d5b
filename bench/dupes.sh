#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/dupes.sh: ferry-dupes against jdupes, rdfind, fdupes and rmlint on the
# same tree in the same run (make bench runs it; scripts/deps.sh bench
# installs the tools).
#
#   bench/dupes.sh [TREE]          TREE defaults to /usr
#   ROUNDS=N        interleaved rounds per mode (default 3)
#   MODES="..."     any of: cold warm index memory million (default: cold warm index memory)
#   TOOLS="..."     any of: ferry ferry-verify jdupes rdfind fdupes rmlint
#                   (default: all)
#   PEER_TIMEOUT=S  a peer run taking longer is stopped and counted as S (default 600)
#
# cold    page cache, dentries and inodes dropped before every run
#         (sync; echo 3 > /proc/sys/vm/drop_caches: needs root; skipped otherwise)
# warm    every tool once untimed, then the timed rounds
# index   ferry-dupes building its index (cold), then re-running from it, cold
#         and warm: time and bytes read against a run without the index
# memory  peak RSS of ferry-dupes on TREE, with and without the index
# million peak RSS on a generated tree of 1,000,000 small files (on a tmpfs,
#         deleted afterwards): the growth per million files
#
# In each round the tools run in a rotated order, so that a change of load
# hits all of them alike. Reported: median and worst wall time, median peak
# RSS, groups found, and the ratio of each to ferry-dupes. The machine is
# shared: the load average is printed with every mode.
set -uo pipefail
cd "$(dirname "$0")/.."

tree=${1:-/usr}
rounds=${ROUNDS:-3}
modes=${MODES:-cold warm index memory}
tools=${TOOLS:-ferry ferry-verify jdupes rdfind fdupes rmlint}
peer_timeout=${PEER_TIMEOUT:-600}
bin=build/release/apps/ferry-dupes
if [ ! -x "$bin" ]; then
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/release -j "$(nproc)" --target ferry-dupes >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

can_drop=0
if sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then can_drop=1; fi
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

cmd_of() { # the shell command of one tool's run; its output in $tmp/TOOL.out
  local out=$tmp/$1.out
  case $1 in
    ferry) echo "exec $bin --no-db -q --format fdupes '$tree' > $out" ;;
    ferry-verify) echo "exec $bin --no-db -q --verify --format fdupes '$tree' > $out" ;;
    jdupes) echo "exec timeout $peer_timeout jdupes -r -q '$tree' > $out 2>/dev/null" ;;
    rdfind) echo "exec timeout $peer_timeout rdfind -dryrun true -outputname $out '$tree' > /dev/null 2>&1" ;;
    fdupes) echo "exec timeout $peer_timeout fdupes -r -q -n '$tree' > $out 2>/dev/null" ;;
    rmlint) echo "exec timeout $peer_timeout rmlint -T df -o fdupes:$out '$tree' > /dev/null 2>&1" ;;
  esac
}

groups_of() { # groups in a tool's output
  local out=$tmp/$1.out
  [ -f "$out" ] || { echo "?"; return; }
  case $1 in
    rdfind) grep -c '^DUPTYPE_FIRST_OCCURRENCE' "$out" ;;
    *) awk 'BEGIN{g=0; inside=0} /^$/{if(inside)g++; inside=0; next} {inside=1} END{if(inside)g++; print g}' "$out" ;;
  esac
}

available() {
  case $1 in
    ferry|ferry-verify) return 0 ;;
    *) command -v "$1" >/dev/null ;;
  esac
}

median() { sort -g | awk '{a[NR]=$1} END{if(NR==0){print "-"; exit} if(NR%2)print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
worst() { sort -g | tail -1; }

timed() { # label tool: one run, appends "tool seconds KiB" to $tmp/label.times
  /usr/bin/time -f '%e %M' -o "$tmp/time.txt" sh -c "$(cmd_of "$2")" || true
  echo "$2 $(tail -1 "$tmp/time.txt")" >> "$tmp/$1.times"
}

report() { # label
  local label=$1 base
  base=$(awk '$1=="ferry"{print $2}' "$tmp/$label.times" | median)
  printf '| %-13s | %8s | %8s | %9s | %7s | %s |\n' tool "median s" "worst s" "peak RSS" groups "median / ferry-dupes"
  printf '|%s|%s|%s|%s|%s|%s|\n' --------------- ---------- ---------- ----------- --------- ---------------------
  for t in $active; do
    local med wst rss
    med=$(awk -v t="$t" '$1==t{print $2}' "$tmp/$label.times" | median)
    wst=$(awk -v t="$t" '$1==t{print $2}' "$tmp/$label.times" | worst)
    rss=$(awk -v t="$t" '$1==t{print $3}' "$tmp/$label.times" | median)
    printf '| %-13s | %8s | %8s | %6s MB | %7s | %s |\n' "$t" "$med" "$wst" "$(awk -v k="$rss" 'BEGIN{printf "%.0f", k/1024}')" \
      "$(groups_of "$t")" "$(awk -v a="$med" -v b="$base" 'BEGIN{if(b>0)printf "%.2fx", a/b; else print "-"}')"
  done
}

rounds_of() { # label, with cold=1 drop caches before each run
  local label=$1 cold=$2 r i n
  set -- $active
  n=$#
  for r in $(seq 1 "$rounds"); do
    local order=() k
    for i in $(seq 0 $((n - 1))); do
      k=$(( (i + r - 1) % n + 1 ))
      order+=("${!k}")
    done
    for t in "${order[@]}"; do
      [ "$cold" = 1 ] && drop
      timed "$label" "$t"
    done
  done
}

stat_of() { sed -nE "s/^$1 +([0-9]+).*/\1/p" "$2"; }

echo "# bench/dupes.sh $tree, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)"
echo "# tree: $(find "$tree" -xdev -type f 2>/dev/null | wc -l) files, $(du -sh --apparent-size "$tree" 2>/dev/null | cut -f1)"
echo "# ferry-dupes: $("$bin" --version); peers: jdupes $(jdupes -v 2>/dev/null | head -1 | awk '{print $2}'), rdfind $(rdfind -v 2>/dev/null | awk '{print $NF}'), fdupes $(fdupes -v 2>/dev/null | awk '{print $2}'), rmlint $(rmlint --version 2>&1 | head -1 | awk '{print $2}')"
echo "# rounds: $rounds, interleaved; command: ROUNDS=$rounds MODES=\"$modes\" TOOLS=\"$tools\" bench/dupes.sh $tree"

active=""
for t in $tools; do
  if available "$t"; then active="$active $t"; else echo "# $t: not installed (scripts/deps.sh bench), left out"; fi
done

for mode in $modes; do
  case $mode in
    cold)
      echo; echo "## cold cache (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
      if [ $can_drop = 0 ]; then echo "not permitted here (drop_caches needs root): skipped"; continue; fi
      rounds_of cold 1
      report cold
      echo "(load after: $(cut -d' ' -f1-3 /proc/loadavg))" ;;
    warm)
      echo; echo "## warm cache (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
      for t in $active; do sh -c "$(cmd_of "$t")"; done
      rounds_of warm 0
      report warm
      echo "(load after: $(cut -d' ' -f1-3 /proc/loadavg))" ;;
    index)
      echo; echo "## the index: first run, then re-runs (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
      db=$tmp/index.db
      "$bin" --no-db -q --stats "$tree" > /dev/null 2> "$tmp/noindex.err"
      full=$(stat_of "bytes read" "$tmp/noindex.err")
      printf '| %-28s | %8s | %8s | %14s | %s |\n' run "median s" "worst s" "bytes read" "of a run without index"
      printf '|%s|%s|%s|%s|%s|\n' ------------------------------ ---------- ---------- ---------------- ------------------------
      for kind in build rerun-cold rerun-warm; do
        : > "$tmp/idx.times"
        for r in $(seq 1 "$rounds"); do
          if [ $kind = build ]; then rm -f "$db" "$db-wal"; fi
          if [ $kind != rerun-warm ] && [ $can_drop = 1 ]; then drop; fi
          /usr/bin/time -f '%e' -o "$tmp/time.txt" "$bin" --db "$db" -q --stats "$tree" > /dev/null 2> "$tmp/idx.err"
          echo "$(tail -1 "$tmp/time.txt") $(stat_of "bytes read" "$tmp/idx.err")" >> "$tmp/idx.times"
        done
        printf '| %-28s | %8s | %8s | %14s | %s |\n' "$kind$([ $can_drop = 0 ] && [ $kind != rerun-warm ] && echo ' (caches not dropped)')" \
          "$(awk '{print $1}' "$tmp/idx.times" | median)" "$(awk '{print $1}' "$tmp/idx.times" | worst)" \
          "$(awk '{print $2}' "$tmp/idx.times" | median)" \
          "$(awk -v f="$full" '{print $2}' "$tmp/idx.times" | median | awk -v f="$full" '{printf "%.2f%%", 100*$1/f}')"
      done
      echo "(a run without the index read $full bytes; load after: $(cut -d' ' -f1-3 /proc/loadavg))" ;;
    memory)
      echo; echo "## peak memory on $tree (load: $(cut -d' ' -f1-3 /proc/loadavg))"
      for args in "--no-db" "--db $tmp/mem.db" "--db $tmp/mem.db"; do
        /usr/bin/time -f '%M' -o "$tmp/time.txt" "$bin" $args -q "$tree" > /dev/null
        echo "ferry-dupes $args: $(awk '{printf "%.1f MB", $1/1024}' "$tmp/time.txt") peak RSS"
      done ;;
    million)
      echo; echo "## a million files (load: $(cut -d' ' -f1-3 /proc/loadavg))"
      big=$(mktemp -d /dev/shm/ferry-dupes-million-XXXXXX)
      python3 - "$big" <<'EOF'
import os, sys
root = sys.argv[1].encode()
for d in range(1000):
    dd = root + b"/d%04d" % d
    os.mkdir(dd)
    for f in range(1000):
        fd = os.open(dd + b"/file-%04d-with-a-name-of-usual-length" % f, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"%d\n" % ((d * 1000 + f) % 300000))  # a third of them duplicated
        os.close(fd)
EOF
      for n in 1000 100000 1000000; do
        for args in "--no-db" "--db $tmp/m$n.db"; do
          paths=("$big"/d*)
          /usr/bin/time -f '%M %e' -o "$tmp/time.txt" "$bin" $args -q "${paths[@]:0:$((n / 1000))}" > /dev/null
          echo "$n files, ferry-dupes $args: $(awk '{printf "%.1f MB peak RSS, %s s", $1/1024, $2}' "$tmp/time.txt")"
        done
      done
      rm -rf "$big" ;;
    *) echo "unknown mode $mode" >&2 ;;
  esac
done
