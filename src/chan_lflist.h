/* SPDX-License-Identifier: MIT */
/* The lock-free block list: an unbounded multi-producer multi-consumer
 * queue of fixed-size items, kept in a linked list of fixed-size blocks
 * that are recycled, never freed while the list lives, so that steady
 * traffic allocates nothing. A batch of consecutive items moves per claim.
 * It knows nothing about channels, waiters or sleeping: the lock-free data
 * path (chan_lf.c) builds the unbounded channel on it. After the list
 * channels of crossbeam-channel and Dmitry Vyukov's designs (positions
 * claimed with compare-and-swap, a block per lap), with its own rules for
 * recycling and for claiming only published items. Tests:
 * tests/unit/chan_lflist.c, model: models/chan_lflist.pml.
 *
 * ------------------------------------------------------------------------
 * Positions. `tail` counts claimed enqueue indices, `head` claimed dequeue
 * indices. Index i lies in block number i >> shift at offset o = i & (LAP -
 * 1); offsets 0 .. LAP - 2 are the block's CAP = LAP - 1 slots, offset
 * LAP - 1 is no slot but the block's END: "the next block is being
 * linked" (tail) or "being entered" (head). An index maps to an item count
 * by pos(i) = i - (i >> shift): each block's END index holds no item.
 * Flag bits in `tail` (CLOSED, RXGONE) make every later enqueue claim
 * fail, atomically with the claim (it is a CAS on the same word).
 *
 * Blocks. A block has CAP slots (items and one `ready` byte each, laid out
 * as below), `next`,
 * and `acks`: the number of its slots whose items have been taken out. Two
 * pointers say where the ends are: tail_blk holds the block of `tail`,
 * head_blk the block of `head` (each updated, as below, before its index
 * moves into the block).
 *
 * Enqueue (push). Load tail (acquire), then tail_blk. At an END offset,
 * another producer is linking the next block: yield and reload (a window
 * of three stores, see L2). Otherwise claim k = min(n, CAP - o) slots with
 * one CAS tail -> tail + k. A claim that takes the block's last slot takes
 * the duty of linking the next block, and must therefore hold one before
 * it claims (a spare, a recycled one, or a new allocation: when none can
 * be had, it claims only up to the slot before the last, so that running
 * out of memory never strands the list). After the claim: copy the items
 * in and set each slot's ready byte (release).
 *
 * Dequeue (pop). Load head (acquire), then head_blk. At an END offset,
 * another consumer is entering the next block: nothing to take yet (see
 * L3 for why nobody is stranded). Otherwise count the consecutive slots
 * from o whose ready byte is set (acquire), up to max and CAP - o, and
 * claim them with one CAS head -> head + k: only published items are
 * ever claimed, so a dequeue never waits for a producer. A claim that
 * takes the block's last slot enters the next block (L3). After the
 * claim: copy the items out, then add k to the block's acks (L5).
 *
 * Layout, chosen per block by the producer that prepares it for linking,
 * from the size of the batch it is pushing. Packed, for batches of
 * FERRY__LFLIST_INLINE_BELOW items or more: the items one after another,
 * and the ready bytes in an array before them (slot o's at ready[o]: 64
 * slots' bytes on a cache line, so a batch of 256 is published and
 * scanned in 4 lines besides its items). Inline, for smaller batches (and
 * items of at most FERRY__LFLIST_INLINE_MAX_ELEM bytes): each cache line
 * of the block's inline area holds a group of `grp` slots, their ready
 * bytes first, then their items (seven 8-byte items and their bytes a
 * line), so that a handoff moves one line, not a ready line and an item
 * line. At batch 1 a consumer follows the producer closely; packed, every
 * publication and check of a ready byte moved a line between their CPUs
 * besides the item's. Where moving a line between CPUs is dear (2-CPU VM,
 * slow state: a 335 ns round trip) that doubled the cost of a handoff
 * (docs/performance.md, "The slow machine state, measured", and "One line
 * a handoff"). The two layouts lie in separate areas of every block (a
 * byte that one layout uses as a ready byte is never an item byte of the
 * other, so a stale pointer (L4) reads only bytes that are only ever
 * accessed atomically); `layout` (L2: set before linking) says which one
 * the block has now.
 * ------------------------------------------------------------------------
 * Why it is safe: the rules (cited at each atomic access as L1-L8).
 *  L1 Publication: a producer copies its items in, then stores each
 *     slot's ready byte with release; a consumer's acquire load of the
 *     byte, before its claim, pairs with it, so the copy-out after the
 *     claim reads the item.
 *  L2 Linking: the producer whose claim took block B's last slot (there is
 *     exactly one: positions are claimed once) links B's successor N,
 *     which it prepared privately before its claim (its layout set and
 *     that layout's ready bytes cleared, acks and next zero): it stores
 *     B->next = N (release), tail_blk = N (release), then adds 1 to
 *     tail (release RMW: END -> N's offset 0; an add, so that a flag set
 *     meanwhile survives). A producer's acquire load of tail that sees an
 *     index in N therefore sees tail_blk == N and N's cleared state. The linker publishes its own last slot of B
 *     only after all this (L1 orders it), so a consumer that sees B's last
 *     slot ready sees B->next.
 *  L3 Entering: the consumer whose claim took B's last slot (exactly one)
 *     loads B->next (acquire; linked by L2, since the slot it claimed was
 *     ready), stores head_blk = N (release), then head = N's offset 0
 *     (release; the only store to head while it is at an END, which no
 *     other claim can move). It then reports "entered" to its caller,
 *     which re-checks for sleeping receivers (chan_lf.c D2): a receiver
 *     that found head at END and went to sleep is settled by the consumer
 *     that moved head on.
 *  L4 Validation: positions only grow (62 bits: they never wrap), so a
 *     claim's CAS succeeds only if its index has not moved since the
 *     acquire load that preceded the block pointer's load; then that
 *     pointer is the block of the index (L2, L3: the pointer is stored
 *     before the index moves into its block, and only after the index
 *     leaves it is it stored again), and the block cannot be recycled
 *     while the claimed slots are unconsumed (L5). A consumer reads ready
 *     bytes through the pointer before its CAS: if the pointer is stale
 *     (the index moved on, the block may be recycled and reused), the
 *     bytes it read are meaningless and the CAS fails. No thread writes
 *     or reads items through a pointer it has not validated by its claim.
 *     A consumer loads head_blk with acquire, so that even a pointer newer
 *     than its head (a block just allocated and linked) is one whose
 *     allocation and clearing it has seen (L2, L3).
 *  L5 Recycling: a consumer adds its k to acks after its copy-out (acq_rel
 *     RMW); the one whose add completes CAP recycles the block. By then
 *     every slot of the block has been claimed and read, tail_blk moved on
 *     before the last slot was published (L2), head_blk before the last
 *     slot was read (L3); nobody will claim, write or read an item in it
 *     again, and stale pointers to it only read its layout and ready
 *     bytes (L4). The release half of each add orders that consumer's
 *     copy-out before the reuse; the acquire half makes the recycler see
 *     all of them. Blocks
 *     are freed only by fini: a stale pointer always points at a block.
 *  L6 The pool: one `spare` block (taken with an exchange, returned with a
 *     CAS from NULL) and a stack of the rest. Pushes onto the stack are
 *     lock-free (release CAS); pops are made under pool_lock, one popper
 *     at a time, so the stack has no ABA: only the popper removes a block,
 *     so the top it read and that top's next cannot be popped and pushed
 *     back behind its back. Allocation (malloc, and the list of every
 *     block kept for fini) also happens under pool_lock.
 *  L7 Closing: the flag bits are set by a seq_cst RMW on tail; every claim
 *     that succeeded precedes it in tail's modification order, so its
 *     items are published later and a drain can wait for them (as in the
 *     ring, lfring R4). The linker's add preserves the bits.
 *  L8 empty() reads tail, then head, seq_cst: head never passes the tail
 *     it read, so "equal positions" means nothing claimed and untaken at
 *     that moment; seq_cst for the callers' handshake (chan_lf.c D1).
 *
 * Invariants: V1 pos(head) <= pos(tail); V2 a slot is written only by the
 * producer that claimed it, read only by the consumer that claimed it
 * after seeing it ready; V3 every block is in exactly one of: the chain
 * from head_blk to tail_blk, the blocks before head_blk not yet fully
 * acked, a producer's hands (prepared for linking), `spare`, the stack --
 * and in the list of all blocks until fini.
 *
 * Memory: a block is its packed area (about TARGET bytes of items and a
 * ready byte a slot) and, for items of up to INLINE_MAX_ELEM bytes, its
 * inline area (CAP / grp lines), cache-line aligned: 2.2-2.4x the items'
 * bytes for most sizes up to 56 (18.4 KiB a block for 8-byte items), 3.3x
 * for 29-byte items (one a line); larger items 1.0x. One block at init;
 * more only when the chain holds more items
 * than the blocks so far (a backlog); every block is kept and reused,
 * so a list that once held a backlog of B items keeps about B items of
 * storage. Nothing waits for another thread, except a producer that meets
 * an END in tail (L2's three stores) and a drain (publication of claimed
 * items).
 *
 * Thread safety: push, pop, empty, len and positions from any number of
 * threads; close and drain from one thread at a time (the channel's lock);
 * init and fini alone.
 */
