/* SPDX-License-Identifier: MIT */
/* The item ledger shared by the channel torture tests.
 *
 * An item is (producer, sequence) packed in 64 bits. `seen` has one counter
 * per item (P producers x `per` items each). A receiver records each item as
 * it arrives: it must not have been seen before, and its sequence number must
 * be above the last one this receiver saw from the same producer. A drop
 * callback records items the channel dropped, which must not also have been
 * received. */
#ifndef FERRY_CHAN_ITEMS_H
#define FERRY_CHAN_ITEMS_H

#include <ferry/common.h>
#include <stdint.h>
#include <string.h>

#include "test.h"

static inline uint64_t item(int p, size_t seq) { return (uint64_t)p << 32 | seq; }

/* Mark item v seen once; returns its producer and sequence. */
static inline void items_mark(FERRY_ATOMIC(uint8_t) *seen, int P, size_t per, uint64_t v, const char *what,
                              int *p_out, size_t *seq_out)
{
    int p = (int)(v >> 32);
    size_t seq = (size_t)(v & 0xffffffffu);
    CHECK_MSG(p < P && seq < per, "garbage item %#llx", (unsigned long long)v);
    uint8_t was = atomic_fetch_add_explicit(&seen[(size_t)p * per + seq], 1, memory_order_relaxed);
    CHECK_MSG(was == 0, "item (%d, %zu) %s, but it was already seen", p, seq, what);
    *p_out = p;
    *seq_out = seq;
}

/* A receiver got v: exactly once, and in order per producer for it. */
static inline void items_receive(FERRY_ATOMIC(uint8_t) *seen, int P, size_t per, size_t *last, uint64_t v)
{
    int p;
    size_t seq;
    items_mark(seen, P, per, v, "received", &p, &seq);
    CHECK_MSG(last[p] == SIZE_MAX || last[p] < seq, "producer %d: seq %zu after %zu", p, seq, last[p]);
    last[p] = seq;
}

/* The channel dropped the item at `raw`: never also received. */
static inline void items_drop(FERRY_ATOMIC(uint8_t) *seen, int P, size_t per, const void *raw)
{
    uint64_t v;
    int p;
    size_t seq;
    memcpy(&v, raw, sizeof v);
    items_mark(seen, P, per, v, "dropped", &p, &seq);
}

#endif
