/* SPDX-License-Identifier: MIT */
/* RCU callback workers: bound and per-CPU workers run the callbacks of the
 * threads that use them, a thread's callbacks keep their order, barrier
 * waits for every worker, destroy runs what is queued, the argument and
 * misuse errors, and a call path that allocates nothing. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../torture/rcu_flavors.h"
#include "../torture/rcu_gp_wait.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RCU_WORKER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RCU_WORKER_SANITIZED 1
#endif
#endif

/* ---- allocation counting (not under sanitizers: they own malloc) ---- */

static FERRY_ATOMIC(int) alloc_armed;
static FERRY_ATOMIC(long) alloc_calls;

#ifndef RCU_WORKER_SANITIZED
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static void note(void)
{
    if (atomic_load_explicit(&alloc_armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
}

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { if (p) note(); __libc_free(p); }
#endif

/* ---- callbacks that record where and in which order they ran ---- */

struct obj {
    int value;
    pthread_t ran_on;
    int cpu;
    FERRY_ATOMIC(int) done;
    ferry_rcu_head rh;
};

static FERRY_ATOMIC(int) cb_n;
static int cb_order[4096];

static void cb_record(ferry_rcu_head *h)
{
    struct obj *o = ferry_container_of(h, struct obj, rh);
    o->ran_on = pthread_self();
    o->cpu = sched_getcpu();
    int i = atomic_fetch_add_explicit(&cb_n, 1, memory_order_relaxed);
    if (i < 4096)
        cb_order[i] = o->value;
    atomic_store_explicit(&o->done, 1, memory_order_release);
}

static int ran(void)
{
    return atomic_load_explicit(&cb_n, memory_order_relaxed);
}

/* ---- bound workers ---- */

static void bound_worker_runs_the_threads_callbacks(const struct rcu_flavor *f)
{
    ferry_rcu_worker *a, *b;
    CHECK_EQ(f->worker_create(&a, -1), 0);
    CHECK_EQ(f->worker_create(&b, -1), 0);
    CHECK(a != b);
    static struct obj o[3];
    f->call(&o[0].rh, cb_record);             /* the default worker */
    CHECK_EQ(f->set_thread_worker(a), 0);
    CHECK_PTR_EQ(f->get_thread_worker(), a);
    f->call(&o[1].rh, cb_record);
    CHECK_EQ(f->set_thread_worker(b), 0);
    f->call(&o[2].rh, cb_record);
    f->barrier();
    CHECK_EQ(ran(), 3);
    /* Three different threads, none of them this one. */
    CHECK(!pthread_equal(o[0].ran_on, o[1].ran_on));
    CHECK(!pthread_equal(o[1].ran_on, o[2].ran_on));
    CHECK(!pthread_equal(o[0].ran_on, o[2].ran_on));
    CHECK(!pthread_equal(o[1].ran_on, pthread_self()));
    CHECK_EQ(f->worker_destroy(b), -EBUSY);
    CHECK_EQ(f->set_thread_worker(NULL), 0);
    CHECK_PTR_EQ(f->get_thread_worker(), NULL);
    CHECK_EQ(f->worker_destroy(a), 0);
    CHECK_EQ(f->worker_destroy(b), 0);
}

FERRY_TEST(memb_bound_worker_runs_the_threads_callbacks) { bound_worker_runs_the_threads_callbacks(&rcu_memb); }
FERRY_TEST(qsbr_bound_worker_runs_the_threads_callbacks) { bound_worker_runs_the_threads_callbacks(&rcu_qsbr); }
FERRY_TEST(bp_bound_worker_runs_the_threads_callbacks) { bound_worker_runs_the_threads_callbacks(&rcu_bp); }

/* destroy waits for the worker's pending callbacks (here: behind a reader)
 * and runs them before it stops the thread. */
struct destroy_arg {
    const struct rcu_flavor *f;
    ferry_rcu_worker *w;
    FERRY_ATOMIC(int) rc;
    FERRY_ATOMIC(int) done;
};

static void *destroy_main(void *arg)
{
    struct destroy_arg *d = arg;
    atomic_store_explicit(&d->rc, d->f->worker_destroy(d->w), memory_order_relaxed);
    atomic_store_explicit(&d->done, 1, memory_order_release);
    pthread_testcancel();   /* a cancellation sent during destroy acts here */
    return NULL;
}

/* cancel: the destroying thread is cancelled while destroy waits for the
 * worker's thread. destroy is no cancellation point (its pthread_join is
 * one): it must still finish, or the worker would be left stopping, never
 * joined nor freed, and every later destroy -EBUSY. */
static void destroy_runs_pending_callbacks(const struct rcu_flavor *f, bool cancel)
{
    ferry_rcu_worker *w;
    CHECK_EQ(f->worker_create(&w, -1), 0);
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    CHECK_EQ(f->set_thread_worker(w), 0);
    static struct obj o[10];
    for (int i = 0; i < 10; i++)
        f->call(&o[i].rh, cb_record);
    CHECK_EQ(f->set_thread_worker(NULL), 0);
    /* The worker has taken them and waits for the holder. */
    struct destroy_arg d = { f, w, 0, 0 };
    struct rcu_watch rw = { .what = "ferry_rcu_worker_destroy", .returned = &d.done, .ran = &cb_n };
    rcu_worker_wait_taken(w, &rw);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, destroy_main, &d), 0);
    /* destroy has begun (stopping is set under worker_lock; relaxed: a flag
     * to decide when to look), and the worker's grace period still waits:
     * destroy must not return, no callback may run. */
    struct timespec limit = ferry_test_deadline_ms(RCU_GP_HANG_MS);
    while (!atomic_load_explicit(&w->stopping, memory_order_relaxed)) {
        rcu_watch_check(&rw, "before it began");
        rcu_gp_hang_check(limit, &rw, "destroy begun");
        usleep(100);
    }
    rcu_gp_wait_blocked(f->in, &rw);
    if (cancel) {
        usleep(20000);   /* destroy waits in its join */
        CHECK_EQ(pthread_cancel(t), 0);
        usleep(20000);
    }
    rcu_holder_stop(&h);
    void *ret;
    CHECK_EQ(pthread_join(t, &ret), 0);
    CHECK(ret == (cancel ? PTHREAD_CANCELED : NULL));
    CHECK_MSG(atomic_load_explicit(&d.done, memory_order_acquire), "destroy did not return");
    CHECK_EQ(atomic_load_explicit(&d.rc, memory_order_relaxed), 0);
    CHECK_EQ(ran(), 10);
    CHECK_EQ(f->worker_destroy(w), -EINVAL);   /* gone (looked up, not read) */
}

