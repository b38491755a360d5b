/* SPDX-License-Identifier: MIT */
/* ferry_lfht under allocation failure: malloc, calloc, realloc and
 * aligned_alloc are interposed (this program defines them; the dynamic
 * linker resolves libc's and ferry's calls to these) and, while armed, every
 * k-th call fails. Creation must then fail cleanly (NULL, ENOMEM, nothing
 * leaked), an explicit resize must return -ENOMEM and leave a consistent
 * table of a power-of-two size, an automatic resize must give up softly
 * and try again later, and every key must stay present exactly once
 * throughout, also while other threads update the table. Not built under
 * sanitizers (they own malloc). Test nodes come from __libc_malloc, so only
 * the table's own allocations are counted and failed. */
#include <ferry/rcuhash.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rcuhash_internal.h"
#include "failing_malloc.h"
#include "test.h"

struct item {
    unsigned long key;
    ferry_lfht_node node;
};

static int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, struct item, node)->key == *(const unsigned long *)key;
}

static unsigned long hash_of(unsigned long k)
{
    k ^= k >> 31;
    k *= 0x9e3779b97f4a7c15ul;
    return k ^ (k >> 29);
}

static struct item *items_new(unsigned long n)
{
    struct item *a = __libc_calloc(n, sizeof *a);
    CHECK(a != NULL);
    for (unsigned long i = 0; i < n; i++)
        a[i].key = i;
    return a;
}

static unsigned long size_of(ferry_lfht *ht)
{
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    return st.size;
}

/* Every key of a[0..n) present exactly once, nothing else; the size a power
 * of two in [lo, hi]. */
static void check_table(ferry_lfht *ht, struct item *a, unsigned long n, unsigned long lo, unsigned long hi)
{
    unsigned long s = size_of(ht);
    CHECK_MSG(s >= lo && s <= hi && !(s & (s - 1)), "size %lu not a power of two in [%lu, %lu]", s, lo, hi);
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < n; i++) {
        ferry_lfht_iter it;
        ferry_lfht_lookup(ht, hash_of(i), match_key, &a[i].key, &it);
        CHECK_MSG(it.node == &a[i].node, "key %lu not found", i);
        ferry_lfht_next_duplicate(ht, match_key, &a[i].key, &it);
        CHECK_MSG(it.node == NULL, "key %lu present twice", i);
    }
    unsigned long c = 0;
    CHECK_EQ(ferry_lfht_count_nodes(ht, NULL, &c, NULL), 0);
    CHECK_EQ(c, n);
    ferry_rcu_read_unlock();
}

static void nothing(ferry_rcu_head *h)
{
    (void)h;
}

/* The RCU callback thread is started by the first call, which aborts if it
 * cannot be created (that allocation is the RCU core's, not the table's):
 * start it before failures are armed. */
static void start_callback_thread(void)
{
    static ferry_rcu_head h;
    ferry_rcu_call(&h, nothing);
    ferry_rcu_barrier();
}

