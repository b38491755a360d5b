/* SPDX-License-Identifier: MIT */
/* A callback worker's thread cancelled inside a callback: a callback may
 * learn its thread's id (pthread_self) and hand it to code that cancels it,
 * or cancel itself, and then reach a cancellation point (a printf, a
 * write). The worker must go on: it runs with cancellation held off, so
 * the request stays pending for ever and acts nowhere. Before, the thread
 * ended there: later callbacks never ran, barriers hung, and its reader
 * record stayed registered with the flavor after the thread was gone. For
 * each flavor: the default worker and a created one; every callback queued
 * before and after runs exactly once, a barrier returns, later rounds run,
 * and a created worker can be destroyed. */
#include <pthread.h>
#include <stdint.h>

#include "../torture/rcu_flavors.h"
#include "test.h"

static FERRY_ATOMIC(int) runs;
static FERRY_ATOMIC(int) cancelled_runs;

static void count_run(ferry_rcu_head *h)
{
    (void)h;
    /* Relaxed: read after the barrier, which orders it. */
    atomic_fetch_add_explicit(&runs, 1, memory_order_relaxed);
}

/* Ask for the worker's own cancellation, then reach a cancellation point
 * with the request pending. */
static void cancel_self(ferry_rcu_head *h)
{
    (void)h;
    pthread_cancel(pthread_self());
    pthread_testcancel();
    /* Relaxed: as in count_run. */
    atomic_fetch_add_explicit(&cancelled_runs, 1, memory_order_relaxed);
}

#define BEFORE 8
#define AFTER 8

static void cancel_inside_callback(const struct rcu_flavor *f, bool own_worker)
{
    ferry_rcu_worker *w = NULL;
    f->reg();
    f->offline();
    if (own_worker) {
        CHECK_EQ(f->worker_create(&w, -1), 0);
        CHECK_EQ(f->set_thread_worker(w), 0);
    }
    atomic_store(&runs, 0);
    atomic_store(&cancelled_runs, 0);
    ferry_rcu_head before[BEFORE], mid, after[AFTER];
    for (int i = 0; i < BEFORE; i++)
        f->call(&before[i], count_run);
    f->call(&mid, cancel_self);
    for (int i = 0; i < AFTER; i++)
        f->call(&after[i], count_run);
    f->barrier();
    CHECK_EQ(atomic_load(&runs), BEFORE + AFTER);
    CHECK_EQ(atomic_load(&cancelled_runs), 1);
    /* The worker still serves: a second round, and a grace period. */
    for (int i = 0; i < AFTER; i++)
        f->call(&after[i], count_run);
    f->barrier();
    CHECK_EQ(atomic_load(&runs), BEFORE + 2 * AFTER);
    f->sync();
    if (own_worker) {
        CHECK_EQ(f->set_thread_worker(NULL), 0);
        CHECK_EQ(f->worker_destroy(w), 0);
    }
    f->online();
    f->unreg();
}

FERRY_TEST(memb_default_worker_survives_cancel_inside_callback) { cancel_inside_callback(&rcu_memb, false); }
FERRY_TEST(qsbr_default_worker_survives_cancel_inside_callback) { cancel_inside_callback(&rcu_qsbr, false); }
FERRY_TEST(bp_default_worker_survives_cancel_inside_callback) { cancel_inside_callback(&rcu_bp, false); }
FERRY_TEST(memb_own_worker_survives_cancel_inside_callback) { cancel_inside_callback(&rcu_memb, true); }
FERRY_TEST(qsbr_own_worker_survives_cancel_inside_callback) { cancel_inside_callback(&rcu_qsbr, true); }
FERRY_TEST(bp_own_worker_survives_cancel_inside_callback) { cancel_inside_callback(&rcu_bp, true); }
