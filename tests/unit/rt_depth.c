/* SPDX-License-Identifier: MIT */
/* ferry/rt.h, the checker's view: libferry hands a preloaded checker a probe
 * for the calling thread's depth counter (src/rt.c). This program stands in
 * for the checker: it exports ferry_rtcheck_register (linked with
 * ENABLE_EXPORTS, tests/CMakeLists.txt), so the library finds it at start-up
 * as it would find libferry-rtcheck.so. Through the probe the tests check
 * that the checker reads the same depth as ferry_rt_depth(), per thread, and
 * stage a depth at the counter's limit. */
#include <ferry/rt.h>

#include <limits.h>
#include <pthread.h>

#include "test.h"

static unsigned *(*probe)(void);

/* Called by libferry's constructor (src/rt.c), before main. */
__attribute__((visibility("default"))) int ferry_rtcheck_register(unsigned *(*p)(void));
int ferry_rtcheck_register(unsigned *(*p)(void))
{
    probe = p;
    return 0;
}

FERRY_TEST(checker_is_handed_the_probe_and_reads_the_depth)
{
    CHECK(probe != NULL);
    CHECK_EQ(*probe(), 0);
    ferry_rt_enter();
    ferry_rt_enter();
    CHECK_EQ(*probe(), 2);
    ferry_rt_exit();
    CHECK_EQ(*probe(), 1);
    ferry_rt_exit();
    CHECK_EQ(*probe(), 0);
}

static void *depth_in_new_thread(void *arg)
{
    (void)arg;
    unsigned *mine = probe();
    unsigned before = *mine;
    ferry_rt_enter();
    unsigned inside = *mine;
    ferry_rt_exit();
    return (void *)(uintptr_t)(before == 0 && inside == 1);
}

FERRY_TEST(probe_reads_the_calling_threads_counter)
{
    ferry_rt_enter();
    pthread_t t;
    void *ok = NULL;
    CHECK_EQ(pthread_create(&t, NULL, depth_in_new_thread, NULL), 0);
    CHECK_EQ(pthread_join(t, &ok), 0);
    CHECK(ok != NULL); /* the other thread saw its own depth: 0, then 1 */
    CHECK_EQ(*probe(), 1);
    ferry_rt_exit();
}

/* The depth has 32 bits: an enter without its exit in a loop must abort at
 * the limit rather than wrap to 0, which would leave the thread looking
 * outside any section and switch the checks off. Staged through the probe
 * rather than reached by 2^32 - 1 enters. */
FERRY_DEATH_TEST(nesting_past_the_limit_aborts, "real-time sections nested too deep")
{
    CHECK(probe != NULL);
    ferry_rt_enter();
    *probe() = UINT_MAX - 1;
    ferry_rt_enter(); /* the deepest level the counter holds: allowed */
    CHECK_EQ(ferry_rt_depth(), UINT_MAX);
    ferry_rt_enter();
    CHECK(ferry_rt_active()); /* not reached with the check */
}
