/* SPDX-License-Identifier: MIT */
/* ferry/rcuhash.h: the contract of every operation, one thread at a time
 * (tests/torture/rcuhash.c runs them against each other, and
 * tests/alloc/rcuhash_alloc.c with allocation failures). */
#include <ferry/rcuhash.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rcuhash_internal.h"
#include "test.h"

/* 2^(bits of unsigned long - 2) and the top bit: 2^62 and 2^63 on LP64. */
#define QUARTER_RANGE ((~0UL >> 2) + 1)
#define TOP_BIT (~(~0UL >> 1))

struct item {
    unsigned long key;
    int value;
    ferry_lfht_node node;
};

static int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, struct item, node)->key == *(const unsigned long *)key;
}

/* A good hash (keys spread over all bits) and a bad one (all collide). */
static unsigned long hash_of(unsigned long key)
{
    uint64_t k = key;   /* 64-bit mixing; hashes are unsigned long (32 bits on i386) */
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (unsigned long)k;
}

static struct item *find(ferry_lfht *ht, unsigned long key)
{
    ferry_lfht_iter it;
    ferry_lfht_lookup(ht, hash_of(key), match_key, &key, &it);
    ferry_lfht_node *n = ferry_lfht_iter_get_node(&it);
    return n ? ferry_container_of(n, struct item, node) : NULL;
}

static unsigned long count(ferry_lfht *ht)
{
    unsigned long c = 99999;
    CHECK_EQ(ferry_lfht_count_nodes(ht, NULL, &c, NULL), 0);
    return c;
}

static unsigned long size_of(ferry_lfht *ht)
{
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    return st.size;
}

/* Add a[i] with key i for i < n, in one read-side section. */
static void fill(ferry_lfht *ht, struct item *a, unsigned long n)
{
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < n; i++) {
        a[i].key = i;
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
    }
    ferry_rcu_read_unlock();
}

/* Remove and free (after a grace period) every node. */
static void drain(ferry_lfht *ht)
{
    ferry_lfht_iter it;
    struct item *pos;
    ferry_rcu_read_lock();
    ferry_lfht_for_each_entry(ht, &it, pos, node)
        CHECK_EQ(ferry_lfht_del(ht, &pos->node), 0);
    ferry_rcu_read_unlock();
    ferry_rcu_synchronize();
    /* The nodes are unreachable now; their memory is the tests' to free,
     * but tests keep them in arrays (freed by the caller). */
}

