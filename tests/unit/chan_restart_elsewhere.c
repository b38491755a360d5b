/* SPDX-License-Identifier: MIT */
/* ferry/op.h: an op started on one channel while it is still pending on
 * another aborts with a message naming the op and both channels; an op
 * that is not pending anywhere -- zero-filled, garbage, complete (its
 * waker called), completed at once, cancelled, reused -- starts on any
 * channel as usual. (Before, the start set the op up again while the
 * first channel still linked it: that channel's queue was corrupt, found
 * much later as a confusing abort or lost items.) */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "chan_test.h"

static FERRY_ATOMIC(int) wakes;
static void count_wake(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&wakes, 1);
}
static const ferry_waker W = {count_wake, NULL};

static void open_named(const char *name, size_t cap, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .name = name};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

static void close_both(ferry_tx *tx, ferry_rx *rx)
{
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* ------------------------------------------------------------------------ */
/* Pending on another channel: abort                                         */

static ferry_tx *atx, *btx;
static ferry_rx *arx, *brx;
static ferry_op pend;
static long slot[2];

/* `pend` waits on channel "alpha": a receive (nothing there) or a send
 * (alpha full). */
static void pend_on_alpha(bool send)
{
    open_named("alpha", 1, &atx, &arx);
    open_named("beta", 1, &btx, &brx);
    if (send) {
        CHECK_EQ(ferry_try_send(atx, &slot[0], 1), 1);
        CHECK_EQ(ferry_send_start(atx, &pend, &slot[1], 1, W), -EINPROGRESS);
    } else {
        CHECK_EQ(ferry_recv_start(arx, &pend, &slot[0], 1, W), -EINPROGRESS);
    }
}

FERRY_DEATH_TEST(recv_start_of_an_op_pending_elsewhere_aborts,
                 "started on channel 'beta' while it is still pending on channel 'alpha'")
{
    pend_on_alpha(false);
    ferry_recv_start(brx, &pend, &slot[1], 1, W);
}

FERRY_DEATH_TEST(send_start_of_an_op_pending_elsewhere_aborts,
                 "started on channel 'beta' while it is still pending on channel 'alpha'")
{
    pend_on_alpha(true);
    ferry_send_start(btx, &pend, &slot[0], 1, W);
}

/* The other direction and kind: a pending send restarted as a receive. */
FERRY_DEATH_TEST(recv_start_of_a_send_pending_elsewhere_aborts,
                 "started on channel 'beta' while it is still pending on channel 'alpha'")
{
    pend_on_alpha(true);
    ferry_recv_start(brx, &pend, &slot[0], 1, W);
}

FERRY_DEATH_TEST(prio_send_start_of_a_recv_pending_elsewhere_aborts,
                 "started on channel 'beta' while it is still pending on channel 'alpha'")
{
    pend_on_alpha(false);
    ferry_send_prio_start(btx, &pend, &slot[1], 1, 0, W);
}

/* A start with bad arguments would mark the op done while alpha links it. */
FERRY_DEATH_TEST(bad_start_of_an_op_pending_elsewhere_aborts,
                 "started on channel 'beta' while it is still pending on channel 'alpha'")
{
    pend_on_alpha(false);
    ferry_recv_start(brx, &pend, NULL, 1, W);
}

FERRY_DEATH_TEST(null_handle_start_of_an_op_pending_elsewhere_aborts,
                 "started with a NULL handle while it is still pending on channel 'alpha'")
{
    pend_on_alpha(true);
    ferry_send_start(NULL, &pend, &slot[0], 1, W);
}

/* ------------------------------------------------------------------------ */
/* Not pending anywhere: starts as usual                                     */

/* Start `op` as a receive on beta (empty: it links), then cancel it. */
static void start_on_beta_and_cancel(ferry_op *op)
{
    long out = 0;
    CHECK_EQ(ferry_recv_start(brx, op, &out, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_op_result(op), -EINPROGRESS);
    CHECK_EQ(ferry_op_cancel(op), 0);
}

FERRY_TEST(zero_filled_and_garbage_ops_start_anywhere)
{
    open_named("alpha", 1, &atx, &arx);
    open_named("beta", 1, &btx, &brx);
    atomic_store(&wakes, 0);
    ferry_op op;
    memset(&op, 0, sizeof op);
    start_on_beta_and_cancel(&op);
    /* Fill patterns, also with a state word that reads pending or sleeping
     * and links that name no queue of the op's channel. */
    const int fills[] = {0x01, 0xa5, 0xff, 0x00};
    for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++) {
        for (uint32_t st = 1; st <= 3; st++) {
            memset(&op, fills[i], sizeof op);
            atomic_store(&op.state, st);
            start_on_beta_and_cancel(&op);
        }
    }
    /* Garbage that points at real channels but not at a queue of its own:
     * linked "somewhere" (beta's queue) while its channel says alpha. */
    memset(&op, 0, sizeof op);
    op.chan = (struct ferry_chan *)(void *)arx;
    op.waiter.owner = (ferry_waitlist *)(void *)btx;
    atomic_store(&op.state, 1);
    start_on_beta_and_cancel(&op);
    /* A blocking op's stale frame: sleeping, unlinked (withdrawn at its
     * deadline), its channel alpha. */
    memset(&op, 0, sizeof op);
    op.chan = (struct ferry_chan *)(void *)arx;
    atomic_store(&op.state, 2);
    start_on_beta_and_cancel(&op);
    CHECK_EQ(atomic_load(&wakes), 0);
    close_both(atx, arx);
    close_both(btx, brx);
}

FERRY_TEST(ops_done_on_one_channel_start_on_another)
{
    open_named("alpha", 1, &atx, &arx);
    open_named("beta", 1, &btx, &brx);
    atomic_store(&wakes, 0);
    ferry_op op;
    long v = 7, out = 0;
    /* Completed by a sender, its waker called. */
    CHECK_EQ(ferry_recv_start(arx, &op, &out, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_send(atx, &v, 1), 1);
    CHECK_EQ(atomic_load(&wakes), 1);
    CHECK_EQ(ferry_op_result(&op), 1);
    start_on_beta_and_cancel(&op);
    /* Cancelled (withdrawn) on alpha. */
    CHECK_EQ(ferry_recv_start(arx, &op, &out, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_op_cancel(&op), 0);
    start_on_beta_and_cancel(&op);
    /* Completed at once on alpha (an item there), then a send on beta. */
    CHECK_EQ(ferry_try_send(atx, &v, 1), 1);
    CHECK_EQ(ferry_recv_start(arx, &op, &out, 1, W), 1);
    CHECK_EQ(ferry_send_start(btx, &op, &v, 1, W), 1);
    CHECK_EQ(ferry_try_recv(brx, &out, 1), 1);
    /* A send pending on alpha, completed by a receive, reused on beta, and
     * back on alpha: each op moves between channels as often as it likes. */
    CHECK_EQ(ferry_try_send(atx, &v, 1), 1);
    CHECK_EQ(ferry_send_start(atx, &op, &v, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_try_recv(arx, &out, 1), 1);
    CHECK_EQ(ferry_op_result(&op), 1);
    start_on_beta_and_cancel(&op);
    CHECK_EQ(ferry_recv_start(arx, &op, &out, 1, W), 1);
    /* A channel the op finished on is gone: it starts elsewhere all the same. */
    CHECK_EQ(ferry_recv_start(arx, &op, &out, 1, W), -EINPROGRESS);
    close_both(atx, arx); /* completes it: 0 ... or -EPIPE */
    CHECK(ferry_op_result(&op) != -EINPROGRESS);
    start_on_beta_and_cancel(&op);
    close_both(btx, brx);
}

/* An op's waker starts the op again on the other channel: complete, its
 * waker running, it is the owner's -- not pending. */
static long hop_out;
static int hops;
static void hop_wake(void *ctx)
{
    ferry_op *op = ctx;
    if (++hops < 3)
        CHECK_EQ(ferry_recv_start(hops % 2 ? brx : arx, op, &hop_out, 1, (ferry_waker){hop_wake, op}),
                 -EINPROGRESS);
}

FERRY_TEST(waker_restarts_its_op_on_another_channel)
{
    open_named("alpha", 1, &atx, &arx);
    open_named("beta", 1, &btx, &brx);
    ferry_op op;
    long v = 1;
    hops = 0;
    CHECK_EQ(ferry_recv_start(arx, &op, &hop_out, 1, (ferry_waker){hop_wake, &op}), -EINPROGRESS);
    CHECK_EQ(ferry_send(atx, &v, 1), 1); /* hop 1: now pending on beta */
    CHECK_EQ(hops, 1);
    CHECK_EQ(ferry_send(btx, &v, 1), 1); /* hop 2: now pending on alpha */
    CHECK_EQ(hops, 2);
    CHECK_EQ(ferry_send(atx, &v, 1), 1); /* hop 3: stays done */
    CHECK_EQ(hops, 3);
    CHECK_EQ(ferry_op_result(&op), 1);
    close_both(atx, arx);
    close_both(btx, brx);
}

/* The owner sees the op complete (its waker ran on another thread) and
 * starts it on the other channel: the check reads only the state word of
 * an op that is not pending (ThreadSanitizer: no race with the completer). */
static void *send_some(void *arg)
{
    long v = 3;
    for (int i = 0; i < 200; i++)
        CHECK_EQ(ferry_send(arg, &v, 1), 1);
    return NULL;
}

FERRY_TEST(owner_restarts_on_the_other_channel_after_another_thread_completed_it)
{
    open_named("alpha", 0, &atx, &arx);
    open_named("beta", 0, &btx, &brx);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, send_some, atx);
    pthread_create(&tb, NULL, send_some, btx);
    ferry_op op;
    long out = 0;
    for (int i = 0; i < 400; i++) {
        ssize_t r = ferry_recv_start(i % 2 ? brx : arx, &op, &out, 1, W);
        while (r == -EINPROGRESS && (r = ferry_op_result(&op)) == -EINPROGRESS)
            sched_yield();
        CHECK_EQ(r, 1);
        CHECK_EQ(out, 3);
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    close_both(atx, arx);
    close_both(btx, brx);
}
