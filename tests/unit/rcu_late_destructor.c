/* SPDX-License-Identifier: MIT */
/* A thread that registers again (or binds to a worker again) from another
 * key's thread-specific-data destructor, after ferry's exit destructor has
 * unregistered it. The C library runs destructors in at most
 * PTHREAD_DESTRUCTOR_ITERATIONS rounds, and ferry's runs in all but the
 * last (left to sanitizer runtimes, see src/rcu_common.c): a registration
 * in an earlier round is undone by ferry's destructor in the next one; one
 * after ferry's destructor in its last round would outlive the thread, so
 * it is refused
 * (memb and QSBR registration abort, bp read_lock aborts,
 * ferry_rcu_bp_register_thread and set_thread_worker return -ESRCH). It used
 * to succeed: the thread exited registered, its record (in its
 * thread-local storage, for memb and QSBR) left in the registry for every
 * later grace period to scan, and counted as a reader for ever. */
#include <ferry/rcu.h>
#include <ferry/rcu_bp.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>

#include "rcu_common.h"
#include "test.h"

/* The rounds ferry's destructor runs in. */
#define ROUNDS (PTHREAD_DESTRUCTOR_ITERATIONS - 1)

/* What the late destructor does in each round it runs in. */
enum what { MEMB, QSBR, BP_READ, BP_REGISTER, BIND };

struct late {
    enum what what;
    int last_round;              /* registers in rounds 1..last_round */
    ferry_rcu_worker *worker;    /* BIND */
    int rc[PTHREAD_DESTRUCTOR_ITERATIONS + 1];   /* BP_REGISTER, BIND: per round */
};

static pthread_key_t late_key;
static __thread int round_no;

static void late_destructor(void *v)
{
    struct late *l = v;
    int k = ++round_no;
    if (k > l->last_round)
        return;
    switch (l->what) {
    case MEMB:
        ferry_rcu_register_thread();
        ferry_rcu_read_lock();
        ferry_rcu_read_unlock();
        break;          /* left registered: ferry's next round undoes it */
    case QSBR:
        ferry_qsbr_register_thread();
        ferry_qsbr_quiescent_state();
        break;
    case BP_READ:
        ferry_rcu_bp_read_lock();
        ferry_rcu_bp_read_unlock();
        break;
    case BP_REGISTER:
        l->rc[k] = ferry_rcu_bp_register_thread();
        break;
    case BIND:
        l->rc[k] = ferry_rcu_set_thread_worker(l->worker);
        break;
    }
    /* Come again in the next round (not in the C library's last, where a
     * sanitizer's runtime has torn the thread down before us). */
    if (k < l->last_round)
        CHECK_EQ(pthread_setspecific(late_key, l), 0);
}

static void *thread_main(void *arg)
{
    struct late *l = arg;
    /* Registered (and so armed) before it begins to exit: ferry's
     * destructor runs in every round from the first. */
    switch (l->what) {
    case MEMB:
        ferry_rcu_register_thread();
        break;
    case QSBR:
        ferry_qsbr_register_thread();
        break;
    case BP_READ:
    case BP_REGISTER:
        CHECK_EQ(ferry_rcu_bp_register_thread(), 0);
        break;
    case BIND:
        CHECK_EQ(ferry_rcu_set_thread_worker(l->worker), 0);
        break;
    }
    CHECK_EQ(pthread_setspecific(late_key, l), 0);
    return NULL;
}

static unsigned long registered(struct ferry__rcu_flavor *f)
{
    ferry_mutex_lock(&f->registry_lock);
    unsigned long n = ferry_list_count(&f->registry);
    ferry_mutex_unlock(&f->registry_lock);
    return n;
}

/* Runs a thread whose late destructor does l->what in rounds
 * 1..l->last_round, and checks that it left nothing registered in f. */
