/* SPDX-License-Identifier: MIT */
/* ferry/rcu_sync.h and fork(): what a child may do with an rcu_sync that
 * the parent was using (the header's "fork()" paragraph).
 *  - Another thread was inside enter at the fork, waiting for the grace
 *    period a reader holds up: in the child nobody ends that grace period
 *    (the state stays "entering"), so the child leaves it alone and uses
 *    a new one.
 *  - Only the forking thread used it, between its enter and its exit: the
 *    child's exit returns it to idle.
 *  - It was exited, its return to idle queued behind the reader's grace
 *    period: the return runs in the child too (RCU runs the callbacks a
 *    child inherits) and the state becomes idle there.
 * Each child runs under an alarm: a hang fails the test. */
#include <ferry/rcu_sync.h>

#include <pthread.h>

#include "../torture/rcu_fork_child.h"
#include "../torture/rcu_fork_tsan.h"
#include "test.h"

static ferry_rcu_sync rs, fresh;

/* A reader that holds a grace period up until told. */
static FERRY_ATOMIC(int) reader_in, release_reader;

static void *holding_reader(void *arg)
{
    (void)arg;
    ferry_rcu_register_thread();
    ferry_rcu_read_lock();
    atomic_store(&reader_in, 1);
    while (!atomic_load(&release_reader))
        ferry_test_sleep_ms(1);
    ferry_rcu_read_unlock();
    ferry_rcu_unregister_thread();
    return NULL;
}

static pthread_t start_reader(void)
{
    pthread_t t;
    atomic_store(&reader_in, 0);
    atomic_store(&release_reader, 0);
    CHECK_EQ(pthread_create(&t, NULL, holding_reader, NULL), 0);
    while (!atomic_load(&reader_in))
        ferry_test_sleep_ms(1);
    return t;
}

static void stop_reader(pthread_t t)
{
    atomic_store(&release_reader, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
}

/* The child's side: one enter/exit round on s that must come back to
 * idle, then fini. */
static void round_trip_and_fini(ferry_rcu_sync *s)
{
    CHECK_EQ(ferry_rcu_sync_enter(s), 0);
    CHECK(!ferry_rcu_sync_is_idle(s));
    CHECK_EQ(ferry_rcu_sync_exit(s), 0);
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(s));
    CHECK_EQ(ferry_rcu_sync_fini(s), 0);
}

/* The child's side for an rcu_sync another thread was inside: leave it
 * alone, use a new one. */
static void use_a_fresh_one(void)
{
    CHECK_EQ(ferry_rcu_sync_init(&fresh), 0);
    round_trip_and_fini(&fresh);
}

/* Fork; the child runs fn under an alarm; the parent checks how it ended. */
static void in_child(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(RCU_FORK_CHILD_SECONDS);
        fn();
        fflush(NULL);
        _exit(0);
    }
    rcu_fork_check_child(pid, "rcu_sync");
}

/* ---- another thread inside enter at the fork ---- */

static FERRY_ATOMIC(int) enterer_started;

static void *enterer(void *arg)
{
    (void)arg;
    atomic_store(&enterer_started, 1);
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);   /* waits for the reader */
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    return NULL;
}

static void child_uses_a_fresh_one(void)
{
    CHECK(!ferry_rcu_sync_is_idle(&rs));   /* the enterer's state, for ever */
    ferry_rcu_barrier();
    use_a_fresh_one();
}

FERRY_TEST(another_threads_enter_under_way_child_uses_a_fresh_one)
{
    ferry_rcu_sync_init(&rs);
    pthread_t r = start_reader();
    pthread_t e;
    CHECK_EQ(pthread_create(&e, NULL, enterer, NULL), 0);
    while (!atomic_load(&enterer_started) || ferry_rcu_sync_is_idle(&rs))
        ferry_test_sleep_ms(1);
    ferry_test_sleep_ms(10);   /* in the grace period's wait, rs's lock released */
    in_child(child_uses_a_fresh_one);
    stop_reader(r);
    CHECK_EQ(pthread_join(e, NULL), 0);
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
}

/* ---- only the forking thread, between its enter and its exit ---- */

static void child_exits(void)
{
    CHECK(!ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    round_trip_and_fini(&rs);
}

FERRY_TEST(forking_updater_exits_in_the_child)
{
    ferry_rcu_sync_init(&rs);
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
    in_child(child_exits);
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
}

/* ---- the return to idle queued at the fork ---- */

static void child_returns_to_idle(void)
{
    ferry_rcu_barrier();   /* the return to idle, inherited, runs here */
    CHECK(ferry_rcu_sync_is_idle(&rs));
    round_trip_and_fini(&rs);
}

FERRY_TEST(queued_return_to_idle_runs_in_the_child)
{
    ferry_rcu_sync_init(&rs);
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
    pthread_t r = start_reader();
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);   /* queued behind the reader */
    ferry_test_sleep_ms(10);
    CHECK(!ferry_rcu_sync_is_idle(&rs));
    in_child(child_returns_to_idle);
    stop_reader(r);
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
}

/* ---- fork while other threads enter and exit without pause ---- */

/* Not under AddressSanitizer: gcc 12's does not hold its allocator's locks
 * across fork(), so a child forked while another thread was inside the
 * allocator hangs at its first allocation -- here the callback thread that
 * RCU's child handler restarts (seen in gdb: the new thread waits for the
 * sanitizer's size-class lock). Release, debug, TSan and m32 run it. */
#if defined(__SANITIZE_ADDRESS__)
#define RCU_SYNC_FORK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCU_SYNC_FORK_ASAN 1
#endif
#endif
#ifndef RCU_SYNC_FORK_ASAN

/* The regression: each rcu_sync had its own pthread mutex, which a thread
 * of the parent could hold at the fork. In the child the inherited return
 * to idle then waited for it for ever on the callback thread, and the
 * child's first barrier with it. Now the fork handlers take the one lock
 * that every rcu_sync shares. Two threads enter and exit back to back
 * (no readers: the grace periods are quick, the lock is taken often)
 * while the test forks FORKS times; each child finishes a barrier (which
 * runs any inherited return to idle) and uses a new rcu_sync (rs may be
 * one that a churning thread was inside). Before the fix about one child
 * in a hundred hung here. */
enum { FORKS = 300 };
static FERRY_ATOMIC(int) churn_stop;

static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&churn_stop)) {
        CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
        CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    }
    return NULL;
}

static void child_after_churn(void)
{
    ferry_rcu_barrier();
    use_a_fresh_one();
}

FERRY_TEST(fork_while_others_enter_and_exit)
{
    ferry_rcu_sync_init(&rs);
    atomic_store(&churn_stop, 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int i = 0; i < FORKS; i++)
        in_child(child_after_churn);
    atomic_store(&churn_stop, 1);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    ferry_rcu_barrier();
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
}
#endif /* RCU_SYNC_FORK_ASAN */
