/* SPDX-License-Identifier: MIT */
/* The RCU callback-worker API as a hostile caller uses it, in every flavor:
 * destroy twice, destroy or bind a pointer that is no worker, bind a
 * destroyed worker, set_thread_worker(NULL) when unbound, destroy with
 * callbacks queued, a CPU beyond those present. (tests/unit/rcu_worker.c
 * has the contract.) Before the fix destroy and set_thread_worker read
 * through their argument first: a second destroy read freed memory (a
 * heap use after free under ASan; -EBUSY from the stale flag otherwise). */
#include <errno.h>
#include <string.h>

#include "../torture/rcu_flavors.h"
#include "test.h"

static FERRY_ATOMIC(int) ran;
static void cb_count(ferry_rcu_head *h)
{
    (void)h;
    atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
}

static void destroyed_and_foreign_workers(const struct rcu_flavor *f)
{
    ferry_rcu_worker *w;
    CHECK_EQ(f->worker_create(&w, -1), 0);
    CHECK_EQ(f->set_thread_worker(NULL), 0); /* unbound: nothing to do */
    CHECK_EQ(f->set_thread_worker(w), 0);
    CHECK_EQ(f->set_thread_worker(w), 0);    /* again: still once */
    static ferry_rcu_head h[8];
    atomic_store(&ran, 0);
    for (int i = 0; i < 8; i++)
        f->call(&h[i], cb_count);
    CHECK_EQ(f->worker_destroy(w), -EBUSY);  /* this thread is bound */
    CHECK_EQ(f->set_thread_worker(NULL), 0);
    CHECK_EQ(f->worker_destroy(w), 0);       /* runs the 8 queued first */
    CHECK_EQ(atomic_load(&ran), 8);
    CHECK_EQ(f->worker_destroy(w), -EINVAL); /* destroyed already */
    CHECK_EQ(f->set_thread_worker(w), -EINVAL);
    /* A pointer that is no worker at all is not read through. */
    long not_a_worker = 0;
    ferry_rcu_worker *fake = (ferry_rcu_worker *)(void *)&not_a_worker;
    CHECK_EQ(f->worker_destroy(fake), -EINVAL);
    CHECK_EQ(f->set_thread_worker(fake), -EINVAL);
    /* The thread's callbacks go to the default worker again. */
    atomic_store(&ran, 0);
    f->call(&h[0], cb_count);
    f->barrier();
    CHECK_EQ(atomic_load(&ran), 1);
}

FERRY_TEST(memb_destroyed_and_foreign_workers) { destroyed_and_foreign_workers(&rcu_memb); }
FERRY_TEST(qsbr_destroyed_and_foreign_workers) { destroyed_and_foreign_workers(&rcu_qsbr); }
FERRY_TEST(bp_destroyed_and_foreign_workers) { destroyed_and_foreign_workers(&rcu_bp); }

/* A worker of one flavor is no worker of another, for destroy and bind. */
FERRY_TEST(worker_of_another_flavor_is_einval)
{
    ferry_rcu_worker *b;
    CHECK_EQ(ferry_rcu_bp_worker_create(&b, -1), 0);
    CHECK_EQ(ferry_rcu_worker_destroy(b), -EINVAL);
    CHECK_EQ(ferry_qsbr_worker_destroy(b), -EINVAL);
    CHECK_EQ(ferry_rcu_set_thread_worker(b), -EINVAL);
    CHECK_EQ(ferry_rcu_bp_worker_destroy(b), 0);
}

/* CPUs: -1 and any CPU number the affinity mask can name work (pinning is
 * best effort: a CPU that is not present leaves the thread unpinned);
 * below -1 or beyond the mask is -EINVAL with *out NULL. */
FERRY_TEST(worker_cpu_numbers)
{
    ferry_rcu_worker *w = (ferry_rcu_worker *)&w;
    const int bad[] = {-2, -1000, INT32_MIN, 1 << 20, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w = (ferry_rcu_worker *)&w;
        CHECK_EQ(ferry_rcu_worker_create(&w, bad[i]), -EINVAL);
        CHECK(w == NULL);
    }
    const int good[] = {-1, 0, 1000};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ(ferry_rcu_worker_create(&w, good[i]), 0);
        CHECK(w != NULL);
        CHECK_EQ(ferry_rcu_set_thread_worker(w), 0);
        static ferry_rcu_head h;
        atomic_store(&ran, 0);
        ferry_rcu_call(&h, cb_count);
        CHECK_EQ(ferry_rcu_set_thread_worker(NULL), 0);
        CHECK_EQ(ferry_rcu_worker_destroy(w), 0);
        CHECK_EQ(atomic_load(&ran), 1);
    }
}
