/* SPDX-License-Identifier: MIT */
/* ferry/mutex.h: a futex-based mutex and condition variable.
 *
 * ferry_mutex is a state word, a 32-bit debug owner and a 32-bit fairness
 * clock: two words on 64-bit targets, 12 bytes on 32-bit ones. Zero-filled memory is an unlocked mutex, so static,
 * embedded and calloc'ed mutexes need no initialization; FERRY_MUTEX_INIT and
 * ferry_mutex_init() exist for symmetry.
 *
 * The state word is   [ queue head pointer | WAKING | QLOCK | LOCKED ]:
 *   - LOCKED: the mutex is held.
 *   - QLOCK:  a small internal bit lock that protects the waiter queue; it is
 *             held only for O(1) list operations.
 *   - WAKING: a thread is awake and on its way to take the mutex (a waiter
 *             that unlock woke, or a spinning locker), so unlock need not
 *             wake another.
 *   - head:   the first of the threads sleeping for the mutex, a FIFO of
 *             nodes that live in the waiting threads' stack frames.
 * Lock is one atomic fetch-or of LOCKED (it takes a free mutex even while
 * threads sleep in the queue), uncontended unlock one compare-and-swap
 * (LOCKED -> 0), both inline below. Everything else is
 * out of line in src/mutex.c: bounded spinning, then a futex sleep on the
 * waiter's own node; unlock wakes the oldest waiter unless a thread is
 * already on its way. Newcomers may barge past a woken waiter (that is what
 * makes the lock fast), but a waiter that has waited longer than 1 ms is
 * handed the lock directly by unlock (FIFO handoff, at most one per
 * millisecond per mutex), so no waiter starves. docs/mutex.md has the
 * design and the argument for its correctness.
 *
 * ferry_cond is one word, [ queue head pointer | QLOCK ]. Waiters queue on
 * it; broadcast (and signal, when nobody sleeps on the mutex yet) moves them
 * onto the mutex's queue instead of waking them (no thundering herd: they
 * are woken one at a time as the mutex is released).
 *
 * Misuse that would corrupt memory aborts with a message (docs/design.md,
 * "Principles"): finishing a mutex or cond that has waiters, using a mutex or
 * cond after it was moved (copied) to another address while it had waiters,
 * unlocking an unlocked mutex. Debug builds (FERRY_DEBUG) also record the
 * owner's thread id and abort on unlock by a thread that does not own the
 * mutex, on cond waits without holding the mutex, on one cond used with two
 * mutexes, and on finishing a locked mutex. FERRY_DEBUG must be the same for
 * all code that uses one mutex.
 *
 * A mutex or cond must not be moved or copied while it is locked or has
 * waiters. Neither is recursive. Nothing here allocates.
 *
 * Signals and cancellation: a signal handled while a thread waits does not
 * end the wait (it resumes with the same absolute deadline; no EINTR). No
 * call here is a cancellation point, unlike pthread_cond_wait: a
 * pthread_cancel that arrives during a wait acts at the thread's next
 * cancellation point, after the call returned (cond waits: with the mutex
 * held again). Not async-cancel-safe, and not async-signal-safe either, as
 * with pthread: a signal handler that locks, unlocks, signals or
 * broadcasts while the thread it interrupted is inside one of these calls
 * may deadlock.
 *
 * NULL: the calls that return an int (init, lock_until, cond_wait,
 * cond_wait_until) return -EINVAL for a NULL mutex or cond, and fini,
 * cond_signal and cond_broadcast ignore NULL; the inline fast paths
 * (ferry_mutex_lock, _trylock, _unlock, _is_locked) do not check and must
 * be given a mutex. Deadlines: any tv_sec is valid (a negative one is long
 * past, time_t's maximum never comes); a tv_nsec outside [0, 1e9) is
 * -EINVAL before anything happens.
 *
 * 32-bit targets where a program may choose a 64-bit time_t (glibc's
 * _TIME_BITS=64; the default there is 32 bits): struct timespec has another
 * layout in such a program, so the calls that take a deadline have a
 * second entry point for it (ferry__mutex_lock_slow_time64,
 * ferry__cond_wait_until_time64), which this header selects in a program
 * built that way. A deadline past what a 32-bit time_t holds never comes
 * (the library's clock would need 68 years to get there). Elsewhere the two
 * entry points are the same.
 */
#ifndef FERRY_MUTEX_H
#define FERRY_MUTEX_H

#include <ferry/common.h>
#include <errno.h>
#include <time.h>

FERRY_EXTERN_C_BEGIN

typedef struct ferry_mutex {
    FERRY_ATOMIC(uintptr_t) word; /* head | QLOCK | LOCKED, see above         */
    FERRY_ATOMIC(uint32_t) owner; /* FERRY_DEBUG: owner's thread id, 0 = none */
    FERRY_ATOMIC(uint32_t) fair_at; /* no fair handoff before this time (us) */
} ferry_mutex;

