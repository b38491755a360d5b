/* SPDX-License-Identifier: MIT */
/* ferry/mutex.h: each operation, timed lock and timed wait accuracy, and
 * each misuse that must abort. */
#include <ferry/mutex.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

/* Tolerances for timed calls: never early, at most this late. */
#define LATE_NS FERRY_TEST_LATE_NS

static bool has_waiters_m(ferry_mutex *m)
{
    return (atomic_load(&m->word) & ~(uintptr_t)7) != 0;
}

static bool has_waiters_c(ferry_cond *c)
{
    return (atomic_load(&c->word) & ~(uintptr_t)7) != 0;
}

static void wait_for_waiter_m(ferry_mutex *m)
{
    while (!has_waiters_m(m))
        sched_yield();
}

static void wait_for_waiter_c(ferry_cond *c)
{
    while (!has_waiters_c(c))
        sched_yield();
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, fn, arg), 0);
    return t;
}

/* ------------------------------------------------------------- basics */

FERRY_TEST(zero_filled_is_unlocked)
{
    ferry_mutex m;
    memset(&m, 0, sizeof m);
    CHECK(!ferry_mutex_is_locked(&m));
    ferry_mutex_lock(&m);
    CHECK(ferry_mutex_is_locked(&m));
    ferry_mutex_unlock(&m);
    CHECK(ferry_mutex_trylock(&m));
    ferry_mutex_unlock(&m);
    ferry_mutex_fini(&m);

    ferry_cond c;
    memset(&c, 0, sizeof c);
    ferry_cond_signal(&c);
    ferry_cond_broadcast(&c);
    ferry_cond_fini(&c);
}

FERRY_TEST(static_init_and_init)
{
    static ferry_mutex sm = FERRY_MUTEX_INIT;
    static ferry_cond sc = FERRY_COND_INIT;
    ferry_mutex_lock(&sm);
    ferry_cond_signal(&sc);
    ferry_mutex_unlock(&sm);

    ferry_mutex m;
    memset(&m, 0xab, sizeof m);
    CHECK_EQ(ferry_mutex_init(&m), 0);
    CHECK(!ferry_mutex_is_locked(&m));
    ferry_mutex_lock(&m);
    ferry_mutex_unlock(&m);
    ferry_mutex_fini(&m);
    ferry_cond c;
    memset(&c, 0xab, sizeof c);
    CHECK_EQ(ferry_cond_init(&c), 0);
    ferry_cond_fini(&c);
}

FERRY_TEST(size_is_two_words)
{
    /* Two words on 64-bit targets; 12 bytes on 32-bit ones. */
    CHECK(sizeof(ferry_mutex) <= sizeof(uintptr_t) + 2 * sizeof(uint32_t));
    CHECK(sizeof(ferry_mutex) <= 2 * sizeof(uint64_t));
    CHECK(sizeof(ferry_cond) == sizeof(void *));
}

FERRY_TEST(bad_arguments_are_einval)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    struct timespec bad = {0, 1000000000L};
    struct timespec neg = {0, -1};
    CHECK_EQ(ferry_mutex_init(NULL), -EINVAL);
    CHECK_EQ(ferry_cond_init(NULL), -EINVAL);
    CHECK_EQ(ferry_mutex_lock_until(NULL, NULL), -EINVAL);
    CHECK_EQ(ferry_mutex_lock_until(&m, &bad), -EINVAL);
    CHECK_EQ(ferry_mutex_lock_until(&m, &neg), -EINVAL);
    CHECK(!ferry_mutex_is_locked(&m));
    ferry_mutex_lock(&m);
    CHECK_EQ(ferry_cond_wait(NULL, &m), -EINVAL);
    CHECK_EQ(ferry_cond_wait(&c, NULL), -EINVAL);
    CHECK_EQ(ferry_cond_wait_until(&c, &m, &bad), -EINVAL);
    CHECK(ferry_mutex_is_locked(&m)); /* left as it was */
    ferry_mutex_unlock(&m);
    ferry_cond_signal(NULL);
    ferry_cond_broadcast(NULL);
    ferry_mutex_fini(NULL);
    ferry_cond_fini(NULL);
}

