/* SPDX-License-Identifier: MIT */
/* The lock-free batch ring: set-up, the sequence-number loops of a batch,
 * closing and draining. The hot paths (push, pop) are static inline in
 * chan_lfring.h, which states the invariants V1-V3 and the ordering rules
 * R1-R5 cited here. */
#include "chan_lfring.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

bool ferry__lfring_fits(size_t cap, size_t elem)
{
    /* Each bound first, so that the sum below cannot wrap. */
    if (cap < 1 || cap > FERRY__LFRING_MAX_CAP || elem < 1 || elem > FERRY__LFRING_MAX_BYTES)
        return false;
    return cap <= FERRY__LFRING_MAX_BYTES / (elem + sizeof(uint8_t));
}

int ferry__lfring_init(struct ferry__lfring *r, size_t cap, size_t elem)
{
    if (!ferry__lfring_fits(cap, elem))
        return -EINVAL;
    r->buf = malloc(cap * elem);
    r->seq = calloc(cap, sizeof *r->seq); /* zeroed: every slot free for lap 0 */
    if (!r->buf || !r->seq) {
        ferry__lfring_fini(r);
        return -ENOMEM;
    }
    r->cap = cap;
    r->elem = elem;
    r->mask = (cap & (cap - 1)) == 0 ? cap - 1 : SIZE_MAX;
    r->shift = 0;
    while (((size_t)1 << r->shift) < cap)
        r->shift++;
    /* Relaxed: nobody else sees the ring before init returns. */
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail_aux, 0, memory_order_relaxed);
    atomic_store_explicit(&r->head_aux, 0, memory_order_relaxed);
    return 0;
}

void ferry__lfring_fini(struct ferry__lfring *r)
{
    free(r->buf);
    free(r->seq);
    r->buf = NULL;
    r->seq = NULL;
}

/* The first j in [j, end) whose slot does not hold sequence number want,
 * or end. Eight slots per step: eight acquire loads (R1 or R2) and one
 * branch, so that a batch costs a few instructions per item; a step that
 * finds a mismatch is read again one slot at a time. */
static size_t scan(FERRY_ATOMIC(uint8_t) *seq, uint8_t want, size_t j, size_t end)
{
#define LD(i) atomic_load_explicit(&seq[j + (i)], memory_order_acquire)
    for (; end - j >= 8; j += 8) {
        unsigned x = (unsigned)((LD(0) ^ want) | (LD(1) ^ want) | (LD(2) ^ want) | (LD(3) ^ want) |
                                (LD(4) ^ want) | (LD(5) ^ want) | (LD(6) ^ want) | (LD(7) ^ want));
        if (x != 0)
            break;
    }
#undef LD
    while (j < end && atomic_load_explicit(&seq[j], memory_order_acquire) == want)
        j++;
    return j;
}

/* Release stores of sequence number `v` into slots [j, end): R1 (publish)
 * or R2 (free), eight per step. */
static void fill(FERRY_ATOMIC(uint8_t) *seq, uint8_t v, size_t j, size_t end)
{
#define ST(i) atomic_store_explicit(&seq[j + (i)], v, memory_order_release)
    for (; end - j >= 8; j += 8) {
        ST(0);
        ST(1);
        ST(2);
        ST(3);
        ST(4);
        ST(5);
        ST(6);
        ST(7);
    }
#undef ST
    for (; j < end; j++)
        atomic_store_explicit(&seq[j], v, memory_order_release);
}

/* How many slots from idx0 (k = 1 known) up to lim hold sequence number
 * want: the first run (to the array's end), then the run from slot 0, one
 * lap later (want + 2). */
size_t ferry__lfring_run_many(const struct ferry__lfring *r, size_t idx0, uint8_t want, size_t lim)
{
    size_t first = r->cap - idx0 < lim ? r->cap - idx0 : lim;
    size_t k = scan(r->seq + idx0, want, 1, first);
    if (k == first && k < lim) {
        /* At most the whole ring (V1): slots idx0.. belong to this lap. */
        size_t end = lim < r->cap ? lim : r->cap;
        k = first + scan(r->seq, (uint8_t)(want + 2), 0, end - first);
    }
    return k;
}

/* Store `v` into k slots from idx0 (wrapping: v + 2, the next lap's
 * number, after the array's end), with release: R1 (publish) or R2
 * (free). */
void ferry__lfring_set_many(struct ferry__lfring *r, size_t idx0, uint8_t v, size_t k)
{
    size_t first = r->cap - idx0 < k ? r->cap - idx0 : k;
    fill(r->seq + idx0, v, 0, first);
    fill(r->seq, (uint8_t)(v + 2), 0, k - first);
}

uint64_t ferry__lfring_close(struct ferry__lfring *r, uint64_t flags)
{
    /* seq_cst RMW: R4. Claims after it fail; its return value is the last
     * claimed position. */
    return atomic_fetch_or_explicit(&r->tail, flags, memory_order_seq_cst);
}

size_t ferry__lfring_drain(struct ferry__lfring *r, void (*fn)(void *item, void *ctx), void *ctx)
{
    uint64_t end = ferry__lfring_close(r, FERRY__LFRING_RXGONE) & ~FERRY__LFRING_FLAGS;
    /* Relaxed: the caller is the only consumer now (no receiver is left to
     * pop; its caller holds the channel's lock). */
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t n = 0;
    for (; h < end; h++, n++) {
        size_t idx = ferry__lfring_index(r, h);
        /* R1: wait for the producer that claimed h (before the flag, R4)
         * to publish it: it is between its claim and its release store. */
        while (ferry__lfring_cmp(r, idx, 2 * h + 1) < 0)
            sched_yield();
        if (fn)
            fn(r->buf + idx * r->elem, ctx);
        ferry__lfring_set(r, idx, 2 * (h + r->cap)); /* R2 */
        /* Relaxed: statistics read it; nobody claims any more (V3). */
        atomic_store_explicit(&r->head, h + 1, memory_order_relaxed);
    }
    return n;
}
