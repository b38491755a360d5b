/* SPDX-License-Identifier: MIT */
/* Priority levels and weight budgets (docs/chan.md, "Priorities and weight budgets"). */
#include <errno.h>
#include <ferry/chan.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "chan_test.h"

/* Items are longs: level * 1000 + index. */
FERRY_TEST(strict_level_order_across_mixed_batches)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 100, .levels = 4};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long a[3] = {0, 1, 2}, b[2] = {3000, 3001}, c[2] = {1000, 1001}, d[1] = {3002}, e[2] = {2000, 2001};
    CHECK_EQ(ferry_send_prio(tx, a, 3, 0), 3);
    CHECK_EQ(ferry_send_prio(tx, b, 2, 3), 2);
    CHECK_EQ(ferry_send_prio(tx, c, 2, 1), 2);
    CHECK_EQ(ferry_send(tx, a, 1), 1); /* ferry_send is level 0 */
    CHECK_EQ(ferry_send_prio(tx, d, 1, 3), 1);
    CHECK_EQ(ferry_send_prio(tx, e, 2, 2), 2);
    long out[20];
    /* A small receive takes from the top level only... */
    CHECK_EQ(ferry_recv(rx, out, 2), 2);
    CHECK_EQ(out[0], 3000);
    CHECK_EQ(out[1], 3001);
    /* ...a larger one spans levels, highest first, FIFO within each. */
    CHECK_EQ(ferry_recv(rx, out, 20), 9);
    long want[] = {3002, 2000, 2001, 1000, 1001, 0, 1, 2, 0};
    for (int i = 0; i < 9; i++)
        CHECK_EQ(out[i], want[i]);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(level_out_of_range_is_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4, .levels = 3};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long v = 1;
    CHECK_EQ(ferry_send_prio(tx, &v, 1, 3), -EINVAL);
    CHECK_EQ(ferry_send_prio(tx, &v, 1, 100), -EINVAL);
    CHECK_EQ(ferry_send_prio(tx, &v, 1, 2), 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    /* 64 levels work; the top one is received first. */
    cfg.levels = 64;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    CHECK_EQ(ferry_send_prio(tx, &v, 1, 0), 1);
    v = 63;
    CHECK_EQ(ferry_send_prio(tx, &v, 1, 63), 1);
    long out[2];
    CHECK_EQ(ferry_recv(rx, out, 2), 2);
    CHECK_EQ(out[0], 63);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

struct prod {
    ferry_tx *tx;
    int id;
    unsigned level;
    pthread_t t;
};

enum { PER = 2000 };

static void *prio_producer(void *arg)
{
    struct prod *p = arg;
    for (int64_t i = 0; i < PER; i += 4) {
        int64_t v[4];   /* producer id in the high half, sequence in the low */
        for (int k = 0; k < 4; k++)
            v[k] = (int64_t)p->id << 32 | (i + k);
        CHECK_EQ(ferry_send_prio(p->tx, v, 4, p->level), 4);
    }
    return NULL;
}

FERRY_TEST(fifo_within_level_under_8_producers)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(int64_t), .capacity = 64, .levels = 2};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    struct prod p[8];
    for (int i = 0; i < 8; i++) {
        p[i] = (struct prod){.tx = tx, .id = i, .level = (unsigned)(i % 2)};
        pthread_create(&p[i].t, NULL, prio_producer, &p[i]);
    }
    int64_t next[8] = {0}, out[50];
    size_t total = 0;
    while (total < 8 * PER) {
        ssize_t r = ferry_recv(rx, out, 50);
        CHECK(r > 0);
        for (ssize_t i = 0; i < r; i++) {
            int id = (int)(out[i] >> 32);
            int64_t seq = out[i] & 0xffffffff;
            CHECK_EQ(seq, next[id]);
            next[id]++;
        }
        total += (size_t)r;
    }
    for (int i = 0; i < 8; i++)
        pthread_join(p[i].t, NULL);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

struct once {
    ferry_tx *tx;
    long v[4];
    unsigned level;
    ssize_t r;
    pthread_t t;
};

static void *send_once(void *arg)
{
    struct once *o = arg;
    o->r = ferry_send_prio(o->tx, o->v, 4, o->level);
    return NULL;
}

