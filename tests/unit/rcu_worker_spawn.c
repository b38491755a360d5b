/* SPDX-License-Identifier: MIT */
/* ferry_*_create_cpu_workers when a thread cannot be started part-way:
 * this program interposes pthread_attr_setdetachstate (ferry calls it just
 * before pthread_create for the per-CPU and default workers) and, on the
 * armed call, asks for a stack larger than the address space, so that this
 * one pthread_create fails with EAGAIN while the workers before it already
 * run. The call must fail cleanly (nothing published, the started workers
 * stopped and freed) and succeed when tried again. No allocator is
 * interposed, so it runs in every build: under ThreadSanitizer it checks
 * that a stopped worker's last access to its memory happens before the
 * creating thread frees it. The same failure hits a forked child whose
 * callback thread cannot be restarted: a barrier there must still run the
 * callbacks that were pending at the fork. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../torture/rcu_flavors.h"
#include "../torture/rcu_fork_tsan.h"
#include "test.h"

#if SIZE_MAX > 0xffffffffu
#define HUGE_STACK ((size_t)1 << 47)        /* the 47-bit user address space */
#else
#define HUGE_STACK ((size_t)0xf0000000u)    /* 3.75 GiB of a 32-bit process's 4 */
#endif

static FERRY_ATOMIC(int) fail_at;   /* 0: disarmed; n: the n-th call fails */
static FERRY_ATOMIC(int) calls;

int pthread_attr_setdetachstate(pthread_attr_t *attr, int state)
{
    static int (*real)(pthread_attr_t *, int);
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "pthread_attr_setdetachstate");
        memcpy(&real, &sym, sizeof real);
    }
    int n = atomic_load(&fail_at);
    if (n && atomic_fetch_add(&calls, 1) + 1 == n)
        /* More than the address space has free: the stack cannot be
         * mapped, pthread_create fails with EAGAIN. */
        pthread_attr_setstacksize(attr, HUGE_STACK);
    return real(attr, state);
}

static FERRY_ATOMIC(int) runs;

static void count_run(ferry_rcu_head *h)
{
    (void)h;
    /* Relaxed: read after the barrier. */
    atomic_fetch_add_explicit(&runs, 1, memory_order_relaxed);
}

static void one_callback_runs(const struct rcu_flavor *f)
{
    ferry_rcu_head h;
    memset(&h, 0, sizeof h);
    int before = atomic_load_explicit(&runs, memory_order_relaxed);
    f->call(&h, count_run);
    f->barrier();
    CHECK_EQ(atomic_load_explicit(&runs, memory_order_relaxed), before + 1);
}

static void spawn_fails_part_way(const struct rcu_flavor *f)
{
    enum { NCPU = 4 };
    /* The CPUs the library counts (src/rcu_common.h), raised before the
     * flavor's first use so that workers start before and after the
     * failing one. */
    ferry__rcu_ncpus = NCPU;
    one_callback_runs(f);      /* the default worker runs */
    for (int n = 1; n <= NCPU; n++) {
        atomic_store(&calls, 0);
        atomic_store(&fail_at, n);   /* workers 0 .. n-2 start, n-1 fails */
        int rc = f->create_cpu_workers();
        atomic_store(&fail_at, 0);
        CHECK_MSG(rc == -EAGAIN, "failing spawn %d of %d: rc %d", n, NCPU, rc);
        CHECK(f->get_cpu_worker(0) == NULL);
        one_callback_runs(f);   /* still on the default worker */
    }
    CHECK_EQ(f->create_cpu_workers(), 0);
    for (int c = 0; c < NCPU; c++)
        CHECK(f->get_cpu_worker(c) != NULL);
    one_callback_runs(f);
}

FERRY_TEST(memb_cpu_workers_spawn_fails_part_way) { spawn_fails_part_way(&rcu_memb); }
FERRY_TEST(qsbr_cpu_workers_spawn_fails_part_way) { spawn_fails_part_way(&rcu_qsbr); }
FERRY_TEST(bp_cpu_workers_spawn_fails_part_way) { spawn_fails_part_way(&rcu_bp); }

/* ---- a forked child whose callback thread cannot be restarted ---- */

#define PENDING 8

static void fork_restart_fails(const struct rcu_flavor *f)
{
    one_callback_runs(f);   /* the default worker runs */
    /* Callbacks pending at the fork: a reader holds their grace period. */
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    static ferry_rcu_head heads[PENDING];
    int before = atomic_load_explicit(&runs, memory_order_relaxed);
    for (int i = 0; i < PENDING; i++)
        f->call(&heads[i], count_run);
    /* The child's fork handler restarts the worker's thread: that spawn
     * fails. */
    atomic_store(&calls, 0);
    atomic_store(&fail_at, 1);
    fflush(NULL);
    pid_t pid = fork();
    atomic_store(&fail_at, 0);
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(20);
        CHECK_EQ(atomic_load(&calls), 1);   /* the restart was tried, and failed */
        /* The barrier starts the thread (or dies trying, as call does) and
         * waits for the callbacks. */
        f->barrier();
        CHECK_EQ(atomic_load_explicit(&runs, memory_order_relaxed), before + PENDING);
        fflush(NULL);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the child failed (%s %d)",
              f->name, WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    /* The parent: pending until the reader leaves, then run once. */
    CHECK_EQ(atomic_load_explicit(&runs, memory_order_relaxed), before);
    rcu_holder_stop(&h);
    f->barrier();
    CHECK_EQ(atomic_load_explicit(&runs, memory_order_relaxed), before + PENDING);
}

FERRY_TEST(memb_fork_child_restart_fails) { fork_restart_fails(&rcu_memb); }
FERRY_TEST(qsbr_fork_child_restart_fails) { fork_restart_fails(&rcu_qsbr); }
FERRY_TEST(bp_fork_child_restart_fails) { fork_restart_fails(&rcu_bp); }

/* ---- the documented aborts: a call (or a poll) that needs the default
 * worker's thread when it cannot be started ---- */

static void nothing(ferry_rcu_head *h)
{
    (void)h;
}

FERRY_DEATH_TEST(call_aborts_when_the_thread_cannot_start, "ferry_rcu: cannot start a callback thread")
{
    static ferry_rcu_head h;
    atomic_store(&fail_at, 1);
    ferry_rcu_call(&h, nothing);
}

FERRY_DEATH_TEST(start_poll_aborts_when_the_thread_cannot_start,
                 "ferry_qsbr: cannot start a callback thread")
{
    atomic_store(&fail_at, 1);
    (void)ferry_qsbr_start_poll();
}
