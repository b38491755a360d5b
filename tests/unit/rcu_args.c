/* SPDX-License-Identifier: MIT */
/* The three RCU flavors' core calls attacked: NULL heads and callbacks on
 * every flavor, registering twice, unregistering when not registered,
 * synchronize and call from inside a callback, unregistering the callback
 * thread from inside a callback. */
#include <ferry/rcu.h>
#include <ferry/rcu_bp.h>
#include <ferry/rcu_qsbr.h>

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>

#include "test.h"

static void cb_nop(ferry_rcu_head *h)
{
    (void)h;
}

FERRY_DEATH_TEST(qsbr_call_null_head_aborts, "ferry_qsbr_call: NULL head")
{
    ferry_qsbr_call(NULL, cb_nop);
}

FERRY_DEATH_TEST(qsbr_call_null_callback_aborts, "ferry_qsbr_call: NULL callback")
{
    static ferry_rcu_head h;
    ferry_qsbr_call(&h, NULL);
}

FERRY_DEATH_TEST(bp_call_null_head_aborts, "ferry_rcu_bp_call: NULL head")
{
    ferry_rcu_bp_call(NULL, cb_nop);
}

FERRY_DEATH_TEST(bp_call_null_callback_aborts, "ferry_rcu_bp_call: NULL callback")
{
    static ferry_rcu_head h;
    ferry_rcu_bp_call(&h, NULL);
}

FERRY_DEATH_TEST(qsbr_register_twice_aborts, "already registered")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_register_thread();
}

FERRY_DEATH_TEST(qsbr_unregister_unregistered_aborts, "not registered")
{
    ferry_qsbr_unregister_thread();
}

/* bp registration is optional and idempotent both ways. */
FERRY_TEST(bp_register_twice_and_unregister_twice)
{
    CHECK_EQ(ferry_rcu_bp_register_thread(), 0);
    CHECK_EQ(ferry_rcu_bp_register_thread(), 0);
    ferry_rcu_bp_unregister_thread();
    ferry_rcu_bp_unregister_thread();
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    ferry_rcu_bp_unregister_thread();
}

/* A callback may wait for a grace period and queue another callback. */
static FERRY_ATOMIC(int) stage;
static ferry_rcu_head h1, h2;

static void cb_second(ferry_rcu_head *h)
{
    (void)h;
    atomic_store(&stage, 2);
}

static void cb_sync_then_call(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_synchronize();
    atomic_store(&stage, 1);
    ferry_rcu_call(&h2, cb_second);
}

FERRY_TEST(callback_synchronizes_and_calls)
{
    ferry_rcu_register_thread();
    atomic_store(&stage, 0);
    ferry_rcu_call(&h1, cb_sync_then_call);
    ferry_rcu_barrier();
    CHECK(atomic_load(&stage) >= 1);
    ferry_rcu_barrier(); /* covers the callback queued by the callback */
    CHECK_EQ(atomic_load(&stage), 2);
    ferry_rcu_unregister_thread();
}

static void cb_qsbr_sync(ferry_rcu_head *h)
{
    (void)h;
    ferry_qsbr_synchronize();
    atomic_store(&stage, 3);
}

FERRY_TEST(qsbr_callback_synchronizes)
{
    ferry_qsbr_register_thread();
    atomic_store(&stage, 0);
    ferry_qsbr_call(&h1, cb_qsbr_sync);
    ferry_qsbr_barrier();
    CHECK_EQ(atomic_load(&stage), 3);
    ferry_qsbr_unregister_thread();
}

static void cb_bp_sync(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_bp_synchronize();
    atomic_store(&stage, 4);
}

FERRY_TEST(bp_callback_synchronizes)
{
    atomic_store(&stage, 0);
    ferry_rcu_bp_call(&h1, cb_bp_sync);
    ferry_rcu_bp_barrier();
    CHECK_EQ(atomic_load(&stage), 4);
}

/* A head may be queued again once its callback ran. */
FERRY_TEST(head_requeued_after_it_ran)
{
    for (int i = 0; i < 3; i++) {
        atomic_store(&stage, 0);
        ferry_rcu_call(&h2, cb_second);
        ferry_rcu_barrier();
        CHECK_EQ(atomic_load(&stage), 2);
    }
}

static void cb_qsbr_barrier(ferry_rcu_head *h)
{
    (void)h;
    ferry_qsbr_barrier();
}

FERRY_DEATH_TEST(qsbr_barrier_from_callback_aborts, "ferry_qsbr_barrier called from a callback")
{
    static ferry_rcu_head h;
    ferry_qsbr_call(&h, cb_qsbr_barrier);
    ferry_qsbr_barrier();
}

static void cb_bp_barrier(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_bp_barrier();
}

FERRY_DEATH_TEST(bp_barrier_from_callback_aborts, "ferry_rcu_bp_barrier called from a callback")
{
    static ferry_rcu_head h;
    ferry_rcu_bp_call(&h, cb_bp_barrier);
    ferry_rcu_bp_barrier();
}

/* A callback that unregisters its own thread: before the fix the worker
 * went on running callbacks unseen by grace periods, with the flavor's
 * reader count driven below zero (bp: with its record released, read
 * through a NULL pointer at its next park). The callback thread's
 * registration belongs to RCU: abort. */
static void cb_memb_unregister(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_unregister_thread();
}

FERRY_DEATH_TEST(memb_unregister_from_callback_aborts,
                 "ferry_rcu_unregister_thread called from a ferry_rcu callback")
{
    static ferry_rcu_head h;
    ferry_rcu_call(&h, cb_memb_unregister);
    ferry_rcu_barrier();
}

static void cb_qsbr_unregister(ferry_rcu_head *h)
{
    (void)h;
    ferry_qsbr_unregister_thread();
}

