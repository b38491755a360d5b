/* SPDX-License-Identifier: MIT */
/* Zero allocation in steady state (docs/chan.md, "Memory and misuse").
 *
 * malloc, calloc, realloc and free are interposed (this program defines them;
 * the dynamic linker resolves libc's and ferry's calls to these) and counted
 * while a phase is armed. After a warm-up, 1,000,000 send/receive operations,
 * polls and blocking waits on both sides included, on bounded, rendezvous and unbounded
 * channels, with and without levels and budget, and with async ops, must
 * allocate and free nothing. Not built under sanitizers (they own malloc). */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "chan_wait.h"
#include "counting_malloc.h"
#include "test.h"

struct side {
    ferry_tx *tx;
    ferry_rx *rx;
    long ops;
    size_t batch;
    unsigned levels;
    bool async;
    bool unbounded;
};

static void wake_flag(void *ctx) { atomic_store((FERRY_ATOMIC(int) *)ctx, 1); }

static void *consumer(void *arg)
{
    struct side *s = arg;
    long buf[64];
    ferry_op op;
    FERRY_ATOMIC(int) flag = 0;
    for (;;) {
        ssize_t r;
        if (s->async) {
            atomic_store(&flag, 0);
            r = ferry_recv_start(s->rx, &op, buf, s->batch, (ferry_waker){wake_flag, (void *)&flag});
            if (r == -EINPROGRESS) {
                while (!atomic_load(&flag))
                    sched_yield();
                r = ferry_op_result(&op);
            }
        } else {
            r = ferry_recv(s->rx, buf, s->batch);
        }
        if (r == 0)
            break;
        CHECK(r > 0);
    }
    return NULL;
}

/* Producer side runs on the main thread; counting is armed around the
 * measured phase only (thread creation allocates). On an unbounded channel
 * the producer keeps the backlog under 1024 items: storage grows (once) to
 * the largest backlog seen, and the warm-up has already seen a larger one. */
static long run_phase(struct side *s, long ops)
{
    long buf[64] = {0};
    ferry_op op;
    FERRY_ATOMIC(int) flag = 0;
    for (long i = 0; i < ops; i++) {
        if (s->unbounded && i % 64 == 0) {
            struct ferry_chan_stats st;
            for (ferry_chan_stats(s->tx, &st); st.len > 1024; ferry_chan_stats(s->tx, &st))
                sched_yield();
        }
        unsigned prio = s->levels > 1 ? (unsigned)(i % s->levels) : 0;
        if (s->async && i % 2) {
            atomic_store(&flag, 0);
            ssize_t r = ferry_send_prio_start(s->tx, &op, buf, s->batch, prio, (ferry_waker){wake_flag, (void *)&flag});
            if (r == -EINPROGRESS) {
                while (!atomic_load(&flag))
                    sched_yield();
                r = ferry_op_result(&op);
            }
            CHECK_EQ(r, (ssize_t)s->batch);
        } else {
            CHECK_EQ(ferry_send_prio(s->tx, buf, s->batch, prio), (ssize_t)s->batch);
        }
    }
    return ops;
}

static size_t weigh(const void *item, void *ctx)
{
    (void)ctx;
    return 1 + (size_t)(*(const long *)item & 7);
}

static void steady_state(size_t cap, unsigned levels, size_t budget, bool async)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .levels = levels, .budget = budget,
                             .weigh = budget ? weigh : NULL};
    struct side s = {.batch = 1, .levels = levels, .async = async, .unbounded = cap == FERRY_UNBOUNDED};
    CHECK_EQ(ferry_chan_open(&cfg, &s.tx, &s.rx), 0);
    if (s.unbounded) {
        /* Warm-up backlog: up to 4096 items at every level (fewer if the
         * budget says so) before anyone receives. */
        long fill[64] = {0};
        struct timespec past = {0, 0}; /* a past deadline: send what fits now */
        for (unsigned lvl = 0; lvl < (levels ? levels : 1); lvl++)
            for (int i = 0; i < 64; i++)
                if (ferry_send_prio_until(s.tx, fill, 64, lvl, &past) < 64)
                    break;
    }
    pthread_t t;
    pthread_create(&t, NULL, consumer, &s);
    /* Warm-up traffic in both batch sizes. */
    run_phase(&s, 10000);
    s.batch = 7;
    run_phase(&s, 10000);
    s.batch = 1;
    struct ferry_chan_stats before, after;
    ferry_chan_stats(s.tx, &before);
    atomic_store(&calls, 0);
    atomic_store(&armed, 1);
    long ops = (long)ferry_test_scaled(1000000) / 4; /* four configurations per case */
    run_phase(&s, ops / 2);
    /* The lock-free paths poll before they sleep (chan_wait.h), so waits
     * may all have ended in a poll so far; without polling, the calls that
     * must wait sleep, so both kinds of wait are measured. */
    ferry__poll_enable(false);
    s.batch = 7;
    run_phase(&s, ops / 2);
    ferry__poll_enable(true);
    atomic_store(&armed, 0);
    ferry_chan_stats(s.tx, &after);
    CHECK_MSG(atomic_load(&calls) == 0, "%ld allocator calls in steady state", atomic_load(&calls));
    /* The phase really waited on both sides. */
    CHECK(after.items_sent - before.items_sent == (uint64_t)(ops / 2) * 8);
    CHECK_MSG(after.sends_blocked + after.recvs_blocked > before.sends_blocked + before.recvs_blocked,
              "no blocking waits happened");
    ferry_tx_release(s.tx);
    pthread_join(t, NULL);
    ferry_rx_release(s.rx);
}

FERRY_TEST(no_allocation_bounded)
{
    steady_state(64, 0, 0, false);
    steady_state(1, 0, 0, false);
    steady_state(64, 0, 0, true);
    steady_state(64, 8, 400, false);
}

FERRY_TEST(no_allocation_rendezvous)
{
    steady_state(0, 0, 0, false);
    steady_state(0, 0, 0, true);
    steady_state(0, 4, 0, false);
    steady_state(0, 0, 0, false);
}

FERRY_TEST(no_allocation_unbounded)
{
    steady_state(FERRY_UNBOUNDED, 0, 0, false);
    steady_state(FERRY_UNBOUNDED, 0, 0, true);
    steady_state(FERRY_UNBOUNDED, 8, 0, false);
    steady_state(FERRY_UNBOUNDED, 0, 1000, false);
}
