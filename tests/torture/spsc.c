/* SPDX-License-Identifier: MIT */
/* ferry/spsc.h under two threads: every item arrives exactly once, in order,
 * with random batch sizes on both sides and elements of several sizes. */
#include <ferry/spsc.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

typedef struct ctx {
    ferry_spsc q;
    size_t es;       /* element size, >= 8: the sequence number, then filler */
    size_t total;
    size_t maxbatch;
} ctx;

static void fill(char *el, size_t es, uint64_t seq)
{
    memcpy(el, &seq, 8);
    for (size_t i = 8; i < es; i++)
        el[i] = (char)(seq * 31 + i);
}

static void *producer(void *arg)
{
    ctx *c = arg;
    uint64_t rng = 12345, seq = 0;
    char *batch = malloc(c->es * c->maxbatch);
    while (seq < c->total) {
        size_t n = (size_t)(ferry_test_rand(&rng) % c->maxbatch) + 1;
        if (n > c->total - seq)
            n = c->total - seq;
        for (size_t i = 0; i < n; i++)
            fill(batch + i * c->es, c->es, seq + i);
        size_t done = 0;
        while (done < n) {
            size_t k = ferry_spsc_push(&c->q, batch + done * c->es, n - done);
            if (k == 0)
                sched_yield();   /* two cores shared by many: let the consumer run */
            done += k;
        }
        seq += n;
    }
    free(batch);
    return NULL;
}

static void run(size_t es, size_t cap, size_t total, size_t maxbatch)
{
    ctx c = {.es = es, .total = total, .maxbatch = maxbatch};
    char *buf = malloc(es * cap);
    CHECK_EQ(ferry_spsc_init(&c.q, buf, es, cap), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, producer, &c), 0);
    char *out = malloc(es * maxbatch), *want = malloc(es);
    uint64_t rng = 777, next = 0;
    while (next < total) {
        size_t max = (size_t)(ferry_test_rand(&rng) % maxbatch) + 1;
        size_t n;
        if (ferry_test_rand(&rng) % 8 == 0) {
            /* peek/consume path */
            char *p = ferry_spsc_peek(&c.q);
            n = 0;
            if (p) {
                memcpy(out, p, es);
                CHECK_EQ(ferry_spsc_consume(&c.q, 1), 1);
                n = 1;
            }
        } else {
            n = ferry_spsc_pop(&c.q, out, max);
        }
        if (n == 0)
            sched_yield();
        for (size_t i = 0; i < n; i++) {
            fill(want, es, next);
            CHECK_MSG(memcmp(out + i * es, want, es) == 0, "item %llu corrupt or out of order",
                      (unsigned long long)next);
            next++;
        }
    }
    pthread_join(t, NULL);
    CHECK_EQ(ferry_spsc_pop(&c.q, out, maxbatch), 0);
    CHECK_EQ(ferry_spsc_size(&c.q), 0);
    free(out);
    free(want);
    free(buf);
}

FERRY_TEST(spsc_pointers_random_batches)
{
    run(8, 1024, ferry_test_scaled(40000000), 300);
}

FERRY_TEST(spsc_small_ring_batches_wrap)
{
    run(8, 16, ferry_test_scaled(10000000), 24);
}

FERRY_TEST(spsc_wide_elements)
{
    run(40, 64, ferry_test_scaled(4000000), 50);
}
