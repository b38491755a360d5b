/* SPDX-License-Identifier: MIT */
/* RCU across fork(), for every flavor at once.
 *
 * fork() copies only the calling thread. Without handling, the child
 * inherits reader records of threads that do not exist there (a grace
 * period waits forever for one that was inside a section), locks that they
 * held, a grace period half done, and callback workers without threads.
 *
 * Handlers run automatically (pthread_atfork, registered at load time) and
 * can also be called by hand, liburcu style, as ferry_rcu_before_fork() /
 * ferry_rcu_after_fork_parent() / ferry_rcu_after_fork_child(): a
 * per-thread depth count makes the explicit calls and the automatic ones
 * nest, so code ported from liburcu's pattern works unchanged, and code
 * that forks with something that skips the atfork handlers (_Fork, a raw
 * clone) still has a way to do it.
 *
 * Why automatic is safe here when liburcu advises against it: liburcu's
 * before-fork handler pauses its callback threads, which means waiting for
 * the callbacks they are running and for the grace period they wait on, so
 * it can deadlock on a reader (the forking thread itself inside a section,
 * or a QSBR thread that is online) or on a lock a callback wants that the
 * forker holds (with older glibc: malloc's arena locks). Ours waits for
 * nobody's progress: it takes only locks held for a few instructions (each
 * worker's take_lock, around taking a batch, and the worker list lock), so
 * it never waits for a reader, a grace period or a callback. What is
 * consistent in the child without pausing:
 *   - reader registries, synchronize waiters, grace-period state: rebuilt
 *     from nothing but the forking thread's own record (rcu_common.c);
 *   - callback queues: lock-free stacks, consistent at any instant (fork's
 *     copy of memory respects each thread's program order: a push is in
 *     the child or not);
 *   - calls under way in other threads (not waited for: that would take a
 *     count or a lock on every call): a head marked queued but not pushed
 *     is on no queue in the child; the child renews the marks of the heads
 *     that are (a new generation, rcu_worker.c), so the old mark no longer
 *     reads as queued and the head can be queued again there;
 *   - batches a worker had taken: recorded in its `inflight` under
 *     take_lock and trimmed before each callback starts, so the child runs
 *     every callback that had not started (after a grace period of its
 *     own). A callback that was running at the instant of the fork does not
 *     run again in the child.
 */
#include "rcu_common.h"
#include "platform.h"

static struct ferry__rcu_flavor *const flavors[] = {
    &ferry__rcu_memb, &ferry__rcu_qsbr_flavor, &ferry__rcu_bp_flavor,
};
#define NFLAVORS (sizeof flavors / sizeof flavors[0])

/* rcuhash.c's child handler, run before anything else in the child
 * (see ferry__rcu_set_fork_child_hook). Acquire/release: the store
 * publishes the function's data (the table list) to a forking thread. */
static FERRY_ATOMIC(void (*)(void)) child_hook;

void ferry__rcu_set_fork_child_hook(void (*fn)(void))
{
    atomic_store_explicit(&child_hook, fn, memory_order_release);
}

/* Nesting of before_fork calls in this thread (explicit + automatic). */
static FERRY_TLS unsigned fork_depth;

static void prepare(void)
{
    for (unsigned i = 0; i < NFLAVORS; i++)
        ferry__rcu_workers_prepare_fork(flavors[i]);
}

static void parent(void)
{
    for (unsigned i = NFLAVORS; i-- > 0;)
        ferry__rcu_workers_after_fork_parent(flavors[i]);
}

static void child(void)
{
    /* Heads whose call was under way in another thread: not queued. */
    ferry__rcu_fork_new_generation();
    for (unsigned i = 0; i < NFLAVORS; i++)
        ferry__rcu_workers_remark(flavors[i]);
    /* Acquire: pairs with ferry__rcu_set_fork_child_hook's release. */
    void (*hook)(void) = atomic_load_explicit(&child_hook, memory_order_acquire);
    if (hook)
        hook();   /* before any worker thread exists in the child */
    ferry__rcu_membarrier_after_fork_child();
    /* Registries first: the workers restarted below register. */
    for (unsigned i = 0; i < NFLAVORS; i++)
        ferry__rcu_gp_after_fork_child(flavors[i]);
    for (unsigned i = 0; i < NFLAVORS; i++)
        ferry__rcu_workers_after_fork_child(flavors[i]);
}

void ferry_rcu_before_fork(void)
{
    if (fork_depth++ == 0)
        prepare();
}

void ferry_rcu_after_fork_parent(void)
{
    if (FERRY_UNLIKELY(fork_depth == 0))
        ferry__die("ferry_rcu_after_fork_parent without ferry_rcu_before_fork");
    if (--fork_depth == 0)
        parent();
}

void ferry_rcu_after_fork_child(void)
{
    if (FERRY_UNLIKELY(fork_depth == 0))
        ferry__die("ferry_rcu_after_fork_child without ferry_rcu_before_fork");
    if (--fork_depth == 0)
        child();
}

/* Called from rcu_common.c's constructor: every program that uses RCU
 * links that file, and with it this one (a static library would drop a
 * file whose only entry point is a constructor). */
void ferry__rcu_fork_init(void)
{
    int rc = pthread_atfork(ferry_rcu_before_fork, ferry_rcu_after_fork_parent,
                            ferry_rcu_after_fork_child);
    if (rc != 0)
        ferry__die("pthread_atfork failed (%d): RCU would not survive fork", rc);
}
