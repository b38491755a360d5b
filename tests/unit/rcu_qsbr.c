/* SPDX-License-Identifier: MIT */
/* ferry/rcu_qsbr.h: quiescent states, offline/online, grace periods that
 * wait for online threads only, call/barrier/poll, and misuse checks. */
#include <ferry/rcu_qsbr.h>

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "../torture/rcu_gp_wait.h"
#include "test.h"

#define qsbr_in (&ferry__rcu_qsbr_flavor)

/* A registered thread that stays online without quiescent states until told
 * to announce one (or to go offline). */
struct holder {
    pthread_t tid;
    FERRY_ATOMIC(int) ready;
    FERRY_ATOMIC(int) release;
    int offline;   /* release by going offline instead of a quiescent state */
};

static void *holder_main(void *arg)
{
    struct holder *h = arg;
    ferry_qsbr_register_thread();
    atomic_store_explicit(&h->ready, 1, memory_order_release);
    while (!atomic_load_explicit(&h->release, memory_order_acquire))
        usleep(1000);
    if (h->offline)
        ferry_qsbr_thread_offline();
    else
        ferry_qsbr_quiescent_state();
    usleep(5000);
    ferry_qsbr_unregister_thread();
    return NULL;
}

static void holder_start(struct holder *h, int offline)
{
    memset(h, 0, sizeof *h);
    h->offline = offline;
    CHECK_EQ(pthread_create(&h->tid, NULL, holder_main, h), 0);
    while (!atomic_load_explicit(&h->ready, memory_order_acquire))
        usleep(100);
}

struct sync_arg {
    FERRY_ATOMIC(int) done;
};

static void *sync_main(void *arg)
{
    struct sync_arg *s = arg;
    ferry_qsbr_synchronize();
    atomic_store_explicit(&s->done, 1, memory_order_release);
    return NULL;
}

/* A synchronize waits for an online holder until it announces a quiescent
 * state (or goes offline). wind_back: the counter is first set 2 below the
 * holder's value (see the wrap case below). */
static void check_waits_for(int offline, bool wind_back, const char *what)
{
    struct holder h;
    holder_start(&h, offline);
    if (wind_back) {
        unsigned long g = atomic_load_explicit(&ferry__qsbr_gp.ctr, memory_order_relaxed);
        atomic_store_explicit(&ferry__qsbr_gp.ctr, g - 2, memory_order_seq_cst);
    }
    struct sync_arg s = { 0 };
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, sync_main, &s), 0);
    /* Its grace period sleeps on the online thread, and goes on waiting
     * when woken. */
    struct rcu_watch w = { .what = what, .returned = &s.done };
    rcu_gp_wait_blocked(qsbr_in, &w);
    atomic_store_explicit(&h.release, 1, memory_order_release);
    pthread_join(t, NULL);
    pthread_join(h.tid, NULL);
    CHECK(atomic_load_explicit(&s.done, memory_order_acquire));
}

static void check_waits(int offline)
{
    check_waits_for(offline, false, "ferry_qsbr_synchronize (an online thread had no quiescent state)");
}

FERRY_TEST(synchronize_waits_for_quiescent_state)
{
    check_waits(0);
}

FERRY_TEST(synchronize_waits_until_offline)
{
    check_waits(1);
}

#if ULONG_MAX <= 0xffffffffu
/* Where unsigned long has 32 bits the global counter wraps after 2^31 grace
 * periods, so a thread preempted in ferry_qsbr_thread_online between its
 * load of the counter and its store can come online holding a value from
 * before a wrap, which an advance then makes current again. A grace period
 * must still wait for that thread. The state is set up directly: a thread
 * online with value g while the counter is wound back to g - 2 (what 2^31
 * grace periods during the preemption leave). 64-bit targets cannot reach
 * it (2^63 grace periods) and do not build this case. */
FERRY_TEST(synchronize_waits_for_a_thread_whose_counter_wrapped)
{
    check_waits_for(0, true, "ferry_qsbr_synchronize (the counter came round to an online thread's value)");
}
#endif

FERRY_TEST(online_caller_and_offline_threads)
{
    ferry_qsbr_register_thread();
    CHECK(ferry_qsbr_read_ongoing());
    unsigned long g = ferry_qsbr_gp_count();
    ferry_qsbr_synchronize();          /* online caller: goes offline for it */
    CHECK(ferry_qsbr_read_ongoing());
    ferry_qsbr_thread_offline();
    CHECK(!ferry_qsbr_read_ongoing());
    ferry_qsbr_synchronize();
    ferry_qsbr_thread_online();
    ferry_qsbr_read_lock();
    ferry_qsbr_read_lock();
    ferry_qsbr_read_unlock();
    ferry_qsbr_read_unlock();
    ferry_qsbr_quiescent_state();
    CHECK_EQ(ferry_qsbr_gp_count(), g + 2);
    ferry_qsbr_unregister_thread();
}

struct obj {
    int value;
    ferry_rcu_head rh;
};
static FERRY_ATOMIC(int) cb_ran;
static int order[16];

static void cb(ferry_rcu_head *h)
{
    struct obj *o = ferry_container_of(h, struct obj, rh);
    order[atomic_fetch_add_explicit(&cb_ran, 1, memory_order_relaxed)] = o->value;
}

