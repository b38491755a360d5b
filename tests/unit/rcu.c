/* SPDX-License-Identifier: MIT */
/* ferry/rcu.h (default flavor): read-side nesting, grace periods that wait
 * for pre-existing readers only, shared grace periods, call_rcu order and
 * batching, barrier, polling, pointer macros, and each misuse check. */
#include <ferry/rcu.h>

#include <linux/membarrier.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../torture/rcu_gp_wait.h"
#include "rcu_common.h"
#include "test.h"

#define memb_in (&ferry__rcu_memb)

/* A registered reader thread that holds a read lock until told to drop it. */
struct holder {
    pthread_t tid;
    FERRY_ATOMIC(int) locked;
    FERRY_ATOMIC(int) release;
};

static void *holder_main(void *arg)
{
    struct holder *h = arg;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    atomic_store_explicit(&h->locked, 1, memory_order_release);
    while (!atomic_load_explicit(&h->release, memory_order_acquire))
        usleep(1000);
    ferry_rcu_read_unlock();
    ferry_rcu_unregister_thread();
    return NULL;
}

static void holder_start(struct holder *h)
{
    memset(h, 0, sizeof *h);
    CHECK_EQ(pthread_create(&h->tid, NULL, holder_main, h), 0);
    while (!atomic_load_explicit(&h->locked, memory_order_acquire))
        usleep(100);
}

static void holder_stop(struct holder *h)
{
    atomic_store_explicit(&h->release, 1, memory_order_release);
    pthread_join(h->tid, NULL);
}

FERRY_TEST(read_lock_nests)
{
    ferry_rcu_register_thread();
    CHECK(!ferry_rcu_read_ongoing());
    ferry_rcu_read_lock();
    CHECK(ferry_rcu_read_ongoing());
    ferry_rcu_read_lock();
    ferry_rcu_read_lock();
    ferry_rcu_read_unlock();
    ferry_rcu_read_unlock();
    CHECK(ferry_rcu_read_ongoing());
    ferry_rcu_read_unlock();
    CHECK(!ferry_rcu_read_ongoing());
    ferry_rcu_unregister_thread();
    /* register again after unregister */
    ferry_rcu_register_thread();
    ferry_rcu_unregister_thread();
}

FERRY_TEST(synchronize_without_readers)
{
    unsigned long g = ferry_rcu_gp_count();
    ferry_rcu_synchronize();
    ferry_rcu_synchronize();
    CHECK_EQ(ferry_rcu_gp_count(), g + 2);
    ferry_rcu_register_thread();   /* a registered but idle reader does not block */
    ferry_rcu_synchronize();
    ferry_rcu_unregister_thread();
}

struct sync_arg {
    FERRY_ATOMIC(int) done;
};

static void *sync_main(void *arg)
{
    struct sync_arg *s = arg;
    ferry_rcu_synchronize();
    atomic_store_explicit(&s->done, 1, memory_order_release);
    return NULL;
}

FERRY_TEST(synchronize_waits_for_reader)
{
    struct holder h;
    holder_start(&h);
    struct sync_arg s = { 0 };
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, sync_main, &s), 0);
    /* Its grace period sleeps on the reader, and goes on waiting when woken. */
    struct rcu_watch w = { .what = "ferry_rcu_synchronize", .returned = &s.done };
    rcu_gp_wait_blocked(memb_in, &w);
    holder_stop(&h);
    pthread_join(t, NULL);
    CHECK(atomic_load_explicit(&s.done, memory_order_acquire));
}

