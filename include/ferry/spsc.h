/* SPDX-License-Identifier: MIT */
/* ferry/spsc.h: bounded wait-free single-producer single-consumer ring.
 *
 * The ring lives in caller memory: a ferry_spsc control block and a buffer of
 * `capacity * elem_size` bytes, capacity a power of two. One thread pushes,
 * one thread pops; both calls are wait-free (a bounded number of steps, no
 * lock, no allocation, no system call), so both ends may be real-time
 * threads. ferry_spsc_init checks its arguments; the inline calls below do
 * not (a NULL or uninitialized ring is undefined behaviour, as for the
 * standard library's string functions): they are the fast path.
 *
 *     static uint64_t storage[1024];
 *     ferry_spsc q;
 *     ferry_spsc_init(&q, storage, sizeof storage[0], 1024);
 *     // producer:                      // consumer:
 *     n = ferry_spsc_push(&q, items, k);   m = ferry_spsc_pop(&q, out, max);
 *
 * Items are copied in and out (pointers are the common case: for single
 * pointers ferry_spsc_push_ptr/pop_ptr skip the general copy). A batch moves
 * with at most two memcpy calls on each side (the ring may wrap once).
 *
 * Layout: the producer's index and its cached copy of the consumer's index
 * share one cache line, the consumer's index and its cached copy of the
 * producer's index another, two lines apart (the adjacent-line prefetcher
 * pairs lines), so each side touches the other side's line only when its
 * cached copy says the ring looks full (producer) or empty (consumer).
 * Indices run freely (size_t, wrapping) and are masked on use.
 *
 * Alignment: ferry_spsc is aligned to FERRY_CACHELINE (64) bytes, which the
 * compiler gives static and automatic objects and struct members. malloc()
 * promises less (16 bytes): allocate one on the heap (or a struct holding
 * one) with aligned_alloc(FERRY_CACHELINE, size rounded up to a multiple of
 * it) or posix_memalign; a less aligned one is undefined behaviour (UBSan's
 * "misaligned address") and shares lines between the sides. The same holds
 * for ferry_llq and ferry_defer.
 */
#ifndef FERRY_SPSC_H
#define FERRY_SPSC_H

#include <ferry/common.h>

#include <string.h>

FERRY_EXTERN_C_BEGIN

/* The wait-free bounded ring: one producer, one consumer, fixed-size
 * items, the producer's and the consumer's fields on lines of their own.
 * Set up with ferry_spsc_init over storage the caller owns (nothing to
 * free); aligned to FERRY_CACHELINE. */
typedef struct ferry_spsc {
    /* Producer's line: written by the producer only. */
    FERRY_ATOMIC(size_t) head __attribute__((aligned(FERRY_CACHELINE)));
    size_t p_tail_cache;        /* producer's copy of tail */
    char *p_buf;
    size_t p_mask;
    size_t p_esize;
    char pad0_[2 * FERRY_CACHELINE - sizeof(size_t) * 4 - sizeof(char *)];
    /* Consumer's line: written by the consumer only. */
    FERRY_ATOMIC(size_t) tail __attribute__((aligned(FERRY_CACHELINE)));
    size_t c_head_cache;        /* consumer's copy of head */
    char *c_buf;
    size_t c_mask;
    size_t c_esize;
    char pad1_[2 * FERRY_CACHELINE - sizeof(size_t) * 4 - sizeof(char *)];
} ferry_spsc;

/* Set up `q` over `buf` (capacity * elem_size bytes, owned by the caller and
 * kept alive as long as the ring is used). Returns 0, or -EINVAL if q or buf
 * is NULL, elem_size is 0, capacity is 0 or not a power of two, or
 * capacity * elem_size overflows. Not concurrent with any other call on q.
 * Never blocks, never allocates. */
int ferry_spsc_init(ferry_spsc *q, void *buf, size_t elem_size, size_t capacity);

/* Bytes of buffer needed for `capacity` items of `elem_size` bytes, or 0 if
 * the arguments would make ferry_spsc_init fail. */
size_t ferry_spsc_buffer_size(size_t elem_size, size_t capacity);

/* The 8-byte branches below are taken only for 8-byte items, which the
 * compiler cannot see: inlined into a caller whose array is smaller, it would
 * warn about accesses that never happen. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#if __GNUC__ >= 11
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#endif

/* Copy n items of es bytes. A single 8-byte item is one move (a library
 * memcpy call would cost more than the copy). */
