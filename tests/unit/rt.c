/* ferry/rt.h: section marks nest, are per thread, and unbalanced exits
 * abort. */
#include <ferry/rt.h>

#include <pthread.h>

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

static void *other(void *arg)
{
    bool *seen = arg;
    *seen = ferry_rt_active();
    ferry_rt_enter();
    ferry_rt_exit();
    return NULL;
}

FERRY_TEST(marks_are_per_thread)
{
    bool seen = true;
    ferry_rt_enter();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, other, &seen), 0);
    pthread_join(t, NULL);
    CHECK(!seen);
    CHECK(ferry_rt_active());
    ferry_rt_exit();
}

FERRY_DEATH_TEST(exit_without_enter, "ferry_rt_exit() without a matching ferry_rt_enter()")
{
    ferry_rt_exit();
}
