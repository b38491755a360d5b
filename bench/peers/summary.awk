# SPDX-License-Identifier: MIT
# The peer suite's summary (scripts/bench-peers-run.sh): reads raw.txt and
# prints the table of summary.md; writes the medians to the file `plot`.
#   awk -v plot=PLOT.dat -v extras=" NAME ..." -f bench/peers/summary.awk raw.txt
# raw.txt: "# ..." header and load lines, then one line per run:
#   ROUND CASE LIB SECONDS ITEMS MITEMS/S [PROBE-BEFORE-NS PROBE-AFTER-NS]
# or "ROUND CASE LIB FAILED". The probes ("-": not measured) put each run
# in a machine state: fast when both are within 2x the smallest probe of
# the file, slow when both are above, mixed otherwise.
function median(str,   m, i, j, t, v) {
  m = split(str, v, " ")
  for (i = 2; i <= m; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
  return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}
function worst(str,   m, i, v, w) {
  m = split(str, v, " "); w = v[1] + 0
  for (i = 2; i <= m; i++) if (v[i] + 0 < w) w = v[i] + 0
  return w
}
function largest(v, m,   i, x) { x = v[1] + 0; for (i = 2; i <= m; i++) if (v[i] + 0 > x) x = v[i] + 0; return x }
# moodycamel is unbounded: a bounded row shows the unbounded row of its case.
function src(c, l,   u) {
  u = c; if (l == "moodycamel" && sub(/-bounded$/, "-unbounded", u)) return u
  return c
}
/^# load/ { loads = loads "\n- " substr($0, 3); next }
/^#/ { if (!head) head = substr($0, 3); next }
$4 == "FAILED" { fails[$2 " " $3]++; if (!($2 in seen)) { seen[$2] = 1; order[++nc] = $2 }; next }
{
  if (!($2 in seen)) { seen[$2] = 1; order[++nc] = $2 }
  key = $2 " " $3
  vals[key] = (key in vals) ? vals[key] " " $6 : $6
  if (NF >= 8 && $7 != "-" && $8 != "-") {  # the probes around the run
    nr++; rkey[nr] = key; rval[nr] = $6; rpb[nr] = $7 + 0; rpa[nr] = $8 + 0
    if (pmin == "" || $7 + 0 < pmin) pmin = $7 + 0
    if ($8 + 0 < pmin) pmin = $8 + 0
    probes = probes " " $7 " " $8
  }
}
function add(arr, key, v) { arr[key] = (key in arr) ? arr[key] " " v : v }
# Within one machine state: ferry median over the best peer median (and,
# with w, ferry worst over it), for the runs of that state in case c.
function in_state(arr, c, w,   i, l, key, med, best, f, fw) {
  best = 0; f = ""
  for (i = 1; i <= nl; i++) {
    l = L[i]; key = src(c, l) " " l
    if (!(key in arr)) continue
    med = median(arr[key])
    if (l == "ferry") { f = med; fw = worst(arr[key]) }
    else if (!(l in isextra) && med > best) best = med
  }
  if (f == "" || best == 0) return "-"
  return w ? sprintf("%.2f, %.2f", f / best, fw / best) : sprintf("%.2f", f / best)
}
END {
  nl = split("ferry crossbeam flume go moodycamel ring" extras, L, " ")
  ne = split(extras, E, " ")
  for (i = 1; i <= ne; i++) isextra[E[i]] = 1
  # Each probed run: fast (both probes within 2x the smallest), slow (both
  # above), or mixed.
  nfast = nslow = nmixed = 0
  for (i = 1; i <= nr; i++) {
    split(rkey[i], kc, " ")
    if (rpb[i] <= 2 * pmin && rpa[i] <= 2 * pmin) { add(valsF, rkey[i], rval[i]); nfast++ }
    else if (rpb[i] > 2 * pmin && rpa[i] > 2 * pmin) { add(valsS, rkey[i], rval[i]); nslow++; caseslow[kc[1]]++ }
    else { nmixed++; casemixed[kc[1]]++ }
    caseruns[kc[1]]++
  }
  print "# " head
  print ""
  print "M items/s, median of the rounds (worst round in parentheses); ferry/best:"
  print "ferry median over the best peer median; worst/best: ferry worst round over it."
  print "* moodycamel is unbounded: its unbounded result of the same case."
  if (ne) print "Extra ferry builds (not peers):" extras "; ferry/X: ferry median over X median."
  if (nr) {
    print "Machine state (handoff_probe around every run): slow/mixed runs: of all runs of the case;"
    print "fast: ferry/best and worst/best over the fast runs only; slow: ferry/best over the slow runs."
  }
  print ""
  printf "| case |"; for (i = 1; i <= nl; i++) printf " %s |", L[i]; printf " best peer | ferry/best | worst/best |"
  for (i = 1; i <= ne; i++) printf " ferry/%s |", E[i]
  if (nr) printf " slow/mixed runs | fast: ferry/best, worst/best | slow: ferry/best |"
  print ""
  printf "|---|"; for (i = 1; i <= nl; i++) printf "---|"; printf "---|---|---|"
  for (i = 1; i <= ne; i++) printf "---|"
  if (nr) printf "---|---|---|"
  print ""
  printf "case" > plot; for (i = 1; i <= nl; i++) printf " %s", L[i] > plot; printf "\n" > plot
  for (k = 1; k <= nc; k++) {
    c = order[k]; best = 0; bestlib = ""; fm = ""; split("", xm)
    printf "| %s |", c
    printf "%s", c > plot
    for (i = 1; i <= nl; i++) {
      l = L[i]; key = src(c, l) " " l
      if (key in vals) {
        med = median(vals[key]); w = worst(vals[key])
        printf " %.1f (%.1f)%s%s |", med, w, src(c, l) != c ? "*" : "", fails[key] ? " " fails[key] " failed" : ""
        printf " %.3f", med > plot
        if (l != "ferry" && !(l in isextra) && med > best) { best = med; bestlib = l }
        if (l == "ferry") { fm = med; fw = w }
        if (l in isextra) xm[l] = med
      } else {
        printf " %s |", fails[key] ? fails[key] " failed" : "-"
        printf " NaN" > plot
      }
    }
    printf "\n" > plot
    if ((c " ferry") in vals && best > 0)
      printf " %s %.1f | %.2f | %.2f |", bestlib, best, fm / best, fw / best
    else
      printf " %s | - | - |", (best > 0 ? bestlib " " sprintf("%.1f", best) : "-")
    for (i = 1; i <= ne; i++)
      printf " %s |", (fm != "" && xm[E[i]] > 0) ? sprintf("%.2f", fm / xm[E[i]]) : "-"
    if (nr)
      printf " %d/%d of %d | %s | %s |", caseslow[c], casemixed[c], caseruns[c], in_state(valsF, c, 1), in_state(valsS, c, 0)
    printf "\n"
  }
  print ""
  if (nr) {
    np = split(probes, pv, " ")
    printf "Handoff probe (ns per round trip, %d probes): smallest %.1f, median %.1f, largest %.1f; ", np, pmin, median(probes), largest(pv, np)
    printf "runs fast %d, slow %d, mixed %d.\n\n", nfast, nslow, nmixed
  }
  printf "Load (1, 5, 15 min) around each round:%s\n", loads
}
