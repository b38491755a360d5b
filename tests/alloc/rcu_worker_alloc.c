/* SPDX-License-Identifier: MIT */
/* RCU callback workers under allocation failure: malloc, calloc, realloc
 * and aligned_alloc are interposed (this program defines them; the dynamic
 * linker resolves libc's and ferry's calls to these) and, while armed, every
 * k-th call fails, which also makes pthread_create fail (glibc allocates a
 * new thread's TLS with them). ferry_*_worker_create must then return
 * -ENOMEM or -EAGAIN with *out NULL and leave nothing behind;
 * ferry_*_create_cpu_workers must fail the same way, stop and free the
 * workers it had started, and succeed on a later try; callbacks queued
 * before and after every failure run exactly once. Registering a thread
 * and binding it to a worker arm a thread-exit destructor, whose
 * thread-specific value glibc allocates when the key's index is past its
 * first 32: when that fails, registration and binding must fail (bp, bind:
 * an error; memb, qsbr: an abort that says why) rather than leave a record
 * or a binding that the thread's exit would not undo. Not built under
 * sanitizers (they own malloc). The allocator: failing_malloc.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "../torture/rcu_flavors.h"
#include "failing_malloc.h"
#include "test.h"

/* Callbacks: each head counts its runs. */
struct item {
    ferry_rcu_head head;
    FERRY_ATOMIC(int) runs;
};

static void count_run(ferry_rcu_head *h)
{
    struct item *it = ferry_container_of(h, struct item, head);
    /* Relaxed: read after the barrier, which orders the callbacks before. */
    atomic_fetch_add_explicit(&it->runs, 1, memory_order_relaxed);
}

#define MAX_K 40

/* Queue one callback (on whichever worker the thread now uses), wait for it
 * with a barrier, and check it ran exactly once. */
static void one_callback_runs(const struct rcu_flavor *f)
{
    struct item it = { .runs = 0 };
    f->call(&it.head, count_run);
    f->barrier();
    CHECK_EQ(atomic_load_explicit(&it.runs, memory_order_relaxed), 1);
}

static void worker_create_fails_cleanly(const struct rcu_flavor *f)
{
    one_callback_runs(f);   /* the default worker runs before failures are armed */
    int made = 0, failed = 0;
    for (long k = 1; k <= MAX_K; k++) {
        /* A callback queued on the default worker across the failure. */
        struct item pending = { .runs = 0 };
        f->call(&pending.head, count_run);
        ferry_rcu_worker *w = (ferry_rcu_worker *)&w;   /* must be overwritten */
        arm(k);
        int rc = f->worker_create(&w, -1);
        disarm();
        if (rc != 0) {
            CHECK_MSG(rc == -ENOMEM || rc == -EAGAIN, "k=%ld: rc %d", k, rc);
            CHECK(w == NULL);
            failed++;
        } else {
            CHECK(w != NULL);
            CHECK_EQ(f->set_thread_worker(w), 0);
            one_callback_runs(f);
            CHECK_EQ(f->set_thread_worker(NULL), 0);
            CHECK_EQ(f->worker_destroy(w), 0);
            made++;
        }
        f->barrier();
        CHECK_EQ(atomic_load_explicit(&pending.runs, memory_order_relaxed), 1);
    }
    CHECK(failed > 0);
    CHECK(made > 0);
}

static void cpu_workers_fail_cleanly_then_succeed(const struct rcu_flavor *f)
{
    one_callback_runs(f);
    int failed = 0;
    for (long k = 1;; k++) {
        CHECK_MSG(k <= 1000, "create_cpu_workers never succeeded");
        arm(k);
        int rc = f->create_cpu_workers();
        disarm();
        if (rc == 0)
            break;
        CHECK_MSG(rc == -ENOMEM || rc == -EAGAIN, "k=%ld: rc %d", k, rc);
        CHECK(f->get_cpu_worker(0) == NULL);   /* nothing left behind */
        /* Calls still go to the default worker and run. */
        one_callback_runs(f);
        failed++;
    }
    CHECK(failed > 0);
    CHECK(f->get_cpu_worker(0) != NULL);
    one_callback_runs(f);   /* now on a per-CPU worker */
}

