#!/usr/bin/env bash
# Install the Debian packages a job needs, when they are missing.
#   scripts/deps.sh build   compilers and build tools
#   scripts/deps.sh test    build + what the tests and examples use
#   scripts/deps.sh bench   build + the peer libraries the benchmarks compare against
set -euo pipefail

build_pkgs=(gcc g++ clang make cmake pkg-config libc6-dev)
test_pkgs=(libuv1-dev spin)
bench_pkgs=(libck-dev libboost-dev liburcu-dev libconcurrentqueue-dev)

want=("${build_pkgs[@]}")
for job in "$@"; do
  case "$job" in
    build) ;;
    test) want+=("${test_pkgs[@]}") ;;
    bench) want+=("${bench_pkgs[@]}") ;;
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
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
