/* SPDX-License-Identifier: MIT */
/* Deadlines from a program built with a 64-bit time_t (_TIME_BITS=64) on a
 * 32-bit target whose default is 32 bits (the m32 build: i386 glibc): its
 * struct timespec is { 64-bit tv_sec, tv_nsec, padding }, and the library
 * read it as two 32-bit words -- a deadline cut to its whole second (a
 * timeout up to a second early), and time_t's maximum, which never comes,
 * taken for a bad tv_nsec (-EINVAL, the mutex not taken). ferry/mutex.h
 * now calls the _time64 entry points there. On targets where time_t has
 * 64 bits already this program is an ordinary one and checks the same.
 *
 * This file does not use the harness's time helpers: they take the
 * harness's own struct timespec (32-bit time_t in the m32 build). */
#define _TIME_BITS 64
#define _FILE_OFFSET_BITS 64
#include <ferry/mutex.h>

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define TIME_MAX ((time_t)(sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX))

static struct timespec mono_in_ns(int64_t ns)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    ns += t.tv_nsec;
    t.tv_sec += (time_t)(ns / 1000000000);
    t.tv_nsec = (long)(ns % 1000000000);
    return t;
}

static bool reached(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* A deadline 0.3 s ahead, with a tv_nsec that is not 0 (cut to its whole
 * second, it would be up to a second earlier). */
static struct timespec soon(void)
{
    struct timespec d = mono_in_ns(300000000);
    if (d.tv_nsec == 0)
        d.tv_nsec = 1;
    return d;
}

/* Another thread's timed lock of a mutex this thread holds (with
 * FERRY_DEBUG, relocking by the holder aborts). */
struct timed_lock {
    ferry_mutex *m;
    struct timespec deadline;
    int rc;
    bool reached;    /* the deadline had come when it returned */
};

static void *timed_lock_main(void *arg)
{
    struct timed_lock *a = arg;
    a->rc = ferry_mutex_lock_until(a->m, &a->deadline);
    a->reached = reached(&a->deadline);
    if (a->rc == 0)
        ferry_mutex_unlock(a->m);
    return NULL;
}

static void timed_lock_in_thread(ferry_mutex *m, struct timed_lock *a, struct timespec d)
{
    a->m = m;
    a->deadline = d;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, timed_lock_main, a), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

FERRY_TEST(mutex_timeout_never_before_the_deadline)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    for (int i = 0; i < 3; i++) {
        struct timed_lock a;
        timed_lock_in_thread(&m, &a, soon());
        CHECK_EQ(a.rc, -ETIMEDOUT);
        CHECK_MSG(a.reached, "ferry_mutex_lock_until timed out before its deadline");
    }
    ferry_mutex_unlock(&m);
}

FERRY_TEST(cond_timeout_never_before_the_deadline)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    ferry_mutex_lock(&m);
    for (int i = 0; i < 3; i++) {
        struct timespec d = soon();
        CHECK_EQ(ferry_cond_wait_until(&c, &m, &d), -ETIMEDOUT);
        CHECK_MSG(reached(&d), "ferry_cond_wait_until timed out before its deadline");
        CHECK(ferry_mutex_is_locked(&m));
    }
    ferry_mutex_unlock(&m);
}

/* Deadlines that never come (time_t's maximum; past 2^32 s, which cut to
 * 32 bits reads as a time long past) wait for the release; past ones
 * (negative, time_t's minimum) time out at once. */
struct releaser {
    ferry_mutex *m;
    ferry_cond *c;
    FERRY_ATOMIC(int) go;
};

static void *release_main(void *arg)
{
    struct releaser *r = arg;
    /* Acquire: pairs with the waiter's release of `go`, after it holds m or
     * waits on c. */
    while (!atomic_load_explicit(&r->go, memory_order_acquire))
        usleep(1000);
    usleep(20000);
    ferry_mutex_lock(r->m);
    if (r->c)
        ferry_cond_signal(r->c);
    ferry_mutex_unlock(r->m);
    return NULL;
}

static const struct timespec far_deadlines[] = {
    { TIME_MAX, 999999999 },
    { (time_t)(sizeof(time_t) == 8 ? ((int64_t)1 << 32) + 5 : INT32_MAX - 1), 0 },
};

FERRY_TEST(far_deadlines_held_mutex_waits_for_the_release)
{
    for (size_t i = 0; i < sizeof far_deadlines / sizeof far_deadlines[0]; i++) {
        ferry_mutex m = FERRY_MUTEX_INIT;
        ferry_mutex_lock(&m);
        struct timed_lock a;
        a.m = &m;
        a.deadline = far_deadlines[i];
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, timed_lock_main, &a), 0);
        usleep(20000);
        ferry_mutex_unlock(&m);
        CHECK_EQ(pthread_join(t, NULL), 0);
        CHECK_EQ(a.rc, 0);
    }
}

FERRY_TEST(far_deadlines_cond_wait_is_signalled)
{
    for (size_t i = 0; i < sizeof far_deadlines / sizeof far_deadlines[0]; i++) {
        ferry_mutex m = FERRY_MUTEX_INIT;
        ferry_cond c = FERRY_COND_INIT;
        struct releaser r = { &m, &c, 0 };
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, release_main, &r), 0);
        ferry_mutex_lock(&m);
        /* Signalled only once this thread waits: the releaser needs m. */
        atomic_store_explicit(&r.go, 1, memory_order_release);
        CHECK_EQ(ferry_cond_wait_until(&c, &m, &far_deadlines[i]), 0);
        ferry_mutex_unlock(&m);
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
}

FERRY_TEST(past_deadlines_time_out)
{
    static const struct timespec past[] = {
        { -1, 0 },
        { (time_t)(sizeof(time_t) == 8 ? INT64_MIN : INT32_MIN), 0 },
        { (time_t)(sizeof(time_t) == 8 ? -((int64_t)1 << 32) : INT32_MIN + 1), 5 },
    };
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    ferry_mutex_lock(&m);
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        struct timed_lock a;
        timed_lock_in_thread(&m, &a, past[i]);
        CHECK_EQ(a.rc, -ETIMEDOUT);
        CHECK_EQ(ferry_cond_wait_until(&c, &m, &past[i]), -ETIMEDOUT);
        CHECK(ferry_mutex_is_locked(&m));
    }
    ferry_mutex_unlock(&m);
}

FERRY_TEST(bad_nsec_is_einval)
{
    static const long bad[] = { -1, 1000000000L, 2000000000L };
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct timespec d = { 0, bad[i] };
        CHECK_EQ(ferry_mutex_lock_until(&m, &d), -EINVAL);
        CHECK(!ferry_mutex_is_locked(&m));
        ferry_mutex_lock(&m);
        CHECK_EQ(ferry_cond_wait_until(&c, &m, &d), -EINVAL);
        CHECK(ferry_mutex_is_locked(&m));
        ferry_mutex_unlock(&m);
    }
}
