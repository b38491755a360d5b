/* SPDX-License-Identifier: MIT */
/* ferry_chan_stats while traffic runs (ferry/chan.h): the counters never go
 * down, len stays within the capacity, and once the traffic stops every
 * count is exact -- on every data path. And the case behind the first
 * promise on the lock-free paths: a receive that pops items without the
 * lock and then finds blocked senders finishes under the lock; its batch is
 * counted once, from the pop on, never taken back meanwhile. */
#include <errno.h>
#include <pthread.h>

#include "chan_op.h"
#include "chan_test.h"

/* ---- one receive between its lock-free pop and the lock ---- */

static ferry_tx *g_tx;
static ferry_rx *g_rx;

static void *send_one(void *arg)
{
    (void)arg;
    long v = 2;
    CHECK_EQ(ferry_send(g_tx, &v, 1), 1); /* blocks: the ring is full */
    return NULL;
}

static void *try_recv_one(void *arg)
{
    long *out = arg;
    CHECK_EQ(ferry_try_recv(g_rx, out, 1), 1);
    return NULL;
}

/* The counters of ferry_chan_stats, read as it reads them, by a thread
 * that already holds the lock. */
static struct ferry_chan_stats stats_held(struct ferry_chan *c)
{
    struct ferry_chan_stats st = c->st;
    c->path->stats(c, &st);
    return st;
}

static void batch_counted_once(size_t cap)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .name = "stats"};
    CHECK_EQ(ferry_chan_open(&cfg, &g_tx, &g_rx), 0);
    struct ferry_chan *c = ferry__tx_chan(g_tx);
    CHECK(c->path == &ferry__chan_path_lockfree);
    long v = 1;
    for (size_t i = 0; i < cap; i++)
        CHECK_EQ(ferry_try_send(g_tx, &v, 1), 1);
    pthread_t s, r;
    CHECK_EQ(pthread_create(&s, NULL, send_one, NULL), 0);
    wait_blocked(g_tx, 0, 1);
    struct ferry_chan_stats before = stats(g_tx);

    /* Hold the lock: the receive pops one item without it, sees the
     * blocked sender and waits for the lock. */
    ferry__chan_lock(c);
    long got = 0;
    CHECK_EQ(pthread_create(&r, NULL, try_recv_one, &got), 0);
    for (int i = 0; i < 5000 && stats_held(c).len == cap; i++)
        ferry_test_sleep_ms(1);
    ferry_test_sleep_ms(20); /* on to the lock */
    struct ferry_chan_stats during = stats_held(c);
    ferry__chan_unlock(c);
    CHECK_EQ(during.items_received, before.items_received + 1);
    CHECK_EQ(during.batches_received, before.batches_received + 1); /* was: before's, for a while */

    CHECK_EQ(pthread_join(r, NULL), 0);
    CHECK_EQ(pthread_join(s, NULL), 0);
    CHECK_EQ(got, 1);
    struct ferry_chan_stats after = stats(g_tx);
    CHECK_EQ(after.batches_received, before.batches_received + 1); /* and not twice */
    CHECK_EQ(after.items_received, before.items_received + 1);
    CHECK_EQ(after.len, cap);
    ferry_tx_release(g_tx);
    ferry_rx_release(g_rx);
}

FERRY_TEST(stats_batch_of_a_receive_that_finds_blocked_senders_counted_once_cap1) { batch_counted_once(1); }
FERRY_TEST(stats_batch_of_a_receive_that_finds_blocked_senders_counted_once_cap4) { batch_counted_once(4); }

/* ---- every counter under concurrent traffic ---- */

enum { PRODUCERS = 2, CONSUMERS = 2 };

typedef struct traffic {
    ferry_tx *tx;
    ferry_rx *rx;
    size_t cap, per_producer;
    FERRY_ATOMIC(int) stop;
    FERRY_ATOMIC(long) received;
} traffic;