static void *try_other(void *arg)
{
    ferry_mutex *m = arg;
    bool got = ferry_mutex_trylock(m);
    if (got)
        ferry_mutex_unlock(m);
    return (void *)(uintptr_t)got;
}

FERRY_TEST(trylock)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    CHECK(ferry_mutex_trylock(&m));
    CHECK(!ferry_mutex_trylock(&m)); /* not recursive */
    void *r;
    pthread_t t = spawn(try_other, &m);
    pthread_join(t, &r);
    CHECK(r == (void *)0);
    ferry_mutex_unlock(&m);
    t = spawn(try_other, &m);
    pthread_join(t, &r);
    CHECK(r == (void *)1);
}

struct blocker {
    ferry_mutex *m;
    atomic_int state; /* 1 started, 2 locked */
    int rc;
    struct timespec deadline;
    struct timespec returned; /* when lock_until returned */
    bool timed;
};

static void *blocker_main(void *arg)
{
    struct blocker *b = arg;
    atomic_store(&b->state, 1);
    if (b->timed) {
        b->rc = ferry_mutex_lock_until(b->m, &b->deadline);
        b->returned = ferry_test_now();
    } else {
        ferry_mutex_lock(b->m);
        b->rc = 0;
    }
    if (b->rc == 0) {
        atomic_store(&b->state, 2);
        ferry_mutex_unlock(b->m);
    }
    return NULL;
}

FERRY_TEST(lock_blocks_until_unlock)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    struct blocker b = {.m = &m};
    ferry_mutex_lock(&m);
    pthread_t t = spawn(blocker_main, &b);
    wait_for_waiter_m(&m); /* it sleeps in the queue */
    CHECK_EQ(atomic_load(&b.state), 1);
    ferry_mutex_unlock(&m);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&b.state), 2);
    CHECK_EQ(atomic_load(&m.word), 0);
    ferry_mutex_fini(&m);
}

FERRY_TEST(lock_until_free_mutex_even_after_deadline)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    struct timespec past = {0, 0};
    CHECK_EQ(ferry_mutex_lock_until(&m, &past), 0);
    ferry_mutex_unlock(&m);
    CHECK_EQ(ferry_mutex_lock_until(&m, NULL), 0);
    ferry_mutex_unlock(&m);
}

FERRY_TEST(lock_until_past_deadline_on_held_mutex)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    struct blocker b = {.m = &m, .timed = true, .deadline = {0, 0}};
    pthread_t t = spawn(blocker_main, &b);
    pthread_join(t, NULL);
    CHECK_EQ(b.rc, -ETIMEDOUT);
    CHECK(!has_waiters_m(&m));
    ferry_mutex_unlock(&m);
    CHECK_EQ(atomic_load(&m.word), 0);
}

FERRY_TEST(timed_lock_accuracy)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    for (int i = 0; i < 3; i++) {
        long ms = 20 + 40 * i;
        struct blocker b = {.m = &m, .timed = true, .deadline = ferry_test_deadline_ms(ms)};
        pthread_t t = spawn(blocker_main, &b);
        pthread_join(t, NULL);
        CHECK_EQ(b.rc, -ETIMEDOUT);
        long long late = ferry_test_ns_between(b.deadline, b.returned);
        CHECK_MSG(late >= 0, "lock_until returned %lld ns before its deadline", -late);
        CHECK_MSG(late < LATE_NS, "lock_until returned %lld ns after its deadline", late);
        CHECK(!has_waiters_m(&m)); /* it left the queue */
    }
    ferry_mutex_unlock(&m);
    CHECK_EQ(atomic_load(&m.word), 0);
    ferry_mutex_fini(&m);
}

FERRY_TEST(timed_lock_succeeds_when_released)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    struct blocker b = {.m = &m, .timed = true, .deadline = ferry_test_deadline_ms(10000)};
    pthread_t t = spawn(blocker_main, &b);
    wait_for_waiter_m(&m);
    ferry_mutex_unlock(&m);
    pthread_join(t, NULL);
    CHECK_EQ(b.rc, 0);
    CHECK_EQ(atomic_load(&b.state), 2);
}

