/* SPDX-License-Identifier: MIT */
/* Code shared by the RCU flavors: registry, reader scan, the synchronize
 * quick path, grace-period sharing, polling (see rcu_common.h). */
#include "rcu_common.h"

#include <ferry/rcu_bp.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futex.h"
#include "platform.h"
#include "rt_block.h"

bool ferry__rcu_strict;
unsigned ferry__rcu_ncpus = 1;

__attribute__((constructor)) static void rcu_common_init(void)
{
    const char *s = getenv("FERRY_RCU_STRICT");
    ferry__rcu_strict = s && *s && strcmp(s, "0") != 0;
    long n = sysconf(_SC_NPROCESSORS_CONF);
    ferry__rcu_ncpus = n > 0 ? (unsigned)n : 1;
    ferry__rcu_fork_init();
}

static inline const char *site_file(const char *file)
{
    return file ? file : "(unknown call site)";
}

/* ------------------------------------------------------------------------ */
/* Debug checks reachable from the public headers.                          */

void ferry__rcu_die_unbalanced(const char *file, int line)
{
    ferry__die_at(site_file(file), line,
                  "ferry_rcu_read_unlock without a matching ferry_rcu_read_lock");
}

void ferry__rcu_check_lock(const char *file, int line)
{
    if (FERRY_UNLIKELY(!ferry__rcu_reader.registered))
        ferry__die_at(site_file(file), line,
                      "ferry_rcu_read_lock in a thread that is not registered "
                      "(call ferry_rcu_register_thread first)");
}

void ferry__rcu_check_deref(const char *file, int line)
{
    if (FERRY_UNLIKELY(!ferry_rcu_read_ongoing() &&
                       atomic_load_explicit(&ferry__qsbr_reader.ctr, memory_order_relaxed) == 0 &&
                       !ferry_rcu_bp_read_ongoing()))
        ferry__die_at(site_file(file), line,
                      "ferry_rcu_dereference outside a read-side section "
                      "(use ferry_rcu_dereference_protected on the update side)");
}

void ferry__rcu_check_not_reading(struct ferry__rcu_flavor *f, const char *what,
                                  const char *file, int line)
{
    if (FERRY_UNLIKELY(f->in_read_section()))
        ferry__die_at(site_file(file), line, "%s inside a %s read-side section (deadlock)",
                      what, f->name);
}

/* ------------------------------------------------------------------------ */
/* Registry.                                                                 */

/* A thread that exits while registered (or bound to a worker) would leave a
 * dangling node in the registry: a thread-specific key's destructor
 * unregisters and unbinds it.
 *
 * Another key's destructor may register (or bind) the thread again after
 * ours has run; arming sets our key again, and the C library runs
 * destructors in rounds while values are set, but at most
 * PTHREAD_DESTRUCTOR_ITERATIONS rounds: a registration after our last run
 * would outlive the thread (a memb or QSBR record is in its thread-local
 * storage, freed or handed to the next thread; every later grace period
 * would scan it). So the destructor counts the rounds it ran in and sets
 * its key again until EXIT_ROUNDS, so that it runs in each round from its
 * first; once it has run in that one, arming refuses (-ESRCH). It keeps
 * out of the C library's last round: sanitizer runtimes (ThreadSanitizer,
 * AddressSanitizer) tear the thread's state down there with a destructor
 * that sets itself again until then, and instrumented code that runs after
 * it can crash (ThreadSanitizer's does). The count is exact for a thread whose key was armed before
 * it began to exit; one that first registers inside a destructor starts
 * counting late (the round it was in is not known), so a registration in
 * its last rounds is not refused. */
#if PTHREAD_DESTRUCTOR_ITERATIONS > 1
#define EXIT_ROUNDS (PTHREAD_DESTRUCTOR_ITERATIONS - 1)
#else
#define EXIT_ROUNDS 1
#endif
static FERRY_TLS unsigned exit_rounds[FERRY__RCU_NFLAVORS];

static void thread_exit(void *arg)
{
    struct ferry__rcu_flavor *f = arg;
    struct ferry__rcu_reader *r = f->self();
    unsigned rounds = ++exit_rounds[f->index];
    if (r && r->registered)
        f->unregister_self();
    ferry__rcu_thread_exit_workers(f);
    /* The value's block exists (it was set before): this cannot allocate. */
    if (rounds < EXIT_ROUNDS)
        (void)pthread_setspecific(f->exit_key, f);
}

