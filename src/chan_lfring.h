/* SPDX-License-Identifier: MIT */
/* The lock-free batch ring: a bounded multi-producer multi-consumer queue
 * of fixed-size items that moves a batch of consecutive items per claim
 * (after Dmitry Vyukov's bounded queue, with a sequence number per slot).
 * It knows nothing about channels, waiters or sleeping: the lock-free data
 * path (chan_lf.c) builds the channel's fast paths and their handshake with
 * sleepers on top of it. Tests: tests/unit/chan_lfring.c.
 *
 * Positions. `tail` counts claimed enqueue positions, `head` claimed
 * dequeue positions; position p lives in slot p % cap, in lap p / cap. A
 * slot's sequence number says whose turn it is, in a doubled lap domain
 * so that capacity 1 works (with "full" equal to the next lap's "free", a
 * full slot would read as free one lap later):
 *     2L       free for the producer of lap L's position;
 *     2L + 1   holds the item of lap L's position;
 *     2L + 2   freed: free for lap L + 1.
 * Sequence numbers are one byte each, modulo 256, so that they add one
 * byte per item to the memory traffic (four bytes made a batch of 256
 * 8-byte items move 48 cache lines instead of 36); zeroed memory is the
 * initial state.
 *
 * Layout: where a slot's sequence byte and item lie, chosen at init from
 * the item size. Inline, for items of 4, 8 or 16 bytes (unless whole lines
 * would pass MAX_BYTES where packed storage does not): each cache line
 * holds a group of `grp` slots, their sequence bytes first, then their
 * items (chan_lines.h: twelve 4-byte items a line, seven of 8, three of
 * 16), so that a publication and the check that sees it touch the one
 * line that carries the item. At batch 1 the consumer follows the
 * producer closely, and with the bytes packed apart from the items every
 * handoff moved two lines between their CPUs; where that is dear it
 * doubled the cost of a handoff (docs/performance.md, "One line a
 * handoff" and "The bounded ring inline"). A batch of 256 8-byte items touches 37 lines inline, 36
 * packed; its loops (chan_lfring.c) are compiled for each of the three
 * sizes with the shape fixed, which keeps them within 1.07-1.4x the
 * instructions of the packed ones. Packed, for every other size: the
 * sequence bytes in an array (64 a line), then the items, each on lines
 * of their own. Both are one formula: a packed ring is a single "line" of
 * grp = cap slots whose items begin after cap bytes rounded up to a line
 * (mul = 0 puts every slot in line 0). Either way every item keeps the
 * alignment a packed array gives it, up to 16 bytes (chan_lines.h). Tests
 * force either layout for any size up to 56 bytes
 * (ferry__lfring_init_layout).
 *
 * Why a byte is enough (V4). A thread compares a slot's number with the
 * one it wants for its position p, read from `tail` (or `head`) before.
 * While the position word still equals p, the slot's number is one of
 * three (for a push: 2L - 2 claimed in the last lap and not published,
 * 2L - 1 holding the last lap's item, 2L free; for a pop: 2L - 1 the last
 * lap's item still being copied out, 2L not yet published, 2L + 1
 * published), because the number only moves when position p or p - cap is
 * claimed and the positions are 64-bit and only grow. So a comparison can
 * mislead only a thread whose p is stale, by 64 laps or more, and the
 * claim (a CAS that expects p) fails for such a thread; a verdict taken
 * without a claim ("full", "empty", "room") is confirmed by re-reading the
 * position word and taken again if it moved. A batch claims k consecutive
 * positions with one CAS, after checking that the k slots are ready.
 *
 * Closing. Two flag bits in `tail` (FERRY__LFRING_CLOSED, _RXGONE) make
 * every later claim fail, atomically with the "still open" check: the
 * claim is a CAS on the same word. With CLOSED set, head == tail means
 * closed and drained.
 *
 * Invariants:
 *  V1 head <= tail (positions, flag bits masked); tail - head <= cap;
 *  V2 a slot is written only by the producer that claimed its position
 *     while seq == 2p, read only by the consumer that claimed it while
 *     seq == 2p + 1;
 *  V3 no claim succeeds after a flag bit is set (R4);
 *  V4 while the position word equals p, slot p % cap's number is within
 *     two of the one wanted for p (see "Why a byte is enough").
 *
 * Ordering rules (cited at each atomic access as R1-R5):
 *  R1 A producer copies its items in, then stores each slot's seq = 2p + 1
 *     with release; a consumer's acquire load of seq (cmp) pairs with it
 *     before it copies the item out (ferry__lfring_stored and the batch
 *     loops).
 *  R2 A consumer copies its items out, then stores seq = 2(p + cap) with
 *     release; a producer's acquire load of seq pairs with it before it
 *     overwrites the slot: the old item's read happens before the write.
 *  R3 Claims (CAS on tail / head) and the position loads before them are
 *     relaxed: they carry no data (R1 and R2 do); a stale position only
 *     fails the CAS or the slot check and is re-read. A caller that asks
 *     for it backs off after a lost claim (chan_wait.h, "Contention").
 *  R4 The flag bits are set by a seq_cst RMW on tail. Every successful
 *     claim precedes it in tail's modification order (the claim is an RMW
 *     of the same word that saw no flag), so its items are published later
 *     (R1) and a drain can wait for them.
 *  R5 empty() reads tail, then head, seq_cst: head never passes the tail
 *     it read, so "equal" means nothing claimed and untaken at that
 *     moment; seq_cst so that callers may use it in a Dekker handshake
 *     (chan_lf.c D1).
 *
 * Thread safety: push, pop, empty, len and positions from any number of
 * threads; close and drain from one thread at a time (the channel's lock);
 * init and fini alone. Nothing waits for another thread (push and pop with
 * `backoff` spin or give the CPU away after a lost claim); only init
 * allocates.
 */