#ifndef FERRY_SRC_CHAN_LFLIST_H
#define FERRY_SRC_CHAN_LFLIST_H

#include <ferry/common.h>
#include <ferry/mutex.h>

#include <sched.h>
#include <stdint.h>

#include "chan_lines.h"
#include "chan_wait.h"
#include "platform.h"

#define FERRY__LFLIST_CLOSED (1ull << 63)
#define FERRY__LFLIST_RXGONE (1ull << 62)
#define FERRY__LFLIST_FLAGS (FERRY__LFLIST_CLOSED | FERRY__LFLIST_RXGONE)
/* Block shape: LAP indices (LAP - 1 slots) with about TARGET bytes of
 * items, LAP a power of two in [MIN_LAP, MAX_LAP]; items above MAX_ELEM
 * bytes do not fit the list (the channel keeps the locked path). */
#define FERRY__LFLIST_TARGET_BYTES 8192u
#define FERRY__LFLIST_MIN_LAP 32u
#define FERRY__LFLIST_MAX_LAP 1024u
#define FERRY__LFLIST_MAX_ELEM ((size_t)32 << 10)
/* The layouts (see "Layout"): blocks linked by a push of fewer than
 * INLINE_BELOW items are inline, if their items have at most
 * INLINE_MAX_ELEM bytes (a line holds at least one and its ready byte). */
