/* SPDX-License-Identifier: MIT */
/* pthread_cancel of a thread waiting in ferry_cond_wait(_until) or
 * ferry_mutex_lock(_until). None of them is a cancellation point (unlike
 * pthread_cond_wait): the waiter's queue node lives in its stack frame, and
 * a thread that died there would leave it linked in the cond's or mutex's
 * queue. The cancellation stays pending until the thread's next
 * cancellation point, after the call returned with the mutex held; the
 * mutex and cond are left clean (fini finds no waiter). */
#include <ferry/deadline.h>
#include <ferry/mutex.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "test.h"

static ferry_mutex m;
static ferry_cond c;
static bool go;                    /* under m */
static FERRY_ATOMIC(int) started, returned;

enum { COND_WAIT, COND_WAIT_UNTIL, LOCK, LOCK_UNTIL };

/* The wait, in a frame of its own that returns normally (a thread unwound
 * by cancellation through a frame with address-taken locals leaves
 * AddressSanitizer's redzones behind, which it then trips over). */
__attribute__((noinline)) static void wait_and_unlock(int how)
{
    struct timespec far = ferry_deadline_in_ms(60000);
    if (how == COND_WAIT || how == COND_WAIT_UNTIL) {
        ferry_mutex_lock(&m);
        atomic_store(&started, 1);
        while (!go) {
            int r = how == COND_WAIT ? ferry_cond_wait(&c, &m) : ferry_cond_wait_until(&c, &m, &far);
            CHECK_EQ(r, 0);
        }
    } else {
        atomic_store(&started, 1);
        if (how == LOCK)
            ferry_mutex_lock(&m);
        else
            CHECK_EQ(ferry_mutex_lock_until(&m, &far), 0);
    }
    /* Back from the wait, holding the mutex: the cancellation is pending. */
    atomic_store(&returned, 1);
    ferry_mutex_unlock(&m);
}

static void *victim(void *arg)
{
    wait_and_unlock((int)(intptr_t)arg);
    pthread_testcancel(); /* the pending cancellation acts here */
    return NULL;
}

static void cancel_while_waiting(int how)
{
    go = false;
    atomic_store(&started, 0);
    atomic_store(&returned, 0);
    if (how == LOCK || how == LOCK_UNTIL)
        ferry_mutex_lock(&m);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, victim, (void *)(intptr_t)how), 0);
    while (!atomic_load(&started))
        sched_yield();
    if (how == COND_WAIT || how == COND_WAIT_UNTIL) {
        /* The victim released m when it began waiting; once we hold it,
         * the victim is queued on c. */
        ferry_mutex_lock(&m);
    }
    ferry_test_sleep_ms(20); /* let the victim fall asleep in the kernel */
    CHECK_EQ(pthread_cancel(t), 0);
    ferry_test_sleep_ms(20);
    CHECK_MSG(!atomic_load(&returned), "the victim returned without being woken");
    go = true;
    ferry_cond_signal(&c);
    ferry_mutex_unlock(&m);
    void *ret;
    CHECK_EQ(pthread_join(t, &ret), 0);
    CHECK(ret == PTHREAD_CANCELED);
    CHECK_MSG(atomic_load(&returned), "the victim died inside the wait (a cancellation point)");
    /* Nothing left behind: fini aborts if a waiter is still queued. */
    CHECK(!ferry_mutex_is_locked(&m));
    ferry_cond_fini(&c);
    ferry_mutex_fini(&m);
    /* And both still work. */
    ferry_mutex_lock(&m);
    struct timespec past = {0, 0};
    CHECK_EQ(ferry_cond_wait_until(&c, &m, &past), -ETIMEDOUT);
    ferry_mutex_unlock(&m);
}

FERRY_TEST(cancel_during_cond_wait_acts_after_it_returns) { cancel_while_waiting(COND_WAIT); }
FERRY_TEST(cancel_during_cond_wait_until_acts_after_it_returns) { cancel_while_waiting(COND_WAIT_UNTIL); }
FERRY_TEST(cancel_during_mutex_lock_acts_after_it_returns) { cancel_while_waiting(LOCK); }
FERRY_TEST(cancel_during_mutex_lock_until_acts_after_it_returns) { cancel_while_waiting(LOCK_UNTIL); }
