#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the build into a temporary prefix and check it as a user would
# (tests/install/consumer.sh). The install runs under umask 077, as root's
# `sudo make install` may: what it creates must still be readable by every
# user (directories 0755, files 0644 or 0755), whatever the umask.
#   run.sh BUILD_DIR SOURCE_DIR LIBDIR SOVERSION
set -euo pipefail
build=$1 src=$2 libdir=$3 sover=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(umask 077 && cmake --install "$build" --prefix "$tmp/prefix" >/dev/null)
bad=$(find "$tmp/prefix" \( \( -type d ! -perm 0755 \) -o \( -type f ! -perm 0644 ! -perm 0755 \) \) -printf '%m %P\n')
[ -z "$bad" ] || { echo "installed under umask 077, not readable by all:"; head -n 5 <<<"$bad"; exit 1; }
"$src/tests/install/consumer.sh" "$tmp/prefix" "$src" "$libdir" "$sover"