FERRY_TEST(memb_destroy_runs_pending_callbacks) { destroy_runs_pending_callbacks(&rcu_memb, false); }
FERRY_TEST(qsbr_destroy_runs_pending_callbacks) { destroy_runs_pending_callbacks(&rcu_qsbr, false); }
FERRY_TEST(memb_cancelled_destroy_finishes) { destroy_runs_pending_callbacks(&rcu_memb, true); }

static void *bind_and_exit(void *arg)
{
    ferry_rcu_worker *w = arg;
    CHECK_EQ(ferry_rcu_set_thread_worker(w), 0);
    return NULL;   /* exits bound */
}

FERRY_TEST(thread_exit_unbinds)
{
    ferry_rcu_worker *w;
    CHECK_EQ(ferry_rcu_worker_create(&w, -1), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, bind_and_exit, w), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(ferry_rcu_worker_destroy(w), 0);
}

static ferry_rcu_worker *self_destroying;
static FERRY_ATOMIC(int) self_destroy_rc;

static void cb_destroy_own_worker(ferry_rcu_head *h)
{
    (void)h;
    atomic_store_explicit(&self_destroy_rc, ferry_rcu_worker_destroy(self_destroying),
                          memory_order_relaxed);
}

FERRY_TEST(destroy_from_own_callback_is_edeadlk)
{
    CHECK_EQ(ferry_rcu_worker_create(&self_destroying, -1), 0);
    CHECK_EQ(ferry_rcu_set_thread_worker(self_destroying), 0);
    static ferry_rcu_head h;
    ferry_rcu_call(&h, cb_destroy_own_worker);
    ferry_rcu_barrier();
    CHECK_EQ(atomic_load_explicit(&self_destroy_rc, memory_order_relaxed), -EDEADLK);
    CHECK_EQ(ferry_rcu_set_thread_worker(NULL), 0);
    CHECK_EQ(ferry_rcu_worker_destroy(self_destroying), 0);
}