#ifndef FERRY_SRC_CHAN_LFRING_H
#define FERRY_SRC_CHAN_LFRING_H

#include <ferry/common.h>

#include <stdint.h>

#include "chan_lines.h"
#include "chan_wait.h"
#include "platform.h"

#define FERRY__LFRING_CLOSED (1ull << 63)
#define FERRY__LFRING_RXGONE (1ull << 62)
#define FERRY__LFRING_FLAGS (FERRY__LFRING_CLOSED | FERRY__LFRING_RXGONE)
/* Largest ring: capacity and bytes (items plus sequence numbers, as
 * laid out). */
#define FERRY__LFRING_MAX_CAP ((size_t)1 << 28)
#define FERRY__LFRING_MAX_BYTES ((size_t)64 << 20)
/* The layouts (see "Layout"). */
#define FERRY__LFRING_PACKED 0u
#define FERRY__LFRING_INLINE 1u

/* Tests only: runs in push, pop and room between the position load and the
 * slot's load, where a thread can be preempted for any time (V4). */
#ifndef FERRY__LFRING_STALL
#define FERRY__LFRING_STALL(r) ((void)0)
#endif

struct ferry__lfring {
    char *buf;       /* the lines: sequence bytes and items ("Layout"), cache-line aligned */
    void *mem;       /* what to free (buf is aligned in it) */
    size_t cap, elem;
    size_t mask;     /* cap - 1 when cap is a power of two, else SIZE_MAX */
    unsigned shift;  /* log2(cap) when cap is a power of two */
    unsigned layout; /* FERRY__LFRING_PACKED or _INLINE */
    size_t grp;      /* slots a line (packed: cap, one line) */
    size_t hdr;      /* offset of the items in a line */
    uint64_t mul;    /* slot i's line: ferry__lines_div(mul, i) (packed: 0) */
    size_t bytes;    /* of buf */
    /* Hot words, each pair on its own cache lines (padding, since the ring
     * is embedded in calloc'd memory and cannot rely on alignment). */
    char pad0[FERRY_CACHELINE];
    FERRY_ATOMIC(uint64_t) tail;     /* enqueue position | flag bits */
    FERRY_ATOMIC(uint64_t) tail_aux; /* the owner's counter, on the producers' line */
    char pad1[FERRY_CACHELINE];
    FERRY_ATOMIC(uint64_t) head;     /* dequeue position */
    FERRY_ATOMIC(uint64_t) head_aux; /* the owner's counter, on the consumers' line */
    char pad2[FERRY_CACHELINE];
};

