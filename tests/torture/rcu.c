/* SPDX-License-Identifier: MIT */
/* RCU torture, per flavor (memb, qsbr, bp): readers traverse an RCU list
 * while updaters replace and delete entries and reclaim them through call
 * (the callback poisons, then frees; on the default worker, per-CPU
 * workers, or a worker bound to each updater), synchronize (poison after
 * the grace period, then free) or polled grace periods. Readers check that they never see poison
 * nor a broken entry. Run under TSan and ASan too (ASan also catches a
 * reader touching freed memory). cmake/parts/rcu.cmake reruns some cases
 * with FERRY_RCU_NO_MEMBARRIER=1 (fence mode) and FERRY_RCU_STRICT=1. */
#include <ferry/rculist.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "rcu_flavors.h"
#include "test.h"

#define MAGIC 0x600dfeedul
/* An updater's keys start at its index << KEY_SHIFT: each its own range. */
#define KEY_SHIFT (ULONG_MAX > 0xffffffffUL ? 40 : 24)
/* The pattern in an unsigned long: 0xdeadbeef on ILP32 targets such as i386. */
#define POISON ((unsigned long)0xdeadbeefdeadbeefull)
#define LIVE 48          /* entries on the list */
#define READERS 3
#define UPDATERS 2

struct entry {
    unsigned long magic;     /* MAGIC, POISON once reclaimed */
    unsigned long key;
    unsigned long check;     /* key ^ MAGIC */
    unsigned long cookie;    /* poll mode */
    ferry_list node;
    ferry_rcu_head rh;
    struct entry *pending;   /* poll/sync mode: local reclaim queue */
};

enum mode { BY_CALL, BY_SYNC, BY_POLL };

/* Where BY_CALL's callbacks go: the default worker, per-CPU workers, or a
 * worker of each updater's own (bound, destroyed when it is done). */
enum workers { DEFAULT_WORKER, CPU_WORKERS, OWN_WORKERS };

static const struct rcu_flavor *fl;
static enum mode mode;
static enum workers workers;
static ferry_list list_head;
static pthread_mutex_t update_lock = PTHREAD_MUTEX_INITIALIZER;
static FERRY_ATOMIC(int) stop;
static FERRY_ATOMIC(unsigned long) allocated, reclaimed, reads, traversals;

static struct entry *entry_new(unsigned long key)
{
    struct entry *e = malloc(sizeof *e);
    CHECK(e != NULL);
    e->key = key;
    e->check = key ^ MAGIC;
    __atomic_store_n(&e->magic, MAGIC, __ATOMIC_RELAXED);
    atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
    return e;
}

/* Poison, then free: a reader that still sees the entry after this point
 * (a grace-period bug) reads POISON, or ASan reports the use after free. */
static void entry_reclaim(struct entry *e)
{
    __atomic_store_n(&e->magic, POISON, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check, POISON, __ATOMIC_RELAXED);
    free(e);
    atomic_fetch_add_explicit(&reclaimed, 1, memory_order_relaxed);
}

static void entry_cb(ferry_rcu_head *h)
{
    entry_reclaim(ferry_container_of(h, struct entry, rh));
}

static void *reader(void *arg)
{
    (void)arg;
    uint64_t rnd = (uintptr_t)&rnd;
    fl->reg();
    unsigned long n = 0, t = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        bool nested = (ferry_test_rand(&rnd) & 7) == 0;
        fl->lock();
        if (nested)
            fl->lock();
        unsigned long seen = 0;
        ferry_list_for_each_entry_rcu(e, &list_head, struct entry, node) {
            unsigned long m = __atomic_load_n(&e->magic, __ATOMIC_RELAXED);
            unsigned long c = __atomic_load_n(&e->check, __ATOMIC_RELAXED);
            CHECK_MSG(m != POISON, "%s: reader saw a reclaimed entry (poison)", fl->name);
            CHECK_MSG(m == MAGIC && c == (e->key ^ MAGIC), "%s: reader saw a broken entry", fl->name);
            /* Entries appended at the tail during the walk are legitimately
             * visible, so a slow reader may walk more than LIVE: stop. */
            if (++seen >= 8 * LIVE)
                break;
        }
        n += seen;
        t++;
        if (nested)
            fl->unlock();
        fl->unlock();
        fl->quiesce();
        if (fl->qsbr && (ferry_test_rand(&rnd) & 63) == 0) {
            fl->offline();
            fl->online();
        }
    }
    fl->unreg();
    atomic_fetch_add_explicit(&reads, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&traversals, t, memory_order_relaxed);
    return NULL;
}

