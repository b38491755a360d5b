/* SPDX-License-Identifier: MIT */
/* ferry's own calls that may block, told to the real-time checker.
 *
 * libferry-rtcheck.so (tools/rtcheck) sees the libc calls it interposes:
 * a ferry call that waits on a futex is caught there, but one that could
 * have waited and did not this time (a blocking receive that found items,
 * a grace period with no readers) makes no such call. Like
 * pthread_mutex_lock, which the checker flags whether or not it is
 * contended, these calls are wrong in a real-time section either way. So
 * their out-of-line entry points name themselves here: when the checker
 * is loaded (rt.c finds its ferry_rtcheck_blocking at start-up), it is
 * called and reports if the calling thread is in a real-time section.
 * Without the checker this is one load and a branch not taken.
 *
 * The inline ferry_mutex_lock is not covered (it would put the load into
 * every program's lock); docs/rt.md says so.
 */
#ifndef FERRY_SRC_RT_BLOCK_H
#define FERRY_SRC_RT_BLOCK_H

#include <ferry/common.h>

typedef void (*ferry__rt_block_fn)(const char *call);

/* The checker's entry point, or NULL. Written once by rt.c's constructor;
 * relaxed loads (the pointer carries no data of ours). */
extern FERRY_ATOMIC(ferry__rt_block_fn) ferry__rt_block_hook;

/* Is the checker loaded? For hot entry points, which branch to a cold
 * function that names the call (so that the common path keeps no frame). */
static inline bool ferry__rt_checking(void)
{
    return FERRY_UNLIKELY(atomic_load_explicit(&ferry__rt_block_hook, memory_order_relaxed) != NULL);
}

/* The calling thread leaves every real-time section at once: for
 * ferry__die_at only, which is about to print its message and abort (a
 * checker would otherwise report the print instead of the misuse). */
void ferry__rt_leave_all(void);

/* `call`, a ferry function that may block, is starting. */
#define FERRY__RT_MAY_BLOCK(call)                                                            \
    do {                                                                                     \
        ferry__rt_block_fn ferry__hook_ =                                                    \
            atomic_load_explicit(&ferry__rt_block_hook, memory_order_relaxed);               \
        if (FERRY_UNLIKELY(ferry__hook_ != NULL))                                            \
            ferry__hook_(call);                                                              \
    } while (0)

#endif /* FERRY_SRC_RT_BLOCK_H */