FERRY_TEST(bad_arguments)
{
    ferry_rcu_worker *w = (ferry_rcu_worker *)&w;
    CHECK_EQ(ferry_rcu_worker_create(NULL, -1), -EINVAL);
    CHECK_EQ(ferry_rcu_worker_create(&w, -2), -EINVAL);
    CHECK_PTR_EQ(w, NULL);   /* *out is NULL after any failure */
    w = (ferry_rcu_worker *)&w;
    CHECK_EQ(ferry_rcu_worker_create(&w, 1 << 20), -EINVAL);
    CHECK_PTR_EQ(w, NULL);
    CHECK_EQ(ferry_rcu_worker_destroy(NULL), -EINVAL);
    ferry_rcu_worker *q;
    CHECK_EQ(ferry_qsbr_worker_create(&q, -1), 0);
    CHECK_EQ(ferry_rcu_set_thread_worker(q), -EINVAL);      /* another flavor's */
    CHECK_EQ(ferry_rcu_worker_destroy(q), -EINVAL);
    CHECK_EQ(ferry_qsbr_worker_destroy(q), 0);
    CHECK_EQ(ferry_rcu_create_cpu_workers(), 0);
    ferry_rcu_worker *c0 = ferry_rcu_get_cpu_worker(0);
    CHECK(c0 != NULL);
    CHECK_EQ(ferry_rcu_worker_destroy(c0), -EINVAL);        /* per-CPU: never destroyed */
    CHECK_PTR_EQ(ferry_rcu_get_cpu_worker(-1), NULL);
    CHECK_PTR_EQ(ferry_rcu_get_cpu_worker((int)sysconf(_SC_NPROCESSORS_CONF)), NULL);
    CHECK_EQ(ferry_rcu_create_cpu_workers(), 0);            /* again: the same ones */
    CHECK_PTR_EQ(ferry_rcu_get_cpu_worker(0), c0);
    CHECK_PTR_EQ(ferry_qsbr_get_cpu_worker(0), NULL);       /* per flavor */
}

/* ---- per-CPU workers ---- */

struct pinned_call {
    const struct rcu_flavor *f;
    struct obj *o;
    int cpu;
    bool pinned;   /* the calling thread ran on cpu at its call */
};

static void *pinned_call_main(void *arg)
{
    struct pinned_call *p = arg;
    p->pinned = sched_getcpu() == p->cpu;
    p->f->call(&p->o->rh, cb_record);
    return NULL;
}

static void cpu_workers_take_the_callers_cpu(const struct rcu_flavor *f)
{
    CHECK_EQ(f->create_cpu_workers(), 0);
    int n = (int)sysconf(_SC_NPROCESSORS_CONF);
    for (int c = 0; c < n; c++)
        CHECK(f->get_cpu_worker(c) != NULL);
    enum { MAXC = 64 };
    static struct obj o[MAXC];
    static struct pinned_call p[MAXC];
    int m = n < MAXC ? n : MAXC;
    for (int c = 0; c < m; c++) {
        p[c] = (struct pinned_call){ f, &o[c], c, false };
        o[c].value = c;
        pthread_attr_t attr;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((unsigned)c, &set);
        pthread_attr_init(&attr);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        pthread_t t;
        int rc = pthread_create(&t, &attr, pinned_call_main, &p[c]);
        pthread_attr_destroy(&attr);
        if (rc != 0) {   /* a CPU this process may not use */
            CHECK_EQ(pthread_create(&t, NULL, pinned_call_main, &p[c]), 0);
        }
        CHECK_EQ(pthread_join(t, NULL), 0);
    }
    f->barrier();
    CHECK_EQ(ran(), m);
    /* A callback queued from CPU c runs on CPU c's worker: on CPU c (the
     * worker is pinned), on a thread that is not another CPU's worker. */
    for (int c = 0; c < m; c++) {
        if (!p[c].pinned)
            continue;
        CHECK_MSG(o[c].cpu == c, "%s: a callback queued on CPU %d ran on CPU %d", f->name, c,
                  o[c].cpu);
        for (int d = 0; d < c; d++)
            if (p[d].pinned)
                CHECK(!pthread_equal(o[c].ran_on, o[d].ran_on));
    }
}