/* Can a ring of cap items of elem bytes be had (1 <= cap <= MAX_CAP, at
 * most MAX_BYTES in all, in the layout init chooses)? Overflow-safe for
 * any arguments. */
bool ferry__lfring_fits(size_t cap, size_t elem);

/* Set up an empty ring (r zeroed or not), inline for items of 4, 8 or 16
 * bytes, else (or near the byte limit) packed ("Layout"). 0, -EINVAL
 * (!fits), -ENOMEM. */
int ferry__lfring_init(struct ferry__lfring *r, size_t cap, size_t elem);
/* The same in the given layout (tests: both layouts for every size;
 * -EINVAL for an inline layout of items that do not fit a line). */
int ferry__lfring_init_layout(struct ferry__lfring *r, size_t cap, size_t elem, unsigned layout);
void ferry__lfring_fini(struct ferry__lfring *r);

/* Set flag bits (CLOSED and/or RXGONE): no claim succeeds afterwards.
 * Returns the tail before (R4). */
uint64_t ferry__lfring_close(struct ferry__lfring *r, uint64_t flags);

/* After RXGONE: hand every claimed item, in order, to fn (may be NULL),
 * waiting (yielding) for the publication of items whose producers are
 * between their claim and their release store. Returns how many. */
size_t ferry__lfring_drain(struct ferry__lfring *r, void (*fn)(void *item, void *ctx), void *ctx);

static inline size_t ferry__lfring_index(const struct ferry__lfring *r, uint64_t pos)
{
    return r->mask != SIZE_MAX ? (size_t)(pos & r->mask) : (size_t)(pos % r->cap);
}

/* Position pos's slot, and the sequence number "free for pos" (2L for its
 * lap L, modulo 256). */
static inline size_t ferry__lfring_slot(const struct ferry__lfring *r, uint64_t pos, uint8_t *free_seq)
{
    if (r->mask != SIZE_MAX) {
        *free_seq = (uint8_t)(2 * (pos >> r->shift));
        return (size_t)(pos & r->mask);
    }
    *free_seq = (uint8_t)(2 * (pos / r->cap));
    return (size_t)(pos % r->cap);
}

/* A doubled position 2p + f (f = 1: holds p's item, f = 0: free for p) as
 * the sequence number stored for it in slot p % cap. */
static inline uint8_t ferry__lfring_encode(const struct ferry__lfring *r, uint64_t dpos)
{
    uint8_t free_seq;
    (void)ferry__lfring_slot(r, dpos >> 1, &free_seq);
    return (uint8_t)(free_seq + (dpos & 1));
}

/* The line that holds slot idx, and idx's place *j in it ("Layout"). */
static inline char *ferry__lfring_line(const struct ferry__lfring *r, size_t idx, size_t *j)
{
    size_t g = ferry__lines_div(r->mul, idx);
    *j = idx - g * r->grp;
    return r->buf + g * FERRY_CACHELINE;
}

/* Slot idx's sequence byte and item. */
static inline FERRY_ATOMIC(uint8_t) *ferry__lfring_seq(const struct ferry__lfring *r, size_t idx)
{
    size_t j;
    char *line = ferry__lfring_line(r, idx, &j);
    return (FERRY_ATOMIC(uint8_t) *)(void *)(line + j);
}

static inline char *ferry__lfring_item(const struct ferry__lfring *r, size_t idx)
{
    size_t j;
    char *line = ferry__lfring_line(r, idx, &j);
    return line + r->hdr + j * r->elem;
}

/* Slot idx's sequence number. Acquire: R1 (a producer's publication) or
 * R2 (a consumer's release of the slot). */
static inline uint8_t ferry__lfring_stored(const struct ferry__lfring *r, size_t idx)
{
    return atomic_load_explicit(ferry__lfring_seq(r, idx), memory_order_acquire);
}

/* Slot idx's sequence number compared with the doubled position dpos
 * (2p + f, see encode): 0 equal, < 0 behind, > 0 ahead, exact within V4's
 * window. Acquire: R1 or R2. */
static inline int ferry__lfring_cmp(const struct ferry__lfring *r, size_t idx, uint64_t dpos)
{
    return (int8_t)(uint8_t)(ferry__lfring_stored(r, idx) - ferry__lfring_encode(r, dpos));
}

