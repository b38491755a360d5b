/* SPDX-License-Identifier: MIT */
/* The real-time toolkit's three parts together, as an audio program uses
 * them, under three threads: objects go from a real-time producer to a
 * consumer through a ferry_spsc ring (push_ptr; peek/consume on the other
 * side), come back for reuse through a ferry_llq, and now and then are
 * retired through a ferry_defer to a collector thread, the only place that
 * frees them. Each object carries the state of its journey; every step
 * checks it: every item is seen exactly once and in order, no object is
 * reused while in the ring, and none is freed while the ring or the queue
 * can still reach it (ThreadSanitizer and ASan see any such access). */
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/llq.h>
#include <ferry/rt.h>
#include <ferry/spsc.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "test.h"

enum { IN_RING = 1, RETURNING, RETIRED, RING_CAP = 16, RETIRE_EVERY = 7 };

typedef struct obj {
    ferry_llq_node ln;
    ferry_defer_node dn;
    uint64_t seq;   /* written by the producer before the push */
    int state;      /* handed over with the object: no two threads at once */
} obj;

static ferry_spsc ring;
static void *ring_buf[RING_CAP];
static ferry_llq back;           /* consumer -> producer */
static ferry_defer garbage;      /* consumer -> collector */
static uint64_t total;
static atomic_int consumer_done;
static atomic_size_t freed;

static void reclaim(ferry_defer_node *n)
{
    obj *o = ferry_container_of(n, obj, dn);
    CHECK_EQ(o->state, RETIRED);
    free(o);
    /* Relaxed: a count, read after the threads are joined. */
    atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

static void *producer(void *arg)
{
    size_t *allocated = arg;
    for (uint64_t i = 0; i < total; i++) {
        ferry_llq_node *n = ferry_llq_pop(&back);
        obj *o;
        if (n) {
            o = ferry_container_of(n, obj, ln);
            CHECK_EQ(o->state, RETURNING);
        } else {
            o = malloc(sizeof *o);   /* outside the section, as a pool refill */
            CHECK(o != NULL);
            ++*allocated;
        }
        o->seq = i;
        o->state = IN_RING;
        ferry_rt_enter();
        bool pushed = ferry_spsc_push_ptr(&ring, o);
        ferry_rt_exit();
        while (!pushed) {
            sched_yield();   /* full: two cores shared by many */
            ferry_rt_enter();
            pushed = ferry_spsc_push_ptr(&ring, o);
            ferry_rt_exit();
        }
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    uint64_t rng = 4242;
    for (uint64_t next = 0; next < total;) {
        obj *o;
        ferry_rt_enter();
        if (ferry_test_rand(&rng) % 2) {
            void **slot = ferry_spsc_peek(&ring);
            o = slot ? *slot : NULL;
            if (o)
                CHECK_EQ(ferry_spsc_consume(&ring, 1), 1);
        } else if (!ferry_spsc_pop_ptr(&ring, (void **)&o)) {
            o = NULL;
        }
        if (o) {
            CHECK_EQ(o->state, IN_RING);
            CHECK_EQ(o->seq, next);
            next++;
            if (o->seq % RETIRE_EVERY == 0) {
                o->state = RETIRED;
                ferry_defer_push(&garbage, &o->dn, reclaim);
            } else {
                o->state = RETURNING;
                ferry_llq_push(&back, &o->ln);
            }
        }
        ferry_rt_exit();
        if (!o)
            sched_yield();
    }
    /* Release: the collector's acquire load below then sees every push. */
    atomic_store_explicit(&consumer_done, 1, memory_order_release);
    return NULL;
}

static void *collector(void *arg)
{
    (void)arg;
    /* Acquire: pairs with the consumer's release store. */
    while (!atomic_load_explicit(&consumer_done, memory_order_acquire)) {
        if (ferry_defer_collect(&garbage) == 0)
            sched_yield();
    }
    ferry_defer_collect(&garbage);
    return NULL;
}

FERRY_TEST(objects_through_ring_queue_and_defer)
{
    total = ferry_test_scaled(2000000);
    CHECK_EQ(ferry_spsc_init(&ring, ring_buf, sizeof ring_buf[0], RING_CAP), 0);
    ferry_llq_init(&back);
    CHECK_EQ(ferry_defer_init(&garbage), 0);
    size_t allocated = 0;
    pthread_t p, c, g;
    CHECK_EQ(pthread_create(&g, NULL, collector, NULL), 0);
    CHECK_EQ(pthread_create(&c, NULL, consumer, NULL), 0);
    CHECK_EQ(pthread_create(&p, NULL, producer, &allocated), 0);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    pthread_join(g, NULL);
    CHECK_EQ(ferry_spsc_size(&ring), 0);
    /* What came back and was not reused: the producer's to free. */
    size_t returned = 0;
    ferry_llq_node *n;
    while ((n = ferry_llq_pop(&back)) != NULL) {
        obj *o = ferry_container_of(n, obj, ln);
        CHECK_EQ(o->state, RETURNING);
        free(o);
        returned++;
    }
    CHECK(ferry_llq_empty(&back));
    CHECK(!ferry_defer_pending(&garbage));
    size_t retired = atomic_load_explicit(&freed, memory_order_relaxed);
    CHECK_EQ(retired, (size_t)((total + RETIRE_EVERY - 1) / RETIRE_EVERY));
    CHECK_EQ(retired + returned, allocated);
}
