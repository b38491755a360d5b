/* SPDX-License-Identifier: MIT */
/* RCU across fork(): another thread is inside a flavor's call at the
 * instant of the fork. The call marks its head "queued" just before it
 * pushes it; the fork handlers do not wait for calls in progress, so the
 * child can inherit the mark of a head that is on no queue there. Such a
 * head's callback does not run in the child, and the child must be able to
 * queue the head again (before the fix: "queued twice", an abort).
 *
 * call_marked_before_the_push_at_fork makes the window certain: in a
 * process whose callback threads have not started, the calling thread
 * stops in the call, after the mark, on the worker lock that the forking
 * thread holds (ferry_rcu_before_fork) -- the call starts the worker thread
 * first. calls_racing_forks forks again and again while another thread
 * queues a pool of heads over and over (lock-free pushes, the worker
 * running): after a barrier every head must be queueable in each child. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../torture/rcu_fork_child.h"
#include "test.h"
#include "../torture/rcu_fork_tsan.h"

#define HANG_MS 20000

/* ---- a call stopped between its mark and its push ---- */

static ferry_rcu_head head;

struct caller {
    const struct rcu_flavor *f;
    pthread_t tid;
};

static void *caller_main(void *arg)
{
    struct caller *c = arg;
    c->f->call(&head, cb_count);
    return NULL;
}

/* Someone sleeps on the mutex (its waiter queue is not empty). */
static bool has_sleeper(ferry_mutex *m)
{
    /* Relaxed: a flag to decide when to go on; the lock orders the rest. */
    return (atomic_load_explicit(&m->word, memory_order_relaxed) & ~(uintptr_t)7) != 0;
}

static void call_marked_before_push(const struct rcu_flavor *f)
{
    CHECK_EQ(atomic_load_explicit(&f->in->dflt.started, memory_order_relaxed), 0);
    ferry_rcu_before_fork();   /* holds every flavor's worker lock */
    struct caller c = { .f = f };
    CHECK_EQ(pthread_create(&c.tid, NULL, caller_main, &c), 0);
    /* The call has marked the head and waits to start the worker thread. */
    struct timespec limit = ferry_test_deadline_ms(HANG_MS);
    while (!has_sleeper(&f->in->worker_lock)) {
        CHECK_MSG(ferry_test_ns_between(ferry_test_deadline_ms(0), limit) > 0,
                  "%s: the call never waited for the worker lock", f->name);
        usleep(100);
    }
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        ferry_rcu_after_fork_child();
        alarm(RCU_FORK_CHILD_SECONDS);
        /* The head was never pushed: its callback does not run here ... */
        f->barrier();
        CHECK_EQ(ran(), 0);
        /* ... and the head can be queued (before the fix: queued twice). */
        f->call(&head, cb_count);
        f->barrier();
        CHECK_EQ(ran(), 1);
        fflush(NULL);
        _exit(0);
    }
    ferry_rcu_after_fork_parent();
    /* The parent: the call goes on and its callback runs once. */
    CHECK_EQ(pthread_join(c.tid, NULL), 0);
    f->barrier();
    CHECK_EQ(ran(), 1);
    rcu_fork_check_child(pid, f->name);
}

FERRY_TEST(memb_call_marked_before_the_push_at_fork) { rcu_fork_in_child(call_marked_before_push, &rcu_memb); }
FERRY_TEST(qsbr_call_marked_before_the_push_at_fork) { rcu_fork_in_child(call_marked_before_push, &rcu_qsbr); }
FERRY_TEST(bp_call_marked_before_the_push_at_fork) { rcu_fork_in_child(call_marked_before_push, &rcu_bp); }

/* ---- calls racing forks ---- */

#define POOL 256
#define FORKS 100

static ferry_rcu_head pool[POOL];
static FERRY_ATOMIC(int) busy[POOL];   /* queued by the caller, callback not run */
static FERRY_ATOMIC(int) stop_calls;
static FERRY_ATOMIC(int) pool_ran;

static void cb_pool(ferry_rcu_head *h)
{
    /* Relaxed: a count the checks read after a barrier. */
    atomic_fetch_add_explicit(&pool_ran, 1, memory_order_relaxed);
    /* Release pairs with the caller's acquire: the head is free again
     * (the worker cleared its mark before the callback). */
    atomic_store_explicit(&busy[h - pool], 0, memory_order_release);
}

static void *pool_caller(void *arg)
{
    const struct rcu_flavor *f = arg;
    while (!atomic_load_explicit(&stop_calls, memory_order_relaxed))
        for (int i = 0; i < POOL; i++)
            if (!atomic_load_explicit(&busy[i], memory_order_acquire)) {
                atomic_store_explicit(&busy[i], 1, memory_order_relaxed);
                f->call(&pool[i], cb_pool);
            }
    return NULL;
}

static void calls_racing_forks(const struct rcu_flavor *f)
{
    /* The worker thread exists before the caller starts (see rcu_fork.c on
     * ASan and threads starting at a fork). */
    f->call(&head, cb_count);
    f->barrier();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, pool_caller, (void *)f), 0);
    while (atomic_load_explicit(&pool_ran, memory_order_relaxed) < POOL)
        usleep(100);
    for (int k = 0; k < FORKS; k++) {
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(RCU_FORK_CHILD_SECONDS);
            f->barrier();   /* what was queued at the fork runs */
            int before = atomic_load_explicit(&pool_ran, memory_order_relaxed);
            for (int i = 0; i < POOL; i++)
                f->call(&pool[i], cb_pool);   /* every head is free now */
            f->barrier();
            CHECK_EQ(atomic_load_explicit(&pool_ran, memory_order_relaxed) - before, POOL);
            fflush(NULL);
            _exit(0);
        }
        rcu_fork_check_child(pid, f->name);
        usleep(500);
    }
    atomic_store_explicit(&stop_calls, 1, memory_order_relaxed);
    CHECK_EQ(pthread_join(t, NULL), 0);
    f->barrier();
}

FERRY_TEST(memb_calls_racing_forks) { calls_racing_forks(&rcu_memb); }
FERRY_TEST(qsbr_calls_racing_forks) { calls_racing_forks(&rcu_qsbr); }
FERRY_TEST(bp_calls_racing_forks) { calls_racing_forks(&rcu_bp); }
