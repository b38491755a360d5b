/* SPDX-License-Identifier: MIT */
/* ferry_op_cancel: exactly what it waits for, and ops whose start failed.
 *
 * The cancel guarantee (include/ferry/op.h, docs/async.md): a cancel waits
 * only for the completion of the op it cancels -- for that op's own waker if
 * it is running on another thread -- and never for other ops' wake
 * callbacks. A cancel that catches a completion whose waker has not started
 * takes it over: it returns the result and the waker is never called.
 *
 * Several cases here deadlocked (or waited for a sibling's waker) before
 * the per-op completion word: a watchdog turns a hang into a failure. */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

/* ---- a watchdog: fail instead of hanging ------------------------------ */

static FERRY_ATOMIC(int) watchdog_armed;
static const char *watchdog_what;

static void *watchdog(void *arg)
{
    long ms = (long)(intptr_t)arg;
    for (long i = 0; i < ms; i += 10) {
        if (!atomic_load(&watchdog_armed))
            return NULL;
        ferry_test_sleep_ms(10);
    }
    if (atomic_load(&watchdog_armed))
        ferry_test_fail(__FILE__, __LINE__, "watchdog: %s", watchdog_what);
    return NULL;
}

static pthread_t watchdog_start(long ms, const char *what)
{
    pthread_t t;
    watchdog_what = what;
    atomic_store(&watchdog_armed, 1);
    pthread_create(&t, NULL, watchdog, (void *)(intptr_t)ms);
    return t;
}

static void watchdog_stop(pthread_t t)
{
    atomic_store(&watchdog_armed, 0);
    pthread_join(t, NULL);
}

/* ---- two async receives completed by one send, in one wake round ------ */

/* Per-op flags a waker sets: entered, left; and a gate it may wait at. */
struct probe {
    FERRY_ATOMIC(int) in, out, calls;
    FERRY_ATOMIC(int) release;    /* hold-style wakers wait for this        */
    pthread_mutex_t *take;        /* mutex-style wakers lock and unlock it  */
};

static void probe_wake(void *ctx)
{
    struct probe *p = ctx;
    atomic_fetch_add(&p->calls, 1);
    atomic_store(&p->in, 1);
    if (p->take) {
        pthread_mutex_lock(p->take);
        pthread_mutex_unlock(p->take);
    } else {
        /* Hold (at most 10 s) until the test releases us. */
        for (int i = 0; i < 10000 && !atomic_load(&p->release); i++)
            ferry_test_sleep_ms(1);
    }
    atomic_store(&p->out, 1);
}

static void quick_wake(void *ctx)
{
    struct probe *p = ctx;
    atomic_fetch_add(&p->calls, 1);
    atomic_store(&p->in, 1);
    atomic_store(&p->out, 1);
}

struct pair {
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_op a, b;
    long out_a, out_b;
    struct probe pa, pb;
};

static void *send_two(void *arg)
{
    struct pair *p = arg;
    long items[2] = {11, 22};
    CHECK_EQ(ferry_send(p->tx, items, 2), 2); /* completes a, then b, one round */
    return NULL;
}

/* Open a channel of capacity cap, start receive ops a (older) and b with
 * the given wake functions, and start a thread whose one send completes
 * both. `m`: B's waker takes it (NULL: a hold-style waker). */
static pthread_t pair_start(struct pair *p, size_t cap, void (*wa)(void *), void (*wb)(void *),
                            pthread_mutex_t *m)
{
    memset(p, 0, sizeof *p);
    p->pb.take = m;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .name = "cancel"};
    CHECK_EQ(ferry_chan_open(&cfg, &p->tx, &p->rx), 0);
    CHECK_EQ(ferry_recv_start(p->rx, &p->a, &p->out_a, 1, (ferry_waker){wa, &p->pa}), -EINPROGRESS);
    CHECK_EQ(ferry_recv_start(p->rx, &p->b, &p->out_b, 1, (ferry_waker){wb, &p->pb}), -EINPROGRESS);
    pthread_t t;
    pthread_create(&t, NULL, send_two, p);
    return t;
}

static void pair_finish(struct pair *p, pthread_t sender)
{
    pthread_join(sender, NULL);
    ferry_tx_release(p->tx);
    ferry_rx_release(p->rx);
}

static void wait_flag(FERRY_ATOMIC(int) *f)
{
    while (!atomic_load(f))
        sched_yield();
}

/* The case: B's waker takes a user mutex M; the thread holding M
 * cancels A (already woken). The cancel must not wait for B's waker. */
