/* SPDX-License-Identifier: MIT */
/* ferry/seqlock.h: sequence lock. Readers never block writers and never
 * write shared memory: they read a snapshot optimistically and retry when a
 * writer overlapped.
 *
 *     uint32_t s;
 *     do {
 *         s = ferry_seqlock_read_begin(&sl);
 *         x = ferry_seqlock_load(shared.x);            // relaxed atomic loads
 *         ferry_seqlock_read_copy(&buf, &shared.buf, sizeof buf);
 *     } while (ferry_seqlock_read_retry(&sl, s));
 *
 *     ferry_seqlock_write_begin(&sl);                    // writers serialized
 *     ferry_seqlock_store(shared.x, 42);                // by the caller
 *     ferry_seqlock_write_copy(&shared.buf, &src, sizeof src);
 *     ferry_seqlock_write_end(&sl);
 *
 * Writers: ferry_seqlock does not serialize writers; the caller does (with
 * its own mutex, or by having a single writer). write_begin aborts when a
 * write section is already open (the sequence is odd), which catches nested
 * and most overlapping writers.
 *
 * Memory model: a reader may read data while a writer changes it. To keep
 * that free of data races (undefined behaviour in C11, and reported by
 * ThreadSanitizer), the protected data is read and written with relaxed
 * atomic accesses (ferry_seqlock_load/store, ferry_seqlock_read_copy/
 * write_copy), and the fences follow Boehm's "Can seqlocks get along with
 * programming language memory models?" (2012): the reader's acquire load of
 * the sequence at begin, an acquire fence before re-reading it at retry; the
 * writer's release fence after making the sequence odd and release store at
 * the end. A value read in an attempt that is then retried may be torn: use
 * it only after read_retry returned false.
 *
 * Readers spin while a writer is inside (bounded pause loop, then
 * sched_yield): keep write sections short. Readers are not guaranteed to
 * finish while writers run back to back (each overlapping section makes
 * them retry); they finish once the writers pause. The sequence is 32
 * bits: an attempt overlapped by a multiple of 2^31 whole write sections
 * would not notice them (as with the kernel's seqcount), which needs a
 * reader stalled for billions of writes. fork(): a write section another
 * thread had open at the fork stays open in the child (its readers wait
 * for ever), over half-written data: there, re-initialize the seqlock and
 * rewrite the data, or fork only while no other thread writes. Nothing here allocates. Zero-
 * filled memory is an unlocked seqlock. The calls are inline and do not
 * check for NULL: sl must exist (and dst/src, unless n is 0).
 */
#ifndef FERRY_SEQLOCK_H
#define FERRY_SEQLOCK_H

#include <ferry/common.h>
#include <sched.h>
#include <string.h>

FERRY_EXTERN_C_BEGIN

/* A sequence lock: one 32-bit word, odd while a writer is inside.
 * Zero-filled, FERRY_SEQLOCK_INIT or ferry_seqlock_init: unlocked. Writers
 * must exclude each other (their own lock). */
typedef struct ferry_seqlock {
    FERRY_ATOMIC(uint32_t) seq;   /* odd while a writer is inside */
} ferry_seqlock;

/* Static initializer: an unlocked seqlock. */
#define FERRY_SEQLOCK_INIT FERRY__ZERO_INIT

/* Make sl an unlocked seqlock (the same as zero-filling it or
 * FERRY_SEQLOCK_INIT). Not concurrent with any other use of sl. */
static inline void ferry_seqlock_init(ferry_seqlock *sl)
{
    atomic_store_explicit(&sl->seq, 0, memory_order_relaxed);
}

/* Relaxed atomic access to one protected scalar or pointer lvalue. */
#define ferry_seqlock_load(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ferry_seqlock_store(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Start a read attempt: waits while a writer is inside, returns the
 * (even) sequence to pass to read_retry. The thread that holds the write
 * section open must not begin a read: it would wait for itself forever
 * (not detected). Acquire pairs with write_end's release: data written
 * before it are visible. */