FERRY_TEST(rendezvous_with_levels_takes_highest_blocked_sender)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 0, .levels = 3};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    struct once o[3];
    unsigned levels[3] = {0, 2, 1};
    for (int i = 0; i < 3; i++) {
        o[i] = (struct once){.tx = tx, .level = levels[i]};
        for (int k = 0; k < 4; k++)
            o[i].v[k] = (long)levels[i] * 1000 + k;
        pthread_create(&o[i].t, NULL, send_once, &o[i]);
        wait_blocked(tx, 0, (uint64_t)i + 1); /* they block in this order */
    }
    long out[12];
    CHECK_EQ(ferry_recv(rx, out, 6), 6); /* level 2 first, though it blocked second */
    CHECK_EQ(ferry_recv(rx, out + 6, 6), 6);
    long want[12] = {2000, 2001, 2002, 2003, 1000, 1001, 1002, 1003, 0, 1, 2, 3};
    for (int i = 0; i < 12; i++)
        CHECK_EQ(out[i], want[i]);
    for (int i = 0; i < 3; i++) {
        pthread_join(o[i].t, NULL);
        CHECK_EQ(o[i].r, 4);
    }
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(unbounded_with_levels)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = FERRY_UNBOUNDED, .levels = 8};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    for (long i = 0; i < 8000; i++)
        CHECK_EQ(ferry_send_prio(tx, &i, 1, (unsigned)(i % 8)), 1);
    long out[1000], last_level = 8, last_idx = -1;
    size_t total = 0;
    ssize_t r;
    ferry_tx_release(tx);
    while ((r = ferry_recv(rx, out, 1000)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            long lvl = out[i] % 8;
            CHECK(lvl <= last_level);
            if (lvl < last_level)
                last_idx = -1;
            CHECK(out[i] > last_idx);
            last_level = lvl;
            last_idx = out[i];
        }
        total += (size_t)r;
    }
    CHECK_EQ(total, 8000);
    ferry_rx_release(rx);
}

/* ---- budgets ------------------------------------------------------------ */

static size_t weight_of(const void *item, void *ctx)
{
    FERRY_ATOMIC(long) *calls = ctx;
    if (calls)
        atomic_fetch_add(calls, 1);
    return (size_t)(*(const long *)item / 1000); /* weight in the thousands */
}

static void open_budget(size_t cap, size_t budget, FERRY_ATOMIC(long) *calls, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .budget = budget, .weigh = weight_of,
                             .weigh_ctx = (void *)calls};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

FERRY_TEST(budget_bounds_total_weight)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_budget(100, 10, NULL, &tx, &rx);
    long v[5] = {4000, 4000, 3000, 1000, 1000}; /* weights 4 4 3 1 1 */
    CHECK_EQ(ferry_try_send(tx, v, 5), 2); /* 4 + 4 = 8; the 3 would make 11 */
    CHECK_EQ(stats(tx).weight, 8);
    CHECK_EQ(ferry_try_send(tx, v + 3, 1), 1); /* a 1 fits: 9 */
    long out[5];
    CHECK_EQ(ferry_recv(rx, out, 1), 1);
    CHECK_EQ(stats(tx).weight, 5);
    CHECK_EQ(ferry_try_send(tx, v + 2, 3), 3); /* 5 + 3 + 1 + 1 = 10: exactly full */
    CHECK_EQ(stats(tx).weight, 10);
    CHECK_EQ(ferry_try_send(tx, v + 4, 1), -EAGAIN);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(budget_and_capacity_both_bound)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_budget(3, 100, NULL, &tx, &rx);
    long v[4] = {1000, 1000, 1000, 1000};
    CHECK_EQ(ferry_try_send(tx, v, 4), 3); /* capacity, though weight 4 fits */
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(default_weight_is_elem_size)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = 16, .capacity = 100, .budget = 40};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    char v[5][16] = {{0}};
    CHECK_EQ(ferry_try_send(tx, v, 5), 2); /* 16 + 16 <= 40 < 48 */
    CHECK_EQ(stats(tx).weight, 32);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(oversize_item_accepted_when_empty)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_budget(10, 10, NULL, &tx, &rx);
    long big = 50000, small = 1000, out;
    CHECK_EQ(ferry_try_send(tx, &big, 1), 1); /* weight 50 > budget 10, channel empty */
    CHECK_EQ(ferry_try_send(tx, &small, 1), -EAGAIN);
    CHECK_EQ(ferry_try_send(tx, &big, 1), -EAGAIN);
    CHECK_EQ(ferry_recv(rx, &out, 1), 1);
    CHECK_EQ(out, big);
    CHECK_EQ(ferry_try_send(tx, &small, 1), 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(weights_computed_once_per_item)
{
    ferry_tx *tx;
    ferry_rx *rx;
    FERRY_ATOMIC(long) calls = 0;
    open_budget(100, 10, &calls, &tx, &rx);
    /* Weights 6 6 6 1: the sender blocks on the second item (6 + 6 > 10); as
     * a receiver takes one at a time, the items move in one by one. The item
     * that did not fit is weighed once, not at every retry. */
    struct once o = {.tx = tx, .v = {6000, 6001, 6002, 1003}};
    pthread_create(&o.t, NULL, send_once, &o);
    wait_blocked(tx, 0, 1);
    long out;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(ferry_recv(rx, &out, 1), 1);
        CHECK_EQ(out, o.v[i]);
    }
    pthread_join(o.t, NULL);
    CHECK_EQ(o.r, 4);
    CHECK_EQ(atomic_load(&calls), 4);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(heavy_sender_not_starved_by_light_ones)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_budget(100, 10, NULL, &tx, &rx);
    long light[8] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    CHECK_EQ(ferry_try_send(tx, light, 8), 8); /* weight 8 */
    struct once heavy = {.tx = tx, .v = {5000, 5001, 5002, 5003}};
    heavy.level = 0;
    pthread_create(&heavy.t, NULL, send_once, &heavy);
    wait_blocked(tx, 0, 1);
    /* Light items would fit (8 + 1 <= 10) but must not overtake. */
    CHECK_EQ(ferry_try_send(tx, light, 1), -EAGAIN);
    long out[16];
    CHECK_EQ(ferry_recv(rx, out, 3), 3); /* weight 5 now: the first heavy item moves in */
    CHECK_EQ(stats(tx).weight, 10);
    CHECK_EQ(ferry_try_send(tx, light, 1), -EAGAIN); /* still behind the heavy sender */
    /* Drain: the heavy items come right after the light ones, before any new light item. */
    size_t got = 0;
    while (got < 9) {
        ssize_t r = ferry_recv(rx, out + got, 16 - got);
        CHECK(r > 0);
        got += (size_t)r;
    }
    pthread_join(heavy.t, NULL);
    CHECK_EQ(heavy.r, 4);
    CHECK_EQ(out[5], 5000);
    CHECK_EQ(out[8], 5003);
    CHECK_EQ(ferry_try_send(tx, light, 1), 1); /* the way is clear */
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(weigh_without_budget_is_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4, .weigh = weight_of};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
}

