#!/bin/sh
# SPDX-License-Identifier: MIT
# same_code.sh CC INCLUDE_DIR SRC: compile SRC with -DCHECKED=0 and 1 at
# -O2 and compare the disassembly (with relocations) of the two objects.
set -eu
cc=$1 inc=$2 src=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for c in 0 1; do
  "$cc" -std=c11 -O2 -Wall -Wextra -Werror -I"$inc" -D_GNU_SOURCE -DCHECKED=$c -c "$src" -o "$dir/$c.o"
  # Drop the file-name header line; keep instructions and relocations.
  objdump -dr --no-show-raw-insn "$dir/$c.o" | sed -n '/^Disassembly/,$p' >"$dir/$c.s"
done
if ! diff -u "$dir/0.s" "$dir/1.s"; then
  echo "FERRY_RCU_PTR changes the machine code"
  exit 1
fi
n=$(grep -c '^[0-9a-f]* <' "$dir/1.s")
echo "same machine code for plain and checked pointers ($n functions)"
