/* SPDX-License-Identifier: MIT */
/* Absolute deadlines from durations (include/ferry/deadline.h): now on
 * CLOCK_MONOTONIC plus a duration, saturating at time_t's ends. No shared
 * state, no atomics. */
#include "platform.h"
#include "time64.h"

/* On 32-bit targets the calls are defined below with the layouts they
 * return (time64.h), which the header, written for the caller's struct
 * timespec, does not name. */
#ifndef FERRY__TWO_TIME_LAYOUTS
#include <ferry/deadline.h>
#endif

#define NS_PER_SEC 1000000000

/* time_t's ends (it is a signed integer type on every target ferry
 * supports). */
#define TIME_MAX ((time_t)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1))
#define TIME_MIN (-TIME_MAX - 1)

static struct timespec saturated(bool future)
{
    struct timespec t = {future ? TIME_MAX : TIME_MIN, future ? NS_PER_SEC - 1 : 0};
    return t;
}

static struct timespec deadline_in(int64_t ns)
{
    struct timespec now = ferry__now();
    int64_t sec = ns / NS_PER_SEC; /* truncates toward zero: rem has ns's sign */
    long nsec = now.tv_nsec + (long)(ns % NS_PER_SEC);
    if (nsec >= NS_PER_SEC) {
        nsec -= NS_PER_SEC;
        sec++;
    } else if (nsec < 0) {
        nsec += NS_PER_SEC;
        sec--;
    }
    time_t s;
    /* The builtin checks the exact sum against time_t's range. */
    if (__builtin_add_overflow(now.tv_sec, sec, &s))
        return saturated(sec > 0);
    struct timespec t = {s, nsec};
    return t;
}

static struct timespec deadline_in_ms(int64_t ms)
{
    if (ms > INT64_MAX / 1000000)
        return saturated(true);
    if (ms < INT64_MIN / 1000000)
        return saturated(false);
    return deadline_in(ms * 1000000);
}

/* The plain names return the default layout of struct timespec; on 32-bit
 * targets the _time64 ones return the 64-bit layout (time64.h), whatever
 * time_t this library has. One of the two is the library's own struct
 * timespec (which one depends on how the library was built), so that the
 * plain names keep the type they always had in the default build (the ABI
 * baseline, abi/libferry-i386.abi, says struct timespec). */
#ifdef FERRY__TWO_TIME_LAYOUTS
#ifdef __USE_TIME_BITS64
#define PLAIN_TS struct ferry__timespec32
#define WIDE_TS struct timespec
#define TO_PLAIN(t) ferry__timespec_to32(t)
#define TO_WIDE(t) (t)
#else
#define PLAIN_TS struct timespec
#define WIDE_TS struct ferry__timespec64
#define TO_PLAIN(t) (t)
#define TO_WIDE(t) ferry__timespec_to64(t)
#endif
/* Declared here, not by the header: exported as the header's declarations
 * are (FERRY_EXTERN_C_BEGIN gives them default visibility; the library is
 * built with -fvisibility=hidden). */
FERRY_EXTERN_C_BEGIN
PLAIN_TS ferry_deadline_in(int64_t ns);
PLAIN_TS ferry_deadline_in_ms(int64_t ms);
WIDE_TS ferry__deadline_in_time64(int64_t ns);
WIDE_TS ferry__deadline_in_ms_time64(int64_t ms);
FERRY_EXTERN_C_END

PLAIN_TS ferry_deadline_in(int64_t ns)
{
    return TO_PLAIN(deadline_in(ns));
}

PLAIN_TS ferry_deadline_in_ms(int64_t ms)
{
    return TO_PLAIN(deadline_in_ms(ms));
}

WIDE_TS ferry__deadline_in_time64(int64_t ns)
{
    return TO_WIDE(deadline_in(ns));
}

WIDE_TS ferry__deadline_in_ms_time64(int64_t ms)
{
    return TO_WIDE(deadline_in_ms(ms));
}
#else
struct timespec ferry_deadline_in(int64_t ns)
{
    return deadline_in(ns);
}

struct timespec ferry_deadline_in_ms(int64_t ms)
{
    return deadline_in_ms(ms);
}

struct timespec ferry__deadline_in_time64(int64_t ns)
{
    return deadline_in(ns);
}

struct timespec ferry__deadline_in_ms_time64(int64_t ms)
{
    return deadline_in_ms(ms);
}
#endif
