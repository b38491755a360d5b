/* SPDX-License-Identifier: MIT */
/* ferry/spsc.h: argument checks, FIFO, partial batches, wrap-around. */
#include <ferry/spsc.h>

#include <errno.h>
#include <string.h>

#include "step.h"
#include "test.h"

FERRY_TEST(init_rejects_bad_arguments)
{
    ferry_spsc q;
    uint64_t buf[8];
    CHECK_EQ(ferry_spsc_init(NULL, buf, 8, 8), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, NULL, 8, 8), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 0, 8), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 0), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 3), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 6), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, SIZE_MAX / 2, 4), -EINVAL);   /* overflow */
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, SIZE_MAX), -EINVAL);   /* not a power of two */
    CHECK_EQ(ferry_spsc_buffer_size(1, SIZE_MAX), 0);
    /* The largest power of two: exact for 1-byte items, overflow for 2. */
    size_t top = (SIZE_MAX >> 1) + 1;
    CHECK_EQ(ferry_spsc_buffer_size(1, top), top);
    CHECK_EQ(ferry_spsc_buffer_size(2, top), 0);
    CHECK_EQ(ferry_spsc_init(&q, buf, 2, top), -EINVAL);
    CHECK_EQ(ferry_spsc_buffer_size(8, 6), 0);
    CHECK_EQ(ferry_spsc_buffer_size(24, 16), 24 * 16);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 8), 0);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 1), 0);
    CHECK_EQ(ferry_spsc_capacity(&q), 1);
}

FERRY_TEST(layout_separates_sides)
{
    /* Producer and consumer indices are two cache lines apart. */
    CHECK(offsetof(ferry_spsc, tail) - offsetof(ferry_spsc, head) >= 2 * FERRY_CACHELINE);
    CHECK(offsetof(ferry_spsc, p_tail_cache) < FERRY_CACHELINE);
    CHECK(offsetof(ferry_spsc, c_head_cache) - offsetof(ferry_spsc, tail) < FERRY_CACHELINE);
}

FERRY_TEST(push_pop_fifo)
{
    ferry_spsc q;
    uint64_t buf[8], out[8];
    ferry_spsc_init(&q, buf, sizeof buf[0], 8);
    CHECK_EQ(ferry_spsc_pop(&q, out, 8), 0);
    for (uint64_t i = 0; i < 5; i++)
        CHECK_EQ(ferry_spsc_push(&q, &i, 1), 1);
    CHECK_EQ(ferry_spsc_size(&q), 5);
    CHECK_EQ(ferry_spsc_free(&q), 3);
    CHECK_EQ(ferry_spsc_pop(&q, out, 2), 2);
    CHECK_EQ(out[0], 0);
    CHECK_EQ(out[1], 1);
    CHECK_EQ(ferry_spsc_pop(&q, out, 8), 3);
    CHECK_EQ(out[0], 2);
    CHECK_EQ(out[2], 4);
    CHECK_EQ(ferry_spsc_pop(&q, out, 8), 0);
    CHECK_EQ(ferry_spsc_size(&q), 0);
}

FERRY_TEST(push_stops_when_full)
{
    ferry_spsc q;
    uint32_t buf[4], in[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, out[10];
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    CHECK_EQ(ferry_spsc_push(&q, in, 10), 4);
    CHECK_EQ(ferry_spsc_push(&q, in, 1), 0);
    CHECK_EQ(ferry_spsc_push(&q, in, 0), 0);
    CHECK_EQ(ferry_spsc_free(&q), 0);
    CHECK_EQ(ferry_spsc_pop(&q, out, 0), 0);
    CHECK_EQ(ferry_spsc_pop(&q, out, 1), 1);
    CHECK_EQ(out[0], 1);
    CHECK_EQ(ferry_spsc_push(&q, in + 4, 6), 1);
    CHECK_EQ(ferry_spsc_pop(&q, out, 10), 4);
    CHECK_EQ(out[0], 2);
    CHECK_EQ(out[3], 5);
}

/* Odd element sizes, batches that wrap at every offset. */
FERRY_TEST(wraparound_batches)
{
    enum { ES = 24, CAP = 16 };
    ferry_spsc q;
    char buf[ES * CAP];
    ferry_spsc_init(&q, buf, ES, CAP);
    char in[ES * CAP], out[ES * CAP];
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t)(round * 7 % CAP) + 1;
        for (size_t i = 0; i < n; i++) {
            memset(in + i * ES, 0, ES);
            uint64_t v = next_in + i;
            memcpy(in + i * ES, &v, sizeof v);
            memcpy(in + i * ES + 16, &v, sizeof v);
        }
        size_t pushed = ferry_spsc_push(&q, in, n);
        next_in += pushed;
        size_t m = ferry_spsc_pop(&q, out, (size_t)(round * 5 % CAP) + 1);
        for (size_t i = 0; i < m; i++) {
            uint64_t a, b;
            memcpy(&a, out + i * ES, sizeof a);
            memcpy(&b, out + i * ES + 16, sizeof b);
            CHECK_EQ(a, next_out);
            CHECK_EQ(b, next_out);
            next_out++;
        }
    }
    CHECK(next_out > 1000);
    CHECK_EQ(ferry_spsc_size(&q), next_in - next_out);
}

