/* SPDX-License-Identifier: MIT */
/* ferry/rcu_bp.h: readers that never register (the first read lock does),
 * release at thread exit (also inside a section, also when a later exit
 * destructor reads again), grace periods that wait for such readers, the
 * update side, a first section in a signal handler, and misuse checks. */
#include <ferry/rcu_bp.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../torture/rcu_flavors.h"
#include "../torture/rcu_gp_wait.h"
#include "test.h"

/* Holders (rcu_flavors.h) know nothing about bp registration: their first
 * read lock registers them. */

struct sync_arg {
    pthread_t tid;
    FERRY_ATOMIC(int) done;
};

static void *sync_main(void *arg)
{
    struct sync_arg *s = arg;
    ferry_rcu_bp_synchronize();
    atomic_store_explicit(&s->done, 1, memory_order_release);
    return NULL;
}

FERRY_TEST(first_read_lock_registers)
{
    unsigned long n0 = ferry_rcu_bp_registered_threads();
    CHECK(!ferry_rcu_bp_read_ongoing());
    ferry_rcu_bp_read_lock();
    CHECK(ferry_rcu_bp_read_ongoing());
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0 + 1);
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    CHECK(ferry_rcu_bp_read_ongoing());
    ferry_rcu_bp_read_unlock();
    CHECK(!ferry_rcu_bp_read_ongoing());
    CHECK_EQ(ferry_rcu_bp_register_thread(), 0);   /* already: fine */
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0 + 1);
    ferry_rcu_bp_unregister_thread();
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0);
    ferry_rcu_bp_unregister_thread();              /* not registered: no-op */
    ferry_rcu_bp_read_lock();                      /* registers again */
    ferry_rcu_bp_read_unlock();
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0 + 1);
}

static void waits_for(bool exit_inside)
{
    struct rcu_holder h;
    rcu_holder_start(&h, &rcu_bp, exit_inside);
    struct sync_arg s;
    memset(&s, 0, sizeof s);
    CHECK_EQ(pthread_create(&s.tid, NULL, sync_main, &s), 0);
    /* Its grace period sleeps on the reader, and goes on waiting when woken. */
    struct rcu_watch w = { .what = "ferry_rcu_bp_synchronize (an unregistered thread's section was open)",
                           .returned = &s.done };
    rcu_gp_wait_blocked(rcu_bp.in, &w);
    rcu_holder_stop(&h);   /* the thread leaves its section, or exits inside it */
    CHECK_EQ(pthread_join(s.tid, NULL), 0);
    CHECK(atomic_load_explicit(&s.done, memory_order_acquire));
}

FERRY_TEST(synchronize_waits_for_first_use_reader) { waits_for(false); }
FERRY_TEST(thread_exit_inside_section_ends_it) { waits_for(true); }

static void *read_once(void *arg)
{
    (void)arg;
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    return NULL;
}

FERRY_TEST(thread_exit_releases_the_record)
{
    unsigned long n0 = ferry_rcu_bp_registered_threads();
    for (int i = 0; i < 200; i++) {
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, read_once, NULL), 0);
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0);
    ferry_rcu_bp_synchronize();
    /* Many at once: the records (more than one block) come back too. */
    enum { M = 100 };
    struct rcu_holder h[M];
    for (int i = 0; i < M; i++)
        rcu_holder_start(&h[i], &rcu_bp, i % 2 == 0);
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0 + M);
    for (int i = 0; i < M; i++)
        rcu_holder_stop(&h[i]);
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0);
    ferry_rcu_bp_synchronize();
}

/* A destructor that runs after ferry's and reads again: the thread is
 * registered again and released again in the next round. */
static pthread_key_t late_key;

static void late_destructor(void *v)
{
    (void)v;
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
}

static void *read_then_exit_with_late_destructor(void *arg)
{
    (void)arg;
    pthread_setspecific(late_key, (void *)1);
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    return NULL;
}

FERRY_TEST(late_exit_destructor_may_read)
{
    ferry_rcu_bp_read_lock();   /* ferry's key exists before late_key */
    ferry_rcu_bp_read_unlock();
    unsigned long n0 = ferry_rcu_bp_registered_threads();
    CHECK_EQ(pthread_key_create(&late_key, late_destructor), 0);
    for (int i = 0; i < 10; i++) {
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, read_then_exit_with_late_destructor, NULL), 0);
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
    CHECK_EQ(ferry_rcu_bp_registered_threads(), n0);
    ferry_rcu_bp_synchronize();
}

/* A thread whose first section is in a signal handler. The signal goes
 * to the thread once it runs its own code (ready), and again every 100 ms
 * until a handler has run: under ThreadSanitizer about one run in 150
 * never ran the handler for a signal that pthread_kill had sent (the
 * thread sat in its usleep loop; the runtime defers signals to its own
 * safe points and lost that one), and the test waited forever (CI, TSan
 * build). Each delivery runs the same handler; the first is the thread's
 * first section. */
static FERRY_ATOMIC(int) handled, ready;

static void on_signal(int sig)
{
    (void)sig;
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    atomic_store_explicit(&handled, 1, memory_order_release);
}

static void *wait_for_signal(void *arg)
{
    (void)arg;
    atomic_store_explicit(&ready, 1, memory_order_release);
    while (!atomic_load_explicit(&handled, memory_order_acquire))
        usleep(1000);
    return NULL;
}

FERRY_TEST(first_section_in_a_signal_handler)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, wait_for_signal, NULL), 0);
    while (!atomic_load_explicit(&ready, memory_order_acquire))
        usleep(1000);
    for (int i = 0; !atomic_load_explicit(&handled, memory_order_acquire); i++) {
        if (i % 100 == 0)
            CHECK_EQ(pthread_kill(t, SIGUSR1), 0);
        usleep(1000);
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load_explicit(&handled, memory_order_acquire), 1);
    ferry_rcu_bp_synchronize();
}