FERRY_TEST(memb_cpu_workers_take_the_callers_cpu) { cpu_workers_take_the_callers_cpu(&rcu_memb); }
FERRY_TEST(qsbr_cpu_workers_take_the_callers_cpu) { cpu_workers_take_the_callers_cpu(&rcu_qsbr); }
FERRY_TEST(bp_cpu_workers_take_the_callers_cpu) { cpu_workers_take_the_callers_cpu(&rcu_bp); }

/* ---- order and barrier ---- */

/* Each thread's callbacks run in call order, whichever queue it uses. */
#define ORDER_THREADS 4
#define ORDER_CALLS 1000

struct order_arg {
    const struct rcu_flavor *f;
    int id;
    struct obj o[ORDER_CALLS];
};

static FERRY_ATOMIC(int) order_seen[ORDER_THREADS];
static FERRY_ATOMIC(int) order_bad;

static void cb_in_order(ferry_rcu_head *h)
{
    struct obj *o = ferry_container_of(h, struct obj, rh);
    int t = o->value / ORDER_CALLS, i = o->value % ORDER_CALLS;
    if (atomic_fetch_add_explicit(&order_seen[t], 1, memory_order_relaxed) != i)
        atomic_store_explicit(&order_bad, 1, memory_order_relaxed);
}

static void *order_main(void *arg)
{
    struct order_arg *a = arg;
    for (int i = 0; i < ORDER_CALLS; i++) {
        a->o[i].value = a->id * ORDER_CALLS + i;
        a->f->call(&a->o[i].rh, cb_in_order);
        if (i % 100 == 0)
            sched_yield();   /* let the thread move between CPUs */
    }
    return NULL;
}