FERRY_DEATH_TEST(qsbr_unregister_from_callback_aborts,
                 "ferry_qsbr_unregister_thread called from a ferry_qsbr callback")
{
    static ferry_rcu_head h;
    ferry_qsbr_call(&h, cb_qsbr_unregister);
    ferry_qsbr_barrier();
}

static void cb_bp_unregister(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_bp_unregister_thread();
}

FERRY_DEATH_TEST(bp_unregister_from_callback_aborts,
                 "ferry_rcu_bp_unregister_thread called from a ferry_rcu_bp callback")
{
    static ferry_rcu_head h;
    ferry_rcu_bp_call(&h, cb_bp_unregister);
    ferry_rcu_bp_barrier();
}

/* A callback that returns inside a read-side section it opened: before
 * the fix the worker went on with the section open, and every later grace
 * period of the flavor waited for it for ever (the barrier below still
 * returned; the next synchronize with another reader registered hung). */
static void cb_memb_leaves_section_open(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_read_lock();
}

FERRY_DEATH_TEST(memb_callback_returning_inside_a_section_aborts,
                 "ferry_rcu: a callback returned inside a read-side section")
{
    static ferry_rcu_head h, h2;
    ferry_rcu_call(&h, cb_memb_leaves_section_open);
    ferry_rcu_barrier();
    /* The check is at the end of a batch, which the barrier's own callback
     * may share: the next batch starts after it. */
    ferry_rcu_call(&h2, cb_nop);
    ferry_rcu_barrier();
}

static void cb_bp_leaves_section_open(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
}

FERRY_DEATH_TEST(bp_callback_returning_inside_a_section_aborts,
                 "returned inside a read-side section (a read lock without its unlock)")
{
    static ferry_rcu_head h, h2;
    ferry_rcu_bp_call(&h, cb_bp_leaves_section_open);
    ferry_rcu_bp_barrier();
    ferry_rcu_bp_call(&h2, cb_nop);   /* as above */
    ferry_rcu_bp_barrier();
}

/* A callback of one flavor may register and unregister its thread with
 * another flavor (it is that flavor's ordinary reader). */
static FERRY_ATOMIC(int) qsbr_reader_done;

static void cb_memb_uses_qsbr(ferry_rcu_head *h)
{
    (void)h;
    ferry_qsbr_register_thread();
    ferry_qsbr_quiescent_state();
    ferry_qsbr_unregister_thread();
    /* Relaxed: read after the barrier, which orders the callback before. */
    atomic_store_explicit(&qsbr_reader_done, 1, memory_order_relaxed);
}

FERRY_TEST(callback_registers_with_another_flavor)
{
    static ferry_rcu_head h;
    ferry_rcu_call(&h, cb_memb_uses_qsbr);
    ferry_rcu_barrier();
    CHECK_EQ(atomic_load_explicit(&qsbr_reader_done, memory_order_relaxed), 1);
    ferry_rcu_synchronize();
    ferry_qsbr_synchronize();
}

/* qsbr sections exist only in debug builds; there, unregistering inside
 * one aborts. */
FERRY_DEBUG_DEATH_TEST(qsbr_unregister_in_read_section_aborts, "ferry_qsbr_unregister_thread inside a read-side section")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    ferry_qsbr_unregister_thread();
}

/* ferry_rcu_call from a signal handler, also one that interrupts a call of
 * its own thread (a 100 us interval timer while the thread calls in a
 * loop): once the worker's thread runs, a call is a lock-free push
 * (reentrant) and a futex wake. Every callback runs exactly once. */
#define SIGNAL_CALLS 2000
#define LOOP_CALLS 200000
static ferry_rcu_head signal_heads[SIGNAL_CALLS];
static FERRY_ATOMIC(int) signal_next, signal_ran, loop_ran;

static void cb_count_signal(ferry_rcu_head *h)
{
    (void)h;
    /* Relaxed: read after the barrier. */
    atomic_fetch_add_explicit(&signal_ran, 1, memory_order_relaxed);
}

static void cb_count_loop(ferry_rcu_head *h)
{
    (void)h;
    /* Relaxed: as above. */
    atomic_fetch_add_explicit(&loop_ran, 1, memory_order_relaxed);
}

static void on_signal_call(int sig)
{
    (void)sig;
    /* Relaxed: only this thread's handler uses it (then the main code,
     * after the timer is stopped). */
    int i = atomic_fetch_add_explicit(&signal_next, 1, memory_order_relaxed);
    if (i < SIGNAL_CALLS)
        ferry_rcu_call(&signal_heads[i], cb_count_signal);
}

FERRY_TEST(call_from_a_signal_handler)
{
    static ferry_rcu_head first, mine[LOOP_CALLS];
    ferry_rcu_call(&first, cb_nop);   /* starts the worker's thread */
    ferry_rcu_barrier();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal_call;
    sa.sa_flags = SA_RESTART;
    CHECK_EQ(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = { { 0, 100 }, { 0, 100 } }, off = { { 0, 0 }, { 0, 0 } };
    CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
    for (int i = 0; i < LOOP_CALLS; i++)
        ferry_rcu_call(&mine[i], cb_count_loop);
    CHECK_EQ(setitimer(ITIMER_REAL, &off, NULL), 0);
    ferry_rcu_barrier();
    int handled = atomic_load_explicit(&signal_next, memory_order_relaxed);
    if (handled > SIGNAL_CALLS)
        handled = SIGNAL_CALLS;
    CHECK_EQ(atomic_load_explicit(&loop_ran, memory_order_relaxed), LOOP_CALLS);
    CHECK_EQ(atomic_load_explicit(&signal_ran, memory_order_relaxed), handled);
    CHECK(handled > 0);
}