/* The end of a test: empty the table, destroy it, leave RCU. */
static void finish(ferry_lfht *ht)
{
    drain(ht);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

/* ------------------------------------------------------------------------ */

FERRY_TEST(new_rejects_bad_sizes_and_flags)
{
    struct { unsigned long init, min, max; int flags; } bad[] = {
        { 0, 1, 0, 0 },            /* init 0 */
        { 3, 1, 0, 0 },            /* init not a power of two */
        { 1, 0, 0, 0 },            /* min 0 */
        { 1, 6, 0, 0 },            /* min not a power of two */
        { 1, 1, 12, 0 },           /* max not a power of two */
        { 8, 16, 8, 0 },           /* max < min */
        { 1, 1, 0, 1 << 7 },       /* unknown flag */
        { 1, 1, 0, -1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        errno = 0;
        CHECK(ferry_lfht_new(bad[i].init, bad[i].min, bad[i].max, bad[i].flags) == NULL);
        CHECK_EQ(errno, EINVAL);
    }
    errno = 0;
    CHECK(ferry_lfht_new_flavor(1, 1, 0, 0, NULL) == NULL);
    CHECK_EQ(errno, EINVAL);
}

FERRY_TEST(huge_sizes_are_refused_not_attempted)
{
    /* 2^62 buckets on LP64, 2^30 on i386: more bytes of bucket arrays
     * than the address space. ENOMEM at once, nothing allocated step by
     * step toward it. */
    errno = 0;
    CHECK(ferry_lfht_new(QUARTER_RANGE, 1, 0, 0) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(ferry_lfht_new(1, QUARTER_RANGE, 0, 0) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(ferry_lfht_new(1, TOP_BIT, 0, 0) == NULL);
    CHECK_EQ(errno, ENOMEM);
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    CHECK(ht != NULL);
    CHECK_EQ(ferry_lfht_resize(ht, QUARTER_RANGE), -ENOMEM);
    CHECK_EQ(ferry_lfht_resize(ht, ~0UL), -ENOMEM);
    CHECK_EQ(size_of(ht), 4);   /* unchanged */
    CHECK_EQ(ferry_lfht_resize(ht, 64), 0);
    CHECK_EQ(size_of(ht), 64);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(new_clamps_init_size_between_min_and_max)
{
    ferry_lfht *ht = ferry_lfht_new(1024, 8, 64, 0);
    CHECK(ht != NULL);
    CHECK_EQ(size_of(ht), 64);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ht = ferry_lfht_new(2, 16, 0, 0);
    CHECK(ht != NULL);
    CHECK_EQ(size_of(ht), 16);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ht = ferry_lfht_new(256, 1, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING);
    CHECK(ht != NULL);
    CHECK_EQ(size_of(ht), 256);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
}

FERRY_TEST(null_arguments_are_rejected)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    struct item a = { .key = 1 };
    unsigned long k = 1;
    ferry_lfht_iter it = { &a.node, 0 };
    ferry_rcu_read_lock();
    ferry_lfht_lookup(NULL, 1, match_key, &k, &it);
    CHECK(it.node == NULL);
    it.node = &a.node;
    ferry_lfht_lookup(ht, 1, NULL, &k, &it);
    CHECK(it.node == NULL);
    ferry_lfht_lookup(ht, 1, match_key, &k, NULL);   /* no crash */
    it.node = &a.node;
    ferry_lfht_first(NULL, &it);
    CHECK(it.node == NULL);
    ferry_lfht_first(ht, NULL);
    it.node = &a.node;
    ferry_lfht_next(NULL, &it);
    CHECK(it.node == NULL);
    it.node = &a.node;
    ferry_lfht_next_duplicate(NULL, match_key, &k, &it);
    CHECK(it.node == NULL);
    it.node = NULL;
    ferry_lfht_next_duplicate(ht, match_key, &k, &it);   /* no node: stays NULL */
    CHECK(it.node == NULL);

    CHECK_EQ(ferry_lfht_add(NULL, 1, &a.node), -EINVAL);
    CHECK_EQ(ferry_lfht_add(ht, 1, NULL), -EINVAL);
    errno = 0;
    CHECK(ferry_lfht_add_unique(NULL, 1, match_key, &k, &a.node) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(ferry_lfht_add_unique(ht, 1, NULL, &k, &a.node) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(ferry_lfht_add_unique(ht, 1, match_key, &k, NULL) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(ferry_lfht_add_replace(NULL, 1, match_key, &k, &a.node) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(ferry_lfht_add_replace(ht, 1, match_key, &k, NULL) == NULL);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(ferry_lfht_replace(NULL, &it, 1, match_key, &k, &a.node), -EINVAL);
    CHECK_EQ(ferry_lfht_replace(ht, NULL, 1, match_key, &k, &a.node), -EINVAL);
    CHECK_EQ(ferry_lfht_replace(ht, &it, 1, NULL, &k, &a.node), -EINVAL);
    CHECK_EQ(ferry_lfht_replace(ht, &it, 1, match_key, &k, NULL), -EINVAL);
    CHECK_EQ(ferry_lfht_del(NULL, &a.node), -EINVAL);
    CHECK_EQ(ferry_lfht_del(ht, NULL), -ENOENT);
    CHECK_EQ(ferry_lfht_count_nodes(NULL, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(ferry_lfht_count_nodes(ht, NULL, NULL, NULL), 0);
    CHECK(ferry_lfht_is_node_deleted(NULL) != 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_resize(NULL, 8), -EINVAL);
    CHECK_EQ(ferry_lfht_resize(ht, 0), -EINVAL);
    CHECK_EQ(ferry_lfht_destroy(NULL), -EINVAL);
    ferry_rcu_read_lock();
    CHECK_EQ(count(ht), 0);   /* nothing was added by the bad calls */
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(add_then_lookup_finds_each_key)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(8, 8, 0, 0);
    enum { N = 500 };
    static struct item items[N];
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < N; i++) {
        items[i].key = i * 7;
        items[i].value = (int)i;
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i * 7), &items[i].node), 0);
    }
    for (unsigned long i = 0; i < N; i++) {
        struct item *f = find(ht, i * 7);
        CHECK(f == &items[i]);
        CHECK(find(ht, i * 7 + 1) == NULL || (i * 7 + 1) % 7 == 0);
        CHECK_EQ(ferry_lfht_is_node_deleted(&items[i].node), 0);
    }
    CHECK(find(ht, 3) == NULL);
    CHECK_EQ(count(ht), N);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(duplicates_are_kept_in_insertion_order)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    struct item d[4] = { { .key = 5, .value = 0 }, { .key = 5, .value = 1 },
                         { .key = 9, .value = 2 }, { .key = 5, .value = 3 } };
    unsigned long k = 5;
    ferry_rcu_read_lock();
    for (int i = 0; i < 4; i++)
        CHECK_EQ(ferry_lfht_add(ht, hash_of(d[i].key), &d[i].node), 0);
    ferry_lfht_iter it;
    ferry_lfht_node *n;
    int seen[4], ns = 0;
    ferry_lfht_for_each_duplicate(ht, hash_of(5), match_key, &k, &it, n)
        seen[ns++] = ferry_container_of(n, struct item, node)->value;
    CHECK_EQ(ns, 3);
    CHECK_EQ(seen[0], 0);
    CHECK_EQ(seen[1], 1);
    CHECK_EQ(seen[2], 3);
    /* Same with the entry form. */
    struct item *pos;
    ns = 0;
    ferry_lfht_for_each_entry_duplicate(ht, hash_of(5), match_key, &k, &it, pos, node)
        seen[ns++] = pos->value;
    CHECK_EQ(ns, 3);
    /* next_duplicate after the last one stays at NULL. */
    ferry_lfht_next_duplicate(ht, match_key, &k, &it);
    CHECK(it.node == NULL);
    /* Deleting the middle duplicate: the others are still found. */
    CHECK_EQ(ferry_lfht_del(ht, &d[1].node), 0);
    ns = 0;
    ferry_lfht_for_each_entry_duplicate(ht, hash_of(5), match_key, &k, &it, pos, node)
        seen[ns++] = pos->value;
    CHECK_EQ(ns, 2);
    CHECK_EQ(seen[0], 0);
    CHECK_EQ(seen[1], 3);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(add_unique_adds_once_and_returns_the_present_node)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(2, 2, 0, 0);
    struct item a = { .key = 42, .value = 1 }, b = { .key = 42, .value = 2 }, c = { .key = 43 };
    unsigned long k = 42, k2 = 43;
    ferry_rcu_read_lock();
    CHECK(ferry_lfht_add_unique(ht, hash_of(42), match_key, &k, &a.node) == &a.node);
    CHECK(ferry_lfht_add_unique(ht, hash_of(42), match_key, &k, &b.node) == &a.node);
    CHECK(ferry_lfht_add_unique(ht, hash_of(43), match_key, &k2, &c.node) == &c.node);
    CHECK_EQ(count(ht), 2);
    CHECK(find(ht, 42) == &a);
    /* b was not added: it may be reused at once, e.g. added elsewhere. */
    CHECK_EQ(ferry_lfht_del(ht, &a.node), 0);
    CHECK(ferry_lfht_add_unique(ht, hash_of(42), match_key, &k, &b.node) == &b.node);
    CHECK(find(ht, 42) == &b);
    CHECK_EQ(count(ht), 2);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(add_unique_sees_a_match_among_colliding_hashes)
{
    /* Every key has the same hash: the run of equal hashes holds several
     * keys, and add_unique must scan all of it. */
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, 0);
    enum { N = 40 };
    static struct item a[N], b[N];
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        CHECK(ferry_lfht_add_unique(ht, 77, match_key, &a[i].key, &a[i].node) == &a[i].node);
    }
    for (unsigned long i = 0; i < N; i++) {
        b[i].key = i;
        CHECK(ferry_lfht_add_unique(ht, 77, match_key, &b[i].key, &b[i].node) == &a[i].node);
        ferry_lfht_iter it;
        ferry_lfht_lookup(ht, 77, match_key, &a[i].key, &it);
        CHECK(it.node == &a[i].node);
        ferry_lfht_next_duplicate(ht, match_key, &a[i].key, &it);
        CHECK(it.node == NULL);
    }
    CHECK_EQ(count(ht), N);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(add_replace_adds_or_replaces)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    struct item a = { .key = 7, .value = 1 }, b = { .key = 7, .value = 2 }, c = { .key = 7, .value = 3 };
    unsigned long k = 7;
    ferry_rcu_read_lock();
    CHECK(ferry_lfht_add_replace(ht, hash_of(7), match_key, &k, &a.node) == NULL);
    CHECK(find(ht, 7) == &a);
    CHECK(ferry_lfht_add_replace(ht, hash_of(7), match_key, &k, &b.node) == &a.node);
    CHECK(find(ht, 7) == &b);
    CHECK(ferry_lfht_is_node_deleted(&a.node) != 0);
    CHECK_EQ(ferry_lfht_is_node_deleted(&b.node), 0);
    CHECK_EQ(count(ht), 1);
    /* The replaced node cannot be deleted or replaced again. */
    CHECK_EQ(ferry_lfht_del(ht, &a.node), -ENOENT);
    CHECK(ferry_lfht_add_replace(ht, hash_of(7), match_key, &k, &c.node) == &b.node);
    CHECK(find(ht, 7) == &c);
    CHECK_EQ(count(ht), 1);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(replace_checks_its_arguments)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    struct item a = { .key = 3, .value = 1 }, b = { .key = 3, .value = 2 }, c = { .key = 3, .value = 3 };
    struct item other = { .key = 4 };
    unsigned long k = 3, k4 = 4;
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_lfht_add(ht, hash_of(3), &a.node), 0);
    ferry_lfht_iter it;
    ferry_lfht_lookup(ht, hash_of(3), match_key, &k, &it);
    CHECK(it.node == &a.node);
    /* Different hash, different key, same node: -EINVAL, nothing changes. */
    CHECK_EQ(ferry_lfht_replace(ht, &it, hash_of(3) + 1, match_key, &k, &b.node), -EINVAL);
    CHECK_EQ(ferry_lfht_replace(ht, &it, hash_of(3), match_key, &k4, &other.node), -EINVAL);
    CHECK_EQ(ferry_lfht_replace(ht, &it, hash_of(3), match_key, &k, &a.node), -EINVAL);
    CHECK(find(ht, 3) == &a);
    CHECK_EQ(ferry_lfht_replace(ht, &it, hash_of(3), match_key, &k, &b.node), 0);
    CHECK(find(ht, 3) == &b);
    CHECK(ferry_lfht_is_node_deleted(&a.node) != 0);
    /* The same iterator again: a is gone. */
    CHECK_EQ(ferry_lfht_replace(ht, &it, hash_of(3), match_key, &k, &c.node), -ENOENT);
    /* An iterator with no node. */
    ferry_lfht_lookup(ht, hash_of(99), match_key, &k, &it);
    CHECK(it.node == NULL);
    CHECK_EQ(ferry_lfht_replace(ht, &it, hash_of(3), match_key, &k, &c.node), -ENOENT);
    CHECK_EQ(count(ht), 1);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(replace_after_a_neighbour_was_added)
{
    /* The iterator's saved successor is stale (a duplicate was added right
     * after the node): replace retries with the current one, and the new
     * node keeps the neighbour reachable. */
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, 0);
    struct item a = { .key = 3, .value = 1 }, dup = { .key = 3, .value = 2 }, b = { .key = 3, .value = 3 };
    unsigned long k = 3;
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_lfht_add(ht, 11, &a.node), 0);
    ferry_lfht_iter it;
    ferry_lfht_lookup(ht, 11, match_key, &k, &it);
    CHECK_EQ(ferry_lfht_add(ht, 11, &dup.node), 0);   /* linked after a */
    CHECK_EQ(ferry_lfht_replace(ht, &it, 11, match_key, &k, &b.node), 0);
    int vals[3], n = 0;
    struct item *pos;
    ferry_lfht_for_each_entry_duplicate(ht, 11, match_key, &k, &it, pos, node)
        vals[n++] = pos->value;
    CHECK_EQ(n, 2);
    CHECK_EQ(vals[0], 3);
    CHECK_EQ(vals[1], 2);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(del_removes_once)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    struct item a = { .key = 1 }, b = { .key = 2 };
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_lfht_add(ht, hash_of(1), &a.node), 0);
    CHECK_EQ(ferry_lfht_add(ht, hash_of(2), &b.node), 0);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), 0);
    CHECK(ferry_lfht_is_node_deleted(&a.node) != 0);
    CHECK(find(ht, 1) == NULL);
    CHECK(find(ht, 2) == &b);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), -ENOENT);
    CHECK_EQ(count(ht), 1);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(node_init_deleted_reads_deleted_until_added)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    struct item a = { .key = 1 };
    ferry_lfht_node_init(&a.node);
    ferry_lfht_node_init_deleted(&a.node);
    ferry_rcu_read_lock();
    CHECK(ferry_lfht_is_node_deleted(&a.node) != 0);
    CHECK_EQ(ferry_lfht_add(ht, hash_of(1), &a.node), 0);
    CHECK_EQ(ferry_lfht_is_node_deleted(&a.node), 0);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(hashes_equal_to_bucket_indexes)
{
    /* A user node whose hash equals a bucket's index has the bucket's key:
     * it must sort after the bucket and be found at every size. */
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, 0);
    enum { N = 64 };
    static struct item a[N + 2];
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        CHECK_EQ(ferry_lfht_add(ht, i, &a[i].node), 0);
    }
    a[N].key = N;
    CHECK_EQ(ferry_lfht_add(ht, ~0UL, &a[N].node), 0);         /* largest key */
    a[N + 1].key = N + 1;
    CHECK_EQ(ferry_lfht_add(ht, TOP_BIT, &a[N + 1].node), 0);
    ferry_rcu_read_unlock();
    static const unsigned long sizes[] = { 1, 2, 64, 128, 4, 1024, 1 };
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        CHECK_EQ(ferry_lfht_resize(ht, sizes[s]), 0);
        CHECK_EQ(size_of(ht), sizes[s]);
        ferry_rcu_read_lock();
        for (unsigned long i = 0; i < N; i++) {
            ferry_lfht_iter it;
            ferry_lfht_lookup(ht, i, match_key, &a[i].key, &it);
            CHECK(it.node == &a[i].node);
        }
        ferry_lfht_iter it;
        ferry_lfht_lookup(ht, ~0UL, match_key, &a[N].key, &it);
        CHECK(it.node == &a[N].node);
        ferry_lfht_lookup(ht, TOP_BIT, match_key, &a[N + 1].key, &it);
        CHECK(it.node == &a[N + 1].node);
        CHECK_EQ(count(ht), N + 2);
        ferry_rcu_read_unlock();
    }
    finish(ht);
}

