/* SPDX-License-Identifier: MIT */
/* The real-time toolkit (ferry/spsc.h, llq.h, defer.h, rt.h) attacked with
 * hostile arguments: counts at SIZE_MAX, rings of capacity 1 and 2^k,
 * NULL callbacks, a node queued twice, NULL handles. */
#include <ferry/defer.h>
#include <ferry/llq.h>
#include <ferry/rt.h>
#include <ferry/spsc.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* A push count larger than the room left must be clamped to the room, even
 * when the count is so large that "used + count" wraps around size_t (it
 * used to wrap, pass the "fits" test and copy SIZE_MAX items). */
FERRY_TEST(spsc_push_huge_count_is_clamped)
{
    ferry_spsc q;
    uint64_t buf[4], items[4] = {1, 2, 3, 4}, out[4] = {0};
    CHECK_EQ(ferry_spsc_init(&q, buf, sizeof buf[0], 4), 0);
    CHECK_EQ(ferry_spsc_push(&q, items, 1), 1);
    CHECK_EQ(ferry_spsc_push(&q, items + 1, SIZE_MAX), 3);
    CHECK_EQ(ferry_spsc_push(&q, items, SIZE_MAX), 0); /* full */
    CHECK_EQ(ferry_spsc_pop(&q, out, SIZE_MAX), 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(out[i], i + 1);
    CHECK_EQ(ferry_spsc_pop(&q, out, SIZE_MAX), 0); /* empty */
}

/* The same on the general (not 8-byte) copy path, with the ring wrapped. */
FERRY_TEST(spsc_push_huge_count_odd_item_size)
{
    ferry_spsc q;
    char buf[2 * 3], out[2 * 3];
    CHECK_EQ(ferry_spsc_init(&q, buf, 3, 2), 0);
    CHECK_EQ(ferry_spsc_push(&q, "abcdef", 2), 2);
    CHECK_EQ(ferry_spsc_pop(&q, out, 1), 1);
    CHECK(memcmp(out, "abc", 3) == 0);
    CHECK_EQ(ferry_spsc_push(&q, "ghi", SIZE_MAX - 1), 1);
    CHECK_EQ(ferry_spsc_push(&q, "jkl", SIZE_MAX), 0);
    CHECK_EQ(ferry_spsc_pop(&q, out, SIZE_MAX), 2);
    CHECK(memcmp(out, "defghi", 6) == 0);
}

/* Zero counts move nothing and touch no buffer (NULL is fine then). */
FERRY_TEST(spsc_zero_counts)
{
    ferry_spsc q;
    uint64_t buf[1];
    CHECK_EQ(ferry_spsc_init(&q, buf, sizeof buf[0], 1), 0);
    CHECK_EQ(ferry_spsc_push(&q, NULL, 0), 0);
    CHECK_EQ(ferry_spsc_pop(&q, NULL, 0), 0);
    CHECK_EQ(ferry_spsc_consume(&q, SIZE_MAX), 0);
    CHECK_EQ(ferry_spsc_size(&q), 0);
    CHECK_EQ(ferry_spsc_free(&q), 1);
}

/* Capacity and element-size extremes are refused, not overflowed. */
FERRY_TEST(spsc_size_extremes)
{
    ferry_spsc q;
    uint64_t buf[1];
    size_t top = (SIZE_MAX >> 1) + 1; /* the largest power of two */
    CHECK_EQ(ferry_spsc_buffer_size(1, SIZE_MAX), 0);
    CHECK_EQ(ferry_spsc_buffer_size(1, top), top);
    CHECK_EQ(ferry_spsc_buffer_size(2, top), 0);
    CHECK_EQ(ferry_spsc_buffer_size(SIZE_MAX, 1), SIZE_MAX);
    CHECK_EQ(ferry_spsc_buffer_size(SIZE_MAX, 2), 0);
    CHECK_EQ(ferry_spsc_buffer_size(0, 0), 0);
    CHECK_EQ(ferry_spsc_init(&q, buf, 1, SIZE_MAX), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, SIZE_MAX, 2), -EINVAL);
}

/* A consume larger than what was peeked drops only what is there. */
FERRY_TEST(spsc_consume_clamps)
{
    ferry_spsc q;
    uint64_t buf[2], v[2] = {7, 8};
    CHECK_EQ(ferry_spsc_init(&q, buf, sizeof buf[0], 2), 0);
    CHECK_EQ(ferry_spsc_push(&q, v, 2), 2);
    CHECK(ferry_spsc_peek(&q) != NULL);
    CHECK_EQ(ferry_spsc_consume(&q, SIZE_MAX), 2);
    CHECK(ferry_spsc_peek(&q) == NULL);
    CHECK_EQ(ferry_spsc_consume(&q, 1), 0);
}

static int ran;
static void count_node(ferry_defer_node *n)
{
    (void)n;
    ran++;
}

/* NULL handles: init refuses, fini and collect do nothing. */
FERRY_TEST(defer_null_handles)
{
    CHECK_EQ(ferry_defer_init(NULL), -EINVAL);
    ferry_defer_fini(NULL);
    CHECK_EQ(ferry_defer_collect(NULL), 0);
    ferry_shared s;
    ferry_defer d;
    CHECK_EQ(ferry_shared_init(&s, &d, NULL), -EINVAL);
}

