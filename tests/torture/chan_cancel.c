/* SPDX-License-Identifier: MIT */
/* Cancel torture for the per-op completion protocol (src/chan_op.h).
 *
 * Owners juggle several async receives with small max, so that one send
 * completes several of them in one wake round; some wakers linger (sleep),
 * so that cancels of their round's other ops land while a sibling's waker
 * runs; owners cancel at random moments. Checked while it runs:
 *  - a waker runs at most once, never after its op's cancel returned, and
 *    is not running when the cancel returns (its context is freed right
 *    after: ASan sees any late touch);
 *  - every item is received exactly once -- through a cancel's result or a
 *    completion -- and in order per producer for each slot;
 * on every kind of channel. */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chan_items.h"

#define PRODUCERS 2
#define OWNERS 2
#define SLOTS 6

struct rec {
    FERRY_ATOMIC(int) in_waker;
    FERRY_ATOMIC(int) woken;
    FERRY_ATOMIC(int) cancelled;
    FERRY_ATOMIC(int) finished; /* the waker's last store */
    int linger;                 /* sleep inside the waker (us) */
};

static void rec_wake(void *p)
{
    struct rec *rc = p;
    CHECK_MSG(atomic_load(&rc->cancelled) == 0, "waker ran after ferry_op_cancel returned");
    atomic_store(&rc->in_waker, 1);
    CHECK_MSG(atomic_fetch_add(&rc->woken, 1) == 0, "waker ran twice");
    if (rc->linger) {
        struct timespec ts = {0, rc->linger * 1000L};
        nanosleep(&ts, NULL);
    }
    atomic_store(&rc->in_waker, 0);
    atomic_store_explicit(&rc->finished, 1, memory_order_release);
}

struct run {
    bool unbounded;
    ferry_tx *tx;
    ferry_rx *rx;
    size_t per;
    FERRY_ATOMIC(uint8_t) *seen;
    FERRY_ATOMIC(size_t) received;
    FERRY_ATOMIC(size_t) cancels_with_items; /* cancels that caught a completion */
    FERRY_ATOMIC(size_t) pending;            /* starts that returned -EINPROGRESS */
    FERRY_ATOMIC(size_t) woken;              /* completions learned from the waker */
};

struct prod {
    struct run *run;
    ferry_tx *tx;
    int id;
};

static void *producer(void *arg)
{
    struct prod *pr = arg;
    uint64_t rnd = (uint64_t)pr->id * 7 + 1;
    for (size_t seq = 0; seq < pr->run->per;) {
        uint64_t b[8];
        size_t k = 1 + ferry_test_rand(&rnd) % 8;
        if (k > pr->run->per - seq)
            k = pr->run->per - seq;
        for (size_t i = 0; i < k; i++)
            b[i] = item(pr->id, seq + i);
        CHECK_EQ(ferry_send(pr->tx, b, k), (ssize_t)k);
        seq += k;
        /* An unbounded channel never makes us wait: keep the backlog
         * short, so that receives keep having to wait too. */
        struct ferry_chan_stats st;
        while (pr->run->unbounded && ferry_chan_stats(pr->tx, &st) == 0 && st.len > 4)
            sched_yield();
    }
    ferry_tx_release(pr->tx);
    return NULL;
}

struct slot {
    ferry_op op;
    struct rec *rc;
    bool busy, finished;
    uint64_t buf[2];
    size_t last[PRODUCERS];
};

static void account(struct run *r, struct slot *s, ssize_t n)
{
    CHECK(n >= 0 && n <= 2);
    for (ssize_t i = 0; i < n; i++)
        items_receive(r->seen, PRODUCERS, r->per, s->last, s->buf[i]);
    atomic_fetch_add(&r->received, (size_t)n);
}