FERRY_TEST(iteration_visits_every_node_once)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(16, 16, 0, 0);
    enum { N = 300 };
    static struct item a[N];
    ferry_lfht_iter it;
    ferry_lfht_node *n;
    ferry_rcu_read_lock();
    ferry_lfht_first(ht, &it);
    CHECK(it.node == NULL);   /* empty */
    int visits = 0;
    ferry_lfht_for_each(ht, &it, n)
        visits++;
    CHECK_EQ(visits, 0);
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
    }
    ferry_lfht_for_each(ht, &it, n) {
        struct item *x = ferry_container_of(n, struct item, node);
        CHECK(x->value == 0);
        x->value = 1;
    }
    for (int i = 0; i < N; i++)
        CHECK_EQ(a[i].value, 1);
    /* Deleting the current node while iterating is allowed. */
    struct item *pos;
    int deleted = 0;
    ferry_lfht_for_each_entry(ht, &it, pos, node) {
        if (pos->key % 2 == 0) {
            CHECK_EQ(ferry_lfht_del(ht, &pos->node), 0);
            deleted++;
        }
    }
    CHECK_EQ(deleted, N / 2);
    visits = 0;
    ferry_lfht_for_each_entry(ht, &it, pos, node) {
        CHECK(pos->key % 2 == 1);
        visits++;
    }
    CHECK_EQ(visits, N / 2);
    ferry_rcu_read_unlock();
    finish(ht);
}