/* The query too: nothing is pending on no list (it read through NULL). */
FERRY_TEST(defer_pending_null_is_false)
{
    CHECK(!ferry_defer_pending(NULL));
}

/* A NULL fn would be called by the collector, far from the bug: the push
 * itself aborts. */
FERRY_DEATH_TEST(defer_push_null_fn_aborts, "ferry_defer_push: NULL fn")
{
    static ferry_defer d;
    static ferry_defer_node n;
    ferry_defer_push(&d, &n, NULL);
    ferry_defer_collect(&d);
}

/* The same node pushed twice in a row would link to itself and make the
 * collector run its fn forever: the second push aborts. */
FERRY_DEATH_TEST(defer_push_twice_aborts, "is already queued")
{
    static ferry_defer d;
    static ferry_defer_node n;
    ferry_defer_push(&d, &n, count_node);
    ferry_defer_push(&d, &n, count_node);
    ferry_defer_collect(&d);
}

/* A node may be pushed again once its fn ran. */
FERRY_TEST(defer_repush_after_collect)
{
    ferry_defer d;
    ferry_defer_node n;
    CHECK_EQ(ferry_defer_init(&d), 0);
    ran = 0;
    ferry_defer_push(&d, &n, count_node);
    CHECK_EQ(ferry_defer_collect(&d), 1);
    ferry_defer_push(&d, &n, count_node);
    CHECK_EQ(ferry_defer_collect(&d), 1);
    CHECK_EQ(ran, 2);
    CHECK_EQ(ferry_defer_collect(&d), 0);
}

/* A zero-filled llq used from the first pop on, many times over. */
FERRY_TEST(llq_zero_filled_pop_first)
{
    static ferry_llq q; /* zero-filled */
    ferry_llq_node a, b;
    CHECK(ferry_llq_empty(&q));
    CHECK(ferry_llq_pop(&q) == NULL);
    ferry_llq_push(&q, &a);
    CHECK(!ferry_llq_empty(&q));
    CHECK_PTR_EQ(ferry_llq_pop(&q), &a);
    CHECK(ferry_llq_pop(&q) == NULL);
    ferry_llq_push(&q, &a);
    ferry_llq_push(&q, &b);
    CHECK_PTR_EQ(ferry_llq_pop(&q), &a);
    CHECK_PTR_EQ(ferry_llq_pop(&q), &b);
    CHECK(ferry_llq_empty(&q));
}

/* rt marks nest deeply and unwind exactly. */
FERRY_TEST(rt_deep_nesting)
{
    for (unsigned i = 0; i < 100000; i++)
        ferry_rt_enter();
    CHECK_EQ(ferry_rt_depth(), 100000);
    for (unsigned i = 0; i < 100000; i++)
        ferry_rt_exit();
    CHECK(!ferry_rt_active());
}

/* The llq's out-of-line set-up and query take NULL as the defer calls do
 * (init does nothing, empty says true); they used to read or write through
 * it (SIGSEGV). push and pop stay unchecked: llq.h says so. */
FERRY_TEST(llq_init_and_empty_accept_null)
{
    ferry_llq_init(NULL);
    CHECK(ferry_llq_empty(NULL));
}

/* The ring, the queue and the deferral list are cache-line aligned types
 * (spsc.h): what the header tells heap users to do works (ASan+UBSan
 * builds check each access for the alignment), and the alignment is what
 * it says. */
FERRY_TEST(aligned_alloc_is_enough_for_the_cache_line_types)
{
    CHECK_EQ(_Alignof(ferry_spsc), FERRY_CACHELINE);
    CHECK_EQ(_Alignof(ferry_llq), FERRY_CACHELINE);
    CHECK_EQ(_Alignof(ferry_defer), FERRY_CACHELINE);
    CHECK_EQ(sizeof(ferry_spsc) % FERRY_CACHELINE, 0);
    CHECK_EQ(sizeof(ferry_llq) % FERRY_CACHELINE, 0);
    CHECK_EQ(sizeof(ferry_defer) % FERRY_CACHELINE, 0);
    ferry_spsc *q = aligned_alloc(FERRY_CACHELINE, sizeof *q);
    ferry_llq *l = aligned_alloc(FERRY_CACHELINE, sizeof *l);
    ferry_defer *d = aligned_alloc(FERRY_CACHELINE, sizeof *d);
    CHECK(q && l && d);
    uint64_t buf[4], v = 5, out = 0;
    CHECK_EQ(ferry_spsc_init(q, buf, sizeof buf[0], 4), 0);
    CHECK_EQ(ferry_spsc_push(q, &v, 1), 1);
    CHECK_EQ(ferry_spsc_pop(q, &out, 1), 1);
    CHECK_EQ(out, 5);
    ferry_llq_node n;
    ferry_llq_init(l);
    ferry_llq_push(l, &n);
    CHECK_PTR_EQ(ferry_llq_pop(l), &n);
    ferry_defer_node dn;
    CHECK_EQ(ferry_defer_init(d), 0);
    ran = 0;
    ferry_defer_push(d, &dn, count_node);
    ferry_defer_fini(d);
    CHECK_EQ(ran, 1);
    free(q);
    free(l);
    free(d);
}