typedef struct ferry_cond {
    FERRY_ATOMIC(uintptr_t) word; /* head | QLOCK                              */
} ferry_cond;

/* Static initializers: the same as zero-filling (C: { 0 }; C++: {}, see
 * FERRY__ZERO_INIT in ferry/common.h). */
#define FERRY_MUTEX_INIT FERRY__ZERO_INIT
#define FERRY_COND_INIT FERRY__ZERO_INIT

#define FERRY__MUTEX_LOCKED FERRY__SCAST(uintptr_t, 1)
#define FERRY__MUTEX_QLOCK FERRY__SCAST(uintptr_t, 2)

/* Out-of-line parts (src/mutex.c); not for direct use. The _time64 ones
 * take a deadline in the 64-bit time_t layout of a 32-bit target (see
 * above); the header calls them in a program built with it. */
int ferry__mutex_lock_slow(ferry_mutex *m, const struct timespec *deadline);
int ferry__mutex_lock_slow_time64(ferry_mutex *m, const struct timespec *deadline);
#if defined(__USE_TIME_BITS64) && defined(__TIMESIZE) && __TIMESIZE == 32 && \
    !defined(FERRY__MUTEX_IMPL)
#define FERRY__MUTEX_LOCK_SLOW_DL ferry__mutex_lock_slow_time64
/* (declared below, as ferry_cond_wait_until) */
#define ferry_cond_wait_until ferry__cond_wait_until_time64
#else
#define FERRY__MUTEX_LOCK_SLOW_DL ferry__mutex_lock_slow
int ferry__cond_wait_until_time64(ferry_cond *c, ferry_mutex *m, const struct timespec *deadline);
#endif
void ferry__mutex_unlock_slow(ferry_mutex *m);
void ferry__mutex_debug_acquired(ferry_mutex *m);
void ferry__mutex_debug_release(ferry_mutex *m);

/* ---------------------------------------------------------------- mutex */

/* Initialize an unlocked mutex (the same as zero-filling it). Returns 0, or
 * -EINVAL if m is NULL. Must not run concurrently with any other use of m.
 * Never blocks or allocates. */
int ferry_mutex_init(ferry_mutex *m);

/* Finish a mutex. Aborts if threads are waiting for it (they would sleep on
 * freed memory); with FERRY_DEBUG, also if it is locked. The memory may then
 * be freed or reused. Must not run concurrently with any other use of m.
 * Never blocks or allocates. */
void ferry_mutex_fini(ferry_mutex *m);

/* Lock the mutex, blocking until it is available. Not recursive: locking a
 * mutex the calling thread holds deadlocks (with FERRY_DEBUG it aborts).
 * Not robust: if the holder's thread exits without unlocking, the mutex
 * stays locked and its waiters wait forever. Thread-safe. Blocks (after a
 * short bounded spin); never allocates. */
static inline void ferry_mutex_lock(ferry_mutex *m)
{
    /* One atomic that sets LOCKED if it is clear, whatever else the word
     * holds (sleeping waiters do not slow a free mutex down). Acquire: pairs
     * with the release in ferry_mutex_unlock (or in the slow unlock path) of
     * the previous owner, so its critical section happens before ours. */
    if (FERRY_UNLIKELY(atomic_fetch_or_explicit(&m->word, FERRY__MUTEX_LOCKED, memory_order_acquire) &
                       FERRY__MUTEX_LOCKED))
        ferry__mutex_lock_slow(m, FERRY__NULLPTR);
#ifdef FERRY_DEBUG
    ferry__mutex_debug_acquired(m);
#endif
}

/* Lock the mutex if that is possible without waiting. Returns true if the
 * caller now holds it, false if another thread holds it (never spuriously).
 * Thread-safe; never blocks or allocates. */
static inline bool ferry_mutex_trylock(ferry_mutex *m)
{
    /* Acquire: as in ferry_mutex_lock. */
    bool ok = !(atomic_fetch_or_explicit(&m->word, FERRY__MUTEX_LOCKED, memory_order_acquire) &
                FERRY__MUTEX_LOCKED);
#ifdef FERRY_DEBUG
    if (ok)
        ferry__mutex_debug_acquired(m);
#endif
    return ok;
}

/* Lock the mutex, waiting at most until `deadline` (absolute, on
 * CLOCK_MONOTONIC; NULL waits without a deadline). Returns 0 when the caller
 * holds the mutex, -ETIMEDOUT if the deadline passed first (a mutex that is
 * free is taken even after the deadline), -EINVAL if m is NULL or
 * deadline->tv_nsec is out of range. With FERRY_DEBUG, aborts if the
 * calling thread holds m and the deadline is still ahead (one already past
 * is the try call: -ETIMEDOUT). Thread-safe. Blocks; never allocates. */