/* Waiters are woken oldest first: queue three, release, check order. */
struct order_arg {
    ferry_mutex *m;
    int id;
    int *log;
    int *n;
};

static void *order_main(void *arg)
{
    struct order_arg *a = arg;
    ferry_mutex_lock(a->m);
    a->log[(*a->n)++] = a->id;
    ferry_mutex_unlock(a->m);
    return NULL;
}

/* Count the waiters queued on a mutex or cond word (test only), holding the
 * word's internal QLOCK bit so that the nodes stay put while we look. */
static int qlen(_Atomic(uintptr_t) *word)
{
    uintptr_t w;
    do {
        w = atomic_load(word) & ~(uintptr_t)2;
    } while (!atomic_compare_exchange_weak(word, &w, w | 2));
    struct qn { struct qn *next, *prev; } *h = (struct qn *)(w & ~(uintptr_t)7), *p = h;
    int n = 0;
    if (h) {
        do {
            n++;
            p = p->next;
        } while (p != h);
    }
    atomic_fetch_and(word, ~(uintptr_t)2);
    return n;
}

static int queue_len(ferry_mutex *m) { return qlen(&m->word); }
static int cond_len(ferry_cond *c) { return qlen(&c->word); }

FERRY_TEST(waiters_queue_fifo)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    int log[3], n = 0;
    struct order_arg a[3];
    pthread_t t[3];
    ferry_mutex_lock(&m);
    for (int i = 0; i < 3; i++) {
        a[i] = (struct order_arg){&m, i, log, &n};
        t[i] = spawn(order_main, &a[i]);
        while (queue_len(&m) != i + 1)
            sched_yield();
    }
    ferry_mutex_unlock(&m);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(n, 3);
    /* The first unlock wakes waiter 0; nobody else competes, so the order
     * is the queue's. */
    for (int i = 0; i < 3; i++)
        CHECK_EQ(log[i], i);
}

/* ---------------------------------------------------------------- cond */

struct cw {
    ferry_mutex *m;
    ferry_cond *c;
    int *pred;
    atomic_int woke;
    int returns;          /* cond waits that returned; under m */
    int rc;
    struct timespec deadline;
    bool timed;
    bool held_on_return;
};

static void *cond_waiter(void *arg)
{
    struct cw *w = arg;
    ferry_mutex_lock(w->m);
    while (!*w->pred) {
        if (w->timed) {
            w->rc = ferry_cond_wait_until(w->c, w->m, &w->deadline);
            if (w->rc == -ETIMEDOUT)
                break;
        } else {
            w->rc = ferry_cond_wait(w->c, w->m);
        }
        w->returns++;
    }
    w->held_on_return = ferry_mutex_is_locked(w->m) && !ferry_mutex_trylock(w->m);
    atomic_fetch_add(&w->woke, 1);
    ferry_mutex_unlock(w->m);
    return NULL;
}

FERRY_TEST(cond_signal_wakes_one)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    int pred = 0;
    struct cw w = {.m = &m, .c = &c, .pred = &pred};
    pthread_t t = spawn(cond_waiter, &w);
    wait_for_waiter_c(&c);
    ferry_mutex_lock(&m);
    pred = 1;
    ferry_cond_signal(&c);
    /* The waiter was moved onto the mutex, which we hold. */
    CHECK(!has_waiters_c(&c));
    CHECK(has_waiters_m(&m));
    ferry_mutex_unlock(&m);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&w.woke), 1);
    CHECK_EQ(w.rc, 0);
    CHECK(w.held_on_return);
    ferry_cond_fini(&c);
    ferry_mutex_fini(&m);
}

FERRY_TEST(cond_signal_without_mutex)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    int pred = 0;
    struct cw w = {.m = &m, .c = &c, .pred = &pred};
    pthread_t t = spawn(cond_waiter, &w);
    wait_for_waiter_c(&c);
    ferry_mutex_lock(&m);
    pred = 1;
    ferry_mutex_unlock(&m);
    ferry_cond_signal(&c); /* mutex free: woken directly */
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&w.woke), 1);
    CHECK(w.held_on_return);
}

