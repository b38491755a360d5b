/* SPDX-License-Identifier: MIT */
/* ferry_mutex and ferry_cond with signals arriving at the waiting threads
 * all the time (a handler installed without SA_RESTART, so every futex
 * sleep is interrupted with EINTR): no wait returns an error for it, no
 * wakeup is lost, mutual exclusion holds, and a timed wait is not cut short
 * by a signal. */
#include <ferry/deadline.h>
#include <ferry/mutex.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "test.h"
#include "signal_count.h"

/* Run n threads, fn(args[i]), while another thread sends SIGUSR1 to each
 * of them every 50 us; the storm stops once all have finished their work
 * (before they are joined: a joined thread's id must not be signalled). */
typedef struct storm {
    pthread_t targets[4];
    void *(*fn)(void *);
    void *args[4];
    int n;
    FERRY_ATOMIC(int) finished;
} storm;

typedef struct target {
    storm *s;
    int i;
} target;

static void *target_main(void *arg)
{
    target *t = arg;
    void *r = t->s->fn(t->s->args[t->i]);
    atomic_fetch_add(&t->s->finished, 1);
    return r;
}

static void storm_run(storm *s)
{
    target t[4];
    atomic_store(&s->finished, 0);
    atomic_store(&handled, 0);
    for (int i = 0; i < s->n; i++) {
        t[i].s = s;
        t[i].i = i;
        CHECK_EQ(pthread_create(&s->targets[i], NULL, target_main, &t[i]), 0);
    }
    struct timespec gap = {0, 50000};
    while (atomic_load(&s->finished) < s->n) {
        for (int i = 0; i < s->n; i++)
            pthread_kill(s->targets[i], SIGUSR1);
        nanosleep(&gap, NULL);
    }
    for (int i = 0; i < s->n; i++)
        CHECK_EQ(pthread_join(s->targets[i], NULL), 0);
    CHECK(atomic_load(&handled) > 0);
}

/* Ping-pong: each turn is handed over with exactly one signal, so a wakeup
 * lost to EINTR leaves a thread asleep until its 10 s deadline. */
static ferry_mutex pp_m;
static ferry_cond pp_c;
static int turn;
static size_t rounds;

static void *player(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (size_t i = 0; i < rounds; i++) {
        ferry_mutex_lock(&pp_m);
        struct timespec dl = ferry_deadline_in_ms(10000);
        while (turn != me) {
            int r = (i & 1) ? ferry_cond_wait_until(&pp_c, &pp_m, &dl) : ferry_cond_wait(&pp_c, &pp_m);
            CHECK_MSG(r == 0, "cond wait returned %d in round %zu (a lost wakeup times out)", r, i);
        }
        turn = !me;
        ferry_cond_signal(&pp_c);
        ferry_mutex_unlock(&pp_m);
    }
    return NULL;
}

FERRY_TEST(cond_ping_pong_loses_no_wakeup_to_signals)
{
    install_handler();
    rounds = ferry_test_scaled(10000);
    turn = 0;
    storm s = {.fn = player, .args = {(void *)(intptr_t)0, (void *)(intptr_t)1}, .n = 2};
    storm_run(&s);
    ferry_cond_fini(&pp_c);
    ferry_mutex_fini(&pp_m);
}

/* Four threads increment a plain counter under the mutex (so the lock's
 * slow path and its futex sleeps run) while signals keep arriving. */
static ferry_mutex cnt_m;
static size_t counter, per_thread;

static void *incrementer(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < per_thread; i++) {
        if (i % 3 == 0) {
            struct timespec dl = ferry_deadline_in_ms(10000);
            CHECK_EQ(ferry_mutex_lock_until(&cnt_m, &dl), 0);
        } else {
            ferry_mutex_lock(&cnt_m);
        }
        size_t c = counter;
        if (i % 64 == 0)
            sched_yield(); /* hold it a while: others must sleep */
        counter = c + 1;
        ferry_mutex_unlock(&cnt_m);
    }
    return NULL;
}

FERRY_TEST(mutex_excludes_and_never_fails_under_signals)
{
    install_handler();
    per_thread = ferry_test_scaled(20000);
    counter = 0;
    storm s = {.fn = incrementer, .n = 4};
    storm_run(&s);
    CHECK_EQ(counter, 4 * per_thread);
    CHECK(!ferry_mutex_is_locked(&cnt_m));
    ferry_mutex_fini(&cnt_m);
}

/* Timed waits with signals arriving: -ETIMEDOUT, never before the deadline
 * (an interrupted sleep resumes with the same absolute deadline). */
static ferry_mutex tw_m;
static ferry_cond tw_c;
static FERRY_ATOMIC(int) holder_ready, holder_release;

static void *holder(void *arg)
{
    (void)arg;
    ferry_mutex_lock(&tw_m);
    atomic_store(&holder_ready, 1);
    while (!atomic_load(&holder_release))
        ferry_test_sleep_ms(1);
    ferry_mutex_unlock(&tw_m);
    return NULL;
}

typedef struct timed_result {
    int cond_r, lock_r;
    long long cond_early_ns, lock_early_ns;
} timed_result;

static void *timed_waiter(void *arg)
{
    timed_result *res = arg;
    /* A cond wait nobody signals. */
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    struct timespec dl = ferry_deadline_in_ms(60);
    res->cond_r = ferry_cond_wait_until(&tw_c, &m, &dl);
    res->cond_early_ns = ferry_test_ns_between(ferry_test_now(), dl);
    ferry_mutex_unlock(&m);
    /* A lock of a mutex another thread holds throughout. */
    dl = ferry_deadline_in_ms(60);
    res->lock_r = ferry_mutex_lock_until(&tw_m, &dl);
    res->lock_early_ns = ferry_test_ns_between(ferry_test_now(), dl);
    return NULL;
}

FERRY_TEST(timed_waits_run_to_their_deadline_under_signals)
{
    install_handler();
    atomic_store(&holder_ready, 0);
    atomic_store(&holder_release, 0);
    pthread_t h;
    CHECK_EQ(pthread_create(&h, NULL, holder, NULL), 0);
    while (!atomic_load(&holder_ready))
        sched_yield();
    timed_result res;
    memset(&res, 0, sizeof res);
    storm s = {.fn = timed_waiter, .args = {&res}, .n = 1};
    storm_run(&s);
    atomic_store(&holder_release, 1);
    CHECK_EQ(pthread_join(h, NULL), 0);
    CHECK_EQ(res.cond_r, -ETIMEDOUT);
    CHECK_MSG(res.cond_early_ns <= 0, "cond wait returned %lld ns before its deadline", res.cond_early_ns);
    CHECK_EQ(res.lock_r, -ETIMEDOUT);
    CHECK_MSG(res.lock_early_ns <= 0, "lock returned %lld ns before its deadline", res.lock_early_ns);
    ferry_cond_fini(&tw_c);
    ferry_mutex_fini(&tw_m);
}