static void *produce(void *arg)
{
    traffic *t = arg;
    long items[7];
    for (size_t i = 0; i < 7; i++)
        items[i] = (long)i;
    for (size_t sent = 0; sent < t->per_producer;) {
        size_t k = t->per_producer - sent < 7 ? t->per_producer - sent : 7;
        ssize_t r = ferry_send(t->tx, items, k);
        CHECK(r > 0);
        sent += (size_t)r;
    }
    return NULL;
}

static void *consume(void *arg)
{
    traffic *t = arg;
    long out[5];
    ssize_t r;
    while ((r = ferry_recv(t->rx, out, 5)) > 0)
        atomic_fetch_add(&t->received, r);
    CHECK_EQ(r, 0);
    return NULL;
}

#define NOT_DOWN(field) \
    CHECK_MSG(now.field >= prev.field, "%s went down: %llu after %llu", #field, \
              (unsigned long long)now.field, (unsigned long long)prev.field)

static void *watch(void *arg)
{
    traffic *t = arg;
    struct ferry_chan_stats prev = stats(t->rx), now;
    while (!atomic_load(&t->stop)) {
        now = stats(t->rx);
        NOT_DOWN(items_sent);
        NOT_DOWN(batches_sent);
        NOT_DOWN(items_received);
        NOT_DOWN(batches_received);
        NOT_DOWN(sends_blocked);
        NOT_DOWN(recvs_blocked);
        NOT_DOWN(handoffs);
        NOT_DOWN(wakeups);
        if (t->cap != FERRY_UNBOUNDED)
            CHECK_MSG(now.len <= t->cap, "len %zu above the capacity %zu", now.len, t->cap);
        prev = now;
    }
    return NULL;
}

static void counters_under_traffic(size_t cap, unsigned levels)
{
    traffic t = {.cap = cap, .per_producer = ferry_test_scaled(20000)};
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .levels = levels, .name = "traffic"};
    CHECK_EQ(ferry_chan_open(&cfg, &t.tx, &t.rx), 0);
    pthread_t p[PRODUCERS], c[CONSUMERS], w;
    CHECK_EQ(pthread_create(&w, NULL, watch, &t), 0);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_create(&p[i], NULL, produce, &t), 0);
    for (int i = 0; i < CONSUMERS; i++)
        CHECK_EQ(pthread_create(&c[i], NULL, consume, &t), 0);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_join(p[i], NULL), 0);
    ferry_tx_close(t.tx);
    for (int i = 0; i < CONSUMERS; i++)
        CHECK_EQ(pthread_join(c[i], NULL), 0);
    atomic_store(&t.stop, 1);
    CHECK_EQ(pthread_join(w, NULL), 0);

    uint64_t total = (uint64_t)PRODUCERS * t.per_producer;
    struct ferry_chan_stats st = stats(t.tx);
    CHECK_EQ((uint64_t)atomic_load(&t.received), total);
    CHECK_EQ(st.items_sent, total);
    CHECK_EQ(st.items_received, total);
    CHECK_EQ(st.batches_sent, (uint64_t)PRODUCERS * ((t.per_producer + 6) / 7)); /* every send call moved all */
    CHECK(st.batches_received >= (total + 4) / 5 && st.batches_received <= total);
    CHECK_EQ(st.len, 0);
    CHECK(st.closed);
    ferry_tx_release(t.tx);
    ferry_rx_release(t.rx);
}

FERRY_TEST(stats_under_traffic_rendezvous) { counters_under_traffic(0, 1); }
FERRY_TEST(stats_under_traffic_ring_cap1) { counters_under_traffic(1, 1); }
FERRY_TEST(stats_under_traffic_ring_cap16) { counters_under_traffic(16, 1); }
FERRY_TEST(stats_under_traffic_block_list) { counters_under_traffic(FERRY_UNBOUNDED, 1); }
FERRY_TEST(stats_under_traffic_levels) { counters_under_traffic(16, 2); }
