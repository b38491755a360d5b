/* SPDX-License-Identifier: MIT */
/* RCU torture across fork(), per flavor: readers walk an RCU list while one
 * updater reclaims replaced entries through call and another through
 * synchronize, and a forker thread (itself a reader, forking inside a
 * read-side section every other time) forks again and again. Each child:
 *   - walks the inherited list: every entry on it is live (no poison);
 *   - runs barrier: the callbacks queued in the parent and not started at
 *     the fork run here, each exactly once (a second reclaim aborts), and
 *     at most one per updater that may have died between marking an entry
 *     and queueing it, plus the one callback that may have been running,
 *     are left;
 *   - runs a short torture of its own (reader, call and synchronize
 *     updates, barrier) on a list of its own.
 * The parent's torture goes on meanwhile and checks every entry is
 * reclaimed exactly once at the end.
 *
 * Entries come from a static pool with a lock-free free list, not malloc:
 * GCC 12's AddressSanitizer does not lock its allocator across fork, so a
 * parent thread inside malloc at the fork would leave the child's allocator
 * locked. A reclaimed entry is poisoned for ASan by hand (a reader touching
 * one is reported as a use after poison) and marked POISON for the other
 * builds. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ferry/rculist.h>

#include "rcu_flavors.h"
#include "test.h"
#include "rcu_fork_tsan.h"

#define MAGIC 0x600dfeedul
/* The pattern in an unsigned long: 0xdeadbeef on ILP32 targets such as i386. */
#define POISON ((unsigned long)0xdeadbeefdeadbeefull)
#define LIVE 32
#define POOL 8192
#define CHILD_POOL 256   /* the last entries: never used by the parent */
#define READERS 2
#define CHILD_SECONDS 20

enum state { FREE, ON_LIST, QUEUED, BATCHED };

struct entry {
    /* Poisoned while free (ASan). */
    unsigned long magic;
    unsigned long key;
    unsigned long check;
    ferry_list node;
    /* Not poisoned. */
    ferry_rcu_head rh;
    FERRY_ATOMIC(int) state;
    struct entry *next_free;
    struct entry *pending;
};

#define POISONED_SIZE offsetof(struct entry, rh)

static struct entry pool[POOL];
static FERRY_ATOMIC(struct entry *) free_top;
static __thread struct entry *cache;   /* the updater's entries */

static const struct rcu_flavor *fl;
static ferry_list list_head;
static pthread_mutex_t update_lock = PTHREAD_MUTEX_INITIALIZER;
static FERRY_ATOMIC(int) stop;
static FERRY_ATOMIC(unsigned long) allocated, reclaimed, forks;

/* Put pool[from, to) on the free list. */
static void pool_add(int from, int to)
{
    for (int i = from; i < to; i++) {
        pool[i].magic = POISON;
        atomic_store_explicit(&pool[i].state, FREE, memory_order_relaxed);
        pool[i].next_free = i + 1 < to ? &pool[i + 1] : atomic_load_explicit(&free_top, memory_order_relaxed);
        ASAN_POISON_MEMORY_REGION(&pool[i], POISONED_SIZE);
    }
    /* Release pairs with entry_new's acquire. */
    atomic_store_explicit(&free_top, &pool[from], memory_order_release);
}

/* Updaters take the whole free list at once (no ABA: pushes are the only
 * other operation); reclaimers push one entry. */
static struct entry *entry_new(unsigned long key)
{
    while (!cache) {
        /* Acquire pairs with entry_free's release. */
        cache = atomic_exchange_explicit(&free_top, NULL, memory_order_acquire);
        if (!cache)
            sched_yield();
    }
    struct entry *e = cache;
    cache = e->next_free;
    CHECK_EQ(atomic_load_explicit(&e->state, memory_order_relaxed), FREE);
    ASAN_UNPOISON_MEMORY_REGION(e, POISONED_SIZE);
    e->key = key;
    e->check = key ^ MAGIC;
    __atomic_store_n(&e->magic, MAGIC, __ATOMIC_RELAXED);
    atomic_store_explicit(&e->state, ON_LIST, memory_order_relaxed);
    atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
    return e;
}

