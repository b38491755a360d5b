/* SPDX-License-Identifier: MIT */
/* The three RCU flavors behind one table of function pointers, for tests
 * that run the same scenario on each (tests/torture/rcu*.c,
 * tests/unit/rcu_fork.c, tests/unit/rcu_worker.c). QSBR's lock/unlock mark
 * nothing more than "online"; memb and bp have no quiescent states, and
 * their offline/online are no-ops. bp's register is a no-op (its first read
 * lock registers the thread); its unregister is the optional explicit one.
 * `in` is the library's own record of the flavor (src/rcu_common.h), for
 * tests that look at its grace-period state (rcu_gp_wait.h). */
#ifndef FERRY_TESTS_RCU_FLAVORS_H
#define FERRY_TESTS_RCU_FLAVORS_H

#include <ferry/rcu.h>
#include <ferry/rcu_bp.h>
#include <ferry/rcu_qsbr.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "rcu_common.h"
#include "test.h"

struct rcu_flavor {
    const char *name;
    bool qsbr;
    void (*reg)(void), (*unreg)(void), (*lock)(void), (*unlock)(void), (*quiesce)(void);
    void (*offline)(void), (*online)(void);
    void (*sync)(void), (*barrier)(void);
    void (*call)(ferry_rcu_head *, void (*)(ferry_rcu_head *));
    unsigned long (*start_poll)(void);
    bool (*poll)(unsigned long);
    unsigned long (*gp_count)(void);
    int (*worker_create)(ferry_rcu_worker **out, int cpu);
    int (*worker_destroy)(ferry_rcu_worker *w);
    int (*set_thread_worker)(ferry_rcu_worker *w);
    ferry_rcu_worker *(*get_thread_worker)(void);
    int (*create_cpu_workers)(void);
    ferry_rcu_worker *(*get_cpu_worker)(int cpu);
    struct ferry__rcu_flavor *in;
};

static inline void rcu_flavor_nop(void) {}

static inline void rcu_memb_lock(void) { ferry_rcu_read_lock(); }
static inline void rcu_memb_unlock(void) { ferry_rcu_read_unlock(); }
static inline void rcu_memb_sync(void) { ferry_rcu_synchronize(); }
static inline void rcu_memb_barrier(void) { ferry_rcu_barrier(); }
static inline void rcu_memb_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_rcu_call(h, fn); }

static inline void rcu_qsbr_lock(void) { ferry_qsbr_read_lock(); }
static inline void rcu_qsbr_unlock(void) { ferry_qsbr_read_unlock(); }
static inline void rcu_qsbr_quiesce(void) { ferry_qsbr_quiescent_state(); }
static inline void rcu_qsbr_offline(void) { ferry_qsbr_thread_offline(); }
static inline void rcu_qsbr_online(void) { ferry_qsbr_thread_online(); }
static inline void rcu_qsbr_sync(void) { ferry_qsbr_synchronize(); }
static inline void rcu_qsbr_barrier(void) { ferry_qsbr_barrier(); }
static inline void rcu_qsbr_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_qsbr_call(h, fn); }

static inline void rcu_bp_lock(void) { ferry_rcu_bp_read_lock(); }
static inline void rcu_bp_unlock(void) { ferry_rcu_bp_read_unlock(); }
static inline void rcu_bp_sync(void) { ferry_rcu_bp_synchronize(); }
static inline void rcu_bp_barrier(void) { ferry_rcu_bp_barrier(); }
static inline void rcu_bp_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_rcu_bp_call(h, fn); }

#define RCU_FLAVOR_WORKER_FNS(pfx)                                                       \
    pfx##_worker_create, pfx##_worker_destroy, pfx##_set_thread_worker,                   \
        pfx##_get_thread_worker, pfx##_create_cpu_workers, pfx##_get_cpu_worker

static const struct rcu_flavor rcu_memb = {
    "memb", false, ferry_rcu_register_thread, ferry_rcu_unregister_thread, rcu_memb_lock,
    rcu_memb_unlock, rcu_flavor_nop, rcu_flavor_nop, rcu_flavor_nop, rcu_memb_sync,
    rcu_memb_barrier, rcu_memb_call, ferry_rcu_start_poll, ferry_rcu_poll, ferry_rcu_gp_count,
    RCU_FLAVOR_WORKER_FNS(ferry_rcu), &ferry__rcu_memb,
};
static const struct rcu_flavor rcu_qsbr = {
    "qsbr", true, ferry_qsbr_register_thread, ferry_qsbr_unregister_thread, rcu_qsbr_lock,
    rcu_qsbr_unlock, rcu_qsbr_quiesce, rcu_qsbr_offline, rcu_qsbr_online, rcu_qsbr_sync,
    rcu_qsbr_barrier, rcu_qsbr_call, ferry_qsbr_start_poll, ferry_qsbr_poll, ferry_qsbr_gp_count,
    RCU_FLAVOR_WORKER_FNS(ferry_qsbr), &ferry__rcu_qsbr_flavor,
};
static const struct rcu_flavor rcu_bp = {
    "bp", false, rcu_flavor_nop, ferry_rcu_bp_unregister_thread, rcu_bp_lock, rcu_bp_unlock,
    rcu_flavor_nop, rcu_flavor_nop, rcu_flavor_nop, rcu_bp_sync, rcu_bp_barrier, rcu_bp_call,
    ferry_rcu_bp_start_poll, ferry_rcu_bp_poll, ferry_rcu_bp_gp_count,
    RCU_FLAVOR_WORKER_FNS(ferry_rcu_bp), &ferry__rcu_bp_flavor,
};

/* A reader thread that stays inside a read-side section (nested once)
 * until told to leave, then leaves it, or exits inside it (exit_inside;
 * for bp, whose exit destructor closes the section). */
struct rcu_holder {
    const struct rcu_flavor *f;
    pthread_t tid;
    bool exit_inside;
    FERRY_ATOMIC(int) in;
    FERRY_ATOMIC(int) release;
};

static inline void *rcu_holder_main(void *arg)
{
    struct rcu_holder *h = (struct rcu_holder *)arg;
    h->f->reg();
    h->f->lock();
    h->f->lock();
    atomic_store_explicit(&h->in, 1, memory_order_release);
    while (!atomic_load_explicit(&h->release, memory_order_acquire))
        usleep(1000);
    if (h->exit_inside)
        pthread_exit(NULL);
    h->f->unlock();
    h->f->unlock();
    h->f->unreg();
    return NULL;
}

/* Start the holder and wait until it is inside its section. */
static inline void rcu_holder_start(struct rcu_holder *h, const struct rcu_flavor *f,
                                    bool exit_inside)
{
    memset(h, 0, sizeof *h);
    h->f = f;
    h->exit_inside = exit_inside;
    CHECK_EQ(pthread_create(&h->tid, NULL, rcu_holder_main, h), 0);
    while (!atomic_load_explicit(&h->in, memory_order_acquire))
        usleep(100);
}

static inline void rcu_holder_stop(struct rcu_holder *h)
{
    atomic_store_explicit(&h->release, 1, memory_order_release);
    CHECK_EQ(pthread_join(h->tid, NULL), 0);
}

#endif