int ferry__rcu_arm_exit(struct ferry__rcu_flavor *f)
{
    if (FERRY_UNLIKELY(exit_rounds[f->index] >= EXIT_ROUNDS))
        return -ESRCH;   /* past our last destructor round */
    /* Acquire pairs with the release below (the key exists). */
    if (!atomic_load_explicit(&f->exit_key_ready, memory_order_acquire)) {
        ferry_mutex_lock(&f->worker_lock);
        int rc = 0;
        if (!atomic_load_explicit(&f->exit_key_ready, memory_order_relaxed)) {
            rc = pthread_key_create(&f->exit_key, thread_exit);
            if (rc == 0)
                atomic_store_explicit(&f->exit_key_ready, 1, memory_order_release);
        }
        ferry_mutex_unlock(&f->worker_lock);
        if (rc != 0)
            return -rc;   /* EAGAIN: the process has no key left */
    }
    /* The value only needs to be non-NULL for the destructor to run; it is
     * never cleared (the destructor finds nothing to do then). Setting it
     * allocates when the key's index is past glibc's first 32 (a process
     * with many keys): out of memory, the thread would exit with its record
     * still linked, so the caller must not register it. */
    if (pthread_getspecific(f->exit_key) == NULL) {
        int rc = pthread_setspecific(f->exit_key, f);
        if (rc != 0)
            return -rc;
    }
    return 0;
}

/* Count r in `active`: the fetch_add and the fence after it are the
 * reader's half of the quick-path argument (see ferry__rcu_synchronize). */
static void count_reader(struct ferry__rcu_flavor *f)
{
    atomic_fetch_add_explicit(&f->active, 1, memory_order_seq_cst);
    /* Orders the increment before every later load of RCU-protected
     * pointers by this thread; pairs with the updater's fence before its
     * load of `active` (store buffering: one of the two sees the other). */
    atomic_thread_fence(memory_order_seq_cst);
}

static void uncount_reader(struct ferry__rcu_flavor *f)
{
    /* Release: every read-side access of this thread happens before the
     * decrement; pairs with the updater's acquire load of `active` (all
     * changes of `active` are read-modify-writes, so a load that reads any
     * later value synchronizes with this one too). */
    atomic_fetch_sub_explicit(&f->active, 1, memory_order_release);
}

int ferry__rcu_register(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r, bool parked)
{
    if (FERRY_UNLIKELY(r->registered))
        ferry__die("%s_register_thread: thread already registered", f->name);
    /* Callback threads (parked) unregister themselves before they exit. */
    if (!parked) {
        int rc = ferry__rcu_arm_exit(f);
        if (FERRY_UNLIKELY(rc != 0))
            return rc;
    }
    ferry_mutex_lock(&f->registry_lock);
    ferry_list_add_tail(&f->registry, &r->node);
    r->registered = true;
    r->parked = parked;
    ferry_mutex_unlock(&f->registry_lock);
    if (!parked)
        count_reader(f);
    return 0;
}

void ferry__rcu_register_or_die(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r)
{
    int rc = ferry__rcu_register(f, r, false);
    if (FERRY_UNLIKELY(rc == -ESRCH))
        ferry__die("%s_register_thread: %s", f->name, ferry__rcu_exited_msg);
    if (FERRY_UNLIKELY(rc != 0))
        ferry__die("%s_register_thread: cannot set up the thread's exit handler (%s): "
                   "the thread is not registered", f->name, strerror(-rc));
}

const char ferry__rcu_exited_msg[] =
    "the thread is exiting and ferry's thread-exit destructor has run its last round "
    "(PTHREAD_DESTRUCTOR_ITERATIONS - 1); registered from a later destructor, it would exit "
    "registered";

void ferry__rcu_unregister(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r)
{
    if (FERRY_UNLIKELY(!r->registered))
        ferry__die("%s_unregister_thread: thread is not registered", f->name);
    ferry_mutex_lock(&f->registry_lock);
    /* The node may sit on a scan's private list; unlinking works there too. */
    ferry_list_del(&r->node);
    r->registered = false;
    ferry_mutex_unlock(&f->registry_lock);
    if (!r->parked)
        uncount_reader(f);
    r->parked = false;
}

void ferry__rcu_park(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r, bool parked)
{
    if (r->parked == parked)
        return;
    r->parked = parked;
    if (parked)
        uncount_reader(f);
    else
        count_reader(f);
}

/* ------------------------------------------------------------------------ */
/* Waiting for readers.                                                      */