static void cancel_while_sibling_waker_takes_my_mutex(size_t cap)
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    struct pair p;
    pthread_mutex_lock(&m);
    pthread_t s = pair_start(&p, cap, quick_wake, probe_wake, &m);
    wait_flag(&p.pb.in); /* B's waker runs (and blocks on m): A's has returned */
    pthread_t wd = watchdog_start(10000, "ferry_op_cancel(A) waited for B's waker (deadlock)");
    CHECK_EQ(ferry_op_cancel(&p.a), 1);
    watchdog_stop(wd);
    CHECK_EQ(p.out_a, 11);
    CHECK_EQ(atomic_load(&p.pa.calls), 1);
    pthread_mutex_unlock(&m);
    pair_finish(&p, s);
    CHECK_EQ(atomic_load(&p.pb.calls), 1);
    CHECK_EQ(ferry_op_result(&p.b), 1);
    CHECK_EQ(p.out_b, 22);
}

FERRY_TEST(cancel_does_not_wait_for_sibling_waker_holding_user_mutex)
{
    cancel_while_sibling_waker_takes_my_mutex(8);
}

FERRY_TEST(cancel_does_not_wait_for_sibling_waker_holding_user_mutex_locked_path)
{
    cancel_while_sibling_waker_takes_my_mutex(FERRY_UNBOUNDED);
}

FERRY_TEST(cancel_does_not_wait_for_sibling_waker_holding_user_mutex_rendezvous)
{
    cancel_while_sibling_waker_takes_my_mutex(0);
}

/* B's waker merely takes long: cancelling A returns while it still runs. */
FERRY_TEST(cancel_returns_while_slow_sibling_waker_runs)
{
    struct pair p;
    pthread_t s = pair_start(&p, 8, quick_wake, probe_wake, NULL);
    wait_flag(&p.pb.in);
    CHECK_EQ(ferry_op_cancel(&p.a), 1);
    /* Had the cancel waited for B's waker, B would have left it by now. */
    CHECK_MSG(atomic_load(&p.pb.out) == 0, "ferry_op_cancel(A) waited for B's wake callback");
    atomic_store(&p.pb.release, 1);
    pair_finish(&p, s);
    CHECK_EQ(atomic_load(&p.pb.calls), 1);
}

/* A's waker is stuck; B is complete but not yet woken: a cancel of B from
 * another thread takes the completion over at once (result returned, B's
 * waker never called), without waiting for A's waker. */
FERRY_TEST(cancel_takes_over_completion_queued_behind_a_slow_waker)
{
    struct pair p;
    pthread_t s = pair_start(&p, 8, probe_wake, quick_wake, NULL);
    wait_flag(&p.pa.in);
    pthread_t wd = watchdog_start(10000, "ferry_op_cancel(B) waited for A's waker (deadlock)");
    CHECK_EQ(ferry_op_cancel(&p.b), 1);
    watchdog_stop(wd);
    CHECK_EQ(p.out_b, 22);
    CHECK_EQ(ferry_op_result(&p.b), 1);
    atomic_store(&p.pa.release, 1);
    pair_finish(&p, s);
    CHECK_EQ(atomic_load(&p.pb.calls), 0); /* taken over: never woken */
    CHECK_EQ(atomic_load(&p.pa.calls), 1);
}

/* A cancel does wait for its own op's waker when that is running. */
struct canceller {
    ferry_op *op;
    struct probe *pr;
    ssize_t r;
    int waker_done_at_return;
    FERRY_ATOMIC(int) returned;
};

static void *cancel_thread(void *arg)
{
    struct canceller *c = arg;
    c->r = ferry_op_cancel(c->op);
    c->waker_done_at_return = atomic_load(&c->pr->out);
    atomic_store(&c->returned, 1);
    return NULL;
}

FERRY_TEST(cancel_waits_for_its_own_running_waker)
{
    struct pair p;
    pthread_t s = pair_start(&p, 8, probe_wake, quick_wake, NULL);
    wait_flag(&p.pa.in);
    struct canceller c = {.op = &p.a, .pr = &p.pa};
    pthread_t t;
    pthread_create(&t, NULL, cancel_thread, &c);
    ferry_test_sleep_ms(30);
    CHECK_MSG(atomic_load(&c.returned) == 0, "cancel returned while its op's waker was running");
    atomic_store(&p.pa.release, 1);
    pthread_join(t, NULL);
    CHECK_EQ(c.r, 1);
    CHECK_EQ(c.waker_done_at_return, 1);
    pair_finish(&p, s);
    CHECK_EQ(atomic_load(&p.pa.calls), 1);
}

