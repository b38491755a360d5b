#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the channel peer suite from prebuilt static binaries: nothing is built,
# nothing is installed, so a directory of binaries can be carried to another
# machine (bash, coreutils, awk and timeout are all it needs there, with this
# checkout's bench/peers/summary.awk, which makes the table).
#
#   scripts/bench-peers-run.sh BINDIR [options]
#     --rounds R     rounds (default 5; --quick 2)
#     --n N          items per batch-1 run (default 8000000; --quick 200000);
#                    batch 16 runs move 4N, batch 256 runs 16N. Sized so
#                    that ferry's runs last about 0.1-0.2 s: with 2000000
#                    (and 4N at both batch sizes) they lasted 10-25 ms, and
#                    thread start-up moved a result up to 1.5x between runs
#                    of the same binary (docs/performance.md, "Run length,
#                    and issue 16's goals now")
#     --filter RE    only cases whose name matches the extended regex RE
#                    (names: spsc-b1-bounded, mpmc8x8-b256-unbounded,
#                    spsc-cap1024-b16, select8, ...)
#     --libs L,L     only these libraries (ferry crossbeam flume go moodycamel ring)
#     --quick        small N, 2 rounds: a smoke run in well under a minute
#     --out DIR      where results go (default ./peers-results)
#     --timeout S    seconds one run may take before it counts as failed (120)
#     --extra NAME=BIN  also run BIN (a chan_ferry built from other code, e.g.
#                    the main branch's) wherever ferry runs, as library NAME:
#                    same arguments, interleaved in the same rounds; shown as
#                    its own column and as ferry/NAME, never as a peer
#     --pin MODE     pin every thread (PEER_PIN=one|split|alt: all on CPU 0;
#                    producers on 0, consumers on 1; alternating); the C, C++
#                    and Rust binaries do, the Go ones cannot (goroutines)
#     --busy CPU     keep a busy loop on CPU for the whole run (taskset), as
#                    another program's work would (docs/performance.md,
#                    "Second pass")
#     --no-probe     do not run BINDIR/handoff_probe around every run (below)
#
# Every round runs every case once and, within a case, every library once, in
# an order rotated by the round number; each run is its own process. Output
# (also in DIR/summary.md): per case the median M items/s of every library
# with its worst round in parentheses, ferry's ratio to the best peer (median
# over median) and ferry's worst round over the best peer's median; the load
# (/proc/loadavg) before and after every round. DIR/raw.txt has every run,
# DIR/plot.dat the medians for bench/peers/plot.gp.
#
# The machine state: where BINDIR has handoff_probe, it runs for 20 ms before
# and after every run and measures a cache line's round trip between two
# CPUs (raw.txt: the last two columns, ns). A run is "fast" when both are
# within 2x the smallest probe of the whole suite, "slow" when both are
# above, "mixed" otherwise. The table then also compares ferry with the best
# peer within each state: the fast runs' medians and ferry's worst fast run,
# and the slow runs' medians (on a shared VM the round trip moves 5-6x
# between states that last seconds: docs/performance.md).
#
# Cases: spsc (1x1), mpsc (4x1), mpmc4x4, mpmc8x8 at batch 1, 16 and 256,
# bounded (capacity 4096) and unbounded; spsc-cap1024 at batch 16 and 256 (a
# ring that holds a few batches); select2 / select8 (one consumer selecting
# over 2 or 8 bounded channels, one producer each). Libraries without batch
# calls (crossbeam, flume, go) run batch 1 only; go has no unbounded channel;
# moodycamel is unbounded only (its numbers are shown in the bounded rows too,
# marked *). The ring (mutex + condvars) takes a batch per lock acquisition.
set -euo pipefail

