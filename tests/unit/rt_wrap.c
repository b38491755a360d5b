/* SPDX-License-Identifier: MIT */
/* ferry/spsc.h: the ring's free-running indices wrap around size_t. A ring
 * that has moved 2^64 items (2^32 on a 32-bit target: an hour of 1-item
 * pushes) sees head and tail pass SIZE_MAX; nothing else in the suite gets
 * there. Here the indices (public fields, set before any use as a ring that
 * old would have them) start just below the wrap at every offset from
 * 2 * capacity down, so that the wrap of the index meets every slot of the
 * ring; each call then runs across it: push and pop in batches (8-byte and
 * odd items), the pointer calls, peek and consume, size and free. FIFO order,
 * counts and room must be exactly those of a ring that never wrapped. */
#include <ferry/spsc.h>

#include <stdint.h>
#include <string.h>

#include "test.h"

enum { CAP = 8 };

/* q made over buf as if `start` items had gone through it already. */
static void init_at(ferry_spsc *q, void *buf, size_t es, size_t start)
{
    CHECK_EQ(ferry_spsc_init(q, buf, es, CAP), 0);
    atomic_store_explicit(&q->head, start, memory_order_relaxed);
    atomic_store_explicit(&q->tail, start, memory_order_relaxed);
    q->p_tail_cache = start;
    q->c_head_cache = start;
}

/* Item i of a stream, es bytes (es >= 1): i's low bytes, then a marker. */
static void make_item(unsigned char *dst, size_t es, uint64_t i)
{
    for (size_t b = 0; b < es; b++)
        dst[b] = (unsigned char)(b < sizeof i ? i >> (8 * b) : 0xA5);
}

static void check_item(const unsigned char *got, size_t es, uint64_t i)
{
    unsigned char want[32];
    make_item(want, es, i);
    CHECK_MSG(memcmp(got, want, es) == 0, "item %llu of %zu bytes differs", (unsigned long long)i, es);
}

/* Batches of every size from 1 to CAP + 1, both sides, across the wrap. */
static void batches_across_the_wrap(size_t es, size_t start)
{
    ferry_spsc q;
    unsigned char buf[CAP * 32], in[(CAP + 1) * 32], out[(CAP + 1) * 32];
    init_at(&q, buf, es, start);
    uint64_t next_in = 0, next_out = 0;
    for (unsigned round = 0; round < 6 * CAP; round++) {
        size_t n = round % (CAP + 1) + 1, m = (round * 3) % (CAP + 1) + 1;
        for (size_t i = 0; i < n; i++)
            make_item(in + i * es, es, next_in + i);
        size_t room = ferry_spsc_free(&q);
        CHECK_EQ(room + ferry_spsc_size(&q), CAP);
        size_t pushed = ferry_spsc_push(&q, in, n);
        CHECK_EQ(pushed, n < room ? n : room);
        next_in += pushed;
        CHECK_EQ(ferry_spsc_size(&q), next_in - next_out);
        size_t popped = ferry_spsc_pop(&q, out, m);
        CHECK_EQ(popped, m < next_in - next_out ? m : next_in - next_out);
        for (size_t i = 0; i < popped; i++)
            check_item(out + i * es, es, next_out + i);
        next_out += popped;
        CHECK_EQ(ferry_spsc_size(&q), next_in - next_out);
    }
    /* The indices did cross SIZE_MAX. */
    CHECK(atomic_load_explicit(&q.head, memory_order_relaxed) < start);
    CHECK_EQ(ferry_spsc_pop(&q, out, CAP + 1), next_in - next_out);
    CHECK_EQ(ferry_spsc_free(&q), CAP);
}

/* One item at a time with the pointer calls, and peek/consume. */
static void single_items_across_the_wrap(size_t start)
{
    ferry_spsc q;
    void *buf[CAP];
    init_at(&q, buf, sizeof(void *), start);
    char objs[4 * CAP];
    size_t in = 0, out = 0;
    for (unsigned round = 0; round < 4 * CAP; round++) {
        /* Fill to the brim, then one more must fail. */
        while (in - out < CAP) {
            CHECK(ferry_spsc_push_ptr(&q, &objs[in % sizeof objs]));
            in++;
        }
        CHECK(!ferry_spsc_push_ptr(&q, objs));
        CHECK_EQ(ferry_spsc_size(&q), CAP);
        CHECK_EQ(ferry_spsc_free(&q), 0);
        /* Drain half with pop_ptr, the rest with peek and consume. */
        for (size_t k = 0; k < CAP / 2 + round % 2; k++, out++) {
            void *p = NULL;
            CHECK(ferry_spsc_pop_ptr(&q, &p));
            CHECK_PTR_EQ(p, &objs[out % sizeof objs]);
        }
        void **slot;
        while ((slot = ferry_spsc_peek(&q)) != NULL) {
            CHECK_PTR_EQ(*slot, &objs[out % sizeof objs]);
            CHECK_EQ(ferry_spsc_consume(&q, 1), 1);
            out++;
        }
        void *p;
        CHECK(!ferry_spsc_pop_ptr(&q, &p));
        CHECK_EQ(ferry_spsc_consume(&q, SIZE_MAX), 0);
        CHECK_EQ(ferry_spsc_size(&q), 0);
    }
    CHECK(atomic_load_explicit(&q.tail, memory_order_relaxed) < start);
}

FERRY_TEST(spsc_indices_wrap_at_every_slot)
{
    static const size_t sizes[] = {8, 1, 3, 24};
    for (size_t start = SIZE_MAX - 2 * CAP; start != 0; start++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            batches_across_the_wrap(sizes[s], start);
        single_items_across_the_wrap(start);
    }
}
