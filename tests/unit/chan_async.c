/* SPDX-License-Identifier: MIT */
/* ferry/op.h: async operations (docs/async.md). */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "chan_test.h"

static FERRY_ATOMIC(int) wakes;
static void count_wake(void *ctx)
{
    CHECK_PTR_EQ(ctx, (void *)&wakes);
    atomic_fetch_add(&wakes, 1);
}
static const ferry_waker W = {count_wake, (void *)&wakes};

static void open_chan(size_t cap, unsigned levels, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .levels = levels, .name = "async"};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
    atomic_store(&wakes, 0);
}

FERRY_TEST(recv_start_immediate_never_wakes)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(8, 0, &tx, &rx);
    long in[3] = {1, 2, 3}, out[8];
    CHECK_EQ(ferry_send(tx, in, 3), 3);
    ferry_op op;
    CHECK_EQ(ferry_recv_start(rx, &op, out, 8, W), 3);
    CHECK_EQ(ferry_op_result(&op), 3);
    CHECK_EQ(ferry_op_cancel(&op), 3); /* cancelling a completed op: its result */
    CHECK_EQ(atomic_load(&wakes), 0);
    CHECK_EQ(out[2], 3);
    ferry_tx_release(tx);
    CHECK_EQ(ferry_recv_start(rx, &op, out, 8, W), 0); /* closed and drained */
    CHECK_EQ(atomic_load(&wakes), 0);
    ferry_rx_release(rx);
}