static void run(struct ferry__rcu_flavor *f, struct late *l)
{
    /* ferry's key first, so that its destructor runs before the late one
     * in each round (a registration and unregistration create it). */
    if (f == &ferry__rcu_memb) {
        ferry_rcu_register_thread();
        ferry_rcu_unregister_thread();
    } else if (f == &ferry__rcu_qsbr_flavor) {
        ferry_qsbr_register_thread();
        ferry_qsbr_unregister_thread();
    } else {
        CHECK_EQ(ferry_rcu_bp_register_thread(), 0);
        ferry_rcu_bp_unregister_thread();
    }
    CHECK_EQ(pthread_key_create(&late_key, late_destructor), 0);
    unsigned long n0 = registered(f);
    /* Relaxed: a count; the thread's changes are joined below. */
    unsigned long a0 = atomic_load_explicit(&f->active, memory_order_relaxed);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, thread_main, l), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(pthread_key_delete(late_key), 0);
    if (l->what == BIND)   /* the worker's own thread registers when it starts */
        return;
    CHECK_MSG(registered(f) == n0, "%s: %lu readers registered after the thread exited, %lu before",
              f->name, registered(f), n0);
    CHECK_EQ(atomic_load_explicit(&f->active, memory_order_relaxed), a0);
}

/* Registrations in every round but the last are undone by ferry. */
FERRY_TEST(memb_registration_in_destructor_rounds_is_undone)
{
    struct late l = { .what = MEMB, .last_round = ROUNDS - 1 };
    run(&ferry__rcu_memb, &l);
    ferry_rcu_synchronize();
}

FERRY_TEST(qsbr_registration_in_destructor_rounds_is_undone)
{
    struct late l = { .what = QSBR, .last_round = ROUNDS - 1 };
    run(&ferry__rcu_qsbr_flavor, &l);
    ferry_qsbr_synchronize();
}

FERRY_TEST(bp_read_in_destructor_rounds_is_undone)
{
    struct late l = { .what = BP_READ, .last_round = ROUNDS - 1 };
    run(&ferry__rcu_bp_flavor, &l);
    ferry_rcu_bp_synchronize();
}

/* In ferry's last round, after its destructor: refused. The late
 * destructor would go on to the C library's last round, where a
 * registration used to outlive the thread (the check after the join). */
FERRY_DEATH_TEST(memb_registration_after_last_destructor_round_aborts,
                 "ferry_rcu_register_thread: the thread is exiting")
{
    struct late l = { .what = MEMB, .last_round = PTHREAD_DESTRUCTOR_ITERATIONS };
    run(&ferry__rcu_memb, &l);
}

FERRY_DEATH_TEST(qsbr_registration_after_last_destructor_round_aborts,
                 "ferry_qsbr_register_thread: the thread is exiting")
{
    struct late l = { .what = QSBR, .last_round = PTHREAD_DESTRUCTOR_ITERATIONS };
    run(&ferry__rcu_qsbr_flavor, &l);
}

FERRY_DEATH_TEST(bp_read_after_last_destructor_round_aborts,
                 "ferry_rcu_bp_read_lock: cannot register the thread (the thread is exiting")
{
    struct late l = { .what = BP_READ, .last_round = PTHREAD_DESTRUCTOR_ITERATIONS };
    run(&ferry__rcu_bp_flavor, &l);
}

FERRY_TEST(bp_register_after_last_destructor_round_fails)
{
    struct late l = { .what = BP_REGISTER, .last_round = ROUNDS };
    run(&ferry__rcu_bp_flavor, &l);
    for (int k = 1; k < ROUNDS; k++)
        CHECK_EQ(l.rc[k], 0);
    CHECK_EQ(l.rc[ROUNDS], -ESRCH);
    ferry_rcu_bp_synchronize();
}

/* A binding would keep the worker busy for ever (destroy: -EBUSY). */
FERRY_TEST(bind_after_last_destructor_round_fails)
{
    ferry_rcu_worker *w;
    CHECK_EQ(ferry_rcu_worker_create(&w, -1), 0);
    struct late l = { .what = BIND, .last_round = ROUNDS, .worker = w };
    run(&ferry__rcu_memb, &l);
    for (int k = 1; k < ROUNDS; k++)
        CHECK_EQ(l.rc[k], 0);
    CHECK_EQ(l.rc[ROUNDS], -ESRCH);
    CHECK_EQ(ferry_rcu_worker_destroy(w), 0);
}
