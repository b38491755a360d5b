/* SPDX-License-Identifier: MIT */
/* Closing and the last receiver's release in the middle of traffic, on
 * every kind of channel (rendezvous, odd capacities, unbounded, levels,
 * a count budget, a weighed budget, their mixes), with every form of send
 * racing it: blocking, with a level, with a level and a deadline that
 * fires now and then, and try; receives blocking and timed. Each send call
 * sends items (producer, seq) in order from where the last one stopped;
 * its result k says the first k were sent. At the end, for each producer,
 * exactly the items it counted as sent were received or dropped, each
 * once; none it did not count turned up. (Order per producer is checked
 * on channels with one level.) */
#include <errno.h>
#include <ferry/chan.h>
#include <pthread.h>
#include <stdlib.h>

#include "chan_items.h"
#include "test.h"

#define P 3
#define C 2
#define BATCH 13 /* most items per send */

static const struct kind {
    const char *name;
    size_t cap;
    unsigned levels;
    size_t budget;
    bool weigh;
} kinds[] = {
    {"rendezvous", 0, 1, 0, false},        {"cap1", 1, 1, 0, false},
    {"cap3", 3, 1, 0, false},              {"cap7", 7, 1, 0, false},
    {"unbounded", FERRY_UNBOUNDED, 1, 0, false}, {"levels", 5, 3, 0, false},
    {"budget", 8, 1, 40, false},           {"weighed", 8, 1, 20, true},
    {"unbounded-levels", FERRY_UNBOUNDED, 2, 0, false}, {"rendezvous-levels", 0, 3, 0, false},
    {"unbounded-weighed", FERRY_UNBOUNDED, 1, 30, true},
};

struct run {
    const struct kind *k;
    ferry_tx *tx;
    ferry_rx *rx;
    size_t per;
    bool release; /* the receivers leave (the last release drops) instead of a close */
    size_t sent[P];
    FERRY_ATOMIC(uint8_t) *seen;
    FERRY_ATOMIC(size_t) received;
};

static size_t weigh_seq(const void *it, void *ctx)
{
    (void)ctx;
    uint64_t v;
    memcpy(&v, it, sizeof v);
    return (size_t)(v % 7); /* 0 .. 6, some heavier than a budget's share */
}

static void drop_item(void *it, void *ctx)
{
    struct run *r = ctx;
    items_drop(r->seen, P, r->per, it);
}

struct producer {
    struct run *r;
    int p;
};

static void *produce(void *arg)
{
    struct producer *pr = arg;
    struct run *r = pr->r;
    unsigned seed = (unsigned)pr->p * 7919u + 1;
    uint64_t buf[BATCH];
    size_t off = 0;
    while (off < r->per) {
        size_t n = 1 + (size_t)rand_r(&seed) % BATCH;
        if (n > r->per - off)
            n = r->per - off;
        for (size_t i = 0; i < n; i++)
            buf[i] = item(pr->p, off + i);
        unsigned prio = (unsigned)rand_r(&seed) % r->k->levels;
        int form = rand_r(&seed) % 4;
        struct timespec dl = ferry_deadline_in(rand_r(&seed) % 50000);
        ssize_t k;
        switch (form) {
        case 0: k = ferry_send(r->tx, buf, n); break;
        case 1: k = ferry_send_prio(r->tx, buf, n, prio); break;
        case 2: k = ferry_send_prio_until(r->tx, buf, n, prio, &dl); break;
        default: k = ferry_try_send(r->tx, buf, n); break;
        }
        if (k == -ETIMEDOUT || k == -EAGAIN)
            continue;
        if (k == -EPIPE)
            break;
        CHECK_MSG(k > 0 && (size_t)k <= n, "send of %zu: %zd", n, k);
        off += (size_t)k;
        if ((size_t)k < n && form < 2)
            break; /* a blocking send short: the channel closed */
    }
    r->sent[pr->p] = off;
    return NULL;
}

struct consumer {
    struct run *r;
    ferry_rx *rx; /* its own clone */
    size_t leave_after;
};