FERRY_TEST(call_waits_for_online_threads)
{
    struct holder h;
    holder_start(&h, 0);
    static struct obj o[16];
    for (int i = 0; i < 16; i++) {
        o[i].value = i;
        ferry_qsbr_call(&o[i].rh, cb);
    }
    struct rcu_watch w = { .what = "ferry_qsbr_call", .ran = &cb_ran };
    rcu_gp_wait_blocked(qsbr_in, &w);
    atomic_store_explicit(&h.release, 1, memory_order_release);
    ferry_qsbr_barrier();
    CHECK_EQ(atomic_load_explicit(&cb_ran, memory_order_relaxed), 16);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(order[i], i);
    pthread_join(h.tid, NULL);
}

FERRY_TEST(barrier_from_online_thread)
{
    static struct obj o;
    ferry_qsbr_register_thread();
    ferry_qsbr_call(&o.rh, cb);
    ferry_qsbr_barrier();      /* goes offline while waiting */
    CHECK_EQ(atomic_load_explicit(&cb_ran, memory_order_relaxed), 1);
    CHECK(ferry_qsbr_read_ongoing());
    ferry_qsbr_unregister_thread();
}

FERRY_TEST(poll_completes)
{
    struct holder h;
    holder_start(&h, 0);
    unsigned long c = ferry_qsbr_start_poll();
    struct rcu_watch w = { .what = "ferry_qsbr_start_poll", .poll = ferry_qsbr_poll, .cookie = c };
    rcu_gp_wait_blocked(qsbr_in, &w);
    atomic_store_explicit(&h.release, 1, memory_order_release);
    struct timespec dl = ferry_test_deadline_ms(10000);
    while (!ferry_qsbr_poll(c)) {
        CHECK_MSG(ferry_test_ns_between(ferry_test_now(), dl) > 0, "poll never completed");
        usleep(1000);
    }
    pthread_join(h.tid, NULL);
}

static int *shared_ptr;

FERRY_TEST(online_thread_may_dereference)
{
    static int x = 7;
    ferry_qsbr_register_thread();
    ferry_rcu_assign_pointer(shared_ptr, &x);
    CHECK_EQ(*ferry_rcu_dereference(shared_ptr), 7);
    ferry_qsbr_unregister_thread();
}

/* ---- misuse ---- */

static void cb_nop(ferry_rcu_head *h) { (void)h; }

FERRY_DEATH_TEST(head_queued_twice_aborts, "queued twice")
{
    static ferry_rcu_head h;
    ferry_qsbr_register_thread();   /* online: keeps the first from running */
    ferry_qsbr_call(&h, cb_nop);
    ferry_qsbr_call(&h, cb_nop);
}

FERRY_DEBUG_DEATH_TEST(unlock_without_lock_aborts, "ferry_qsbr_read_unlock without a matching")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_read_unlock();
}

FERRY_DEBUG_DEATH_TEST(read_lock_unregistered_aborts, "ferry_qsbr_read_lock in a thread that is not registered")
{
    ferry_qsbr_read_lock();
}

FERRY_DEBUG_DEATH_TEST(read_lock_offline_aborts, "ferry_qsbr_read_lock in a thread that is offline")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_thread_offline();
    ferry_qsbr_read_lock();
}

FERRY_DEBUG_DEATH_TEST(synchronize_in_read_section_aborts, "ferry_qsbr_synchronize inside a ferry_qsbr read-side section")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    ferry_qsbr_synchronize();
}

FERRY_DEBUG_DEATH_TEST(barrier_in_read_section_aborts, "ferry_qsbr_barrier inside a ferry_qsbr read-side section")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    ferry_qsbr_barrier();
}

FERRY_DEBUG_DEATH_TEST(quiescent_state_in_read_section_aborts, "ferry_qsbr_quiescent_state inside a ferry_qsbr read-side section")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    ferry_qsbr_quiescent_state();
}

/* A thread that exits registered is unregistered by its key's
 * destructor, online or offline: it holds up no grace period after it. */
static void *exit_registered(void *arg)
{
    ferry_qsbr_register_thread();
    if (arg)
        ferry_qsbr_thread_offline();
    return NULL;   /* no unregister */
}

FERRY_TEST(thread_exit_unregisters_online_or_offline)
{
    for (int i = 0; i < 8; i++) {
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, exit_registered, (i & 1) ? &t : NULL), 0);
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
    ferry_qsbr_synchronize();   /* would wait for ever for an online thread left behind */
    static ferry_rcu_head h;
    ferry_qsbr_call(&h, cb_nop);
    ferry_qsbr_barrier();
}

FERRY_DEBUG_DEATH_TEST(offline_in_read_section_aborts, "ferry_qsbr_thread_offline inside a ferry_qsbr read-side section")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    ferry_qsbr_thread_offline();
}

FERRY_DEBUG_DEATH_TEST(online_twice_aborts, "ferry_qsbr_thread_online in a thread that is already online")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_thread_online();
}

FERRY_DEBUG_DEATH_TEST(unregister_in_read_section_aborts, "ferry_qsbr_unregister_thread inside a read-side section")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    ferry_qsbr_unregister_thread();
}

static void *exit_in_section(void *arg)
{
    (void)arg;
    ferry_qsbr_register_thread();
    ferry_qsbr_read_lock();
    return NULL;
}

/* The thread's key destructor unregisters it and finds it in a section. */
FERRY_DEBUG_DEATH_TEST(thread_exit_in_read_section_aborts, "exited inside one")
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, exit_in_section, NULL), 0);
    pthread_join(t, NULL);
}

FERRY_DEBUG_DEATH_TEST(dereference_offline_aborts, "ferry_rcu_dereference outside a read-side section")
{
    ferry_qsbr_register_thread();
    ferry_qsbr_thread_offline();
    int *p = ferry_rcu_dereference(shared_ptr);
    (void)p;
}
