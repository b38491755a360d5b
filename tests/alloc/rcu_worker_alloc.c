/* SPDX-License-Identifier: MIT */
/* RCU callback workers under allocation failure: malloc, calloc, realloc
 * and aligned_alloc are interposed (this program defines them; the dynamic
 * linker resolves libc's and ferry's calls to these) and, while armed, every
 * k-th call fails, which also makes pthread_create fail (glibc allocates a
 * new thread's TLS with them). ferry_*_worker_create must then return
 * -ENOMEM or -EAGAIN with *out NULL and leave nothing behind;
 * ferry_*_create_cpu_workers must fail the same way, stop and free the
 * workers it had started, and succeed on a later try; callbacks queued
 * before and after every failure run exactly once. Not built under
 * sanitizers (they own malloc). The allocator: failing_malloc.h. */
#include <errno.h>
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
