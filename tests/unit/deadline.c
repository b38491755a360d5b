/* SPDX-License-Identifier: MIT */
/* ferry/deadline.h: absolute deadlines from durations. */
#include <errno.h>
#include <ferry/chan.h>
#include <stdint.h>

#include "test.h"

/* now + the duration, normalized; saturating at time_t's ends; usable as
 * a deadline either way. */
FERRY_TEST(deadline_in_adds_and_saturates)
{
    struct timespec before = ferry_test_now();
    struct timespec d = ferry_deadline_in(1500000000); /* 1.5 s */
    struct timespec after = ferry_test_now();
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    CHECK(ferry_test_ns_between(before, d) >= 1500000000ll);
    CHECK(ferry_test_ns_between(after, d) <= 1500000000ll);
    d = ferry_deadline_in(-2500000000ll);
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    CHECK(ferry_test_ns_between(d, ferry_test_now()) >= 2500000000ll);
    d = ferry_deadline_in(0);
    CHECK(ferry_test_ns_between(d, ferry_test_now()) >= 0);
    /* 292 years, or the last time_t where it is 32 bits (i386: 2^31 - 1 s). */
    long long time_max = (long long)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1);
    long long far_sec = before.tv_sec + 9000000000ll < time_max ? before.tv_sec + 9000000000ll : time_max;
    d = ferry_deadline_in(INT64_MAX);
    CHECK(d.tv_sec >= far_sec);
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    d = ferry_deadline_in_ms(INT64_MAX);
    CHECK_EQ(d.tv_nsec, 999999999);
    CHECK_EQ((unsigned long long)d.tv_sec, (unsigned long long)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1));
    d = ferry_deadline_in_ms(INT64_MIN);
    CHECK(d.tv_sec < 0);
    CHECK_EQ(d.tv_nsec, 0);
    d = ferry_deadline_in_ms(250);
    CHECK(ferry_test_ns_between(before, d) >= 250000000ll);
    CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    /* As deadlines: a past one times out at once, a far one is valid. */
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 8};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long out;
    struct timespec past = ferry_deadline_in_ms(-1000), far = ferry_deadline_in_ms(INT64_MAX);
    CHECK_EQ(ferry_recv_until(rx, &out, 1, &past), -ETIMEDOUT);
    long v = 4;
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    CHECK_EQ(ferry_recv_until(rx, &out, 1, &far), 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}
