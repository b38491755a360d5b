/* SPDX-License-Identifier: MIT */
/* ferry/llq.h: FIFO, the stub's recycling, node identity and reuse. */
#include <ferry/list.h>
#include <ferry/llq.h>

#include <string.h>

#include "test.h"

typedef struct obj {
    int before;
    ferry_llq_node node;
    int id;
} obj;

static int pop_id(ferry_llq *q)
{
    ferry_llq_node *n = ferry_llq_pop(q);
    return n ? ferry_container_of(n, obj, node)->id : -1;
}

FERRY_TEST(empty_pops_null)
{
    ferry_llq q;
    ferry_llq_init(&q);
    CHECK(ferry_llq_pop(&q) == NULL);
    CHECK(ferry_llq_pop(&q) == NULL);
    CHECK(ferry_llq_empty(&q));
}

FERRY_TEST(fifo_and_identity)
{
    ferry_llq q;
    ferry_llq_init(&q);
    obj o[10];
    for (int i = 0; i < 10; i++) {
        o[i].id = i;
        ferry_llq_push(&q, &o[i].node);
    }
    CHECK(!ferry_llq_empty(&q));
    for (int i = 0; i < 10; i++) {
        ferry_llq_node *n = ferry_llq_pop(&q);
        CHECK_PTR_EQ(n, &o[i].node);
        CHECK_PTR_EQ(ferry_container_of(n, obj, node), &o[i]);
    }
    CHECK(ferry_llq_pop(&q) == NULL);
    CHECK(ferry_llq_empty(&q));
}

/* One item at a time: every pop meets the newest node and must append the
 * stub to hand it out. */
FERRY_TEST(single_item_recycles_stub)
{
    ferry_llq q;
    ferry_llq_init(&q);
    obj a = {.id = 1}, b = {.id = 2};
    for (int i = 0; i < 1000; i++) {
        obj *x = (i & 1) ? &b : &a;
        ferry_llq_push(&q, &x->node);
        CHECK_EQ(pop_id(&q), x->id);
        CHECK(ferry_llq_pop(&q) == NULL);
        CHECK(ferry_llq_empty(&q));
    }
}

FERRY_TEST(interleaved)
{
    ferry_llq q;
    ferry_llq_init(&q);
    static obj o[512];
    int next_push = 0, next_pop = 0;
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < round % 5; k++) {
            obj *x = &o[next_push];
            x->id = next_push++;
            ferry_llq_push(&q, &x->node);
        }
        for (int k = 0; k < round % 3 && next_pop < next_push; k++)
            CHECK_EQ(pop_id(&q), next_pop++);
    }
    while (next_pop < next_push)
        CHECK_EQ(pop_id(&q), next_pop++);
    CHECK_EQ(pop_id(&q), -1);
}

/* A popped node may go straight back in, to this queue or another. */
FERRY_TEST(repush_popped_node)
{
    ferry_llq a, b;
    ferry_llq_init(&a);
    ferry_llq_init(&b);
    obj o = {.id = 5};
    ferry_llq_push(&a, &o.node);
    for (int i = 0; i < 100; i++) {
        ferry_llq *from = (i & 1) ? &b : &a, *to = (i & 1) ? &a : &b;
        ferry_llq_node *n = ferry_llq_pop(from);
        CHECK_PTR_EQ(n, &o.node);
        ferry_llq_push(to, n);
    }
    CHECK_EQ(pop_id(&a), 5);
    CHECK(ferry_llq_empty(&a) && ferry_llq_empty(&b));
}

FERRY_TEST(zero_filled_is_empty_queue)
{
    ferry_llq q;
    memset(&q, 0, sizeof q);
    CHECK(ferry_llq_empty(&q));
    CHECK(ferry_llq_pop(&q) == NULL);
    obj o[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
    for (int i = 0; i < 3; i++)
        ferry_llq_push(&q, &o[i].node);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pop_id(&q), i);
    CHECK(ferry_llq_pop(&q) == NULL);
    ferry_llq_push(&q, &o[1].node);
    CHECK_EQ(pop_id(&q), 1);
    CHECK(ferry_llq_empty(&q));
}

/* init on a queue that still holds nodes forgets them (llq.h: they are the
 * caller's, nothing is freed or touched) and leaves an empty queue into
 * which the forgotten nodes may be pushed again. */
FERRY_TEST(init_forgets_queued_nodes)
{
    ferry_llq q;
    ferry_llq_init(&q);
    obj o[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
    for (int i = 0; i < 3; i++)
        ferry_llq_push(&q, &o[i].node);
    CHECK_EQ(pop_id(&q), 0);
    o[0].before = 42;
    ferry_llq_init(&q);
    CHECK(ferry_llq_empty(&q));
    CHECK(ferry_llq_pop(&q) == NULL);
    CHECK_EQ(o[0].before, 42);
    for (int i = 2; i >= 0; i--)
        ferry_llq_push(&q, &o[i].node);
    for (int i = 2; i >= 0; i--)
        CHECK_EQ(pop_id(&q), i);
    CHECK(ferry_llq_empty(&q));
}
