/* SPDX-License-Identifier: MIT */
/* Channel torture: P producers x C consumers x batch sizes x capacities x
 * blocking / try / timed calls. Every item carries (producer, sequence);
 * while the run goes, consumers check that each item is received exactly once
 * and that each producer's sequence numbers increase; at the end every item
 * must have been received. The release cases drop the last receiver or the
 * last sender mid-traffic and check that nothing is lost: every item counted
 * as sent is received or dropped. */
#include <errno.h>
#include <ferry/chan.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_items.h"
#include "test.h"

enum mode { BLOCK, TRY, UNTIL };
static const char *mode_name[] = {"block", "try", "until"};

struct run {
    ferry_tx *tx;
    ferry_rx *rx;
    int P, C;
    size_t batch, per, cap;
    enum mode pmode, cmode;
    FERRY_ATOMIC(uint8_t) *seen; /* P * per, one per item */
    FERRY_ATOMIC(size_t) received;
    FERRY_ATOMIC(size_t) dropped;
    size_t stop_after;           /* release cases: a consumer's share before it leaves */
};

struct worker {
    struct run *run;
    int id;
    pthread_t t;
};

/* Record one received item (see chan_items.h). */
static void account(struct run *r, size_t *last, uint64_t v) { items_receive(r->seen, r->P, r->per, last, v); }

static ssize_t send_some(struct run *r, const uint64_t *items, size_t n)
{
    switch (r->pmode) {
    case BLOCK:
        return ferry_send(r->tx, items, n);
    case TRY:
        return ferry_try_send(r->tx, items, n);
    default: {
        struct timespec dl = ferry_test_deadline_ms(1);
        return ferry_send_until(r->tx, items, n, &dl);
    }
    }
}

static ssize_t recv_some(struct run *r, uint64_t *out, size_t max)
{
    switch (r->cmode) {
    case BLOCK:
        return ferry_recv(r->rx, out, max);
    case TRY:
        return ferry_try_recv(r->rx, out, max);
    default: {
        struct timespec dl = ferry_test_deadline_ms(1);
        return ferry_recv_until(r->rx, out, max, &dl);
    }
    }
}

static void *producer(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    uint64_t *buf = malloc(r->batch * sizeof *buf);
    size_t seq = 0;
    while (seq < r->per) {
        size_t n = r->per - seq < r->batch ? r->per - seq : r->batch;
        for (size_t i = 0; i < n; i++)
            buf[i] = item(w->id, seq + i);
        size_t off = 0;
        while (off < n) {
            ssize_t k = send_some(r, buf + off, n - off);
            if (k == -EAGAIN || k == -ETIMEDOUT) {
                sched_yield();
                continue;
            }
            if (k == -EPIPE)
                goto out; /* receivers gone (release cases) */
            CHECK_MSG(k > 0 && (size_t)k <= n - off, "send returned %zd", k);
            if (r->pmode == BLOCK && (size_t)k < n - off) { /* short: closed */
                off += (size_t)k;
                goto out;
            }
            off += (size_t)k;
        }
        seq += n;
    }
out:
    free(buf);
    return NULL;
}

static void *consumer(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    uint64_t *buf = malloc(r->batch * sizeof *buf);
    size_t *last = malloc((size_t)r->P * sizeof *last);
    for (int p = 0; p < r->P; p++)
        last[p] = SIZE_MAX;
    size_t mine = 0;
    for (;;) {
        ssize_t k = recv_some(r, buf, r->batch);
        if (k == -EAGAIN || k == -ETIMEDOUT) {
            sched_yield();
            continue;
        }
        if (k == 0)
            break;
        CHECK_MSG(k > 0 && (size_t)k <= r->batch, "recv returned %zd", k);
        for (ssize_t i = 0; i < k; i++)
            account(r, last, buf[i]);
        atomic_fetch_add_explicit(&r->received, (size_t)k, memory_order_relaxed);
        mine += (size_t)k;
        if (r->stop_after && mine >= r->stop_after)
            break;
    }
    free(last);
    free(buf);
    return NULL;
}