/* Push the chain first..last on the free list. */
static void free_push(struct entry *first, struct entry *last)
{
    struct entry *old = atomic_load_explicit(&free_top, memory_order_relaxed);
    do {
        last->next_free = old;
        /* Release pairs with entry_new's acquire: the entries' poisoning
         * happens before their reuse. */
    } while (!atomic_compare_exchange_weak_explicit(&free_top, &old, first, memory_order_release,
                                                    memory_order_relaxed));
}

/* Give the calling thread's cached entries back to the others. */
static void cache_release(void)
{
    if (!cache)
        return;
    struct entry *last = cache;
    while (last->next_free)
        last = last->next_free;
    free_push(cache, last);
    cache = NULL;
}

static void entry_free(struct entry *e)
{
    int s = atomic_exchange_explicit(&e->state, FREE, memory_order_relaxed);
    CHECK_MSG(s != FREE && s != ON_LIST, "entry %p reclaimed twice (or while on the list)",
              (void *)e);
    __atomic_store_n(&e->magic, POISON, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check, POISON, __ATOMIC_RELAXED);
    ASAN_POISON_MEMORY_REGION(e, POISONED_SIZE);
    atomic_fetch_add_explicit(&reclaimed, 1, memory_order_relaxed);
    free_push(e, e);
}

static void entry_cb(ferry_rcu_head *h)
{
    entry_free(ferry_container_of(h, struct entry, rh));
}

/* One traversal inside a section: every entry is live. */
static unsigned long walk(ferry_list *head)
{
    unsigned long seen = 0;
    ferry_list_for_each_entry_rcu(e, head, struct entry, node) {
        unsigned long m = __atomic_load_n(&e->magic, __ATOMIC_RELAXED);
        CHECK_MSG(m != POISON, "%s: reader saw a reclaimed entry (poison)", fl->name);
        CHECK_MSG(m == MAGIC && __atomic_load_n(&e->check, __ATOMIC_RELAXED) == (e->key ^ MAGIC),
                  "%s: reader saw a broken entry", fl->name);
        if (++seen >= 8 * LIVE)
            break;
    }
    return seen;
}

static void *reader(void *arg)
{
    ferry_list *head = arg;
    fl->reg();
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        fl->lock();
        walk(head);
        fl->unlock();
        fl->quiesce();
    }
    fl->unreg();
    return NULL;
}

/* Replace a random entry of the list under the update lock; returns the old. */
static struct entry *replace_one(ferry_list *head, pthread_mutex_t *lock, uint64_t *rnd,
                                 unsigned long *key, int n)
{
    struct entry *fresh = entry_new((*key)++);   /* may wait for a free entry: not locked */
    pthread_mutex_lock(lock);
    unsigned long k = ferry_test_rand(rnd) % (unsigned long)n;
    struct entry *victim = NULL;
    ferry_list_for_each_entry(e, head, struct entry, node) {
        if (k-- == 0) {
            victim = e;
            break;
        }
    }
    CHECK(victim != NULL);
    ferry_list_replace_rcu(&victim->node, &fresh->node);
    pthread_mutex_unlock(lock);
    return victim;
}

struct updater_arg {
    ferry_list *head;
    pthread_mutex_t *lock;
    int n;                      /* entries on the list */
    bool by_call;
    FERRY_ATOMIC(int) *stop;
    uint64_t seed;
};

