/* SPDX-License-Identifier: MIT */
/* A channel's weigh and drop callbacks run under the channel's lock: one
 * that calls into its own channel would deadlock on it, so every entry point
 * aborts with a message instead -- from weigh (a send, or a stats call) and
 * from drop (the last receiver's release, on the locked, ring and list
 * buffers), and so does ferry_op_cancel of an op on that channel. Another
 * thread calling in while a callback runs just waits. */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "chan_test.h"

static ferry_tx *g_tx;
static ferry_rx *g_rx;

static size_t weigh_calls_stats(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    struct ferry_chan_stats st;
    ferry_chan_stats(g_tx, &st);
    return 1;
}

static size_t weigh_calls_recv(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    long v;
    ferry_try_recv(g_rx, &v, 1);
    return 1;
}

static void drop_calls_send(void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    long v = 1;
    ferry_try_send(g_tx, &v, 1);
}

#define CALLBACK_MSG "callback called into the channel"

FERRY_DEATH_TEST(weigh_that_calls_stats_aborts, CALLBACK_MSG)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4, .budget = 10, .weigh = weigh_calls_stats};
    CHECK_EQ(ferry_chan_open(&cfg, &g_tx, &g_rx), 0);
    long v = 1;
    ferry_try_send(g_tx, &v, 1);
}

FERRY_DEATH_TEST(weigh_that_receives_aborts, CALLBACK_MSG)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = FERRY_UNBOUNDED, .budget = 10,
                             .weigh = weigh_calls_recv};
    CHECK_EQ(ferry_chan_open(&cfg, &g_tx, &g_rx), 0);
    long v = 1;
    ferry_send(g_tx, &v, 1);
}

/* Capacity 4 with one level takes the lock-free ring, unbounded the block
 * list, two levels the locked buffer: each drains through drop. */
static void drop_case(size_t cap, unsigned levels)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .levels = levels, .drop = drop_calls_send};
    CHECK_EQ(ferry_chan_open(&cfg, &g_tx, &g_rx), 0);
    long v = 1;
    CHECK_EQ(ferry_try_send(g_tx, &v, 1), 1);
    ferry_rx_release(g_rx);
}

FERRY_DEATH_TEST(drop_that_sends_aborts_ring, CALLBACK_MSG) { drop_case(4, 1); }
FERRY_DEATH_TEST(drop_that_sends_aborts_list, CALLBACK_MSG) { drop_case(FERRY_UNBOUNDED, 1); }
FERRY_DEATH_TEST(drop_that_sends_aborts_locked, CALLBACK_MSG) { drop_case(4, 2); }

/* ferry_op_cancel reaches the channel through the op, not a handle: it is
 * checked too. Before the fix it deadlocked on the channel's lock (the
 * alarm turns that into a failure here). */
static ferry_op g_op;
static bool cancel_armed;

static void drop_cancels_op(void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    ferry_op_cancel(&g_op);
}

static size_t weigh_cancels_op(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    if (cancel_armed)
        ferry_op_cancel(&g_op);
    return 1;
}

static void nop_wake(void *ctx) { (void)ctx; }

/* A full channel of capacity 1 with a send op pending behind the item. */
static void full_with_pending_send(const ferry_chan_config *cfg)
{
    alarm(5);
    CHECK_EQ(ferry_chan_open(cfg, &g_tx, &g_rx), 0);
    long v[2] = {1, 2};
    CHECK_EQ(ferry_try_send(g_tx, &v[0], 1), 1);
    ferry_waker w = {nop_wake, NULL};
    CHECK_EQ(ferry_send_start(g_tx, &g_op, &v[1], 1, w), -EINPROGRESS);
}

FERRY_DEATH_TEST(drop_that_cancels_an_op_aborts, CALLBACK_MSG)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 1, .drop = drop_cancels_op};
    full_with_pending_send(&cfg);
    ferry_rx_release(g_rx); /* drops the buffered item, with the op still pending */
}

FERRY_DEATH_TEST(weigh_that_cancels_an_op_aborts, CALLBACK_MSG)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 1, .budget = 10, .weigh = weigh_cancels_op};
    full_with_pending_send(&cfg);
    cancel_armed = true;
    long out;
    ferry_try_recv(g_rx, &out, 1); /* the room it frees weighs the op's item in */
}

/* Another thread's call while a weigh callback runs waits for the lock; it
 * is not taken for the callback's own call. */
static FERRY_ATOMIC(int) in_weigh, release_weigh;

static size_t weigh_slowly(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    atomic_store(&in_weigh, 1);
    while (!atomic_load(&release_weigh))
        ferry_test_sleep_ms(1);
    return 1;
}

static void *other_sender(void *arg)
{
    (void)arg;
    long v = 2;
    CHECK_EQ(ferry_send(g_tx, &v, 1), 1);
    return NULL;
}

FERRY_TEST(other_thread_waits_while_a_callback_runs)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4, .budget = 10, .weigh = weigh_slowly};
    CHECK_EQ(ferry_chan_open(&cfg, &g_tx, &g_rx), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, other_sender, NULL), 0);
    while (!atomic_load(&in_weigh))
        ferry_test_sleep_ms(1);
    struct ferry_chan_stats st;
    pthread_t s;
    /* A second sender waits behind the callback (it holds the lock). */
    CHECK_EQ(pthread_create(&s, NULL, other_sender, NULL), 0);
    ferry_test_sleep_ms(5);
    atomic_store(&release_weigh, 1);
    pthread_join(t, NULL);
    pthread_join(s, NULL);
    CHECK_EQ(ferry_chan_stats(g_tx, &st), 0);
    CHECK_EQ(st.len, 2);
    long out[2];
    CHECK_EQ(ferry_try_recv(g_rx, out, 2), 2);
    CHECK_EQ(out[0] + out[1], 4);
    ferry_tx_release(g_tx);
    ferry_rx_release(g_rx);
}

/* drop sees every item aligned as in a packed array of items, up to 16
 * bytes (a drop may read a 16-byte item as __int128 or an SSE vector), on
 * the ring, the list and the locked buffer, for the item sizes the ring and
 * the list lay out inline (items and their state bytes in one line). */
static size_t dropped_misaligned, dropped;
static void drop_checks_alignment(void *item, void *ctx)
{
    size_t elem = *(size_t *)ctx, align = elem & (0 - elem);
    if (align > 16)
        align = 16;
    dropped++;
    if ((uintptr_t)item % align != 0)
        dropped_misaligned++;
}

FERRY_TEST(drop_sees_items_aligned)
{
    static const size_t sizes[] = {4, 8, 16, 24, 32, 48};
    static const size_t caps[] = {8, 100, FERRY_UNBOUNDED};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t ci = 0; ci < 3; ci++) {
            for (unsigned levels = 1; levels <= 2; levels++) {
                size_t elem = sizes[si];
                ferry_chan_config cfg = {
                    .elem_size = elem, .capacity = caps[ci], .levels = levels, .drop = drop_checks_alignment,
                    .drop_ctx = &elem};
                ferry_tx *tx;
                ferry_rx *rx;
                CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
                unsigned char items[7 * 48] = {0};
                for (size_t n = 1; n <= 7; n++) { /* batches of 1 to 7: inline blocks on the list */
                    ssize_t got = ferry_try_send(tx, items, n);
                    CHECK(got > 0 || (got == -EAGAIN && caps[ci] == 8)); /* capacity 8 fills */
                }
                dropped = dropped_misaligned = 0;
                ferry_rx_release(rx);
                CHECK(dropped > 0);
                CHECK_EQ(dropped_misaligned, 0);
                ferry_tx_release(tx);
            }
        }
    }
}
