/* SPDX-License-Identifier: MIT */
/* A thread cancelled inside a callback that a channel call runs: a weigh
 * or drop callback (under the channel's lock), or the waker of an async op
 * that the call completed. Such a callback may well reach a cancellation
 * point (a drop that logs, a waker that writes to an eventfd). The channel
 * holds cancellation off while it runs them (ferry/chan.h, "Signals and
 * cancellation"): the request acts at the thread's next cancellation point
 * after the call returned, the lock is free, every buffered item reaches
 * drop, and every op the call completed has its waker called. */
#include <errno.h>
#include <ferry/op.h>
#include <ferry/select.h>
#include <pthread.h>

#include "cancel_inside.h"
#include "chan_test.h"

#define ITEMS 8

static ferry_tx *tx;
static ferry_rx *rx;
static FERRY_ATOMIC(int) dropped, weighed, woken;
static FERRY_ATOMIC(int) returned; /* the victim's call returned */
static ssize_t result;
static size_t nsend = ITEMS; /* how many items the sending victim sends */

/* The first call of each callback reaches a cancellation point. */
static void drop_cb(void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    if (atomic_fetch_add(&dropped, 1) == 0)
        ferry_test_cancel_me();
}

static int cancel_at_weigh; /* the weigh call (from 0) that is cancelled */
static size_t weigh_cb(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    if (atomic_fetch_add(&weighed, 1) == cancel_at_weigh)
        ferry_test_cancel_me();
    return 1;
}

static void wake_cb(void *ctx)
{
    (void)ctx;
    if (atomic_fetch_add(&woken, 1) == 0)
        ferry_test_cancel_me();
}

/* Another thread's call must get the channel's lock: it runs on a helper
 * thread, given 10 s. */
static FERRY_ATOMIC(int) probe_done;
static void *probe(void *arg)
{
    (void)arg;
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(tx, &st), 0);
    atomic_store(&probe_done, 1);
    return NULL;
}

static void check_lock_free(void)
{
    atomic_store(&probe_done, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, probe, NULL), 0);
    for (int i = 0; i < 1000 && !atomic_load(&probe_done); i++)
        ferry_test_sleep_ms(10);
    CHECK_MSG(atomic_load(&probe_done), "the channel's lock is still held by the cancelled thread");
    CHECK_EQ(pthread_join(t, NULL), 0);
}

static void open_with(size_t cap, unsigned levels, size_t budget, bool weigh)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .levels = levels, .budget = budget,
                             .weigh = weigh ? weigh_cb : NULL, .drop = drop_cb, .name = "cancel-inside"};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    atomic_store(&dropped, 0);
    atomic_store(&weighed, 0);
    atomic_store(&woken, 0);
    atomic_store(&returned, 0);
    cancel_at_weigh = 0;
}

/* The victims: one call each, in a frame that returns normally (a thread
 * unwound through a frame with address-taken locals leaves AddressSanitizer's
 * redzones behind); the pending request acts at the pthread_testcancel
 * after it. */
static void (*victim_call)(void);
static void *victim(void *arg)
{
    (void)arg;
    victim_call();
    pthread_testcancel();
    return NULL;
}
static void cancel_inside(void (*call)(void))
{
    victim_call = call;
    ferry_test_cancel_inside(victim);
}

__attribute__((noinline)) static void release_rx(void)
{
    ferry_rx_release(rx);
    atomic_store(&returned, 1);
}

static void drop_case(size_t cap, unsigned levels)
{
    open_with(cap, levels, 0, false);
    long v[ITEMS] = {0};
    CHECK_EQ(ferry_send(tx, v, ITEMS), ITEMS);
    cancel_inside(release_rx);
    CHECK_MSG(atomic_load(&returned), "ferry_rx_release was cut short by the cancellation");
    CHECK_EQ(atomic_load(&dropped), ITEMS); /* every buffered item reached drop */
    check_lock_free();
    CHECK_EQ(ferry_send(tx, v, 1), -EPIPE);
    ferry_tx_release(tx);
}

FERRY_TEST(cancelled_inside_drop_ring) { drop_case(16, 1); }
FERRY_TEST(cancelled_inside_drop_list) { drop_case(FERRY_UNBOUNDED, 1); }
FERRY_TEST(cancelled_inside_drop_locked) { drop_case(16, 2); }

