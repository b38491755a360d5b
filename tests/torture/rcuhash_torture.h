/* SPDX-License-Identifier: MIT */
/* The ferry_lfht torture workload, shared by tests/torture/rcuhash.c (the
 * library as built) and tests/torture/rcuhash_windows.c (the table compiled
 * with test hooks that stall threads inside its races).
 *
 * Updater threads mix add, add_unique, add_replace, replace, del and
 * lookups; reader threads look up and iterate; a resizer
 * thread grows and shrinks the table (on top of automatic resizing). Every
 * reclaimed node goes through the flavor's call, which poisons it and then
 * frees it, so a reader that reaches a reclaimed node sees the poison (or
 * ASan reports the use after free).
 *
 * Checked while running:
 *  - a lookup or traversal returns only live nodes of the key it asked for;
 *  - keys of the unique range (added only by add_unique / add_replace) are
 *    never seen twice, neither by lookup + next_duplicate nor in one full
 *    traversal, and add_unique never returns a node of another key;
 *  - traversals see keys in non-decreasing split order (no node twice).
 * Checked at quiescent points (every thread parked between rounds):
 *  - every key is present exactly as often as the model (net successful
 *    adds minus dels) says; count_nodes and a traversal agree with it, and
 *    so do the ACCOUNTING counters.
 * At the end the table is drained and destroyed and every node allocated
 * was freed exactly once. */
#ifndef FERRY_TEST_RCUHASH_TORTURE_H
#define FERRY_TEST_RCUHASH_TORTURE_H

#include <ferry/rcuhash.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "rcuhash_internal.h"
#include "test.h"

/* Patterns in an unsigned long (their low 32 bits on ILP32 targets such as i386). */
#define MAGIC ((unsigned long)0x1f2e3d4c5b6a7988ull)
#define POISON ((unsigned long)0xdeaddeaddeaddeadull)
#define KEYS 2048u            /* [0, KEYS/2): unique range; the rest: duplicates */
#define UNIQUE (KEYS / 2)
#define HASHES 700u           /* keys k and k + HASHES share a hash */
#define UPDATERS 3
#define READERS 2
#define ROUNDS 8

struct tnode {
    FERRY_ATOMIC(unsigned long) magic;
    unsigned long key;
    unsigned long check;     /* key ^ MAGIC */
    ferry_lfht_node node;
    ferry_rcu_head rh;
};

struct flavor {
    const ferry_lfht_flavor *lf;
    bool qsbr;
    void (*reg)(void), (*unreg)(void), (*lock)(void), (*unlock)(void);
    void (*quiesce)(void), (*offline)(void), (*online)(void), (*barrier)(void), (*sync)(void);
    void (*call)(ferry_rcu_head *, void (*)(ferry_rcu_head *));
};

static void t_memb_lock(void) { ferry_rcu_read_lock(); }
static void t_memb_unlock(void) { ferry_rcu_read_unlock(); }
static void t_nop(void) {}
static void t_memb_barrier(void) { ferry_rcu_barrier(); }
static void t_memb_sync(void) { ferry_rcu_synchronize(); }
static void t_memb_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_rcu_call(h, fn); }
static void t_qsbr_lock(void) { ferry_qsbr_read_lock(); }
static void t_qsbr_unlock(void) { ferry_qsbr_read_unlock(); }
static void t_qsbr_quiesce(void) { ferry_qsbr_quiescent_state(); }
static void t_qsbr_offline(void) { ferry_qsbr_thread_offline(); }
static void t_qsbr_online(void) { ferry_qsbr_thread_online(); }
static void t_qsbr_barrier(void) { ferry_qsbr_barrier(); }
static void t_qsbr_sync(void) { ferry_qsbr_synchronize(); }
static void t_qsbr_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_qsbr_call(h, fn); }

static const struct flavor memb = {
    &ferry_lfht_flavor_memb, false, ferry_rcu_register_thread, ferry_rcu_unregister_thread,
    t_memb_lock, t_memb_unlock, t_nop, t_nop, t_nop, t_memb_barrier, t_memb_sync, t_memb_call,
};
static const struct flavor qsbr = {
    &ferry_lfht_flavor_qsbr, true, ferry_qsbr_register_thread, ferry_qsbr_unregister_thread,
    t_qsbr_lock, t_qsbr_unlock, t_qsbr_quiesce, t_qsbr_offline, t_qsbr_online, t_qsbr_barrier, t_qsbr_sync,
    t_qsbr_call,
};