FERRY_TEST(memb_worker_create_fails_cleanly) { worker_create_fails_cleanly(&rcu_memb); }
FERRY_TEST(qsbr_worker_create_fails_cleanly) { worker_create_fails_cleanly(&rcu_qsbr); }
FERRY_TEST(bp_worker_create_fails_cleanly) { worker_create_fails_cleanly(&rcu_bp); }
FERRY_TEST(memb_cpu_workers_fail_cleanly_then_succeed) { cpu_workers_fail_cleanly_then_succeed(&rcu_memb); }
FERRY_TEST(qsbr_cpu_workers_fail_cleanly_then_succeed) { cpu_workers_fail_cleanly_then_succeed(&rcu_qsbr); }
FERRY_TEST(bp_cpu_workers_fail_cleanly_then_succeed) { cpu_workers_fail_cleanly_then_succeed(&rcu_bp); }

/* Registration and binding when the thread-exit destructor cannot be
 * armed. Use up glibc's first 32 thread-specific keys, so that the RCU
 * flavor's key (created at its first registration or binding) needs an
 * allocation in each thread that sets it. */
static void use_up_inline_keys(void)
{
    pthread_key_t k;
    do
        CHECK_EQ(pthread_key_create(&k, NULL), 0);
    while ((unsigned long)k < 40);
}

static void *run_in_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *ret;
    CHECK_EQ(pthread_create(&t, NULL, fn, arg), 0);
    CHECK_EQ(pthread_join(t, &ret), 0);
    return ret;
}

static void *bp_register_failing(void *arg)
{
    (void)arg;
    arm(1);
    int rc = ferry_rcu_bp_register_thread();
    disarm();
    return (void *)(intptr_t)rc;
}

static void *bp_read_once(void *arg)
{
    (void)arg;
    ferry_rcu_bp_read_lock();
    ferry_rcu_bp_read_unlock();
    return NULL;
}

/* Before the fix registration succeeded and the record stayed registered
 * after the thread exited (every later grace period scanned it). */
FERRY_TEST(bp_register_without_memory_for_the_exit_destructor_is_enomem)
{
    use_up_inline_keys();
    CHECK_EQ((int)(intptr_t)run_in_thread(bp_register_failing, NULL), -ENOMEM);
    CHECK_EQ(ferry_rcu_bp_registered_threads(), 0ul);
    /* With memory, a first read lock registers and the exit releases. */
    run_in_thread(bp_read_once, NULL);
    CHECK_EQ(ferry_rcu_bp_registered_threads(), 0ul);
    ferry_rcu_bp_synchronize();
}

static void *register_failing(void *arg)
{
    const struct rcu_flavor *f = arg;
    arm(1);
    f->reg();   /* aborts */
    disarm();
    f->unreg();
    return NULL;
}

/* Before the fix the thread exited registered with its record in the
 * registry; a later thread given the same TLS block linked it again and the
 * next grace period hung or crashed. */
FERRY_DEATH_TEST(memb_register_without_memory_for_the_exit_destructor_aborts,
                 "ferry_rcu_register_thread: cannot set up the thread's exit handler")
{
    use_up_inline_keys();
    run_in_thread(register_failing, (void *)&rcu_memb);
}

FERRY_DEATH_TEST(qsbr_register_without_memory_for_the_exit_destructor_aborts,
                 "ferry_qsbr_register_thread: cannot set up the thread's exit handler")
{
    use_up_inline_keys();
    run_in_thread(register_failing, (void *)&rcu_qsbr);
}

struct bind_arg {
    const struct rcu_flavor *f;
    ferry_rcu_worker *w;
};

static void *bind_failing(void *arg)
{
    struct bind_arg *a = arg;
    arm(1);
    int rc = a->f->set_thread_worker(a->w);
    disarm();
    CHECK(a->f->get_thread_worker() == NULL);   /* binding unchanged */
    return (void *)(intptr_t)rc;
}

/* Before the fix the binding succeeded and was never undone at the
 * thread's exit: the worker counted a bound thread for ever and every
 * destroy returned -EBUSY. */
static void bind_without_memory_for_the_exit_destructor(const struct rcu_flavor *f)
{
    use_up_inline_keys();
    struct bind_arg a = { f, NULL };
    CHECK_EQ(f->worker_create(&a.w, -1), 0);
    CHECK_EQ((int)(intptr_t)run_in_thread(bind_failing, &a), -ENOMEM);
    CHECK_EQ(f->worker_destroy(a.w), 0);
}

FERRY_TEST(memb_bind_without_memory_for_the_exit_destructor_is_enomem)
{
    bind_without_memory_for_the_exit_destructor(&rcu_memb);
}
FERRY_TEST(qsbr_bind_without_memory_for_the_exit_destructor_is_enomem)
{
    bind_without_memory_for_the_exit_destructor(&rcu_qsbr);
}
FERRY_TEST(bp_bind_without_memory_for_the_exit_destructor_is_enomem)
{
    bind_without_memory_for_the_exit_destructor(&rcu_bp);
}