FERRY_TEST(cond_signal_one_of_two)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    int pred = 0;
    struct cw w[2] = {{.m = &m, .c = &c, .pred = &pred}, {.m = &m, .c = &c, .pred = &pred}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        t[i] = spawn(cond_waiter, &w[i]);
    for (;;) { /* both on the cond */
        ferry_mutex_lock(&m);
        int n = cond_len(&c);
        ferry_mutex_unlock(&m);
        if (n == 2)
            break;
        sched_yield();
    }
    ferry_cond_signal(&c);
    /* One returns to the loop, finds pred 0, waits again: once both are on
     * the cond again, exactly one wait has returned. (Read under m, as the
     * waiters count and queue under m: a second woken waiter would have
     * counted its return before it could queue again.) */
    int returned;
    for (;;) {
        ferry_mutex_lock(&m);
        int n = cond_len(&c);
        returned = w[0].returns + w[1].returns;
        if (n == 2 && returned > 0)
            break; /* keep holding m */
        ferry_mutex_unlock(&m);
        sched_yield();
    }
    CHECK_MSG(returned == 1, "one signal made %d cond waits return", returned);
    pred = 1;
    ferry_cond_broadcast(&c);
    ferry_mutex_unlock(&m);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(atomic_load(&w[0].woke) + atomic_load(&w[1].woke), 2);
}

FERRY_TEST(cond_broadcast_moves_all)
{
    enum { N = 6 };
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    int pred = 0;
    struct cw w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        w[i] = (struct cw){.m = &m, .c = &c, .pred = &pred};
        t[i] = spawn(cond_waiter, &w[i]);
    }
    for (;;) {
        ferry_mutex_lock(&m);
        int n = cond_len(&c);
        if (n == N)
            break; /* keep holding m */
        ferry_mutex_unlock(&m);
        sched_yield();
    }
    pred = 1;
    ferry_cond_broadcast(&c);
    CHECK(!has_waiters_c(&c));
    CHECK_EQ(queue_len(&m), N); /* all moved to the mutex, none woken */
    ferry_mutex_unlock(&m);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(atomic_load(&w[i].woke), 1);
        CHECK(w[i].held_on_return);
    }
    CHECK_EQ(atomic_load(&m.word), 0);
    ferry_cond_fini(&c);
    ferry_mutex_fini(&m);
}

FERRY_TEST(cond_broadcast_free_mutex)
{
    enum { N = 4 };
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    int pred = 0;
    struct cw w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        w[i] = (struct cw){.m = &m, .c = &c, .pred = &pred};
        t[i] = spawn(cond_waiter, &w[i]);
    }
    for (;;) {
        ferry_mutex_lock(&m);
        int n = cond_len(&c);
        if (n == N) {
            pred = 1;
            ferry_mutex_unlock(&m);
            break;
        }
        ferry_mutex_unlock(&m);
        sched_yield();
    }
    ferry_cond_broadcast(&c); /* one woken, the rest queued on m */
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++)
        CHECK_EQ(atomic_load(&w[i].woke), 1);
    CHECK_EQ(atomic_load(&m.word), 0);
}

FERRY_TEST(timed_cond_wait_accuracy)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    ferry_mutex_lock(&m);
    for (int i = 0; i < 3; i++) {
        struct timespec d = ferry_test_deadline_ms(20 + 40 * i);
        int rc = ferry_cond_wait_until(&c, &m, &d);
        struct timespec end = ferry_test_now();
        CHECK_EQ(rc, -ETIMEDOUT);
        CHECK(ferry_mutex_is_locked(&m));
        long long late = ferry_test_ns_between(d, end);
        CHECK_MSG(late >= 0, "cond_wait_until returned %lld ns before its deadline", -late);
        CHECK_MSG(late < LATE_NS, "cond_wait_until returned %lld ns after its deadline", late);
        CHECK(!has_waiters_c(&c));
    }
    struct timespec past = {0, 0};
    CHECK_EQ(ferry_cond_wait_until(&c, &m, &past), -ETIMEDOUT);
    ferry_mutex_unlock(&m);
    ferry_cond_fini(&c);
    ferry_mutex_fini(&m);
}

