/* SPDX-License-Identifier: MIT */
/* ferry/rt.h: section marks nest, are per thread, and unbalanced exits
 * abort. */
#include <ferry/rt.h>

#include <pthread.h>
#include <stdatomic.h>

#include "test.h"

FERRY_TEST(marks_nest)
{
    CHECK(!ferry_rt_active());
    CHECK_EQ(ferry_rt_depth(), 0);
    ferry_rt_enter();
    CHECK(ferry_rt_active());
    ferry_rt_enter();
    CHECK_EQ(ferry_rt_depth(), 2);
    ferry_rt_exit();
    CHECK(ferry_rt_active());
    ferry_rt_exit();
    CHECK(!ferry_rt_active());
    CHECK_EQ(ferry_rt_depth(), 0);
}

static atomic_int phase;
static atomic_bool other_seen;

static void *other(void *arg)
{
    (void)arg;
    while (atomic_load(&phase) != 1) {
    }
    atomic_store(&other_seen, ferry_rt_active());
    ferry_rt_enter();
    ferry_rt_exit();
    atomic_store(&phase, 2);
    return NULL;
}

FERRY_TEST(marks_are_per_thread)
{
    /* The other thread looks while this one is inside a section (the
     * thread is created outside it: creating threads is not real-time safe,
     * and RTSan builds would say so). */
    pthread_t t;
    atomic_store(&other_seen, true);
    CHECK_EQ(pthread_create(&t, NULL, other, NULL), 0);
    ferry_rt_enter();
    atomic_store(&phase, 1);
    while (atomic_load(&phase) != 2) {
    }
    bool still = ferry_rt_active();
    ferry_rt_exit();
    pthread_join(t, NULL);
    CHECK(!atomic_load(&other_seen));
    CHECK(still);
}

FERRY_DEATH_TEST(exit_without_enter, "ferry_rt_exit() without a matching ferry_rt_enter()")
{
    ferry_rt_exit();
}
