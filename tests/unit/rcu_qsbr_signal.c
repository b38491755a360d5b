/* SPDX-License-Identifier: MIT */
/* ferry/rcu_qsbr.h: a quiescent state announced by a signal handler while
 * its thread is offline -- inside ferry_qsbr_synchronize, which takes an
 * online caller offline for the wait, or offline by its own choice -- does
 * nothing. It used to bring the thread online: the thread left synchronize
 * online although it had called it offline (and stalled every later grace
 * period), debug builds aborted in the handler ("in a thread that is
 * offline", a call the thread had not made offline), and where a grace
 * period scans twice (32-bit) the synchronize waited for its own thread. */
#include <ferry/rcu_qsbr.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../torture/rcu_gp_wait.h"
#include "test.h"

#define qsbr_in (&ferry__rcu_qsbr_flavor)

/* Handled signals (the handler's release increment pairs with the
 * sender's acquire loads), and whether the thread was online in the last
 * handler (relaxed: read after such an acquire load). */
static FERRY_ATOMIC(int) handled, online_in_handler;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&online_in_handler, ferry_qsbr_read_ongoing(), memory_order_relaxed);
    ferry_qsbr_quiescent_state();
    atomic_fetch_add_explicit(&handled, 1, memory_order_release);
}

static void install_handler(void)
{
    CHECK(signal(SIGUSR1, on_signal) != SIG_ERR);
    atomic_store_explicit(&handled, 0, memory_order_relaxed);
}

/* The thread that synchronizes, online or offline, and is signalled. */
struct syncer {
    pthread_t tid;
    bool online;                 /* calls synchronize online */
    FERRY_ATOMIC(int) returned;  /* synchronize returned */
    bool online_after;           /* ferry_qsbr_read_ongoing() after it */
};

static void *syncer_main(void *arg)
{
    struct syncer *s = arg;
    ferry_qsbr_register_thread();
    if (!s->online)
        ferry_qsbr_thread_offline();
    ferry_qsbr_synchronize();
    s->online_after = ferry_qsbr_read_ongoing();
    atomic_store_explicit(&s->returned, 1, memory_order_release);
    if (s->online_after)
        ferry_qsbr_thread_offline();
    /* A later grace period does not wait for this thread (offline). */
    ferry_qsbr_synchronize();
    ferry_qsbr_unregister_thread();
    return NULL;
}

/* Signal s's thread, inside its synchronize, until a handler has run (the
 * first delivery may be deferred by a sanitizer's runtime and lost: resend
 * every 100 ms, as tests/unit/rcu_bp.c does). */
static void signal_until_handled(struct syncer *s)
{
    struct timespec limit = ferry_test_deadline_ms(RCU_GP_HANG_MS);
    while (atomic_load_explicit(&handled, memory_order_acquire) == 0) {
        CHECK_EQ(pthread_kill(s->tid, SIGUSR1), 0);
        for (int i = 0; i < 1000 && atomic_load_explicit(&handled, memory_order_acquire) == 0; i++)
            usleep(100);
        CHECK_MSG(ferry_test_ns_between(ferry_test_now(), limit) > 0,
                  "no signal handler ran in %d s", RCU_GP_HANG_MS / 1000);
    }
}

/* The test's own thread, registered and online without quiescent states,
 * holds the grace period up until it goes offline. */
static void check_quiescent_state_in_handler_during_synchronize(bool online)
{
    install_handler();
    ferry_qsbr_register_thread();
    struct syncer s;
    memset(&s, 0, sizeof s);
    s.online = online;
    CHECK_EQ(pthread_create(&s.tid, NULL, syncer_main, &s), 0);
    /* s's grace period sleeps on this thread (s is the only updater). */
    struct rcu_watch w = { .what = "ferry_qsbr_synchronize", .returned = &s.returned };
    unsigned long seq = rcu_gp_wait_blocked(qsbr_in, &w);
    signal_until_handled(&s);
    CHECK_MSG(!atomic_load_explicit(&online_in_handler, memory_order_relaxed),
              "the thread was online in a handler that interrupted its synchronize");
    /* The grace period still waits for this thread, not for s. */
    rcu_gp_keeps_waiting(qsbr_in, &w, seq);

    ferry_qsbr_thread_offline();
    CHECK_EQ(pthread_join(s.tid, NULL), 0);
    CHECK_MSG(s.online_after == online, "synchronize called %s returned %s", online ? "online" : "offline",
              s.online_after ? "online" : "offline");
    /* Nobody holds a grace period up. */
    ferry_qsbr_synchronize();
    ferry_qsbr_unregister_thread();
}

FERRY_TEST(quiescent_state_in_handler_during_offline_synchronize)
{
    check_quiescent_state_in_handler_during_synchronize(false);
}

FERRY_TEST(quiescent_state_in_handler_during_online_synchronize)
{
    check_quiescent_state_in_handler_during_synchronize(true);
}

/* Offline by its own choice: a quiescent state (from a handler or not)
 * leaves the thread offline, and grace periods do not wait for it. */
FERRY_TEST(quiescent_state_while_offline_does_nothing)
{
    ferry_qsbr_register_thread();
    ferry_qsbr_thread_offline();
    ferry_qsbr_quiescent_state();
    CHECK(!ferry_qsbr_read_ongoing());
    install_handler();
    CHECK_EQ(raise(SIGUSR1), 0);
    CHECK_EQ(atomic_load_explicit(&handled, memory_order_acquire), 1);
    CHECK(!ferry_qsbr_read_ongoing());
    ferry_qsbr_thread_online();
    ferry_qsbr_quiescent_state();
    CHECK(ferry_qsbr_read_ongoing());
    ferry_qsbr_unregister_thread();
}

/* The one check that stays for an offline caller: it must be registered. */
FERRY_DEBUG_DEATH_TEST(quiescent_state_unregistered_aborts,
                       "ferry_qsbr_quiescent_state in a thread that is not registered")
{
    ferry_qsbr_quiescent_state();
}