__attribute__((always_inline)) static inline void
ferry__spsc_copy(void *dst, const void *src, size_t n, size_t es)
{
    if (es == sizeof(uint64_t) && n == 1)
        memcpy(dst, src, sizeof(uint64_t));
    else
        memcpy(dst, src, n * es);
}

/* The bodies of push and pop, for an element size `es` that is a constant
 * where the caller passes one (8: pointers), so that the offsets are shifts
 * and a single item is a single move. */
__attribute__((always_inline)) static inline size_t
ferry__spsc_push_es(ferry_spsc *q, const void *items, size_t n, size_t es)
{
    /* Our own index: only this thread writes it. */
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t mask = q->p_mask;
    /* "n > room as far as we know", written so that it cannot wrap
     * (head - p_tail_cache never exceeds mask + 1; "used + n" would wrap
     * for a huge n) and so that n == 0 also takes this branch, which
     * returns before any memcpy (items may be NULL then). */
    if (FERRY_UNLIKELY(n - 1 >= mask + 1 - (head - q->p_tail_cache))) {
        /* Not enough room as far as we know: look at the consumer's index.
         * Acquire: pairs with the release store of tail in ferry_spsc_pop,
         * so the consumer's reads of the slots we are about to overwrite
         * happened before our writes. */
        q->p_tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        size_t room = mask + 1 - (head - q->p_tail_cache);
        if (n > room)
            n = room;
        if (n == 0)
            return 0;
    }
    size_t at = head & mask;
    size_t first = mask + 1 - at;             /* slots before the wrap */
    char *dst = q->p_buf + at * es;
    if (FERRY_LIKELY(n <= first)) {
        ferry__spsc_copy(dst, items, n, es);
    } else {
        memcpy(dst, items, first * es);
        memcpy(q->p_buf, FERRY__SCAST(const char *, items) + first * es, (n - first) * es);
    }
    /* Release: publishes the slots just written; pairs with the acquire
     * load of head in ferry_spsc_pop. */
    atomic_store_explicit(&q->head, head + n, memory_order_release);
    return n;
}

__attribute__((always_inline)) static inline size_t
ferry__spsc_pop_es(ferry_spsc *q, void *out, size_t max, size_t es)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    /* "max > items as far as we know"; max == 0 also takes this branch,
     * which returns before any memcpy (out may be NULL then). */
    if (FERRY_UNLIKELY(max - 1 >= q->c_head_cache - tail)) {
        /* Fewer items than wanted as far as we know: look at the producer's
         * index. Acquire: pairs with the release store of head in
         * ferry_spsc_push, so the producer's writes of the slots are
         * visible. */
        q->c_head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        size_t avail = q->c_head_cache - tail;
        if (max > avail)
            max = avail;
        if (max == 0)
            return 0;
    }
    size_t mask = q->c_mask;
    size_t at = tail & mask;
    size_t first = mask + 1 - at;
    const char *src = q->c_buf + at * es;
    if (FERRY_LIKELY(max <= first)) {
        ferry__spsc_copy(out, src, max, es);
    } else {
        memcpy(out, src, first * es);
        memcpy(FERRY__SCAST(char *, out) + first * es, q->c_buf, (max - first) * es);
    }
    /* Release: our reads of the slots happen before the producer reuses
     * them; pairs with the acquire load of tail in ferry_spsc_push. */
    atomic_store_explicit(&q->tail, tail + max, memory_order_release);
    return max;
}

/* Producer only. Copy up to n items from `items` into the ring, as many as
 * fit, in order; return how many (0 when full or n == 0). Any n is accepted
 * (a count larger than the room is clamped to the room, SIZE_MAX included);
 * `items` may be NULL only when n == 0. q must not be NULL.
 * Wait-free, no allocation, no system call: safe in a real-time section.
 * May run concurrently with ferry_spsc_pop and the consumer-side queries. */
static inline size_t ferry_spsc_push(ferry_spsc *q, const void *items, size_t n)
{
    if (FERRY_LIKELY(q->p_esize == sizeof(uint64_t))) {
        return ferry__spsc_push_es(q, items, n, sizeof(uint64_t));
    }
    return ferry__spsc_push_es(q, items, n, q->p_esize);
}

/* Consumer only. Copy up to max items out of the ring into `out`, oldest
 * first; return how many (0 when empty or max == 0). Any max is accepted;
 * `out` may be NULL only when max == 0. q must not be NULL.
 * Wait-free, no allocation, no system call: safe in a real-time section.
 * May run concurrently with ferry_spsc_push and the producer-side queries. */
