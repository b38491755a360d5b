/* SPDX-License-Identifier: MIT */
/* RCU across fork(): a child forked while other threads read, update or run
 * callbacks can use all of RCU (synchronize, call, barrier, polling) in each
 * flavor; callbacks that were pending at the fork run in the child too; the
 * parent is unaffected. Every case forks; the child runs under an alarm so
 * that a hang is reported as a failure instead of a test timeout. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../torture/rcu_flavors.h"
#include "../torture/rcu_fork_child.h"
#include "../torture/rcu_gp_wait.h"
#include "test.h"
#include "../torture/rcu_fork_tsan.h"

/* ---- forking with a watchdog ----
 *
 * GCC 12's AddressSanitizer does not lock its allocator across fork(): a
 * parent thread that is still starting (its sanitizer set-up allocates)
 * when another thread forks can leave the child's allocator locked. So the
 * parent lets every thread it started get going before it forks: workers
 * run a callback first (warm_up), other threads report that they run. */

/* ---- callbacks that count ---- */

struct obj {
    int value;
    ferry_rcu_head rh;
};

static void cb_nothing(ferry_rcu_head *h)
{
    (void)h;
}

/* Start the flavor's workers and let each run a callback (see above). */
static void warm_up(const struct rcu_flavor *f)
{
    ferry_rcu_head h;
    memset(&h, 0, sizeof h);
    f->call(&h, cb_nothing);
    f->barrier();
}

/* A synchronize in another thread, to see whether it is blocked. */
struct sync_arg {
    const struct rcu_flavor *f;
    pthread_t tid;
    FERRY_ATOMIC(int) running;
    FERRY_ATOMIC(int) done;
};

static void *sync_main(void *arg)
{
    struct sync_arg *s = arg;
    atomic_store_explicit(&s->running, 1, memory_order_release);
    s->f->sync();
    atomic_store_explicit(&s->done, 1, memory_order_release);
    return NULL;
}

static void sync_start(struct sync_arg *s, const struct rcu_flavor *f)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    CHECK_EQ(pthread_create(&s->tid, NULL, sync_main, s), 0);
    while (!atomic_load_explicit(&s->running, memory_order_acquire))
        usleep(100);
}

static bool sync_done(struct sync_arg *s)
{
    return atomic_load_explicit(&s->done, memory_order_acquire);
}

/* ---- a reader inside a section at the fork: the child's grace periods do
 * not wait for it (its thread does not exist in the child) ---- */

static void child_synchronize(const struct rcu_flavor *f)
{
    f->sync();
    f->sync();
    /* The child's own readers are waited for as usual. */
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    struct sync_arg s;
    sync_start(&s, f);
    struct rcu_watch w = { .what = "the child's synchronize (with the child's reader)", .returned = &s.done };
    rcu_gp_wait_blocked(f->in, &w);
    rcu_holder_stop(&h);
    CHECK_EQ(pthread_join(s.tid, NULL), 0);
    CHECK(sync_done(&s));
}

static void fork_with_reader_in_section(const struct rcu_flavor *f)
{
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    rcu_fork_in_child(child_synchronize, f);
    rcu_holder_stop(&h);
}

FERRY_TEST(memb_fork_while_reading_then_synchronize) { fork_with_reader_in_section(&rcu_memb); }
FERRY_TEST(qsbr_fork_while_reading_then_synchronize) { fork_with_reader_in_section(&rcu_qsbr); }
FERRY_TEST(bp_fork_while_reading_then_synchronize) { fork_with_reader_in_section(&rcu_bp); }

/* ---- callbacks: a child of a process that used call has no callback
 * thread; it gets one, and the callbacks pending at the fork run in the
 * child as well (each process reclaims its own copy) ---- */

#define PENDING 16
static struct obj pending[PENDING];

static void child_call_and_barrier(const struct rcu_flavor *f)
{
    /* The callbacks queued in the parent before the fork (waiting there for
     * the holder's grace period) run here too. */
    f->barrier();
    CHECK_EQ(ran(), PENDING);
    static struct obj o[8];
    for (int i = 0; i < 8; i++)
        f->call(&o[i].rh, cb_count);
    f->barrier();
    CHECK_EQ(ran(), PENDING + 8);
    unsigned long c = f->start_poll();
    for (int i = 0; i < 10000 && !f->poll(c); i++)
        usleep(1000);
    CHECK_MSG(f->poll(c), "%s: a polled grace period never completed in the child", f->name);
}

