/* SPDX-License-Identifier: MIT */
/* ferry/rcuhash.h as a hostile caller uses it: a node added twice, add_unique
 * and add_replace of the node that is already there, del of a node twice or
 * of one set up deleted, a non-empty destroy, odd sizes, a user flavor with
 * a hook missing, a resize from an unregistered or an offline (QSBR)
 * thread. (tests/unit/
 * rcuhash.c has the NULL arguments and the ordinary contract.) */
#include <ferry/rcuhash.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "rcuhash_internal.h"
#include "test.h"

struct item {
    unsigned long key;
    ferry_lfht_node node;
};

static int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, struct item, node)->key == *(const unsigned long *)key;
}

static int match_none(ferry_lfht_node *node, const void *key)
{
    (void)node;
    (void)key;
    return 0;
}

/* Nodes by traversal, and the ACCOUNTING estimate (adds - dels). */
static unsigned long count(ferry_lfht *ht, long *split)
{
    unsigned long c = 99999;
    long after = -1;
    CHECK_EQ(ferry_lfht_count_nodes(ht, NULL, &c, &after), 0);
    if (split)
        *split = after;
    return c;
}

/* The same node added again under the same hash is -EEXIST and changes
 * nothing (it linked the node after itself: a cycle, and every later walk
 * of that chain spun for ever). */
FERRY_TEST(lfht_add_of_a_present_node_is_eexist)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(4, 4, 0, FERRY_LFHT_ACCOUNTING);
    CHECK(ht != NULL);
    struct item a = {.key = 1}, b = {.key = 1}, c = {.key = 2};
    long split;
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_lfht_add(ht, 7, &a.node), 0);
    CHECK_EQ(ferry_lfht_add(ht, 7, &b.node), 0); /* a duplicate key, another node: fine */
    CHECK_EQ(ferry_lfht_add(ht, 7, &c.node), 0);
    CHECK_EQ(ferry_lfht_add(ht, 7, &a.node), -EEXIST);
    CHECK_EQ(ferry_lfht_add(ht, 7, &b.node), -EEXIST);
    CHECK_EQ(ferry_lfht_add(ht, 7, &c.node), -EEXIST);
    CHECK_EQ(count(ht, &split), 3);
    CHECK_EQ(split, 3);
    unsigned long k = 1;
    ferry_lfht_iter it;
    int seen = 0;
    ferry_lfht_node *n;
    ferry_lfht_for_each_duplicate(ht, 7, match_key, &k, &it, n)
        seen++;
    CHECK_EQ(seen, 2);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), 0);
    CHECK_EQ(ferry_lfht_del(ht, &b.node), 0);
    CHECK_EQ(ferry_lfht_del(ht, &c.node), 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

/* add_unique of the node already present returns it and counts nothing;
 * add_replace of it returns NULL with errno EINVAL and changes nothing
 * (it "replaced" the node by itself: counted an add and said "added"). A
 * match function that does not recognise the node's own key cannot make
 * it linked twice either. */
FERRY_TEST(lfht_add_unique_and_replace_of_the_present_node)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(1, 1, 0, FERRY_LFHT_ACCOUNTING);
    CHECK(ht != NULL);
    struct item a = {.key = 5}, other = {.key = 6};
    unsigned long k = 5;
    long split;
    ferry_rcu_read_lock();
    CHECK(ferry_lfht_add_unique(ht, 3, match_key, &k, &a.node) == &a.node);
    CHECK_EQ(ferry_lfht_add(ht, 3, &other.node), 0); /* a, other in one run */
    CHECK(ferry_lfht_add_unique(ht, 3, match_key, &k, &a.node) == &a.node);
    CHECK_EQ(count(ht, &split), 2);
    CHECK_EQ(split, 2);
    errno = 0;
    CHECK(ferry_lfht_add_replace(ht, 3, match_key, &k, &a.node) == NULL);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(count(ht, &split), 2);
    CHECK_EQ(split, 2);
    CHECK(!ferry_lfht_is_node_deleted(&a.node));
    /* The node is present but the key given does not match it. */
    CHECK(ferry_lfht_add_unique(ht, 3, match_none, &k, &a.node) == &a.node);
    CHECK(ferry_lfht_add_unique(ht, 3, match_none, &k, &other.node) == &other.node);
    errno = 0;
    CHECK(ferry_lfht_add_replace(ht, 3, match_none, &k, &other.node) == NULL);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(count(ht, &split), 2);
    CHECK_EQ(split, 2);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), 0);
    CHECK_EQ(ferry_lfht_del(ht, &other.node), 0);
    CHECK_EQ(count(ht, &split), 0);
    CHECK_EQ(split, 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

/* del twice, del of a node set up deleted, del after replace: -ENOENT, and
 * the table and its counters are unchanged. */
FERRY_TEST(lfht_del_twice_and_never_added)
{
    ferry_rcu_register_thread();
    ferry_lfht *ht = ferry_lfht_new(2, 1, 8, FERRY_LFHT_ACCOUNTING);
    CHECK(ht != NULL);
    struct item a = {.key = 1}, b = {.key = 1}, d = {.key = 9};
    ferry_lfht_node_init_deleted(&d.node);
    unsigned long k = 1;
    long split;
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_lfht_del(ht, &d.node), -ENOENT);
    CHECK_EQ(ferry_lfht_add(ht, 1, &a.node), 0);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), 0);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), -ENOENT);
    CHECK_EQ(count(ht, &split), 0);
    CHECK_EQ(split, 0);
    ferry_rcu_read_unlock();
    ferry_rcu_synchronize(); /* a may be reused now */
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_lfht_add(ht, 1, &a.node), 0);
    CHECK(ferry_lfht_add_replace(ht, 1, match_key, &k, &b.node) == &a.node);
    CHECK_EQ(ferry_lfht_del(ht, &a.node), -ENOENT);
    CHECK_EQ(count(ht, &split), 1);
    CHECK_EQ(split, 1);
    CHECK_EQ(ferry_lfht_del(ht, &b.node), 0);
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