FERRY_TEST(recv_op_completed_by_sender_wakes_once)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(8, 0, &tx, &rx);
    long out[4] = {0};
    ferry_op op;
    CHECK_EQ(ferry_recv_start(rx, &op, out, 4, W), -EINPROGRESS);
    CHECK_EQ(ferry_op_result(&op), -EINPROGRESS);
    long in[6] = {1, 2, 3, 4, 5, 6};
    CHECK_EQ(ferry_send(tx, in, 6), 6); /* completes the op in place */
    CHECK_EQ(atomic_load(&wakes), 1);
    CHECK_EQ(ferry_op_result(&op), 4);
    CHECK_EQ(out[0], 1);
    CHECK_EQ(out[3], 4);
    struct ferry_chan_stats st;
    ferry_chan_stats(tx, &st);
    CHECK_EQ(st.len, 2);
    CHECK_EQ(ferry_op_cancel(&op), 4);
    CHECK_EQ(atomic_load(&wakes), 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(send_op_pending_until_all_taken)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, 0, &tx, &rx);
    long in[5] = {1, 2, 3, 4, 5}, out[8];
    ferry_op op;
    CHECK_EQ(ferry_send_start(tx, &op, in, 5, W), -EINPROGRESS); /* 2 buffered, 3 wait */
    CHECK_EQ(ferry_recv(rx, out, 1), 1);
    CHECK_EQ(ferry_op_result(&op), -EINPROGRESS);
    CHECK_EQ(atomic_load(&wakes), 0);
    CHECK_EQ(ferry_recv(rx, out + 1, 8), 4);
    CHECK_EQ(atomic_load(&wakes), 1);
    CHECK_EQ(ferry_op_result(&op), 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(out[i], i + 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(send_start_immediate)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(8, 0, &tx, &rx);
    long in[3] = {1, 2, 3};
    ferry_op op;
    CHECK_EQ(ferry_send_start(tx, &op, in, 3, W), 3);
    CHECK_EQ(ferry_op_result(&op), 3);
    CHECK_EQ(ferry_send_start(tx, &op, in, 0, W), 0);
    CHECK_EQ(atomic_load(&wakes), 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(cancel_pending_send_reports_moved)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, 0, &tx, &rx);
    long in[5] = {1, 2, 3, 4, 5}, out[8];
    ferry_op op;
    CHECK_EQ(ferry_send_start(tx, &op, in, 5, W), -EINPROGRESS);
    CHECK_EQ(ferry_recv(rx, out, 1), 1); /* moves item 3 in */
    CHECK_EQ(ferry_op_cancel(&op), 3);   /* three of five left the sender */
    CHECK_EQ(ferry_op_result(&op), 3);
    CHECK_EQ(ferry_recv(rx, out + 1, 8), 2);
    CHECK_EQ(out[2], 3);
    CHECK_EQ(ferry_try_recv(rx, out, 8), -EAGAIN); /* items 4, 5 stayed with the sender */
    CHECK_EQ(atomic_load(&wakes), 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(cancel_pending_recv_then_no_wake)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, 0, &tx, &rx);
    long out[4], v = 9;
    ferry_op op;
    CHECK_EQ(ferry_recv_start(rx, &op, out, 4, W), -EINPROGRESS);
    CHECK_EQ(ferry_op_cancel(&op), 0);
    CHECK_EQ(ferry_send(tx, &v, 1), 1); /* the cancelled op does not get it */
    CHECK_EQ(atomic_load(&wakes), 0);
    struct ferry_chan_stats st;
    ferry_chan_stats(rx, &st);
    CHECK_EQ(st.len, 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(close_completes_pending_recv_with_zero)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, 0, &tx, &rx);
    long out[4];
    ferry_op a, b;
    CHECK_EQ(ferry_recv_start(rx, &a, out, 4, W), -EINPROGRESS);
    CHECK_EQ(ferry_recv_start(rx, &b, out, 4, W), -EINPROGRESS);
    ferry_tx_release(tx);
    CHECK_EQ(atomic_load(&wakes), 2);
    CHECK_EQ(ferry_op_result(&a), 0);
    CHECK_EQ(ferry_op_result(&b), 0);
    ferry_rx_release(rx);
}

FERRY_TEST(receivers_gone_complete_pending_send)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, 0, &tx, &rx);
    long in[3] = {1, 2, 3};
    ferry_op a, b;
    CHECK_EQ(ferry_send_start(tx, &a, in, 3, W), -EINPROGRESS); /* one sent */
    CHECK_EQ(ferry_send_start(tx, &b, in, 3, W), -EINPROGRESS); /* none sent */
    ferry_rx_release(rx);
    CHECK_EQ(atomic_load(&wakes), 2);
    CHECK_EQ(ferry_op_result(&a), 1);
    CHECK_EQ(ferry_op_result(&b), -EPIPE);
    CHECK_EQ(ferry_send_start(tx, &a, in, 3, W), -EPIPE);
    ferry_tx_release(tx);
}