/* Busy scans before sleeping on the futex (principle 8: bounded spinning). */
#define ACTIVE_ATTEMPTS 100

void ferry__rcu_wake_up_gp(struct ferry__rcu_gp *gp)
{
    /* A reader saw futex == 1 after its counter update; the updater sleeps
     * (or is about to) and re-scans once woken. */
    if (atomic_exchange_explicit(&gp->futex, 0, memory_order_seq_cst) != 0)
        ferry__futex_wake(&gp->futex, 1);
}

static void wait_gp(struct ferry__rcu_flavor *f)
{
    /* Orders the scan's counter loads before the futex re-check (pairs with
     * readers' barrier between their counter store and futex load). */
    f->mb_master();
    while (atomic_load_explicit(&f->gp->futex, memory_order_seq_cst) == 1) {
        int rc = ferry__futex_wait(&f->gp->futex, 1, NULL);
        if (rc == -EAGAIN || rc == 0)
            break;
    }
}

void ferry__rcu_wait_for_readers(struct ferry__rcu_flavor *f, ferry_list *input,
                                 ferry_list *cur_snap, ferry_list *qs)
{
    unsigned attempts = 0;
    for (;;) {
        bool sleep = attempts >= ACTIVE_ATTEMPTS;
        if (sleep) {
            /* Ask readers to wake us: store the flag, then a barrier so that
             * a reader either sees it or its counter update is seen below. */
            atomic_store_explicit(&f->gp->futex, 1, memory_order_seq_cst);
            f->mb_master();
        }
        unsigned long gp_ctr = atomic_load_explicit(&f->gp->ctr, memory_order_relaxed);
        ferry_list_for_each_safe(pos, input) {
            struct ferry__rcu_reader *r = ferry_container_of(pos, struct ferry__rcu_reader, node);
            /* Acquire pairs with the reader's counter store (seq_cst under
             * TSan; otherwise ordered by mb_master / the reader's barrier). */
            unsigned long v = atomic_load_explicit(&r->ctr, memory_order_acquire);
            switch (f->state(gp_ctr, v)) {
            case FERRY__RCU_CURRENT:
                if (cur_snap) {
                    ferry_list_move_tail(cur_snap, pos);
                    break;
                }
                /* fall through */
            case FERRY__RCU_INACTIVE:
                ferry_list_move_tail(qs, pos);
                break;
            case FERRY__RCU_OLD:
                break;
            }
        }
        if (ferry_list_empty(input)) {
            if (sleep) {
                f->mb_master();
                atomic_store_explicit(&f->gp->futex, 0, memory_order_relaxed);
            }
            return;
        }
        if (sleep) {
            ferry_mutex_unlock(&f->registry_lock);
            wait_gp(f);
            ferry_mutex_lock(&f->registry_lock);
        } else {
            attempts++;
            ferry__cpu_relax();
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Synchronize.                                                              */

/* The quick path: return at once when no reader but the caller is
 * registered and counted (liburcu returns early when its registry is empty;
 * this also covers the common case of a registered caller that is the only
 * reader). Argument, for a removal W (a store of the new pointer, sequenced
 * before the call or happening before it) and a reader thread R:
 *
 *   updater:  W; F_U (seq_cst fence); load `active` == mine (acquire)
 *   reader R: fetch_add(active) (seq_cst); F_R (seq_cst fence); then its
 *             read-side sections load the pointer.
 *
 * 1. R registered (or unparked) and its increment is not seen by the load:
 *    F_U and F_R are ordered in the single total order S of seq_cst
 *    fences. If F_R came first, the load after F_U would have to see R's
 *    increment (C11 [atomics.order]: a load sequenced after a seq_cst
 *    fence that follows, in S, a fence sequenced after a store sees that
 *    store or a later one). So F_U precedes F_R, and by the same rule every
 *    load R's sections make of the pointer (sequenced after F_R) sees W or
 *    a later store: R never holds the old object.
 * 2. The load sees R's increment: the value is `mine` only if R's matching
 *    decrement (unregister or park, a release read-modify-write that R
 *    issues after its last section) precedes it in the modification order
 *    of `active`; every change of `active` is a read-modify-write, so the
 *    acquire load synchronizes with R's decrement and R's sections happen
 *    before the return.
 * 3. The caller itself: not inside a section (memb and bp check it;
 *    QSBR callers are taken offline), and its later sections are
 *    sequenced after W.
 * Hence no reader that can hold the old object exists; a thread that
 * registers and starts reading during the call is case 1.
 * models/rcu_gp.pml checks the same protocol (readers that register, an
 * updater whose quick check follows its store), and that spin finds the
 * use-after-free when the check is moved before the store (the reordering
 * the fences forbid).
 *
 * The quick path does not advance gp_seq (polling cookies need a grace
 * period that started after them, and this check may precede a cookie's
 * removal); a synchronize that finds a poll pending takes the full path,
 * so a cookie taken before two synchronize calls is complete after them. */
static bool nobody_else_reads(struct ferry__rcu_flavor *f)
{
    struct ferry__rcu_reader *me = f->self();
    unsigned long mine = me && me->registered && !me->parked;
    /* F_U above (pairs with count_reader's fence, and with start_poll's). */
    atomic_thread_fence(memory_order_seq_cst);
    /* Acquire pairs with uncount_reader's release. */
    return atomic_load_explicit(&f->active, memory_order_acquire) == mine;
}

bool ferry__rcu_poll_pending(struct ferry__rcu_flavor *f)
{
    unsigned long t = atomic_load_explicit(&f->poll_target, memory_order_seq_cst);
    return (long)(t - atomic_load_explicit(&f->gp_seq, memory_order_relaxed)) > 0;
}

/* One grace period; gp_lock held. */
static void run_one_gp(struct ferry__rcu_flavor *f)
{
    unsigned long s = atomic_load_explicit(&f->gp_seq, memory_order_relaxed);
    atomic_store_explicit(&f->gp_seq, s + 1, memory_order_relaxed);
    /* With nobody else reading, no scan (and no membarrier) is needed: the
     * quick-path argument, with the odd gp_seq store as part of W, so that
     * a start_poll whose removal is not covered saw the odd value (its
     * fence and F_U are ordered in S the same way) and waits for the next
     * grace period. */
    if (!nobody_else_reads(f))
        f->run_gp(f);
    /* Release pairs with ferry__rcu_poll's acquire: a poller that sees the
     * grace period over also sees what the scan acquired from readers. */
    atomic_store_explicit(&f->gp_seq, s + 2, memory_order_release);
}

/* A synchronize caller waiting on another's grace period: a node on its
 * stack, pushed on f->waiters. */
struct ferry__rcu_gp_waiter {
    struct ferry__rcu_gp_waiter *next;
    FERRY_ATOMIC(uint32_t) state;
};

#define WAITING 0u
#define SLEEPING 1u
#define DONE 2u

/* Polls of a follower before it sleeps on the futex. A grace period with
 * no reader to wait for takes well under a microsecond, one with readers a
 * few; a futex sleep and wake costs the follower and the leader a system
 * call each plus a context switch. docs/rcu.md has the measurements. */
#define FOLLOWER_SPINS 200

static void follower_wait(struct ferry__rcu_gp_waiter *w)
{
    if (ferry__rcu_ncpus > 1) {
        for (unsigned i = 0; i < FOLLOWER_SPINS; i++) {
            /* Acquire pairs with the leader's release exchange. */
            if (atomic_load_explicit(&w->state, memory_order_acquire) == DONE)
                return;
            ferry__cpu_relax();
        }
    }
    uint32_t expected = WAITING;
    /* Announce the sleep; failing means DONE came first (acquire: as above). */
    if (!atomic_compare_exchange_strong_explicit(&w->state, &expected, SLEEPING,
                                                 memory_order_acquire, memory_order_acquire))
        return;
    /* Acquire: as above. */
    while (atomic_load_explicit(&w->state, memory_order_acquire) != DONE)
        ferry__futex_wait(&w->state, SLEEPING, NULL);
}

static void follower_release(struct ferry__rcu_gp_waiter *w)
{
    /* Release pairs with the follower's acquire: the grace period happens
     * before its return. A follower that did not announce a sleep costs no
     * system call. Nothing of w is touched after the exchange but its
     * address (a stale wake is harmless, see futex.h). */
    if (atomic_exchange_explicit(&w->state, DONE, memory_order_release) == SLEEPING)
        ferry__futex_wake(&w->state, 1);
}

void ferry__rcu_synchronize(struct ferry__rcu_flavor *f)
{
    FERRY__RT_MAY_BLOCK(f->sync_name);
    if (nobody_else_reads(f) && !ferry__rcu_poll_pending(f)) {
        atomic_fetch_add_explicit(&f->quick_gps, 1, memory_order_relaxed);
        return;
    }

    struct ferry__rcu_gp_waiter w;
    /* Relaxed: the CAS below publishes w. */
    atomic_store_explicit(&w.state, WAITING, memory_order_relaxed);
    /* Relaxed: only a first guess for the CAS. */
    struct ferry__rcu_gp_waiter *old = atomic_load_explicit(&f->waiters, memory_order_relaxed);
    do {
        w.next = old;
        /* Release: publishes w and orders the caller's removal before the
         * leader's grace period (pairs with the leader's acquire exchange). */
    } while (!atomic_compare_exchange_weak_explicit(&f->waiters, &old, &w, memory_order_release,
                                                    memory_order_relaxed));
    if (old) {
        /* The caller that found the stack empty leads: it takes the whole
         * stack once it owns gp_lock, i.e. before its grace period starts,
         * so that grace period began after we queued. */
        follower_wait(&w);
        return;
    }

    ferry_mutex_lock(&f->gp_lock);
    /* Acquire pairs with the pushers' release. */
    struct ferry__rcu_gp_waiter *batch = atomic_exchange_explicit(&f->waiters, NULL,
                                                                  memory_order_acquire);
    run_one_gp(f);
    ferry_mutex_unlock(&f->gp_lock);

    while (batch) {
        struct ferry__rcu_gp_waiter *next = batch->next;   /* before its owner may return */
        if (batch != &w)
            follower_release(batch);
        batch = next;
    }
}

unsigned long ferry__rcu_gp_count(struct ferry__rcu_flavor *f)
{
    return atomic_load_explicit(&f->gp_seq, memory_order_relaxed) / 2 +
           atomic_load_explicit(&f->quick_gps, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Polling.                                                                  */

unsigned long ferry__rcu_start_poll(struct ferry__rcu_flavor *f)
{
    /* Orders the caller's removal before reading gp_seq: a grace period the
     * cookie counts starts after this fence (its mb_master, or the fence of
     * its quick check, follows it). */
    atomic_thread_fence(memory_order_seq_cst);
    unsigned long s = atomic_load_explicit(&f->gp_seq, memory_order_acquire);
    /* Idle (even): the next grace period, ending at s + 2. Running (odd):
     * it may have begun before the removal; wait for the next, s + 3. */
    unsigned long cookie = (s + 3) & ~1UL;
    unsigned long t = atomic_load_explicit(&f->poll_target, memory_order_relaxed);
    /* seq_cst: the Dekker pair of the default worker's sleep (it stores
     * SLEEPING, then checks poll_target; we store poll_target, then check
     * its state). */
    while ((long)(cookie - t) > 0 &&
           !atomic_compare_exchange_weak_explicit(&f->poll_target, &t, cookie,
                                                  memory_order_seq_cst, memory_order_relaxed))
        ;
    ferry__rcu_kick_default(f);
    return cookie;
}

bool ferry__rcu_poll(struct ferry__rcu_flavor *f, unsigned long cookie)
{
    /* Acquire pairs with the release at the end of run_one_gp. */
    return (long)(atomic_load_explicit(&f->gp_seq, memory_order_acquire) - cookie) >= 0;
}

/* ------------------------------------------------------------------------ */
/* Fork: the child's grace-period state (rcu_fork.c).                        */

/* In the child only the forking thread exists: other threads' reader
 * records are dropped without being read (they may be half-linked), locks
 * that dead threads held are reset, and a grace period that was running is
 * abandoned (gp_seq back to even: cookies issued during it need one more
 * grace period, which is conservative). The forking thread keeps its
 * registration and its read-side state. */
void ferry__rcu_gp_after_fork_child(struct ferry__rcu_flavor *f)
{
    ferry_mutex_init(&f->gp_lock);
    ferry_mutex_init(&f->registry_lock);
    ferry_list_init(&f->registry);
    /* Relaxed stores below: the child has no other thread yet. */
    unsigned long act = 0;
    struct ferry__rcu_reader *me = f->self();
    if (me && me->registered) {
        ferry_list_add_tail(&f->registry, &me->node);
        act = !me->parked;
    }
    atomic_store_explicit(&f->active, act, memory_order_relaxed);
    atomic_store_explicit(&f->waiters, NULL, memory_order_relaxed);
    unsigned long s = atomic_load_explicit(&f->gp_seq, memory_order_relaxed);
    atomic_store_explicit(&f->gp_seq, s & ~1UL, memory_order_relaxed);
    atomic_store_explicit(&f->gp->futex, 0, memory_order_relaxed);
    if (f->fork_child)
        f->fork_child();
}