/* Remove a random entry (replace it in place, or delete it and append a new
 * one) under the update lock; returns the removed entry. */
static struct entry *update_one(uint64_t *rnd, unsigned long *key)
{
    pthread_mutex_lock(&update_lock);
    unsigned long k = ferry_test_rand(rnd) % LIVE;
    struct entry *victim = NULL;
    ferry_list_for_each_entry(e, &list_head, struct entry, node) {
        if (k-- == 0) {
            victim = e;
            break;
        }
    }
    CHECK(victim != NULL);
    struct entry *fresh = entry_new((*key)++);
    if (ferry_test_rand(rnd) & 1) {
        ferry_list_replace_rcu(&victim->node, &fresh->node);
    } else {
        ferry_list_del_rcu(&victim->node);
        ferry_list_add_tail_rcu(&list_head, &fresh->node);
    }
    pthread_mutex_unlock(&update_lock);
    return victim;
}

static void *updater(void *arg)
{
    uint64_t rnd = (uintptr_t)arg * 7919 + 1;
    unsigned long key = (unsigned long)(uintptr_t)arg << KEY_SHIFT;
    struct entry *pending = NULL, **tail = &pending;
    unsigned batch = 0;
    ferry_rcu_worker *own = NULL;
    if (workers == OWN_WORKERS) {
        CHECK_EQ(fl->worker_create(&own, -1), 0);
        CHECK_EQ(fl->set_thread_worker(own), 0);
    }
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        struct entry *e = update_one(&rnd, &key);
        switch (mode) {
        case BY_CALL:
            fl->call(&e->rh, entry_cb);
            /* Bound the backlog (strict mode runs a grace period per
             * callback, far slower than we queue). */
            while (atomic_load_explicit(&allocated, memory_order_relaxed) -
                       atomic_load_explicit(&reclaimed, memory_order_relaxed) > 20000 &&
                   !atomic_load_explicit(&stop, memory_order_relaxed))
                usleep(200);
            break;
        case BY_SYNC:
            /* Reclaim in batches of 1..8 behind one synchronize. */
            e->pending = pending;
            pending = e;
            if (++batch >= 1 + (ferry_test_rand(&rnd) & 7)) {
                fl->sync();
                while (pending) {
                    struct entry *n = pending->pending;
                    entry_reclaim(pending);
                    pending = n;
                }
                batch = 0;
            }
            break;
        case BY_POLL:
            e->cookie = fl->start_poll();
            e->pending = NULL;
            *tail = e;
            tail = &e->pending;
            while (pending && fl->poll(pending->cookie)) {
                struct entry *n = pending->pending;
                entry_reclaim(pending);
                pending = n;
            }
            if (!pending)
                tail = &pending;
            if ((ferry_test_rand(&rnd) & 15) == 0)
                sched_yield();
            break;
        }
    }
    if (own) {
        CHECK_EQ(fl->worker_destroy(own), -EBUSY);   /* still bound */
        CHECK_EQ(fl->set_thread_worker(NULL), 0);
        CHECK_EQ(fl->worker_destroy(own), 0);        /* runs what it has queued */
    }
    if (pending) {
        fl->sync();
        while (pending) {
            struct entry *n = pending->pending;
            CHECK_MSG(mode != BY_POLL || fl->poll(pending->cookie),
                      "cookie not complete after synchronize");
            entry_reclaim(pending);
            pending = n;
        }
    }
    return NULL;
}