#define FERRY__LFLIST_PACKED 0u
#define FERRY__LFLIST_INLINE 1u
#ifndef FERRY__LFLIST_INLINE_BELOW
#define FERRY__LFLIST_INLINE_BELOW 8u
#endif
#define FERRY__LFLIST_INLINE_MAX_ELEM FERRY__LINES_MAX_ELEM

struct ferry__lfblock {
    FERRY_ATOMIC(struct ferry__lfblock *) next; /* L2 */
    struct ferry__lfblock *pool_next;           /* on the stack (L6) */
    struct ferry__lfblock *all_next;            /* every block, for fini */
    void *mem;                                  /* what to free (the block is aligned in it) */
    /* The layout: FERRY__LFLIST_PACKED or _INLINE. Set while the block is
     * private, published by linking (L2); atomic because a stale pointer
     * may read it meanwhile (L4). */
    FERRY_ATOMIC(uint8_t) layout;
    char pad0[FERRY_CACHELINE];
    FERRY_ATOMIC(size_t) acks; /* slots taken out (L5), on its own line */
    char pad1[FERRY_CACHELINE];
    /* The packed area: CAP ready bytes from a line of their own, then the
     * items (at items_off, on a line of their own); then the inline area,
     * if any (at inl_off). */
    _Alignas(FERRY_CACHELINE) FERRY_ATOMIC(uint8_t) ready[];
};

