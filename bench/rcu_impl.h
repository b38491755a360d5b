/* SPDX-License-Identifier: MIT */
/* One RCU implementation's workloads for bench/rcu.c, written once and
 * instantiated per implementation: the includer defines IMPL(x) (a name
 * prefix), B_HEAD (the callback head type), B_REG/B_UNREG/B_LOCK/B_UNLOCK/
 * B_DEREF/B_XCHG/B_SYNC/B_CALL/B_BARRIER/B_CPU_WORKERS, and for QSBR
 * flavors B_QSBR with B_QS/B_OFFLINE/B_ONLINE, then includes this file and
 * uses IMPL_TABLE(var, name). The read side is inlined in every instance. */
#include <stdlib.h>

#include "peers/rcu_bench.h"

struct IMPL(obj) {
    long x;
    B_HEAD rh;
};

static struct IMPL(obj) IMPL(shared) = { .x = 1 };
static struct IMPL(obj) *IMPL(gp) = &IMPL(shared);
/* Callback heads, one set per concurrent caller (call_n's slot). */
#define IMPL_SLOTS 64
static struct IMPL(obj) *IMPL(objs)[IMPL_SLOTS];
static unsigned long IMPL(cap)[IMPL_SLOTS];
/* test_urcu's pointer: an int-sized object holding 8 while published. */
static struct IMPL(obj) *IMPL(test_ptr);

static void IMPL(reg)(void) { B_REG(); }
static void IMPL(unreg)(void) { B_UNREG(); }

static unsigned long IMPL(read_loop)(unsigned long n)
{
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        B_LOCK();
        struct IMPL(obj) *p = B_DEREF(IMPL(gp));
        sum += (unsigned long)p->x;
        B_UNLOCK();
#ifdef B_QSBR
        if ((i & 255) == 0)
            B_QS();
#endif
    }
    return sum;
}

static unsigned long IMPL(read_until)(atomic_int *stop)
{
    unsigned long n = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed))
        n += IMPL(read_loop)(1024) ? 1024 : 0;
    return n;
}

static void IMPL(sync)(void) { B_SYNC(); }

static void IMPL(cb)(B_HEAD *h) { (void)h; }

static void IMPL(call_n)(int slot, unsigned long n)
{
    if (IMPL(cap)[slot] < n) {
        free(IMPL(objs)[slot]);
        IMPL(objs)[slot] = calloc(n, sizeof *IMPL(objs)[slot]);
        if (!IMPL(objs)[slot])
            abort();
        IMPL(cap)[slot] = n;
    }
    struct IMPL(obj) *o = IMPL(objs)[slot];
    for (unsigned long i = 0; i < n; i++)
        B_CALL(&o[i].rh, IMPL(cb));
}

static int IMPL(cpu_workers)(void) { return B_CPU_WORKERS(); }

static void IMPL(replace)(void)
{
    struct IMPL(obj) *fresh = malloc(sizeof *fresh);
    if (!fresh)
        abort();
    fresh->x = 8;
    struct IMPL(obj) *old = B_XCHG(&IMPL(test_ptr), fresh);
    B_SYNC();
    if (old)
        old->x = 0;
    free(old);
}

static unsigned long IMPL(read_test_urcu)(atomic_int *stop)
{
    unsigned long n = 0;
    for (;;) {
        B_LOCK();
        struct IMPL(obj) *p = B_DEREF(IMPL(test_ptr));
        if (p && p->x != 8)
            abort();
        B_UNLOCK();
        n++;
#ifdef B_QSBR
        if ((n & 1023) == 0)
            B_QS();
#endif
        if (atomic_load_explicit(stop, memory_order_relaxed))
            return n;
    }
}

static void IMPL(barrier)(void) { B_BARRIER(); }

#ifdef B_QSBR
static void IMPL(offline)(void) { B_OFFLINE(); }
static void IMPL(online)(void) { B_ONLINE(); }
#define IMPL_IS_QSBR true
#else
static void IMPL(offline)(void) {}
static void IMPL(online)(void) {}
#define IMPL_IS_QSBR false
#endif

#define IMPL_TABLE(var, nm)                                                            \
    const struct rcu_bench_impl var = {                                                \
        nm, IMPL_IS_QSBR, IMPL(reg), IMPL(unreg), IMPL(read_loop), IMPL(read_until),    \
        IMPL(sync), IMPL(call_n), IMPL(barrier), IMPL(offline), IMPL(online),           \
        IMPL(cpu_workers), IMPL(replace), IMPL(read_test_urcu),                         \
    }
