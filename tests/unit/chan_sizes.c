/* SPDX-License-Identifier: MIT */
/* Items of odd sizes on every kind of channel: 1, 3, 57, 64 and 65 bytes,
 * a page, and either side of the largest item the lock-free block list
 * takes (32 KiB), through the rendezvous handoff, odd capacities (the
 * lock-free ring's slots are a power of two), the unbounded list, the
 * per-level rings and a budget. Two senders and a receiver with odd batch
 * sizes, so that copies wrap around the storage's end: every item arrives
 * exactly once, byte for byte, in order per sender. */
#include <errno.h>
#include <ferry/chan.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chan_test.h"

#define SENDERS 2
#define PER 120 /* items per sender (all ids fit in one byte) */

static const size_t sizes[] = {1, 3, 57, 64, 65, 4096, 32768, 32769};

struct run {
    ferry_tx *tx;
    ferry_rx *rx;
    size_t elem;
};

/* Item `id` (< 256): every byte derived from the id and its offset; the
 * first byte is the id itself. */
static void make_item(unsigned char *dst, size_t elem, unsigned id)
{
    dst[0] = (unsigned char)id;
    for (size_t i = 1; i < elem; i++)
        dst[i] = (unsigned char)(id * 31u + i * 7u + 1u);
}

struct sender {
    struct run *r;
    unsigned base; /* its ids: base .. base + PER - 1 */
};

static void *send_all(void *arg)
{
    struct sender *s = arg;
    size_t elem = s->r->elem;
    unsigned char *buf = malloc(7 * elem);
    CHECK(buf != NULL);
    for (unsigned off = 0; off < PER;) {
        unsigned n = 1 + (off * 5u) % 7u; /* 1 .. 7 */
        if (n > PER - off)
            n = PER - off;
        for (unsigned i = 0; i < n; i++)
            make_item(buf + i * elem, elem, s->base + off + i);
        CHECK_EQ(ferry_send(s->r->tx, buf, n), (ssize_t)n);
        off += n;
    }
    free(buf);
    return NULL;
}

static void sizes_on(size_t cap, unsigned levels, size_t budget)
{
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        struct run r = {.elem = sizes[si]};
        ferry_chan_config cfg = {.elem_size = r.elem, .capacity = cap, .levels = levels, .budget = budget};
        CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
        pthread_t t[SENDERS];
        struct sender s[SENDERS];
        for (unsigned i = 0; i < SENDERS; i++) {
            s[i] = (struct sender){&r, i * PER};
            CHECK_EQ(pthread_create(&t[i], NULL, send_all, &s[i]), 0);
        }
        unsigned char *buf = malloc(5 * r.elem), *want = malloc(r.elem);
        CHECK(buf != NULL && want != NULL);
        unsigned char seen[SENDERS * PER] = {0};
        int last[SENDERS] = {-1, -1};
        for (unsigned got = 0; got < SENDERS * PER;) {
            ssize_t k = ferry_recv(r.rx, buf, 1 + got % 5);
            CHECK_MSG(k > 0, "recv: %zd (elem %zu)", k, r.elem);
            for (ssize_t i = 0; i < k; i++) {
                unsigned id = buf[(size_t)i * r.elem];
                CHECK_MSG(id < SENDERS * PER && !seen[id], "elem %zu: item %u twice or garbage", r.elem, id);
                seen[id] = 1;
                make_item(want, r.elem, id);
                CHECK_MSG(memcmp(want, buf + (size_t)i * r.elem, r.elem) == 0, "elem %zu: item %u corrupt", r.elem,
                          id);
                unsigned from = id / PER;
                CHECK_MSG((int)(id % PER) > last[from], "elem %zu: sender %u out of order", r.elem, from);
                last[from] = (int)(id % PER);
            }
            got += (unsigned)k;
        }
        for (unsigned i = 0; i < SENDERS; i++)
            CHECK_EQ(pthread_join(t[i], NULL), 0);
        CHECK_EQ(ferry_try_recv(r.rx, buf, 1), -EAGAIN);
        CHECK_EQ(stats(r.tx).items_received, SENDERS * PER);
        free(buf);
        free(want);
        ferry_tx_release(r.tx);
        ferry_rx_release(r.rx);
    }
}

FERRY_TEST(odd_sizes_rendezvous) { sizes_on(0, 1, 0); }
FERRY_TEST(odd_sizes_cap1) { sizes_on(1, 1, 0); }
FERRY_TEST(odd_sizes_cap3) { sizes_on(3, 1, 0); }
FERRY_TEST(odd_sizes_cap7) { sizes_on(7, 1, 0); }
FERRY_TEST(odd_sizes_unbounded) { sizes_on(FERRY_UNBOUNDED, 1, 0); }
FERRY_TEST(odd_sizes_levels) { sizes_on(5, 3, 0); }
FERRY_TEST(odd_sizes_budget) { sizes_on(9, 1, 100000); }
