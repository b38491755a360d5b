/* SPDX-License-Identifier: MIT */
/* Levels + budget torture: producers send batches at random levels with
 * item-dependent weights; consumers check exactly-once delivery and
 * per-producer order within each level and levels highest first within
 * each received batch; a monitor samples the channel and
 * checks that neither the budget (unless one oversize item is alone) nor the
 * capacity is ever exceeded. Blocking, try and async-free timed calls mixed. */
#include <errno.h>
#include <ferry/chan.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "test.h"

#define LEVELS 8
#define P 6
#define C 3

struct run {
    ferry_tx *tx;
    ferry_rx *rx;
    size_t per, cap, budget;
    FERRY_ATOMIC(uint8_t) *seen;
    FERRY_ATOMIC(size_t) received;
    FERRY_ATOMIC(int) done;
};

/* item: producer (8 bits) | level (8 bits) | seq (32 bits) */
static uint64_t mk(int p, unsigned lvl, size_t seq) { return (uint64_t)p << 40 | (uint64_t)lvl << 32 | seq; }

static size_t weigh(const void *item, void *ctx)
{
    (void)ctx;
    uint64_t v = *(const uint64_t *)item;
    return 1 + (size_t)(v % 13); /* 1..13; budget 24 makes some items heavy */
}

struct arg {
    struct run *r;
    int id;
};

static void *producer(void *a_)
{
    struct arg *a = a_;
    struct run *r = a->r;
    uint64_t rnd = (uint64_t)a->id * 7919 + 1, buf[5];
    for (size_t seq = 0; seq < r->per;) {
        unsigned lvl = (unsigned)(ferry_test_rand(&rnd) % LEVELS);
        size_t n = 1 + ferry_test_rand(&rnd) % 5;
        if (n > r->per - seq)
            n = r->per - seq;
        for (size_t i = 0; i < n; i++)
            buf[i] = mk(a->id, lvl, seq + i);
        size_t off = 0;
        while (off < n) {
            ssize_t k;
            switch (ferry_test_rand(&rnd) % 3) {
            case 0:
                k = ferry_send_prio(r->tx, buf + off, n - off, lvl);
                break;
            case 1: {
                struct timespec dl = ferry_test_deadline_ms(1);
                k = ferry_send_prio_until(r->tx, buf + off, n - off, lvl, &dl);
                break;
            }
            default: {
                struct timespec past = {0, 0};
                k = ferry_send_prio_until(r->tx, buf + off, n - off, lvl, &past);
                break;
            }
            }
            if (k == -ETIMEDOUT) {
                sched_yield();
                continue;
            }
            CHECK_MSG(k > 0, "send returned %zd", k);
            off += (size_t)k;
        }
        seq += n;
    }
    return NULL;
}

static void *consumer(void *a_)
{
    struct arg *a = a_;
    struct run *r = a->r;
    size_t last[P][LEVELS];
    for (int p = 0; p < P; p++)
        for (int l = 0; l < LEVELS; l++)
            last[p][l] = SIZE_MAX;
    uint64_t buf[16], rnd = (uint64_t)a->id + 99;
    for (;;) {
        size_t max = 1 + ferry_test_rand(&rnd) % 16;
        ssize_t k = ferry_recv(r->rx, buf, max);
        if (k == 0)
            break;
        CHECK(k > 0);
        for (ssize_t i = 0; i < k; i++) {
            int p = (int)(buf[i] >> 40);
            unsigned lvl = (unsigned)(buf[i] >> 32) & 0xff;
            size_t seq = (size_t)(buf[i] & 0xffffffffu);
            CHECK(p < P && lvl < LEVELS && seq < r->per);
            CHECK_MSG(atomic_fetch_add(&r->seen[(size_t)p * r->per + seq], 1) == 0, "twice");
            CHECK_MSG(last[p][lvl] == SIZE_MAX || last[p][lvl] < seq, "level %u out of order", lvl);
            last[p][lvl] = seq;
            /* One receive spans levels highest first. */
            CHECK_MSG(i == 0 || lvl <= ((unsigned)(buf[i - 1] >> 32) & 0xff), "level %u after level %u in one batch",
                      lvl, (unsigned)(buf[i - 1] >> 32) & 0xff);
        }
        atomic_fetch_add(&r->received, (size_t)k);
    }
    return NULL;
}

static void *monitor(void *a_)
{
    struct run *r = a_;
    size_t samples = 0;
    while (!atomic_load(&r->done)) {
        struct ferry_chan_stats st;
        ferry_chan_stats(r->tx, &st);
        CHECK_MSG(st.len <= r->cap, "len %zu > capacity %zu", st.len, r->cap);
        CHECK_MSG(st.weight <= r->budget || st.len == 1, "weight %zu > budget %zu with %zu items", st.weight,
                  r->budget, st.len);
        samples++;
        sched_yield();
    }
    CHECK(samples > 0);
    return NULL;
}

static void run(size_t cap, size_t budget)
{
    struct run r = {.per = ferry_test_scaled(20000), .cap = cap, .budget = budget};
    r.seen = calloc(P * r.per, 1);
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = cap, .levels = LEVELS, .budget = budget,
                             .weigh = weigh};
    CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
    pthread_t pt[P], ct[C], mt;
    struct arg pa[P], ca[C];
    pthread_create(&mt, NULL, monitor, &r);
    for (int i = 0; i < C; i++) {
        ca[i] = (struct arg){&r, i};
        pthread_create(&ct[i], NULL, consumer, &ca[i]);
    }
    for (int i = 0; i < P; i++) {
        pa[i] = (struct arg){&r, i};
        pthread_create(&pt[i], NULL, producer, &pa[i]);
    }
    for (int i = 0; i < P; i++)
        pthread_join(pt[i], NULL);
    atomic_store(&r.done, 1);
    pthread_join(mt, NULL);
    ferry_tx_release(r.tx);
    for (int i = 0; i < C; i++)
        pthread_join(ct[i], NULL);
    CHECK_EQ(atomic_load(&r.received), P * r.per);
    for (size_t i = 0; i < P * r.per; i++)
        CHECK_MSG(atomic_load(&r.seen[i]) == 1, "item %zu lost", i);
    ferry_rx_release(r.rx);
    free(r.seen);
}

FERRY_TEST(levels_budget_bounded) { run(32, 24); }
FERRY_TEST(levels_budget_unbounded) { run(FERRY_UNBOUNDED, 24); }
FERRY_TEST(levels_budget_rendezvous) { run(0, 24); }
FERRY_TEST(levels_no_budget) { run(16, SIZE_MAX); }
