/* SPDX-License-Identifier: MIT */
/* Deadlines in two layouts: on a 32-bit target whose C library defaults to
 * a 32-bit time_t (glibc's __TIMESIZE 32), a program may be built with a
 * 64-bit one (_TIME_BITS=64), and its struct timespec is then { 64-bit
 * tv_sec, 32-bit tv_nsec, 32 bits of padding } (the padding first on
 * big-endian targets) instead of two 32-bit words. Every public call that
 * takes or returns a struct timespec has two entry points there: the plain
 * one reads the default layout, the _time64 one the other (the public
 * headers select it in a program built that way: ferry/common.h,
 * FERRY__TIME64), whatever time_t this library was built with; both make
 * the library's own struct timespec of it (buf). Elsewhere struct timespec
 * has one layout and both take it as it is. Nothing here touches shared
 * memory. Tests: tests/unit/mutex_time64.c, tests/unit/chan_time64.c (built
 * with _TIME_BITS=64; the m32 job runs them against the default library,
 * unit.build.m32_time64 against one built with 64-bit time). */
#ifndef FERRY_SRC_TIME64_H
#define FERRY_SRC_TIME64_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#if defined(__TIMESIZE) && __TIMESIZE == 32
#define FERRY__TWO_TIME_LAYOUTS 1

struct ferry__timespec32 {
    int32_t tv_sec, tv_nsec;
};

struct ferry__timespec64 {
    int64_t tv_sec;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    int32_t pad, tv_nsec;
#else
    int32_t tv_nsec, pad;
#endif
};

/* d (NULL: none) in the default layout, as the library's struct timespec. */
static inline const struct timespec *ferry__deadline_of32(const struct timespec *d, struct timespec *buf)
{
    if (!d)
        return NULL;
    struct ferry__timespec32 t;
    memcpy(&t, d, sizeof t); /* (d's type is not the caller's) */
    buf->tv_sec = t.tv_sec;
    buf->tv_nsec = t.tv_nsec;
    return buf;
}

/* d (NULL: none) in the 64-bit layout, as the library's struct timespec. */
static inline const struct timespec *ferry__deadline_of64(const struct timespec *d, struct timespec *buf)
{
    if (!d)
        return NULL;
    struct ferry__timespec64 t;
    memcpy(&t, d, offsetof(struct ferry__timespec64, tv_nsec) + sizeof t.tv_nsec);
    int64_t s = t.tv_sec;
    /* A 32-bit time_t: a later second never comes (the monotonic clock
     * reaches 2^31 s after 68 years), an earlier one is long past. */
    if (sizeof(time_t) < sizeof s) {
        if (s > INT32_MAX)
            s = INT32_MAX;
        else if (s < INT32_MIN)
            s = INT32_MIN;
    }
    buf->tv_sec = (time_t)s;
    buf->tv_nsec = t.tv_nsec;
    return buf;
}

/* The library's struct timespec t in each layout, to return to a caller
 * (saturating at 32 bits: the latest or earliest time the default layout
 * holds). */
static inline struct ferry__timespec32 ferry__timespec_to32(struct timespec t)
{
    int64_t s = t.tv_sec;
    struct ferry__timespec32 r = {s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s,
                                  (int32_t)t.tv_nsec};
    if (s > INT32_MAX)
        r.tv_nsec = 999999999;
    else if (s < INT32_MIN)
        r.tv_nsec = 0;
    return r;
}

static inline struct ferry__timespec64 ferry__timespec_to64(struct timespec t)
{
    struct ferry__timespec64 r;
    memset(&r, 0, sizeof r);
    r.tv_sec = t.tv_sec;
    r.tv_nsec = (int32_t)t.tv_nsec;
    return r;
}
#else
static inline const struct timespec *ferry__deadline_of32(const struct timespec *d, struct timespec *buf)
{
    (void)buf;
    return d;
}
#define ferry__deadline_of64 ferry__deadline_of32
#endif

#endif /* FERRY_SRC_TIME64_H */
