/* SPDX-License-Identifier: MIT */
/* The channel under allocation failure: malloc, calloc, realloc and
 * aligned_alloc are interposed (this program defines them) and, while
 * armed, every k-th call fails, for k = 1 .. 12. Every entry point that
 * allocates is driven through it, on every shape of buffer: ferry_chan_open
 * (the channel, the lock-free ring, the block list's first block, the
 * per-level rings, a small bounded channel's whole storage), and the sends
 * that grow storage -- blocking, try, async and select send cases -- on the
 * locked unbounded rings (with and without weights), the block list, and a
 * bounded channel too large to be allocated up front. Each must say
 * -ENOMEM or how many it sent; every item a send counted is received
 * exactly once, in order; a failed open leaks nothing, and neither does a
 * channel once both sides are released; once allocation works again the
 * channel does too. Not built under sanitizers (they own malloc). */
#include <errno.h>
#include <ferry/op.h>
#include <ferry/select.h>
#include <stdlib.h>
#include <string.h>

#include "failing_malloc.h"
#include "test.h"

/* ---- the shapes ---- */

static size_t weigh_low_byte(const void *item, void *ctx)
{
    (void)ctx;
    return *(const unsigned char *)item % 5;
}

static const struct shape {
    const char *name;
    size_t elem, cap;
    unsigned levels;
    size_t budget;
    bool weigh;
    size_t batch; /* items per send */
} shapes[] = {
    {"rendezvous", 8, 0, 1, 0, false, 4},
    {"ring", 8, 4, 1, 0, false, 4},
    {"list", 8, FERRY_UNBOUNDED, 1, 0, false, 300},
    {"levels", 8, 100, 3, 0, false, 100},
    {"budget_weigh", 8, 100, 1, 400, true, 100},
    {"bounded_large", 1 << 21, 3, 1, 0, false, 3}, /* too large to allocate at open */
    {"unbounded_large_items", 40000, FERRY_UNBOUNDED, 1, 0, false, 20},
    {"unbounded_weigh_levels", 8, FERRY_UNBOUNDED, 2, 1 << 20, true, 300},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

/* Items are elem bytes, numbered by their first 8 bytes. */
static char *items, *out;
#define ITEM_BYTES ((size_t)8 << 20)

static void number(const struct shape *s, size_t first, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t id = first + i;
        memcpy(items + i * s->elem, &id, sizeof id);
    }
}

static uint64_t id_at(const struct shape *s, size_t i)
{
    uint64_t id;
    memcpy(&id, out + i * s->elem, sizeof id);
    return id;
}

static void nop_wake(void *ctx) { (void)ctx; }

/* One send of s->batch items by way `how` (0 try, 1 blocking with a past
 * deadline, 2 async start, 3 select send case): the count it sent, or 0
 * for -ENOMEM / -EAGAIN / -ETIMEDOUT. */
static size_t send_one(const struct shape *s, ferry_tx *tx, int how)
{
    size_t n = s->batch;
    ssize_t r;
    if (how == 0) {
        r = ferry_try_send(tx, items, n);
    } else if (how == 1) {
        struct timespec past = {0, 0};
        r = ferry_send_until(tx, items, n, &past);
        if (r == -ETIMEDOUT)
            r = -EAGAIN;
    } else if (how == 2) {
        ferry_op op;
        ferry_waker w = {nop_wake, NULL};
        r = ferry_send_start(tx, &op, items, n, w);
        if (r == -EINPROGRESS) { /* a bounded channel with no room */
            r = ferry_op_cancel(&op);
            if (r == 0)
                r = -EAGAIN;
        } else {
            CHECK_EQ(ferry_op_cancel(&op), r); /* finished at once: its result */
        }
    } else {
        ferry_select_case sc = {.op = FERRY_SELECT_SEND, .tx = tx, .buf = items, .n = n};
        int i = ferry_try_select(&sc, 1);
        CHECK(i == 0 || i == -EAGAIN);
        r = i == 0 ? sc.result : -EAGAIN;
    }
    CHECK_MSG(r == -ENOMEM || r == -EAGAIN || (r >= 1 && (size_t)r <= n), "%s: send way %d returned %zd", s->name,
              how, r);
    return r > 0 ? (size_t)r : 0;
}

