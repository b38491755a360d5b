/* SPDX-License-Identifier: MIT */
/* ferry/llq.h: FIFO, the stub's recycling, node identity and reuse. */
#include <ferry/list.h>
#include <ferry/llq.h>

#include <string.h>

#include "step.h"
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

#ifdef FERRY_TEST_CAN_STEP
/* ---- ferry_llq: pop against a push, push against a pop -------------------
 * llq.h: a pop that meets a push half done reports NULL and a later pop
 * finds the item; the consumer's own stub append may race a push. Each
 * queue state below, each k: every node comes out once, in order, and the
 * queue works afterwards. */
static ferry_llq lq;
static obj objs[64];   /* (obj: above) */
static int next_id, want_id;
static ferry_llq_node *popped;

static void got(ferry_llq_node *n)
{
    CHECK(n != NULL);
    CHECK_EQ(ferry_container_of(n, obj, node)->id, want_id);
    want_id++;
}

static void l_drain(void)
{
    ferry_llq_node *n;
    while ((n = ferry_llq_pop(&lq)) != NULL)
        got(n);
}

static void l_push(void)
{
    CHECK(next_id < 64);
    objs[next_id].id = next_id;
    ferry_llq_push(&lq, &objs[next_id].node);
    next_id++;
}

/* The consumer, as often as it likes while a push is half done: each pop
 * after the first finds the same half-linked state. */
static void l_drain_twice(void)
{
    l_drain();
    l_drain();
}

static void l_pop(void)
{
    popped = ferry_llq_pop(&lq);
}

/* 0 empty; 1 one item; 2 two; 3 the stub appended behind a popped item,
 * then one more; 4 zero-filled with one item; 5 the stub passed, then an
 * item alone again. */
static void l_setup(int state)
{
    ferry_llq_init(&lq);
    next_id = want_id = 0;
    switch (state) {
    case 1: l_push(); break;
    case 2: l_push(); l_push(); break;
    case 3: l_push(); got(ferry_llq_pop(&lq)); l_push(); break;
    case 4: memset(&lq, 0, sizeof lq); l_push(); break;
    case 5:
        l_push();
        got(ferry_llq_pop(&lq));
        CHECK(ferry_llq_pop(&lq) == NULL);
        l_push();
        l_push();
        got(ferry_llq_pop(&lq));
        break;
    default: break;
    }
}

FERRY_TEST(llq_pop_and_push_against_each_other_at_every_instruction)
{
    int runs = 0;
    for (int state = 0; state < 6; state++) {
        for (int k = 1;; k++) {   /* a pop, a push after its k-th instruction */
            l_setup(state);
            popped = NULL;
            bool more = step_run(l_pop, l_push, k);
            if (popped)
                got(popped);
            l_drain();
            CHECK_EQ(want_id, next_id);
            l_push();
            l_drain();
            CHECK_EQ(want_id, next_id);
            CHECK(ferry_llq_empty(&lq));
            runs++;
            if (!more)
                break;
        }
        for (int k = 1;; k++) {   /* a push, the consumer draining after its k-th */
            l_setup(state);
            bool more = step_run(l_push, l_drain_twice, k);
            l_drain();
            CHECK_EQ(want_id, next_id);
            l_push();
            l_drain();
            CHECK_EQ(want_id, next_id);
            runs++;
            if (!more)
                break;
        }
    }
    CHECK(runs > 6 * 2 * 3);
}
#endif /* FERRY_TEST_CAN_STEP */
