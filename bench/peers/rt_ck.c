/* SPDX-License-Identifier: MIT */
/* Concurrency Kit's ck_ring (SPSC, pointer entries) on bench/rt's workload.
 * ck_ring has no batch calls: a batch is a loop of single enqueues and
 * dequeues, which is how it is used. */
#include <ck_ring.h>
#include <pthread.h>
#include <stdlib.h>

#include "rt_peers.h"

typedef struct {
    ck_ring_t ring;
    ck_ring_buffer_t *buf;
    size_t n, batch;
} ck_ctx;

static void *ck_producer(void *arg)
{
    ck_ctx *c = arg;
    rt_pin(1);
    uint64_t v = 1;
    unsigned spins = 0;
    while (v <= c->n) {
        size_t k = c->batch;
        if (k > c->n - v + 1)
            k = c->n - v + 1;
        for (size_t i = 0; i < k;) {
            if (ck_ring_enqueue_spsc(&c->ring, c->buf, (void *)(uintptr_t)v)) {
                v++;
                i++;
                spins = 0;
            } else {
                rt_backoff(&spins);
            }
        }
    }
    return NULL;
}

double rt_peer_ck_ring(size_t n, size_t batch, size_t cap)
{
    ck_ctx c = {.n = n, .batch = batch};
    /* ck_ring holds cap - 1 entries in cap slots; give it one more slot
     * rounded to a power of two would double it, so keep cap (fair enough:
     * one slot in 1024). */
    c.buf = calloc(cap, sizeof *c.buf);
    ck_ring_init(&c.ring, (unsigned)cap);
    rt_pin(0);
    double t0 = rt_now();
    pthread_t t;
    pthread_create(&t, NULL, ck_producer, &c);
    uint64_t sum = 0;
    size_t got = 0;
    unsigned spins = 0;
    while (got < n) {
        size_t k = 0;
        void *p;
        while (k < batch && ck_ring_dequeue_spsc(&c.ring, c.buf, &p)) {
            sum += (uint64_t)(uintptr_t)p;
            k++;
        }
        if (k == 0)
            rt_backoff(&spins);
        else
            spins = 0;
        got += k;
    }
    pthread_join(t, NULL);
    double dt = rt_now() - t0;
    free(c.buf);
    return sum == rt_expected_sum(n) ? dt : -1;
}