FERRY_TEST(count_nodes_with_and_without_accounting)
{
    ferry_rcu_register_thread();
    for (int acct = 0; acct < 2; acct++) {
        ferry_lfht *ht = ferry_lfht_new(8, 8, 0, acct ? FERRY_LFHT_ACCOUNTING : 0);
        enum { N = 100 };
        static struct item a[N];
        ferry_rcu_read_lock();
        for (unsigned long i = 0; i < N; i++) {
            a[i].key = i;
            CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
        }
        for (unsigned long i = 0; i < 10; i++)
            CHECK_EQ(ferry_lfht_del(ht, &a[i].node), 0);
        long before = -1, after = -1;
        unsigned long c = 0;
        CHECK_EQ(ferry_lfht_count_nodes(ht, &before, &c, &after), 0);
        CHECK_EQ(c, N - 10);
        CHECK_EQ(before, acct ? N - 10 : 0);
        CHECK_EQ(after, acct ? N - 10 : 0);
        ferry_rcu_read_unlock();
        drain(ht);
        CHECK_EQ(ferry_lfht_destroy(ht), 0);
    }
    ferry_rcu_unregister_thread();
}

FERRY_TEST(resize_rounds_clamps_and_keeps_every_node)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 256, 0);
    enum { N = 1000 };
    static struct item a[N];
    fill(ht, a, N);
    static const struct { unsigned long ask, got; } steps[] = {
        { 100, 128 }, { 128, 128 }, { 129, 256 }, { 1UL << 30, 256 }, { 3, 4 }, { 1, 4 }, { 64, 64 },
    };
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        CHECK_EQ(ferry_lfht_resize(ht, steps[s].ask), 0);
        CHECK_EQ(size_of(ht), steps[s].got);
        ferry_rcu_read_lock();
        for (unsigned long i = 0; i < N; i++)
            CHECK(find(ht, i) == &a[i]);
        CHECK_EQ(count(ht), N);
        ferry_rcu_read_unlock();
    }
    finish(ht);
}