FERRY_TEST(peek_consume)
{
    ferry_spsc q;
    uint16_t buf[4];
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    CHECK(ferry_spsc_peek(&q) == NULL);
    uint16_t v[3] = {7, 8, 9};
    ferry_spsc_push(&q, v, 3);
    uint16_t *p = ferry_spsc_peek(&q);
    CHECK(p != NULL);
    CHECK_EQ(*p, 7);
    CHECK_EQ(ferry_spsc_consume(&q, 1), 1);
    CHECK_EQ(*(uint16_t *)ferry_spsc_peek(&q), 8);
    CHECK_EQ(ferry_spsc_consume(&q, 5), 2);   /* clamped */
    CHECK(ferry_spsc_peek(&q) == NULL);
}

FERRY_TEST(capacity_one)
{
    ferry_spsc q;
    uint64_t buf[1], v, out;
    ferry_spsc_init(&q, buf, 8, 1);
    for (v = 0; v < 100; v++) {
        CHECK_EQ(ferry_spsc_push(&q, &v, 1), 1);
        CHECK_EQ(ferry_spsc_push(&q, &v, 1), 0);
        CHECK_EQ(ferry_spsc_pop(&q, &out, 4), 1);
        CHECK_EQ(out, v);
    }
}

FERRY_TEST(push_pop_ptr)
{
    ferry_spsc q;
    void *buf[4];
    int objs[6];
    ferry_spsc_init(&q, buf, sizeof(void *), 4);
    void *out;
    CHECK(!ferry_spsc_pop_ptr(&q, &out));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++)
            CHECK(ferry_spsc_push_ptr(&q, &objs[i + round]));
        CHECK(!ferry_spsc_push_ptr(&q, &objs[5]));
        CHECK_EQ(ferry_spsc_size(&q), 4);
        for (int i = 0; i < 4; i++) {
            CHECK(ferry_spsc_pop_ptr(&q, &out));
            CHECK_PTR_EQ(out, &objs[i + round]);
        }
        CHECK(!ferry_spsc_pop_ptr(&q, &out));
    }
    /* Mixed with the copying calls: same items. */
    void *p = &objs[0];
    CHECK_EQ(ferry_spsc_push(&q, &p, 1), 1);
    CHECK(ferry_spsc_pop_ptr(&q, &out));
    CHECK_PTR_EQ(out, &objs[0]);
}

/* (2-byte items: no target has pointers of that size; 4 is one on i386.) */
FERRY_DEATH_TEST(push_ptr_on_wrong_item_size, "ferry_spsc_push_ptr on a ring of 2-byte items")
{
    ferry_spsc q;
    uint16_t buf[4];
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    ferry_spsc_push_ptr(&q, buf);
}

FERRY_DEATH_TEST(pop_ptr_on_wrong_item_size, "ferry_spsc_pop_ptr on a ring of 2-byte items")
{
    ferry_spsc q;
    uint16_t buf[4];
    void *out;
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    ferry_spsc_pop_ptr(&q, &out);
}

#ifdef FERRY_TEST_CAN_STEP
/* ---- ferry_spsc_size from a third context --------------------------------
 * It reads tail, then head; when both sides move on between those two
 * loads, head - tail counted the old tail against the new head (43209 items
 * in a ring of 2 once, from a third thread, in a billion reads; 4 here,
 * every time): it is clamped to the capacity. */
static ferry_spsc size_q;
static uint64_t size_buf[2];
static size_t size_seen;