FERRY_TEST(tx_close_completes_pending_send)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(0, 0, &tx, &rx);
    long in[2] = {1, 2};
    ferry_op a;
    CHECK_EQ(ferry_send_start(tx, &a, in, 2, W), -EINPROGRESS);
    ferry_tx_close(tx);
    CHECK_EQ(ferry_op_result(&a), -EPIPE);
    CHECK_EQ(atomic_load(&wakes), 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

struct heap_op {
    ferry_op op;
    long out[2];
    ssize_t *result;
};

static void free_on_wake(void *ctx)
{
    struct heap_op *h = ctx;
    *h->result = ferry_op_result(&h->op); /* complete when woken */
    free(h);                              /* the channel never touches it again */
}

FERRY_TEST(wake_callback_may_free_op)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, 0, &tx, &rx);
    ssize_t results[16];
    for (int i = 0; i < 16; i++) {
        struct heap_op *h = malloc(sizeof *h);
        h->result = &results[i];
        results[i] = -EINPROGRESS;
        ferry_waker w = {free_on_wake, h};
        CHECK_EQ(ferry_recv_start(rx, &h->op, h->out, 2, w), -EINPROGRESS);
    }
    long in[32];
    for (int i = 0; i < 32; i++)
        in[i] = i;
    CHECK_EQ(ferry_send(tx, in, 32), 32); /* 2 to each of 16 ops */
    for (int i = 0; i < 16; i++)
        CHECK_EQ(results[i], 2);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(async_send_carries_level)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, 4, &tx, &rx);
    long lo[2] = {1, 2}, hi[2] = {30, 31}, out[4];
    CHECK_EQ(ferry_send(tx, lo, 2), 2);
    ferry_op op;
    CHECK_EQ(ferry_send_prio_start(tx, &op, hi, 2, 4, W), -EINVAL);
    CHECK_EQ(ferry_send_prio_start(tx, &op, hi, 2, 3, W), -EINPROGRESS);
    CHECK_EQ(ferry_recv(rx, out, 2), 2); /* the buffered low items; hi moves in */
    CHECK_EQ(out[0], 1);
    CHECK_EQ(ferry_op_result(&op), 2);
    CHECK_EQ(ferry_recv(rx, out, 4), 2);
    CHECK_EQ(out[0], 30);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(start_rejects_bad_arguments)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, 0, &tx, &rx);
    long v[2];
    ferry_op op;
    ferry_waker none = {NULL, NULL};
    CHECK_EQ(ferry_recv_start(rx, NULL, v, 1, W), -EINVAL);
    CHECK_EQ(ferry_recv_start(rx, &op, NULL, 1, W), -EINVAL);
    CHECK_EQ(ferry_recv_start(rx, &op, v, 0, W), -EINVAL);
    CHECK_EQ(ferry_recv_start(rx, &op, v, 1, none), -EINVAL);
    CHECK_EQ(ferry_send_start(tx, NULL, v, 1, W), -EINVAL);
    CHECK_EQ(ferry_send_start(tx, &op, NULL, 1, W), -EINVAL);
    CHECK_EQ(ferry_send_start(tx, &op, v, 1, none), -EINVAL);
    CHECK_EQ(ferry_op_cancel(NULL), -EINVAL);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* A blocking receiver and an async sender meet on a rendezvous channel. */
static void *blocking_recv(void *arg)
{
    ferry_rx *rx = arg;
    long out[8];
    long sum = 0;
    ssize_t r;
    while ((r = ferry_recv(rx, out, 8)) > 0)
        for (ssize_t i = 0; i < r; i++)
            sum += out[i];
    return (void *)(intptr_t)sum;
}

FERRY_TEST(async_send_blocking_recv_rendezvous)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(0, 0, &tx, &rx);
    pthread_t t;
    pthread_create(&t, NULL, blocking_recv, rx);
    long in[100];
    long want = 0;
    for (int i = 0; i < 100; i++)
        want += in[i] = i;
    for (int i = 0; i < 100; i += 10) {
        ferry_op op;
        ssize_t r = ferry_send_start(tx, &op, in + i, 10, W);
        if (r == -EINPROGRESS) {
            while ((r = ferry_op_result(&op)) == -EINPROGRESS)
                sched_yield();
        }
        CHECK_EQ(r, 10);
    }
    ferry_tx_release(tx);
    void *sum;
    pthread_join(t, &sum);
    CHECK_EQ((intptr_t)sum, want);
    ferry_rx_release(rx);
}

/* ---- regressions: cancelling from wake callbacks, release while waking ---- */

static ferry_op sib1, sib2;
static long sib_b1, sib_b2;
static ssize_t sib_cancel_result;
static FERRY_ATOMIC(int) sib2_woken;
static void sib_wake1(void *ctx)
{
    (void)ctx;
    /* "First one wins": op2 was completed in the same round, not yet woken. */
    sib_cancel_result = ferry_op_cancel(&sib2);
}
static void sib_wake2(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&sib2_woken, 1);
}