/* Release store of slot idx's sequence number for the doubled position
 * dpos: R1 (publish) or R2 (free). */
static inline void ferry__lfring_set(struct ferry__lfring *r, size_t idx, uint64_t dpos)
{
    atomic_store_explicit(ferry__lfring_seq(r, idx), ferry__lfring_encode(r, dpos), memory_order_release);
}

/* How many slots from idx0 (k = 1 known) up to lim hold sequence number
 * want: across lines to the ring's end, then from slot 0, one lap later
 * (want + 2). Acquire loads: R1 or R2. A batch's loop lives out
 * of line in chan_lfring.c, so that the one-item path stays small enough
 * to be inlined into its callers. */
size_t ferry__lfring_run_many(const struct ferry__lfring *r, size_t idx0, uint8_t want, size_t lim);
static inline size_t ferry__lfring_run(const struct ferry__lfring *r, size_t idx0, uint8_t want, size_t lim)
{
    return lim == 1 ? 1 : ferry__lfring_run_many(r, idx0, want, lim);
}

/* After a claim of k slots from idx0: copy the items in (or out) and
 * store `v` into each slot after its item, with release (R1: publish, or
 * R2: free), across lines; v + 2, the next lap's number, after the ring's
 * end. Out of line: the batch path. */
void ferry__lfring_move_many(struct ferry__lfring *r, size_t idx0, char *mem, size_t k, uint8_t v, bool in);

/* After a claim of k slots from idx0 (whose line and place in it are
 * line, j): copy the items in or out, then store `seq` into the slots
 * with release (R1: publish, after a copy in; R2: free, after a copy
 * out). One item in place; a batch out of line. */
static inline void ferry__lfring_move(struct ferry__lfring *r, size_t idx0, char *line, size_t j, char *mem, size_t k,
                                      uint8_t seq, bool in)
{
    if (k == 1) {
        char *slot = line + r->hdr + j * r->elem;
        if (in)
            ferry__copy_items(slot, mem, 1, r->elem);
        else
            ferry__copy_items(mem, slot, 1, r->elem);
        atomic_store_explicit((FERRY_ATOMIC(uint8_t) *)(void *)(line + j), seq, memory_order_release); /* R1 / R2 */
    } else {
        ferry__lfring_move_many(r, idx0, mem, k, seq, in); /* R1 / R2 */
    }
}

/* Push up to n items; returns how many went in (0: full at the tail, or a
 * flag set). Never waits; with `backoff`, a lost claim backs off first (R3). */
static inline size_t ferry__lfring_push(struct ferry__lfring *r, const void *src, size_t n, bool backoff)
{
    if (n == 0)
        return 0;
    /* Relaxed: R3. */
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t k, idx0, j;
    char *line;
    uint8_t want;
    unsigned lost = 0;
    for (;;) {
        if (t & FERRY__LFRING_FLAGS)
            return 0;
        idx0 = ferry__lfring_slot(r, t, &want); /* want: free for t */
        line = ferry__lfring_line(r, idx0, &j);
        FERRY__LFRING_STALL(r);
        /* Acquire: R2 (the last lap's consumer read its item before). */
        uint8_t now_seq = atomic_load_explicit((FERRY_ATOMIC(uint8_t) *)(void *)(line + j), memory_order_acquire);
        int8_t d = (int8_t)(uint8_t)(now_seq - want);
        if (d != 0) {
            /* Relaxed: R3. Behind: the slot still holds an item of the
             * last lap (full), unless t is stale (V4: re-read). Ahead: t
             * is stale. */
            uint64_t now = atomic_load_explicit(&r->tail, memory_order_relaxed);
            if (d < 0 && now == t)
                return 0;
            t = now;
            continue;
        }
        k = ferry__lfring_run(r, idx0, want, n);
        /* Relaxed CAS: R3 (claims carry no data); R4 (the RMW chain on
         * tail orders it against a close); V4 (it fails for a stale t). */
        if (atomic_compare_exchange_weak_explicit(&r->tail, &t, t + k, memory_order_relaxed, memory_order_relaxed))
            break;
        if (backoff)
            ferry__contention_backoff(&lost);
    }
    /* R1: the items in, then their slots published. */
    ferry__lfring_move(r, idx0, line, j, (char *)(uintptr_t)src, k, (uint8_t)(want + 1), true);
    return k;
}

