/* SPDX-License-Identifier: MIT */
/* The bp flavor (ferry/rcu_bp.h): the default flavor's readers and grace
 * period, with registration on first use and release at thread exit.
 *
 * Reader records live in blocks of RECORDS_PER_BLOCK cache-line-sized
 * records, mmap'ed on demand and never unmapped: a record is reused by the
 * next thread that registers, and a pointer to one never dangles (unlike a
 * record in thread-local storage, which is freed with the thread even if a
 * late destructor registered it again). Blocks are linked on an append-only
 * list published with a release store, so that a forked child can walk
 * them whatever another thread was doing at the fork. */
#include "rcu_common.h"

#include <ferry/rcu_bp.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

__thread FERRY__TLS_IE struct ferry__rcu_reader *ferry__rcu_bp_self;
struct ferry__rcu_gp ferry__rcu_bp_gp __attribute__((aligned(FERRY_CACHELINE))) = {
    FERRY__RCU_NEST_COUNT, 0, 0,
};

#define RECORDS_PER_BLOCK 63

struct bp_record {
    struct ferry__rcu_reader r;
} __attribute__((aligned(FERRY_CACHELINE)));

struct bp_block {
    struct bp_block *next;
    struct bp_record rec[RECORDS_PER_BLOCK];
} __attribute__((aligned(FERRY_CACHELINE)));

static FERRY_ATOMIC(struct bp_block *) blocks;

#define bp ferry__rcu_bp_flavor

void ferry__rcu_bp_die_unbalanced(const char *file, int line)
{
    ferry__die_at(file ? file : "(unknown call site)", line,
                  "ferry_rcu_bp_read_unlock without a matching ferry_rcu_bp_read_lock");
}

