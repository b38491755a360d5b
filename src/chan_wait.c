/* SPDX-License-Identifier: MIT */
/* The wait policy of the lock-free data paths: the poll phase before a
 * blocking call registers as a waiter, its budget, and the measured wake
 * cost behind it. The reasons and the rule P1 are in chan_wait.h. */
#include "chan_wait.h"

#include <sched.h>
#include <unistd.h>

/* The process-wide estimates, ns (P1): a wake-up, and a sched_yield()
 * that returns at once (nothing else to run on the CPU). */
static FERRY_ATOMIC(uint32_t) wake_cost = FERRY__WAKE_COST_INIT_NS;
static FERRY_ATOMIC(uint32_t) yield_cost = FERRY__YIELD_COST_INIT_NS;
/* Tests may turn polling off (P1: read relaxed, set before the threads
 * that must see it start). */
static FERRY_ATOMIC(int) poll_off;
/* This thread's share of yields that took a time slice (P2). */
static FERRY_TLS uint32_t hogged;

uint32_t ferry__hogged_share(void) { return hogged; }
void ferry__set_hogged_share(uint32_t share) { hogged = share; }

uint64_t ferry__wake_cost_ns(void) { return atomic_load_explicit(&wake_cost, memory_order_relaxed); }
uint64_t ferry__yield_cost_ns(void) { return atomic_load_explicit(&yield_cost, memory_order_relaxed); }

void ferry__poll_enable(bool on) { atomic_store_explicit(&poll_off, !on, memory_order_relaxed); }

/* Fold sample s (clamped to [lo, hi]) into the moving average *avg. */
static void average(FERRY_ATOMIC(uint32_t) *avg, uint64_t s, uint64_t lo, uint64_t hi)
{
    s = s < lo ? lo : s > hi ? hi : s;
    int64_t v = atomic_load_explicit(avg, memory_order_relaxed); /* P1 */
    v += ((int64_t)s - v) / 8;
    atomic_store_explicit(avg, (uint32_t)v, memory_order_relaxed);
}

void ferry__wake_sample(FERRY_ATOMIC(uint64_t) *stamp, uint64_t slept_at)
{
    uint64_t woken = atomic_load_explicit(stamp, memory_order_relaxed); /* P1 */
    if (woken < slept_at)
        return; /* the stamp of an earlier wake: ours is not stamped yet */
    uint64_t now = ferry__now_ns();
    if (now >= woken)
        average(&wake_cost, now - woken, FERRY__WAKE_COST_MIN_NS, FERRY__WAKE_COST_MAX_NS);
}

bool ferry__poll_begin(struct ferry__poller *pl, struct ferry__poll_side *side, const struct timespec *deadline)
{
    if (atomic_load_explicit(&poll_off, memory_order_relaxed)) /* P1 */
        return false;
    uint32_t failures = atomic_load_explicit(&side->failures, memory_order_relaxed); /* P1 */
    if (failures > FERRY__POLL_SHARE_ONE)
        failures = FERRY__POLL_SHARE_ONE;
    uint64_t budget = ferry__wake_cost_ns() * (FERRY__POLL_SHARE_ONE - failures) / FERRY__POLL_SHARE_ONE;
    pl->budget = (uint32_t)(budget / ferry__yield_cost_ns()) + 1;
    pl->deadline = UINT64_MAX;
    if (deadline) {
        if (deadline->tv_sec < 0)
            return false;
        pl->deadline = ferry__ts_ns(*deadline);
        if (ferry__now_ns() >= pl->deadline)
            return false;
    }
    pl->left = pl->budget;
    pl->spin_end = 0;
    pl->spins = 0;
    if (ferry__many_cpus()) {
        pl->spins = FERRY__POLL_SPINS;
    } else if (hogged >= FERRY__HOGGED_SHARE) { /* P2: spin briefly, never yield */
        pl->spin_end = ferry__now_ns() + (budget < FERRY__HOGGED_SPIN_NS ? budget : FERRY__HOGGED_SPIN_NS) + 1;
        pl->left = 0;
    }
    return true;
}

static FERRY_ATOMIC(int) many_cpus = -1; /* relaxed: every thread computes the same value */

void ferry__set_many_cpus(int v) { atomic_store_explicit(&many_cpus, v < 0 ? -1 : v != 0, memory_order_relaxed); }

bool ferry__many_cpus(void)
{
    int v = atomic_load_explicit(&many_cpus, memory_order_relaxed);
    if (v < 0) {
        v = sysconf(_SC_NPROCESSORS_ONLN) > 2;
        atomic_store_explicit(&many_cpus, v, memory_order_relaxed);
    }
    return v;
}

bool ferry__poll_next(struct ferry__poller *pl)
{
    if (pl->spin_end != 0) { /* P2 */
        for (unsigned i = 0; i < FERRY__POLL_SPIN_PAUSES; i++)
            ferry__cpu_relax();
        uint64_t now = ferry__now_ns();
        if (now < pl->spin_end && now < pl->deadline)
            return true;
        hogged -= hogged / 32; /* spun in vain: perhaps the busy thread is gone */
        return false;
    }
    if (pl->spins > 0) {
        pl->spins--;
        for (unsigned i = 0; i < FERRY__POLL_SPIN_PAUSES; i++)
            ferry__cpu_relax();
        return pl->deadline == UINT64_MAX || ferry__now_ns() < pl->deadline;
    }
    if (pl->left == 0)
        return false;
    pl->left--;
    uint64_t before = ferry__now_ns();
    sched_yield();
    uint64_t after = ferry__now_ns();
    /* A yield that took long ran other threads: it is not a sample of
     * the yield itself (nor a poll that burnt the CPU). One that took a
     * time slice (FERRY__HOG_SLICE_NS) is a sample of a hogged CPU (P2),
     * and the phase ends after this poll unless it makes progress. */
    bool slice = after - before > FERRY__HOG_SLICE_NS;
    if (after - before < 4 * ferry__yield_cost_ns())
        average(&yield_cost, after - before, FERRY__YIELD_COST_MIN_NS, FERRY__YIELD_COST_MAX_NS);
    hogged += ((int32_t)(slice ? FERRY__POLL_SHARE_ONE : 0) - (int32_t)hogged) / 8;
    if (slice)
        pl->left = 0;
    return after < pl->deadline;
}

void ferry__poll_progress(struct ferry__poller *pl) { pl->left = pl->budget; }

void ferry__poll_end(struct ferry__poll_side *side, bool success)
{
    int64_t f = atomic_load_explicit(&side->failures, memory_order_relaxed); /* P1 */
    f += ((success ? 0 : (int64_t)FERRY__POLL_SHARE_ONE) - f) / 8;
    atomic_store_explicit(&side->failures, (uint32_t)f, memory_order_relaxed);
}
