/* SPDX-License-Identifier: MIT */
/* ferry_cond with a crowd of waiters: 64 threads wait for each of many
 * generations, announced by a broadcast or, in turn, by signals (one per
 * waiter yet to see it, repeated every millisecond until all have: a signal
 * that wakes a waiter which saw it already is spent, as cond semantics
 * allow).
 * A third of the waiters use 1 ms deadlines (a timeout is only a reason to
 * look again). Invariant, checked at every step: each waiter sees each
 * generation exactly once, in order, and the announcer learns of each
 * waiter's sighting before the next generation. A lost wakeup stops the
 * round: the announcer's wait for the sightings has a hang limit (not a
 * tolerance: 30 s with nothing happening). */
#include <ferry/mutex.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "test.h"

#define WAITERS 64
#define HANG_MS 30000

static struct {
    ferry_mutex m;
    ferry_cond gen_c;       /* a new generation (or the end) */
    ferry_cond seen_c;      /* a waiter saw the generation */
    unsigned long gen;      /* under m */
    int seen;               /* waiters that saw gen; under m */
    bool done;              /* under m */
    unsigned long sightings[WAITERS];   /* each waiter's own; read after the join */
    long timeouts;          /* under m */
} cc;

static void *waiter_main(void *arg)
{
    int id = (int)(uintptr_t)arg;
    bool timed = id % 3 == 0;
    unsigned long last = 0;
    ferry_mutex_lock(&cc.m);
    for (;;) {
        while (cc.gen == last && !cc.done) {
            if (timed) {
                struct timespec d = ferry_test_deadline_ms(1);
                int rc = ferry_cond_wait_until(&cc.gen_c, &cc.m, &d);
                CHECK_MSG(rc == 0 || rc == -ETIMEDOUT, "ferry_cond_wait_until: %d", rc);
                cc.timeouts += rc == -ETIMEDOUT;
            } else {
                CHECK_EQ(ferry_cond_wait(&cc.gen_c, &cc.m), 0);
            }
            CHECK(ferry_mutex_is_locked(&cc.m));
        }
        if (cc.gen == last)
            break;   /* done */
        CHECK_MSG(cc.gen == last + 1, "waiter %d saw generation %lu after %lu (one skipped)", id,
                  cc.gen, last);
        last = cc.gen;
        cc.sightings[id]++;
        if (++cc.seen == WAITERS)
            ferry_cond_signal(&cc.seen_c);
    }
    ferry_mutex_unlock(&cc.m);
    return NULL;
}

/* Wait (m held) until every waiter saw generation g; with signals, keep
 * signalling one at a time meanwhile. */
static void await_sightings(unsigned long g, bool by_signal)
{
    struct timespec limit = ferry_test_deadline_ms(HANG_MS);
    int last_seen = -1;
    while (cc.seen < WAITERS) {
        if (cc.seen != last_seen) {
            last_seen = cc.seen;
            limit = ferry_test_deadline_ms(HANG_MS);   /* progress */
        }
        if (by_signal)   /* one signal per waiter yet to see g */
            for (int i = cc.seen; i < WAITERS; i++)
                ferry_cond_signal(&cc.gen_c);
        struct timespec d = by_signal ? ferry_test_deadline_ms(1) : limit;
        int rc = ferry_cond_wait_until(&cc.seen_c, &cc.m, &d);
        CHECK_MSG(rc == 0 || rc == -ETIMEDOUT, "ferry_cond_wait_until: %d", rc);
        CHECK_MSG(ferry_test_ns_between(ferry_test_now(), limit) > 0,
                  "generation %lu (%s): %d of %d waiters saw it, none more in %d s (a lost wakeup)",
                  g, by_signal ? "signals" : "broadcast", cc.seen, WAITERS, HANG_MS / 1000);
    }
}

FERRY_TEST(every_waiter_sees_every_generation)
{
    memset(&cc, 0, sizeof cc);
    pthread_t t[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, waiter_main, (void *)(uintptr_t)i), 0);
    unsigned long gens = ferry_test_scaled(2000);
    ferry_mutex_lock(&cc.m);
    for (unsigned long g = 1; g <= gens; g++) {
        bool by_signal = g % 4 == 0;
        cc.gen = g;
        cc.seen = 0;
        if (!by_signal) {
            /* Half the broadcasts with the mutex held, half after it is
             * released (then the waiters race the announcer for it). */
            if (g % 2) {
                ferry_cond_broadcast(&cc.gen_c);
            } else {
                ferry_mutex_unlock(&cc.m);
                ferry_cond_broadcast(&cc.gen_c);
                ferry_mutex_lock(&cc.m);
            }
        }
        await_sightings(g, by_signal);
    }
    cc.done = true;
    ferry_cond_broadcast(&cc.gen_c);
    ferry_mutex_unlock(&cc.m);
    for (int i = 0; i < WAITERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < WAITERS; i++)
        CHECK_MSG(cc.sightings[i] == gens, "waiter %d saw %lu of %lu generations", i, cc.sightings[i],
                  gens);
    CHECK_EQ(atomic_load(&cc.m.word), 0);
    CHECK_EQ(atomic_load(&cc.gen_c.word), 0);
    CHECK_EQ(atomic_load(&cc.seen_c.word), 0);
}
