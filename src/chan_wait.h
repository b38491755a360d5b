/* SPDX-License-Identifier: MIT */
/* The wait policy of the lock-free data paths (src/chan_wait.c): how long a
 * blocking call polls a buffer that is momentarily empty (a receive) or
 * full (a send) before it registers as a waiter and sleeps.
 *
 * Why poll. A call that registers as a waiter sends the other side's next
 * publication to the channel's lock to wake it, and a wake-up costs the
 * sleeper 2-20 us (measured in this project's 2-CPU KVM guest: 2.2 us when
 * the woken thread shares the waker's CPU, 18 us when it is on the other
 * one; docs/performance.md, "What flips batch 1") -- far longer than the
 * gap between two items in steady traffic. Registering on every momentary
 * gap made the channel hand items one by one to sleepers that found the
 * buffer empty again at once, a state that sustained itself. Polling for
 * about as long as a sleep would cost, and no longer, is the classic rule
 * for waiting on an event of unknown arrival: it never costs more than
 * twice what the better choice, made with hindsight, would have.
 *
 * How. Between two polls the thread calls sched_yield(): when the thread
 * it waits for shares its CPU, that thread runs; when it does not, the
 * yield returns at once and the poll is a plain re-check. (Not on a CPU
 * shared with a thread that keeps it for whole time slices: P2 below.) (Polling with
 * `pause` instead was measured slower with four threads per CPU: the
 * poller holds the CPU that the other side needs.)
 *
 * The budget of a poll phase is a number of polls: the wake cost over
 * the cost of a yield that returns at once, times the side's success
 * share. Counting polls rather than time is deliberate: a yield that ran
 * another thread for a while cost this thread nothing, and on one CPU the
 * other side runs exactly while we yield (a budget in time ran out there
 * while the other side worked, and the senders of a full ring went to
 * sleep one after another).
 *  - Both costs are measured, not configured (P1). A completer stamps the
 *    time in the channel just before it wakes a blocking op, and the
 *    waiter, if it slept, reads the stamp when it wakes; every poll times
 *    its yield, and yields shorter than four times the estimate (ones
 *    that did not run another thread for long) are samples of it. Each
 *    estimate is a process-wide moving average (1/8 per sample) of
 *    samples clamped to the bounds below. So the budget follows the
 *    machine: the 2-CPU VM's 18 us cross-CPU wake-up over its 0.3-0.6 us
 *    yield gives about 40 polls; a machine with cheap wake-ups polls less.
 *  - The success share is kept per channel and side: a poll phase that
 *    ends with progress counts as a success, one that runs out as a
 *    failure (a moving average, 1/8 per phase, of 0 or 256). A side whose
 *    polls keep failing -- the other side is idle, not between items --
 *    drops to a few polls per wait; a success brings it back.
 * A phase ends at its budget, at the call's deadline, when the channel
 * closes, or when the call must go to the lock anyway (a receive that
 * finds a sender blocked). A send that makes progress (part of a batch
 * went in) starts a new budget: a call polls at most one budget per push
 * that moved something, plus one. A send keeps polling without pushing
 * while another sender is blocked (it must not overtake it, I2): it need
 * not queue behind it at once.
 *
 * Who polls: blocking calls on the lock-free paths (chan_lf.c), before
 * they take the lock. Never a try call, never an async start (they go to
 * the lock at once), never a call whose deadline has passed. The locked
 * path does not poll (polling there means retaking the lock; a rendezvous
 * would have both sides poll and neither link).
 *
 * Contention. A fast path that loses a claim (another thread's
 * compare-and-swap on the same position word won) gives the CPU away once
 * before it retries: sched_yield(), which returns at once when nothing
 * else waits for the CPU (a syscall's worth of backoff, ~0.5 us) and
 * otherwise runs a thread that shares it -- often one of the channel's
 * other side, which makes progress instead of fighting for the line.
 * Measured with four producers and four consumers spread over two CPUs,
 * batch 1: no backoff 10-14 M items/s; this 24-66; a fixed pause loop
 * after each lost claim 38-72 at 6.4 us (longer was better still, up to
 * holding the CPU for a whole slice, which is what a constant tuned to one
 * machine does); on one CPU no claim is lost and nothing changes. With
 * more than two CPUs the winner most likely runs on another CPU and is
 * done in well under a microsecond, while a yield costs a system call
 * whether or not it runs anything: there a call's first lost claims spin
 * 1, 2, 4, ... 64 spin-wait hints (exponential backoff), and only later
 * ones yield, as crossbeam-channel and Concurrency Kit back off. (On the
 * 16-core machine bounded batch 1 with several threads fell to 0.67-1.04x
 * the code before the yield-only backoff, docs/performance.md "16 cores";
 * this spin backoff is the suspected fix, not yet measured there.) Code
 * under the channel's lock never backs off.
 *
 * Ordering: P1 the stamp and the averages are relaxed: they are estimates,
 * read and written racily on purpose (a lost update loses one sample).
 * P2 the share of long yields is per thread (thread-local): it describes
 * the CPU the thread runs on, not the channel.
 */