FERRY_TEST(wake_callback_cancels_sibling_op_of_same_round)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, 0, &tx, &rx);
    CHECK_EQ(ferry_recv_start(rx, &sib1, &sib_b1, 1, (ferry_waker){sib_wake1, NULL}), -EINPROGRESS);
    CHECK_EQ(ferry_recv_start(rx, &sib2, &sib_b2, 1, (ferry_waker){sib_wake2, NULL}), -EINPROGRESS);
    long x[2] = {1, 2};
    CHECK_EQ(ferry_send(tx, x, 2), 2); /* completes both, wakes both on this thread */
    CHECK_EQ(sib_cancel_result, 1);    /* op2 had its item: reported, not lost */
    CHECK_EQ(sib_b2, 2);
    CHECK_EQ(atomic_load(&sib2_woken), 0); /* and its waker never ran */
    CHECK_EQ(ferry_op_result(&sib1), 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

static ferry_op self_op;
static ssize_t self_cancel_result = -1;
static void self_cancel_wake(void *ctx)
{
    (void)ctx;
    self_cancel_result = ferry_op_cancel(&self_op); /* its own, completed op */
}

FERRY_TEST(wake_callback_cancels_its_own_op)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, 0, &tx, &rx);
    long out[2];
    CHECK_EQ(ferry_recv_start(rx, &self_op, out, 2, (ferry_waker){self_cancel_wake, NULL}), -EINPROGRESS);
    long v = 5;
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    CHECK_EQ(self_cancel_result, 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* A waker that runs inside another op's *_start cancels that op (B) before
 * the start has returned. Not linked (the start completes B at once):
 * nothing to withdraw, the cancel returns -EINPROGRESS and changes nothing;
 * the start returns B's result, B's waker never runs. Linked (B is pending
 * when the waker runs): the cancel withdraws it as any pending op; the
 * start still returns -EINPROGRESS. */
static ferry_op in_start_a, in_start_b;
static ssize_t in_start_cancel = 1234, in_start_result = 1234;
static FERRY_ATOMIC(int) in_start_a_woken, in_start_b_woken;
static void in_start_wake_a(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&in_start_a_woken, 1);
    in_start_cancel = ferry_op_cancel(&in_start_b);
    in_start_result = ferry_op_result(&in_start_b);
}
static void in_start_wake_b(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&in_start_b_woken, 1);
}

static void in_start_reset(void)
{
    in_start_cancel = in_start_result = 1234;
    atomic_store(&in_start_a_woken, 0);
    atomic_store(&in_start_b_woken, 0);
}

/* A: a pending receive of up to 1 item; B: a send of n items that A's
 * completion happens inside. */
static ssize_t cancel_inside_send_start(size_t cap, unsigned levels, size_t n, long *got)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(cap, levels, &tx, &rx);
    in_start_reset();
    *got = 0;
    CHECK_EQ(ferry_recv_start(rx, &in_start_a, got, 1, (ferry_waker){in_start_wake_a, NULL}), -EINPROGRESS);
    static const long items[2] = {41, 42};
    ssize_t r = ferry_send_start(tx, &in_start_b, items, n, (ferry_waker){in_start_wake_b, NULL});
    CHECK_EQ(atomic_load(&in_start_a_woken), 1);
    CHECK_EQ(ferry_op_result(&in_start_a), 1);
    CHECK_EQ(*got, 41);
    CHECK_EQ(atomic_load(&in_start_b_woken), 0);
    struct ferry_chan_stats st = stats(tx);
    CHECK_EQ(st.items_sent, 1);
    CHECK_EQ(st.items_received, 1);
    CHECK_EQ(st.len, 0); /* a withdrawn B left nothing behind */
    long more;
    CHECK_EQ(ferry_try_recv(rx, &more, 1), -EAGAIN);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    CHECK_EQ(atomic_load(&in_start_b_woken), 0);
    return r;
}