static void run_one(int P, int C, size_t batch, size_t cap, enum mode mode, size_t total)
{
    struct run r = {.P = P, .C = C, .batch = batch, .cap = cap, .pmode = mode, .cmode = mode};
    /* Two try-only ends of a rendezvous channel never meet: there, consumers block. */
    if (cap == 0 && mode == TRY)
        r.cmode = BLOCK;
    r.per = total / (size_t)P + 1;
    r.seen = calloc((size_t)P * r.per, sizeof *r.seen);
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = cap, .name = "torture"};
    CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
    struct worker *ws = calloc((size_t)(P + C), sizeof *ws);
    for (int i = 0; i < C; i++) {
        ws[i] = (struct worker){.run = &r, .id = i};
        pthread_create(&ws[i].t, NULL, consumer, &ws[i]);
    }
    for (int i = 0; i < P; i++) {
        ws[C + i] = (struct worker){.run = &r, .id = i};
        pthread_create(&ws[C + i].t, NULL, producer, &ws[C + i]);
    }
    for (int i = 0; i < P; i++)
        pthread_join(ws[C + i].t, NULL);
    ferry_tx_release(r.tx); /* consumers drain, then get 0 */
    for (int i = 0; i < C; i++)
        pthread_join(ws[i].t, NULL);
    size_t all = (size_t)P * r.per;
    CHECK_EQ(atomic_load(&r.received), all);
    for (size_t i = 0; i < all; i++)
        CHECK_MSG(atomic_load(&r.seen[i]) == 1, "item %zu of %zu never received (P=%d C=%d batch=%zu cap=%zu %s)",
                  i, all, P, C, batch, cap, mode_name[mode]);
    ferry_rx_release(r.rx);
    free(ws);
    free(r.seen);
}

static const int pc[][2] = {{1, 1}, {1, 8}, {8, 1}, {3, 5}, {8, 8}};
static const size_t batches[] = {1, 3, 64};

static void matrix(size_t cap)
{
    size_t total = ferry_test_scaled(20000);
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++)
        for (size_t b = 0; b < 3; b++)
            for (int m = BLOCK; m <= UNTIL; m++)
                run_one(pc[i][0], pc[i][1], batches[b], cap, (enum mode)m, total);
}

FERRY_TEST(matrix_rendezvous) { matrix(0); }
FERRY_TEST(matrix_cap1) { matrix(1); }
FERRY_TEST(matrix_cap7) { matrix(7); }
FERRY_TEST(matrix_cap1024) { matrix(1024); }
FERRY_TEST(matrix_unbounded) { matrix(FERRY_UNBOUNDED); }

/* ---- release mid-traffic ---------------------------------------------- */

static void count_drop(void *it, void *ctx)
{
    struct run *r = ctx;
    items_drop(r->seen, r->P, r->per, it);
    atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
}

/* Producers send in blocking batches, counting exactly what ferry_send says it
 * sent; consumers leave after their share; the last to leave releases the
 * last receiver. Items counted as sent must be received or dropped, and
 * nothing else. */
struct prod_count {
    struct run *r;
    int id;
    pthread_t t;
    size_t sent;
};

static void *counting_producer(void *arg)
{
    struct prod_count *pcn = arg;
    struct run *r = pcn->r;
    uint64_t buf[16];
    size_t seq = 0;
    while (seq < r->per) {
        size_t n = r->per - seq < 16 ? r->per - seq : 16;
        for (size_t i = 0; i < n; i++)
            buf[i] = item(pcn->id, seq + i);
        ssize_t k = ferry_send(r->tx, buf, n);
        if (k < 0) {
            CHECK_EQ(k, -EPIPE);
            break;
        }
        seq += (size_t)k;
        if ((size_t)k < n)
            break;
    }
    pcn->sent = seq;
    return NULL;
}

static void *leaving_consumer(void *arg)
{
    struct worker *w = arg;
    consumer(arg);
    ferry_rx_release(w->run->rx); /* each consumer holds one clone */
    return NULL;
}