static void *updater(void *arg)
{
    struct updater_arg *a = arg;
    uint64_t rnd = a->seed;
    unsigned long key = (unsigned long)a->seed << (ULONG_MAX > 0xffffffffUL ? 32 : 24);
    struct entry *batch = NULL;
    unsigned nb = 0;
    while (!atomic_load_explicit(a->stop, memory_order_relaxed)) {
        struct entry *e = replace_one(a->head, a->lock, &rnd, &key, a->n);
        if (a->by_call) {
            atomic_store_explicit(&e->state, QUEUED, memory_order_relaxed);
            fl->call(&e->rh, entry_cb);
            while (atomic_load_explicit(&allocated, memory_order_relaxed) -
                       atomic_load_explicit(&reclaimed, memory_order_relaxed) > POOL / 2 &&
                   !atomic_load_explicit(a->stop, memory_order_relaxed))
                sched_yield();
        } else {
            atomic_store_explicit(&e->state, BATCHED, memory_order_relaxed);
            e->pending = batch;
            batch = e;
            if (++nb >= 4) {
                fl->sync();
                while (batch) {
                    struct entry *next = batch->pending;
                    entry_free(batch);
                    batch = next;
                }
                nb = 0;
            }
        }
    }
    fl->sync();
    while (batch) {
        struct entry *next = batch->pending;
        entry_free(batch);
        batch = next;
    }
    return NULL;
}

static void list_fill(ferry_list *head, int n, unsigned long key0)
{
    ferry_list_init(head);
    for (int i = 0; i < n; i++)
        ferry_list_add_tail_rcu(head, &entry_new(key0 + (unsigned long)i)->node);
    cache_release();
}

static void list_drain(ferry_list *head)
{
    ferry_list_for_each_safe(pos, head) {
        ferry_list_del_rcu(pos);
        struct entry *e = ferry_container_of(pos, struct entry, node);
        atomic_store_explicit(&e->state, BATCHED, memory_order_relaxed);
        entry_free(e);
    }
}

/* ---- the child ---- */

static unsigned count_state(int s)
{
    unsigned n = 0;
    for (int i = 0; i < POOL; i++)
        n += atomic_load_explicit(&pool[i].state, memory_order_relaxed) == s;
    return n;
}

static void child(bool in_section)
{
    alarm(CHILD_SECONDS);
    /* This thread was inside a section at the fork (or not): the list it
     * inherited is intact. */
    if (!in_section)
        fl->lock();
    CHECK(walk(&list_head) > 0);
    fl->unlock();
    fl->quiesce();

    /* The parent's pending callbacks run here, once each. Left over: a
     * callback that was running at the fork, and entries an updater had
     * marked but not yet queued when it was copied away. */
    fl->barrier();
    unsigned queued = count_state(QUEUED);
    CHECK_MSG(queued <= 2, "%s: %u queued callbacks did not run in the child", fl->name, queued);
    fl->lock();
    walk(&list_head);
    fl->unlock();
    fl->quiesce();

    /* A torture of the child's own, with entries the parent never used
     * (its updaters' private caches of free entries are gone here). */
    pool_add(POOL - CHILD_POOL, POOL);
    static ferry_list mine;
    static pthread_mutex_t mine_lock = PTHREAD_MUTEX_INITIALIZER;
    static FERRY_ATOMIC(int) mine_stop;
    list_fill(&mine, 8, ULONG_MAX / 16 + 1);   /* 2^60 on LP64, 2^28 on ILP32 */
    pthread_t r, u[2];
    struct updater_arg ua[2] = {
        { &mine, &mine_lock, 8, true, &mine_stop, 11 },
        { &mine, &mine_lock, 8, false, &mine_stop, 12 },
    };
    fl->offline();   /* QSBR: this thread only waits from here on */
    CHECK_EQ(pthread_create(&r, NULL, reader, &mine), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&u[i], NULL, updater, &ua[i]), 0);
    ferry_test_sleep_ms(20);
    atomic_store_explicit(&mine_stop, 1, memory_order_relaxed);
    atomic_store_explicit(&stop, 1, memory_order_relaxed);   /* the reader's flag */
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(u[i], NULL), 0);
    CHECK_EQ(pthread_join(r, NULL), 0);
    fl->barrier();
    fl->sync();
    fl->unreg();
    fflush(NULL);
    _exit(0);
}

