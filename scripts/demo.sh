#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's main command (make demo): build the release configuration and
# run the channel benchmark in quick mode. Every case is printed in
# crossbeam-channel's line format beside the baseline (a pthread mutex + two
# condvars over a ring, one item per lock) measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null
if [ -x build/release/bench/chan ]; then
  exec build/release/bench/chan --quick "$@"
fi
echo "demo: the channel benchmark is not built yet; running the component tests instead"
exec ctest --test-dir build/release -L unit
