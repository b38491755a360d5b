/* SPDX-License-Identifier: MIT */
/* For tests of something that must wait for an RCU reader (a synchronize,
 * a callback, a polled grace period, a worker's destroy): first establish,
 * by waiting for states and never for a fixed time, that a grace period of
 * the flavor is running and waits for the reader; then check, while the
 * reader stays inside its section, that what must wait has not happened,
 * and that the grace period keeps waiting when its updater is woken as a
 * reader leaving a section wakes it. A check that only looks after a sleep
 * proves nothing when the updater has not started by then.
 *
 * White box: reads the flavor's grace-period state (src/rcu_common.h):
 * gp_seq is odd while a grace period runs, and the gp futex word is 1 while
 * its updater, having scanned the readers ACTIVE_ATTEMPTS times without
 * finding them all quiescent, sleeps until a reader wakes it. */
#ifndef FERRY_TESTS_RCU_GP_WAIT_H
#define FERRY_TESTS_RCU_GP_WAIT_H

#include <stdbool.h>
#include <unistd.h>

#include "rcu_common.h"
#include "test.h"

/* What must not happen while the reader is inside its section. Each field
 * may be NULL / 0. */
struct rcu_watch {
    const char *what;                  /* what must wait, for messages */
    FERRY_ATOMIC(int) *returned;       /* set once the operation returned */
    FERRY_ATOMIC(int) *ran;            /* callbacks run so far: must stay 0 */
    bool (*poll)(unsigned long);       /* this cookie must stay incomplete */
    unsigned long cookie;
};

/* How often the updater is woken and must go back to waiting. */
#define RCU_GP_WAKES 3
/* Not a tolerance: a state not reached in this long is a hang. */
#define RCU_GP_HANG_MS 30000

/* The acquire loads pair with the release stores of the threads under test
 * (their `returned` flag, the callbacks' counts), for the messages' sake. */
static inline void rcu_watch_check(const struct rcu_watch *w, const char *when)
{
    if (w->returned)
        CHECK_MSG(!atomic_load_explicit(w->returned, memory_order_acquire),
                  "%s returned %s, while the reader was inside its section", w->what, when);
    if (w->ran) {
        int n = atomic_load_explicit(w->ran, memory_order_acquire);
        CHECK_MSG(n == 0, "%s: %d callbacks ran %s, while the reader was inside its section",
                  w->what, n, when);
    }
    if (w->poll)
        CHECK_MSG(!w->poll(w->cookie), "%s: the polled grace period completed %s, while the reader "
                  "was inside its section", w->what, when);
}

static inline void rcu_gp_hang_check(struct timespec limit, const struct rcu_watch *w,
                                     const char *state)
{
    CHECK_MSG(ferry_test_ns_between(ferry_test_now(), limit) > 0, "%s: %s not reached in %d s",
              w->what, state, RCU_GP_HANG_MS / 1000);
}

/* The grace period `seq` of f, which waits for a reader, keeps waiting:
 * RCU_GP_WAKES times wake its updater as a reader leaving a section would
 * and wait until it has scanned again and gone back to sleep, in the same
 * grace period, checking `w` all along. The caller's reader must stay
 * inside its section. */
static inline void rcu_gp_keeps_waiting(struct ferry__rcu_flavor *f, const struct rcu_watch *w,
                                        unsigned long seq)
{
    for (int i = 0; i < RCU_GP_WAKES; i++) {
        /* What a reader leaving its section does when the futex word is 1
         * (here: one that is not the reader the grace period waits for). */
        ferry__rcu_wake_up_gp(f->gp);
        struct timespec limit = ferry_test_deadline_ms(RCU_GP_HANG_MS);
        for (;;) {
            /* Relaxed (here and in rcu_gp_wait_blocked): the grace-period
             * state is compared, or tells the test when to look; what the
             * test asserts besides is read in rcu_watch_check. */
            unsigned long now = atomic_load_explicit(&f->gp_seq, memory_order_relaxed);
            CHECK_MSG(now == seq, "%s: the grace period (gp_seq %lu) ended while the reader it waits "
                      "for was inside its section (gp_seq %lu)", w->what, seq, now);
            rcu_watch_check(w, "after its grace period was woken");
            /* Only the updater sets the word to 1: it has scanned again. */
            if (atomic_load_explicit(&f->gp->futex, memory_order_relaxed) == 1)
                break;
            rcu_gp_hang_check(limit, w, "the woken grace period sleeping again");
            usleep(100);
        }
    }
    rcu_watch_check(w, "while its grace period waited");
}

/* Wait until a grace period of f waits for a reader (see above), checking
 * `w` all along; then check that it keeps waiting (rcu_gp_keeps_waiting).
 * Returns the grace period's gp_seq, for a later rcu_gp_keeps_waiting. */
static inline unsigned long rcu_gp_wait_blocked(struct ferry__rcu_flavor *f, const struct rcu_watch *w)
{
    struct timespec limit = ferry_test_deadline_ms(RCU_GP_HANG_MS);
    unsigned long seq;
    for (;;) {
        rcu_watch_check(w, "before any grace period waited for the reader");
        seq = atomic_load_explicit(&f->gp_seq, memory_order_relaxed);
        if ((seq & 1) && atomic_load_explicit(&f->gp->futex, memory_order_relaxed) == 1)
            break;
        rcu_gp_hang_check(limit, w, "a grace period sleeping on the reader");
        usleep(100);
    }
    rcu_gp_keeps_waiting(f, w, seq);
    return seq;
}

/* Wait until worker wk has taken a batch of callbacks (they are in its
 * `inflight` record, see src/rcu_worker.c), checking `w` all along. */
static inline void rcu_worker_wait_taken(ferry_rcu_worker *wk, const struct rcu_watch *w)
{
    struct timespec limit = ferry_test_deadline_ms(RCU_GP_HANG_MS);
    /* Relaxed: a flag to decide when to look. */
    while (!atomic_load_explicit(&wk->inflight, memory_order_relaxed)) {
        rcu_watch_check(w, "before its worker took them");
        rcu_gp_hang_check(limit, w, "a worker holding callbacks");
        usleep(100);
    }
}

#endif