static const struct flavor *fl;
static ferry_lfht *ht;
static FERRY_ATOMIC(long) present[KEYS];          /* the model */
static FERRY_ATOMIC(unsigned long) allocated, freed, resizes_done, ops_done;
static FERRY_ATOMIC(int) arrived;                  /* workers done with the round */
static pthread_barrier_t park, resume;
static size_t ops_per_round;
static unsigned long resize_max;

static unsigned long hash_of(unsigned long key)
{
    unsigned long h = key % HASHES;
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ul;
    return h ^ (h >> 29);
}

/* The table's internal order: hash with its bits reversed. */
static unsigned long split_key(unsigned long key)
{
    unsigned long h = hash_of(key), r = 0;
    for (int i = 0; i < 64; i++, h >>= 1)
        r = (r << 1) | (h & 1);
    return r;
}

static int match_key(ferry_lfht_node *node, const void *key)
{
    return ferry_container_of(node, struct tnode, node)->key == *(const unsigned long *)key;
}

static struct tnode *tnode_new(unsigned long key)
{
    struct tnode *t = malloc(sizeof *t);
    CHECK(t != NULL);
    t->key = key;
    t->check = key ^ MAGIC;
    atomic_store_explicit(&t->magic, MAGIC, memory_order_relaxed);
    atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
    return t;
}

