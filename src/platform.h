/* SPDX-License-Identifier: MIT */
/* Internal platform bits shared by every file in src/: one spelling each.
 *
 * - ferry__cpu_relax(): the spin-wait hint (x86 `pause`, Arm `yield`; a
 *   compiler barrier elsewhere). Use it in every busy-wait loop.
 * - FERRY_TLS: thread-local storage, C11 spelling, initial-exec
 *   (FERRY__TLS_IE, ferry/common.h: no allocation on a thread's first
 *   use). (Public headers that declare thread-locals for inline functions
 *   keep `__thread FERRY__TLS_IE`, which C++ also accepts; the definition
 *   must match the declaration there.)
 * - FERRY_CACHELINE, FERRY_LIKELY, FERRY_UNLIKELY: from ferry/common.h.
 * - Time: ferry__now() (CLOCK_MONOTONIC), ferry__ts_ns(), ferry__now_ns(),
 *   ferry__deadline_valid() (NULL, or tv_nsec in [0, 1e9): the library-wide
 *   rule for deadlines, see docs/chan.md "Arguments"), and
 *   ferry__deadline_passed() (NULL never passes).
 * - ferry__mb_after_rmw(): a full barrier after a seq_cst RMW (free on x86).
 * - ferry__copy_items(): memcpy of k items of elem bytes, with one
 *   pointer-sized item (the common case) as a single move.
 *
 * Nothing here allocates, blocks or touches shared memory.
 */
#ifndef FERRY_SRC_PLATFORM_H
#define FERRY_SRC_PLATFORM_H

#include <ferry/common.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FERRY_TLS _Thread_local FERRY__TLS_IE

/* The calling thread's kernel thread id (gettid), cached per thread and
 * refreshed after a fork() (src/thread_id.c); for misuse checks, never on a
 * fast path. initial-exec, like every FERRY_TLS: no allocation on first
 * access (the calls may be in a real-time section). */
#define FERRY__TID_TLS FERRY_TLS
extern FERRY__TID_TLS uint32_t ferry__tid_tls;
extern FERRY__TID_TLS uint32_t ferry__tid_gen_tls;
extern FERRY__TID_TLS uint32_t ferry__tid_prev_tls; /* this thread's id before the last fork, or 0 */
extern FERRY_ATOMIC(uint32_t) ferry__tid_fork_gen;
uint32_t ferry__tid_refresh(void);

static inline uint32_t ferry__self_tid(void)
{
    /* Relaxed: raised only in a fork's child handler (thread_id.c). */
    if (FERRY_UNLIKELY(ferry__tid_tls == 0 ||
                       ferry__tid_gen_tls != atomic_load_explicit(&ferry__tid_fork_gen, memory_order_relaxed)))
        return ferry__tid_refresh();
    return ferry__tid_tls;
}

/* Whether id is the calling thread's: its id now, or (a thread that forked)
 * the one it had before the fork. 0 is no thread's. */
static inline bool ferry__is_self_tid(uint32_t id)
{
    return id != 0 && (id == ferry__self_tid() || id == ferry__tid_prev_tls);
}

static inline void ferry__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* A full memory barrier placed right after a seq_cst read-modify-write, for
 * a store-then-load handshake whose store side already pays for an RMW: on
 * x86 a locked instruction orders every earlier store before every later
 * load, so the barrier only has to hold the compiler back (the RMW's
 * acquire and release halves already keep the accesses on their sides);
 * elsewhere it is a seq_cst fence. Say at the call which RMW it follows. */
static inline void ferry__mb_after_rmw(void)
{
#if defined(__x86_64__) || defined(__i386__)
    atomic_signal_fence(memory_order_seq_cst);
#else
    atomic_thread_fence(memory_order_seq_cst);
#endif
}

static inline struct timespec ferry__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

/* Nanoseconds of a valid, non-negative timespec, saturating: a time past
 * 2^64 ns (from tv_sec 18446744073, in the year 2554; any tv_sec is a
 * valid deadline) is UINT64_MAX, "never", instead of wrapping to a time
 * long past. */
static inline uint64_t ferry__ts_ns(struct timespec t)
{
    if (FERRY_UNLIKELY((uint64_t)t.tv_sec >= UINT64_MAX / 1000000000ull))
        return UINT64_MAX;
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static inline uint64_t ferry__now_ns(void) { return ferry__ts_ns(ferry__now()); }

/* A deadline argument is valid when it is NULL (no deadline) or its tv_nsec
 * is in [0, 1e9). Any tv_sec is valid: a negative one is long past. */
static inline bool ferry__deadline_valid(const struct timespec *deadline)
{
    return !deadline || (deadline->tv_nsec >= 0 && deadline->tv_nsec < 1000000000L);
}

/* Has the (valid) deadline passed? NULL never does. */
static inline bool ferry__deadline_passed(const struct timespec *deadline)
{
    if (!deadline)
        return false;
    struct timespec now = ferry__now();
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static inline void ferry__copy_items(void *dst, const void *src, size_t k, size_t elem)
{
    if (k == 1 && elem == sizeof(void *))
        memcpy(dst, src, sizeof(void *));
    else
        memcpy(dst, src, k * elem);
}

#endif /* FERRY_SRC_PLATFORM_H */