FERRY_TEST(wake_callback_cancels_op_whose_start_completes_it_at_once)
{
    /* Rendezvous, the lock-free ring, the locked path with levels. */
    static const size_t caps[] = {0, 1, 4};
    static const unsigned levels[] = {0, 0, 2};
    for (int k = 0; k < 3; k++) {
        long got;
        CHECK_EQ(cancel_inside_send_start(caps[k], levels[k], 1, &got), 1); /* the count: nothing lost */
        CHECK_EQ(in_start_cancel, -EINPROGRESS);                            /* B's start had not returned */
        CHECK_EQ(in_start_result, -EINPROGRESS);
        CHECK_EQ(ferry_op_result(&in_start_b), 1); /* afterwards: the start's result */
        CHECK_EQ(ferry_op_cancel(&in_start_b), 1); /* and no channel touched (it is gone) */
    }
}

FERRY_TEST(wake_callback_cancels_op_that_its_start_left_pending)
{
    /* B sends 2 on a rendezvous channel: A takes 1, B waits for the second
     * and is linked before the round wakes A; A's waker withdraws B. */
    long got;
    CHECK_EQ(cancel_inside_send_start(0, 0, 2, &got), -EINPROGRESS);
    CHECK_EQ(in_start_cancel, 1); /* withdrawn: 1 of its 2 items had moved */
    CHECK_EQ(in_start_result, 1);
    CHECK_EQ(ferry_op_result(&in_start_b), 1);
    CHECK_EQ(ferry_op_cancel(&in_start_b), 1);
}

/* The same from the receiving side: A a pending send of 1, B a receive whose
 * start takes A's item at once. */
FERRY_TEST(wake_callback_cancels_recv_whose_start_completes_it_at_once)
{
    static const size_t caps[] = {0, 1};
    for (int k = 0; k < 2; k++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_chan(caps[k], 0, &tx, &rx);
        in_start_reset();
        long fill = 40, item = 41, got[2] = {0, 0};
        if (caps[k] == 1)
            CHECK_EQ(ferry_send(tx, &fill, 1), 1); /* A must wait behind a full ring */
        CHECK_EQ(ferry_send_start(tx, &in_start_a, &item, 1, (ferry_waker){in_start_wake_a, NULL}), -EINPROGRESS);
        ssize_t r = ferry_recv_start(rx, &in_start_b, got, 2, (ferry_waker){in_start_wake_b, NULL});
        CHECK_EQ(atomic_load(&in_start_a_woken), 1);
        CHECK_EQ(ferry_op_result(&in_start_a), 1);
        CHECK_EQ(in_start_cancel, -EINPROGRESS);
        CHECK_EQ(in_start_result, -EINPROGRESS);
        /* Nothing lost: the ring's item (if any), then A's, taken from A. */
        ssize_t want = caps[k] == 0 ? 1 : 2;
        CHECK_EQ(r, want);
        CHECK_EQ(got[want - 1], 41);
        if (want == 2)
            CHECK_EQ(got[0], 40);
        CHECK_EQ(stats(tx).len, 0);
        CHECK_EQ(ferry_op_result(&in_start_b), want);
        CHECK_EQ(ferry_op_cancel(&in_start_b), want);
        CHECK_EQ(atomic_load(&in_start_b_woken), 0);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

static FERRY_ATOMIC(int) slow_woken;
static void slow_wake(void *ctx)
{
    (void)ctx;
    atomic_store(&slow_woken, 1);
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL); /* legal: the releasing thread is still waking */
}

static void *release_tx(void *arg)
{
    ferry_tx_release(arg);
    return NULL;
}

FERRY_TEST(release_other_side_while_last_release_is_still_waking)
{
    /* The last sender's release completes a pending receive and is still in
     * its wake round when the receiver, seeing the op complete, releases the
     * last receiver. The channel must outlive the waking thread (ASan). */
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, 0, &tx, &rx);
    ferry_op op;
    long out;
    atomic_store(&slow_woken, 0);
    CHECK_EQ(ferry_recv_start(rx, &op, &out, 1, (ferry_waker){slow_wake, NULL}), -EINPROGRESS);
    pthread_t t;
    pthread_create(&t, NULL, release_tx, tx);
    while (!atomic_load(&slow_woken))
        sched_yield();
    CHECK_EQ(ferry_op_result(&op), 0);
    ferry_rx_release(rx);
    pthread_join(t, NULL);
}