/* ---- ops whose start failed, and never-started ops (policy item 2) ---- */

static void never(void *ctx)
{
    (void)ctx;
    CHECK_MSG(0, "a failed start called its waker");
}
static const ferry_waker NEVER = {never, NULL};

FERRY_TEST(zero_filled_op_is_never_started)
{
    ferry_op op;
    memset(&op, 0, sizeof op);
    CHECK_EQ(ferry_op_result(&op), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
}

/* Memory that no start set up, filled with a byte pattern: its state word
 * is no op's, and both calls say -EINVAL instead of following its pointers
 * (op.h). Before, ferry_op_result said -EINPROGRESS and ferry_op_cancel
 * crashed on the channel pointer 0xa5a5... */
FERRY_TEST(filled_op_is_never_started)
{
    static const unsigned char fills[] = {0x01, 0x06, 0x5a, 0xa5, 0xff};
    for (size_t i = 0; i < sizeof fills; i++) {
        ferry_op op;
        memset(&op, fills[i], sizeof op);
        CHECK_EQ(ferry_op_result(&op), -EINVAL);
        CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    }
}

FERRY_TEST(cancel_after_rejected_start_returns_the_error)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long v[2] = {0};
    ferry_op op;
    memset(&op, 0, sizeof op);
    CHECK_EQ(ferry_recv_start(rx, &op, v, 0, NEVER), -EINVAL); /* max == 0 */
    CHECK_EQ(ferry_op_result(&op), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    memset(&op, 0, sizeof op);
    CHECK_EQ(ferry_recv_start(NULL, &op, v, 1, NEVER), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    memset(&op, 0xa5, sizeof op); /* not zero-filled: the start still sets it up */
    CHECK_EQ(ferry_send_start(tx, &op, NULL, 1, NEVER), -EINVAL);
    CHECK_EQ(ferry_op_result(&op), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    CHECK_EQ(ferry_send_start(tx, &op, v, 1, (ferry_waker){NULL, NULL}), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    CHECK_EQ(ferry_send_prio_start(tx, &op, v, 1, 5, NEVER), -EINVAL);
    CHECK_EQ(ferry_op_result(&op), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(cancel_after_immediate_failure_does_not_touch_the_channel)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    ferry_rx_release(rx);
    long v = 1;
    ferry_op op;
    CHECK_EQ(ferry_send_start(tx, &op, &v, 1, NEVER), -EPIPE);
    ferry_tx_release(tx); /* the channel is gone (ASan: a touch would be a use after free) */
    CHECK_EQ(ferry_op_result(&op), -EPIPE);
    CHECK_EQ(ferry_op_cancel(&op), -EPIPE);
}

/* A pending op is linked by its address: a copy of it (memcpy'd, or the
 * struct assigned) is not on the list, whatever its links say. Cancelling
 * the copy unlinked the original's neighbours' view of the original and
 * left the channel's queue corrupt (in release builds silently; debug
 * builds said only "list corrupted"): it aborts with what went wrong. */
FERRY_DEATH_TEST(cancel_of_a_pending_op_moved_away_aborts, "was moved or copied while pending")
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long a, b;
    ferry_op first, op, moved;
    CHECK_EQ(ferry_recv_start(rx, &first, &a, 1, NEVER), -EINPROGRESS);
    CHECK_EQ(ferry_recv_start(rx, &op, &b, 1, NEVER), -EINPROGRESS);
    memcpy(&moved, &op, sizeof op);
    ferry_op_cancel(&moved);
}

/* The same for a complete op whose waker has not run yet (it is on its
 * wake round's list): a sibling's waker cancels a copy of it. */
static ferry_op taken_ops[2];
static void cancel_copy_of_sibling(void *ctx)
{
    (void)ctx;
    ferry_op copy;
    memcpy(&copy, &taken_ops[1], sizeof copy);
    ferry_op_cancel(&copy);
}

FERRY_DEATH_TEST(cancel_of_a_complete_op_moved_away_aborts, "was moved or copied while pending")
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long a, b, v[2] = {1, 2};
    CHECK_EQ(ferry_recv_start(rx, &taken_ops[0], &a, 1, (ferry_waker){cancel_copy_of_sibling, NULL}), -EINPROGRESS);
    CHECK_EQ(ferry_recv_start(rx, &taken_ops[1], &b, 1, NEVER), -EINPROGRESS);
    ferry_send(tx, v, 2); /* completes both in one round; the first waker runs first */
}
