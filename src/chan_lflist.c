/* SPDX-License-Identifier: MIT */
/* The lock-free block list: set-up, the pool of blocks, linking and
 * entering blocks, a batch's ready bytes and items in either layout,
 * closing and draining. The hot paths (push, pop) are
 * static inline in chan_lflist.h, which states the design, the invariants
 * and the rules L1-L8 cited here. */
#include "chan_lflist.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

unsigned ferry__lflist_test_shift;
void *(*ferry__lflist_test_alloc)(size_t);

bool ferry__lflist_fits(size_t elem) { return elem >= 1 && elem <= FERRY__LFLIST_MAX_ELEM; }

/* Run body with r pointing at each ready byte of block b in layout lay,
 * in slot order. */
#define FOR_EACH_READY(l, b, lay, r, body)                                                                         \
    do {                                                                                                           \
        if ((lay) == FERRY__LFLIST_PACKED) {                                                                       \
            for (size_t o_ = 0; o_ < (l)->cap; o_++) {                                                             \
                FERRY_ATOMIC(uint8_t) *r = &(b)->ready[o_];                                                        \
                body;                                                                                              \
            }                                                                                                      \
        } else {                                                                                                   \
            char *line_ = (char *)(b) + (l)->inl_off;                                                              \
            for (size_t o_ = 0, j_ = 0; o_ < (l)->cap; o_++) {                                                     \
                FERRY_ATOMIC(uint8_t) *r = (FERRY_ATOMIC(uint8_t) *)(void *)(line_ + j_);                          \
                body;                                                                                              \
                if (++j_ == (l)->grp) {                                                                            \
                    j_ = 0;                                                                                        \
                    line_ += FERRY_CACHELINE;                                                                      \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
    } while (0)

/* A block for linking, cleared, laid out for batches of n ("Layout"; it
 * is private until linked: L2). Only the new layout's ready bytes are
 * cleared: the other layout's may still be 1 from an earlier use, and are
 * read only through stale pointers (L4). Stale pointers may read the
 * layout and ready bytes meanwhile (L4), hence atomic stores. */
static void block_clear(struct ferry__lflist *l, struct ferry__lfblock *b, size_t n)
{
    unsigned lay = n < FERRY__LFLIST_INLINE_BELOW && l->inl_off != 0 ? FERRY__LFLIST_INLINE : FERRY__LFLIST_PACKED;
    /* Relaxed: published by the linker's release stores (L2). */
    atomic_store_explicit(&b->next, NULL, memory_order_relaxed);
    atomic_store_explicit(&b->acks, 0, memory_order_relaxed);
    atomic_store_explicit(&b->layout, (uint8_t)lay, memory_order_relaxed);
    FOR_EACH_READY(l, b, lay, r, atomic_store_explicit(r, 0, memory_order_relaxed));
}

/* Under pool_lock: pop the stack (L6: the only popper), else allocate. */
static struct ferry__lfblock *pool_take_locked(struct ferry__lflist *l)
{
    /* Acquire: L6, pairs with the pusher's release CAS (its pool_next). */
    struct ferry__lfblock *top = atomic_load_explicit(&l->stack, memory_order_acquire);
    while (top && !atomic_compare_exchange_weak_explicit(&l->stack, &top, top->pool_next, memory_order_acquire,
                                                         memory_order_acquire))
        ;
    if (top)
        return top;
    /* Cache-line aligned, so that each line of the inline area holds its
     * slots' ready bytes and items ("Layout"). */
    char *mem = l->alloc(l->block_bytes + FERRY_CACHELINE - 1);
    if (!mem)
        return NULL;
    struct ferry__lfblock *b =
        (struct ferry__lfblock *)(mem + (FERRY_CACHELINE - 1 - ((uintptr_t)mem + FERRY_CACHELINE - 1) % FERRY_CACHELINE));
    /* Every ready byte of both layouts zero once: block_clear clears only
     * the current layout's, and the others are read only through stale
     * pointers (L4) -- which must not read memory never written. Relaxed:
     * the block is new, nobody else can see it. */
    FOR_EACH_READY(l, b, FERRY__LFLIST_PACKED, r, atomic_store_explicit(r, 0, memory_order_relaxed));
    if (l->inl_off != 0)
        FOR_EACH_READY(l, b, FERRY__LFLIST_INLINE, r, atomic_store_explicit(r, 0, memory_order_relaxed));
    b->mem = mem;
    b->all_next = l->all;
    l->all = b;
    l->blocks++;
    return b;
}

struct ferry__lfblock *ferry__lflist_get(struct ferry__lflist *l, size_t n)
{
    /* Acquire: L6, pairs with the release CAS that left it there. */
    struct ferry__lfblock *b = atomic_exchange_explicit(&l->spare, NULL, memory_order_acquire);
    if (!b) {
        ferry_mutex_lock(&l->pool_lock);
        b = pool_take_locked(l);
        ferry_mutex_unlock(&l->pool_lock);
        if (!b)
            return NULL;
    }
    block_clear(l, b, n);
    return b;
}

void ferry__lflist_put(struct ferry__lflist *l, struct ferry__lfblock *b)
{
    struct ferry__lfblock *none = NULL;
    /* Release: L6 (and L5: the recycler's view of every copy-out). */
    if (atomic_compare_exchange_strong_explicit(&l->spare, &none, b, memory_order_release, memory_order_relaxed))
        return;
    struct ferry__lfblock *top = atomic_load_explicit(&l->stack, memory_order_relaxed);
    do
        b->pool_next = top;
    while (!atomic_compare_exchange_weak_explicit(&l->stack, &top, b, memory_order_release, memory_order_relaxed));
}

void ferry__lflist_link(struct ferry__lflist *l, struct ferry__lfblock *b, struct ferry__lfblock *n)
{
    atomic_store_explicit(&b->next, n, memory_order_release);     /* L2 */
    atomic_store_explicit(&l->tail_blk, n, memory_order_release); /* L2 */
    atomic_fetch_add_explicit(&l->tail, 1, memory_order_release); /* L2: END -> N's offset 0, flags kept */
}

void ferry__lflist_enter(struct ferry__lflist *l, struct ferry__lfblock *b, uint64_t end)
{
    /* Acquire: L3 (linked by L2 before the last slot was published). */
    struct ferry__lfblock *n = atomic_load_explicit(&b->next, memory_order_acquire);
    atomic_store_explicit(&l->head_blk, n, memory_order_release); /* L3 */
    atomic_store_explicit(&l->head, end + 1, memory_order_release); /* L3 */
}

int ferry__lflist_init(struct ferry__lflist *l, size_t elem)
{
    if (!ferry__lflist_fits(elem))
        return -EINVAL;
    unsigned shift = 0;
    while ((1u << shift) < FERRY__LFLIST_MIN_LAP ||
           ((1u << shift) < FERRY__LFLIST_MAX_LAP && ((size_t)1 << shift) * elem < FERRY__LFLIST_TARGET_BYTES))
        shift++;
    return ferry__lflist_init_shape(l, elem, ferry__lflist_test_shift ? ferry__lflist_test_shift : shift);
}

int ferry__lflist_init_shape(struct ferry__lflist *l, size_t elem, unsigned shift)
{
    if (!ferry__lflist_fits(elem) || shift < 1 || shift > 10)
        return -EINVAL;
    l->elem = elem;
    l->shift = shift;
    l->cap = ((size_t)1 << shift) - 1;
    /* The packed area: CAP ready bytes, then the items on a line of their
     * own (blocks are cache-line aligned: pool_take_locked); then the
     * inline area, grp slots a line with their ready bytes (the shape in
     * chan_lines.h). */
    size_t line = FERRY_CACHELINE;
    l->items_off = (sizeof(struct ferry__lfblock) + l->cap + line - 1) / line * line;
    l->block_bytes = l->items_off + l->cap * elem; /* <= 32 KiB * 1023 + a little: no overflow */
    l->grp = ferry__lines_shape(elem, &l->grp_hdr, &l->grp_mul);
    l->inl_off = 0;
    if (l->grp > 0) {
        l->inl_off = (l->block_bytes + line - 1) / line * line;
        l->block_bytes = l->inl_off + (l->cap + l->grp - 1) / l->grp * line;
    }
    if (!l->alloc)
        l->alloc = ferry__lflist_test_alloc ? ferry__lflist_test_alloc : malloc;
    l->all = NULL;
    l->blocks = 0;
    ferry_mutex_init(&l->pool_lock);
    /* Relaxed: nobody else sees the list before init returns. */
    atomic_store_explicit(&l->spare, NULL, memory_order_relaxed);
    atomic_store_explicit(&l->stack, NULL, memory_order_relaxed);
    struct ferry__lfblock *b = pool_take_locked(l); /* alone: no lock needed yet */
    if (!b) {
        ferry__lflist_fini(l);
        return -ENOMEM;
    }
    block_clear(l, b, FERRY__LFLIST_INLINE_BELOW); /* packed, until a push links the next */
    atomic_store_explicit(&l->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&l->head, 0, memory_order_relaxed);
    atomic_store_explicit(&l->tail_blk, b, memory_order_relaxed);
    atomic_store_explicit(&l->head_blk, b, memory_order_relaxed);
    atomic_store_explicit(&l->tail_aux, 0, memory_order_relaxed);
    atomic_store_explicit(&l->head_aux, 0, memory_order_relaxed);
    return 0;
}

void ferry__lflist_fini(struct ferry__lflist *l)
{
    for (struct ferry__lfblock *b = l->all, *nx; b; b = nx) {
        nx = b->all_next;
        free(b->mem);
    }
    l->all = NULL;
    l->blocks = 0;
    ferry_mutex_fini(&l->pool_lock);
}

size_t ferry__lflist_blocks(struct ferry__lflist *l)
{
    ferry_mutex_lock(&l->pool_lock);
    size_t n = l->blocks;
    ferry_mutex_unlock(&l->pool_lock);
    return n;
}

size_t ferry__lflist_ready_run(const struct ferry__lflist *l, struct ferry__lfblock *b, unsigned lay, size_t o,
                               size_t lim)
{
    size_t k = 0;
    if (lay == FERRY__LFLIST_PACKED) {
        FERRY_ATOMIC(uint8_t) *r = b->ready + o;
        for (; lim - k >= 4; k += 4) {
            /* Acquire: L1 (four bytes, one branch; a step with a byte
             * still clear is read again one byte at a time). */
            unsigned x = (unsigned)atomic_load_explicit(&r[k], memory_order_acquire) &
                         atomic_load_explicit(&r[k + 1], memory_order_acquire) &
                         atomic_load_explicit(&r[k + 2], memory_order_acquire) &
                         atomic_load_explicit(&r[k + 3], memory_order_acquire);
            if (x == 0)
                break;
        }
        while (k < lim && atomic_load_explicit(&r[k], memory_order_acquire)) /* L1 */
            k++;
        return k;
    }
    size_t j;
    char *line = ferry__lflist_line(l, b, o, &j);
    while (k < lim && atomic_load_explicit((FERRY_ATOMIC(uint8_t) *)(void *)(line + j), memory_order_acquire)) { /* L1 */
        k++;
        if (++j == l->grp) {
            j = 0;
            line += FERRY_CACHELINE;
        }
    }
    return k;
}

void ferry__lflist_set_ready(const struct ferry__lflist *l, struct ferry__lfblock *b, unsigned lay, size_t o,
                             size_t k)
{
    if (lay == FERRY__LFLIST_PACKED) {
        FERRY_ATOMIC(uint8_t) *r = b->ready + o;
        size_t i = 0;
        for (; k - i >= 4; i += 4) {
            /* Release: L1 (the items were copied in before). */
            atomic_store_explicit(&r[i], 1, memory_order_release);
            atomic_store_explicit(&r[i + 1], 1, memory_order_release);
            atomic_store_explicit(&r[i + 2], 1, memory_order_release);
            atomic_store_explicit(&r[i + 3], 1, memory_order_release);
        }
        for (; i < k; i++)
            atomic_store_explicit(&r[i], 1, memory_order_release); /* L1 */
        return;
    }
    size_t j;
    char *line = ferry__lflist_line(l, b, o, &j);
    for (size_t i = 0; i < k; i++) {
        atomic_store_explicit((FERRY_ATOMIC(uint8_t) *)(void *)(line + j), 1, memory_order_release); /* L1 */
        if (++j == l->grp) {
            j = 0;
            line += FERRY_CACHELINE;
        }
    }
}

/* k items from slot o of an inline block, line by line. */
void ferry__lflist_copy_out_lines(const struct ferry__lflist *l, struct ferry__lfblock *b, size_t o, size_t k,
                                  void *dst)
{
    size_t j;
    char *line = ferry__lflist_line(l, b, o, &j), *to = dst;
    while (k > 0) {
        size_t m = l->grp - j < k ? l->grp - j : k;
        memcpy(to, line + l->grp_hdr + j * l->elem, m * l->elem);
        to += m * l->elem;
        k -= m;
        j = 0;
        line += FERRY_CACHELINE;
    }
}

void ferry__lflist_copy_in_lines(const struct ferry__lflist *l, struct ferry__lfblock *b, size_t o, size_t k,
                                 const void *src)
{
    size_t j;
    char *line = ferry__lflist_line(l, b, o, &j);
    const char *from = src;
    while (k > 0) {
        size_t m = l->grp - j < k ? l->grp - j : k;
        memcpy(line + l->grp_hdr + j * l->elem, from, m * l->elem);
        from += m * l->elem;
        k -= m;
        j = 0;
        line += FERRY_CACHELINE;
    }
}

void ferry__lflist_close(struct ferry__lflist *l, uint64_t flags)
{
    atomic_fetch_or_explicit(&l->tail, flags, memory_order_seq_cst); /* L7 */
}

size_t ferry__lflist_drain(struct ferry__lflist *l, void (*fn)(void *item, void *ctx), void *ctx)
{
    /* seq_cst RMW: L7. Claims after it fail; what it returns is the end of
     * everything claimed. */
    uint64_t end = atomic_fetch_or_explicit(&l->tail, FERRY__LFLIST_RXGONE, memory_order_seq_cst) &
                   ~FERRY__LFLIST_FLAGS;
    /* Relaxed: no consumer is left (the caller holds the channel's lock
     * and the last receiver is gone); producers no longer claim. */
    uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
    struct ferry__lfblock *b = atomic_load_explicit(&l->head_blk, memory_order_relaxed);
    size_t n = 0;
    for (; h < end; h++) {
        size_t o = (size_t)h & l->cap;
        if (o == l->cap) {
            /* Acquire: L2 (linked: tail went past this END). */
            b = atomic_load_explicit(&b->next, memory_order_acquire);
            atomic_store_explicit(&l->head_blk, b, memory_order_relaxed);
            continue;
        }
        /* Acquire: L1. Claimed before the flag (L7): its producer is
         * between its claim and its publication. */
        while (!atomic_load_explicit(ferry__lflist_ready(l, b, o), memory_order_acquire))
            sched_yield();
        if (fn)
            fn(ferry__lflist_item(l, b, o), ctx);
        n++;
    }
    /* Relaxed: statistics read it; the blocks wait for fini. */
    atomic_store_explicit(&l->head, h, memory_order_relaxed);
    return n;
}
