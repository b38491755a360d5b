/* SPDX-License-Identifier: MIT */
/* Internal futex wrapper: wait/wake, value mismatch, absolute deadline. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "futex.h"
#include "test.h"

static FERRY_ATOMIC(uint32_t) word;

/* Wakes the word until a wake reports a sleeper (the waiter is asleep in
 * ferry__futex_wait: a state, not a time), then sets it and wakes again. */
static void *waker(void *arg)
{
    (void)arg;
    struct timespec limit = ferry_test_deadline_ms(30000);
    while (ferry__futex_wake(&word, 1) == 0) {
        CHECK_MSG(ferry_test_ns_between(ferry_test_now(), limit) > 0,
                  "no thread slept in ferry__futex_wait in 30 s");
        sched_yield();
    }
    atomic_store_explicit(&word, 1, memory_order_release);
    ferry__futex_wake(&word, 1);
    return NULL;
}

FERRY_TEST(wait_returns_after_wake)
{
    atomic_store_explicit(&word, 0, memory_order_relaxed);
    pthread_t t;
    pthread_create(&t, NULL, waker, NULL);
    struct timespec dl = ferry_test_deadline_ms(30000);
    int woken = 0;
    while (atomic_load_explicit(&word, memory_order_acquire) == 0) {
        int r = ferry__futex_wait(&word, 0, &dl);
        CHECK_MSG(r == 0 || r == -EAGAIN || r == -EINTR, "ferry__futex_wait returned %d", r);
        woken += r == 0;
    }
    pthread_join(t, NULL);
    CHECK(!ferry__deadline_passed(&dl));
    /* The waker's first successful wake was of this thread. */
    CHECK(woken >= 1);
}

FERRY_TEST(wait_value_mismatch_is_eagain)
{
    atomic_store_explicit(&word, 5, memory_order_relaxed);
    CHECK_EQ(ferry__futex_wait(&word, 4, NULL), -EAGAIN);
}

FERRY_TEST(wait_timed_deadline_is_absolute_monotonic)
{
    atomic_store_explicit(&word, 0, memory_order_relaxed);
    struct timespec start = ferry_test_now();
    struct timespec dl = ferry_test_deadline_ms(30);
    int r;
    do
        r = ferry__futex_wait(&word, 0, &dl);
    while (r != -ETIMEDOUT);
    long long ns = ferry_test_ns_between(start, ferry_test_now());
    CHECK_MSG(ns >= 30 * 1000000LL, "returned after %lld ns, before the deadline", ns);
    /* Late only by scheduling delay (a relative or CLOCK_REALTIME reading
     * of the deadline would wait for hours, or not at all). */
    CHECK_MSG(ns < 30 * 1000000LL + FERRY_TEST_LATE_NS, "returned %lld ns after the deadline", ns - 30 * 1000000LL);
    CHECK(ferry__deadline_passed(&dl));
    CHECK(!ferry__deadline_passed(NULL));
}

FERRY_TEST(wake_without_waiters_is_zero)
{
    CHECK_EQ(ferry__futex_wake(&word, 1), 0);
}

/* A bad tv_nsec is -EINVAL without sleeping (it used to abort in the
 * kernel's EINVAL); a negative tv_sec is long past: -ETIMEDOUT. */
FERRY_TEST(wait_bad_deadline_is_einval_not_abort)
{
    atomic_store_explicit(&word, 0, memory_order_relaxed);
    struct timespec dl = ferry_test_deadline_ms(10000);
    dl.tv_nsec = 1000000000L;
    CHECK_EQ(ferry__futex_wait(&word, 0, &dl), -EINVAL);
    dl.tv_nsec = -1;
    CHECK_EQ(ferry__futex_wait(&word, 0, &dl), -EINVAL);
    struct timespec past = {-1, 0};
    CHECK_EQ(ferry__futex_wait(&word, 0, &past), -ETIMEDOUT);
    CHECK(ferry__deadline_valid(NULL));
    CHECK(!ferry__deadline_valid(&dl));
}
