/* SPDX-License-Identifier: MIT */
/* Helpers shared by the channel's unit tests. */
#ifndef FERRY_CHAN_TEST_H
#define FERRY_CHAN_TEST_H

#include <ferry/chan.h>

#include "test.h"

/* The channel's statistics, through either handle. */
static inline struct ferry_chan_stats stats(const void *h)
{
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(h, &st), 0);
    return st;
}

/* The channel kinds: each data path and buffer shape (items are longs). */
static const struct chan_kind {
    const char *name;
    size_t cap;
    unsigned levels;
    size_t budget;
} chan_kinds[] = {
    {"rendezvous", 0, 0, 0},   {"cap1", 1, 0, 0},        {"cap4", 4, 0, 0},
    {"unbounded", FERRY_UNBOUNDED, 0, 0}, {"levels", 4, 3, 0}, {"budget", 4, 0, 64},
};
#define CHAN_NKINDS (sizeof chan_kinds / sizeof chan_kinds[0])

static inline void open_chan_kind(const struct chan_kind *k, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = k->cap, .levels = k->levels,
                             .budget = k->budget, .name = k->name};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

/* Wait (up to 5 s) until at least `recvs` receivers and `sends` senders have
 * had to wait in total: the threads under test are blocked. */
static inline void wait_blocked(const void *h, uint64_t recvs, uint64_t sends)
{
    for (int i = 0; i < 5000; i++) {
        struct ferry_chan_stats st = stats(h);
        if (st.recvs_blocked >= recvs && st.sends_blocked >= sends)
            return;
        ferry_test_sleep_ms(1);
    }
    CHECK_MSG(0, "threads never blocked");
}

#endif