/* Sizes: 1 is a valid table (every node in one chain); non-powers of two,
 * 0 and min > max are EINVAL; a resize to 0 is -EINVAL and to ULONG_MAX
 * with a limit is clamped to it; destroy of a non-empty table is -EPERM and
 * leaves it usable. */
FERRY_TEST(lfht_odd_sizes_and_nonempty_destroy)
{
    ferry_rcu_register_thread();
    const unsigned long bad[][3] = {{0, 1, 0}, {1, 0, 0}, {5, 1, 0}, {4, 3, 0}, {4, 4, 6}, {4, 8, 4},
                                    {ULONG_MAX, 1, 0}, {1, 1, ULONG_MAX}, {1, ULONG_MAX, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        CHECK(ferry_lfht_new(bad[i][0], bad[i][1], bad[i][2], 0) == NULL);
        CHECK_EQ(errno, EINVAL);
    }
    ferry_lfht *ht = ferry_lfht_new(1, 1, 1, FERRY_LFHT_AUTO_RESIZE);
    CHECK(ht != NULL);
    static struct item a[64];
    ferry_rcu_read_lock();
    for (unsigned long i = 0; i < 64; i++) {
        a[i].key = i;
        CHECK_EQ(ferry_lfht_add(ht, i * 2654435761UL, &a[i].node), 0);
    }
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_resize(ht, 0), -EINVAL);
    CHECK_EQ(ferry_lfht_resize(ht, ULONG_MAX), 0); /* clamped to max 1 */
    CHECK_EQ(ferry_lfht_destroy(ht), -EPERM);
    ferry_rcu_read_lock();
    CHECK_EQ(count(ht, NULL), 64);
    for (unsigned long i = 0; i < 64; i++) {
        ferry_lfht_iter it;
        ferry_lfht_lookup(ht, i * 2654435761UL, match_key, &i, &it);
        CHECK(ferry_lfht_iter_get_node(&it) == &a[i].node);
        CHECK_EQ(ferry_lfht_del(ht, &a[i].node), 0);
    }
    ferry_rcu_read_unlock();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    ferry_rcu_unregister_thread();
}

/* A user flavor with a hook left NULL (only read_ongoing may be): refused
 * at creation with EINVAL. It used to be accepted, and the table then
 * jumped to address 0 at its first resize (read_lock, read_unlock,
 * quiescent_state, call: on the flavor's callback thread for an automatic
 * one) or in destroy (barrier). */