#ifndef FERRY_SRC_CHAN_WAIT_H
#define FERRY_SRC_CHAN_WAIT_H

#include <ferry/common.h>

#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "platform.h"

/* Clamp of a wake-cost sample, ns. MIN: below it polling is a few yields
 * at most. MAX: a sample above it is a woken thread that waited for a CPU
 * (oversubscribed), not a wake-up; polling longer than 100 us would hold
 * a CPU for a tenth of a scheduler tick. */
#define FERRY__WAKE_COST_MIN_NS 1000u
#define FERRY__WAKE_COST_MAX_NS 100000u
/* The estimate before the first sample: the 2-CPU VM's cross-CPU wake-up
 * (18 us), rounded. */
#define FERRY__WAKE_COST_INIT_NS 20000u
/* A sched_yield() that returns at once: the estimate before the first
 * sample (measured here: 0.3-0.6 us), and the clamp of a sample. */
#define FERRY__YIELD_COST_INIT_NS 500u
#define FERRY__YIELD_COST_MIN_NS 100u
#define FERRY__YIELD_COST_MAX_NS 5000u
/* Full success share. */
#define FERRY__POLL_SHARE_ONE 256u

/* One side's success share (in struct ferry_chan). Zeroed memory means
 * "never measured": it starts as full. */
struct ferry__poll_side {
    FERRY_ATOMIC(uint32_t) failures; /* FERRY__POLL_SHARE_ONE - share (P1) */
};

/* With more than two CPUs a poll phase first spins: this many polls, each
 * after FERRY__POLL_SPIN_PAUSES spin-wait hints (about 1 us each on the
 * 16-core machine), before its yield polls. There the thread being waited
 * for most likely runs on another CPU, and a pause reacts sooner and costs
 * less than a sched_yield() system call per poll (16 cores, batch 1, one
 * producer and one consumer: yield polls alone moved half the items of the
 * spinning waits of 0.1). With two CPUs or fewer there is no spin phase:
 * spinning burns the time slice the other side needs. */
#define FERRY__POLL_SPINS 64u
#define FERRY__POLL_SPIN_PAUSES 32u

/* A CPU shared with a busy thread (P2). sched_yield() hands the CPU to
 * any thread that is ready to run there, and a thread that does not give
 * it back (a busy thread of another program, or one of the application's
 * own doing real work) keeps it for a whole time slice -- milliseconds,
 * not the microseconds a poll is worth. Measured on the 2-CPU machine
 * with a busy loop on the consumer's CPU and the producer alone on the
 * other (spsc, batch 1, capacity 4096): yield polls moved 1.1-4.7 M
 * items/s, each yield losing the rest of the consumer's slice while the
 * ring ran dry. So each thread keeps the share of its yields that took
 * longer than FERRY__HOG_SLICE_NS (thread-local: it describes the thread's
 * CPU; a moving average, 1/8 per yield, of 0 or FERRY__POLL_SHARE_ONE;
 * channel threads that poll give the CPU back within microseconds, so
 * their yields do not count). While the share is FERRY__HOGGED_SHARE or
 * more (one such yield lately), a poll phase with two CPUs or fewer does
 * not yield at all: it spins for at most FERRY__HOGGED_SPIN_NS (the other
 * side, if it runs on the other CPU, publishes within a microsecond) and
 * then sleeps, to be woken by the other side's next publication (22-36 M
 * items/s in the case above). Any phase also ends after a yield that long
 * unless that poll made progress. A phase that spins in vain decays the
 * share by 1/32, so that once the busy thread is gone the phases go back
 * to yielding, and a short yield brings the share down. (Spinning on every
 * phase instead cost 20-25% when both sides shared one CPU, with the ring
 * of capacity 1024 at batch 16 and 256.) */