static void empty_and_destroy(ferry_lfht *ht)
{
    ferry_rcu_read_lock();
    ferry_lfht_iter it;
    ferry_lfht_node *node;
    ferry_lfht_for_each(ht, &it, node)
        CHECK_EQ(ferry_lfht_del(ht, node), 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
}

FERRY_TEST(new_fails_cleanly_at_every_kth_allocation)
{
    ferry_rcu_register_thread();
    long before = atomic_load(&live);
    int nulls = 0, tables = 0;
    for (long k = 1; k <= 12; k++) {
        for (int flags = 0; flags < 4; flags++) {
            arm(k);
            errno = 0;
            ferry_lfht *ht = ferry_lfht_new(256, 4, 0, flags);
            int e = errno;
            disarm();
            if (!ht) {
                CHECK_EQ(e, ENOMEM);
                nulls++;
            } else {
                tables++;
                check_table(ht, NULL, 0, 256, 256);
                CHECK_EQ(ferry_lfht_destroy(ht), 0);
            }
            CHECK_MSG(atomic_load(&live) == before, "k=%ld flags=%d: %ld allocations leaked", k, flags,
                      atomic_load(&live) - before);
        }
    }
    CHECK(nulls > 0);
    CHECK(tables > 0);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(resize_fails_softly_and_keeps_every_key)
{
    ferry_rcu_register_thread();
    start_callback_thread();
    enum { N = 3000 };
    struct item *a = items_new(N);
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, 0);
    CHECK(ht != NULL);
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < N; i++)
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
    ferry_rcu_read_unlock();
    int enomem = 0;
    for (long k = 1; k <= 6; k++) {
        arm(k);
        int rc = ferry_lfht_resize(ht, 4096);
        disarm();
        CHECK(rc == 0 || rc == -ENOMEM);
        enomem += rc == -ENOMEM;
        /* Each doubling allocates once: with every k-th call failing the
         * table reaches some power of two between 1 and 4096. */
        check_table(ht, a, N, 1, 4096);
        if (rc == 0)
            CHECK_EQ(size_of(ht), 4096);
        /* Halving allocates nothing: it succeeds even when everything
         * fails. */
        arm(1);
        CHECK_EQ(ferry_lfht_resize(ht, 1), 0);
        disarm();
        CHECK_EQ(size_of(ht), 1);
        check_table(ht, a, N, 1, 1);
    }
    CHECK(enomem > 0);
    /* And without failures it gets there. */
    CHECK_EQ(ferry_lfht_resize(ht, 4096), 0);
    check_table(ht, a, N, 4096, 4096);
    empty_and_destroy(ht);
    ferry_rcu_barrier();   /* the freed bucket arrays */
    __libc_free(a);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(auto_resize_gives_up_softly_and_retries)
{
    ferry_rcu_register_thread();
    start_callback_thread();
    enum { N = 20000 };
    struct item *a = items_new(N);
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING);
    CHECK(ht != NULL);
    arm(1);   /* every allocation fails */
    for (unsigned long i = 0; i < N / 2; i++) {
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
        ferry_rcu_read_unlock();
    }
    ferry_rcu_barrier();   /* the queued resizes have run (and failed) */
    disarm();
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    CHECK_EQ(st.size, 1);
    CHECK(st.failures > 0);
    CHECK_EQ(st.target, 1);   /* the target was dropped, not left pending */
    check_table(ht, a, N / 2, 1, 1);
    /* Allocation works again: the next adds make it grow. */
    for (unsigned long i = N / 2; i < N; i++) {
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
        ferry_rcu_read_unlock();
    }
    ferry_rcu_barrier();
    check_table(ht, a, N, 4096, 1UL << 20);
    empty_and_destroy(ht);
    ferry_rcu_barrier();
    __libc_free(a);
    ferry_rcu_unregister_thread();
}

/* Updaters add and delete their own keys while the main thread resizes
 * with every k-th allocation failing. */
#define UPD 2
#define PER 2000
static ferry_lfht *shared;
static struct item *pool;
static FERRY_ATOMIC(int) stop;

static void *updater(void *arg)
{
    unsigned long base = (uintptr_t)arg * PER;
    ferry_rcu_register_thread();
    uint64_t rnd = base + 1;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        unsigned long i = base + ferry_test_rand(&rnd) % PER;
        ferry_rcu_read_lock();
        ferry_lfht_iter it;
        ferry_lfht_lookup(shared, hash_of(i), match_key, &pool[i].key, &it);
        if (it.node) {
            CHECK(it.node == &pool[i].node);
            CHECK_EQ(ferry_lfht_del(shared, it.node), 0);
        }
        ferry_rcu_read_unlock();
        if (it.node) {
            ferry_rcu_synchronize();   /* before the node is added again */
            ferry_rcu_read_lock();
            CHECK(ferry_lfht_add_unique(shared, hash_of(i), match_key, &pool[i].key, &pool[i].node) ==
                  &pool[i].node);
            ferry_rcu_read_unlock();
        }
    }
    ferry_rcu_unregister_thread();
    return NULL;
}

FERRY_TEST(resize_under_failures_while_updaters_run)
{
    ferry_rcu_register_thread();
    start_callback_thread();
    pool = items_new(UPD * PER);
    shared = ferry_lfht_new(1, 1, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING);
    CHECK(shared != NULL);
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < UPD * PER; i++)
        CHECK_EQ(ferry_lfht_add(shared, hash_of(i), &pool[i].node), 0);
    ferry_rcu_read_unlock();
    pthread_t t[UPD];
    for (int i = 0; i < UPD; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, updater, (void *)(uintptr_t)i), 0);
    arm(3);
    long fails = 0;
    size_t rounds = ferry_test_scaled(300);
    for (size_t r = 0; r < rounds; r++) {
        int rc = ferry_lfht_resize(shared, 1UL << (r % 13));
        CHECK(rc == 0 || rc == -ENOMEM);
        fails += rc == -ENOMEM;
    }
    disarm();
    atomic_store(&stop, 1);
    for (int i = 0; i < UPD; i++)
        pthread_join(t[i], NULL);
    CHECK(fails > 0);
    ferry_rcu_barrier();
    check_table(shared, pool, UPD * PER, 1, 1UL << 20);
    empty_and_destroy(shared);
    ferry_rcu_barrier();
    __libc_free(pool);
    ferry_rcu_unregister_thread();
}
