/* SPDX-License-Identifier: MIT */
/* RCU torture for the synchronize quick path: readers keep registering and
 * unregistering (bp: short-lived threads that never register, so their
 * first read registers them and their exit releases them), so that the
 * registry is often empty and synchronize often returns at once, while
 * updaters replace a shared object, synchronize, poison and free the old
 * one. A reader that registers and reads during an updater's quick check
 * must still never see the freed object: readers check the object's magic
 * (POISON once reclaimed; under ASan the free itself is caught). Both the
 * quick and the full path must have been taken (checked at the end; the run is extended until
 * both were, within a limit). */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "rcu_common.h"
#include "rcu_flavors.h"
#include "test.h"

#define MAGIC 0x600dfeedul
/* An updater's keys start at its index << KEY_SHIFT: each its own range. */
#define KEY_SHIFT (ULONG_MAX > 0xffffffffUL ? 40 : 24)
/* The pattern in an unsigned long: 0xdeadbeef on ILP32 targets such as i386. */
#define POISON ((unsigned long)0xdeadbeefdeadbeefull)
#define READERS 3
#define UPDATERS 2

struct obj {
    unsigned long magic;
    unsigned long check;
};

static const struct rcu_flavor *fl;
static struct ferry__rcu_flavor *impl;
static struct obj *shared;
static FERRY_ATOMIC(int) stop;
static FERRY_ATOMIC(unsigned long) updates, reads, registrations;

static struct obj *obj_new(unsigned long v)
{
    struct obj *o = malloc(sizeof *o);
    CHECK(o != NULL);
    __atomic_store_n(&o->magic, MAGIC, __ATOMIC_RELAXED);
    o->check = v ^ MAGIC;
    return o;
}

static void read_some(uint64_t *rnd)
{
    unsigned n = 1 + (unsigned)(ferry_test_rand(rnd) & 7);
    for (unsigned i = 0; i < n; i++) {
        fl->lock();
        struct obj *o = ferry_rcu_dereference(shared);
        unsigned long m = __atomic_load_n(&o->magic, __ATOMIC_RELAXED);
        CHECK_MSG(m != POISON, "%s: reader saw a reclaimed object", fl->name);
        CHECK_MSG(m == MAGIC, "%s: reader saw a broken object", fl->name);
        fl->unlock();
        fl->quiesce();
    }
    atomic_fetch_add_explicit(&reads, n, memory_order_relaxed);
}

/* memb and qsbr: register, read a little, unregister, sometimes pause (so
 * that no reader is registered for a while). */
static void *churn_reader(void *arg)
{
    uint64_t rnd = (uintptr_t)arg * 31 + 7;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        fl->reg();
        atomic_fetch_add_explicit(&registrations, 1, memory_order_relaxed);
        unsigned k = 1 + (unsigned)(ferry_test_rand(&rnd) & 3);
        for (unsigned i = 0; i < k; i++) {
            read_some(&rnd);
            sched_yield();   /* registered while others run */
        }
        fl->unreg();
        if (ferry_test_rand(&rnd) & 1)
            sched_yield();   /* unregistered while others run */
    }
    return NULL;
}

/* bp: every round is a new thread whose first read registers it. */
static void *bp_once(void *arg)
{
    uint64_t rnd = (uintptr_t)arg;
    for (unsigned i = 0; i < 8; i++) {
        read_some(&rnd);
        sched_yield();   /* registered while others run */
    }
    return NULL;
}

static void *bp_churn_reader(void *arg)
{
    uint64_t rnd = (uintptr_t)arg * 31 + 7;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, bp_once, (void *)(uintptr_t)ferry_test_rand(&rnd)), 0);
        CHECK_EQ(pthread_join(t, NULL), 0);
        atomic_fetch_add_explicit(&registrations, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *updater(void *arg)
{
    unsigned long v = (unsigned long)(uintptr_t)arg << KEY_SHIFT;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        struct obj *fresh = obj_new(++v);
        struct obj *old = ferry_rcu_xchg_pointer(&shared, fresh);
        fl->sync();
        __atomic_store_n(&old->magic, POISON, __ATOMIC_RELAXED);
        free(old);
        atomic_fetch_add_explicit(&updates, 1, memory_order_relaxed);
        if ((v & 3) == 0)
            sched_yield();   /* quick updates would starve the readers */
    }
    return NULL;
}

static void torture(const struct rcu_flavor *f, struct ferry__rcu_flavor *fi, long ms)
{
    fl = f;
    impl = fi;
    shared = obj_new(0);
    unsigned long quick0 = atomic_load_explicit(&fi->quick_gps, memory_order_relaxed);
    unsigned long full0 = atomic_load_explicit(&fi->gp_seq, memory_order_relaxed) / 2;
    pthread_t r[READERS], u[UPDATERS];
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&r[i], NULL, f == &rcu_bp ? bp_churn_reader : churn_reader,
                                (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < UPDATERS; i++)
        CHECK_EQ(pthread_create(&u[i], NULL, updater, (void *)(uintptr_t)(i + 1)), 0);
    /* Run for ms (scaled), and on until both paths were taken: which one an
     * update takes depends on scheduling (under a sanitizer on a loaded
     * machine the registry may stay busy for a long time), so the run is
     * extended rather than the check weakened -- up to a generous limit. */
    long slept = 0, least = (long)ferry_test_scaled((size_t)ms), most = 60000;
    for (;;) {
        ferry_test_sleep_ms(50);
        slept += 50;
        bool both = atomic_load_explicit(&fi->quick_gps, memory_order_relaxed) != quick0 &&
                    atomic_load_explicit(&fi->gp_seq, memory_order_relaxed) / 2 != full0;
        if ((slept >= least && both) || slept >= most)
            break;
    }
    atomic_store_explicit(&stop, 1, memory_order_relaxed);
    for (int i = 0; i < UPDATERS; i++)
        CHECK_EQ(pthread_join(u[i], NULL), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_join(r[i], NULL), 0);
    free(shared);
    unsigned long quick = atomic_load_explicit(&fi->quick_gps, memory_order_relaxed) - quick0;
    unsigned long full = atomic_load_explicit(&fi->gp_seq, memory_order_relaxed) / 2 - full0;
    printf("%s: %lu updates (%lu quick, %lu full grace periods), %lu reads, %lu registrations\n",
           f->name, atomic_load_explicit(&updates, memory_order_relaxed), quick, full,
           atomic_load_explicit(&reads, memory_order_relaxed),
           atomic_load_explicit(&registrations, memory_order_relaxed));
    fflush(stdout);
    CHECK_MSG(quick > 0, "%s: the quick path was never taken", f->name);
    CHECK_MSG(full > 0, "%s: no full grace period ran", f->name);
    CHECK(atomic_load_explicit(&reads, memory_order_relaxed) > 0);
}

/* About 5 s in all in the release build. */
FERRY_TEST(memb_registration_churn) { torture(&rcu_memb, &ferry__rcu_memb, 1500); }
FERRY_TEST(qsbr_registration_churn) { torture(&rcu_qsbr, &ferry__rcu_qsbr_flavor, 1500); }
FERRY_TEST(bp_thread_churn) { torture(&rcu_bp, &ferry__rcu_bp_flavor, 1500); }
