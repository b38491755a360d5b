/* SPDX-License-Identifier: MIT */
/* ferry/llq.h under two threads: exactly once, FIFO, nothing freed twice or
 * leaked (ASan/LSan), the stub recycled constantly on a near-empty queue. */
#include <ferry/list.h>
#include <ferry/llq.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "test.h"

typedef struct msg {
    ferry_llq_node node;
    uint64_t seq;
    uint64_t check;
} msg;

typedef struct ctx {
    ferry_llq q;
    size_t total;
} ctx;

static void *producer(void *arg)
{
    ctx *c = arg;
    uint64_t rng = 99;
    for (uint64_t i = 0; i < c->total; i++) {
        msg *m = malloc(sizeof *m);
        m->seq = i;
        m->check = ~i;
        ferry_llq_push(&c->q, &m->node);
        if (ferry_test_rand(&rng) % 64 == 0)
            sched_yield();   /* let the queue run empty now and then */
    }
    return NULL;
}

FERRY_TEST(llq_exactly_once_fifo)
{
    ctx c = {.total = ferry_test_scaled(5000000)};
    ferry_llq_init(&c.q);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, producer, &c), 0);
    uint64_t next = 0, empties = 0;
    while (next < c.total) {
        ferry_llq_node *n = ferry_llq_pop(&c.q);
        if (!n) {
            empties++;
            if (empties % 16 == 0)
                sched_yield();
            continue;
        }
        msg *m = ferry_container_of(n, msg, node);
        CHECK_EQ(m->seq, next);
        CHECK_EQ(m->check, ~next);
        next++;
        free(m);
    }
    pthread_join(t, NULL);
    CHECK(ferry_llq_pop(&c.q) == NULL);
    CHECK(ferry_llq_empty(&c.q));
}

/* A few nodes circulate between two threads through two queues: each queue
 * is almost always empty or holds one node, so nearly every pop appends the
 * stub. Each node carries a counter that only the thread owning it bumps. */
enum { POOL = 4 };
typedef struct ring2 {
    ferry_llq ab, ba;
    size_t rounds;
} ring2;

static void *bouncer(void *arg)
{
    ring2 *r = arg;
    size_t seen = 0;
    uint64_t expect[POOL] = {0};
    while (seen < r->rounds * POOL) {
        ferry_llq_node *n = ferry_llq_pop(&r->ab);
        if (!n) {
            sched_yield();
            continue;
        }
        msg *m = ferry_container_of(n, msg, node);
        CHECK(m->seq < POOL);
        CHECK_EQ(m->check, expect[m->seq] * 2 + 1);   /* odd: sent by main */
        expect[m->seq]++;
        m->check++;
        ferry_llq_push(&r->ba, n);
        seen++;
    }
    return NULL;
}

FERRY_TEST(llq_ping_pong_stub_recycling)
{
    ring2 r = {.rounds = ferry_test_scaled(500000)};
    ferry_llq_init(&r.ab);
    ferry_llq_init(&r.ba);
    msg *pool = calloc(POOL, sizeof *pool);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, bouncer, &r), 0);
    for (int i = 0; i < POOL; i++) {
        pool[i].seq = (uint64_t)i;
        pool[i].check = 1;
        ferry_llq_push(&r.ab, &pool[i].node);
    }
    size_t back = 0;
    uint64_t expect[POOL] = {0};
    while (back < r.rounds * POOL) {
        ferry_llq_node *n = ferry_llq_pop(&r.ba);
        if (!n) {
            sched_yield();
            continue;
        }
        msg *m = ferry_container_of(n, msg, node);
        CHECK_EQ(m->check, expect[m->seq] * 2 + 2);   /* even: came back */
        expect[m->seq]++;
        back++;
        if (back + POOL <= r.rounds * POOL) {
            m->check++;
            ferry_llq_push(&r.ab, n);
        }
    }
    pthread_join(t, NULL);
    CHECK(ferry_llq_pop(&r.ab) == NULL);
    CHECK(ferry_llq_pop(&r.ba) == NULL);
    free(pool);
}