FERRY_TEST(auto_resize_grows_and_shrinks_with_accounting)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING);
    enum { N = 20000 };
    struct item *a = calloc(N, sizeof *a);
    CHECK(a != NULL);
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
        ferry_rcu_read_unlock();
    }
    ferry_rcu_barrier();   /* the queued resize has run */
    unsigned long grown = size_of(ht);
    CHECK_MSG(grown >= N / 2 && grown <= 2 * N, "size %lu for %d nodes", grown, N);
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < N; i++)
        CHECK(find(ht, i) == &a[i]);
    ferry_rcu_read_unlock();
    for (unsigned long i = 0; i < N; i++) {
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_del(ht, &a[i].node), 0);
        ferry_rcu_read_unlock();
    }
    ferry_rcu_barrier();
    /* The counters are checked every 1024 operations of a thread: the
     * table has shrunk by at least 8 (when fewer than 1 node per 8 buckets
     * was seen), and shrinks to the minimum as operations go on. */
    unsigned long shrunk = size_of(ht);
    CHECK_MSG(shrunk <= grown / 8, "size %lu after deleting everything (was %lu)", shrunk, grown);
    for (int i = 0; i < 3000; i++) {
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, hash_of(0), &a[0].node), 0);
        CHECK_EQ(ferry_lfht_del(ht, &a[0].node), 0);
        ferry_rcu_read_unlock();
        ferry_rcu_synchronize();   /* a[0] is reused */
        if (i % 1024 == 1023)
            ferry_rcu_barrier();
    }
    ferry_rcu_barrier();
    CHECK_MSG(size_of(ht) <= 2, "size %lu after 3000 add/del pairs on an empty table", size_of(ht));
    ferry_rcu_read_lock();
    CHECK_EQ(count(ht), 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_synchronize();
    free(a);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(auto_resize_grows_on_chain_length_without_accounting)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 1024, FERRY_LFHT_AUTO_RESIZE);
    enum { N = 5000 };
    struct item *a = calloc(N, sizeof *a);
    CHECK(a != NULL);
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
        ferry_rcu_read_unlock();
    }
    ferry_rcu_barrier();
    CHECK_MSG(size_of(ht) >= 256, "size %lu", size_of(ht));
    CHECK(size_of(ht) <= 1024);   /* max_nr_buckets holds */
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < N; i++)
        CHECK(find(ht, i) == &a[i]);
    ferry_rcu_read_unlock();
    drain(ht);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    free(a);
    ferry_rcu_unregister_thread();
}