static void size_cycle(void)
{
    uint64_t v[2] = {1, 2};
    CHECK_EQ(ferry_spsc_pop(&size_q, v, 2), 2);
    CHECK_EQ(ferry_spsc_push(&size_q, v, 2), 2);
}

static void size_read(void)
{
    size_seen = ferry_spsc_size(&size_q);
}

FERRY_TEST(spsc_size_from_a_third_context_is_within_capacity)
{
    uint64_t v[2] = {1, 2};
    CHECK_EQ(ferry_spsc_init(&size_q, size_buf, sizeof size_buf[0], 2), 0);
    CHECK_EQ(ferry_spsc_push(&size_q, v, 2), 2);
    int k = 1;
    while (step_run(size_read, size_cycle, k)) {
        CHECK_EQ(size_seen, 2);
        k++;
    }
    CHECK(k > 2);   /* it did step */
    CHECK_EQ(size_seen, 2);
}

#ifdef FERRY_TEST_CAN_STEP_LONG_CALLS
/* ---- ferry_spsc: each call against the other side ------------------------
 * Producer calls with the consumer draining after instruction k, consumer
 * calls with the producer filling; every item arrives once, in order, from
 * rings whose indices start at each offset (so that batches wrap) with
 * 0 to 4 items in (full and empty included). */
static ferry_spsc q;
static uintptr_t qbuf[4], pin, pout;   /* pointer-sized: the _ptr calls too */

static void q_drain(void)
{
    uintptr_t v[8];
    size_t m = ferry_spsc_pop(&q, v, 8);
    for (size_t i = 0; i < m; i++)
        CHECK_EQ(v[i], pout++);
}

static void q_fill(void)
{
    uintptr_t v[8];
    for (int i = 0; i < 8; i++)
        v[i] = pin + (uintptr_t)i;
    pin += ferry_spsc_push(&q, v, 8);
}

static void q_push3(void)
{
    uintptr_t v[3] = {pin, pin + 1, pin + 2};
    pin += ferry_spsc_push(&q, v, 3);
}

static void q_pop3(void)
{
    uintptr_t v[3];
    size_t m = ferry_spsc_pop(&q, v, 3);
    for (size_t i = 0; i < m; i++)
        CHECK_EQ(v[i], pout++);
}

static void q_push_ptr(void)
{
    if (ferry_spsc_push_ptr(&q, FERRY__RCAST(void *, FERRY__SCAST(uintptr_t, pin))))
        pin++;
}

static void q_pop_ptr(void)
{
    void *p;
    if (ferry_spsc_pop_ptr(&q, &p))
        CHECK_EQ(FERRY__RCAST(uintptr_t, p), pout++);
}

static void q_peek(void)
{
    uintptr_t *p = ferry_spsc_peek(&q);
    if (p) {
        CHECK_EQ(*p, pout);
        CHECK_EQ(ferry_spsc_consume(&q, 1), 1);
        pout++;
    }
}

FERRY_TEST(spsc_every_call_against_the_other_side_at_every_instruction)
{
    void (*body[])(void) = {q_push3, q_push_ptr, q_pop3, q_pop_ptr, q_peek};
    void (*other[])(void) = {q_drain, q_drain, q_fill, q_fill, q_fill};
    int runs = 0;
    for (int b = 0; b < 5; b++) {
        for (int state = 1; state < 6; state++) {
            for (int k = 1;; k++) {
                CHECK_EQ(ferry_spsc_init(&q, qbuf, sizeof qbuf[0], 4), 0);
                pin = pout = 0;
                /* (offset, items): (1, 3), (2, 1), (3, 4), (0, 2), (1, 0) */
                for (int i = 0; i < state % 4; i++) {   /* indices at 0-3 */
                    uintptr_t v = pin;
                    pin += ferry_spsc_push(&q, &v, 1);
                    q_drain();
                }
                for (int i = 0; i < state * 3 % 5; i++) {   /* 0-4 items in */
                    uintptr_t v = pin;
                    pin += ferry_spsc_push(&q, &v, 1);
                }
                bool more = step_run(body[b], other[b], k);
                q_drain();
                CHECK_EQ(pin, pout);
                CHECK_EQ(ferry_spsc_size(&q), 0);
                runs++;
                if (!more)
                    break;
            }
        }
    }
    CHECK(runs > 5 * 5 * 3);
}
#endif /* FERRY_TEST_CAN_STEP_LONG_CALLS */
#endif /* FERRY_TEST_CAN_STEP */
