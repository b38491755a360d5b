/* SPDX-License-Identifier: MIT */
/* ferry/rcuhash.h, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING: the
 * updates that come while an automatic resize is queued do not count
 * (check_count skips them: the queued resize re-reads the counters), so
 * one that comes in full before that resize has finished its pass must be
 * counted by the resize itself at its end. Before, the table kept the size
 * of the count when the pass began: a table of 900 nodes stayed at 32
 * buckets (seen as "size 8192 for 20000 nodes" in
 * unit.rcuhash.auto_resize_grows_and_shrinks_with_accounting, a debug
 * build under load).
 *
 * This program compiles the table itself (src/rcuhash.c) with
 * FERRY_LFHT_TEST_HOOKS: the hook below holds the resize callback at its
 * start until the test has added 24 nodes (so its pass grows the table to
 * 32 buckets), and after that pass until the test has added the rest. The
 * keys' hashes are their numbers, so at 32 buckets no chain reaches the
 * length at which an updater grows the table itself (32). */
#define FERRY_LFHT_TEST_HOOKS 1
#include "../../src/rcuhash.c"

#include "test.h"

enum { FIRST = 24, KEYS = 900 };

struct item {
    unsigned long key;
    ferry_lfht_node node;
};

static FERRY_ATOMIC(int) keys_in;   /* keys the test has added */
static FERRY_ATOMIC(int) passed;  /* resize passes done (HOOK_RESIZED) */

static void wait_for(FERRY_ATOMIC(int) *v, int at_least)
{
    for (int spins = 0; atomic_load(v) < at_least; spins++) {
        CHECK_MSG(spins < 20 * 1000 * 1000, "waited too long (%d < %d)", atomic_load(v), at_least);
        sched_yield();
    }
}

void ferry__lfht_test_hook(int point)
{
    if (point == HOOK_CALLBACK && atomic_load(&passed) == 0)
        wait_for(&keys_in, FIRST);
    if (point == HOOK_RESIZED && atomic_fetch_add(&passed, 1) == 0)
        wait_for(&keys_in, KEYS);   /* every other update comes now */
}

static int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, struct item, node)->key == *(const unsigned long *)key;
}

static void add_keys(ferry_lfht *ht, struct item *a, int from, int to)
{
    for (int i = from; i < to; i++) {
        a[i].key = (unsigned long)i;
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, (unsigned long)i, &a[i].node), 0);
        ferry_rcu_read_unlock();
        atomic_store(&keys_in, i + 1);
    }
}

FERRY_TEST(updates_during_a_resize_pass_are_counted_at_its_end)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING);
    CHECK(ht != NULL);
    static struct item a[KEYS];
    add_keys(ht, a, 0, FIRST);  /* the third asked for the resize */
    /* The callback's first pass counted FIRST nodes and grew the table
     * to 32 buckets; it holds at its end until the rest are in. */
    wait_for(&passed, 1);
    CHECK_EQ(atomic_load_explicit(&ht->size, memory_order_relaxed), 32);
    add_keys(ht, a, FIRST, KEYS);
    ferry_rcu_barrier(); /* the queued resize has run, and what it queued */
    unsigned long size = atomic_load_explicit(&ht->size, memory_order_relaxed);
    CHECK_MSG(size >= KEYS / 2 && size <= 2 * KEYS, "size %lu for %d nodes", size, KEYS);
    ferry_rcu_read_lock();
    for (int i = 0; i < KEYS; i++) {
        ferry_lfht_iter it;
        unsigned long k = (unsigned long)i;
        ferry_lfht_lookup(ht, k, match_key, &k, &it);
        CHECK(ferry_lfht_iter_get_node(&it) == &a[i].node);
    }
    ferry_rcu_read_unlock();
    for (int i = 0; i < KEYS; i++) {
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_del(ht, &a[i].node), 0);
        ferry_rcu_read_unlock();
    }
    ferry_rcu_barrier();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}
