/* SPDX-License-Identifier: MIT */
/* ferry/defer.h with several collectors at once (the header allows it:
 * each takes a disjoint batch) against several pushers, with reclamation
 * functions that push their node again once: every node's function runs
 * exactly twice, and nothing is left. And a collector that meets a push
 * stopped half-way (exchange done, link not yet written, as when the pusher
 * is preempted there) waits for it and loses nothing. */
#include <ferry/defer.h>
#include <ferry/list.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "test.h"

enum { PUSHERS = 2, COLLECTORS = 2 };

typedef struct item {
    ferry_defer_node dn;
    FERRY_ATOMIC(int) runs;
} item;

static ferry_defer d;
static FERRY_ATOMIC(int) pushers_left;
static FERRY_ATOMIC(size_t) runs_total;

static void reclaim(ferry_defer_node *dn)
{
    item *it = ferry_container_of(dn, item, dn);
    int r = atomic_fetch_add(&it->runs, 1);
    CHECK_MSG(r < 2, "a node's function ran %d times", r + 1);
    atomic_fetch_add(&runs_total, 1);
    if (r == 0)
        ferry_defer_push(&d, dn, reclaim); /* once more, from the collector */
}

typedef struct pusher_arg {
    item *items;
    size_t n;
} pusher_arg;

static void *pusher(void *arg)
{
    pusher_arg *a = arg;
    for (size_t i = 0; i < a->n; i++)
        ferry_defer_push(&d, &a->items[i].dn, reclaim);
    atomic_fetch_sub(&pushers_left, 1);
    return NULL;
}

static void *collector(void *arg)
{
    size_t *collected = arg;
    while (atomic_load(&pushers_left) > 0) {
        size_t n = ferry_defer_collect(&d);
        *collected += n;
        if (n == 0)
            sched_yield();
    }
    *collected += ferry_defer_collect(&d);
    return NULL;
}

FERRY_TEST(concurrent_collectors_run_each_function_exactly_as_pushed)
{
    size_t per = ferry_test_scaled(200000);
    item *items = calloc(PUSHERS * per, sizeof *items);
    CHECK(items != NULL);
    ferry_defer_init(&d);
    atomic_store(&pushers_left, PUSHERS);
    atomic_store(&runs_total, 0);
    pthread_t p[PUSHERS], c[COLLECTORS];
    pusher_arg pa[PUSHERS];
    size_t collected[COLLECTORS] = {0};
    for (int i = 0; i < COLLECTORS; i++)
        CHECK_EQ(pthread_create(&c[i], NULL, collector, &collected[i]), 0);
    for (int i = 0; i < PUSHERS; i++) {
        pa[i].items = items + (size_t)i * per;
        pa[i].n = per;
        CHECK_EQ(pthread_create(&p[i], NULL, pusher, &pa[i]), 0);
    }
    for (int i = 0; i < PUSHERS; i++)
        CHECK_EQ(pthread_join(p[i], NULL), 0);
    for (int i = 0; i < COLLECTORS; i++)
        CHECK_EQ(pthread_join(c[i], NULL), 0);
    size_t total = 0;
    for (int i = 0; i < COLLECTORS; i++)
        total += collected[i];
    /* Re-pushes made by the last collections may remain: fini runs them. */
    ferry_defer_fini(&d);
    CHECK(!ferry_defer_pending(&d));
    CHECK_EQ(atomic_load(&runs_total), 2 * PUSHERS * per);
    CHECK(total <= 2 * PUSHERS * per);
    for (size_t i = 0; i < PUSHERS * per; i++)
        CHECK_EQ(atomic_load(&items[i].runs), 2);
    free(items);
}

/* ---- a push stopped between its exchange and its link ---- */

static ferry_defer half_d;
static int order[4], norder;
static FERRY_ATOMIC(int) collect_started;
static FERRY_ATOMIC(size_t) half_collected;

static item half_items[3];

static void record_index(ferry_defer_node *dn)
{
    item *it = ferry_container_of(dn, item, dn);
    order[norder++] = (int)(it - half_items);
}

static void *half_collector(void *arg)
{
    (void)arg;
    atomic_store(&collect_started, 1);
    atomic_store(&half_collected, ferry_defer_collect(&half_d));
    return NULL;
}

FERRY_TEST(collect_waits_for_a_push_stopped_half_way)
{
    ferry_defer_init(&half_d);
    norder = 0;
    ferry_defer_push(&half_d, &half_items[0].dn, record_index);
    /* Push 1 by hand, as ferry_defer_push does, stopping after the
     * exchange: the list's newest node now links to nothing yet. */
    ferry_defer_node *n1 = &half_items[1].dn;
    n1->fn = record_index;
    atomic_store_explicit(&n1->next, FERRY__DEFER_LINKING, memory_order_relaxed);
    ferry_defer_node *prev = atomic_exchange(&half_d.head, n1);
    CHECK(prev == &half_items[0].dn);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, half_collector, NULL), 0);
    /* The collector has taken the batch once the list is empty. */
    while (!atomic_load(&collect_started) || atomic_load(&half_d.head) != NULL)
        sched_yield();
    ferry_test_sleep_ms(20);
    /* It waits for the link: nothing ran, and a push meanwhile goes to the
     * next batch. */
    CHECK_EQ(norder, 0);
    CHECK_EQ(atomic_load(&half_collected), 0);
    ferry_defer_push(&half_d, &half_items[2].dn, record_index);
    atomic_store_explicit(&n1->next, prev, memory_order_release); /* the push resumes */
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&half_collected), 2);
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[0], 0);
    CHECK_EQ(order[1], 1);
    CHECK_EQ(ferry_defer_collect(&half_d), 1);
    CHECK_EQ(order[2], 2);
    ferry_defer_fini(&half_d);
}