#define FERRY__HOG_SLICE_NS 500000u
#define FERRY__HOGGED_SHARE (FERRY__POLL_SHARE_ONE / 8)
#define FERRY__HOGGED_SPIN_NS 4000u

/* One call's poll phase, on its stack. */
struct ferry__poller {
    uint32_t budget;   /* polls per budget */
    uint32_t left;     /* polls left in this budget */
    uint32_t spins;    /* spin polls left (more than two CPUs) */
    uint64_t spin_end; /* ns: a hogged CPU's spin phase ends (P2), or 0 */
    uint64_t deadline; /* ns: the call's deadline, or UINT64_MAX */
};

/* Whether more than two CPUs are online (read once per process). */
bool ferry__many_cpus(void);
/* Tests: act as if more than two CPUs were online (1) or not (0), or go
 * back to asking the system (-1). */
void ferry__set_many_cpus(int v);

/* Start a poll phase for a blocking call (deadline NULL or valid). False:
 * do not poll (the deadline has passed, or polling is off for tests). */
bool ferry__poll_begin(struct ferry__poller *pl, struct ferry__poll_side *side, const struct timespec *deadline);

/* Yield the CPU, then: may the caller poll once more? */
bool ferry__poll_next(struct ferry__poller *pl);

/* The call made progress: a new budget (still within the deadline). */
void ferry__poll_progress(struct ferry__poller *pl);

/* The phase is over: it ended with progress (success) or not. */
void ferry__poll_end(struct ferry__poll_side *side, bool success);

/* P1: a completer is about to wake blocking ops of the channel whose stamp
 * is *stamp; a waiter that slept since `slept_at` (ns) has just woken. */
static inline void ferry__wake_stamp(FERRY_ATOMIC(uint64_t) *stamp)
{
    atomic_store_explicit(stamp, ferry__now_ns(), memory_order_relaxed); /* P1 */
}
void ferry__wake_sample(FERRY_ATOMIC(uint64_t) *stamp, uint64_t slept_at);

/* The current estimates, ns (for tests and statistics). */
uint64_t ferry__wake_cost_ns(void);
uint64_t ferry__yield_cost_ns(void);
/* The calling thread's share of long yields (P2), out of
 * FERRY__POLL_SHARE_ONE; tests may set it. */
uint32_t ferry__hogged_share(void);
void ferry__set_hogged_share(uint32_t share);

/* Spin steps of a lost claim's backoff with more than two CPUs: the s-th
 * lost claim of a call (s from 0) waits 2^s spin-wait hints while s is
 * below this (1 to 64 hints), and yields from then on (see "Contention"). */
#define FERRY__BACKOFF_SPINS 7u

/* A lost claim on a fast path (see "Contention" above). *lost counts the
 * call's lost claims so far; start it at 0. */
static inline void ferry__contention_backoff(unsigned *lost)
{
    unsigned s = (*lost)++;
    if (s < FERRY__BACKOFF_SPINS && ferry__many_cpus()) {
        for (unsigned i = 1u << s; i > 0; i--)
            ferry__cpu_relax();
        return;
    }
    sched_yield();
}

/* Tests that need every wait to reach the sleep path (lost-wakeup
 * detectors) turn polling off for the whole process; true turns it on. */
void ferry__poll_enable(bool on);

#endif /* FERRY_SRC_CHAN_WAIT_H */
