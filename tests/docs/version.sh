#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The version is written once (project() in CMakeLists.txt); everything that
# names it agrees with it:
#   - CHANGELOG.md: the first section is "## VERSION";
#   - the section-1 manual pages (written by hand): .TH names "ferry VERSION";
#   - README.md, Makefile and docs/*.md: every SONAME (libferry.so.X) and
#     runtime package name (libferryX) is this version's;
#   - what the build generates from it: ferry/version.h, ferry.pc, the CMake
#     package version file, the section-3 pages.
# Then the check itself: against another version it names each of the
# hand-written places above.
#   version.sh SOURCE_DIR BUILD_DIR VERSION SOVERSION
set -euo pipefail
src=$1 build=$2 version=$3 sover=$4

check() {   # check VERSION SOVERSION: prints one line per disagreement
  local v=$1 so=$2 first page th f
  first=$(grep -m1 '^## ' "$src/CHANGELOG.md" || true)
  [[ $first == "## $v "* || $first == "## $v" ]] || echo "CHANGELOG.md: first section '$first', not '## $v'"
  while IFS= read -r page; do
    th=$(grep -m1 '^\.TH' "$page")
    grep -q -F "\"ferry $v\"" <<<"$th" || echo "${page#"$src"/}: '$th' does not name ferry $v"
  done < <(find "$src" -path "$src/build" -prune -o -name '*.1' -type f -print)
  for f in "$src/README.md" "$src/Makefile" "$src"/docs/*.md; do
    grep -n -o -P 'libferry(\.so\.|)[0-9]+(\.[0-9]+)*(?![.\w])' "$f" |
      grep -v -E ":libferry(\.so\.|)${so//./\\.}\$" | sed "s|^|${f#"$src"/}:|; s|\$| is not the SONAME's version $so|" || true
  done
}

bad=$(check "$version" "$sover")
[ -z "$bad" ] || { echo "the version $version (SONAME $sover) disagrees:"; echo "$bad"; exit 1; }
gen_bad=""
grep -q -x "#define FERRY_VERSION_STRING \"$version\"" "$build/include/ferry/version.h" || gen_bad+=" version.h"
grep -q -x "Version: $version" "$build/ferry.pc" || gen_bad+=" ferry.pc"
grep -q -F "set(PACKAGE_VERSION \"$version\")" "$build/ferry-config-version.cmake" || gen_bad+=" ferry-config-version.cmake"
if [ -d "$build/man/man3" ]; then
  grep -q -F "\"ferry $version\"" "$build/man/man3/ferry_chan.3" || gen_bad+=" man3/ferry_chan.3"
fi
[ -z "$gen_bad" ] || { echo "generated files not of version $version:$gen_bad"; exit 1; }

# The check catches a version that moved without them.
other=$(check 99.0.0 99)
for w in CHANGELOG.md ferry-rtcheck.1 README.md; do
  grep -q -F "$w" <<<"$other" || { echo "the check against 99.0.0 did not name $w:"; echo "$other"; exit 1; }
done
echo "version $version (SONAME $sover): CHANGELOG, man pages, README, Makefile, docs, generated files agree: ok"