struct ferry__lflist {
    size_t elem;
    unsigned shift;   /* LAP = 1 << shift */
    size_t cap;       /* slots per block: LAP - 1 */
    size_t items_off; /* offset of the packed items in a block */
    size_t inl_off;   /* offset of the inline area, or 0: none (items too big) */
    size_t grp;       /* inline: slots a line */
    size_t grp_hdr;   /* inline: offset of the items in a line (after grp ready bytes) */
    uint64_t grp_mul; /* inline: o / grp = ferry__lines_div(grp_mul, o) (chan_lines.h) */
    size_t block_bytes;
    /* Test hook: the allocator of blocks (malloc unless a test sets it). */
    void *(*alloc)(size_t);
    char pad0[FERRY_CACHELINE];
    FERRY_ATOMIC(uint64_t) tail;                    /* enqueue index | flags */
    FERRY_ATOMIC(struct ferry__lfblock *) tail_blk; /* L2 */
    FERRY_ATOMIC(uint64_t) tail_aux;                /* the owner's counter */
    char pad1[FERRY_CACHELINE];
    FERRY_ATOMIC(uint64_t) head;                    /* dequeue index */
    FERRY_ATOMIC(struct ferry__lfblock *) head_blk; /* L3 */
    FERRY_ATOMIC(uint64_t) head_aux;                /* the owner's counter */
    char pad2[FERRY_CACHELINE];
    FERRY_ATOMIC(struct ferry__lfblock *) spare; /* L6 */
    FERRY_ATOMIC(struct ferry__lfblock *) stack; /* L6 */
    ferry_mutex pool_lock;                       /* L6: pops, allocation */
    struct ferry__lfblock *all;                  /* every block (under pool_lock) */
    size_t blocks;                               /* how many (under pool_lock) */
    char pad3[FERRY_CACHELINE];
};

/* Test hooks: the block shape (2^shift indices, 1..10) and the allocator
 * of the lists set up from now on (0 / NULL: the normal ones). Tests set
 * them before they open channels; nothing else touches them. */
extern unsigned ferry__lflist_test_shift;
extern void *(*ferry__lflist_test_alloc)(size_t);

/* Can items of elem bytes live in a list? */
bool ferry__lflist_fits(size_t elem);

/* Set up an empty list with its first block (l zeroed, or l->alloc set
 * and the rest anything; NULL: the test hook's, else malloc). 0, -EINVAL
 * (!fits), -ENOMEM. */
int ferry__lflist_init(struct ferry__lflist *l, size_t elem);
/* The same with blocks of 2^shift indices (1 <= shift <= 10): for tests,
 * which want blocks of one or three slots. l->alloc, if set, is kept. */
int ferry__lflist_init_shape(struct ferry__lflist *l, size_t elem, unsigned shift);
void ferry__lflist_fini(struct ferry__lflist *l);

/* Out of line (chan_lflist.c): a cleared block for linking, from the
 * pool or newly allocated, with its ready bytes laid out for batches of n
 * (see "Layout"), or NULL (L6); give one back (unused, or recycled: L5,
 * L6); link B's successor N (L2); enter it (L3). */
