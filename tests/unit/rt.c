/* SPDX-License-Identifier: MIT */
/* ferry/rt.h: section marks nest, are per thread, may be used from a
 * signal handler, and unbalanced exits abort. */
#include <ferry/rt.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "test.h"

FERRY_TEST(marks_nest)
{
    CHECK(!ferry_rt_active());
    CHECK_EQ(ferry_rt_depth(), 0);
    ferry_rt_enter();
    CHECK(ferry_rt_active());
    ferry_rt_enter();
    CHECK_EQ(ferry_rt_depth(), 2);
    ferry_rt_exit();
    CHECK(ferry_rt_active());
    ferry_rt_exit();
    CHECK(!ferry_rt_active());
    CHECK_EQ(ferry_rt_depth(), 0);
}

static atomic_int phase;
static atomic_bool other_seen;

static void *other(void *arg)
{
    (void)arg;
    while (atomic_load(&phase) != 1) {
    }
    atomic_store(&other_seen, ferry_rt_active());
    ferry_rt_enter();
    ferry_rt_exit();
    atomic_store(&phase, 2);
    return NULL;
}

FERRY_TEST(marks_are_per_thread)
{
    /* The other thread looks while this one is inside a section (the
     * thread is created outside it: creating threads is not real-time safe,
     * and RTSan builds would say so). */
    pthread_t t;
    atomic_store(&other_seen, true);
    CHECK_EQ(pthread_create(&t, NULL, other, NULL), 0);
    ferry_rt_enter();
    atomic_store(&phase, 1);
    while (atomic_load(&phase) != 2) {
    }
    bool still = ferry_rt_active();
    ferry_rt_exit();
    pthread_join(t, NULL);
    CHECK(!atomic_load(&other_seen));
    CHECK(still);
}

/* ferry_rt_enter is async-signal-safe (rt.h), and so must be a balanced
 * enter/exit pair in a handler that interrupts the thread's own marks at
 * any instruction: the handler sees one more level than the thread had,
 * and the thread's depth is what it was afterwards. */
static volatile sig_atomic_t handled, handler_bad;

static void rt_handler(int sig)
{
    (void)sig;
    unsigned d = ferry_rt_depth();
    ferry_rt_enter();
    if (ferry_rt_depth() != d + 1 || !ferry_rt_active())
        handler_bad = 1;
    ferry_rt_exit();
    if (ferry_rt_depth() != d)
        handler_bad = 1;
    handled = handled + 1;
}

enum { KILLS = 2000 };
static atomic_bool kills_done;

static void *rt_killer(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    for (int i = 0; i < KILLS; i++) {
        pthread_kill(target, SIGUSR1);
        sched_yield();
    }
    atomic_store(&kills_done, true);
    return NULL;
}

FERRY_TEST(marks_in_a_signal_handler)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = rt_handler;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);   /* left installed: a signal still
                                                    * pending after the join is harmless */
    pthread_t self = pthread_self(), t;
    CHECK_EQ(pthread_create(&t, NULL, rt_killer, &self), 0);
    for (unsigned long rounds = 0; !atomic_load_explicit(&kills_done, memory_order_relaxed); rounds++) {
        /* ThreadSanitizer delivers a signal only when the thread calls into
         * libc (there, not inside the marks): give it such calls. */
        if (rounds % 256 == 0)
            sched_yield();
        ferry_rt_enter();
        ferry_rt_enter();
        if (ferry_rt_depth() != 2)
            handler_bad = 2;
        ferry_rt_exit();
        ferry_rt_exit();
        if (ferry_rt_depth() != 0)
            handler_bad = 3;
    }
    pthread_join(t, NULL);
    CHECK_EQ(handler_bad, 0);
    CHECK(handled > 0);
    CHECK_EQ(ferry_rt_depth(), 0);
}

FERRY_DEATH_TEST(exit_without_enter, "ferry_rt_exit() without a matching ferry_rt_enter()")
{
    ferry_rt_exit();
}