FERRY_TEST(timed_cond_wait_signalled)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    int pred = 0;
    struct cw w = {.m = &m, .c = &c, .pred = &pred, .timed = true,
                   .deadline = ferry_test_deadline_ms(10000)};
    pthread_t t = spawn(cond_waiter, &w);
    wait_for_waiter_c(&c);
    ferry_mutex_lock(&m);
    pred = 1;
    ferry_cond_signal(&c);
    ferry_mutex_unlock(&m);
    pthread_join(t, NULL);
    CHECK_EQ(w.rc, 0);
    CHECK(w.held_on_return);
}

/* A timed-out cond waiter reacquires the mutex even when it is held: the
 * return waits for the mutex, not for the deadline. The waiter must be on
 * the condvar before its deadline passes and we must hold the mutex when it
 * does; a loaded machine may run the waiter too late for that (it then
 * times out before it ever waits, and returns), so such a round is repeated
 * with a longer deadline. */
FERRY_TEST(timed_cond_wait_reacquires_after_timeout)
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    int pred = 0;
    for (long ms = 30;; ms *= 2) {
        CHECK_MSG(ms < 30 * 1024, "the waiter never got onto the condvar before its deadline");
        struct cw w = {.m = &m, .c = &c, .pred = &pred, .timed = true, .deadline = ferry_test_deadline_ms(ms)};
        pthread_t t = spawn(cond_waiter, &w);
        while (!has_waiters_c(&c) && atomic_load(&w.woke) == 0)
            sched_yield();
        ferry_mutex_lock(&m);
        if (atomic_load(&w.woke) != 0) { /* it timed out before we held the mutex: again */
            ferry_mutex_unlock(&m);
            pthread_join(t, NULL);
            CHECK_EQ(w.rc, -ETIMEDOUT);
            continue;
        }
        /* We hold the mutex; the waiter times out and must then wait for
         * it, queued on the mutex, without returning. */
        for (int i = 0; !has_waiters_m(&m); i++) {
            CHECK_MSG(i < 10000, "the timed-out waiter never queued on the mutex");
            ferry_test_sleep_ms(1);
        }
        CHECK(ferry_test_ns_between(w.deadline, ferry_test_now()) >= 0);
        CHECK_EQ(atomic_load(&w.woke), 0); /* timed out, but waits for us */
        ferry_mutex_unlock(&m);
        pthread_join(t, NULL);
        CHECK_EQ(w.rc, -ETIMEDOUT);
        CHECK(w.held_on_return);
        break;
    }
    ferry_cond_fini(&c);
    ferry_mutex_fini(&m);
}

/* ---------------------------------------------------------- misuse */

FERRY_DEATH_TEST(unlock_unlocked_mutex, "unlock of a mutex that is not locked")
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_unlock(&m);
}

FERRY_DEATH_TEST(double_unlock, "unlock of a mutex that is not locked")
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    ferry_mutex_unlock(&m);
    ferry_mutex_unlock(&m);
}

static void *unlock_other(void *arg)
{
    ferry_mutex_unlock(arg);
    return NULL;
}

FERRY_DEBUG_DEATH_TEST(unlock_by_non_owner, "which does not own it")
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    pthread_t t = spawn(unlock_other, &m);
    pthread_join(t, NULL);
}

/* Locking a mutex the thread holds would wait forever: debug builds say so,
 * for the blocking lock and for lock_until, whose deadline would otherwise
 * only turn the deadlock into -ETIMEDOUT. */
FERRY_DEBUG_DEATH_TEST(relock_by_holder, "which already holds it")
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    ferry_mutex_lock(&m);
}

FERRY_DEBUG_DEATH_TEST(relock_until_by_holder, "which already holds it")
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    struct timespec later = ferry_test_deadline_ms(60000); /* a wait, not the try call */
    ferry_mutex_lock(&m);
    (void)ferry_mutex_lock_until(&m, &later);
}

#ifndef FERRY_DEBUG
/* Release builds do not record the owner: lock_until by the holder waits
 * for its deadline like any other locker (docs/mutex.md, "Pitfalls"). */
FERRY_TEST(relock_until_by_holder_times_out_in_release)
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    struct timespec d = ferry_test_deadline_ms(5);
    CHECK_EQ(ferry_mutex_lock_until(&m, &d), -ETIMEDOUT);
    ferry_mutex_unlock(&m);
    CHECK(!ferry_mutex_is_locked(&m));
}
#endif

