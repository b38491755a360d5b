/* SPDX-License-Identifier: MIT */
/* Channel configurations at their edges: levels 0, 1, 64 and 65 on every
 * buffer shape, budgets with weights of 0 and SIZE_MAX, a budget on a
 * rendezvous channel, NULL and very long names, a huge bounded capacity
 * with 1-byte items. (Hostile call arguments are in chan_args.c.) */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "chan_test.h"

static const size_t caps[] = {0, 1, 4, FERRY_UNBOUNDED};
#define NCAPS (sizeof caps / sizeof caps[0])

/* levels 0 and 1 both mean one level: prio 0 only. */
FERRY_TEST(levels_zero_and_one_are_one_level)
{
    for (unsigned lv = 0; lv <= 1; lv++) {
        for (size_t i = 1; i < NCAPS; i++) {
            ferry_tx *tx;
            ferry_rx *rx;
            ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = caps[i], .levels = lv};
            CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
            CHECK_EQ(stats(tx).levels, 1);
            long v = 5, out = 0;
            CHECK_EQ(ferry_send_prio(tx, &v, 1, 1), -EINVAL);
            CHECK_EQ(ferry_send_prio(tx, &v, 1, UINT_MAX), -EINVAL);
            CHECK_EQ(stats(tx).len, 0);
            CHECK_EQ(ferry_send_prio(tx, &v, 1, 0), 1);
            CHECK_EQ(ferry_try_recv(rx, &out, 1), 1);
            CHECK_EQ(out, 5);
            ferry_tx_release(tx);
            ferry_rx_release(rx);
        }
    }
}

/* 64 levels work on every shape (the top level first); 65 is refused on
 * every shape, rendezvous and unbounded included. */
FERRY_TEST(levels_64_work_65_refused_on_every_shape)
{
    for (size_t i = 0; i < NCAPS; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = caps[i],
                                 .levels = FERRY_MAX_LEVELS + 1};
        CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
        cfg.levels = FERRY_MAX_LEVELS;
        CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
        CHECK_EQ(stats(tx).levels, FERRY_MAX_LEVELS);
        long lo = 1, hi = 2, out[2] = {0, 0};
        CHECK_EQ(ferry_send_prio(tx, &lo, 1, FERRY_MAX_LEVELS), -EINVAL);
        if (caps[i] == 0) {
            CHECK_EQ(ferry_try_send(tx, &lo, 1), -EAGAIN); /* nobody receives */
        } else if (caps[i] == 1) {
            CHECK_EQ(ferry_send_prio(tx, &hi, 1, FERRY_MAX_LEVELS - 1), 1);
            CHECK_EQ(ferry_try_recv(rx, out, 2), 1);
            CHECK_EQ(out[0], 2);
        } else {
            CHECK_EQ(ferry_send_prio(tx, &lo, 1, 0), 1);
            CHECK_EQ(ferry_send_prio(tx, &hi, 1, FERRY_MAX_LEVELS - 1), 1);
            CHECK_EQ(ferry_try_recv(rx, out, 2), 2);
            CHECK_EQ(out[0], 2);
            CHECK_EQ(out[1], 1);
        }
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

static size_t weigh_zero(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    return 0;
}

/* Items that weigh 0 count only against capacity: a budget of 1 still
 * lets a bounded channel fill to capacity, and an unbounded one grow. */
FERRY_TEST(zero_weights_count_only_against_capacity)
{
    for (size_t i = 1; i < NCAPS; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = caps[i], .budget = 1,
                                 .weigh = weigh_zero, .levels = 2};
        CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
        long v[100];
        for (int k = 0; k < 100; k++)
            v[k] = k;
        size_t want = caps[i] == FERRY_UNBOUNDED ? 100 : caps[i];
        CHECK_EQ(ferry_try_send(tx, v, 100), (ssize_t)want);
        CHECK_EQ(stats(tx).weight, 0);
        CHECK_EQ(stats(tx).len, want);
        long out[100];
        CHECK_EQ(ferry_try_recv(rx, out, 100), (ssize_t)want);
        for (size_t k = 0; k < want; k++)
            CHECK_EQ(out[k], (long)k);
        CHECK_EQ(stats(tx).weight, 0);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

static size_t weigh_max(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    return SIZE_MAX;
}

/* Every item weighs SIZE_MAX against a small budget: each goes in alone
 * (an oversize item is accepted only by an empty channel); sums never
 * wrap, on an unbounded and a prioritized channel too. */
FERRY_TEST(max_weights_go_one_at_a_time)
{
    for (size_t i = 1; i < NCAPS; i++) {
        for (unsigned lv = 1; lv <= 3; lv += 2) {
            ferry_tx *tx;
            ferry_rx *rx;
            ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = caps[i], .budget = 8,
                                     .weigh = weigh_max, .levels = lv};
            CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
            long v[3] = {1, 2, 3}, out[3];
            for (int round = 0; round < 3; round++) {
                CHECK_EQ(ferry_try_send(tx, v + round, 3 - round), 1);
                CHECK_EQ(ferry_try_send(tx, v, 1), -EAGAIN);
                CHECK_EQ(stats(tx).weight, SIZE_MAX);
                CHECK_EQ(ferry_try_recv(rx, out, 3), 1);
                CHECK_EQ(out[0], v[round]);
                CHECK_EQ(stats(tx).weight, 0);
            }
            ferry_tx_release(tx);
            ferry_rx_release(rx);
        }
    }
}

/* A budget on a rendezvous channel is accepted and bounds nothing (items
 * are never buffered, so never weighed). */
FERRY_TEST(budget_on_rendezvous_channel)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 0, .budget = 1, .weigh = weigh_max};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long v = 1;
    CHECK_EQ(ferry_try_send(tx, &v, 1), -EAGAIN);
    CHECK_EQ(stats(tx).weight, 0);
    ferry_tx_release(tx);
    long out;
    CHECK_EQ(ferry_try_recv(rx, &out, 1), 0); /* closed and drained */
    ferry_rx_release(rx);
}