/* One read-side section around every add: no grace period can end, so the
 * resize queued through ferry_rcu_call cannot run; the updaters must grow
 * the table themselves when chains get long (else each add walks them:
 * quadratic). */
static void grows_inside_one_section(int flags)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, flags);
    enum { N = 20000 };
    struct item *a = calloc(N, sizeof *a);
    CHECK(a != NULL);
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
    }
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    CHECK_MSG(st.size >= N / 64, "size %lu for %d nodes inside one read-side section", st.size, N);
    for (unsigned long i = 0; i < N; i++)
        CHECK(find(ht, i) == &a[i]);
    ferry_rcu_read_unlock();
    drain(ht);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    free(a);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(updaters_grow_when_the_queued_resize_is_late)
{
    grows_inside_one_section(FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING);
}

FERRY_TEST(updaters_grow_when_the_queued_resize_is_late_without_accounting)
{
    grows_inside_one_section(FERRY_LFHT_AUTO_RESIZE);
}

FERRY_TEST(equal_hashes_do_not_make_the_table_grow)
{
    /* 200 nodes with one hash: a long chain that growing cannot split. */
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, FERRY_LFHT_AUTO_RESIZE);
    enum { N = 200 };
    static struct item a[N];
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        ferry_rcu_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, 12345, &a[i].node), 0);
        ferry_rcu_read_unlock();
    }
    ferry_rcu_barrier();
    CHECK_EQ(size_of(ht), 1);
    finish(ht);
}