static void *consume(void *arg)
{
    struct consumer *cn = arg;
    struct run *r = cn->r;
    unsigned seed = (unsigned)(uintptr_t)cn;
    size_t last[P];
    for (int p = 0; p < P; p++)
        last[p] = SIZE_MAX;
    uint64_t buf[16];
    for (size_t got = 0; !r->release || got < cn->leave_after;) {
        size_t max = 1 + (size_t)rand_r(&seed) % 16;
        ssize_t k;
        if (rand_r(&seed) % 2) {
            k = ferry_recv(cn->rx, buf, max);
        } else {
            struct timespec dl = ferry_deadline_in(rand_r(&seed) % 50000);
            k = ferry_recv_until(cn->rx, buf, max, &dl);
            if (k == -ETIMEDOUT)
                continue;
        }
        if (k == 0)
            break; /* closed and drained */
        CHECK_MSG(k > 0 && (size_t)k <= max, "recv: %zd", k);
        for (ssize_t i = 0; i < k; i++) {
            if (r->k->levels == 1) {
                items_receive(r->seen, P, r->per, last, buf[i]);
            } else {
                int p;
                size_t seq;
                items_mark(r->seen, P, r->per, buf[i], "received", &p, &seq);
            }
        }
        got += (size_t)k;
        atomic_fetch_add_explicit(&r->received, (size_t)k, memory_order_relaxed);
    }
    ferry_rx_release(cn->rx);
    return NULL;
}

static void one_run(const struct kind *k, bool release, unsigned round)
{
    struct run r = {.k = k, .per = ferry_test_scaled(4000), .release = release};
    r.seen = calloc((size_t)P * r.per, 1);
    CHECK(r.seen != NULL);
    atomic_store(&r.received, 0);
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = k->cap, .levels = k->levels,
                             .budget = k->budget, .weigh = k->weigh ? weigh_seq : NULL, .drop = drop_item,
                             .drop_ctx = &r, .name = k->name};
    CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
    pthread_t t[P + C];
    struct producer prs[P];
    struct consumer cns[C];
    for (int i = 0; i < P; i++) {
        prs[i] = (struct producer){&r, i};
        CHECK_EQ(pthread_create(&t[i], NULL, produce, &prs[i]), 0);
    }
    for (int i = 0; i < C; i++) {
        cns[i] = (struct consumer){&r, ferry_rx_clone(r.rx), (size_t)(round * 331 + (unsigned)i * 997) % r.per};
        CHECK_EQ(pthread_create(&t[P + i], NULL, consume, &cns[i]), 0);
    }
    ferry_rx_release(r.rx); /* the consumers hold the receiving side */
    if (!release) {
        ferry_test_sleep_ms(1 + (long)(round % 4));
        ferry_tx_close(r.tx);
    }
    for (int i = 0; i < P; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    ferry_tx_close(r.tx); /* consumers still there drain, then leave */
    for (int i = P; i < P + C; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    /* Exactly the items counted as sent, each once (received or dropped). */
    size_t total = 0;
    for (int p = 0; p < P; p++) {
        total += r.sent[p];
        for (size_t s = 0; s < r.per; s++)
            CHECK_MSG(r.seen[(size_t)p * r.per + s] == (s < r.sent[p]),
                      "%s %s: producer %d item %zu seen %d times, %zu counted as sent", k->name,
                      release ? "release" : "close", p, s, (int)r.seen[(size_t)p * r.per + s], r.sent[p]);
    }
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(r.tx, &st), 0);
    CHECK_EQ(st.items_sent, total);
    CHECK_EQ(st.len, 0);
    ferry_tx_release(r.tx);
    free(r.seen);
}

static void each_kind(bool release)
{
    for (unsigned round = 0; round < 8; round++)
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            one_run(&kinds[i], release, round);
}

FERRY_TEST(close_mid_traffic_every_kind_every_send) { each_kind(false); }
FERRY_TEST(last_receiver_leaves_mid_traffic_every_kind_every_send) { each_kind(true); }