/* ---- update side ---- */

struct obj {
    int value;
    ferry_rcu_head rh;
};

static FERRY_ATOMIC(int) cb_ran;

static void cb_count(ferry_rcu_head *h)
{
    (void)h;
    atomic_fetch_add_explicit(&cb_ran, 1, memory_order_relaxed);
}

static struct obj *shared;

FERRY_TEST(call_barrier_poll)
{
    struct rcu_holder h;
    rcu_holder_start(&h, &rcu_bp, false);
    static struct obj o[8];
    for (int i = 0; i < 8; i++)
        ferry_rcu_bp_call(&o[i].rh, cb_count);
    unsigned long c = ferry_rcu_bp_start_poll();
    struct rcu_watch w = { .what = "ferry_rcu_bp_call and start_poll", .ran = &cb_ran,
                           .poll = ferry_rcu_bp_poll, .cookie = c };
    rcu_gp_wait_blocked(rcu_bp.in, &w);
    rcu_holder_stop(&h);
    ferry_rcu_bp_barrier();
    CHECK_EQ(atomic_load_explicit(&cb_ran, memory_order_relaxed), 8);
    ferry_rcu_bp_synchronize();
    ferry_rcu_bp_synchronize();
    CHECK(ferry_rcu_bp_poll(c));
    unsigned long g = ferry_rcu_bp_gp_count();
    ferry_rcu_bp_synchronize();
    CHECK_EQ(ferry_rcu_bp_gp_count(), g + 1);
    /* The dereference check accepts a bp section. */
    static struct obj one = { 1, { 0 } };
    ferry_rcu_assign_pointer(shared, &one);
    ferry_rcu_bp_read_lock();
    CHECK_EQ(ferry_rcu_dereference(shared)->value, 1);
    ferry_rcu_bp_read_unlock();
}

/* ---- misuse ---- */

FERRY_DEATH_TEST(unlock_without_lock_aborts, "ferry_rcu_bp_read_unlock without a matching")
{
    ferry_rcu_bp_read_unlock();   /* never registered */
}

FERRY_DEATH_TEST(unbalanced_unlock_aborts, "ferry_rcu_bp_read_unlock without a matching")
{
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    ferry_rcu_bp_read_unlock();
}

/* As in tests/unit/rcu.c: one level past the 32-bit nest count aborts
 * instead of carrying into the phase bit (staged below the limit). */
FERRY_DEATH_TEST(nesting_past_the_limit_aborts, "read-side sections nested too deep")
{
    ferry_rcu_bp_read_lock();
    unsigned long v = atomic_load_explicit(&ferry__rcu_bp_self->ctr, memory_order_relaxed);
    atomic_store_explicit(&ferry__rcu_bp_self->ctr, v | FERRY__RCU_NEST_MASK, memory_order_relaxed);
    ferry_rcu_bp_read_lock();
    CHECK(ferry_rcu_bp_read_ongoing());   /* not reached with the check */
}

FERRY_DEATH_TEST(synchronize_in_section_aborts, "ferry_rcu_bp_synchronize inside a ferry_rcu_bp read-side section")
{
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_synchronize();
}

FERRY_DEATH_TEST(barrier_in_section_aborts, "ferry_rcu_bp_barrier inside a ferry_rcu_bp read-side section")
{
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_barrier();
}

FERRY_DEATH_TEST(unregister_in_section_aborts, "ferry_rcu_bp_unregister_thread inside a read-side section")
{
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_unregister_thread();
}

FERRY_DEBUG_DEATH_TEST(dereference_outside_section_aborts, "ferry_rcu_dereference outside a read-side section")
{
    static struct obj one;
    ferry_rcu_assign_pointer(shared, &one);
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    struct obj *p = ferry_rcu_dereference(shared);
    (void)p;
}

/* ---- registration without memory: reader records come from mmap'ed
 * blocks; with the address space capped at what the process already maps,
 * the first registration cannot get one. Not under ThreadSanitizer, whose
 * own bookkeeping needs to map memory while the cap holds. ---- */

#if defined(__SANITIZE_THREAD__)
#define RCU_BP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCU_BP_TSAN 1
#endif
#endif

#ifndef RCU_BP_TSAN

/* Cap the address space at its current size (plus nothing); returns the
 * limit to restore. */
static struct rlimit cap_address_space(void)
{
    struct rlimit old;
    CHECK_EQ(getrlimit(RLIMIT_AS, &old), 0);
    struct rlimit cap = {(rlim_t)ferry_test_vm_bytes(), old.rlim_max};
    CHECK_EQ(setrlimit(RLIMIT_AS, &cap), 0);
    return old;
}

FERRY_TEST(register_without_memory_is_enomem)
{
    ferry_rcu_bp_synchronize();   /* whatever a grace period sets up, before the cap */
    struct rlimit old = cap_address_space();
    int rc = ferry_rcu_bp_register_thread();
    CHECK_EQ(setrlimit(RLIMIT_AS, &old), 0);
    CHECK_EQ(rc, -ENOMEM);
    CHECK_EQ(ferry_rcu_bp_registered_threads(), 0);
    /* With memory again it registers, and works. */
    CHECK_EQ(ferry_rcu_bp_register_thread(), 0);
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    ferry_rcu_bp_unregister_thread();
}

FERRY_DEATH_TEST(read_lock_without_memory_aborts, "cannot register the thread (out of memory)")
{
    ferry_rcu_bp_synchronize();
    cap_address_space();
    ferry_rcu_bp_read_lock();
}

#endif /* RCU_BP_TSAN */