/* ---- the parent ---- */

static void *forker(void *arg)
{
    (void)arg;
    fl->reg();
    unsigned n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        bool in_section = n++ & 1;
        fl->lock();
        if (!in_section) {
            fl->unlock();
            fl->quiesce();
        }
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            child(in_section);
        if (in_section) {
            fl->unlock();
            fl->quiesce();
        }
        fl->offline();   /* QSBR: do not hold up the parent's grace periods */
        int status;
        while (waitpid(pid, &status, 0) < 0)
            CHECK_EQ(errno, EINTR);
        CHECK_MSG(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
                  "%s: a child hung (killed by its %d s alarm)", fl->name, CHILD_SECONDS);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: a child failed (%s %d)",
                  fl->name, WIFSIGNALED(status) ? "signal" : "exit status",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        atomic_fetch_add_explicit(&forks, 1, memory_order_relaxed);
        ferry_test_sleep_ms(5);
        fl->online();
    }
    fl->unreg();
    return NULL;
}

static void cb_nop(ferry_rcu_head *h)
{
    (void)h;
}

static void torture(const struct rcu_flavor *f, long ms)
{
    fl = f;
    atomic_store_explicit(&free_top, NULL, memory_order_relaxed);
    pool_add(0, POOL - CHILD_POOL);
    list_fill(&list_head, LIVE, 0);
    pthread_t r[READERS], u[2], fk;
    struct updater_arg ua[2] = {
        { &list_head, &update_lock, LIVE, true, &stop, 1 },
        { &list_head, &update_lock, LIVE, false, &stop, 2 },
    };
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&r[i], NULL, reader, &list_head), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&u[i], NULL, updater, &ua[i]), 0);
    /* Every thread is started, and the worker has run a callback, before
     * the first fork (GCC's ASan and threads still starting, see above). */
    static ferry_rcu_head warm;
    f->call(&warm, cb_nop);
    f->barrier();
    ferry_test_sleep_ms(20);
    CHECK_EQ(pthread_create(&fk, NULL, forker, NULL), 0);
    ferry_test_sleep_ms((long)ferry_test_scaled((size_t)ms));
    /* Run on until both kinds of fork were made (the forker alternates
     * outside and inside a section), however slowly the forker ran. */
    struct timespec limit = ferry_test_deadline_ms(60000);
    while (atomic_load_explicit(&forks, memory_order_relaxed) < 2) {
        CHECK_MSG(ferry_test_ns_between(ferry_test_now(), limit) > 0, "%s: %lu forks in 60 s", f->name,
                  atomic_load_explicit(&forks, memory_order_relaxed));
        ferry_test_sleep_ms(10);
    }
    atomic_store_explicit(&stop, 1, memory_order_relaxed);
    CHECK_EQ(pthread_join(fk, NULL), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(u[i], NULL), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_join(r[i], NULL), 0);
    f->barrier();
    list_drain(&list_head);
    unsigned long a = atomic_load_explicit(&allocated, memory_order_relaxed);
    unsigned long rc = atomic_load_explicit(&reclaimed, memory_order_relaxed);
    printf("%s: %lu forks, %lu updates\n", f->name, atomic_load_explicit(&forks, memory_order_relaxed),
           a - LIVE);
    CHECK_EQ(a, rc);   /* every entry reclaimed exactly once */
    CHECK(atomic_load_explicit(&forks, memory_order_relaxed) >= 2);
}

/* About 6 s in all in the release build. */
FERRY_TEST(memb_fork_under_load) { torture(&rcu_memb, 2000); }
FERRY_TEST(qsbr_fork_under_load) { torture(&rcu_qsbr, 2000); }
FERRY_TEST(bp_fork_under_load) { torture(&rcu_bp, 2000); }
