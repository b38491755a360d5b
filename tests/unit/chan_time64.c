/* SPDX-License-Identifier: MIT */
/* Channel, select and deadline calls from a program built with a 64-bit
 * time_t (_TIME_BITS=64) on a 32-bit target whose default is 32 bits (the
 * m32 build: i386 glibc). Its struct timespec is { 64-bit tv_sec, tv_nsec,
 * padding }, and the library read it as two 32-bit words: a deadline cut to
 * its whole second (a timeout up to a second early), and time_t's maximum,
 * which never comes, taken for a bad tv_nsec (-EINVAL, nothing moved);
 * ferry_deadline_in_ms returned two 32-bit words into a 16-byte struct
 * (garbage). The headers now call the _time64 entry points there
 * (ferry/chan.h, after ferry_recv_until). On targets where time_t has 64
 * bits already this program is an ordinary one and checks the same.
 *
 * This file does not use the harness's time helpers: they take the
 * harness's own struct timespec (32-bit time_t in the m32 build). */
#define _TIME_BITS 64
#define _FILE_OFFSET_BITS 64
#include <ferry/chan.h>
#include <ferry/deadline.h>
#include <ferry/select.h>
#include <ferry/typed.h>

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define TIME_MAX ((time_t)(sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX))

static struct timespec mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

static bool reached(const struct timespec *d)
{
    struct timespec now = mono_now();
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* A deadline 0.2 s ahead, with a tv_nsec that is not 0 (cut to its whole
 * second, it would be up to a second earlier). */
static struct timespec soon(void)
{
    struct timespec t = mono_now();
    int64_t ns = t.tv_nsec + 200000000;
    t.tv_sec += (time_t)(ns / 1000000000);
    t.tv_nsec = (long)(ns % 1000000000);
    if (t.tv_nsec == 0)
        t.tv_nsec = 1;
    return t;
}

static void open_chan(size_t cap, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(int), .capacity = cap, .levels = 2};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

FERRY_TEST(timeouts_never_before_the_deadline)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    int v = 7, out;
    struct timespec d = soon();
    CHECK_EQ(ferry_recv_until(rx, &out, 1, &d), -ETIMEDOUT);
    CHECK_MSG(reached(&d), "ferry_recv_until timed out before its deadline");

    CHECK_EQ(ferry_try_send(tx, &v, 1), 1); /* full now */
    d = soon();
    CHECK_EQ(ferry_send_until(tx, &v, 1, &d), -ETIMEDOUT);
    CHECK_MSG(reached(&d), "ferry_send_until timed out before its deadline");
    d = soon();
    CHECK_EQ(ferry_send_prio_until(tx, &v, 1, 1, &d), -ETIMEDOUT);
    CHECK_MSG(reached(&d), "ferry_send_prio_until timed out before its deadline");

    CHECK_EQ(ferry_try_recv(rx, &out, 1), 1);
    CHECK_EQ(out, 7);
    ferry_select_case c = {.op = FERRY_SELECT_RECV, .rx = rx, .buf = &out, .n = 1};
    d = soon();
    CHECK_EQ(ferry_select_until(&c, 1, &d), -ETIMEDOUT);
    CHECK_MSG(reached(&d), "ferry_select_until timed out before its deadline");
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* A deadline that never comes (time_t's maximum) waits for the item; a bad
 * tv_nsec is -EINVAL and moves nothing; NULL waits as the call without
 * _until. */
struct late_send {
    ferry_tx *tx;
};

static void *send_later(void *arg)
{
    struct late_send *a = arg;
    usleep(50000);
    int v = 42;
    CHECK_EQ(ferry_send(a->tx, &v, 1), 1);
    return NULL;
}

static void recv_with(ferry_tx *tx, ferry_rx *rx, const struct timespec *d, int which)
{
    struct late_send a = {tx};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, send_later, &a), 0);
    int out = 0;
    if (which == 0) {
        CHECK_EQ(ferry_recv_until(rx, &out, 1, d), 1);
    } else {
        ferry_select_case c = {.op = FERRY_SELECT_RECV, .rx = rx, .buf = &out, .n = 1};
        CHECK_EQ(ferry_select_until(&c, 1, d), 0);
        CHECK_EQ(c.result, 1);
    }
    CHECK_EQ(out, 42);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

FERRY_TEST(far_and_null_deadlines_wait_bad_ones_are_rejected)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    struct timespec never = {TIME_MAX, 999999999};
    struct timespec far = {(time_t)(sizeof(time_t) == 8 ? (int64_t)1 << 40 : INT32_MAX), 5};
    for (int which = 0; which < 2; which++) {
        recv_with(tx, rx, &never, which);
        recv_with(tx, rx, &far, which);
        recv_with(tx, rx, NULL, which);
    }
    struct timespec bad = mono_now();
    bad.tv_nsec = 1000000000;
    int v = 1, out;
    CHECK_EQ(ferry_recv_until(rx, &out, 1, &bad), -EINVAL);
    CHECK_EQ(ferry_send_until(tx, &v, 1, &bad), -EINVAL);
    CHECK_EQ(ferry_send_prio_until(tx, &v, 1, 1, &bad), -EINVAL);
    ferry_select_case c = {.op = FERRY_SELECT_RECV, .rx = rx, .buf = &out, .n = 1};
    CHECK_EQ(ferry_select_until(&c, 1, &bad), -EINVAL);
    CHECK_EQ(ferry_try_recv(rx, &out, 1), -EAGAIN); /* nothing was sent */
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(deadline_in_returns_this_programs_timespec)
{
    struct timespec before = mono_now();
    struct timespec d = ferry_deadline_in_ms(1500);
    struct timespec after = mono_now();
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
    CHECK(d.tv_sec >= before.tv_sec + 1 && d.tv_sec <= after.tv_sec + 2);
    d = ferry_deadline_in(250000000);
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
    CHECK(d.tv_sec >= before.tv_sec && d.tv_sec <= after.tv_sec + 1);
    /* Saturated: the latest time the library holds, which never comes. */
    d = ferry_deadline_in_ms(INT64_MAX);
    CHECK(d.tv_sec >= INT32_MAX);
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
    d = ferry_deadline_in_ms(INT64_MIN);
    CHECK(d.tv_sec <= INT32_MIN);
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
    /* And it works as a deadline. */
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    int out;
    d = ferry_deadline_in_ms(200);
    CHECK_EQ(ferry_recv_until(rx, &out, 1, &d), -ETIMEDOUT);
    CHECK(reached(&d));
    d = ferry_deadline_in_ms(INT64_MAX);
    recv_with(tx, rx, &d, 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_CHAN_TYPED(ints, int);

FERRY_TEST(typed_wrappers_take_this_programs_deadline)
{
    ints_tx *tx;
    ints_rx *rx;
    ferry_chan_config cfg = {.capacity = 1};
    CHECK_EQ(ints_open(&cfg, &tx, &rx), 0);
    int v = 3, out;
    struct timespec d = soon();
    CHECK_EQ(ints_recv_until(rx, &out, 1, &d), -ETIMEDOUT);
    CHECK(reached(&d));
    CHECK_EQ(ints_send_until(tx, &v, 1, &d), 1); /* room: no wait */
    d = soon();
    CHECK_EQ(ints_send_until(tx, &v, 1, &d), -ETIMEDOUT);
    CHECK(reached(&d));
    struct timespec never = {TIME_MAX, 0};
    CHECK_EQ(ints_recv_until(rx, &out, 1, &never), 1);
    CHECK_EQ(out, 3);
    ints_tx_release(tx);
    ints_rx_release(rx);
}
