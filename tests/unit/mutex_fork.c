/* SPDX-License-Identifier: MIT */
/* ferry_mutex and ferry_cond across fork(), as docs/mutex.md promises: a
 * mutex the forking thread held is still held by it in the child, which
 * unlocks it (FERRY_DEBUG's owner check included) and uses it; one another
 * thread held at the fork is re-initialized by the child and then works.
 * Each child runs under an alarm. */
#include <ferry/mutex.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "../torture/rcu_fork_tsan.h"

static void wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (%s %d)",
              WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void use_in_child(ferry_mutex *m, ferry_cond *c)
{
    ferry_mutex_lock(m);
    struct timespec past = {0, 0};
    CHECK_EQ(ferry_cond_wait_until(c, m, &past), -ETIMEDOUT);
    ferry_cond_signal(c);
    ferry_mutex_unlock(m);
    ferry_cond_fini(c);
    ferry_mutex_fini(m);
}

FERRY_TEST(mutex_held_by_the_forking_thread_is_unlocked_in_the_child)
{
    static ferry_mutex m;
    static ferry_cond c;
    ferry_mutex_lock(&m);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(20);
        CHECK(ferry_mutex_is_locked(&m));
        ferry_mutex_unlock(&m);
        use_in_child(&m, &c);
        _exit(0);
    }
    ferry_mutex_unlock(&m);
    wait_child(pid);
    ferry_mutex_fini(&m);
}

static ferry_mutex other_m;
static ferry_cond other_c;
static FERRY_ATOMIC(int) holding, release_it;

static void *holder(void *arg)
{
    (void)arg;
    ferry_mutex_lock(&other_m);
    atomic_store(&holding, 1);
    while (!atomic_load(&release_it))
        ferry_test_sleep_ms(1);
    ferry_mutex_unlock(&other_m);
    return NULL;
}

FERRY_TEST(mutex_held_by_another_thread_is_reinitialized_in_the_child)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, holder, NULL), 0);
    while (!atomic_load(&holding))
        sched_yield();
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(20);
        CHECK(!ferry_mutex_trylock(&other_m)); /* nobody here will unlock it */
        CHECK_EQ(ferry_mutex_init(&other_m), 0);
        CHECK_EQ(ferry_cond_init(&other_c), 0);
        use_in_child(&other_m, &other_c);
        _exit(0);
    }
    wait_child(pid);
    atomic_store(&release_it, 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    ferry_mutex_fini(&other_m);
}