struct ferry__lfblock *ferry__lflist_get(struct ferry__lflist *l, size_t n);
void ferry__lflist_put(struct ferry__lflist *l, struct ferry__lfblock *b);
void ferry__lflist_link(struct ferry__lflist *l, struct ferry__lfblock *b, struct ferry__lfblock *n);
void ferry__lflist_enter(struct ferry__lflist *l, struct ferry__lfblock *b, uint64_t end);
/* Block b's layout. Relaxed: it was set before b was linked and is
 * ordered like its cleared bytes (L2, L4); through a stale b any layout
 * gives bytes within the block that are only ever accessed atomically as
 * ready bytes, and what they say means nothing (L4). */
static inline unsigned ferry__lflist_layout(struct ferry__lfblock *b)
{
    return atomic_load_explicit(&b->layout, memory_order_relaxed);
}

/* Inline layout: the line that holds slot o, and o's place *j in it. */
static inline char *ferry__lflist_line(const struct ferry__lflist *l, struct ferry__lfblock *b, size_t o, size_t *j)
{
    size_t g = ferry__lines_div(l->grp_mul, o);
    *j = o - g * l->grp;
    return (char *)b + l->inl_off + g * FERRY_CACHELINE;
}

/* Slot o's ready byte and item in block b, in layout lay. */
static inline FERRY_ATOMIC(uint8_t) *ferry__lflist_ready_at(const struct ferry__lflist *l, struct ferry__lfblock *b,
                                                            unsigned lay, size_t o)
{
    if (lay == FERRY__LFLIST_PACKED)
        return &b->ready[o];
    size_t j;
    char *line = ferry__lflist_line(l, b, o, &j);
    return (FERRY_ATOMIC(uint8_t) *)(void *)(line + j);
}

static inline char *ferry__lflist_item_at(const struct ferry__lflist *l, struct ferry__lfblock *b, unsigned lay,
                                          size_t o)
{
    if (lay == FERRY__LFLIST_PACKED)
        return (char *)b + l->items_off + o * l->elem;
    size_t j;
    char *line = ferry__lflist_line(l, b, o, &j);
    return line + l->grp_hdr + j * l->elem;
}

/* The same in b's layout now (tests, drain). */
static inline FERRY_ATOMIC(uint8_t) *ferry__lflist_ready(const struct ferry__lflist *l, struct ferry__lfblock *b,
                                                         size_t o)
{
    return ferry__lflist_ready_at(l, b, ferry__lflist_layout(b), o);
}

static inline char *ferry__lflist_item(const struct ferry__lflist *l, struct ferry__lfblock *b, size_t o)
{
    return ferry__lflist_item_at(l, b, ferry__lflist_layout(b), o);
}

/* A batch's ready bytes and items, in layout lay (out of line, so that
 * the one-item paths stay small): how many slots from o, up to lim, are
 * ready (acquire: L1); set k slots' bytes from o (release: L1); copy k
 * items from o out to dst / in from src, across an inline block's lines. */
size_t ferry__lflist_ready_run(const struct ferry__lflist *l, struct ferry__lfblock *b, unsigned lay, size_t o,
                               size_t lim);
void ferry__lflist_set_ready(const struct ferry__lflist *l, struct ferry__lfblock *b, unsigned lay, size_t o,
                             size_t k);
void ferry__lflist_copy_out_lines(const struct ferry__lflist *l, struct ferry__lfblock *b, size_t o, size_t k,
                                  void *dst);
void ferry__lflist_copy_in_lines(const struct ferry__lflist *l, struct ferry__lfblock *b, size_t o, size_t k,
                                 const void *src);

static inline void ferry__lflist_copy_out(const struct ferry__lflist *l, struct ferry__lfblock *b, unsigned lay,
                                          size_t o, size_t k, void *dst)
{
    if (lay == FERRY__LFLIST_PACKED || k == 1)
        ferry__copy_items(dst, ferry__lflist_item_at(l, b, lay, o), k, l->elem);
    else
        ferry__lflist_copy_out_lines(l, b, o, k, dst);
}

