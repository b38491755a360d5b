/* SPDX-License-Identifier: MIT */
/* The lock-free batch ring: set-up, the sequence-number loops of a batch,
 * closing and draining. The hot paths (push, pop) are static inline in
 * chan_lfring.h, which states the invariants V1-V3 and the ordering rules
 * R1-R5 cited here. */
#include "chan_lfring.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* The shape of a ring of cap items of elem bytes in a layout: slots a
 * line, the items' offset in a line, the reciprocal (0: one line), and
 * the bytes in all; false when it is over the limits. Overflow-safe: each
 * bound first, then sums that cannot wrap (cap <= 2^28, elem <= 2^26,
 * and a packed ring's cap * (elem + 1) is bounded before it is formed). */
static bool shape(size_t cap, size_t elem, unsigned layout, size_t *grp, size_t *hdr, uint64_t *mul, size_t *bytes)
{
    if (cap < 1 || cap > FERRY__LFRING_MAX_CAP || elem < 1 || elem > FERRY__LFRING_MAX_BYTES)
        return false;
    const size_t line = FERRY_CACHELINE;
    if (layout == FERRY__LFRING_INLINE) {
        *grp = ferry__lines_shape(elem, hdr, mul);
        if (*grp == 0)
            return false;
        size_t lines = (cap + *grp - 1) / *grp;
        if (lines > FERRY__LFRING_MAX_BYTES / line)
            return false;
        *bytes = lines * line;
        return true;
    }
    if (cap > FERRY__LFRING_MAX_BYTES / (elem + 1))
        return false;
    *grp = cap;
    *hdr = (cap + line - 1) / line * line;
    *mul = 0;
    *bytes = (*hdr + cap * elem + line - 1) / line * line;
    return *bytes <= FERRY__LFRING_MAX_BYTES;
}

/* The item sizes laid out inline, whose batch loops are compiled with the
 * shape fixed (ferry__lfring_run_many, _move_many): X(elem) for each.
 * With the shape a variable, a batch of 256 took 3.2x (5-byte items) to
 * 11x (32-byte items) the instructions of the packed layout; fixed, 1.07x
 * (4), 1.13x (8), 1.4x (16), but 1.6x (24) and 1.8x (32), where a line
 * holds two items or one and wastes a quarter of itself or more. So:
 * pointers, 32-bit words and pairs of them (docs/performance.md, "The
 * bounded ring inline"). */
#define FIXED_SIZES(X) X(4) X(8) X(16)

/* Inline for the fixed sizes, unless whole lines would pass the byte limit
 * where packed storage does not (a ring of 4-, 8- or 16-byte items near
 * the limit: then packed, not the locked path). */
static unsigned layout_for(size_t cap, size_t elem)
{
    size_t grp, hdr, bytes;
    uint64_t mul;
    switch (elem) {
#define INLINE_CASE(e) case e:
        FIXED_SIZES(INLINE_CASE)
#undef INLINE_CASE
        if (shape(cap, elem, FERRY__LFRING_INLINE, &grp, &hdr, &mul, &bytes))
            return FERRY__LFRING_INLINE;
    }
    return FERRY__LFRING_PACKED;
}

bool ferry__lfring_fits(size_t cap, size_t elem)
{
    size_t grp, hdr, bytes;
    uint64_t mul;
    return shape(cap, elem, layout_for(cap, elem), &grp, &hdr, &mul, &bytes);
}

int ferry__lfring_init(struct ferry__lfring *r, size_t cap, size_t elem)
{
    return ferry__lfring_init_layout(r, cap, elem, layout_for(cap, elem));
}

int ferry__lfring_init_layout(struct ferry__lfring *r, size_t cap, size_t elem, unsigned layout)
{
    r->mem = r->buf = NULL; /* fini is safe after a failed init */
    if (!shape(cap, elem, layout, &r->grp, &r->hdr, &r->mul, &r->bytes))
        return -EINVAL;
    /* Zeroed (every sequence byte free for lap 0) and cache-line aligned,
     * so that each line holds its slots' bytes and items ("Layout").
     * calloc, not aligned_alloc and memset: a large ring comes as zero
     * pages that are touched only when the traffic reaches them. */
    r->mem = calloc(1, r->bytes + FERRY_CACHELINE - 1);
    if (!r->mem)
        return -ENOMEM;
    r->buf = (char *)r->mem + (FERRY_CACHELINE - 1 - ((uintptr_t)r->mem + FERRY_CACHELINE - 1) % FERRY_CACHELINE);
    r->cap = cap;
    r->elem = elem;
    r->layout = layout;
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
    free(r->mem);
    r->mem = r->buf = NULL;
}

/* The first j in [j, end) whose slot does not hold sequence number want,
 * or end: eight, then four slots per step (acquire loads, R1 or R2, and
 * one branch), so that a batch costs a few instructions per item; a step
 * that finds a mismatch is read again one slot at a time. */
static inline size_t scan(FERRY_ATOMIC(uint8_t) *seq, uint8_t want, size_t j, size_t end)
{
#define LD(i) ((unsigned)atomic_load_explicit(&seq[j + (i)], memory_order_acquire) ^ want)
    for (; end - j >= 8; j += 8)
        if ((LD(0) | LD(1) | LD(2) | LD(3) | LD(4) | LD(5) | LD(6) | LD(7)) != 0)
            break;
    if (end - j >= 4 && (LD(0) | LD(1) | LD(2) | LD(3)) == 0)
        j += 4;
#undef LD
    while (j < end && atomic_load_explicit(&seq[j], memory_order_acquire) == want)
        j++;
    return j;
}

/* Does every slot of a whole line (grp slots from place 0) hold want?
 * Acquire: R1 or R2. grp is a constant where the item size is (below):
 * then the loads are unrolled, with one branch a line. */
static inline __attribute__((always_inline)) bool line_holds(FERRY_ATOMIC(uint8_t) *seq, uint8_t want, size_t grp)
{
    unsigned x = 0;
#pragma GCC unroll 32
    for (size_t i = 0; i < grp; i++)
        x |= (unsigned)atomic_load_explicit(&seq[i], memory_order_acquire) ^ want;
    return x == 0;
}

static inline FERRY_ATOMIC(uint8_t) *line_seq(char *line)
{
    return (FERRY_ATOMIC(uint8_t) *)(void *)line;
}

/* The batch loops below work on the slots of one lap: cnt slots from idx,
 * idx + cnt <= cap; a batch that wraps is two laps' calls. Each takes
 * the item size and the shape as arguments, so that a call with constants
 * (an inline ring of 4-, 8- or 16-byte items) compiles to a copy whose
 * whole lines move with a fixed-size copy and unrolled loads and stores.
 * Lines: a piece of the first line from place j, whole lines, a piece of
 * the last; a packed ring is one line of cap slots, so its first piece is
 * the whole run. */

/* How many of the cnt slots from idx hold want (the first skip of them
 * known to: 0 or 1). */
static inline __attribute__((always_inline)) size_t run_lap(const struct ferry__lfring *r, size_t idx, size_t cnt,
                                                            uint8_t want, size_t skip, size_t grp)
{
    size_t j, k = 0;
    char *line = ferry__lfring_line(r, idx, &j);
    if (j != 0 || skip != 0) {
        size_t m = grp - j < cnt ? grp - j : cnt;
        size_t end = scan(line_seq(line), want, j + skip, j + m);
        if (end < j + m || m == cnt)
            return end - j;
        k = m;
        line += FERRY_CACHELINE;
    }
    for (; cnt - k >= grp; k += grp, line += FERRY_CACHELINE)
        if (!line_holds(line_seq(line), want, grp))
            return k + scan(line_seq(line), want, 0, grp);
    return k < cnt ? k + scan(line_seq(line), want, 0, cnt - k) : k;
}

static inline __attribute__((always_inline)) size_t run_many(const struct ferry__lfring *r, size_t idx0, uint8_t want,
                                                             size_t lim, size_t grp)
{
    size_t j;
    char *line = ferry__lfring_line(r, idx0, &j);
    if (j + lim <= grp && lim <= r->cap - idx0) /* all in one line, in this lap */
        return scan(line_seq(line), want, j + 1, j + lim) - j;
    if (lim > r->cap)
        lim = r->cap; /* at most the whole ring (V1: slots idx0.. belong to this lap) */
    size_t first = r->cap - idx0 < lim ? r->cap - idx0 : lim;
    size_t k = run_lap(r, idx0, first, want, 1, grp);
    if (k == first && k < lim)
        k += run_lap(r, 0, lim - first, (uint8_t)(want + 2), 0, grp);
    return k;
}

/* How many slots from idx0 (k = 1 known) up to lim hold sequence number
 * want: to the ring's end, then from slot 0 one lap later (want + 2). */
size_t ferry__lfring_run_many(const struct ferry__lfring *r, size_t idx0, uint8_t want, size_t lim)
{
    if (r->layout == FERRY__LFRING_INLINE) {
        switch (r->elem) {
#define RUN_CASE(e)                                                                                                    \
    case e:                                                                                                            \
        return run_many(r, idx0, want, lim, FERRY__LINES_GRP(e));
            FIXED_SIZES(RUN_CASE)
#undef RUN_CASE
        }
    }
    return run_many(r, idx0, want, lim, r->grp);
}

/* One line's piece of a move: m items from place j copied in (or out),
 * each slot's byte stored with release after its item (R1: publish, after
 * the copy in; R2: free, after the copy out). A whole line of items of a
 * fixed size moves with one fixed-size copy; a piece of one, item by
 * item beside the bytes (a copy of variable size is a call). */
static inline __attribute__((always_inline)) void move_piece(char *line, size_t hdr, size_t j, size_t m, char *mem,
                                                             size_t elem, uint8_t v, bool in)
{
    char *slot = line + hdr + j * elem;
    if (__builtin_constant_p(elem) && !__builtin_constant_p(m)) {
        for (size_t i = j; i < j + m; i++, slot += elem, mem += elem) {
            if (in)
                memcpy(slot, mem, elem);
            else
                memcpy(mem, slot, elem);
            atomic_store_explicit(&line_seq(line)[i], v, memory_order_release); /* R1 / R2 */
        }
        return;
    }
    if (in)
        memcpy(slot, mem, m * elem);
    else
        memcpy(mem, slot, m * elem);
#pragma GCC unroll 32
    for (size_t i = j; i < j + m; i++)
        atomic_store_explicit(&line_seq(line)[i], v, memory_order_release); /* R1 / R2 */
}

static inline __attribute__((always_inline)) void move_lap(struct ferry__lfring *r, size_t idx, size_t cnt, char *mem,
                                                           uint8_t v, bool in, size_t elem, size_t grp, size_t hdr)
{
    size_t j;
    char *line = ferry__lfring_line(r, idx, &j);
    if (j != 0) {
        size_t m = grp - j < cnt ? grp - j : cnt;
        move_piece(line, hdr, j, m, mem, elem, v, in);
        if ((cnt -= m) == 0)
            return;
        mem += m * elem;
        line += FERRY_CACHELINE;
    }
    for (; cnt >= grp; cnt -= grp, mem += grp * elem, line += FERRY_CACHELINE)
        move_piece(line, hdr, 0, grp, mem, elem, v, in);
    if (cnt > 0)
        move_piece(line, hdr, 0, cnt, mem, elem, v, in);
}

static inline __attribute__((always_inline)) void move_many(struct ferry__lfring *r, size_t idx0, char *mem, size_t k,
                                                            uint8_t v, bool in, size_t elem, size_t grp, size_t hdr)
{
    size_t j;
    char *line = ferry__lfring_line(r, idx0, &j);
    if (j + k <= grp && k <= r->cap - idx0) { /* all in one line, in this lap */
        move_piece(line, hdr, j, k, mem, elem, v, in);
        return;
    }
    size_t first = r->cap - idx0 < k ? r->cap - idx0 : k;
    move_lap(r, idx0, first, mem, v, in, elem, grp, hdr);
    if (k > first)
        move_lap(r, 0, k - first, mem + first * elem, (uint8_t)(v + 2), in, elem, grp, hdr);
}

void ferry__lfring_move_many(struct ferry__lfring *r, size_t idx0, char *mem, size_t k, uint8_t v, bool in)
{
    if (r->layout == FERRY__LFRING_INLINE) {
        switch (r->elem) {
#define MOVE_CASE(e)                                                                                                   \
    case e:                                                                                                            \
        move_many(r, idx0, mem, k, v, in, e, FERRY__LINES_GRP(e), FERRY__LINES_HDR(e));                               \
        return;
            FIXED_SIZES(MOVE_CASE)
#undef MOVE_CASE
        }
    }
    move_many(r, idx0, mem, k, v, in, r->elem, r->grp, r->hdr);
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
            fn(ferry__lfring_item(r, idx), ctx);
        ferry__lfring_set(r, idx, 2 * (h + r->cap)); /* R2 */
        /* Relaxed: statistics read it; nobody claims any more (V3). */
        atomic_store_explicit(&r->head, h + 1, memory_order_relaxed);
    }
    return n;
}