FERRY_TEST(destroy_refuses_a_table_with_nodes)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING);
    struct item a = { .key = 1 };
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_lfht_add(ht, hash_of(1), &a.node), 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), -EPERM);
    /* Still usable. */
    ferry_rcu_read_lock();
    CHECK(find(ht, 1) == &a);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(destroy_from_an_unregistered_thread)
{
    /* Creation and destruction need no registration. */
    ferry_lfht *ht = ferry_lfht_new(64, 1, 0, FERRY_LFHT_AUTO_RESIZE);
    CHECK(ht != NULL);
    CHECK_EQ(size_of(ht), 64);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
}

FERRY_TEST(qsbr_flavor_table)
{
    ferry_qsbr_register_thread();
    ferry_lfht *ht = ferry_lfht_new_flavor(1, 1, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING,
                                           &ferry_lfht_flavor_qsbr);
    CHECK(ht != NULL);
    enum { N = 3000 };
    struct item *a = calloc(N, sizeof *a);
    CHECK(a != NULL);
    for (unsigned long i = 0; i < N; i++) {
        a[i].key = i;
        ferry_qsbr_read_lock();
        CHECK_EQ(ferry_lfht_add(ht, hash_of(i), &a[i].node), 0);
        ferry_qsbr_read_unlock();
        ferry_qsbr_quiescent_state();
    }
    ferry_qsbr_barrier();
    CHECK(size_of(ht) >= 1024);
    CHECK_EQ(ferry_lfht_resize(ht, 8), 0);
    CHECK_EQ(size_of(ht), 8);
    ferry_qsbr_read_lock();
    for (unsigned long i = 0; i < N; i++)
        CHECK(find(ht, i) == &a[i]);
    struct item *pos;
    ferry_lfht_iter it;
    ferry_lfht_for_each_entry(ht, &it, pos, node)
        CHECK_EQ(ferry_lfht_del(ht, &pos->node), 0);
    ferry_qsbr_read_unlock();
    ferry_qsbr_synchronize();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    free(a);
    ferry_qsbr_unregister_thread();
}

FERRY_DEBUG_DEATH_TEST(lookup_outside_read_section_aborts,
                       "ferry_lfht_lookup outside a read-side section")
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    unsigned long k = 1;
    ferry_lfht_iter it;
    ferry_lfht_lookup(ht, 1, match_key, &k, &it);
}

FERRY_DEBUG_DEATH_TEST(add_outside_read_section_aborts, "ferry_lfht_add outside a read-side section")
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, 0);
    struct item a = { .key = 1 };
    ferry_lfht_add(ht, 1, &a.node);
}

FERRY_DEBUG_DEATH_TEST(qsbr_table_used_offline_aborts, "ferry_lfht_del outside a read-side section")
{
    ferry_qsbr_register_thread();
    ferry_lfht *ht = ferry_lfht_new_flavor(4, 4, 0, 0, &ferry_lfht_flavor_qsbr);
    struct item a = { .key = 1 };
    ferry_lfht_add(ht, 1, &a.node);
    ferry_qsbr_thread_offline();
    ferry_lfht_del(ht, &a.node);
}