static inline size_t ferry_spsc_pop(ferry_spsc *q, void *out, size_t max)
{
    if (FERRY_LIKELY(q->c_esize == sizeof(uint64_t))) {
        return ferry__spsc_pop_es(q, out, max, sizeof(uint64_t));
    }
    return ferry__spsc_pop_es(q, out, max, q->c_esize);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Producer only: push one pointer onto a ring of pointer-sized items
 * (elem_size == sizeof(void *)); returns false when the ring is full. The
 * single-item form of ferry_spsc_push for the common case of handing objects
 * over by address. Wait-free, no allocation, no system call. A ring of
 * another item size is misuse and aborts. */
static inline bool ferry_spsc_push_ptr(ferry_spsc *q, void *p)
{
    if (FERRY_UNLIKELY(q->p_esize != sizeof(void *)))
        ferry__die("ferry_spsc_push_ptr on a ring of %zu-byte items", q->p_esize);
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (FERRY_UNLIKELY(head - q->p_tail_cache > q->p_mask)) {
        /* Acquire: as in ferry_spsc_push. */
        q->p_tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (head - q->p_tail_cache > q->p_mask)
            return false;
    }
    memcpy(q->p_buf + (head & q->p_mask) * sizeof(void *), &p, sizeof(void *));
    /* Release: as in ferry_spsc_push. */
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
    return true;
}

/* Consumer only: pop one pointer from a ring of pointer-sized items into
 * *out; returns false when the ring is empty. Wait-free, no allocation, no
 * system call. A ring of another item size is misuse and aborts. */
static inline bool ferry_spsc_pop_ptr(ferry_spsc *q, void **out)
{
    if (FERRY_UNLIKELY(q->c_esize != sizeof(void *)))
        ferry__die("ferry_spsc_pop_ptr on a ring of %zu-byte items", q->c_esize);
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (FERRY_UNLIKELY(q->c_head_cache == tail)) {
        /* Acquire: as in ferry_spsc_pop. */
        q->c_head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (q->c_head_cache == tail)
            return false;
    }
    memcpy(out, q->c_buf + (tail & q->c_mask) * sizeof(void *), sizeof(void *));
    /* Release: as in ferry_spsc_pop. */
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return true;
}

/* Consumer only: pointer to the oldest item, or NULL when empty. The item
 * stays in the ring (and valid) until ferry_spsc_consume(). Wait-free. */
static inline void *ferry_spsc_peek(ferry_spsc *q)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (q->c_head_cache == tail) {
        /* Acquire: as in ferry_spsc_pop. */
        q->c_head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (q->c_head_cache == tail)
            return FERRY__NULLPTR;
    }
    return q->c_buf + (tail & q->c_mask) * q->c_esize;
}

/* Consumer only: drop the n oldest items (n no more than the consumer has
 * seen: after ferry_spsc_peek returned non-NULL, n = 1 is always valid).
 * Returns how many were dropped (n clamped to what is available). */
static inline size_t ferry_spsc_consume(ferry_spsc *q, size_t n)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t avail = q->c_head_cache - tail;
    if (n > avail)
        n = avail;
    /* Release: as in ferry_spsc_pop. */
    atomic_store_explicit(&q->tail, tail + n, memory_order_release);
    return n;
}

/* Producer side: how many items could be pushed now (at least; the consumer
 * may be freeing more). Wait-free. */
static inline size_t ferry_spsc_free(ferry_spsc *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    /* Acquire: as in ferry_spsc_push. */
    q->p_tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
    return q->p_mask + 1 - (head - q->p_tail_cache);
}

/* Any thread: approximate number of items in the ring, from 0 to the
 * capacity (exact when neither side is running, and as seen by either side
 * when called there). Wait-free. */
static inline size_t ferry_spsc_size(const ferry_spsc *q)
{
    /* Read tail first: head only grows, so head - tail never underflows.
     * Acquire (both): pairs with the release stores of tail and head in
     * pop and push. */
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t n = head - tail;
    /* From a third thread, both sides may have moved on between the two
     * loads: the old tail against the new head would count items that are
     * gone, beyond the capacity. */
    return n <= q->c_mask ? n : q->c_mask + 1;
}

/* Capacity given to ferry_spsc_init. */
static inline size_t ferry_spsc_capacity(const ferry_spsc *q)
{
    return q->p_mask + 1;
}

FERRY_EXTERN_C_END

#endif /* FERRY_SPSC_H */