static void tnode_free(struct tnode *t)
{
    atomic_store_explicit(&t->magic, POISON, memory_order_relaxed);
    t->check = POISON;
    free(t);
    atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

static void reclaim_cb(ferry_rcu_head *h)
{
    tnode_free(ferry_container_of(h, struct tnode, rh));
}

/* A node a reader got from the table: alive and of the key asked for (or
 * of any key when key == ~0). */
static struct tnode *check_node(ferry_lfht_node *n, unsigned long key)
{
    struct tnode *t = ferry_container_of(n, struct tnode, node);
    unsigned long m = atomic_load_explicit(&t->magic, memory_order_relaxed);
    CHECK_MSG(m != POISON, "a reader reached a reclaimed node (key %lu)", t->key);
    CHECK_MSG(m == MAGIC && t->check == (t->key ^ MAGIC), "a reader reached a broken node");
    CHECK_MSG(key == ~0ul || t->key == key, "lookup of key %lu returned key %lu", key, t->key);
    return t;
}

/* In a read-side section: nodes of key (checked); the unique range never
 * has two. */
static int lookup_all(unsigned long key)
{
    ferry_lfht_iter it;
    ferry_lfht_node *n;
    int c = 0;
    ferry_lfht_for_each_duplicate(ht, hash_of(key), match_key, &key, &it, n) {
        check_node(n, key);
        c++;
    }
    CHECK_MSG(key >= UNIQUE || c <= 1, "unique key %lu seen %d times by one lookup", key, c);
    return c;
}

/* In a read-side section: a full traversal; returns the node count and
 * fills seen[] when given. */
static unsigned long traverse(int *seen)
{
    ferry_lfht_iter it;
    ferry_lfht_node *n;
    unsigned long c = 0, last = 0;
    int local[UNIQUE];
    memset(local, 0, sizeof local);
    ferry_lfht_for_each(ht, &it, n) {
        struct tnode *t = check_node(n, ~0ul);
        unsigned long sk = split_key(t->key);
        CHECK_MSG(sk >= last, "traversal went backwards (key %lu)", t->key);
        last = sk;
        if (t->key < UNIQUE)
            CHECK_MSG(++local[t->key] == 1, "unique key %lu seen twice in one traversal", t->key);
        if (seen)
            seen[t->key]++;
        c++;
    }
    return c;
}

static void op_del(unsigned long key)
{
    ferry_lfht_iter it;
    ferry_lfht_lookup(ht, hash_of(key), match_key, &key, &it);
    if (!it.node)
        return;
    struct tnode *t = check_node(it.node, key);
    int rc = ferry_lfht_del(ht, it.node);
    CHECK(rc == 0 || rc == -ENOENT);
    if (rc == 0) {
        CHECK(ferry_lfht_is_node_deleted(it.node));
        atomic_fetch_sub_explicit(&present[key], 1, memory_order_relaxed);
        fl->call(&t->rh, reclaim_cb);
    }
}

static void op_add_unique(unsigned long key)
{
    struct tnode *t = tnode_new(key);
    ferry_lfht_node *r = ferry_lfht_add_unique(ht, hash_of(key), match_key, &key, &t->node);
    if (r == &t->node) {
        atomic_fetch_add_explicit(&present[key], 1, memory_order_relaxed);
    } else {
        check_node(r, key);
        tnode_free(t);   /* never published: no grace period needed */
    }
}

static void op_add_replace(unsigned long key)
{
    struct tnode *t = tnode_new(key);
    ferry_lfht_node *old = ferry_lfht_add_replace(ht, hash_of(key), match_key, &key, &t->node);
    if (!old) {
        atomic_fetch_add_explicit(&present[key], 1, memory_order_relaxed);
    } else {
        struct tnode *o = check_node(old, key);
        CHECK(old != &t->node);
        fl->call(&o->rh, reclaim_cb);
    }
}

static void op_replace(unsigned long key)
{
    ferry_lfht_iter it;
    ferry_lfht_lookup(ht, hash_of(key), match_key, &key, &it);
    if (!it.node)
        return;
    struct tnode *o = check_node(it.node, key), *t = tnode_new(key);
    int rc = ferry_lfht_replace(ht, &it, hash_of(key), match_key, &key, &t->node);
    CHECK(rc == 0 || rc == -ENOENT);
    if (rc == 0)
        fl->call(&o->rh, reclaim_cb);
    else
        tnode_free(t);
}

static void op_add(unsigned long key)
{
    struct tnode *t = tnode_new(key);
    CHECK_EQ(ferry_lfht_add(ht, hash_of(key), &t->node), 0);
    atomic_fetch_add_explicit(&present[key], 1, memory_order_relaxed);
}

static void park_between_rounds(void)
{
    atomic_fetch_add_explicit(&arrived, 1, memory_order_seq_cst);
    fl->offline();
    pthread_barrier_wait(&park);
    pthread_barrier_wait(&resume);
    fl->online();
}

static void *updater(void *arg)
{
    uint64_t rnd = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    fl->reg();
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < ops_per_round; i++) {
            uint64_t x = ferry_test_rand(&rnd);
            unsigned op = (unsigned)(x % 100);
            unsigned long key = (x >> 8) % KEYS;
            unsigned long ukey = key % UNIQUE, dkey = UNIQUE + key % (KEYS - UNIQUE);
            fl->lock();
            /* Duplicate keys: 12% add, 14% del, so their number levels
             * off (a few per key) instead of growing all run long. */
            if (op < 25)
                lookup_all(key);
            else if (op < 40)
                op_add_unique(ukey);
            else if (op < 50)
                op_add_replace(ukey);
            else if (op < 58)
                op_replace(ukey);
            else if (op < 66)
                op_del(ukey);
            else if (op < 80)
                op_del(dkey);
            else if (op < 92)
                op_add(dkey);
            else if (op == 92 && (x >> 40) % 8 == 0)
                traverse(NULL);
            else
                lookup_all(ukey);
            fl->unlock();
            if ((i & 15) == 0)
                fl->quiesce();
        }
        atomic_fetch_add_explicit(&ops_done, ops_per_round, memory_order_relaxed);
        park_between_rounds();
    }
    fl->unreg();
    return NULL;
}

static void *reader(void *arg)
{
    uint64_t rnd = (uintptr_t)arg * 0x2545f4914f6cdd1dull + 7;
    fl->reg();
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < ops_per_round; i++) {
            uint64_t x = ferry_test_rand(&rnd);
            fl->lock();
            if (x % 512 == 0)
                traverse(NULL);
            else
                lookup_all((x >> 8) % KEYS);
            fl->unlock();
            if ((i & 15) == 0)
                fl->quiesce();
        }
        park_between_rounds();
    }
    fl->unreg();
    return NULL;
}

/* Resizes (grow and shrink, random sizes) until the workers of the round
 * are all done. */
static void *resizer(void *arg)
{
    uint64_t rnd = (uintptr_t)arg + 99;
    fl->reg();
    fl->offline();   /* QSBR: online only while resizing */
    for (int r = 0; r < ROUNDS; r++) {
        while (atomic_load_explicit(&arrived, memory_order_seq_cst) < (r + 1) * (UPDATERS + READERS)) {
            unsigned long sz = 1ul << (ferry_test_rand(&rnd) % 13);
            if (sz > resize_max)
                sz = resize_max;
            fl->online();
            int rc = ferry_lfht_resize(ht, sz);
            fl->offline();
            CHECK_EQ(rc, 0);
            atomic_fetch_add_explicit(&resizes_done, 1, memory_order_relaxed);
            sched_yield();
        }
        pthread_barrier_wait(&park);
        pthread_barrier_wait(&resume);
    }
    fl->online();
    fl->unreg();
    return NULL;
}