FERRY_TEST(synchronize_ignores_later_readers)
{
    /* Our own read section started after nothing: another thread's
     * synchronize, started while we hold no lock, must finish even if we
     * then enter and stay in a section. */
    ferry_rcu_register_thread();
    struct sync_arg s = { 0 };
    pthread_t t;
    ferry_rcu_synchronize();
    CHECK_EQ(pthread_create(&t, NULL, sync_main, &s), 0);
    pthread_join(t, NULL);
    ferry_rcu_read_lock();
    struct sync_arg s2 = { 0 };
    /* A synchronize that started before our lock... is not observable
     * deterministically; instead check that an idle reader never blocks. */
    ferry_rcu_read_unlock();
    CHECK_EQ(pthread_create(&t, NULL, sync_main, &s2), 0);
    pthread_join(t, NULL);
    CHECK(atomic_load_explicit(&s2.done, memory_order_relaxed));
    ferry_rcu_unregister_thread();
}

FERRY_TEST(concurrent_synchronize_share_grace_periods)
{
    struct holder h;
    holder_start(&h);
    unsigned long g0 = ferry_rcu_gp_count();
    enum { N = 6 };
    pthread_t t[N];
    struct sync_arg s[N];
    memset(s, 0, sizeof s);
    /* The first caller leads a grace period, which waits for the holder. */
    CHECK_EQ(pthread_create(&t[0], NULL, sync_main, &s[0]), 0);
    struct rcu_watch w = { .what = "the first ferry_rcu_synchronize", .returned = &s[0].done };
    rcu_gp_wait_blocked(memb_in, &w);
    /* The others queue behind it, each in turn: each push changes the top
     * of the waiter stack (nothing pops it while the grace period waits). */
    for (int i = 1; i < N; i++) {
        /* Relaxed: only compared, never dereferenced. */
        void *top = atomic_load_explicit(&memb_in->waiters, memory_order_relaxed);
        CHECK_EQ(pthread_create(&t[i], NULL, sync_main, &s[i]), 0);
        while (atomic_load_explicit(&memb_in->waiters, memory_order_relaxed) == top)
            usleep(100);
    }
    holder_stop(&h);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    /* The leader's grace period, then one for everybody who queued behind it. */
    unsigned long used = ferry_rcu_gp_count() - g0;
    CHECK_MSG(used == 2, "%d synchronize callers used %lu grace periods", N, used);
}

struct obj {
    int value;
    ferry_rcu_head rh;
};

static FERRY_ATOMIC(int) cb_ran;
static int cb_order[64];
static FERRY_ATOMIC(int) cb_n;

static void cb_count(ferry_rcu_head *h)
{
    struct obj *o = ferry_container_of(h, struct obj, rh);
    int i = atomic_fetch_add_explicit(&cb_n, 1, memory_order_relaxed);
    if (i < 64)
        cb_order[i] = o->value;
    atomic_fetch_add_explicit(&cb_ran, 1, memory_order_release);
}

FERRY_TEST(call_runs_after_grace_period_in_order)
{
    struct holder h;
    holder_start(&h);
    static struct obj o[32];
    for (int i = 0; i < 32; i++) {
        o[i].value = i;
        ferry_rcu_call(&o[i].rh, cb_count);
    }
    /* The callback thread's grace period waits for the holder. */
    struct rcu_watch w = { .what = "ferry_rcu_call", .ran = &cb_ran };
    rcu_gp_wait_blocked(memb_in, &w);
    holder_stop(&h);
    ferry_rcu_barrier();
    CHECK_EQ(atomic_load_explicit(&cb_ran, memory_order_acquire), 32);
    for (int i = 0; i < 32; i++)
        CHECK_EQ(cb_order[i], i);
}

FERRY_TEST(call_batches_callbacks)
{
    struct holder h;
    holder_start(&h);
    static struct obj o[64];
    /* The first callbacks may be taken before the rest arrive; the rest
     * share one grace period, which cannot end before the holder leaves. */
    for (int i = 0; i < 64; i++)
        ferry_rcu_call(&o[i].rh, cb_count);
    struct rcu_watch w = { .what = "ferry_rcu_call", .ran = &cb_ran };
    rcu_gp_wait_blocked(memb_in, &w);
    unsigned long g0 = ferry_rcu_gp_count();
    holder_stop(&h);
    ferry_rcu_barrier();
    CHECK_EQ(atomic_load_explicit(&cb_ran, memory_order_acquire), 64);
    /* 64 callbacks and a barrier: a handful of grace periods, not 65. */
    CHECK_MSG(ferry_rcu_gp_count() - g0 <= 4, "%lu grace periods", ferry_rcu_gp_count() - g0);
}

