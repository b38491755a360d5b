/* ferry/spsc.h: bounded wait-free single-producer single-consumer ring.
 *
 * The ring lives in caller memory: a ferry_spsc control block and a buffer of
 * `capacity * elem_size` bytes, capacity a power of two. One thread pushes,
 * one thread pops; both calls are wait-free (a bounded number of steps, no
 * lock, no allocation, no system call), so both ends may be real-time
 * threads.
 *
 *     static uint64_t storage[1024];
 *     ferry_spsc q;
 *     ferry_spsc_init(&q, storage, sizeof storage[0], 1024);
 *     // producer:                      // consumer:
 *     n = ferry_spsc_push(&q, items, k);   m = ferry_spsc_pop(&q, out, max);
 *
 * Items are copied in and out (pointers are the common case). A batch moves
 * with at most two memcpy calls on each side (the ring may wrap once).
 *
 * Layout: the producer's index and its cached copy of the consumer's index
 * share one cache line, the consumer's index and its cached copy of the
 * producer's index another, two lines apart (the adjacent-line prefetcher
 * pairs lines), so each side touches the other side's line only when its
 * cached copy says the ring looks full (producer) or empty (consumer).
 * Indices run freely (size_t, wrapping) and are masked on use.
 */
#ifndef FERRY_SPSC_H
#define FERRY_SPSC_H

#include <ferry/common.h>

#include <string.h>

FERRY_EXTERN_C_BEGIN

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

/* Copy into the buffer: the items are copied in at most two pieces. */
static inline void ferry__spsc_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes == sizeof(uint64_t)) {   /* one pointer: no call */
        /* Hide the pointers' origin from the optimizer: this branch is
         * taken only when the caller's arrays hold 8 bytes, which it cannot
         * see, and it would warn (-Warray-bounds) about smaller arrays. */
        __asm__("" : "+r"(dst), "+r"(src));
        memcpy(dst, src, sizeof(uint64_t));
    } else
        memcpy(dst, src, bytes);
}

/* Producer only. Copy up to n items from `items` into the ring, as many as
 * fit, in order; return how many (0 when full or n == 0).
 * Wait-free, no allocation, no system call: safe in a real-time section.
 * May run concurrently with ferry_spsc_pop and the consumer-side queries. */
static inline size_t ferry_spsc_push(ferry_spsc *q, const void *items, size_t n)
{
    /* Our own index: only this thread writes it. */
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t cap = q->p_mask + 1;
    size_t room = cap - (head - q->p_tail_cache);
    if (room < n) {
        /* Acquire: pairs with the release store of tail in ferry_spsc_pop,
         * so the consumer's reads of the slots we are about to overwrite
         * happened before our writes. */
        q->p_tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        room = cap - (head - q->p_tail_cache);
        if (room < n)
            n = room;
    }
    if (FERRY_UNLIKELY(n == 0))
        return 0;
    size_t es = q->p_esize;
    size_t at = head & q->p_mask;
    size_t first = cap - at;                  /* slots before the wrap */
    if (first >= n) {
        ferry__spsc_copy(q->p_buf + at * es, items, n * es);
    } else {
        memcpy(q->p_buf + at * es, items, first * es);
        memcpy(q->p_buf, (const char *)items + first * es, (n - first) * es);
    }
    /* Release: publishes the slots just written; pairs with the acquire
     * load of head in ferry_spsc_pop. */
    atomic_store_explicit(&q->head, head + n, memory_order_release);
    return n;
}

/* Consumer only. Copy up to max items out of the ring into `out`, oldest
 * first; return how many (0 when empty or max == 0).
 * Wait-free, no allocation, no system call: safe in a real-time section.
 * May run concurrently with ferry_spsc_push and the producer-side queries. */
static inline size_t ferry_spsc_pop(ferry_spsc *q, void *out, size_t max)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t avail = q->c_head_cache - tail;
    if (avail < max) {
        /* Acquire: pairs with the release store of head in ferry_spsc_push,
         * so the producer's writes of the slots are visible. */
        q->c_head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        avail = q->c_head_cache - tail;
        if (avail < max)
            max = avail;
    }
    if (FERRY_UNLIKELY(max == 0))
        return 0;
    size_t es = q->c_esize;
    size_t cap = q->c_mask + 1;
    size_t at = tail & q->c_mask;
    size_t first = cap - at;
    if (first >= max) {
        ferry__spsc_copy(out, q->c_buf + at * es, max * es);
    } else {
        memcpy(out, q->c_buf + at * es, first * es);
        memcpy((char *)out + first * es, q->c_buf, (max - first) * es);
    }
    /* Release: our reads of the slots happen before the producer reuses
     * them; pairs with the acquire load of tail in ferry_spsc_push. */
    atomic_store_explicit(&q->tail, tail + max, memory_order_release);
    return max;
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
            return NULL;
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

/* Any thread: approximate number of items in the ring (exact when neither
 * side is running). Wait-free. */
static inline size_t ferry_spsc_size(const ferry_spsc *q)
{
    /* Read tail first: head only grows, so head - tail never underflows. */
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    return head - tail;
}

/* Capacity given to ferry_spsc_init. */
static inline size_t ferry_spsc_capacity(const ferry_spsc *q)
{
    return q->p_mask + 1;
}

FERRY_EXTERN_C_END

#endif /* FERRY_SPSC_H */
