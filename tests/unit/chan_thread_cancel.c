/* SPDX-License-Identifier: MIT */
/* pthread_cancel of a thread blocked in a channel call (ferry/chan.h,
 * "Signals and cancellation"). No channel call is a cancellation point:
 * the waiter lives in the call's stack frame, linked on the channel, and a
 * thread that died there would leave it linked. The cancellation stays
 * pending until the thread's next cancellation point, after the call
 * returned with what it moved: the item that ends the wait is received by
 * the cancelled thread, not lost, and the channel is left clean (nothing
 * buffered, nobody waiting, still working). */
#include <errno.h>
#include <ferry/select.h>
#include <pthread.h>
#include <sched.h>

#include "chan_test.h"

enum how { RECV, RECV_UNTIL, SELECT_RECV, SEND, SEND_UNTIL, SELECT_SEND };

static ferry_tx *tx;
static ferry_rx *rx;
static FERRY_ATOMIC(int) started, returned;
static ssize_t result;
static long got;

/* The call, in a frame of its own that returns normally (a thread unwound
 * by cancellation through a frame with address-taken locals leaves
 * AddressSanitizer's redzones behind). */
__attribute__((noinline)) static void call(enum how how)
{
    struct timespec far = ferry_deadline_in_ms(60000);
    long v = 7, out = 0;
    ferry_select_case cs[1];
    atomic_store(&started, 1);
    switch (how) {
    case RECV:
        result = ferry_recv(rx, &out, 1);
        break;
    case RECV_UNTIL:
        result = ferry_recv_until(rx, &out, 1, &far);
        break;
    case SELECT_RECV:
        cs[0] = (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = rx, .buf = &out, .n = 1};
        result = ferry_select(cs, 1) == 0 ? cs[0].result : -1000;
        break;
    case SEND:
        result = ferry_send(tx, &v, 1);
        break;
    case SEND_UNTIL:
        result = ferry_send_until(tx, &v, 1, &far);
        break;
    case SELECT_SEND:
        cs[0] = (ferry_select_case){.op = FERRY_SELECT_SEND, .tx = tx, .buf = &v, .n = 1};
        result = ferry_select(cs, 1) == 0 ? cs[0].result : -1000;
        break;
    }
    got = out;
    atomic_store(&returned, 1);
}

static void *victim(void *arg)
{
    call((enum how)(intptr_t)arg);
    pthread_testcancel(); /* the pending cancellation acts here */
    return NULL;
}

static void cancel_while_blocked(enum how how, size_t cap)
{
    bool sends = how == SEND || how == SEND_UNTIL || how == SELECT_SEND;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .name = "cancel"};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long fill = 1;
    if (sends)
        for (size_t i = 0; i < cap; i++)
            CHECK_EQ(ferry_try_send(tx, &fill, 1), 1);
    atomic_store(&started, 0);
    atomic_store(&returned, 0);
    result = 0;
    got = 0;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, victim, (void *)(intptr_t)how), 0);
    wait_blocked(tx, sends ? 0 : 1, sends ? 1 : 0);
    CHECK_EQ(pthread_cancel(t), 0);
    ferry_test_sleep_ms(20);
    CHECK_MSG(!atomic_load(&returned), "the victim returned without being woken");
    long v = 42, out[2] = {0, 0};
    if (sends) {
        /* Take the buffered items, then the victim's. */
        for (size_t i = 0; i < cap; i++)
            CHECK_EQ(ferry_recv(rx, out, 1), 1);
        CHECK_EQ(ferry_recv(rx, out, 1), 1);
        CHECK_EQ(out[0], 7);
    } else {
        CHECK_EQ(ferry_send(tx, &v, 1), 1);
    }
    void *ret;
    CHECK_EQ(pthread_join(t, &ret), 0);
    CHECK(ret == PTHREAD_CANCELED);
    CHECK_MSG(atomic_load(&returned), "the victim died inside the call (a cancellation point)");
    CHECK_EQ(result, 1);
    if (!sends)
        CHECK_EQ(got, 42);
    /* Clean: nothing buffered, and the channel still works both ways. */
    CHECK_EQ(stats(tx).len, 0);
    CHECK_EQ(ferry_try_recv(rx, out, 2), -EAGAIN);
    if (cap > 0) {
        CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
        CHECK_EQ(ferry_try_recv(rx, out, 2), 1);
    } else {
        CHECK_EQ(ferry_try_send(tx, &v, 1), -EAGAIN); /* no receiver left waiting */
    }
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(cancel_during_recv_acts_after_it_returns) { cancel_while_blocked(RECV, 4); }
FERRY_TEST(cancel_during_recv_until_acts_after_it_returns) { cancel_while_blocked(RECV_UNTIL, 0); }
FERRY_TEST(cancel_during_select_recv_acts_after_it_returns) { cancel_while_blocked(SELECT_RECV, FERRY_UNBOUNDED); }
FERRY_TEST(cancel_during_send_acts_after_it_returns) { cancel_while_blocked(SEND, 0); }
FERRY_TEST(cancel_during_send_until_acts_after_it_returns) { cancel_while_blocked(SEND_UNTIL, 2); }
FERRY_TEST(cancel_during_select_send_acts_after_it_returns) { cancel_while_blocked(SELECT_SEND, 1); }