static inline uint32_t ferry_seqlock_read_begin(ferry_seqlock *sl)
{
    unsigned spins = 0;
    for (;;) {
        uint32_t s = atomic_load_explicit(&sl->seq, memory_order_acquire);
        if (FERRY_LIKELY(!(s & 1)))
            return s;
        if (++spins < 1000) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield();
        }
    }
}

/* True if a writer overlapped the attempt begun at `start` (retry). The
 * acquire fence orders the attempt's data loads before the sequence
 * re-load; it pairs with write_begin's release fence: a reader that saw any
 * value written in a write section sees that section's odd sequence. */
static inline bool ferry_seqlock_read_retry(ferry_seqlock *sl, uint32_t start)
{
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&sl->seq, memory_order_relaxed) != start;
}

/* Open a write section (readers retry until it ends). Writers must be
 * serialized by the caller; aborts if a section is already open. */
static inline void ferry_seqlock_write_begin(ferry_seqlock *sl)
{
    uint32_t s = atomic_load_explicit(&sl->seq, memory_order_relaxed);
    if (FERRY_UNLIKELY(s & 1))
        ferry__die("ferry_seqlock_write_begin on seqlock %p: a write section is already open "
                   "(writers must be serialized)", FERRY__SCAST(void *, sl));
    atomic_store_explicit(&sl->seq, s + 1, memory_order_relaxed);
    /* Orders the odd sequence before the section's data stores; pairs with
     * read_retry's acquire fence. */
    atomic_thread_fence(memory_order_release);
}

/* Close the write section. Aborts if none is open. */
static inline void ferry_seqlock_write_end(ferry_seqlock *sl)
{
    uint32_t s = atomic_load_explicit(&sl->seq, memory_order_relaxed);
    if (FERRY_UNLIKELY(!(s & 1)))
        ferry__die("ferry_seqlock_write_end on seqlock %p without write_begin", FERRY__SCAST(void *, sl));
    /* Release: the section's data stores happen before; pairs with
     * read_begin's acquire. */
    atomic_store_explicit(&sl->seq, s + 1, memory_order_release);
}

typedef unsigned long __attribute__((may_alias)) ferry__seq_word;

/* Copy n bytes out of protected memory with relaxed atomic loads (words
 * where both sides are aligned, bytes otherwise). */
static inline void ferry_seqlock_read_copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = FERRY__SCAST(unsigned char *, dst);
    const unsigned char *s = FERRY__SCAST(const unsigned char *, src);
    if (((FERRY__RCAST(uintptr_t, d) | FERRY__RCAST(uintptr_t, s)) & (sizeof(ferry__seq_word) - 1)) == 0) {
        for (; n >= sizeof(ferry__seq_word); n -= sizeof(ferry__seq_word)) {
            ferry__seq_word w = __atomic_load_n(FERRY__SCAST(const ferry__seq_word *, FERRY__SCAST(const void *, s)),
                                                __ATOMIC_RELAXED);
            memcpy(d, &w, sizeof w);
            d += sizeof w;
            s += sizeof w;
        }
    }
    for (; n; n--)
        *d++ = __atomic_load_n(s++, __ATOMIC_RELAXED);
}

/* Copy n bytes into protected memory with relaxed atomic stores. Only
 * inside a write section. */
static inline void ferry_seqlock_write_copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = FERRY__SCAST(unsigned char *, dst);
    const unsigned char *s = FERRY__SCAST(const unsigned char *, src);
    if (((FERRY__RCAST(uintptr_t, d) | FERRY__RCAST(uintptr_t, s)) & (sizeof(ferry__seq_word) - 1)) == 0) {
        for (; n >= sizeof(ferry__seq_word); n -= sizeof(ferry__seq_word)) {
            ferry__seq_word w;
            memcpy(&w, s, sizeof w);
            __atomic_store_n(FERRY__SCAST(ferry__seq_word *, FERRY__SCAST(void *, d)), w, __ATOMIC_RELAXED);
            d += sizeof w;
            s += sizeof w;
        }
    }
    for (; n; n--)
        __atomic_store_n(d++, *s++, __ATOMIC_RELAXED);
}

FERRY_EXTERN_C_END

#endif /* FERRY_SEQLOCK_H */
