/* SPDX-License-Identifier: MIT */
/* ferry/rcuhash.h: a fork between explicit ferry_rcu_before_fork /
 * after_fork_* calls while another thread shrinks a table. The explicit
 * call takes RCU's worker locks before fork() runs the table's prepare
 * handler, which takes every table's resize lock. A halving hands its old
 * bucket array to the flavor's call; when that call has to start the
 * callback thread (the first call of the process, or of a child), it takes
 * the worker lock. Made while still holding the resize lock, it waited for
 * the forking thread, which waited for the resize lock: a deadlock (the
 * process hung in fork()). The call now comes after the resize lock is
 * released.
 *
 * This program compiles the table itself (src/rcuhash.c) with
 * FERRY_LFHT_TEST_HOOKS: the hook below holds the shrinking thread inside
 * its first halving (resize lock held) until the forking thread holds
 * RCU's locks. Each case runs in a child process, whose callback threads
 * have not started (a child restarts only those with callbacks), under an
 * alarm: the hang fails the case instead of timing it out. */
#define FERRY_LFHT_TEST_HOOKS 1
#include "../../src/rcuhash.c"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "test.h"
#include "../torture/rcu_fork_tsan.h"

#define CHILD_SECONDS 20
enum { BIG = 1024, SMALL = 256 };

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static FERRY_ATOMIC(int) hold_shrink;   /* 1: a halving waits at its first bucket */
static FERRY_ATOMIC(int) shrink_held;   /* a halving is waiting */

void ferry__lfht_test_hook(int point)
{
    if (point != HOOK_SHRINK || !atomic_load(&hold_shrink))
        return;
    atomic_store(&shrink_held, 1);
    while (atomic_load(&hold_shrink))
        pause_ms(1);
}

static void check_exit(pid_t pid, const char *who)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK_MSG(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
              "%s hung (killed by its %d s alarm)", who, CHILD_SECONDS);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed (%s %d)", who,
              WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

struct flavor {
    const ferry_lfht_flavor *fl;
    void (*reg)(void), (*unreg)(void);
};

static const struct flavor memb = {
    &ferry_lfht_flavor_memb, ferry_rcu_register_thread, ferry_rcu_unregister_thread,
};
static const struct flavor qsbr = {
    &ferry_lfht_flavor_qsbr, ferry_qsbr_register_thread, ferry_qsbr_unregister_thread,
};

static const struct flavor *cur;
static ferry_lfht *ht;

static unsigned long table_size(void)
{
    struct ferry__lfht_stats st;
    ferry__lfht_stats(ht, &st);
    return st.size;
}

static void *shrinker(void *arg)
{
    (void)arg;
    cur->reg();
    CHECK_EQ(ferry_lfht_resize(ht, SMALL), 0);
    cur->unreg();
    return NULL;
}

/* In a child whose callback threads have not started. */
static void fork_while_shrinking(const struct flavor *f)
{
    cur = f;
    f->reg();
    ht = ferry_lfht_new_flavor(1, 1, 0, 0, f->fl);
    CHECK(ht != NULL);
    CHECK_EQ(ferry_lfht_resize(ht, BIG), 0);   /* growing queues no callback */
    atomic_store(&hold_shrink, 1);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, shrinker, NULL), 0);
    for (int i = 0; !atomic_load(&shrink_held); i++) {
        CHECK_MSG(i < 20000, "the halving never reached the hook");
        f->fl->quiescent_state();
        pause_ms(1);
    }
    /* The shrinker holds the resize lock; the explicit call takes RCU's
     * locks, then the halving may go on and reach the flavor's call. */
    ferry_rcu_before_fork();
    atomic_store(&hold_shrink, 0);
    fflush(NULL);
    pid_t pid = fork();   /* the table's prepare handler waits for the halving */
    CHECK(pid >= 0);
    if (pid == 0) {
        ferry_rcu_after_fork_child();
        alarm(CHILD_SECONDS);
        CHECK_EQ(table_size(), SMALL);   /* the fork came between two steps */
        CHECK_EQ(ferry_lfht_resize(ht, 1), 0);
        CHECK_EQ(table_size(), 1);
        CHECK_EQ(ferry_lfht_destroy(ht), 0);   /* its barrier: the callbacks run here */
        f->unreg();
        fflush(NULL);
        _exit(0);
    }
    ferry_rcu_after_fork_parent();
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(table_size(), SMALL);
    CHECK_EQ(ferry_lfht_destroy(ht), 0);
    f->unreg();
    check_exit(pid, "the grandchild");
}

static void in_child(const struct flavor *f)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_SECONDS);
        fork_while_shrinking(f);
        fflush(NULL);
        _exit(0);
    }
    check_exit(pid, "the child");
}

FERRY_TEST(memb_explicit_before_fork_while_a_halving_starts_the_callback_thread)
{
    in_child(&memb);
}

FERRY_TEST(qsbr_explicit_before_fork_while_a_halving_starts_the_callback_thread)
{
    in_child(&qsbr);
}
