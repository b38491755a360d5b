#!/bin/sh
# SPDX-License-Identifier: MIT
# expect_fail.sh MARKER COMPILER ARGS...: passes only if the compiler fails
# and its diagnostics show the source line that carries MARKER.
marker=$1
shift
out=$("$@" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "compiled, but it must not: $marker"
  exit 1
fi
if ! printf '%s\n' "$out" | grep -q "$marker"; then
  printf '%s\n' "$out"
  echo "failed to compile, but not on the line marked $marker"
  exit 1
fi
echo "rejected as it must be: $marker"
