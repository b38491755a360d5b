/* SPDX-License-Identifier: MIT */
/* rcu_sync torture: reader threads check the state in read-side sections
 * while updater threads enter and exit. Invariants, checked as they run:
 *  - after enter returns, no reader is inside a section in which it saw
 *    "idle" (`fast_inside` counts them; every updater checks it is 0 for
 *    the whole time it is inside);
 *  - a section that observed an updater inside (`active` > 0) sees "not
 *    idle" at every check, before and after that observation;
 *  - the state is not idle while an updater is inside.
 * Both flavors. */
#include <ferry/rcu_sync.h>
#include <ferry/rcu_qsbr.h>

#include <pthread.h>
#include <sched.h>

#include "test.h"

#define READERS 3
#define UPDATERS 2

struct flavor {
    int (*init)(ferry_rcu_sync *);
    void (*reg)(void), (*unreg)(void), (*lock)(void), (*unlock)(void), (*quiesce)(void);
};

static void m_lock(void) { ferry_rcu_read_lock(); }
static void m_unlock(void) { ferry_rcu_read_unlock(); }
static void m_nop(void) {}
static void q_lock(void) { ferry_qsbr_read_lock(); }
static void q_unlock(void) { ferry_qsbr_read_unlock(); }
static void q_quiesce(void) { ferry_qsbr_quiescent_state(); }

static const struct flavor memb = { ferry_rcu_sync_init, ferry_rcu_register_thread,
                                    ferry_rcu_unregister_thread, m_lock, m_unlock, m_nop };
static const struct flavor qsbr = { ferry_rcu_sync_init_qsbr, ferry_qsbr_register_thread,
                                    ferry_qsbr_unregister_thread, q_lock, q_unlock, q_quiesce };

static const struct flavor *fl;
static ferry_rcu_sync rs;
static FERRY_ATOMIC(long) fast_inside, active;
static FERRY_ATOMIC(int) stop;
static FERRY_ATOMIC(unsigned long) fast_sections, slow_sections, overlaps, entries, performed;
/* Set by readers as soon as each kind of section has happened: the
 * updaters go on past their rounds until the slow path and an overlap have
 * been seen, then stay out until the fast path has (a loaded machine may
 * not run a reader during a short update window, or may never return to
 * idle while updaters keep entering). Both for at most 60 s. */
static FERRY_ATOMIC(int) seen_fast, seen_slow, seen_overlap;

/* What needs updaters inside: the slow path and an overlap. */
static bool busy_seen(void)
{
    return atomic_load_explicit(&seen_slow, memory_order_relaxed) &&
           atomic_load_explicit(&seen_overlap, memory_order_relaxed);
}

static double seconds(void)
{
    struct timespec t = ferry_test_now();
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void spin(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        atomic_signal_fence(memory_order_seq_cst);
}

static void *reader(void *arg)
{
    uint64_t rnd = (uintptr_t)arg;
    fl->reg();
    unsigned long fast = 0, slow = 0, ov = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        fl->lock();
        bool i1 = ferry_rcu_sync_is_idle(&rs);
        if (i1)
            atomic_fetch_add_explicit(&fast_inside, 1, memory_order_seq_cst);
        spin((unsigned)(ferry_test_rand(&rnd) % 200));
        long a = atomic_load_explicit(&active, memory_order_seq_cst);
        spin((unsigned)(ferry_test_rand(&rnd) % 200));
        bool i2 = ferry_rcu_sync_is_idle(&rs);
        CHECK_MSG(!(a > 0 && (i1 || i2)), "a section that saw an updater inside saw idle (%d, %d)", i1, i2);
        if (i1)
            atomic_fetch_sub_explicit(&fast_inside, 1, memory_order_seq_cst);
        fl->unlock();
        fl->quiesce();
        fast += i1;
        slow += !i1;
        ov += a > 0;
        /* Relaxed: flags read only to decide whether to go on. */
        if (i1 && !atomic_load_explicit(&seen_fast, memory_order_relaxed))
            atomic_store_explicit(&seen_fast, 1, memory_order_relaxed);
        if (!i1 && !atomic_load_explicit(&seen_slow, memory_order_relaxed))
            atomic_store_explicit(&seen_slow, 1, memory_order_relaxed);
        if (a > 0 && !atomic_load_explicit(&seen_overlap, memory_order_relaxed))
            atomic_store_explicit(&seen_overlap, 1, memory_order_relaxed);
    }
    atomic_fetch_add(&fast_sections, fast);
    atomic_fetch_add(&slow_sections, slow);
    atomic_fetch_add(&overlaps, ov);
    fl->unreg();
    return NULL;
}

static void *updater(void *arg)
{
    uint64_t rnd = (uintptr_t)arg * 31;
    fl->reg();
    size_t rounds = ferry_test_scaled(600), r;
    double give_up = seconds() + 60;
    for (r = 0; r < rounds || (!busy_seen() && seconds() < give_up); r++) {
        CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
        atomic_fetch_add_explicit(&active, 1, memory_order_seq_cst);
        for (int k = 0; k < 4; k++) {
            CHECK_MSG(atomic_load_explicit(&fast_inside, memory_order_seq_cst) == 0,
                      "a reader that saw idle is still inside after enter returned");
            CHECK(!ferry_rcu_sync_is_idle(&rs));
            spin((unsigned)(ferry_test_rand(&rnd) % 500));
        }
        atomic_fetch_sub_explicit(&active, 1, memory_order_seq_cst);
        CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
        atomic_fetch_add(&entries, 1);
        fl->quiesce();
        /* Sometimes wait long enough for the return to idle, so that the
         * next enter must wait for a grace period again. */
        if (ferry_test_rand(&rnd) % 4 == 0)
            ferry_test_sleep_ms(1);
        else
            sched_yield();
    }
    atomic_fetch_add(&performed, r);
    /* The fast path needs the updaters out long enough for the deferred
     * return to idle: stay out until a reader has taken it. */
    while (!atomic_load_explicit(&seen_fast, memory_order_relaxed) && seconds() < give_up) {
        fl->quiesce();
        ferry_test_sleep_ms(1);
    }
    fl->unreg();
    return NULL;
}

static void run(const struct flavor *f)
{
    fl = f;
    CHECK_EQ(f->init(&rs), 0);
    pthread_t r[READERS], u[UPDATERS];
    for (int i = 0; i < READERS; i++)
        CHECK_EQ(pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < UPDATERS; i++)
        CHECK_EQ(pthread_create(&u[i], NULL, updater, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < UPDATERS; i++)
        pthread_join(u[i], NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(atomic_load(&fast_inside), 0);
    CHECK_EQ(atomic_load(&entries), atomic_load(&performed));
    CHECK(atomic_load(&performed) >= UPDATERS * ferry_test_scaled(600));
    /* Both paths and real overlaps happened, or the test proved nothing. */
    CHECK(atomic_load(&fast_sections) > 0);
    CHECK(atomic_load(&slow_sections) > 0);
    CHECK(atomic_load(&overlaps) > 0);
}

FERRY_TEST(memb_readers_and_updaters)
{
    run(&memb);
}

FERRY_TEST(qsbr_readers_and_updaters)
{
    run(&qsbr);
}