static inline void ferry__lflist_copy_in(const struct ferry__lflist *l, struct ferry__lfblock *b, unsigned lay,
                                         size_t o, size_t k, const void *src)
{
    if (lay == FERRY__LFLIST_PACKED || k == 1)
        ferry__copy_items(ferry__lflist_item_at(l, b, lay, o), src, k, l->elem);
    else
        ferry__lflist_copy_in_lines(l, b, o, k, src);
}

/* Tests may define this before including this header, to stall a pop
 * between its head and head_blk loads (the window L4 is about). */
#ifndef FERRY__LFLIST_POP_STALL
#define FERRY__LFLIST_POP_STALL() ((void)0)
#endif

/* Push up to n items (n >= 1); returns how many went in (fewer: a flag
 * is set, or no block could be had: then *nomem is set). With `backoff`,
 * a lost claim backs off first (chan_wait.h, "Contention"). */
static inline size_t ferry__lflist_push(struct ferry__lflist *l, const void *src, size_t n, bool backoff,
                                        bool *nomem)
{
    const char *from = (const char *)src;
    size_t done = 0;
    unsigned lost = 0; /* lost claims and waits at END, for the backoff */
    struct ferry__lfblock *next = NULL; /* held for linking (L2) */
    while (done < n) {
        /* Acquire: L2 (then tail_blk is the block of t, and cleared). */
        uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
        if (t & FERRY__LFLIST_FLAGS)
            break;
        size_t o = (size_t)t & (l->cap);
        if (FERRY_UNLIKELY(o == l->cap)) {
            /* END: another producer links the next block (L2's three
             * stores): a short wait, backed off like a lost claim. */
            ferry__contention_backoff(&lost);
            continue;
        }
        /* Relaxed: ordered by the acquire above (L2, L4). */
        struct ferry__lfblock *b = atomic_load_explicit(&l->tail_blk, memory_order_relaxed);
        size_t k = n - done < l->cap - o ? n - done : l->cap - o;
        bool last = o + k == l->cap;
        if (FERRY_UNLIKELY(last) && !next && !(next = ferry__lflist_get(l, n))) {
            /* No block for linking: claim only up to the last slot. */
            *nomem = true;
            if (--k == 0)
                break;
            last = false;
        }
        /* Relaxed CAS: L4 (the claim carries no data; L1 does). */
        if (!atomic_compare_exchange_weak_explicit(&l->tail, &t, t + k, memory_order_relaxed,
                                                   memory_order_relaxed)) {
            if (backoff)
                ferry__contention_backoff(&lost);
            continue;
        }
        if (FERRY_UNLIKELY(last)) {
            ferry__lflist_link(l, b, next);
            next = NULL;
        }
        unsigned lay = ferry__lflist_layout(b);
        ferry__lflist_copy_in(l, b, lay, o, k, from + done * l->elem);
        if (k == 1)
            atomic_store_explicit(ferry__lflist_ready_at(l, b, lay, o), 1, memory_order_release); /* L1 */
        else
            ferry__lflist_set_ready(l, b, lay, o, k); /* L1 */
        done += k;
    }
    if (FERRY_UNLIKELY(next != NULL))
        ferry__lflist_put(l, next);
    return done;
}

/* Pop up to max published items (max >= 1); returns how many (0: none
 * published at the head). *entered is set when this call moved head into
 * the next block (L3: the caller re-checks for sleepers). */
