/* SPDX-License-Identifier: MIT */
/* ferry/rcu_sync.h: the state a reader sees, what enter waits for (and what
 * it does not), the deferred return to idle, nesting, bad calls. The
 * concurrent invariants are in tests/torture/rcu_sync.c. */
#include <ferry/rcu_sync.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "test.h"

FERRY_TEST(null_and_unbalanced_calls_are_rejected)
{
    CHECK_EQ(ferry_rcu_sync_init(NULL), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_init_qsbr(NULL), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_enter(NULL), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_exit(NULL), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_fini(NULL), -EINVAL);
    ferry_rcu_sync rs;
    CHECK_EQ(ferry_rcu_sync_init(&rs), 0);
    CHECK_EQ(ferry_rcu_sync_exit(&rs), -EPERM);     /* no enter outstanding */
    CHECK(ferry_rcu_sync_is_idle(&rs));            /* nothing changed */
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), -EBUSY);     /* still entered */
    CHECK(!ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    CHECK_EQ(ferry_rcu_sync_exit(&rs), -EPERM);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
}

FERRY_TEST(enter_leaves_idle_and_exit_returns_after_a_grace_period)
{
    ferry_rcu_register_thread();
    ferry_rcu_sync rs;
    CHECK_EQ(ferry_rcu_sync_init(&rs), 0);
    ferry_rcu_read_lock();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    ferry_rcu_read_unlock();
    unsigned long g0 = ferry_rcu_gp_count();
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
    CHECK(!ferry_rcu_sync_is_idle(&rs));
    /* Exit inside a read-side section: the return to idle needs a grace
     * period, which cannot end while this section runs. */
    ferry_rcu_read_lock();
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    for (int i = 0; i < 1000; i++)
        CHECK(!ferry_rcu_sync_is_idle(&rs));
    ferry_test_sleep_ms(20);
    CHECK(!ferry_rcu_sync_is_idle(&rs));
    ferry_rcu_read_unlock();
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK(ferry_rcu_gp_count() - g0 >= 1);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(nested_enter_waits_for_no_grace_period)
{
    ferry_rcu_register_thread();
    ferry_rcu_sync rs;
    ferry_rcu_sync_init(&rs);
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
    unsigned long g = ferry_rcu_gp_count();
    for (int i = 0; i < 100; i++)
        CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
    CHECK_EQ(ferry_rcu_gp_count(), g);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
        CHECK(!ferry_rcu_sync_is_idle(&rs));
    }
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);   /* waits for the return to idle */
    CHECK(ferry_rcu_sync_is_idle(&rs));
    ferry_rcu_unregister_thread();
}

/* A reader that holds its read-side section until told (or 5 s). */
static ferry_rcu_sync blocked_rs;
static FERRY_ATOMIC(int) reader_in, release_reader, reader_gave_up;

static void *holding_reader(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    atomic_store(&reader_in, 1);
    struct timespec end = ferry_test_deadline_ms(5000);
    while (!atomic_load(&release_reader)) {
        if (ferry_test_ns_between(ferry_test_now(), end) <= 0) {
            atomic_store(&reader_gave_up, 1);
            break;
        }
        ferry_test_sleep_ms(1);
    }
    ferry_rcu_read_unlock();
    ferry_rcu_unregister_thread();
    return NULL;
}

FERRY_TEST(enter_before_the_return_to_idle_waits_for_nothing)
{
    /* enter; exit (the return to idle is queued behind a grace period that
     * a reader holds up); enter again: it must return at once, with the
     * reader still in its section, and the state must not become idle. */
    ferry_rcu_register_thread();
    ferry_rcu_sync_init(&blocked_rs);
    CHECK_EQ(ferry_rcu_sync_enter(&blocked_rs), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, holding_reader, NULL), 0);
    while (!atomic_load(&reader_in))
        ferry_test_sleep_ms(1);
    CHECK_EQ(ferry_rcu_sync_exit(&blocked_rs), 0);
    CHECK_EQ(ferry_rcu_sync_enter(&blocked_rs), 0);
    CHECK_MSG(!atomic_load(&reader_gave_up), "enter waited for a grace period");
    CHECK(!ferry_rcu_sync_is_idle(&blocked_rs));
    atomic_store(&release_reader, 1);
    pthread_join(t, NULL);
    ferry_rcu_barrier();
    /* The queued callback found an updater inside: still not idle. */
    CHECK(!ferry_rcu_sync_is_idle(&blocked_rs));
    CHECK_EQ(ferry_rcu_sync_exit(&blocked_rs), 0);
    CHECK_EQ(ferry_rcu_sync_fini(&blocked_rs), 0);
    CHECK(ferry_rcu_sync_is_idle(&blocked_rs));
    ferry_rcu_unregister_thread();
}

/* A reader that stays in its section, checking the state, until told. */
static ferry_rcu_sync replay_rs;
static FERRY_ATOMIC(int) r2_in, r2_stop, r2_saw_idle;

