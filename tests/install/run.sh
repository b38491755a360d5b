#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the build into a temporary prefix and check it as a user would
# (tests/install/consumer.sh).
#   run.sh BUILD_DIR SOURCE_DIR LIBDIR SOVERSION
set -euo pipefail
build=$1 src=$2 libdir=$3 sover=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
"$src/tests/install/consumer.sh" "$tmp/prefix" "$src" "$libdir" "$sover"