static void release_receivers_mid_traffic(size_t cap)
{
    for (int round = 0; round < 20; round++) {
        struct run r = {.P = 4, .C = 3, .batch = 8, .per = ferry_test_scaled(4000), .cap = cap, .pmode = BLOCK,
                        .cmode = BLOCK};
        r.seen = calloc((size_t)r.P * r.per, sizeof *r.seen);
        r.stop_after = 1 + (size_t)round * r.per / 10; /* some rounds before, some after the end */
        ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = cap, .drop = count_drop, .drop_ctx = &r};
        CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
        for (int i = 1; i < r.C; i++)
            ferry_rx_clone(r.rx);
        struct worker cw[3];
        struct prod_count pw[4];
        for (int i = 0; i < r.C; i++) {
            cw[i] = (struct worker){.run = &r, .id = i};
            pthread_create(&cw[i].t, NULL, leaving_consumer, &cw[i]);
        }
        for (int i = 0; i < r.P; i++) {
            pw[i] = (struct prod_count){.r = &r, .id = i};
            pthread_create(&pw[i].t, NULL, counting_producer, &pw[i]);
        }
        size_t sent = 0;
        for (int i = 0; i < r.P; i++) {
            pthread_join(pw[i].t, NULL);
            sent += pw[i].sent;
        }
        ferry_tx_release(r.tx);
        for (int i = 0; i < r.C; i++)
            pthread_join(cw[i].t, NULL);
        /* sent == received + dropped, and exactly the items counted as sent. */
        CHECK_EQ(sent, atomic_load(&r.received) + atomic_load(&r.dropped));
        for (int p = 0; p < r.P; p++)
            for (size_t s = 0; s < r.per; s++)
                CHECK_MSG(atomic_load(&r.seen[(size_t)p * r.per + s]) == (s < pw[p].sent),
                          "producer %d item %zu: seen %d, sent %zu", p, s,
                          (int)atomic_load(&r.seen[(size_t)p * r.per + s]), pw[p].sent);
        free(r.seen);
    }
}

FERRY_TEST(release_last_receiver_mid_traffic_cap16) { release_receivers_mid_traffic(16); }
FERRY_TEST(release_last_receiver_mid_traffic_rendezvous) { release_receivers_mid_traffic(0); }
FERRY_TEST(release_last_receiver_mid_traffic_unbounded) { release_receivers_mid_traffic(FERRY_UNBOUNDED); }

/* Each producer holds a clone, sends a random amount, releases it; the
 * last release closes the channel; receivers must get everything. */
static void *releasing_producer(void *arg)
{
    struct prod_count *pcn = arg;
    counting_producer(arg);
    ferry_tx_release(pcn->r->tx);
    return NULL;
}

FERRY_TEST(release_last_sender_mid_traffic)
{
    for (int round = 0; round < 20; round++) {
        struct run r = {.P = 4, .C = 3, .batch = 5, .per = ferry_test_scaled(3000), .pmode = BLOCK, .cmode = BLOCK};
        r.seen = calloc((size_t)r.P * r.per, sizeof *r.seen);
        size_t caps[] = {0, 3, FERRY_UNBOUNDED};
        ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = caps[round % 3]};
        CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
        for (int i = 1; i < r.P; i++)
            ferry_tx_clone(r.tx);
        struct worker cw[3];
        struct prod_count pw[4];
        for (int i = 0; i < r.C; i++) {
            cw[i] = (struct worker){.run = &r, .id = i};
            pthread_create(&cw[i].t, NULL, consumer, &cw[i]);
        }
        for (int i = 0; i < r.P; i++) {
            pw[i] = (struct prod_count){.r = &r, .id = i};
            pthread_create(&pw[i].t, NULL, releasing_producer, &pw[i]);
        }
        size_t sent = 0;
        for (int i = 0; i < r.P; i++) {
            pthread_join(pw[i].t, NULL);
            sent += pw[i].sent;
        }
        for (int i = 0; i < r.C; i++)
            pthread_join(cw[i].t, NULL);
        CHECK_EQ(sent, (size_t)r.P * r.per);
        CHECK_EQ(atomic_load(&r.received), sent);
        ferry_rx_release(r.rx);
        free(r.seen);
    }
}
