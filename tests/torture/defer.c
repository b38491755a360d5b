/* SPDX-License-Identifier: MIT */
/* ferry/defer.h with several real-time producers and a concurrent collector:
 * every node reclaimed exactly once, in push order per producer, nothing
 * leaked; ferry_shared destroyed exactly once, never while held. */
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/rt.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "test.h"

enum { PRODUCERS = 3 };

typedef struct node {
    ferry_defer_node dn;
    int producer;
    uint64_t seq;
} node;

static ferry_defer garbage;
static size_t per_producer;
static uint64_t next_seq[PRODUCERS];   /* only the collector touches these */
static size_t reclaimed;
static atomic_int producers_done;

static void reclaim(ferry_defer_node *dn)
{
    node *n = ferry_container_of(dn, node, dn);
    CHECK(n->producer >= 0 && n->producer < PRODUCERS);
    CHECK_EQ(n->seq, next_seq[n->producer]);
    next_seq[n->producer]++;
    reclaimed++;
    free(n);
}

static void *producer(void *arg)
{
    int id = (int)(intptr_t)arg;
    /* Allocate outside the section, push inside it, as a real-time thread
     * would: here in chunks. */
    enum { CHUNK = 64 };
    node *chunk[CHUNK];
    uint64_t seq = 0;
    while (seq < per_producer) {
        size_t n = per_producer - seq < CHUNK ? per_producer - seq : CHUNK;
        for (size_t i = 0; i < n; i++) {
            chunk[i] = malloc(sizeof(node));
            chunk[i]->producer = id;
            chunk[i]->seq = seq + i;
        }
        ferry_rt_enter();
        for (size_t i = 0; i < n; i++)
            ferry_defer_push(&garbage, &chunk[i]->dn, reclaim);
        ferry_rt_exit();
        seq += n;
    }
    atomic_fetch_add_explicit(&producers_done, 1, memory_order_release);
    return NULL;
}

FERRY_TEST(defer_many_producers_concurrent_collect)
{
    per_producer = ferry_test_scaled(1000000);
    ferry_defer_init(&garbage);
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, producer, (void *)(intptr_t)i), 0);
    size_t collected = 0;
    while (atomic_load_explicit(&producers_done, memory_order_acquire) < PRODUCERS) {
        size_t n = ferry_defer_collect(&garbage);
        collected += n;
        if (n == 0)
            sched_yield();
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    collected += ferry_defer_collect(&garbage);
    ferry_defer_fini(&garbage);
    CHECK_EQ(collected, per_producer * PRODUCERS);
    CHECK_EQ(reclaimed, per_producer * PRODUCERS);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(next_seq[i], per_producer);
}

/* ---- ferry_shared ---- */

enum { OBJS = 8, USERS = 3 };

typedef struct obj {
    ferry_shared sh;
    atomic_int destroyed;
    uint64_t payload;
} obj;

static obj *_Atomic slots[OBJS];   /* current version of each object */
static ferry_defer shared_garbage;
static atomic_size_t destroys;
static size_t iters;

static void destroy_obj(ferry_shared *s)
{
    obj *o = ferry_container_of(s, obj, sh);
    CHECK_EQ(atomic_fetch_add_explicit(&o->destroyed, 1, memory_order_relaxed), 0);
    atomic_fetch_add_explicit(&destroys, 1, memory_order_relaxed);
    free(o);
}

/* Readers take a reference to the current version of a slot from a
 * handed-over reference; to keep the test free of a separate protection
 * scheme, every user holds its own references from the start and passes
 * them around by acquire/release only. */
typedef struct user {
    int id;
    obj *held[OBJS];
} user;

static void *user_thread(void *arg)
{
    user *u = arg;
    uint64_t rng = (uint64_t)u->id * 7919 + 1;
    for (size_t i = 0; i < iters; i++) {
        int k = (int)(ferry_test_rand(&rng) % OBJS);
        bool rt = ferry_test_rand(&rng) & 1;
        if (rt)
            ferry_rt_enter();
        obj *o = u->held[k];
        ferry_shared_acquire(&o->sh);
        CHECK_EQ(atomic_load_explicit(&o->destroyed, memory_order_relaxed), 0);
        CHECK_EQ(o->payload, (uint64_t)k);
        ferry_shared_release(&o->sh);
        if (rt)
            ferry_rt_exit();
    }
    /* Drop this user's references: some in a section, some not. */
    for (int k = 0; k < OBJS; k++) {
        if (k & 1)
            ferry_rt_enter();
        ferry_shared_release(&u->held[k]->sh);
        if (k & 1)
            ferry_rt_exit();
    }
    return NULL;
}

FERRY_TEST(shared_destroyed_exactly_once)
{
    iters = ferry_test_scaled(1000000);
    ferry_defer_init(&shared_garbage);
    user users[USERS];
    for (int k = 0; k < OBJS; k++) {
        obj *o = malloc(sizeof *o);
        ferry_shared_init(&o->sh, &shared_garbage, destroy_obj);
        atomic_init(&o->destroyed, 0);
        o->payload = (uint64_t)k;
        slots[k] = o;
        for (int u = 0; u < USERS; u++) {
            ferry_shared_acquire(&o->sh);
            users[u].held[k] = o;
        }
    }
    pthread_t t[USERS];
    for (int u = 0; u < USERS; u++) {
        users[u].id = u;
        CHECK_EQ(pthread_create(&t[u], NULL, user_thread, &users[u]), 0);
    }
    /* Drop the creator's references while users run, in a section. */
    ferry_rt_enter();
    for (int k = 0; k < OBJS; k++)
        ferry_shared_release(&slots[k]->sh);
    ferry_rt_exit();
    for (int u = 0; u < USERS; u++) {
        while (ferry_defer_collect(&shared_garbage))
            ;
        pthread_join(t[u], NULL);
    }
    ferry_defer_fini(&shared_garbage);
    CHECK_EQ(atomic_load(&destroys), OBJS);
}