/* Receive everything buffered; check it is ids [from, from + n). */
static void drain(const struct shape *s, ferry_rx *rx, uint64_t from, size_t n)
{
    size_t got = 0;
    ssize_t r;
    while ((r = ferry_try_recv(rx, out, s->batch)) > 0) {
        for (ssize_t i = 0; i < r; i++)
            CHECK_EQ(id_at(s, (size_t)i), from + got + (size_t)i);
        got += (size_t)r;
    }
    CHECK_EQ(r, -EAGAIN);
    CHECK_EQ(got, n);
}

static void run_shape(const struct shape *s)
{
    for (long k = 1; k <= 12; k++) {
        long live0 = atomic_load_explicit(&live, memory_order_relaxed);
        ferry_chan_config cfg = {.elem_size = s->elem, .capacity = s->cap, .levels = s->levels,
                                 .budget = s->budget, .weigh = s->weigh ? weigh_low_byte : NULL};
        ferry_tx *tx;
        ferry_rx *rx;
        arm(k);
        int r = ferry_chan_open(&cfg, &tx, &rx);
        if (r != 0) {
            disarm();
            CHECK_MSG(r == -ENOMEM, "%s: open with every %ld-th allocation failing: %d", s->name, k, r);
            CHECK_EQ(atomic_load_explicit(&live, memory_order_relaxed), live0);
            continue;
        }
        uint64_t next = 0;
        for (int how = 0; how < 4; how++) {
            number(s, next, s->batch);
            size_t sent = send_one(s, tx, how);
            drain(s, rx, next, sent);
            next += sent;
        }
        disarm();
        /* Allocation works again: so does the channel (not a rendezvous:
         * nobody receives there). */
        if (s->cap != 0) {
            number(s, next, s->batch);
            size_t sent = send_one(s, tx, 0);
            CHECK_EQ(sent, s->cap < s->batch ? s->cap : s->batch);
            drain(s, rx, next, sent);
        }
        ferry_tx_release(tx);
        ferry_rx_release(rx);
        CHECK_MSG(atomic_load_explicit(&live, memory_order_relaxed) == live0, "%s: %ld allocations leaked (k %ld)",
                  s->name, atomic_load_explicit(&live, memory_order_relaxed) - live0, k);
    }
}

FERRY_TEST(every_kth_allocation_fails_cleanly)
{
    items = __libc_malloc(ITEM_BYTES);
    out = __libc_malloc(ITEM_BYTES);
    CHECK(items && out);
    long failed0 = atomic_load_explicit(&failed, memory_order_relaxed);
    for (size_t i = 0; i < NSHAPES; i++)
        run_shape(&shapes[i]);
    CHECK(atomic_load_explicit(&failed, memory_order_relaxed) > failed0);
    __libc_free(items);
    __libc_free(out);
}

/* A bounded channel's storage grows to at most its capacity rounded up to a
 * power of two (chan.h), whatever the item size. Before the fix a ring's
 * first growth took 16 slots: 16 times the capacity of a channel of one
 * large item (a 64 MiB item asked for 1 GiB). Two levels and items over
 * 1 MiB: the locked path, storage not allocated at open. */
FERRY_TEST(bounded_storage_at_most_the_capacity)
{
    static const size_t caps[] = {1, 3, 5};
    const size_t elem = (size_t)1 << 21;
    char *buf = __libc_malloc(5 * elem);
    CHECK(buf);
    memset(buf, 7, 5 * elem);
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        size_t slots = 1;
        while (slots < caps[i])
            slots *= 2;
        ferry_chan_config cfg = {.elem_size = elem, .capacity = caps[i], .levels = 2};
        ferry_tx *tx;
        ferry_rx *rx;
        CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
        atomic_store_explicit(&biggest, 0, memory_order_relaxed);
        CHECK_EQ(ferry_try_send(tx, buf, caps[i]), (ssize_t)caps[i]);
        struct timespec past = {0, 0};
        CHECK_EQ(ferry_send_prio_until(tx, buf, caps[i], 1, &past), -ETIMEDOUT); /* full */
        size_t most = atomic_load_explicit(&biggest, memory_order_relaxed);
        CHECK_MSG(most > 0 && most <= slots * elem, "capacity %zu: a request of %zu bytes (at most %zu)", caps[i],
                  most, slots * elem);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
    __libc_free(buf);
}
