/* SPDX-License-Identifier: MIT */
/* ferry/mutex.h attacked with hostile deadlines: tv_nsec at LONG_MIN and
 * LONG_MAX, tv_sec negative and at time_t's maximum, deadlines long past,
 * on free and on held mutexes and on cond waits. */
#include <ferry/deadline.h>
#include <ferry/mutex.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "test.h"

#define TIME_T_MAX ((time_t)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1))

static const struct timespec far_past = {-TIME_T_MAX, 0};
static const struct timespec neg_sec = {-1, 999999999};
static const struct timespec epoch = {0, 0};
static const struct timespec far_future = {TIME_T_MAX, 999999999};

FERRY_TEST(lock_until_bad_nsec_is_einval_even_when_free)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    const struct timespec bad[] = {{0, LONG_MIN}, {0, LONG_MAX}, {TIME_T_MAX, -1},
                                   {-1, 1000000000L}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(ferry_mutex_lock_until(&m, &bad[i]), -EINVAL);
        CHECK(!ferry_mutex_is_locked(&m)); /* nothing happened */
    }
}

/* A free mutex is taken whatever the (valid) deadline. */
FERRY_TEST(lock_until_free_mutex_any_valid_deadline)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    const struct timespec *ds[] = {&far_past, &neg_sec, &epoch, &far_future};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ(ferry_mutex_lock_until(&m, ds[i]), 0);
        CHECK(ferry_mutex_is_locked(&m));
        ferry_mutex_unlock(&m);
    }
}

static FERRY_ATOMIC(int) held;   /* hold_briefly has taken the mutex */

static void *hold_briefly(void *arg)
{
    ferry_mutex *m = arg;
    struct timespec d = ferry_deadline_in_ms(20);
    ferry_mutex_lock(m);
    atomic_store(&held, 1);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) != 0) {
    }
    ferry_mutex_unlock(m);
    return NULL;
}

/* On a held mutex a past deadline (negative tv_sec included, which the
 * kernel would refuse) is a timeout, never -EINVAL or a crash. */
FERRY_TEST(lock_until_held_mutex_past_deadlines_time_out)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    const struct timespec *ds[] = {&far_past, &neg_sec, &epoch};
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(ferry_mutex_lock_until(&m, ds[i]), -ETIMEDOUT);
    ferry_mutex_unlock(&m);
    CHECK(!ferry_mutex_is_locked(&m));
}

/* A deadline at time_t's maximum means "wait": the lock is taken when the
 * holder lets go. */
FERRY_TEST(lock_until_far_future_waits_for_release)
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    pthread_t t;
    atomic_store(&held, 0);
    CHECK_EQ(pthread_create(&t, NULL, hold_briefly, &m), 0);
    /* A flag, not ferry_mutex_is_locked: a main thread descheduled for the
     * holder's whole 20 ms would never see the mutex locked (and spun until
     * the test's timeout). */
    while (!atomic_load(&held))
        sched_yield();
    CHECK_EQ(ferry_mutex_lock_until(&m, &far_future), 0);
    ferry_mutex_unlock(&m);
    pthread_join(t, NULL);
}

/* Cond waits with past deadlines time out and return with the mutex held. */
FERRY_TEST(cond_wait_until_past_deadlines)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    const struct timespec *ds[] = {&far_past, &neg_sec, &epoch};
    ferry_mutex_lock(&m);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(ferry_cond_wait_until(&c, &m, ds[i]), -ETIMEDOUT);
        CHECK(ferry_mutex_is_locked(&m));
    }
    ferry_mutex_unlock(&m);
    ferry_cond_fini(&c);
    ferry_mutex_fini(&m);
}

/* -EINVAL comes before the "mutex not locked" check: a bad deadline or a
 * NULL cond with an unlocked mutex is an error result, not an abort. */
FERRY_TEST(cond_wait_until_bad_arguments_before_lock_check)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    const struct timespec bad = {0, LONG_MIN};
    CHECK_EQ(ferry_cond_wait_until(&c, &m, &bad), -EINVAL);
    CHECK_EQ(ferry_cond_wait_until(NULL, &m, &epoch), -EINVAL);
    CHECK_EQ(ferry_cond_wait_until(&c, NULL, &epoch), -EINVAL);
    CHECK(!ferry_mutex_is_locked(&m));
}

struct sig {
    ferry_mutex m;
    ferry_cond c;
    int flag;
};

static void *signal_later(void *arg)
{
    struct sig *s = arg;
    ferry_mutex_lock(&s->m);
    s->flag = 1;
    ferry_cond_signal(&s->c);
    ferry_mutex_unlock(&s->m);
    return NULL;
}

FERRY_TEST(cond_wait_until_far_future_is_signalled)
{
    static struct sig s;
    pthread_t t;
    ferry_mutex_lock(&s.m);
    CHECK_EQ(pthread_create(&t, NULL, signal_later, &s), 0);
    while (!s.flag)
        CHECK_EQ(ferry_cond_wait_until(&s.c, &s.m, &far_future), 0);
    CHECK(ferry_mutex_is_locked(&s.m));
    ferry_mutex_unlock(&s.m);
    pthread_join(t, NULL);
}

/* Not recursive: trylock by the holder fails, and does not unlock. */
FERRY_TEST(trylock_by_holder_fails)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    CHECK(!ferry_mutex_trylock(&m));
    CHECK(ferry_mutex_is_locked(&m));
    ferry_mutex_unlock(&m);
}

/* Signal and broadcast on a cond nobody waits on change nothing. */
FERRY_TEST(signal_broadcast_without_waiters)
{
    ferry_cond c = FERRY_COND_INIT;
    ferry_cond_signal(&c);
    ferry_cond_broadcast(&c);
    CHECK_EQ(atomic_load(&c.word), 0);
    ferry_cond_fini(&c);
}
