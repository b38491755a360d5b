/* SPDX-License-Identifier: MIT */
/* Futex wrapper: see futex.h. */
#include "futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_futex(void *uaddr, int op, uint32_t val, const struct timespec *ts,
                      void *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* FUTEX_WAIT_BITSET until the absolute deadline d (tv_sec >= 0). SYS_futex
 * reads the kernel's timespec of the target's default time_t; a library
 * built with a 64-bit time_t on a 32-bit target (glibc's _TIME_BITS=64)
 * has another struct timespec, and passes it as futex_time64's (Linux 5.1;
 * on an older kernel, SYS_futex's, a second past 2^31 being never). */
static long futex_wait_abs(void *uaddr, uint32_t val, const struct timespec *d)
{
    int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG;
#if defined(__TIMESIZE) && __TIMESIZE == 32 && defined(__USE_TIME_BITS64)
#ifdef SYS_futex_time64
    struct { int64_t tv_sec, tv_nsec; } k64 = { d->tv_sec, d->tv_nsec };
    long r = syscall(SYS_futex_time64, uaddr, op, val, &k64, NULL, FUTEX_BITSET_MATCH_ANY);
    if (r == 0 || errno != ENOSYS)
        return r;
#endif
    struct { int32_t tv_sec, tv_nsec; } k32 = {
        d->tv_sec > INT32_MAX ? INT32_MAX : (int32_t)d->tv_sec, (int32_t)d->tv_nsec,
    };
    return syscall(SYS_futex, uaddr, op, val, &k32, NULL, FUTEX_BITSET_MATCH_ANY);
#else
    return sys_futex(uaddr, op, val, d, NULL, FUTEX_BITSET_MATCH_ANY);
#endif
}

int ferry__futex_wait(FERRY_ATOMIC(uint32_t) *word, uint32_t expected,
                      const struct timespec *deadline)
{
    long r;
    if (deadline) {
        /* Checked here so that no caller can die in the kernel's EINVAL
         * below: a bad tv_nsec is the caller's error to report, and a
         * negative tv_sec (long past) is a timeout. */
        if (!ferry__deadline_valid(deadline))
            return -EINVAL;
        if (deadline->tv_sec < 0)
            return -ETIMEDOUT;
        /* FUTEX_WAIT_BITSET takes an absolute timeout, on CLOCK_MONOTONIC
         * unless FUTEX_CLOCK_REALTIME is given. */
        r = futex_wait_abs((void *)word, expected, deadline);
    } else {
        r = sys_futex((void *)word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, expected, NULL, NULL, 0);
    }
    if (r == 0)
        return 0;
    switch (errno) {
    case EAGAIN:
        return -EAGAIN;
    case ETIMEDOUT:
        return -ETIMEDOUT;
    case EINTR:
        return -EINTR;
    default:
        ferry__die("futex wait on %p failed: errno %d", (void *)word, errno);
    }
}

int ferry__futex_wake(FERRY_ATOMIC(uint32_t) *word, int n)
{
    long r = sys_futex((void *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, (uint32_t)n, NULL, NULL, 0);
    return r < 0 ? 0 : (int)r;
}

int ferry__futex_requeue(FERRY_ATOMIC(uint32_t) *from, int n_wake,
                         FERRY_ATOMIC(uint32_t) *to, int n_move)
{
    /* For FUTEX_REQUEUE the fourth argument is the number to move, passed in
     * the timeout slot. */
    long r = sys_futex((void *)from, FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG, (uint32_t)n_wake,
                       (const struct timespec *)(uintptr_t)(unsigned)n_move, (void *)to, 0);
    return r < 0 ? 0 : (int)r;
}