__attribute__((noinline)) static void send_items(void)
{
    long v[ITEMS] = {1, 2, 3, 4, 5, 6, 7, 8};
    result = ferry_send(tx, v, nsend);
    atomic_store(&returned, 1);
}

FERRY_TEST(cancelled_inside_weigh)
{
    open_with(16, 1, 1000, true);
    nsend = ITEMS;
    cancel_inside(send_items);
    CHECK_MSG(atomic_load(&returned), "ferry_send was cut short by the cancellation");
    CHECK_EQ(result, ITEMS);
    check_lock_free();
    long out[ITEMS];
    CHECK_EQ(ferry_try_recv(rx, out, ITEMS), ITEMS);
    for (int i = 0; i < ITEMS; i++)
        CHECK_EQ(out[i], i + 1);
    CHECK_EQ(stats(tx).weight, 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* A select's send case on a channel whose budget is spent (with a receive
 * case on an idle channel, so that the cases claim): its try pass weighs
 * the item and finds no room, then its start weighs it again before it
 * would claim (the path's room check): that weigh is cancelled. The select
 * then waits until its deadline. */
static ferry_tx *idle_tx;
static ferry_rx *idle_rx;
__attribute__((noinline)) static void select_send(void)
{
    long v = 5, out = 0;
    ferry_select_case cs[2] = {{.op = FERRY_SELECT_RECV, .rx = idle_rx, .buf = &out, .n = 1},
                               {.op = FERRY_SELECT_SEND, .tx = tx, .buf = &v, .n = 1}};
    struct timespec dl = ferry_deadline_in_ms(50);
    result = ferry_select_until(cs, 2, &dl);
    atomic_store(&returned, 1);
}

FERRY_TEST(cancelled_inside_weigh_of_a_select_case)
{
    open_with(16, 1, 1, true);
    cancel_at_weigh = 2;
    long one = 9;
    CHECK_EQ(ferry_send(tx, &one, 1), 1); /* weigh call 0: the budget is spent */
    ferry_chan_config idle = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&idle, &idle_tx, &idle_rx), 0);
    cancel_inside(select_send);
    CHECK_MSG(atomic_load(&returned), "ferry_select_until was cut short by the cancellation");
    CHECK_EQ(result, -ETIMEDOUT);
    CHECK_EQ(atomic_load(&weighed), 3);
    check_lock_free();
    long out[2];
    CHECK_EQ(ferry_try_recv(rx, out, 2), 1);
    CHECK_EQ(out[0], 9);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    ferry_tx_release(idle_tx);
    ferry_rx_release(idle_rx);
}

/* Async receives pending on a channel; the victim's send completes them
 * all, and their wakers run on the victim's thread (a rendezvous channel
 * takes no more than the receivers wait for). */
#define OPS 4
static ferry_op ops[OPS];
static long outs[OPS];

static void wakers_case(size_t cap)
{
    open_with(cap, 1, 0, false);
    nsend = cap == 0 ? OPS : ITEMS;
    for (int i = 0; i < OPS; i++)
        CHECK_EQ(ferry_recv_start(rx, &ops[i], &outs[i], 1, (ferry_waker){wake_cb, NULL}), -EINPROGRESS);
    cancel_inside(send_items);
    CHECK_MSG(atomic_load(&returned), "ferry_send was cut short by the cancellation");
    CHECK_EQ(result, (ssize_t)nsend);
    CHECK_EQ(atomic_load(&woken), OPS); /* every completed op's waker ran */
    long seen = 0;
    for (int i = 0; i < OPS; i++) {
        /* Each result is final, and its cancel returns at once. */
        CHECK_EQ(ferry_op_result(&ops[i]), 1);
        CHECK_EQ(ferry_op_cancel(&ops[i]), 1);
        seen += outs[i];
    }
    CHECK_EQ(seen, 1 + 2 + 3 + 4);
    check_lock_free();
    long out[ITEMS];
    if (cap == 0)
        CHECK_EQ(ferry_try_recv(rx, out, ITEMS), -EAGAIN);
    else
        CHECK_EQ(ferry_try_recv(rx, out, ITEMS), ITEMS - OPS);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(cancelled_inside_a_waker_rendezvous) { wakers_case(0); }
FERRY_TEST(cancelled_inside_a_waker_ring) { wakers_case(16); }
FERRY_TEST(cancelled_inside_a_waker_list) { wakers_case(FERRY_UNBOUNDED); }
