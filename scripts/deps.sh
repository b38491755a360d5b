#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages a job needs, when they are missing.
#   scripts/deps.sh build   compilers and build tools
#   scripts/deps.sh test    build + what the tests and examples use
#   scripts/deps.sh bench   build + the peer libraries the benchmarks compare against
#                           (bench-peers: Rust's crossbeam-channel and flume from
#                           Debian's crate sources with Debian's cargo, Go, gnuplot)
#   scripts/deps.sh package build + what CPack's Debian package needs
set -euo pipefail

build_pkgs=(gcc g++ clang make cmake pkg-config libc6-dev)
# package: dpkg-shlibdeps (dpkg-dev) and file compute the package's Depends.
package_pkgs=(dpkg-dev file)
# test: libuv for an example, spin for the models, abigail-tools for the ABI
# check, man-db and groff-base to check the manual pages, the package's, and
# libclang-rt-14-dev for the libFuzzer runtime (only a Recommends of clang).
test_pkgs=(libuv1-dev spin abigail-tools man-db groff-base libclang-rt-14-dev "${package_pkgs[@]}")
# gcc-multilib, g++-multilib: the library's 32-bit build check (tests/build/
# m32.sh) and the suite's i386 job (scripts/test.sh, m32; its C++ header
# check needs the second), on amd64 only (elsewhere both skip themselves).
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then test_pkgs+=(gcc-multilib g++-multilib); fi
bench_pkgs=(libck-dev libboost-dev liburcu-dev libconcurrentqueue-dev
            cargo rustc librust-crossbeam-channel-dev librust-flume-dev golang-go gnuplot-nox file)

want=("${build_pkgs[@]}")
for job in "$@"; do
  case "$job" in
    build) ;;
    test) want+=("${test_pkgs[@]}") ;;
    bench) want+=("${bench_pkgs[@]}") ;;
    package) want+=("${package_pkgs[@]}") ;;
    *) echo "deps.sh: unknown job '$job'" >&2; exit 2 ;;
  esac
done

# ferry-dupes (apps/dupes/): every job builds it (SQLite, xxHash, BLAKE2);
# its tests compare with fdupes and xxhsum and are Python; its
# benchmark runs the peer tools and measures memory with GNU time.
want+=(libsqlite3-dev libxxhash-dev libb2-dev)
for job in "$@"; do
  case "$job" in
    test) want+=(python3 fdupes xxhash) ;;
    bench) want+=(jdupes rdfind fdupes rmlint time) ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
# Wait for another apt/dpkg run (up to 10 minutes) rather than fail at once.
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