static ferry_rcu_head requeue_head;
static FERRY_ATOMIC(int) requeue_left;

static void cb_requeue(ferry_rcu_head *h)
{
    if (atomic_fetch_sub_explicit(&requeue_left, 1, memory_order_relaxed) > 1)
        ferry_rcu_call(h, cb_requeue);   /* the same head again: allowed once it ran */
}

FERRY_TEST(callback_may_requeue_its_head)
{
    atomic_store_explicit(&requeue_left, 5, memory_order_relaxed);
    ferry_rcu_call(&requeue_head, cb_requeue);
    while (atomic_load_explicit(&requeue_left, memory_order_relaxed) > 0)
        ferry_rcu_barrier();
    CHECK_EQ(atomic_load_explicit(&requeue_left, memory_order_relaxed), 0);
}

FERRY_TEST(barrier_without_callbacks_returns)
{
    ferry_rcu_barrier();
    ferry_rcu_barrier();
}

FERRY_TEST(call_inside_read_section_is_allowed)
{
    static struct obj o;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    ferry_rcu_call(&o.rh, cb_count);
    ferry_rcu_read_unlock();
    ferry_rcu_barrier();
    CHECK_EQ(atomic_load_explicit(&cb_ran, memory_order_acquire), 1);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(poll_completes_without_synchronize)
{
    struct holder h;
    holder_start(&h);
    unsigned long c = ferry_rcu_start_poll();
    /* The callback thread runs the grace period; the holder predates the
     * cookie. */
    struct rcu_watch w = { .what = "ferry_rcu_start_poll", .poll = ferry_rcu_poll, .cookie = c };
    rcu_gp_wait_blocked(memb_in, &w);
    holder_stop(&h);
    struct timespec dl = ferry_test_deadline_ms(10000);
    while (!ferry_rcu_poll(c)) {
        CHECK_MSG(ferry_test_ns_between(ferry_test_now(), dl) > 0, "poll never completed");
        usleep(1000);
    }
    /* A later cookie is not yet satisfied by the old grace period... */
    unsigned long c2 = ferry_rcu_start_poll();
    CHECK((long)(c2 - c) > 0);
    ferry_rcu_synchronize();
    ferry_rcu_synchronize();
    CHECK(ferry_rcu_poll(c2));           /* ...but two synchronize calls cover it */
}

struct cfg {
    int a;
};
static struct cfg *cfg_ptr;

FERRY_TEST(pointer_macros)
{
    static struct cfg c1 = { 1 }, c2 = { 2 }, c3 = { 3 };
    ferry_rcu_register_thread();
    ferry_rcu_assign_pointer(cfg_ptr, &c1);
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_rcu_dereference(cfg_ptr)->a, 1);
    ferry_rcu_read_unlock();
    struct cfg *old = ferry_rcu_xchg_pointer(&cfg_ptr, &c2);
    CHECK_PTR_EQ(old, &c1);
    CHECK_PTR_EQ(ferry_rcu_cmpxchg_pointer(&cfg_ptr, &c1, &c3), &c2);   /* fails */
    CHECK_PTR_EQ(ferry_rcu_cmpxchg_pointer(&cfg_ptr, &c2, &c3), &c2);   /* succeeds */
    CHECK_PTR_EQ(ferry_rcu_access_pointer(cfg_ptr), &c3);
    CHECK_EQ(ferry_rcu_dereference_protected(cfg_ptr, 1 == 1)->a, 3);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(membarrier_state_is_reported)
{
    /* Readers run full fences exactly when the updater does not use
     * membarrier: the memb flavor's ordering rests on one or the other. */
    bool uses = ferry_rcu_uses_membarrier();
    CHECK_EQ(atomic_load_explicit(&ferry__rcu_gp.use_fences, memory_order_relaxed), !uses);
    /* It is used exactly when it may be: not under TSan (which cannot see
     * its ordering), not when FERRY_RCU_NO_MEMBARRIER is set, and only when
     * the kernel offers MEMBARRIER_CMD_PRIVATE_EXPEDITED. */
    const char *no = getenv("FERRY_RCU_NO_MEMBARRIER");
    bool allowed = !(no && *no && strcmp(no, "0") != 0);
#ifdef FERRY__RCU_TSAN
    allowed = false;
#endif
    long mask = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    bool offered = mask >= 0 && (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
    CHECK_MSG(uses == (allowed && offered), "uses membarrier: %d; allowed: %d; offered by the kernel: %d",
              uses, allowed, offered);
    printf("membarrier: %s\n", uses ? "used" : "not used (readers run fences)");
}

/* ---- misuse ---- */

FERRY_DEATH_TEST(unlock_without_lock_aborts, "ferry_rcu_read_unlock without a matching")
{
    ferry_rcu_register_thread();
    ferry_rcu_read_unlock();
}

FERRY_DEATH_TEST(unbalanced_nested_unlock_aborts, "ferry_rcu_read_unlock without a matching")
{
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    ferry_rcu_read_unlock();
    ferry_rcu_read_unlock();
}

/* The nest count has 32 bits: one more level would carry into the phase bit
 * and leave the thread looking outside any section to grace periods (a
 * read lock without its unlock in a loop gets there). Staged: the count is
 * set just below the limit rather than reached by 2^32 locks. */
FERRY_DEATH_TEST(nesting_past_the_limit_aborts, "read-side sections nested too deep")
{
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    unsigned long v = atomic_load_explicit(&ferry__rcu_reader.ctr, memory_order_relaxed);
    atomic_store_explicit(&ferry__rcu_reader.ctr, v | FERRY__RCU_NEST_MASK, memory_order_relaxed);
    ferry_rcu_read_lock();
    CHECK(ferry_rcu_read_ongoing());   /* not reached with the check */
}

FERRY_DEATH_TEST(synchronize_in_read_section_aborts, "ferry_rcu_synchronize inside a ferry_rcu read-side section")
{
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    ferry_rcu_synchronize();
}

FERRY_DEATH_TEST(barrier_in_read_section_aborts, "ferry_rcu_barrier inside a ferry_rcu read-side section")
{
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    ferry_rcu_barrier();
}

static void cb_nop(ferry_rcu_head *h) { (void)h; }

FERRY_DEATH_TEST(head_queued_twice_aborts, "queued twice")
{
    static ferry_rcu_head h;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();   /* keeps the first callback from running */
    ferry_rcu_call(&h, cb_nop);
    ferry_rcu_call(&h, cb_nop);
}

FERRY_DEATH_TEST(register_twice_aborts, "already registered")
{
    ferry_rcu_register_thread();
    ferry_rcu_register_thread();
}

FERRY_DEATH_TEST(unregister_unregistered_aborts, "not registered")
{
    ferry_rcu_unregister_thread();
}

FERRY_DEATH_TEST(unregister_in_read_section_aborts, "inside a read-side section")
{
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    ferry_rcu_unregister_thread();
}

FERRY_DEBUG_DEATH_TEST(read_lock_unregistered_aborts, "tests/unit/rcu.c")
{
    ferry_rcu_read_lock();   /* the message names this file and line */
}

FERRY_DEBUG_DEATH_TEST(read_lock_unregistered_message, "ferry_rcu_read_lock in a thread that is not registered")
{
    ferry_rcu_read_lock();
}

FERRY_DEBUG_DEATH_TEST(dereference_outside_read_section_aborts, "ferry_rcu_dereference outside a read-side section")
{
    static struct cfg c = { 1 };
    ferry_rcu_assign_pointer(cfg_ptr, &c);
    ferry_rcu_register_thread();
    struct cfg *p = ferry_rcu_dereference(cfg_ptr);
    (void)p;
}

FERRY_DEBUG_DEATH_TEST(dereference_protected_false_aborts, "condition 'locked' is false")
{
    int locked = 0;
    struct cfg *p = ferry_rcu_dereference_protected(cfg_ptr, locked);
    (void)p;
}

static void cb_barrier(ferry_rcu_head *h)
{
    (void)h;
    ferry_rcu_barrier();
}

FERRY_DEATH_TEST(barrier_from_callback_aborts, "called from a callback")
{
    static ferry_rcu_head h;
    ferry_rcu_call(&h, cb_barrier);
    ferry_rcu_barrier();
}

static void *exit_registered(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    ferry_rcu_read_unlock();
    return NULL;   /* no unregister: done at thread exit */
}

FERRY_TEST(thread_exit_unregisters)
{
    for (int i = 0; i < 8; i++) {
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, exit_registered, NULL), 0);
        pthread_join(t, NULL);
    }
    ferry_rcu_synchronize();   /* would touch the dead threads' state otherwise */
}