FERRY_TEST(lfht_flavor_with_a_null_hook_is_einval)
{
    for (int hook = 0; hook < 5; hook++) {
        ferry_lfht_flavor fl = ferry_lfht_flavor_memb;
        switch (hook) {
        case 0: fl.read_lock = NULL; break;
        case 1: fl.read_unlock = NULL; break;
        case 2: fl.quiescent_state = NULL; break;
        case 3: fl.call = NULL; break;
        default: fl.barrier = NULL; break;
        }
        errno = 0;
        ferry_lfht *ht = ferry_lfht_new_flavor(1, 1, 0, FERRY_LFHT_AUTO_RESIZE, &fl);
        CHECK_MSG(ht == NULL, "a flavor without hook %d was accepted", hook);
        CHECK_EQ(errno, EINVAL);
    }
    /* read_ongoing alone may be NULL (no debug check): a working table. */
    ferry_lfht_flavor fl = ferry_lfht_flavor_memb;
    fl.read_ongoing = NULL;
    ferry_lfht *ht = ferry_lfht_new_flavor(1, 1, 0, 0, &fl);
    CHECK(ht != NULL);
    ferry_rcu_register_thread();
    CHECK_EQ(ferry_lfht_resize(ht, 4096), 0);
    CHECK_EQ(ferry_lfht_resize(ht, 1), 0);
    ferry_rcu_unregister_thread();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
}

static unsigned long buckets(ferry_lfht *ht)
{
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    return st.size;
}

/* A resize walks the table in read-side sections of the caller: from a
 * thread that is not registered they protect nothing. Before the fix it
 * resized (and under QSBR left the unregistered thread's counter online). */
FERRY_TEST(lfht_resize_from_an_unregistered_thread_is_eperm)
{
    ferry_lfht *m = ferry_lfht_new(4, 1, 0, 0);
    ferry_lfht *q = ferry_lfht_new_flavor(4, 1, 0, 0, &ferry_lfht_flavor_qsbr);
    CHECK(m != NULL && q != NULL);
    CHECK_EQ(ferry_lfht_resize(m, 1 << 12), -EPERM);
    CHECK_EQ(ferry_lfht_resize(q, 1 << 12), -EPERM);
    CHECK_EQ(buckets(m), 4ul);
    CHECK_EQ(buckets(q), 4ul);
    CHECK(!ferry_qsbr_read_ongoing());
    /* Registered, the same calls work. */
    ferry_rcu_register_thread();
    CHECK_EQ(ferry_lfht_resize(m, 1 << 12), 0);
    CHECK_EQ(buckets(m), 1ul << 12);
    ferry_rcu_unregister_thread();
    ferry_qsbr_register_thread();
    CHECK_EQ(ferry_lfht_resize(q, 1 << 12), 0);
    CHECK_EQ(buckets(q), 1ul << 12);
    ferry_qsbr_unregister_thread();
    CHECK_EQ(ferry_lfht_destroy(m), 0);
    CHECK_EQ(ferry_lfht_destroy(q), 0);
}

/* An offline QSBR thread that resizes: the resize's quiescent states (one
 * per 1024 buckets) put it online, and before the fix it stayed online, so
 * that the synchronize below (another thread's) waited for it for ever. */
static void *qsbr_synchronize_elsewhere(void *arg)
{
    (void)arg;
    ferry_qsbr_synchronize();
    return NULL;
}

FERRY_TEST(lfht_qsbr_resize_from_an_offline_thread_leaves_it_offline)
{
    alarm(20);   /* the hang, as a failure */
    ferry_qsbr_register_thread();
    ferry_lfht *q = ferry_lfht_new_flavor(1, 1, 0, 0, &ferry_lfht_flavor_qsbr);
    CHECK(q != NULL);
    ferry_qsbr_thread_offline();
    CHECK_EQ(ferry_lfht_resize(q, 1 << 14), 0);
    CHECK_EQ(buckets(q), 1ul << 14);
    CHECK(!ferry_qsbr_read_ongoing());
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, qsbr_synchronize_elsewhere, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    /* Back online: an online caller stays online. */
    ferry_qsbr_thread_online();
    CHECK_EQ(ferry_lfht_resize(q, 1), 0);
    CHECK_EQ(buckets(q), 1ul);
    CHECK(ferry_qsbr_read_ongoing());
    CHECK_EQ(ferry_lfht_destroy(q), 0);
    ferry_qsbr_unregister_thread();
}