static void *checking_reader(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    atomic_store(&r2_in, 1);
    while (!atomic_load(&r2_stop))
        if (ferry_rcu_sync_is_idle(&replay_rs))
            atomic_store(&r2_saw_idle, 1);
    ferry_rcu_read_unlock();
    ferry_rcu_unregister_thread();
    return NULL;
}

FERRY_TEST(enter_exit_during_the_deferred_return_needs_another_grace_period)
{
    /* enter, exit: the return to idle waits for a grace period that a
     * reader holds up. Meanwhile enter and exit again, and a second reader
     * starts its section in between: the grace period already running does
     * not cover it, so the return to idle must wait for another one. The
     * second reader, inside its section the whole time, must never see
     * idle. */
    ferry_rcu_register_thread();
    ferry_rcu_sync_init(&replay_rs);
    atomic_store(&reader_in, 0);
    atomic_store(&release_reader, 0);
    CHECK_EQ(ferry_rcu_sync_enter(&replay_rs), 0);
    pthread_t r1, r2;
    CHECK_EQ(pthread_create(&r1, NULL, holding_reader, NULL), 0);
    while (!atomic_load(&reader_in))
        ferry_test_sleep_ms(1);
    CHECK_EQ(ferry_rcu_sync_exit(&replay_rs), 0);
    ferry_test_sleep_ms(10);   /* the grace period starts, stuck on r1 */
    CHECK_EQ(ferry_rcu_sync_enter(&replay_rs), 0);
    CHECK_EQ(pthread_create(&r2, NULL, checking_reader, NULL), 0);
    while (!atomic_load(&r2_in))
        ferry_test_sleep_ms(1);
    CHECK_EQ(ferry_rcu_sync_exit(&replay_rs), 0);
    atomic_store(&release_reader, 1);
    pthread_join(r1, NULL);
    ferry_test_sleep_ms(50);   /* r1's grace period ends; r2 keeps checking */
    atomic_store(&r2_stop, 1);
    pthread_join(r2, NULL);
    CHECK_MSG(!atomic_load(&r2_saw_idle), "a section that overlapped an updater saw idle");
    CHECK(!atomic_load(&reader_gave_up));
    CHECK_EQ(ferry_rcu_sync_fini(&replay_rs), 0);
    CHECK(ferry_rcu_sync_is_idle(&replay_rs));
    ferry_rcu_unregister_thread();
}

/* pthread_cancel of an enterer that waits for another enterer's grace
 * period: enter is no cancellation point (the request stays pending until
 * the caller's next one), so the cancelled thread cannot die holding rs's
 * lock, which the first enterer, every later call and the flavor's callback
 * thread (the return to idle) need. */
static ferry_rcu_sync cancel_rs;
static FERRY_ATOMIC(int) first_done, second_started;

static void *first_enterer(void *arg)
{
    (void)arg;
    CHECK_EQ(ferry_rcu_sync_enter(&cancel_rs), 0);
    atomic_store(&first_done, 1);
    return NULL;
}

static void *second_enterer(void *arg)
{
    (void)arg;
    atomic_store(&second_started, 1);
    CHECK_EQ(ferry_rcu_sync_enter(&cancel_rs), 0);
    pthread_testcancel();   /* the pending cancellation acts here */
    return NULL;
}

FERRY_TEST(cancelled_enterer_leaves_the_state_usable)
{
    ferry_rcu_sync_init(&cancel_rs);
    atomic_store(&reader_in, 0);
    atomic_store(&release_reader, 0);
    pthread_t r, a, b;
    CHECK_EQ(pthread_create(&r, NULL, holding_reader, NULL), 0);
    while (!atomic_load(&reader_in))
        ferry_test_sleep_ms(1);
    /* The first enterer leaves idle and waits for the grace period that
     * the reader holds up; the second waits for the first. */
    CHECK_EQ(pthread_create(&a, NULL, first_enterer, NULL), 0);
    while (ferry_rcu_sync_is_idle(&cancel_rs))
        ferry_test_sleep_ms(1);
    CHECK_EQ(pthread_create(&b, NULL, second_enterer, NULL), 0);
    while (!atomic_load(&second_started))
        ferry_test_sleep_ms(1);
    ferry_test_sleep_ms(20);   /* b waits in enter */
    CHECK_EQ(pthread_cancel(b), 0);
    ferry_test_sleep_ms(20);
    atomic_store(&release_reader, 1);
    CHECK_EQ(pthread_join(r, NULL), 0);
    struct timespec end = ferry_test_deadline_ms(10000);
    while (!atomic_load(&first_done) && ferry_test_ns_between(ferry_test_now(), end) > 0)
        ferry_test_sleep_ms(1);
    CHECK_MSG(atomic_load(&first_done), "the first enterer never returned: the cancelled one "
                                        "left the lock held");
    void *ret;
    CHECK_EQ(pthread_join(a, NULL), 0);
    CHECK_EQ(pthread_join(b, &ret), 0);
    CHECK(ret == PTHREAD_CANCELED);
    /* Both entered; the exits (any thread may make them) return to idle. */
    CHECK_EQ(ferry_rcu_sync_exit(&cancel_rs), 0);
    CHECK_EQ(ferry_rcu_sync_exit(&cancel_rs), 0);
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(&cancel_rs));
    CHECK_EQ(ferry_rcu_sync_fini(&cancel_rs), 0);
}