/* Starting an op again while it is pending would link it twice (a corrupt
 * wait queue, found much later): the start aborts with a message instead,
 * for a receive and for a send, also when the second start's arguments are
 * bad (a rejected start must not mark the pending op done either). */
FERRY_DEATH_TEST(recv_start_of_a_pending_op_aborts, "started again while it is pending")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(0, 1, &tx, &rx);
    ferry_op op;
    long out;
    CHECK_EQ(ferry_recv_start(rx, &op, &out, 1, W), -EINPROGRESS);
    ferry_recv_start(rx, &op, &out, 1, W);
}

FERRY_DEATH_TEST(send_start_of_a_pending_op_aborts, "started again while it is pending")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, 1, &tx, &rx);
    long v = 7;
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    ferry_op op;
    CHECK_EQ(ferry_send_start(tx, &op, &v, 1, W), -EINPROGRESS);
    ferry_send_start(tx, &op, NULL, 1, W); /* bad arguments too */
}

/* An op that is complete but whose waker has not been called yet (queued
 * in its round behind another op's waker) is still pending to its owner
 * (ferry_op_result says -EINPROGRESS): starting it again aborts with the
 * same message. Before, the start re-linked an op that was still on its
 * round's list (a corrupt list: a debug build's poisoned node, a release
 * build's silent damage). Here the first op's waker restarts the second. */
static ferry_rx *restart_rx;
static ferry_op restart_ops[2];
static long restart_out[3];

static void restart_sibling(void *ctx)
{
    (void)ctx;
    CHECK_EQ(ferry_op_result(&restart_ops[1]), -EINPROGRESS);
    ferry_recv_start(restart_rx, &restart_ops[1], &restart_out[2], 1, W);
}

FERRY_DEATH_TEST(recv_start_of_an_op_waiting_for_its_waker_aborts, "started again while it is pending")
{
    ferry_tx *tx;
    open_chan(0, 1, &tx, &restart_rx);
    CHECK_EQ(ferry_recv_start(restart_rx, &restart_ops[0], &restart_out[0], 1,
                              (ferry_waker){restart_sibling, NULL}),
             -EINPROGRESS);
    CHECK_EQ(ferry_recv_start(restart_rx, &restart_ops[1], &restart_out[1], 1, W), -EINPROGRESS);
    long v[2] = {1, 2};
    ferry_send(tx, v, 2); /* completes both; the first waker runs first */
}

/* The check does not reject an op that finished, was cancelled, or holds
 * garbage: each of those starts again normally. */
FERRY_TEST(restart_after_completion_cancel_or_garbage)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(0, 1, &tx, &rx);
    ferry_op op;
    long out = 0, v = 5;
    CHECK_EQ(ferry_recv_start(rx, &op, &out, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    CHECK_EQ(ferry_op_result(&op), 1);
    CHECK_EQ(out, 5);
    CHECK_EQ(ferry_recv_start(rx, &op, &out, 1, W), -EINPROGRESS); /* completed: fine */
    CHECK_EQ(ferry_op_cancel(&op), 0);
    CHECK_EQ(ferry_recv_start(rx, &op, &out, 1, W), -EINPROGRESS); /* cancelled: fine */
    CHECK_EQ(ferry_op_cancel(&op), 0);
    memset(&op, 0x01, sizeof op); /* garbage whose state reads "pending" */
    atomic_store(&op.state, 1);
    CHECK_EQ(ferry_recv_start(rx, &op, &out, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_op_cancel(&op), 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* Wakers that nest: tests/unit/chan_nest.c. */