/* A free record, marked in use; registry_lock held. NULL: out of memory. */
static struct ferry__rcu_reader *record_get(void)
{
    struct bp_block *b = atomic_load_explicit(&blocks, memory_order_relaxed);
    for (; b; b = b->next)
        for (unsigned i = 0; i < RECORDS_PER_BLOCK; i++)
            if (!b->rec[i].r.in_use) {
                b->rec[i].r.in_use = true;
                return &b->rec[i].r;
            }
    void *m = mmap(NULL, sizeof(struct bp_block), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    b = m;   /* zero-filled: every record free, unlinked */
    b->next = atomic_load_explicit(&blocks, memory_order_relaxed);
    /* Release pairs with the acquire of a forked child's walk: the block is
     * initialized before it is reachable. */
    atomic_store_explicit(&blocks, b, memory_order_release);
    b->rec[0].r.in_use = true;
    return &b->rec[0].r;
}

/* Register the calling thread; signals stay blocked while the registry
 * lock is held so that a handler's first section cannot deadlock on it. */
static int bp_register(bool parked)
{
    if (ferry__rcu_bp_self)
        return 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    /* A thread that could not arm its exit destructor would keep its
     * record registered after it exits (callback threads release theirs
     * themselves). */
    int rc = parked ? 0 : ferry__rcu_arm_exit(&bp);
    if (rc == 0) {
        ferry_mutex_lock(&bp.registry_lock);
        struct ferry__rcu_reader *r = record_get();
        ferry_mutex_unlock(&bp.registry_lock);
        rc = -ENOMEM;
        if (r) {
            /* Relaxed: no section yet; registration's lock and fence publish it. */
            atomic_store_explicit(&r->ctr, 0, memory_order_relaxed);
            /* Armed above (or parked): cannot fail. */
            (void)ferry__rcu_register(&bp, r, parked);
            ferry__rcu_bp_self = r;
            rc = 0;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int ferry_rcu_bp_register_thread(void)
{
    return bp_register(false);
}

struct ferry__rcu_reader *ferry__rcu_bp_register_slow(void)
{
    int rc = bp_register(false);
    if (rc != 0)
        ferry__die("ferry_rcu_bp_read_lock: cannot register the thread (%s)",
                   rc == -ENOMEM ? "out of memory"
                   : rc == -ESRCH ? ferry__rcu_exited_msg : strerror(-rc));
    return ferry__rcu_bp_self;
}

static void release_self(void)
{
    struct ferry__rcu_reader *r = ferry__rcu_bp_self;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    ferry__rcu_unregister(&bp, r);
    ferry_mutex_lock(&bp.registry_lock);
    r->in_use = false;   /* allocation is under this lock */
    ferry_mutex_unlock(&bp.registry_lock);
    ferry__rcu_bp_self = NULL;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void ferry_rcu_bp_unregister_thread(void)
{
    ferry__rcu_check_not_own_worker(&bp, "ferry_rcu_bp_unregister_thread");
    if (!ferry__rcu_bp_self)
        return;
    if (FERRY_UNLIKELY(ferry_rcu_bp_read_ongoing()))
        ferry__die("ferry_rcu_bp_unregister_thread inside a read-side section");
    release_self();
}

/* Thread exit (the key destructor): close a section the thread died in,
 * the way its own unlock would have (so a sleeping updater is woken), then
 * release the record. */
static void bp_thread_exit(void)
{
    while (ferry_rcu_bp_read_ongoing())
        ferry_rcu_bp_read_unlock();
    release_self();
}

static struct ferry__rcu_reader *bp_self(void)
{
    return ferry__rcu_bp_self;
}

static bool bp_in_read_section(void)
{
    return ferry_rcu_bp_read_ongoing();
}

static void bp_worker_init(void)
{
    if (bp_register(true) != 0)
        ferry__die("ferry_rcu_bp: cannot register the callback thread (out of memory)");
}

static void bp_worker_enter(bool running)
{
    ferry__rcu_park(&bp, ferry__rcu_bp_self, !running);
}

static void bp_worker_fini(void)
{
    release_self();
}

/* In a forked child: every record but the forking thread's is free. */
static void bp_fork_child(void)
{
    /* Acquire pairs with record_get's release. */
    struct bp_block *b = atomic_load_explicit(&blocks, memory_order_acquire);
    for (; b; b = b->next)
        for (unsigned i = 0; i < RECORDS_PER_BLOCK; i++) {
            struct ferry__rcu_reader *r = &b->rec[i].r;
            if (r == ferry__rcu_bp_self)
                continue;
            r->in_use = false;
            r->registered = false;
            r->parked = false;
            /* Relaxed: the child has no other thread. */
            atomic_store_explicit(&r->ctr, 0, memory_order_relaxed);
        }
}

struct ferry__rcu_flavor ferry__rcu_bp_flavor =
    FERRY__RCU_FLAVOR_INIT(ferry__rcu_bp_flavor, "ferry_rcu_bp", FERRY__RCU_BP, &ferry__rcu_bp_gp,
                           ferry__rcu_memb_state, ferry__rcu_mb_master, ferry__rcu_two_phase_gp,
                           bp_self, bp_thread_exit, bp_worker_init, bp_worker_enter,
                           bp_worker_fini, bp_in_read_section, bp_fork_child);

unsigned long ferry_rcu_bp_registered_threads(void)
{
    ferry_mutex_lock(&bp.registry_lock);
    unsigned long n = ferry_list_count(&bp.registry);
    ferry_mutex_unlock(&bp.registry_lock);
    return n;
}

void ferry_rcu_bp_synchronize_at(const char *file, int line)
{
    ferry__rcu_check_not_reading(&bp, "ferry_rcu_bp_synchronize", file, line);
    ferry__rcu_synchronize(&bp);
}

void ferry_rcu_bp_call_at(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *), const char *file,
                          int line)
{
    ferry__rcu_call(&bp, head, fn, file, line);
}

void ferry_rcu_bp_barrier_at(const char *file, int line)
{
    ferry__rcu_check_not_reading(&bp, "ferry_rcu_bp_barrier", file, line);
    ferry__rcu_barrier(&bp, file, line);
}

int ferry_rcu_bp_worker_destroy(ferry_rcu_worker *w)
{
    ferry__rcu_check_not_reading(&bp, "ferry_rcu_bp_worker_destroy", NULL, 0);
    return ferry__rcu_worker_destroy(&bp, w);
}

FERRY__RCU_DEFINE_COMMON_API(ferry_rcu_bp, bp)