static void *owner(void *arg)
{
    struct run *r = arg;
    struct slot s[SLOTS] = {0};
    uint64_t rnd = (uint64_t)(uintptr_t)s;
    for (int i = 0; i < SLOTS; i++)
        for (int p = 0; p < PRODUCERS; p++)
            s[i].last[p] = SIZE_MAX;
    int open = SLOTS;
    while (open > 0) {
        for (int i = 0; i < SLOTS; i++) {
            struct slot *sl = &s[i];
            if (sl->finished)
                continue;
            ssize_t res;
            bool cancelled = false;
            if (!sl->busy) {
                sl->rc = calloc(1, sizeof *sl->rc);
                sl->rc->linger = ferry_test_rand(&rnd) % 16 == 0 ? (int)(50 + ferry_test_rand(&rnd) % 400) : 0;
                size_t max = 1 + ferry_test_rand(&rnd) % 2;
                res = ferry_recv_start(r->rx, &sl->op, sl->buf, max, (ferry_waker){rec_wake, sl->rc});
                if (res == -EINPROGRESS) {
                    atomic_fetch_add_explicit(&r->pending, 1, memory_order_relaxed);
                    sl->busy = true;
                    continue;
                }
                CHECK_EQ(atomic_load(&sl->rc->woken), 0); /* immediate: never woken */
            } else if (ferry_test_rand(&rnd) % 4 == 0) {
                for (uint64_t spin = ferry_test_rand(&rnd) % 256; spin > 0; spin--)
                    __asm__ __volatile__("" ::: "memory");
                res = ferry_op_cancel(&sl->op);
                CHECK_MSG(atomic_load(&sl->rc->in_waker) == 0, "ferry_op_cancel returned while its waker ran");
                atomic_store(&sl->rc->cancelled, 1);
                CHECK(atomic_load(&sl->rc->woken) <= 1);
                cancelled = true;
                if (res > 0)
                    atomic_fetch_add(&r->cancels_with_items, 1);
            } else if (atomic_load_explicit(&sl->rc->finished, memory_order_acquire)) {
                res = ferry_op_result(&sl->op);
                CHECK(res != -EINPROGRESS); /* woken means complete */
                atomic_fetch_add_explicit(&r->woken, 1, memory_order_relaxed);
            } else {
                sched_yield();
                continue;
            }
            account(r, sl, res);
            free(sl->rc); /* nothing may touch it now */
            sl->rc = NULL;
            sl->busy = false;
            if (res == 0 && !cancelled) {
                sl->finished = true; /* closed and drained */
                open--;
            }
        }
    }
    return NULL;
}

static void run(size_t cap, unsigned levels)
{
    struct run r = {.per = ferry_test_scaled(30000), .unbounded = cap == FERRY_UNBOUNDED};
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = cap, .levels = levels};
    CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
    r.seen = calloc(PRODUCERS * r.per, sizeof *r.seen);
    pthread_t pt[PRODUCERS], ot[OWNERS];
    struct prod pr[PRODUCERS];
    for (int i = 0; i < OWNERS; i++)
        pthread_create(&ot[i], NULL, owner, &r);
    for (int i = 0; i < PRODUCERS; i++) {
        pr[i] = (struct prod){.run = &r, .tx = i ? ferry_tx_clone(r.tx) : r.tx, .id = i};
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&pt[i], NULL, producer, &pr[i]);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(pt[i], NULL);
    for (int i = 0; i < OWNERS; i++)
        pthread_join(ot[i], NULL);
    CHECK_EQ(atomic_load(&r.received), PRODUCERS * r.per);
    for (size_t i = 0; i < PRODUCERS * r.per; i++)
        CHECK_EQ(atomic_load(&r.seen[i]), 1);
    /* The schedule must have reached the cases under test. */
    CHECK(atomic_load(&r.pending) > 0);
    CHECK(atomic_load(&r.woken) > 0);
    if (getenv("FERRY_TEST_VERBOSE"))
        fprintf(stderr, "pending %zu, woken %zu, cancels that caught a completion %zu\n", atomic_load(&r.pending),
                atomic_load(&r.woken), atomic_load(&r.cancels_with_items));
    ferry_rx_release(r.rx);
    free((void *)r.seen);
}

FERRY_TEST(cancel_torture_lockfree) { run(8, 0); }
FERRY_TEST(cancel_torture_unbounded) { run(FERRY_UNBOUNDED, 0); }
FERRY_TEST(cancel_torture_rendezvous) { run(0, 0); }
FERRY_TEST(cancel_torture_levels) { run(16, 3); }