/* The name is optional and kept by pointer, whatever its length. */
FERRY_TEST(null_and_long_names)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = 1, .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    CHECK(stats(tx).name == NULL);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    size_t len = 1 << 20;
    char *name = malloc(len + 1);
    CHECK(name != NULL);
    memset(name, 'n', len);
    name[len] = '\0';
    cfg.name = name;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    CHECK_PTR_EQ(stats(rx).name, name);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    free(name);
}

/* The largest bounded capacity for 1-byte items (PTRDIFF_MAX) opens and
 * works on every path, with levels and with a budget. */
FERRY_TEST(largest_bounded_capacity_small_items)
{
    ferry_chan_config cfgs[] = {
        {.elem_size = 1, .capacity = (size_t)PTRDIFF_MAX},
        {.elem_size = 1, .capacity = (size_t)PTRDIFF_MAX, .levels = 4},
        {.elem_size = 1, .capacity = (size_t)PTRDIFF_MAX, .budget = SIZE_MAX},
        {.elem_size = 2, .capacity = (size_t)PTRDIFF_MAX / 2},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        CHECK_EQ(ferry_chan_open(&cfgs[i], &tx, &rx), 0);
        CHECK_EQ(stats(tx).capacity, cfgs[i].capacity);
        CHECK_EQ(ferry_try_send(tx, "abcdef", 6 / cfgs[i].elem_size), (ssize_t)(6 / cfgs[i].elem_size));
        char out[6] = {0};
        CHECK_EQ(ferry_try_recv(rx, out, 6 / cfgs[i].elem_size), (ssize_t)(6 / cfgs[i].elem_size));
        CHECK(memcmp(out, "abcdef", 6) == 0);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config big = {.elem_size = 1, .capacity = (size_t)PTRDIFF_MAX + 1};
    CHECK_EQ(ferry_chan_open(&big, &tx, &rx), -EINVAL);
    big.capacity = SIZE_MAX - 1;
    CHECK_EQ(ferry_chan_open(&big, &tx, &rx), -EINVAL);
}