static void fork_with_pending_callbacks(const struct rcu_flavor *f)
{
    /* The callback thread exists and has work when the process forks. */
    static struct obj first;
    f->call(&first.rh, cb_count);
    f->barrier();
    CHECK_EQ(ran(), 1);
    atomic_store_explicit(&cb_ran, 0, memory_order_relaxed);
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    for (int i = 0; i < PENDING; i++)
        f->call(&pending[i].rh, cb_count);
    /* The callback thread takes them and waits for the holder. */
    struct rcu_watch w = { .what = "callbacks pending at the fork", .ran = &cb_ran };
    rcu_worker_wait_taken(&f->in->dflt, &w);
    unsigned long seq = rcu_gp_wait_blocked(f->in, &w);
    rcu_fork_in_child(child_call_and_barrier, f);
    rcu_gp_keeps_waiting(f->in, &w, seq);
    /* The parent: still pending behind its reader, then run exactly once. */
    CHECK_EQ(ran(), 0);
    rcu_holder_stop(&h);
    f->barrier();
    CHECK_EQ(ran(), PENDING);
}

FERRY_TEST(memb_fork_with_pending_callbacks) { fork_with_pending_callbacks(&rcu_memb); }
FERRY_TEST(qsbr_fork_with_pending_callbacks) { fork_with_pending_callbacks(&rcu_qsbr); }
FERRY_TEST(bp_fork_with_pending_callbacks) { fork_with_pending_callbacks(&rcu_bp); }

/* ---- fork inside a read-side section while another thread's synchronize
 * waits for the forking thread: the fork handlers must not wait for that
 * grace period (liburcu's before-fork handler would) ---- */

static void child_leave_then_synchronize(const struct rcu_flavor *f)
{
    f->unlock();
    f->unreg();
    f->sync();
    static struct obj o;
    f->call(&o.rh, cb_count);
    f->barrier();
    CHECK_EQ(ran(), 1);
}

static void fork_inside_section(const struct rcu_flavor *f)
{
    f->reg();
    f->lock();
    struct sync_arg s;
    sync_start(&s, f);
    /* It waits for us. */
    struct rcu_watch w = { .what = "the parent's synchronize (the forking thread is its reader)",
                           .returned = &s.done };
    unsigned long seq = rcu_gp_wait_blocked(f->in, &w);
    rcu_fork_in_child(child_leave_then_synchronize, f);
    /* The parent: the same grace period still waits for this section. */
    rcu_gp_keeps_waiting(f->in, &w, seq);
    f->unlock();
    f->unreg();   /* QSBR: the section ends with going offline */
    CHECK_EQ(pthread_join(s.tid, NULL), 0);
}

FERRY_TEST(memb_fork_inside_section_while_synchronize_waits) { fork_inside_section(&rcu_memb); }
FERRY_TEST(qsbr_fork_online_while_synchronize_waits) { fork_inside_section(&rcu_qsbr); }
FERRY_TEST(bp_fork_inside_section_while_synchronize_waits) { fork_inside_section(&rcu_bp); }

/* ---- the parent after a fork: its readers still hold its grace periods
 * and its callbacks run once ---- */

static void child_nothing(const struct rcu_flavor *f)
{
    (void)f;
}

static void parent_unaffected(const struct rcu_flavor *f)
{
    warm_up(f);
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    struct sync_arg s;
    sync_start(&s, f);
    struct rcu_watch w = { .what = "the parent's synchronize", .returned = &s.done, .ran = &cb_ran };
    unsigned long seq = rcu_gp_wait_blocked(f->in, &w);
    static struct obj o[4];
    for (int i = 0; i < 4; i++)
        f->call(&o[i].rh, cb_count);
    rcu_fork_in_child(child_nothing, f);
    rcu_fork_in_child(child_synchronize, f);
    /* The forks let the parent's grace period skip nothing: the same one
     * still waits for the reader, and no callback ran. */
    rcu_gp_keeps_waiting(f->in, &w, seq);
    rcu_holder_stop(&h);
    CHECK_EQ(pthread_join(s.tid, NULL), 0);
    f->barrier();
    CHECK_EQ(ran(), 4);
    f->sync();
}