usage() { sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
bindir=$1; shift
[ -d "$bindir" ] || { echo "bench-peers-run: no directory $bindir" >&2; exit 2; }
bindir=$(cd "$bindir" && pwd)
summary_awk=$(cd "$(dirname "$0")/.." && pwd)/bench/peers/summary.awk
[ -r "$summary_awk" ] || { echo "bench-peers-run: no $summary_awk" >&2; exit 2; }

rounds="" n="" filter="" libs_wanted="" quick=0 out=peers-results timeout_s=120 pin="" busy="" probe=1
extras=() # NAME=BIN, run like chan_ferry
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --libs) libs_wanted=,$2,; shift 2 ;;
    --quick) quick=1; shift ;;
    --out) out=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --pin)
      case "$2" in one|split|alt) pin=$2 ;;
        *) echo "bench-peers-run: --pin one, split or alt, not '$2'" >&2; exit 2 ;; esac
      shift 2 ;;
    --busy)
      [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -lt "$(nproc)" ] ||
        { echo "bench-peers-run: --busy: a CPU number below $(nproc), not '$2'" >&2; exit 2; }
      command -v taskset >/dev/null || { echo "bench-peers-run: --busy needs taskset" >&2; exit 2; }
      busy=$2; shift 2 ;;
    --extra)
      [[ "$2" =~ ^[a-z][a-z0-9_]*=.+$ ]] || { echo "bench-peers-run: --extra NAME=BIN, not '$2'" >&2; exit 2; }
      case "${2%%=*}" in ferry|crossbeam|flume|go|moodycamel|ring)
        echo "bench-peers-run: --extra: '${2%%=*}' is a library name" >&2; exit 2 ;; esac
      [ -x "${2#*=}" ] || { echo "bench-peers-run: --extra: no executable ${2#*=}" >&2; exit 2; }
      extras+=("${2%%=*}=$(cd "$(dirname "${2#*=}")" && pwd)/$(basename "${2#*=}")"); shift 2 ;;
    --no-probe) probe=0; shift ;;
    -h|--help) usage ;;
    *) echo "bench-peers-run: unknown option $1" >&2; usage ;;
  esac
done
[ -n "$rounds" ] || rounds=$([ $quick = 1 ] && echo 2 || echo 5)
[ -n "$n" ] || n=$([ $quick = 1 ] && echo 200000 || echo 8000000)
for v in "$rounds" "$n" "$timeout_s"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "bench-peers-run: bad number '$v'" >&2; exit 2; }
done
mkdir -p "$out"
raw=$out/raw.txt summary=$out/summary.md
placement=""
if [ -n "$pin" ]; then
  export PEER_PIN=$pin
  placement="$placement, PEER_PIN=$pin"
fi
if [ -n "$busy" ]; then
  taskset -c "$busy" sh -c 'while :; do :; done' ferry-peers-busy &
  busy_pid=$!
  trap 'kill "$busy_pid" 2>/dev/null' EXIT
  placement="$placement, a busy loop on CPU $busy"
fi

# ---------------------------------------------------------------------------
# The cases: name P C B CAP
cases=()
for topo in "spsc 1 1" "mpsc 4 1" "mpmc4x4 4 4" "mpmc8x8 8 8"; do
  set -- $topo
  for b in 1 16 256; do
    cases+=("$1-b$b-bounded $2 $3 $b 4096" "$1-b$b-unbounded $2 $3 $b unbounded")
  done
done
cases+=("spsc-cap1024-b16 1 1 16 1024" "spsc-cap1024-b256 1 1 256 1024")
cases+=("select2 2 1 1 4096" "select8 8 1 1 4096")

# Which libraries run a case (in a fixed order; rounds rotate it).
libs_for() {   # name B CAP
  local name=$1 b=$2 cap=$3
  case "$name" in
    select*) echo "ferry crossbeam go"; return ;;
    *-cap1024-*) l="ferry"; for e in "${extras[@]}"; do l="$l ${e%%=*}"; done; echo "$l ring"; return ;;
  esac
  local l="ferry" e
  for e in "${extras[@]}"; do l="$l ${e%%=*}"; done
  if [ "$b" = 1 ]; then l="$l crossbeam flume"; [ "$cap" != unbounded ] && l="$l go"; fi
  [ "$cap" = unbounded ] && l="$l moodycamel"
  echo "$l ring"
}

# The binary and its arguments for one run, in the array cmd (empty if the
# binary is missing; an array, so that a path with spaces stays one word).
command_for() {   # lib name P C B CAP N
  local lib=$1 name=$2 p=$3 c=$4 b=$5 cap=$6 items=$7 bin
  cmd=()
  case "$name" in
    select*)
      bin=$bindir/select_$lib
      # HOOK (issue 14): ferry's select binary (bench/peers/select_ferry.c) is
      # written with ferry_select; until it exists its cases are skipped.
      [ -x "$bin" ] || return 0
      cmd=("$bin" "$p" "$cap" "$items"); return ;;
  esac
  bin=$bindir/chan_$lib
  local e
  for e in "${extras[@]}"; do [ "${e%%=*}" = "$lib" ] && bin=${e#*=}; done
  [ -x "$bin" ] || return 0
  cmd=("$bin" "$p" "$c" "$b" "$cap" "$items")
}

