/* SPDX-License-Identifier: MIT */
/* The wait policy of the lock-free paths (src/chan_wait.h): who polls
 * before sleeping and who never does, deadlines, the bound on polls, the
 * share that shrinks when polls keep failing, closing and releasing while
 * the other side polls.
 *
 * sched_yield is interposed (this program defines it; the library, linked
 * in statically, calls it) and counted per thread: a poll is one yield. */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chan_test.h"
#include "chan_wait.h"

static _Thread_local long yields;
/* Act as a CPU shared with a busy thread: each yield of this thread takes
 * this long (us; 0 = a plain yield). */
static _Thread_local unsigned yield_sleep_us;

int sched_yield(void)
{
    yields++;
    if (yield_sleep_us)
        return usleep(yield_sleep_us);
    return (int)syscall(SYS_sched_yield);
}

/* The most polls one poll phase may make: its budget bound (chan_wait.h),
 * plus the first poll. */
static long poll_bound(void)
{
    return (long)(FERRY__WAKE_COST_MAX_NS / FERRY__YIELD_COST_MIN_NS) + 2;
}

static void open_lf(size_t cap, unsigned levels, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .levels = levels};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

static void fill(ferry_tx *tx, size_t cap)
{
    long v = 7;
    for (size_t i = 0; i < cap; i++)
        CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
}

static void nop_wake(void *ctx) { (void)ctx; }

FERRY_TEST(poll_try_calls_never_yield)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    long v[4];
    long before = yields;
    CHECK_EQ(ferry_try_recv(rx, v, 1), -EAGAIN); /* empty */
    fill(tx, 4);
    CHECK_EQ(ferry_try_send(tx, v, 1), -EAGAIN); /* full */
    CHECK_EQ(yields, before);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(poll_async_starts_never_yield)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    long v[4] = {1, 2, 3, 4};
    ferry_op op;
    ferry_waker w = {nop_wake, NULL};
    long before = yields;
    CHECK_EQ(ferry_recv_start(rx, &op, v, 1, w), -EINPROGRESS); /* empty: linked at once */
    CHECK_EQ(ferry_op_cancel(&op), 0);
    fill(tx, 4);
    CHECK_EQ(ferry_send_start(tx, &op, v, 2, w), -EINPROGRESS); /* full: linked at once */
    CHECK_EQ(ferry_op_cancel(&op), 0);
    CHECK_EQ(yields, before);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(poll_past_deadline_never_yields)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    long v[4];
    struct timespec past = {0, 0}, long_past = {-5, 0};
    long before = yields;
    CHECK_EQ(ferry_recv_until(rx, v, 1, &past), -ETIMEDOUT);
    CHECK_EQ(ferry_recv_until(rx, v, 1, &long_past), -ETIMEDOUT);
    fill(tx, 4);
    CHECK_EQ(ferry_send_until(tx, v, 1, &past), -ETIMEDOUT);
    CHECK_EQ(yields, before);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* A deadline inside the poll phase ends it: the call returns at the
 * deadline, not after the budget and a sleep. */
FERRY_TEST(poll_respects_deadline)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    long v[4];
    for (long ms = 0; ms <= 4; ms += 2) {
        struct timespec dl = ferry_test_deadline_ms(ms);
        long before = yields;
        CHECK_EQ(ferry_recv_until(rx, v, 1, &dl), -ETIMEDOUT);
        long late = (long)(ferry__now_ns() - ferry__ts_ns(dl));
        CHECK_MSG(late >= 0 && late < FERRY_TEST_LATE_NS, "returned %ld ns after the deadline", late);
        CHECK(yields - before <= poll_bound());
    }
    fill(tx, 4);
    struct timespec dl = ferry_test_deadline_ms(3);
    CHECK_EQ(ferry_send_until(tx, v, 1, &dl), -ETIMEDOUT);
    CHECK(ferry__now_ns() >= ferry__ts_ns(dl));
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