/* Pop up to max items; returns how many (0: nothing published at the
 * head). Never waits; with `backoff`, a lost claim backs off first (R3). */
static inline size_t ferry__lfring_pop(struct ferry__lfring *r, void *dst, size_t max, bool backoff)
{
    if (max == 0)
        return 0;
    /* Relaxed: R3. */
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t k, idx0, j;
    char *line;
    uint8_t want;
    unsigned lost = 0;
    for (;;) {
        idx0 = ferry__lfring_slot(r, h, &want);
        line = ferry__lfring_line(r, idx0, &j);
        want++; /* holds h */
        FERRY__LFRING_STALL(r);
        /* Acquire: R1 (the producer's items are in). */
        uint8_t now_seq = atomic_load_explicit((FERRY_ATOMIC(uint8_t) *)(void *)(line + j), memory_order_acquire);
        int8_t d = (int8_t)(uint8_t)(now_seq - want);
        if (d != 0) {
            /* Relaxed: R3. Behind: empty, or the head item not published
             * yet, unless h is stale (V4: re-read). Ahead: h is stale. */
            uint64_t now = atomic_load_explicit(&r->head, memory_order_relaxed);
            if (d < 0 && now == h)
                return 0;
            h = now;
            continue;
        }
        k = ferry__lfring_run(r, idx0, want, max);
        /* Relaxed CAS: R3; V4 (it fails for a stale h). */
        if (atomic_compare_exchange_weak_explicit(&r->head, &h, h + k, memory_order_relaxed, memory_order_relaxed))
            break;
        if (backoff)
            ferry__contention_backoff(&lost);
    }
    /* R2: our read is done before the slots are reused (free for the
     * next lap: 2L + 2). */
    ferry__lfring_move(r, idx0, line, j, (char *)dst, k, (uint8_t)(want + 1), false);
    return k;
}

/* Nothing claimed and not yet taken (R5). */
static inline bool ferry__lfring_empty(struct ferry__lfring *r)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_seq_cst) & ~FERRY__LFRING_FLAGS;
    return atomic_load_explicit(&r->head, memory_order_seq_cst) == t;
}

/* Is the slot at the tail free now, and the ring open? A hint: another
 * producer may take it at once (R3). The verdict holds for a tail that did
 * not move while the slot was read (V4). */
static inline bool ferry__lfring_room(struct ferry__lfring *r)
{
    /* Relaxed: R3 (the slot's acquire load is R2). */
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed), now;
    for (;; t = now) {
        if (t & FERRY__LFRING_FLAGS)
            return false;
        FERRY__LFRING_STALL(r);
        bool room = ferry__lfring_cmp(r, ferry__lfring_index(r, t), 2 * t) == 0;
        now = atomic_load_explicit(&r->tail, memory_order_relaxed); /* R3, V4 */
        if (now == t)
            return room;
    }
}

/* The flag bits now (relaxed: a hint for fast-path pre-checks; R4 makes
 * the claim itself exact). */
static inline uint64_t ferry__lfring_flags(struct ferry__lfring *r)
{
    return atomic_load_explicit(&r->tail, memory_order_relaxed) & FERRY__LFRING_FLAGS;
}

/* Both positions (relaxed: statistics, exact once traffic stops). */
static inline void ferry__lfring_positions(struct ferry__lfring *r, uint64_t *head, uint64_t *tail)
{
    *head = atomic_load_explicit(&r->head, memory_order_relaxed);
    *tail = atomic_load_explicit(&r->tail, memory_order_relaxed) & ~FERRY__LFRING_FLAGS;
}

/* Items in the ring now (approximate while others move them). */
static inline size_t ferry__lfring_len(struct ferry__lfring *r)
{
    uint64_t h, t;
    ferry__lfring_positions(r, &h, &t);
    size_t n = t > h ? (size_t)(t - h) : 0;
    return n > r->cap ? r->cap : n;
}

#endif /* FERRY_SRC_CHAN_LFRING_H */
