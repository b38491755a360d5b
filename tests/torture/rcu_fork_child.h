/* SPDX-License-Identifier: MIT */
/* For RCU test programs that fork (tests/unit/rcu_fork*.c): run a scenario
 * in a child under an alarm and check how the child ended, so that a hang
 * is reported as a failure instead of a test timeout; count callbacks. */
#ifndef FERRY_TESTS_RCU_FORK_CHILD_H
#define FERRY_TESTS_RCU_FORK_CHILD_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rcu_flavors.h"
#include "test.h"

#define RCU_FORK_CHILD_SECONDS 20

/* A callback that counts (relaxed: the checks read the count after a
 * barrier, which orders the callbacks before them). */
static FERRY_ATOMIC(int) cb_ran;

static inline void cb_count(ferry_rcu_head *h)
{
    (void)h;
    atomic_fetch_add_explicit(&cb_ran, 1, memory_order_relaxed);
}

static inline int ran(void)
{
    return atomic_load_explicit(&cb_ran, memory_order_relaxed);
}

/* Wait for the child; fails the test unless it exited 0. */
static inline void rcu_fork_check_child(pid_t pid, const char *name)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK_MSG(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
              "%s: the child hung (killed by its %d s alarm)", name, RCU_FORK_CHILD_SECONDS);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the child failed (%s %d)",
              name, WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* Fork; the child runs fn under an alarm and exits 0 when it returns (a
 * failed CHECK exits 1, a hang dies of SIGALRM). */
static inline void rcu_fork_in_child(void (*fn)(const struct rcu_flavor *),
                                     const struct rcu_flavor *f)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(RCU_FORK_CHILD_SECONDS);
        fn(f);
        fflush(NULL);
        _exit(0);
    }
    rcu_fork_check_child(pid, f->name);
}

#endif