/* Not robust: a holder whose thread exits leaves the mutex locked (no
 * EOWNERDEAD); a later locker times out, trylock fails. */
static void *lock_and_exit(void *arg)
{
    ferry_mutex_lock(arg);
    return NULL;
}

FERRY_TEST(holder_exit_leaves_it_locked)
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    pthread_join(spawn(lock_and_exit, &m), NULL);
    CHECK(ferry_mutex_is_locked(&m));
    CHECK(!ferry_mutex_trylock(&m));
    struct timespec d = ferry_test_deadline_ms(20);
    CHECK_EQ(ferry_mutex_lock_until(&m, &d), -ETIMEDOUT);
    CHECK(ferry_mutex_is_locked(&m));
}

static void *lock_forever(void *arg)
{
    ferry_mutex_lock(arg);
    return NULL;
}

FERRY_DEATH_TEST(mutex_fini_with_waiters, "destroyed while threads wait for it")
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    spawn(lock_forever, &m);
    wait_for_waiter_m(&m);
    ferry_mutex_fini(&m);
}

FERRY_DEBUG_DEATH_TEST(mutex_fini_locked, "destroyed while locked")
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_mutex_lock(&m);
    ferry_mutex_fini(&m);
}

static ferry_mutex cm = FERRY_MUTEX_INIT;

static void *cond_wait_forever(void *arg)
{
    ferry_mutex_lock(&cm);
    for (;;)
        ferry_cond_wait(arg, &cm);
    return NULL;
}

FERRY_DEATH_TEST(cond_fini_with_waiters, "destroyed while threads wait on it")
{
    static ferry_cond c = FERRY_COND_INIT;
    spawn(cond_wait_forever, &c);
    wait_for_waiter_c(&c);
    ferry_cond_fini(&c);
}

FERRY_DEATH_TEST(mutex_moved_with_waiters, "was moved")
{
    static ferry_mutex a = FERRY_MUTEX_INIT, b;
    ferry_mutex_lock(&a);
    spawn(lock_forever, &a);
    wait_for_waiter_m(&a);
    memcpy(&b, &a, sizeof a); /* the misuse */
    ferry_mutex_unlock(&b);
}

FERRY_DEATH_TEST(mutex_moved_then_locked, "was moved")
{
    static ferry_mutex a = FERRY_MUTEX_INIT, b;
    ferry_mutex_lock(&a);
    spawn(lock_forever, &a);
    wait_for_waiter_m(&a);
    memcpy(&b, &a, sizeof a);
    spawn(lock_forever, &b); /* a new waiter queues on the copy */
    for (;;)
        sched_yield();
}

FERRY_DEATH_TEST(cond_moved_with_waiters, "was moved")
{
    static ferry_cond a = FERRY_COND_INIT, b;
    spawn(cond_wait_forever, &a);
    wait_for_waiter_c(&a);
    memcpy(&b, &a, sizeof a);
    ferry_cond_signal(&b);
}

FERRY_DEATH_TEST(cond_wait_unlocked_mutex, "which is not locked")
{
    ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    ferry_cond_wait(&c, &m);
}

static void *lock_and_hold(void *arg)
{
    ferry_mutex_lock(arg);
    for (;;)
        pause();
    return NULL;
}

FERRY_DEBUG_DEATH_TEST(cond_wait_mutex_of_other_thread, "which it does not hold")
{
    static ferry_mutex m = FERRY_MUTEX_INIT;
    ferry_cond c = FERRY_COND_INIT;
    spawn(lock_and_hold, &m);
    while (!ferry_mutex_is_locked(&m))
        sched_yield();
    ferry_cond_wait(&c, &m);
}

static ferry_mutex other = FERRY_MUTEX_INIT;

FERRY_DEBUG_DEATH_TEST(cond_with_two_mutexes, "while other threads wait with mutex")
{
    static ferry_cond c = FERRY_COND_INIT;
    spawn(cond_wait_forever, &c); /* waits with cm */
    wait_for_waiter_c(&c);
    ferry_mutex_lock(&other);
    ferry_cond_wait(&c, &other);
}