static inline int ferry_mutex_lock_until(ferry_mutex *m, const struct timespec *deadline)
{
    int r = 0;
    if (FERRY_UNLIKELY(!m || (deadline && FERRY__SCAST(unsigned long, deadline->tv_nsec) >= 1000000000ul)))
        return -EINVAL;
    /* Acquire: as in ferry_mutex_lock. */
    if (FERRY_UNLIKELY(atomic_fetch_or_explicit(&m->word, FERRY__MUTEX_LOCKED, memory_order_acquire) &
                       FERRY__MUTEX_LOCKED))
        r = FERRY__MUTEX_LOCK_SLOW_DL(m, deadline);
#ifdef FERRY_DEBUG
    if (r == 0)
        ferry__mutex_debug_acquired(m);
#endif
    return r;
}

/* Unlock the mutex, which the calling thread must hold; if threads wait,
 * the oldest is woken (or, once it has waited about 1 ms, handed the mutex).
 * Aborts if the mutex is not locked; with FERRY_DEBUG, also if another
 * thread holds it. Thread-safe. Never blocks (the wake is a system call
 * when a waiter sleeps); never allocates. */
static inline void ferry_mutex_unlock(ferry_mutex *m)
{
    uintptr_t w = FERRY__MUTEX_LOCKED;
#ifdef FERRY_DEBUG
    ferry__mutex_debug_release(m);
#endif
    /* Release: pairs with the acquire of the next owner's lock. */
    if (FERRY_UNLIKELY(!atomic_compare_exchange_strong_explicit(
            &m->word, &w, 0, memory_order_release, memory_order_relaxed)))
        ferry__mutex_unlock_slow(m);
}

/* Whether the mutex is locked (by anyone) at this instant: a hint for
 * assertions and statistics, stale as soon as it returns. Thread-safe. */
static inline bool ferry_mutex_is_locked(ferry_mutex *m)
{
    return (atomic_load_explicit(&m->word, memory_order_relaxed) & FERRY__MUTEX_LOCKED) != 0;
}

/* ----------------------------------------------------------------- cond */

/* Initialize a condition variable (the same as zero-filling it). Returns 0,
 * or -EINVAL if c is NULL. Never blocks or allocates. */
int ferry_cond_init(ferry_cond *c);

/* Finish a condition variable. Aborts if threads are waiting on it. Never
 * blocks or allocates. */
void ferry_cond_fini(ferry_cond *c);

/* Atomically release `m` (which the caller must hold) and wait until
 * signalled; `m` is held again when this returns. Returns 0, or -EINVAL if c
 * or m is NULL (m is then left as it was). Callers must re-check their
 * predicate in a loop: a return means "look again", and a signal sent before
 * the predicate changed may wake a waiter early. All waiters of one cond must
 * use the same mutex at a time (FERRY_DEBUG checks it). Thread-safe.
 * Blocks; never allocates. */
int ferry_cond_wait(ferry_cond *c, ferry_mutex *m);

/* ferry_cond_wait that stops waiting at `deadline` (absolute, on
 * CLOCK_MONOTONIC; NULL: no deadline). Returns 0 when signalled,
 * -ETIMEDOUT when the deadline passed first, -EINVAL for NULL c or m or a
 * tv_nsec out of range. In every case but -EINVAL, `m` is held again on
 * return (reacquiring it after the deadline is not bounded by it, as with
 * pthread_cond_timedwait). Thread-safe. Blocks; never allocates. */
int ferry_cond_wait_until(ferry_cond *c, ferry_mutex *m, const struct timespec *deadline);

/* Wake the longest-waiting waiter, if any. If its mutex is locked and has
 * no sleeping waiters, the waiter is moved onto the mutex's queue instead of
 * being woken, and runs when the mutex is released; otherwise it is woken to
 * compete for the mutex. May be called with or without the mutex held.
 * Thread-safe. Never blocks (may make one wake system call; spins for the
 * waiter queue's lock bit while another signaller or waiter holds it);
 * never allocates. The real-time checker reports it in a section (as it
 * does pthread_cond_signal: docs/rt.md). */
void ferry_cond_signal(ferry_cond *c);

/* Wake every thread waiting on c: all of them are moved onto the mutex's
 * queue at once (one of them is woken if the mutex is free), so they run one
 * at a time as the mutex is released rather than all at once. May be called
 * with or without the mutex held. Thread-safe. Never blocks (at most one wake
 * system call; spins for the queue's lock bit as ferry_cond_signal); never
 * allocates. Reported by the real-time checker, as ferry_cond_signal. */
void ferry_cond_broadcast(ferry_cond *c);

FERRY_EXTERN_C_END

#endif /* FERRY_MUTEX_H */