FERRY_TEST(memb_parent_unaffected_by_fork) { parent_unaffected(&rcu_memb); }
FERRY_TEST(qsbr_parent_unaffected_by_fork) { parent_unaffected(&rcu_qsbr); }
FERRY_TEST(bp_parent_unaffected_by_fork) { parent_unaffected(&rcu_bp); }

/* ---- a child of a child ---- */

static void child_call_and_barrier_grandchild(const struct rcu_flavor *f)
{
    f->barrier();   /* the child's pending callback runs here too */
    CHECK_EQ(ran(), 1);
    f->sync();
}

static void child_forks_again(const struct rcu_flavor *f)
{
    warm_up(f);
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    static struct obj o;
    f->call(&o.rh, cb_count);
    rcu_fork_in_child(child_call_and_barrier_grandchild, f);
    rcu_holder_stop(&h);
    f->barrier();
    CHECK_EQ(ran(), 1);
}

FERRY_TEST(memb_grandchild) { rcu_fork_in_child(child_forks_again, &rcu_memb); }
FERRY_TEST(bp_grandchild) { rcu_fork_in_child(child_forks_again, &rcu_bp); }

/* ---- the explicit calls (liburcu's pattern) nest with the automatic
 * handlers; around _Fork, which runs no handlers, they are what makes the
 * child usable ---- */

static void explicit_calls(const struct rcu_flavor *f, bool raw)
{
    warm_up(f);
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    static struct obj o[4];
    for (int i = 0; i < 4; i++)
        f->call(&o[i].rh, cb_count);
    fflush(NULL);
    ferry_rcu_before_fork();
    pid_t pid;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    pid = raw ? _Fork() : fork();
#else
    (void)raw;
    pid = fork();
#endif
    CHECK(pid >= 0);
    if (pid == 0) {
        ferry_rcu_after_fork_child();
        alarm(RCU_FORK_CHILD_SECONDS);
        f->sync();
        f->barrier();
        CHECK_EQ(ran(), 4);
        fflush(NULL);
        _exit(0);
    }
    ferry_rcu_after_fork_parent();
    rcu_fork_check_child(pid, f->name);
    CHECK_EQ(ran(), 0);
    rcu_holder_stop(&h);
    f->barrier();
    CHECK_EQ(ran(), 4);
}

FERRY_TEST(memb_explicit_fork_calls) { explicit_calls(&rcu_memb, false); }
FERRY_TEST(qsbr_explicit_fork_calls) { explicit_calls(&rcu_qsbr, false); }
/* ThreadSanitizer does not support _Fork: there the case uses fork(). */
#ifdef RCU_FORK_TSAN
#define RAW_FORK false
#else
#define RAW_FORK true
#endif
FERRY_TEST(memb_explicit_calls_around_raw_fork) { explicit_calls(&rcu_memb, RAW_FORK); }
FERRY_TEST(bp_explicit_calls_around_raw_fork) { explicit_calls(&rcu_bp, RAW_FORK); }

FERRY_DEATH_TEST(after_fork_parent_without_before_aborts,
                 "ferry_rcu_after_fork_parent without ferry_rcu_before_fork")
{
    ferry_rcu_after_fork_parent();
}

FERRY_DEATH_TEST(after_fork_child_without_before_aborts,
                 "ferry_rcu_after_fork_child without ferry_rcu_before_fork")
{
    ferry_rcu_after_fork_child();
}

/* ---- a callback that forks: in the child its thread goes on as the
 * worker's thread ---- */

static const struct rcu_flavor *cb_flavor;
static FERRY_ATOMIC(int) forked_child;   /* pid, in the parent */

static void *child_helper(void *arg)
{
    const struct rcu_flavor *f = arg;
    static struct obj o[3];
    for (int i = 0; i < 3; i++)
        f->call(&o[i].rh, cb_count);
    f->barrier();   /* run by the worker once the forking callback returns */
    f->sync();
    fflush(NULL);
    _exit(ran() == 3 + 1 ? 0 : 1);
}

