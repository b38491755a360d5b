/* SPDX-License-Identifier: MIT */
/* RCU hlist torture: a small hash of hlist buckets, each updated under its
 * own mutex by updater threads (add at the head, before or behind a node,
 * delete, replace), while reader threads traverse the buckets in read-side
 * sections. Removed nodes are reclaimed through the flavor's call, which
 * poisons and frees them; readers check that every node they reach is alive
 * and in the bucket it belongs to, and never see one node twice in a
 * traversal. At the end every bucket matches the updaters' model and every
 * node allocated is freed exactly once. Both flavors. */
#include <ferry/rculist.h>
#include <ferry/rcu_qsbr.h>

#include <pthread.h>
#include <stdlib.h>

#include "test.h"

#define MAGIC ((unsigned long)0x5eed5eed5eed5eedull)
/* The pattern in an unsigned long: 0xdeadbeef on ILP32 targets such as i386. */
#define POISON ((unsigned long)0xdeadbeefdeadbeefull)
#define BUCKETS 16
#define READERS 2
#define UPDATERS 2

struct hnode {
    FERRY_ATOMIC(unsigned long) magic;
    unsigned long bucket;
    ferry_hlist_node node;
    ferry_rcu_head rh;
};

struct flavor {
    void (*reg)(void), (*unreg)(void), (*lock)(void), (*unlock)(void), (*quiesce)(void), (*barrier)(void);
    void (*call)(ferry_rcu_head *, void (*)(ferry_rcu_head *));
};

static void m_lock(void) { ferry_rcu_read_lock(); }
static void m_unlock(void) { ferry_rcu_read_unlock(); }
static void m_nop(void) {}
static void m_barrier(void) { ferry_rcu_barrier(); }
static void m_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_rcu_call(h, fn); }
static void q_lock(void) { ferry_qsbr_read_lock(); }
static void q_unlock(void) { ferry_qsbr_read_unlock(); }
static void q_quiesce(void) { ferry_qsbr_quiescent_state(); }
static void q_barrier(void) { ferry_qsbr_barrier(); }
static void q_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_qsbr_call(h, fn); }

static const struct flavor memb = { ferry_rcu_register_thread, ferry_rcu_unregister_thread, m_lock, m_unlock,
                                    m_nop, m_barrier, m_call };
static const struct flavor qsbr = { ferry_qsbr_register_thread, ferry_qsbr_unregister_thread, q_lock,
                                    q_unlock, q_quiesce, q_barrier, q_call };

static const struct flavor *fl;
static ferry_hlist_head heads[BUCKETS];
static pthread_mutex_t locks[BUCKETS];
static long model[BUCKETS];          /* nodes per bucket, under its lock */
static FERRY_ATOMIC(unsigned long) allocated, freed, visits;
static FERRY_ATOMIC(int) stop;

static struct hnode *hnode_new(unsigned long b)
{
    struct hnode *h = malloc(sizeof *h);
    CHECK(h != NULL);
    h->bucket = b;
    atomic_store_explicit(&h->magic, MAGIC, memory_order_relaxed);
    atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
    return h;
}

static void reclaim(ferry_rcu_head *rh)
{
    struct hnode *h = ferry_container_of(rh, struct hnode, rh);
    atomic_store_explicit(&h->magic, POISON, memory_order_relaxed);
    free(h);
    atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

static void *reader(void *arg)
{
    uint64_t rnd = (uintptr_t)arg;
    fl->reg();
    unsigned long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        unsigned long b = ferry_test_rand(&rnd) % BUCKETS;
        const struct hnode *seen[256];
        int ns = 0;
        fl->lock();
        ferry_hlist_for_each_entry_rcu(h, &heads[b], struct hnode, node) {
            unsigned long m = atomic_load_explicit(&h->magic, memory_order_relaxed);
            CHECK_MSG(m != POISON, "reader reached a reclaimed node");
            CHECK_MSG(m == MAGIC && h->bucket == b, "reader reached a broken node");
            for (int i = 0; i < ns; i++)
                CHECK_MSG(seen[i] != h, "reader saw a node twice in one traversal");
            if (ns < 256)
                seen[ns++] = h;
            n++;
        }
        fl->unlock();
        fl->quiesce();
    }
    atomic_fetch_add_explicit(&visits, n, memory_order_relaxed);
    fl->unreg();
    return NULL;
}

/* The k-th node of bucket b (under its lock), or NULL. */
static struct hnode *nth(unsigned long b, unsigned long k)
{
    ferry_hlist_for_each_entry(h, &heads[b], struct hnode, node)
        if (k-- == 0)
            return h;
    return NULL;
}

static void *updater(void *arg)
{
    uint64_t rnd = (uintptr_t)arg * 7919;
    fl->reg();
    size_t ops = ferry_test_scaled(200000);
    for (size_t i = 0; i < ops; i++) {
        uint64_t x = ferry_test_rand(&rnd);
        unsigned long b = x % BUCKETS;
        pthread_mutex_lock(&locks[b]);
        long len = model[b];
        struct hnode *at = len ? nth(b, (x >> 8) % (unsigned long)len) : NULL, *gone = NULL;
        switch (at ? (x >> 20) % 5 : 0) {
        case 0:
            ferry_hlist_add_head_rcu(&heads[b], &hnode_new(b)->node);
            model[b]++;
            break;
        case 1:
            ferry_hlist_add_before_rcu(&hnode_new(b)->node, &at->node);
            model[b]++;
            break;
        case 2:
            ferry_hlist_add_behind_rcu(&hnode_new(b)->node, &at->node);
            model[b]++;
            break;
        case 3:
            ferry_hlist_replace_rcu(&at->node, &hnode_new(b)->node);
            gone = at;
            break;
        default:
            if (x & (1ull << 40))
                ferry_hlist_del_rcu(&at->node);
            else
                ferry_hlist_del_init_rcu(&at->node);
            model[b]--;
            gone = at;
            break;
        }
        /* Keep buckets short: delete more when long. */
        if (model[b] > 24) {
            struct hnode *h = nth(b, 0);
            ferry_hlist_del_rcu(&h->node);
            model[b]--;
            fl->call(&h->rh, reclaim);
        }
        pthread_mutex_unlock(&locks[b]);
        if (gone)
            fl->call(&gone->rh, reclaim);
        if ((i & 63) == 0)
            fl->quiesce();
    }
    fl->unreg();
    return NULL;
}

static void run(const struct flavor *f)
{
    fl = f;
    for (int b = 0; b < BUCKETS; b++) {
        ferry_hlist_head_init(&heads[b]);
        pthread_mutex_init(&locks[b], NULL);
        model[b] = 0;
    }
    pthread_t r[READERS], u[UPDATERS];
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < UPDATERS; i++)
        CHECK_EQ(pthread_create(&u[i], NULL, updater, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < UPDATERS; i++)
        pthread_join(u[i], NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    f->reg();
    for (int b = 0; b < BUCKETS; b++) {
        CHECK_EQ((long)ferry_hlist_count(&heads[b]), model[b]);
        ferry_hlist_for_each_entry_safe(h, &heads[b], struct hnode, node) {
            ferry_hlist_del_rcu(&h->node);
            f->call(&h->rh, reclaim);
        }
        CHECK(ferry_hlist_empty(&heads[b]));
    }
    f->barrier();
    f->unreg();
    CHECK_EQ(atomic_load(&freed), atomic_load(&allocated));
    CHECK(atomic_load(&visits) > 0);
}

FERRY_TEST(memb_buckets)
{
    run(&memb);
}

FERRY_TEST(qsbr_buckets)
{
    run(&qsbr);
}