/* Everyone is parked: the table must match the model exactly. */
static void check_quiescent(int flags)
{
    static int seen[KEYS];
    long total = 0;
    fl->lock();
    for (unsigned long k = 0; k < KEYS; k++) {
        long want = atomic_load_explicit(&present[k], memory_order_relaxed);
        CHECK_MSG(want >= 0 && (k >= UNIQUE ? true : want <= 1), "model of key %lu is %ld", k, want);
        int got = lookup_all(k);
        CHECK_MSG(got == want, "key %lu present %d times, model says %ld", k, got, want);
        total += want;
    }
    memset(seen, 0, sizeof seen);
    unsigned long trav = traverse(seen);
    for (unsigned long k = 0; k < KEYS; k++)
        CHECK_MSG(seen[k] == atomic_load_explicit(&present[k], memory_order_relaxed),
                  "traversal saw key %lu %d times", k, seen[k]);
    long before, after;
    unsigned long cnt;
    CHECK_EQ(ferry_lfht_count_nodes(ht, &before, &cnt, &after), 0);
    fl->unlock();
    CHECK_EQ(trav, total);
    CHECK_EQ(cnt, total);
    if (flags & FERRY_LFHT_ACCOUNTING) {
        CHECK_EQ(before, total);
        CHECK_EQ(after, total);
    }
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    CHECK_MSG(st.size && !(st.size & (st.size - 1)), "size %lu is not a power of two", st.size);
}

/* One run: a table of this flavor and shape; ops_per_round scaled by
 * FERRY_TEST_SCALE. */
static void run(const struct flavor *f, int flags, unsigned long init, unsigned long max, bool resize,
                size_t ops)
{
    fl = f;
    ops_per_round = ferry_test_scaled(ops);
    resize_max = max ? max : 4096;
    memset(present, 0, sizeof present);
    ht = ferry_lfht_new_flavor(init, 1, max, flags, f->lf);
    CHECK(ht != NULL);
    int parties = UPDATERS + READERS + 1 + (resize ? 1 : 0);
    pthread_barrier_init(&park, NULL, (unsigned)parties);
    pthread_barrier_init(&resume, NULL, (unsigned)parties);
    f->reg();
    f->offline();
    pthread_t t[UPDATERS + READERS + 1];
    int n = 0;
    for (int i = 0; i < UPDATERS; i++)
        CHECK_EQ(pthread_create(&t[n++], NULL, updater, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&t[n++], NULL, reader, (void *)(uintptr_t)(i + 10)), 0);
    if (resize)
        CHECK_EQ(pthread_create(&t[n++], NULL, resizer, (void *)(uintptr_t)77), 0);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&park);
        f->online();
        check_quiescent(flags);
        f->offline();
        pthread_barrier_wait(&resume);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    f->online();

    /* Drain: delete everything, reclaim, destroy. */
    f->lock();
    ferry_lfht_iter it;
    ferry_lfht_node *node;
    ferry_lfht_for_each(ht, &it, node) {
        struct tnode *tn = check_node(node, ~0ul);
        CHECK_EQ(ferry_lfht_del(ht, node), 0);
        atomic_fetch_sub_explicit(&present[tn->key], 1, memory_order_relaxed);
        f->call(&tn->rh, reclaim_cb);
    }
    unsigned long left = 1;
    CHECK_EQ(ferry_lfht_count_nodes(ht, NULL, &left, NULL), 0);
    f->unlock();
    CHECK_EQ(left, 0);
    for (unsigned long k = 0; k < KEYS; k++)
        CHECK_EQ(atomic_load_explicit(&present[k], memory_order_relaxed), 0);
    f->barrier();
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    f->barrier();
    CHECK_EQ(atomic_load(&freed), atomic_load(&allocated));
    CHECK(atomic_load(&ops_done) >= UPDATERS * ROUNDS * ops_per_round);
    if (resize)
        CHECK(atomic_load(&resizes_done) > 0);
    f->unreg();
    pthread_barrier_destroy(&park);
    pthread_barrier_destroy(&resume);
}

#endif