static void cb_fork(ferry_rcu_head *h)
{
    (void)h;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(RCU_FORK_CHILD_SECONDS);
        atomic_store_explicit(&cb_ran, 1, memory_order_relaxed);
        pthread_t t;
        if (pthread_create(&t, NULL, child_helper, (void *)cb_flavor) != 0)
            _exit(2);
        return;   /* back to the worker loop, in the child */
    }
    atomic_store_explicit(&forked_child, pid, memory_order_release);
}

static void fork_from_callback(const struct rcu_flavor *f)
{
    cb_flavor = f;
    static struct obj o;
    f->call(&o.rh, cb_fork);
    f->barrier();
    pid_t pid = atomic_load_explicit(&forked_child, memory_order_acquire);
    CHECK(pid > 0);
    rcu_fork_check_child(pid, f->name);
}

FERRY_TEST(memb_fork_from_callback) { fork_from_callback(&rcu_memb); }
FERRY_TEST(qsbr_fork_from_callback) { fork_from_callback(&rcu_qsbr); }

/* ---- workers: per-CPU and bound ones get new threads in the child, with
 * the callbacks they had pending; the child's binding is its own ---- */

static ferry_rcu_worker *own;

static void child_workers(const struct rcu_flavor *f)
{
    f->barrier();   /* 2 x PENDING pending on the own and the per-CPU workers */
    CHECK_EQ(ran(), 2 * PENDING);
    CHECK_PTR_EQ(f->get_thread_worker(), own);
    static struct obj o;
    f->call(&o.rh, cb_count);
    f->barrier();
    CHECK_EQ(ran(), 2 * PENDING + 1);
    CHECK_EQ(f->worker_destroy(own), -EBUSY);   /* only this thread is bound */
    CHECK_EQ(f->set_thread_worker(NULL), 0);
    CHECK_EQ(f->worker_destroy(own), 0);
}

static struct obj more[PENDING];

/* Wait until a per-CPU worker (the calling thread's) has taken callbacks. */
static void cpu_worker_wait_taken(const struct rcu_flavor *f, const struct rcu_watch *rw)
{
    struct timespec limit = ferry_test_deadline_ms(RCU_GP_HANG_MS);
    for (;;) {
        ferry_rcu_worker *w;
        for (int cpu = 0; (w = f->get_cpu_worker(cpu)) != NULL; cpu++)
            /* Relaxed: a flag to decide when to look. */
            if (atomic_load_explicit(&w->inflight, memory_order_relaxed))
                return;
        rcu_watch_check(rw, "before a per-CPU worker took them");
        rcu_gp_hang_check(limit, rw, "a per-CPU worker holding callbacks");
        usleep(100);
    }
}

static void fork_with_workers(const struct rcu_flavor *f)
{
    CHECK_EQ(f->create_cpu_workers(), 0);
    CHECK_EQ(f->worker_create(&own, -1), 0);
    warm_up(f);   /* the barrier runs a callback on every worker */
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    for (int i = 0; i < PENDING; i++)
        f->call(&pending[i].rh, cb_count);   /* a per-CPU worker */
    CHECK_EQ(f->set_thread_worker(own), 0);
    for (int i = 0; i < PENDING; i++)
        f->call(&more[i].rh, cb_count);      /* the own worker */
    /* Both workers have taken callbacks and wait for the holder. */
    struct rcu_watch w = { .what = "callbacks pending at the fork", .ran = &cb_ran };
    cpu_worker_wait_taken(f, &w);
    rcu_worker_wait_taken(own, &w);
    unsigned long seq = rcu_gp_wait_blocked(f->in, &w);
    rcu_fork_in_child(child_workers, f);
    rcu_gp_keeps_waiting(f->in, &w, seq);
    rcu_holder_stop(&h);
    f->barrier();
    CHECK_EQ(ran(), 2 * PENDING);
    CHECK_EQ(f->set_thread_worker(NULL), 0);
    CHECK_EQ(f->worker_destroy(own), 0);
}

FERRY_TEST(memb_fork_with_workers) { fork_with_workers(&rcu_memb); }
FERRY_TEST(qsbr_fork_with_workers) { fork_with_workers(&rcu_qsbr); }
FERRY_TEST(bp_fork_with_workers) { fork_with_workers(&rcu_bp); }