FERRY_TEST(zero_weight_items_count_against_capacity_only)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_budget(5, 2, NULL, &tx, &rx);
    long zero[8] = {0};
    CHECK_EQ(ferry_try_send(tx, zero, 8), 5);
    CHECK_EQ(stats(tx).weight, 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* One receive that spans levels returns them highest first, also when it
 * goes on from the buffer into blocked senders' items (the receive takes
 * what the buffer holds, then, the buffer empty, straight from blocked
 * senders). A sender blocked at a higher level than the buffer's last
 * item taken is not taken behind it in the same batch: its items come
 * first in the next receive. Senders at the same or a lower level still
 * fill the batch. The blocked senders are async ops (no threads). */
static void nop_wake(void *ctx) { (void)ctx; }

/* Items are level * 1000 + index: a batch's levels never go up. */
static void check_highest_first(const long *out, ssize_t n)
{
    for (ssize_t i = 1; i < n; i++)
        CHECK_MSG(out[i] / 1000 <= out[i - 1] / 1000, "item %ld (level %ld) after item %ld (level %ld) in one batch",
                  out[i], out[i] / 1000, out[i - 1], out[i - 1] / 1000);
}

/* Fill a channel of capacity 2 and `levels` levels with two items at level
 * `buffered`, block an async send of two at level `blocked`, then receive
 * up to 4: returns that receive's count (out: every item, in order). */
static ssize_t buffer_then_blocked_sender(unsigned buffered, unsigned blocked, long out[4])
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 2, .levels = 2};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long b[2] = {buffered * 1000L, buffered * 1000L + 1}, s[2] = {blocked * 1000L + 10, blocked * 1000L + 11};
    CHECK_EQ(ferry_send_prio(tx, b, 2, buffered), 2);
    ferry_op op;
    CHECK_EQ(ferry_send_prio_start(tx, &op, s, 2, blocked, (ferry_waker){nop_wake, NULL}), -EINPROGRESS);
    ssize_t first = ferry_recv(rx, out, 4);
    CHECK(first >= 2);
    check_highest_first(out, first);
    /* The sender's items went in (or out) meanwhile: all four arrive. */
    CHECK_EQ(ferry_op_result(&op), 2);
    ssize_t got = first;
    while (got < 4) {
        ssize_t r = ferry_try_recv(rx, out + got, (size_t)(4 - got));
        CHECK(r > 0);
        check_highest_first(out + got, r);
        got += r;
    }
    CHECK_EQ(ferry_try_recv(rx, out, 1), -EAGAIN);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    return first;
}

FERRY_TEST(a_receive_spanning_buffer_and_blocked_senders_is_highest_first)
{
    long out[4];
    /* A higher level blocked behind the buffer: its items come next, not
     * after the lower level's in the same batch (they did: 0 1 1010 1011). */
    CHECK_EQ(buffer_then_blocked_sender(0, 1, out), 2);
    long want_up[4] = {0, 1, 1010, 1011};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(out[i], want_up[i]);
    /* The same level, or a lower one: one batch, in order. */
    CHECK_EQ(buffer_then_blocked_sender(1, 1, out), 4);
    long want_same[4] = {1000, 1001, 1010, 1011};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(out[i], want_same[i]);
    CHECK_EQ(buffer_then_blocked_sender(1, 0, out), 4);
    long want_down[4] = {1000, 1001, 10, 11};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(out[i], want_down[i]);
}
