// SPDX-License-Identifier: MIT
// The peer suite's Go binaries (see bench/peers/build.sh): no dependencies.
module ferrypeers

go 1.19