/* Concurrent enters from idle share one grace period. */
#define ENTERERS 8
static ferry_rcu_sync shared_rs;
static pthread_barrier_t go;

static bool enterers_qsbr;

static void *enterer(void *arg)
{
    (void)arg;
    if (enterers_qsbr)
        ferry_qsbr_register_thread();   /* online while it waits */
    pthread_barrier_wait(&go);
    CHECK_EQ(ferry_rcu_sync_enter(&shared_rs), 0);
    CHECK(!ferry_rcu_sync_is_idle(&shared_rs));
    pthread_barrier_wait(&go);   /* all entered */
    pthread_barrier_wait(&go);   /* main has counted */
    CHECK_EQ(ferry_rcu_sync_exit(&shared_rs), 0);
    if (enterers_qsbr)
        ferry_qsbr_unregister_thread();
    return NULL;
}

static unsigned long (*gp_count)(void) = ferry_rcu_gp_count;

static void concurrent_enters(void)
{
    pthread_barrier_init(&go, NULL, ENTERERS + 1);
    pthread_t t[ENTERERS];
    for (int i = 0; i < ENTERERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, enterer, NULL), 0);
    unsigned long g0 = gp_count();
    pthread_barrier_wait(&go);
    pthread_barrier_wait(&go);
    unsigned long used = gp_count() - g0;
    pthread_barrier_wait(&go);
    for (int i = 0; i < ENTERERS; i++)
        pthread_join(t[i], NULL);
    CHECK_MSG(used <= 1, "%d enters used %lu grace periods", ENTERERS, used);
    CHECK_EQ(ferry_rcu_sync_fini(&shared_rs), 0);
    CHECK(ferry_rcu_sync_is_idle(&shared_rs));
    pthread_barrier_destroy(&go);
}

FERRY_TEST(concurrent_enters_share_one_grace_period)
{
    ferry_rcu_sync_init(&shared_rs);
    concurrent_enters();
}

/* QSBR enterers are online threads: one that waits for another enterer's
 * grace period must not hold that grace period up (it goes offline). */
FERRY_TEST(qsbr_concurrent_enters_share_one_grace_period)
{
    ferry_rcu_sync_init_qsbr(&shared_rs);
    enterers_qsbr = true;
    gp_count = ferry_qsbr_gp_count;
    concurrent_enters();
}

FERRY_TEST(qsbr_flavor)
{
    ferry_qsbr_register_thread();
    ferry_rcu_sync rs;
    CHECK_EQ(ferry_rcu_sync_init_qsbr(&rs), 0);
    ferry_qsbr_read_lock();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    ferry_qsbr_read_unlock();
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);   /* online caller: goes offline to wait */
    CHECK(!ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    ferry_qsbr_barrier();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
    ferry_qsbr_unregister_thread();
}

FERRY_DEATH_TEST(enter_inside_read_section_aborts, "ferry_rcu_sync_enter inside a read-side section")
{
    ferry_rcu_register_thread();
    ferry_rcu_sync rs;
    ferry_rcu_sync_init(&rs);
    ferry_rcu_read_lock();
    ferry_rcu_sync_enter(&rs);
}

/* The case that hung in release builds (the check was FERRY_DEBUG only): a
 * reader enters while another thread's enter waits for its grace period,
 * which waits for that reader. It must abort, not wait for ever (the alarm
 * turns a hang into a failure: SIGALRM instead of the expected abort). */
static ferry_rcu_sync contended_rs;

static void *enter_contended(void *arg)
{
    (void)arg;
    ferry_rcu_sync_enter(&contended_rs);   /* waits for the main thread's section */
    return NULL;
}

FERRY_DEATH_TEST(enter_inside_read_section_while_another_enter_waits_aborts,
                 "ferry_rcu_sync_enter inside a read-side section")
{
    alarm(20);
    ferry_rcu_register_thread();
    ferry_rcu_sync_init(&contended_rs);
    ferry_rcu_read_lock();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, enter_contended, NULL), 0);
    /* Relaxed: polling for the other enterer's state change. */
    while (atomic_load_explicit(&contended_rs.state, memory_order_relaxed) != FERRY__RCU_SYNC_ENTER)
        usleep(1000);
    ferry_rcu_sync_enter(&contended_rs);
}