static void *exit_in_section(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    return NULL;
}

FERRY_DEATH_TEST(thread_exit_in_read_section_aborts, "exited inside one")
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, exit_in_section, NULL), 0);
    pthread_join(t, NULL);
}

/* ---- the synchronize quick path ---- */

FERRY_TEST(synchronize_as_the_only_registered_reader)
{
    /* The caller's own registration does not make it wait (it cannot be in
     * a section), and each call still counts as a grace period. */
    ferry_rcu_register_thread();
    unsigned long g = ferry_rcu_gp_count();
    for (int i = 0; i < 100; i++)
        ferry_rcu_synchronize();
    CHECK_EQ(ferry_rcu_gp_count(), g + 100);
    ferry_rcu_read_lock();
    ferry_rcu_read_unlock();
    ferry_rcu_synchronize();
    ferry_rcu_unregister_thread();
}

FERRY_TEST(poll_cookie_completed_by_two_synchronize_without_readers)
{
    /* No reader: synchronize could return at once, but a pending poll makes
     * it run a grace period that the cookie counts. */
    unsigned long c = ferry_rcu_start_poll();
    ferry_rcu_synchronize();
    ferry_rcu_synchronize();
    CHECK(ferry_rcu_poll(c));
}

FERRY_TEST(idle_callback_thread_is_no_reader_to_wait_for)
{
    /* White box: between batches the callback thread is registered but not
     * counted, so a synchronize with no other reader takes the quick path
     * (counted in quick_gps), and during a batch it counts. */
    static struct obj o;
    ferry_rcu_call(&o.rh, cb_count);
    ferry_rcu_barrier();
    /* The barrier's callback has run; the thread parks right after it
     * (however long it waits for a CPU). */
    struct timespec limit = ferry_test_deadline_ms(RCU_GP_HANG_MS);
    while (atomic_load_explicit(&ferry__rcu_memb.active, memory_order_relaxed) != 0) {
        CHECK_MSG(ferry_test_ns_between(ferry_test_now(), limit) > 0, "the callback thread never parked");
        usleep(1000);
    }
    unsigned long q = atomic_load_explicit(&ferry__rcu_memb.quick_gps, memory_order_relaxed);
    ferry_rcu_synchronize();
    CHECK_EQ(atomic_load_explicit(&ferry__rcu_memb.quick_gps, memory_order_relaxed), q + 1);
}

FERRY_DEATH_TEST(call_with_null_head_aborts, "ferry_rcu_call: NULL head")
{
    ferry_rcu_call(NULL, cb_nop);
}

FERRY_DEATH_TEST(call_with_null_callback_aborts, "ferry_rcu_call: NULL callback")
{
    static ferry_rcu_head h;
    ferry_rcu_call(&h, NULL);
}