static void torture_with(const struct rcu_flavor *f, enum mode m, enum workers wk, long ms)
{
    fl = f;
    mode = m;
    workers = wk;
    if (wk == CPU_WORKERS)
        CHECK_EQ(f->create_cpu_workers(), 0);
    ferry_list_init(&list_head);
    for (unsigned long i = 0; i < LIVE; i++) {
        struct entry *e = entry_new(i);
        ferry_list_add_tail_rcu(&list_head, &e->node);
    }
    pthread_t r[READERS], u[UPDATERS];
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&r[i], NULL, reader, NULL), 0);
    for (int i = 0; i < UPDATERS; i++)
        CHECK_EQ(pthread_create(&u[i], NULL, updater, (void *)(uintptr_t)(i + 1)), 0);
    struct timespec end = ferry_test_deadline_ms((long)ferry_test_scaled((size_t)ms));
    while (ferry_test_ns_between(ferry_test_now(), end) > 0)
        usleep(10 * 1000);
    atomic_store_explicit(&stop, 1, memory_order_relaxed);
    for (int i = 0; i < UPDATERS; i++)
        pthread_join(u[i], NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    f->barrier();
    ferry_list_for_each_safe(pos, &list_head) {
        ferry_list_del_rcu(pos);
        entry_reclaim(ferry_container_of(pos, struct entry, node));
    }
    unsigned long a = atomic_load_explicit(&allocated, memory_order_relaxed);
    unsigned long rc = atomic_load_explicit(&reclaimed, memory_order_relaxed);
    printf("%s mode %d: %lu updates, %lu traversals, %lu entries read\n", f->name, (int)m,
           a - LIVE, atomic_load_explicit(&traversals, memory_order_relaxed),
           atomic_load_explicit(&reads, memory_order_relaxed));
    CHECK_EQ(a, rc);   /* every entry reclaimed exactly once */
    CHECK(atomic_load_explicit(&traversals, memory_order_relaxed) > 0);
    CHECK(a > LIVE);
}

static void torture(const struct rcu_flavor *f, enum mode m, long ms)
{
    torture_with(f, m, DEFAULT_WORKER, ms);
}

/* About 35 s in all in the release build, with the fence and strict reruns
 * of cmake/parts/rcu.cmake. */
FERRY_TEST(memb_call) { torture(&rcu_memb, BY_CALL, 2500); }
FERRY_TEST(memb_synchronize) { torture(&rcu_memb, BY_SYNC, 2500); }
FERRY_TEST(memb_poll) { torture(&rcu_memb, BY_POLL, 1500); }
FERRY_TEST(qsbr_call) { torture(&rcu_qsbr, BY_CALL, 2500); }
FERRY_TEST(qsbr_synchronize) { torture(&rcu_qsbr, BY_SYNC, 2500); }
FERRY_TEST(qsbr_poll) { torture(&rcu_qsbr, BY_POLL, 1500); }
FERRY_TEST(bp_call) { torture(&rcu_bp, BY_CALL, 2000); }
FERRY_TEST(bp_synchronize) { torture(&rcu_bp, BY_SYNC, 2000); }
FERRY_TEST(bp_poll) { torture(&rcu_bp, BY_POLL, 1500); }
FERRY_TEST(memb_call_cpu_workers) { torture_with(&rcu_memb, BY_CALL, CPU_WORKERS, 1500); }
FERRY_TEST(memb_call_own_workers) { torture_with(&rcu_memb, BY_CALL, OWN_WORKERS, 1500); }
FERRY_TEST(qsbr_call_cpu_workers) { torture_with(&rcu_qsbr, BY_CALL, CPU_WORKERS, 1500); }
FERRY_TEST(bp_call_own_workers) { torture_with(&rcu_bp, BY_CALL, OWN_WORKERS, 1500); }
