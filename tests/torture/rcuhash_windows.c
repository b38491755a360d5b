/* SPDX-License-Identifier: MIT */
/* ferry_lfht torture with the races widened: this program compiles the
 * table itself (src/rcuhash.c) with FERRY_LFHT_TEST_HOOKS, and the hook
 * below stalls threads at the points where the table's threads race (an
 * updater between reading the size and its bucket, a halving between
 * publishing the size and marking buckets, a doubling before publishing,
 * a del between marking and unlinking, an insert before its CAS). The
 * workload and its checks are rcuhash_torture.h's. The linker takes the
 * table from here, not from libferry.a. */
#define FERRY_LFHT_TEST_HOOKS 1
#include "../../src/rcuhash.c"

#include "rcuhash_torture.h"

static __thread uint64_t hook_rnd;
static FERRY_ATOMIC(unsigned long) hook_hits[HOOK_COUNT];

void ferry__lfht_test_hook(int point)
{
    atomic_fetch_add_explicit(&hook_hits[point], 1, memory_order_relaxed);
    if (!hook_rnd)
        hook_rnd = (uintptr_t)&hook_rnd | 1;
    uint64_t x = ferry_test_rand(&hook_rnd);
    /* A halving passes the hook once per bucket: stall it less often. */
    if (x % (point == HOOK_SHRINK ? 64 : 8))
        return;
    if ((x >> 32) & 1) {
        sched_yield();
    } else {
        for (unsigned i = (unsigned)((x >> 40) % 4000); i; i--)
            atomic_signal_fence(memory_order_seq_cst);
    }
}

/* The hooks ran (this program uses its own copy of the table), every one
 * of them. */
static void check_hooks(void)
{
    for (int p = 0; p < HOOK_COUNT; p++)
        CHECK_MSG(atomic_load(&hook_hits[p]) > 0, "test hook %d never reached", p);
}

FERRY_TEST(memb_windows_auto_resize_and_resizer)
{
    run(&memb, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING, 1, 0, true, 8000);
    check_hooks();
}

FERRY_TEST(memb_windows_chain_resize_and_resizer)
{
    run(&memb, FERRY_LFHT_AUTO_RESIZE, 1, 0, true, 8000);
    check_hooks();
}

FERRY_TEST(qsbr_windows_auto_resize_and_resizer)
{
    run(&qsbr, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING, 1, 0, true, 8000);
    check_hooks();
}