struct waiter {
    ferry_tx *tx;
    ferry_rx *rx;
    pthread_t t;
    long yields;
    ssize_t r;
    long buf[4];
};

static void *blocking_recv(void *arg)
{
    struct waiter *w = arg;
    w->r = ferry_recv(w->rx, w->buf, 1);
    w->yields = yields;
    return NULL;
}

static void *blocking_send(void *arg)
{
    struct waiter *w = arg;
    long v[3] = {1, 2, 3};
    w->r = ferry_send(w->tx, v, 3);
    w->yields = yields;
    return NULL;
}

/* A blocking receive on an empty ring polls (a bounded number of times),
 * then sleeps, and is woken by the next send; the wake feeds the wake-cost
 * estimate, which stays within its bounds. */
static void poll_then_sleep(void *(*receive)(void *), long v)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    struct waiter w = {.rx = rx};
    pthread_create(&w.t, NULL, receive, &w);
    wait_blocked(rx, 1, 0);
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    pthread_join(w.t, NULL);
    CHECK_EQ(w.r, 1);
    CHECK_EQ(w.buf[0], v);
    CHECK_MSG(w.yields >= 1 && w.yields <= poll_bound(), "%ld polls before sleeping", w.yields);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(poll_then_sleep_bounded)
{
    poll_then_sleep(blocking_recv, 42);
    CHECK(ferry__wake_cost_ns() >= FERRY__WAKE_COST_MIN_NS && ferry__wake_cost_ns() <= FERRY__WAKE_COST_MAX_NS);
    CHECK(ferry__yield_cost_ns() >= FERRY__YIELD_COST_MIN_NS && ferry__yield_cost_ns() <= FERRY__YIELD_COST_MAX_NS);
}

/* Polls that keep failing (the other side is idle) shrink the side's
 * share, down to a few polls but never none; successes bring it back. */
FERRY_TEST(poll_share_shrinks_when_polls_fail)
{
    struct ferry__poll_side side = {0}; /* zeroed: full share */
    struct ferry__poller pl;
    CHECK(ferry__poll_begin(&pl, &side, NULL));
    uint32_t full = pl.budget;
    CHECK_EQ(full, ferry__wake_cost_ns() / ferry__yield_cost_ns() + 1);
    for (int i = 0; i < 24; i++)
        ferry__poll_end(&side, false);
    CHECK(ferry__poll_begin(&pl, &side, NULL));
    uint32_t low = pl.budget;
    CHECK_MSG(low >= 1 && low < full / 4, "budget %u after 24 failures (full %u)", low, full);
    for (int i = 0; i < 24; i++)
        ferry__poll_end(&side, true);
    CHECK(ferry__poll_begin(&pl, &side, NULL));
    CHECK_MSG(pl.budget > full / 2, "budget %u after 24 successes (full %u)", pl.budget, full);
    /* A deadline that has passed: no phase at all. */
    struct timespec past = {1, 0};
    CHECK(!ferry__poll_begin(&pl, &side, &past));
}

/* A deadline far in the future is valid (any tv_sec is) and polls like no
 * deadline. Before the fix its nanoseconds wrapped past 2^64 (from tv_sec
 * 18446744074, in the year 2554): to a time long past, so the wait never
 * polled; or to a nearer one, so its polls stopped early. */
static const struct timespec far_deadline = {(time_t)18446744074ll, 0};

static void *blocking_recv_far(void *arg)
{
    struct waiter *w = arg;
    ferry__set_hogged_share(0); /* a yield that took a slice would make it spin (P2) */
    w->r = ferry_recv_until(w->rx, w->buf, 1, &far_deadline);
    w->yields = yields;
    return NULL;
}

