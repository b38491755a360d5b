#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every thread-local of libferry.so is initial-exec (FERRY__TLS_IE,
# ferry/common.h): the library imports no __tls_get_addr and has no
# module-id (DTPMOD) relocations, so no thread's first use of one of them
# can allocate -- in a real-time thread too -- even when the library was
# loaded with dlopen(); and such a dlopen() works, in a program with a
# thread already running. Then the check itself, on a library with one
# general-dynamic thread-local.
#   tls_model.sh LIBFERRY_SO C_COMPILER ['C_FLAGS'] (the build's, e.g. -m32)
set -euo pipefail
lib=$1 cc=$2
read -r -a cflags <<<"${3:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

dynamic_tls() {   # dynamic_tls SO: what in it reaches a thread-local through __tls_get_addr
  { nm -D --undefined-only "$1" | awk '$2 ~ /^___?tls_get_addr/ { print "imports " $2 }'
    readelf -rW "$1" | awk '$3 ~ /DTPMOD/ { print "relocation " $3 }'; } | sort -u
}
bad=$(dynamic_tls "$lib")
[ -z "$bad" ] || { echo "$lib reaches thread-locals dynamically:"; echo "$bad"; exit 1; }
readelf -lW "$lib" | grep -q ' TLS ' || { echo "$lib has no TLS segment: the check checks nothing"; exit 1; }

# dlopen() after a thread started: both threads use a thread-local of the
# library (the real-time section depth), each its own.
cat > "$tmp/d.c" <<'C'
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
static void (*enter)(void), (*leave)(void);
static unsigned (*depth)(void);
static pthread_barrier_t go;
static void *other(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&go); /* the library is loaded now */
    enter();
    enter();
    unsigned d = depth();
    leave();
    leave();
    return (void *)(unsigned long)d;
}
int main(int argc, char **argv)
{
    (void)argc;
    pthread_t t;
    pthread_barrier_init(&go, NULL, 2);
    if (pthread_create(&t, NULL, other, NULL))
        return 1;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    enter = (void (*)(void))dlsym(h, "ferry_rt_enter");
    leave = (void (*)(void))dlsym(h, "ferry_rt_exit");
    depth = (unsigned (*)(void))dlsym(h, "ferry_rt_depth");
    if (!enter || !leave || !depth)
        return 1;
    enter();
    pthread_barrier_wait(&go);
    void *d;
    pthread_join(t, &d);
    unsigned mine = depth();
    leave();
    if ((unsigned long)d != 2 || mine != 1 || depth() != 0) {
        fprintf(stderr, "depths %lu %u %u\n", (unsigned long)d, mine, depth());
        return 1;
    }
    return 0;
}
C
"$cc" "${cflags[@]}" -O2 "$tmp/d.c" -o "$tmp/d" -ldl -lpthread
"$tmp/d" "$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")" ||
  { echo "$lib: dlopen and its thread-locals in two threads failed"; exit 1; }

printf '__thread int probe_tls;\nint probe_get(void) { return probe_tls; }\n' > "$tmp/p.c"
"$cc" "${cflags[@]}" -shared -fPIC -O2 "$tmp/p.c" -o "$tmp/libp.so"
[ -n "$(dynamic_tls "$tmp/libp.so")" ] || { echo "the check missed a general-dynamic thread-local"; exit 1; }
echo "libferry.so: every thread-local initial-exec: ok"