static void callbacks_keep_each_threads_order(const struct rcu_flavor *f, bool cpu_workers)
{
    if (cpu_workers)
        CHECK_EQ(f->create_cpu_workers(), 0);
    static struct order_arg a[ORDER_THREADS];
    pthread_t t[ORDER_THREADS];
    for (int i = 0; i < ORDER_THREADS; i++) {
        a[i].f = f;
        a[i].id = i;
        CHECK_EQ(pthread_create(&t[i], NULL, order_main, &a[i]), 0);
    }
    for (int i = 0; i < ORDER_THREADS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    f->barrier();
    for (int i = 0; i < ORDER_THREADS; i++)
        CHECK_EQ(atomic_load_explicit(&order_seen[i], memory_order_relaxed), ORDER_CALLS);
    CHECK_MSG(!atomic_load_explicit(&order_bad, memory_order_relaxed),
              "%s: a thread's callbacks ran out of order", f->name);
}

FERRY_TEST(memb_callbacks_keep_each_threads_order) { callbacks_keep_each_threads_order(&rcu_memb, false); }
FERRY_TEST(memb_cpu_workers_keep_each_threads_order) { callbacks_keep_each_threads_order(&rcu_memb, true); }
FERRY_TEST(bp_callbacks_keep_each_threads_order) { callbacks_keep_each_threads_order(&rcu_bp, false); }

/* barrier waits for callbacks on every worker: the default one (all its
 * queues), per-CPU ones and bound ones, queued by several threads. */
struct spread_arg {
    const struct rcu_flavor *f;
    ferry_rcu_worker *w;
    struct obj o[50];
};

static void *spread_main(void *arg)
{
    struct spread_arg *a = arg;
    if (a->w)
        CHECK_EQ(a->f->set_thread_worker(a->w), 0);
    for (int i = 0; i < 50; i++)
        a->f->call(&a->o[i].rh, cb_record);
    if (a->w)
        CHECK_EQ(a->f->set_thread_worker(NULL), 0);
    return NULL;
}

static void barrier_waits_for_every_worker(const struct rcu_flavor *f)
{
    static struct spread_arg a[6];
    ferry_rcu_worker *own[2];
    CHECK_EQ(f->worker_create(&own[0], -1), 0);
    CHECK_EQ(f->worker_create(&own[1], 0), 0);
    struct rcu_holder h;
    rcu_holder_start(&h, f, false);
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        a[i].f = f;
        a[i].w = i < 2 ? own[i] : NULL;
        if (i == 4)
            CHECK_EQ(f->create_cpu_workers(), 0);   /* threads 4 and 5 use them */
        CHECK_EQ(pthread_create(&t[i], NULL, spread_main, &a[i]), 0);
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    }
    /* All behind the holder. */
    struct rcu_watch w = { .what = "callbacks on every worker", .ran = &cb_n };
    rcu_gp_wait_blocked(f->in, &w);
    rcu_holder_stop(&h);
    f->barrier();
    CHECK_EQ(ran(), 6 * 50);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 50; j++)
            CHECK(atomic_load_explicit(&a[i].o[j].done, memory_order_acquire));
    CHECK_EQ(f->worker_destroy(own[0]), 0);
    CHECK_EQ(f->worker_destroy(own[1]), 0);
}

FERRY_TEST(memb_barrier_waits_for_every_worker) { barrier_waits_for_every_worker(&rcu_memb); }
FERRY_TEST(qsbr_barrier_waits_for_every_worker) { barrier_waits_for_every_worker(&rcu_qsbr); }
FERRY_TEST(bp_barrier_waits_for_every_worker) { barrier_waits_for_every_worker(&rcu_bp); }

/* ---- no allocation on the call path ---- */

static void cb_nothing(ferry_rcu_head *h)
{
    (void)h;
}

static void call_path_allocates_nothing(const struct rcu_flavor *f, bool cpu_workers)
{
    enum { N = 100000 };
    static ferry_rcu_head heads[N];
    ferry_rcu_worker *w = NULL;
    if (cpu_workers)
        CHECK_EQ(f->create_cpu_workers(), 0);
    else
        CHECK_EQ(f->worker_create(&w, -1), 0);
    /* Warm up: the default worker's thread, the exit key, TLS. */
    f->call(&heads[0], cb_nothing);
    CHECK_EQ(f->set_thread_worker(w), 0);
    f->call(&heads[1], cb_nothing);
    f->barrier();
    atomic_store_explicit(&alloc_armed, 1, memory_order_relaxed);
    for (int i = 0; i < N; i++)
        f->call(&heads[i], cb_nothing);
    f->barrier();
    atomic_store_explicit(&alloc_armed, 0, memory_order_relaxed);
    CHECK_EQ(atomic_load_explicit(&alloc_calls, memory_order_relaxed), 0);
    CHECK_EQ(f->set_thread_worker(NULL), 0);
    if (w)
        CHECK_EQ(f->worker_destroy(w), 0);
}

/* Under the sanitizers the count stays 0 (nothing is interposed): these
 * cases then only run the calls. */
FERRY_TEST(memb_call_path_allocates_nothing) { call_path_allocates_nothing(&rcu_memb, false); }
FERRY_TEST(qsbr_call_path_allocates_nothing) { call_path_allocates_nothing(&rcu_qsbr, true); }
FERRY_TEST(bp_call_path_allocates_nothing) { call_path_allocates_nothing(&rcu_bp, false); }