FERRY_TEST(poll_far_deadline_is_no_deadline)
{
    struct ferry__poll_side side = {0};
    struct ferry__poller pl;
    CHECK(ferry__poll_begin(&pl, &side, &far_deadline));
    CHECK(pl.deadline > ferry__now_ns());
    /* The last time_t (2^31 - 1 s where it is 32 bits). */
    const struct timespec latest = {(time_t)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1), 999999999};
    CHECK(ferry__poll_begin(&pl, &side, &latest));
    CHECK(pl.deadline > ferry__now_ns());
    /* On a channel: the receive polls before it sleeps, then gets the item. */
    poll_then_sleep(blocking_recv_far, 43);
}

/* On a channel, timed-out waits (nobody sends) poll at most one budget
 * each, and the calls still end at their deadlines. */
FERRY_TEST(poll_idle_channel_bounded)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    long v;
    for (int i = 0; i < 24; i++) {
        struct timespec dl = ferry_test_deadline_ms(20);
        /* On a loaded machine a yield may take a time slice, after which
         * the next phase would spin instead (P2, tested below). */
        ferry__set_hogged_share(0);
        long before = yields;
        CHECK_EQ(ferry_recv_until(rx, &v, 1, &dl), -ETIMEDOUT);
        CHECK(yields - before >= 1 && yields - before <= poll_bound());
    }
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* Only the lock-free paths poll: a locked channel (levels) sleeps at once. */
FERRY_TEST(poll_not_on_locked_path)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 2, &tx, &rx);
    long v;
    struct timespec dl = ferry_test_deadline_ms(3);
    long before = yields;
    CHECK_EQ(ferry_recv_until(rx, &v, 1, &dl), -ETIMEDOUT);
    CHECK_EQ(yields, before);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(poll_can_be_turned_off_for_tests)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    long v;
    ferry__poll_enable(false);
    struct timespec dl = ferry_test_deadline_ms(3);
    long before = yields;
    CHECK_EQ(ferry_recv_until(rx, &v, 1, &dl), -ETIMEDOUT);
    CHECK_EQ(yields, before);
    ferry__poll_enable(true);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* Run fn on a new thread and give it round i's head start: a different
 * moment of its call each round (the yields here are not counted), from
 * none to 147 yields -- past a poll phase's budget (chan_wait.h) into the
 * sleep. (Not more: under a loaded machine a yield may cost a time slice,
 * and the rounds' yields add up.) */
static void start_then_race(struct waiter *w, void *(*fn)(void *), int i)
{
    pthread_create(&w->t, NULL, fn, w);
    for (int j = 0; j < (i % 50) * 3; j++)
        syscall(SYS_sched_yield);
}

/* Closing while a receiver polls (or has just gone to sleep), at every
 * moment the loop happens to hit: it gets 0, never hangs. */
FERRY_TEST(poll_close_while_receiver_polls)
{
    for (int i = 0; i < 200; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_lf(4, 0, &tx, &rx);
        struct waiter w = {.rx = rx};
        start_then_race(&w, blocking_recv, i);
        ferry_tx_close(tx);
        pthread_join(w.t, NULL);
        CHECK_EQ(w.r, 0);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

/* The last receiver leaving while a sender polls a full ring: the sender
 * gets what it sent, or -EPIPE, never hangs; what it sent is dropped. */
FERRY_TEST(poll_release_while_sender_polls)
{
    for (int i = 0; i < 200; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_lf(2, 0, &tx, &rx);
        fill(tx, 2);
        struct waiter w = {.tx = tx};
        start_then_race(&w, blocking_send, i);
        ferry_rx_release(rx);
        pthread_join(w.t, NULL);
        CHECK_MSG(w.r == -EPIPE || (w.r >= 1 && w.r < 3), "send returned %zd", w.r);
        ferry_tx_release(tx);
    }
}

/* A sender that receives room while polling moves on without sleeping:
 * a partly full batch goes in as the receiver frees room. */
FERRY_TEST(poll_partial_send_completes)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(2, 0, &tx, &rx);
    fill(tx, 2);
    struct waiter w = {.tx = tx};
    pthread_create(&w.t, NULL, blocking_send, &w);
    long out[5];
    size_t got = 0;
    while (got < 5) {
        ssize_t k = ferry_recv(rx, out + got, 5 - got);
        CHECK(k > 0);
        got += (size_t)k;
    }
    pthread_join(w.t, NULL);
    CHECK_EQ(w.r, 3);
    CHECK_EQ(out[0], 7);
    CHECK_EQ(out[1], 7);
    for (int i = 2; i < 5; i++)
        CHECK_EQ(out[i], i - 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* With more than two CPUs a poll phase spins FERRY__POLL_SPINS polls (no
 * system call) before its first yield; with two or fewer it yields from
 * the first poll. A deadline ends the spin phase too. */
FERRY_TEST(poll_spins_first_only_with_many_cpus)
{
    struct ferry__poll_side side = {0};
    struct ferry__poller pl;
    for (int many = 0; many <= 1; many++) {
        ferry__set_many_cpus(many);
        CHECK(ferry__poll_begin(&pl, &side, NULL));
        long before = yields, polls = 0;
        while (yields == before) {
            CHECK(ferry__poll_next(&pl));
            polls++;
        }
        CHECK_MSG(polls == (many ? (long)FERRY__POLL_SPINS + 1 : 1), "%s: first yield at poll %ld",
                  many ? "many CPUs" : "two CPUs", polls);
        ferry__poll_end(&side, true);
    }
    struct timespec dl = ferry_test_deadline_ms(1);
    CHECK(ferry__poll_begin(&pl, &side, &dl));
    while (ferry__now_ns() < ferry__ts_ns(dl))
        ;
    long before = yields;
    CHECK(!ferry__poll_next(&pl)); /* in the spin phase, past the deadline */
    CHECK_EQ(yields, before);
    ferry__set_many_cpus(-1);
}

/* A lost claim's backoff: with more than two CPUs the first
 * FERRY__BACKOFF_SPINS lost claims of a call spin (no system call) and later
 * ones yield; with two or fewer every lost claim yields. */
FERRY_TEST(contention_backoff_spins_first_only_with_many_cpus)
{
    for (int many = 0; many <= 1; many++) {
        ferry__set_many_cpus(many);
        unsigned lost = 0;
        long before = yields;
        for (unsigned i = 0; i < FERRY__BACKOFF_SPINS; i++)
            ferry__contention_backoff(&lost);
        CHECK_EQ(lost, FERRY__BACKOFF_SPINS);
        CHECK_EQ(yields - before, many ? 0 : (long)FERRY__BACKOFF_SPINS);
        ferry__contention_backoff(&lost);
        ferry__contention_backoff(&lost);
        CHECK_EQ(yields - before, many ? 2 : (long)FERRY__BACKOFF_SPINS + 2);
    }
    ferry__set_many_cpus(-1);
}

/* A CPU shared with a busy thread (P2): yields that take a time slice
 * raise the thread's share; then a poll phase (two CPUs) never yields,
 * spins for at most FERRY__HOGGED_SPIN_NS and ends; a phase ends after a
 * slice-long yield; and short yields bring the share down again. */
FERRY_TEST(poll_on_a_hogged_cpu_spins_briefly_and_never_yields)
{
    ferry__set_many_cpus(0);
    ferry__set_hogged_share(0);
    struct ferry__poll_side side = {0};
    struct ferry__poller pl;
    /* A slice-long yield ends the phase after its poll. */
    yield_sleep_us = FERRY__HOG_SLICE_NS / 1000 + 200;
    CHECK(ferry__poll_begin(&pl, &side, NULL));
    CHECK(pl.spin_end == 0);
    long before = yields;
    CHECK(ferry__poll_next(&pl)); /* yields (long), then one more poll */
    CHECK_EQ(yields - before, 1);
    CHECK(!ferry__poll_next(&pl)); /* no progress: over */
    ferry__poll_end(&side, false);
    CHECK(ferry__hogged_share() >= FERRY__HOGGED_SHARE);
    /* Hogged: spins only, then over, within about the spin bound. */
    before = yields;
    CHECK(ferry__poll_begin(&pl, &side, NULL));
    uint64_t t0 = ferry__now_ns();
    long polls = 0;
    while (ferry__poll_next(&pl))
        polls++;
    uint64_t took = ferry__now_ns() - t0;
    CHECK_EQ(yields, before);
    CHECK(polls > 0);
    CHECK_MSG(took >= FERRY__HOGGED_SPIN_NS / 2 || polls < 2, "spun %llu ns", (unsigned long long)took);
    ferry__poll_end(&side, false);
    /* Plain yields again (the busy thread is gone): the share falls below
     * the mark after a few, and phases yield again. */
    yield_sleep_us = 0;
    ferry__set_hogged_share(FERRY__HOGGED_SHARE);
    CHECK(ferry__poll_begin(&pl, &side, NULL));
    while (ferry__poll_next(&pl)) /* the spins fail: the share decays */
        ;
    CHECK(ferry__hogged_share() < FERRY__HOGGED_SHARE);
    CHECK(ferry__poll_begin(&pl, &side, NULL));
    before = yields;
    CHECK(ferry__poll_next(&pl));
    CHECK_EQ(yields - before, 1);
    ferry__poll_end(&side, true);
    ferry__set_hogged_share(0);
    ferry__set_many_cpus(-1);
}

struct hogged_sender {
    pthread_t t;
    ferry_tx *tx;
    long n;
};

static void *hogged_send(void *arg)
{
    struct hogged_sender *s = arg;
    ferry__set_hogged_share(FERRY__POLL_SHARE_ONE);
    for (long i = 0; i < s->n; i++)
        CHECK_EQ(ferry_send(s->tx, &i, 1), 1);
    return NULL;
}

/* Blocking traffic with both threads on "hogged" CPUs (spin, then sleep;
 * never yield): every item arrives once, in order, on the ring and the
 * list. */
FERRY_TEST(poll_hogged_traffic)
{
    ferry__set_many_cpus(0);
    for (int unbounded = 0; unbounded <= 1; unbounded++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_lf(unbounded ? FERRY_UNBOUNDED : 4, 0, &tx, &rx);
        struct hogged_sender s = {.tx = tx, .n = (long)ferry_test_scaled(20000)};
        ferry__set_hogged_share(FERRY__POLL_SHARE_ONE);
        pthread_create(&s.t, NULL, hogged_send, &s);
        for (long i = 0; i < s.n; i++) {
            long got = -1;
            CHECK_EQ(ferry_recv(rx, &got, 1), 1);
            CHECK_EQ(got, i);
        }
        pthread_join(s.t, NULL);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
    ferry__set_hogged_share(0);
    ferry__set_many_cpus(-1);
}

/* Blocking traffic with the spin phase on (as on a many-core machine):
 * every item arrives once, in order. */
FERRY_TEST(poll_spin_phase_traffic)
{
    ferry__set_many_cpus(1);
    ferry_tx *tx;
    ferry_rx *rx;
    open_lf(4, 0, &tx, &rx);
    struct waiter w = {.rx = rx};
    long n = (long)ferry_test_scaled(20000);
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0) {
            pthread_create(&w.t, NULL, blocking_recv, &w);
            long v = i;
            CHECK_EQ(ferry_send(tx, &v, 1), 1);
            pthread_join(w.t, NULL);
            CHECK_EQ(w.r, 1);
            CHECK_EQ(w.buf[0], i);
        } else {
            long v = i, got = -1;
            CHECK_EQ(ferry_send(tx, &v, 1), 1);
            CHECK_EQ(ferry_recv(rx, &got, 1), 1);
            CHECK_EQ(got, i);
        }
    }
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    ferry__set_many_cpus(-1);
}