static inline size_t ferry__lflist_pop(struct ferry__lflist *l, void *dst, size_t max, bool backoff,
                                       bool *entered)
{
    size_t o, k;
    struct ferry__lfblock *b;
    unsigned lay;
    uint64_t h;
    unsigned lost = 0;
    for (;;) {
        /* Acquire: L3 (then head_blk is the block of h). */
        h = atomic_load_explicit(&l->head, memory_order_acquire);
        o = (size_t)h & l->cap;
        if (FERRY_UNLIKELY(o == l->cap))
            return 0; /* END: another consumer enters the next block (L3) */
        FERRY__LFLIST_POP_STALL(); /* tests: widen the window (below) */
        /* Acquire: L3. The acquire of head orders this load, but the
         * block read may be newer than that head (the index moved on meanwhile:
         * L4, the CAS below fails) -- a block a producer has only just
         * allocated and linked. Its ready bytes are read before the CAS, so
         * the block's allocation and clearing must happen before: this
         * pairs with the enterer's release store of head_blk, which
         * follows its acquire of the linker's next (L2). (ThreadSanitizer
         * caught the relaxed load reading a block fresh from malloc.) */
        b = atomic_load_explicit(&l->head_blk, memory_order_acquire);
        size_t lim = max < l->cap - o ? max : l->cap - o;
        lay = ferry__lflist_layout(b);
        /* Acquire: L1. Through a stale b these bytes mean nothing and the
         * CAS below fails (L4). */
        if (lim == 1)
            k = atomic_load_explicit(ferry__lflist_ready_at(l, b, lay, o), memory_order_acquire) != 0;
        else
            k = ferry__lflist_ready_run(l, b, lay, o, lim);
        if (k == 0)
            return 0;
        /* Relaxed CAS: L4. */
        if (atomic_compare_exchange_weak_explicit(&l->head, &h, h + k, memory_order_relaxed, memory_order_relaxed))
            break;
        if (backoff)
            ferry__contention_backoff(&lost);
    }
    if (FERRY_UNLIKELY(o + k == l->cap)) {
        ferry__lflist_enter(l, b, h + k);
        *entered = true;
    }
    ferry__lflist_copy_out(l, b, lay, o, k, dst);
    /* acq_rel: L5 (our copy-out before the reuse; the recycler sees all). */
    if (atomic_fetch_add_explicit(&b->acks, k, memory_order_acq_rel) + k == l->cap)
        ferry__lflist_put(l, b);
    return k;
}

/* Set flag bits: no enqueue claim succeeds afterwards (L7). */
void ferry__lflist_close(struct ferry__lflist *l, uint64_t flags);

/* After RXGONE (no consumer left): hand every claimed item, in order, to
 * fn (may be NULL), waiting (yielding) for items between their claim and
 * their publication. Returns how many. */
size_t ferry__lflist_drain(struct ferry__lflist *l, void (*fn)(void *item, void *ctx), void *ctx);

static inline uint64_t ferry__lflist_pos(const struct ferry__lflist *l, uint64_t i)
{
    return i - (i >> l->shift);
}

/* Nothing claimed and not yet taken (L8). */
static inline bool ferry__lflist_empty(struct ferry__lflist *l)
{
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_seq_cst) & ~FERRY__LFLIST_FLAGS; /* L8 */
    uint64_t h = atomic_load_explicit(&l->head, memory_order_seq_cst);                       /* L8 */
    return ferry__lflist_pos(l, h) == ferry__lflist_pos(l, t);
}

/* The flag bits now (relaxed: a hint; L7 makes the claim exact). */
static inline uint64_t ferry__lflist_flags(struct ferry__lflist *l)
{
    return atomic_load_explicit(&l->tail, memory_order_relaxed) & FERRY__LFLIST_FLAGS;
}

/* Items claimed in and out so far (relaxed: statistics). */
static inline void ferry__lflist_positions(struct ferry__lflist *l, uint64_t *head, uint64_t *tail)
{
    *head = ferry__lflist_pos(l, atomic_load_explicit(&l->head, memory_order_relaxed));
    *tail = ferry__lflist_pos(l, atomic_load_explicit(&l->tail, memory_order_relaxed) & ~FERRY__LFLIST_FLAGS);
}

/* Blocks allocated so far (for tests: steady traffic must not add any). */
size_t ferry__lflist_blocks(struct ferry__lflist *l);

#endif /* FERRY_SRC_CHAN_LFLIST_H */
