/* SPDX-License-Identifier: MIT */
/* ferry/deadline.h: absolute deadlines from durations.
 *
 * Every timed call in ferry (ferry_send_until, ferry_recv_until,
 * ferry_select_until, ferry_mutex_lock_until, ferry_cond_wait_until, ...)
 * takes an absolute CLOCK_MONOTONIC deadline, so that a call that waits
 * several times (or a loop of calls) keeps one end time. These make one from
 * a duration:
 *
 *   struct timespec dl = ferry_deadline_in_ms(250);
 *   while ((r = ferry_recv_until(rx, buf, 64, &dl)) > 0)   // all within 250 ms
 *       handle(buf, r);
 *
 * The sum saturates: a duration too long for time_t gives the latest
 * representable time (in effect, never), a negative one a time in the past
 * (the call then makes the progress that needs no waiting, and times out).
 * Any thread; never blocks or allocates.
 */
#ifndef FERRY_DEADLINE_H
#define FERRY_DEADLINE_H

#include <ferry/common.h>
#include <stdint.h>
#include <time.h>

FERRY_EXTERN_C_BEGIN

/* The CLOCK_MONOTONIC time `ns` nanoseconds from now (saturating; see
 * above). Never fails. */
struct timespec ferry_deadline_in(int64_t ns);

/* The CLOCK_MONOTONIC time `ms` milliseconds from now (saturating). */
struct timespec ferry_deadline_in_ms(int64_t ms);

/* A program built with a 64-bit time_t on a 32-bit target whose default is
 * 32 bits (glibc's _TIME_BITS=64) has another struct timespec: these
 * return that layout, and the names above call them there (see
 * ferry/chan.h, after ferry_recv_until); elsewhere they are the same as
 * the names above. Not for direct use. */
struct timespec ferry__deadline_in_time64(int64_t ns);
struct timespec ferry__deadline_in_ms_time64(int64_t ms);
#if defined(__TIMESIZE) && __TIMESIZE == 32 && defined(__USE_TIME_BITS64) && !defined(FERRY__TIME64_IMPL)
#define ferry_deadline_in ferry__deadline_in_time64
#define ferry_deadline_in_ms ferry__deadline_in_ms_time64
#endif

FERRY_EXTERN_C_END

#endif /* FERRY_DEADLINE_H */