selected_lib() { [ -z "$libs_wanted" ] || [[ "$libs_wanted" == *,$1,* ]]; }

load() { cut -d' ' -f1-3 /proc/loadavg; }

# A cache line's round trip between two CPUs now, in ns ("-": not measured).
[ $probe = 1 ] && [ -x "$bindir/handoff_probe" ] || probe=0
probe_ns() {
  local v=""
  [ $probe = 1 ] && v=$("$bindir/handoff_probe" 20 2>/dev/null)
  [[ "$v" =~ ^PROBE\ ([0-9.]+)$ ]] && echo "${BASH_REMATCH[1]}" || echo -
}

{
  echo "# ferry peer suite, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -srm)$placement"
  echo "# $(nproc) CPUs:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "# rounds $rounds, N $n (batch 16: $((4 * n)), batch 256: $((16 * n))), filter '${filter}', binaries $bindir"
  for e in "${extras[@]}"; do echo "# extra ${e%%=*}: ${e#*=}"; done
  echo "# round case lib seconds items Mitems/s probe-before-ns probe-after-ns"
} >"$raw"
echo "bench-peers-run: $rounds rounds, N $n, $(nproc) CPUs, load $(load); results in $out/"
missing=""
for lib in ferry crossbeam flume go moodycamel ring; do
  selected_lib $lib && [ ! -x "$bindir/chan_$lib" ] && missing="$missing $lib"
done
[ -z "$missing" ] || echo "bench-peers-run: not found in $bindir (skipped):$missing"
if [ ! -x "$bindir/select_ferry" ]; then
  echo "bench-peers-run: no select_ferry yet (issue 14): the select cases run the peers only"
fi

failed=0
for ((r = 1; r <= rounds; r++)); do
  before=$(load)
  t0=$(date +%s)
  for spec in "${cases[@]}"; do
    set -- $spec
    name=$1 p=$2 c=$3 b=$4 cap=$5
    [ -z "$filter" ] || [[ "$name" =~ $filter ]] || continue
    case $b in 1) items=$n ;; 16) items=$((4 * n)) ;; *) items=$((16 * n)) ;; esac
    read -r -a libs <<<"$(libs_for "$name" "$b" "$cap")"
    k=${#libs[@]}
    for ((i = 0; i < k; i++)); do
      lib=${libs[$(((i + r) % k))]}
      selected_lib "$lib" || continue
      command_for "$lib" "$name" "$p" "$c" "$b" "$cap" "$items"
      [ ${#cmd[@]} -gt 0 ] || continue
      pb=$(probe_ns)
      if line=$(timeout "$timeout_s" "${cmd[@]}" 2>"$out/last.err") && [[ "$line" == RESULT* ]]; then
        pa=$(probe_ns)
        read -r _ sec got <<<"$line"
        awk -v r="$r" -v c="$name" -v l="$lib" -v s="$sec" -v n="$got" -v pb="$pb" -v pa="$pa" \
          'BEGIN { printf "%d %s %s %s %s %.3f %s %s\n", r, c, l, s, n, (s > 0 ? n / s / 1e6 : 0), pb, pa }' >>"$raw"
      else
        echo "bench-peers-run: round $r $name $lib FAILED: ${cmd[*]}" >&2
        cat "$out/last.err" >&2
        echo "$r $name $lib FAILED" >>"$raw"
        failed=$((failed + 1))
      fi
    done
  done
  after=$(load)
  echo "# load round $r: before $before, after $after, $(($(date +%s) - t0)) s" >>"$raw"
  echo "round $r/$rounds: load before $before, after $after, $(($(date +%s) - t0)) s"
done
rm -f "$out/last.err"

# ---------------------------------------------------------------------------
# Summary: medians, worst rounds, ferry's ratios; plot data.
extra_names=""
for e in "${extras[@]}"; do extra_names="$extra_names ${e%%=*}"; done
awk -v plot="$out/plot.dat" -v extras="$extra_names" -f "$summary_awk" "$raw" | tee "$summary"
if [ "$failed" -gt 0 ]; then
  echo "bench-peers-run: $failed runs FAILED (see above and $raw)" >&2
  exit 1
fi
