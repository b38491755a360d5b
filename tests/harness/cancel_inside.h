/* SPDX-License-Identifier: MIT */
/* For tests of "a thread cancelled inside a callback loses nothing": the
 * callback calls ferry_test_cancel_me() and so reaches a cancellation
 * point with a request pending; ferry_test_cancel_inside() runs the thread,
 * sends that request while the callback waits for it, and checks that the
 * thread ended cancelled. One use per program (the phase is shared). */
#ifndef FERRY_TEST_CANCEL_INSIDE_H
#define FERRY_TEST_CANCEL_INSIDE_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "test.h"

static atomic_int ferry_test_cancel_phase; /* 1: cancel me; 2: the request is sent */

/* In the callback: wait for the request, then reach a cancellation point. */
static inline void ferry_test_cancel_me(void)
{
    atomic_store(&ferry_test_cancel_phase, 1);
    while (atomic_load(&ferry_test_cancel_phase) != 2)
        sched_yield();
    pthread_testcancel();
}

/* Run fn on a thread, cancel it inside its callback, join it: it must end
 * cancelled. */
static inline void ferry_test_cancel_inside(void *(*fn)(void *))
{
    atomic_store(&ferry_test_cancel_phase, 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, fn, NULL), 0);
    while (atomic_load(&ferry_test_cancel_phase) != 1)
        sched_yield();
    CHECK_EQ(pthread_cancel(t), 0);
    atomic_store(&ferry_test_cancel_phase, 2);
    void *res;
    CHECK_EQ(pthread_join(t, &res), 0);
    CHECK(res == PTHREAD_CANCELED);
}

#endif /* FERRY_TEST_CANCEL_INSIDE_H */
