/* SPDX-License-Identifier: MIT */
/* ferry_*_worker_destroy runs the worker's pending callbacks, which wait
 * for a grace period first; that grace period waits for the caller when
 * the caller is a reader. QSBR: an online caller (a registered thread is
 * online) goes offline for the call and comes back online, as barrier
 * does (before, the destroy waited for itself for ever). memb and bp:
 * inside a read-side section it aborts with a message, as barrier does
 * (before, it hung). A QSBR callback of another worker that destroys a
 * worker is an online caller too. */
#include <pthread.h>

#include "../torture/rcu_flavors.h"
#include "test.h"

static FERRY_ATOMIC(int) runs;

static void count_run(ferry_rcu_head *h)
{
    (void)h;
    /* Relaxed: read after destroy or a barrier, which order it. */
    atomic_fetch_add_explicit(&runs, 1, memory_order_relaxed);
}

/* A worker with a callback pending (queued by a bound caller, which then
 * unbinds so that destroy is allowed). */
static ferry_rcu_worker *worker_with_pending(const struct rcu_flavor *f, ferry_rcu_head *h)
{
    ferry_rcu_worker *w = NULL;
    CHECK_EQ(f->worker_create(&w, -1), 0);
    CHECK_EQ(f->set_thread_worker(w), 0);
    f->call(h, count_run);
    CHECK_EQ(f->set_thread_worker(NULL), 0);
    return w;
}

FERRY_TEST(qsbr_online_caller_destroys_worker_with_pending_callbacks)
{
    ferry_qsbr_register_thread();   /* online */
    atomic_store(&runs, 0);
    ferry_rcu_head h;
    ferry_rcu_worker *w = worker_with_pending(&rcu_qsbr, &h);
    CHECK_EQ(ferry_qsbr_worker_destroy(w), 0);
    CHECK_EQ(atomic_load(&runs), 1);
    CHECK(ferry_qsbr_read_ongoing());   /* back online */
    ferry_qsbr_unregister_thread();
}

static ferry_rcu_worker *victim;
static FERRY_ATOMIC(int) destroy_rc = 1;

static void destroy_victim(ferry_rcu_head *h)
{
    (void)h;
    /* Relaxed: read after the barrier. */
    atomic_store_explicit(&destroy_rc, ferry_qsbr_worker_destroy(victim), memory_order_relaxed);
}

FERRY_TEST(qsbr_callback_destroys_another_worker_with_pending_callbacks)
{
    ferry_qsbr_register_thread();
    ferry_qsbr_thread_offline();
    atomic_store(&runs, 0);
    ferry_rcu_head h, d;
    victim = worker_with_pending(&rcu_qsbr, &h);
    ferry_qsbr_call(&d, destroy_victim);   /* the default worker's callback */
    ferry_qsbr_barrier();
    CHECK_EQ(atomic_load(&destroy_rc), 0);
    CHECK_EQ(atomic_load(&runs), 1);
    ferry_qsbr_thread_online();
    ferry_qsbr_unregister_thread();
}

/* memb and bp: aborts inside a section (also with nothing pending). */
static void destroy_inside_section(const struct rcu_flavor *f)
{
    f->reg();
    ferry_rcu_head h;
    ferry_rcu_worker *w = worker_with_pending(f, &h);
    f->lock();
    f->worker_destroy(w);
}

FERRY_DEATH_TEST(memb_destroy_inside_read_section_aborts,
                 "ferry_rcu_worker_destroy inside a ferry_rcu read-side section")
{
    destroy_inside_section(&rcu_memb);
}

FERRY_DEATH_TEST(bp_destroy_inside_read_section_aborts,
                 "ferry_rcu_bp_worker_destroy inside a ferry_rcu_bp read-side section")
{
    destroy_inside_section(&rcu_bp);
}
