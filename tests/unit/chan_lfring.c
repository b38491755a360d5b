/* SPDX-License-Identifier: MIT */
/* The lock-free batch ring (src/chan_lfring.h) on its own, without a
 * channel: limits, batches, laps of every capacity shape, closing,
 * draining (including an item still between claim and publication), and
 * many producers and consumers at once. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* A thread stalled in push or pop between reading the position word and
 * the slot (V4): the test's stall function runs there. */
static void stall(void *r);
#define FERRY__LFRING_STALL(r) stall(r)

#include "chan_lfring.h"
#include "test.h"

static void (*stall_fn)(struct ferry__lfring *r);
static void stall(void *r)
{
    /* Set and run on one thread only; the threads of the other tests only
     * read it (NULL). */
    void (*fn)(struct ferry__lfring *) = stall_fn;
    if (fn) {
        stall_fn = NULL; /* once, and not in the calls it makes */
        fn((struct ferry__lfring *)r);
    }
}

/* The layout the tests below open their rings in: each runs in both. */
static unsigned ring_layout = FERRY__LFRING_INLINE;

static void ring_open(struct ferry__lfring *r, size_t cap)
{
    memset(r, 0xa5, sizeof *r); /* init must not rely on zeroed memory */
    CHECK_EQ(ferry__lfring_init_layout(r, cap, sizeof(long), ring_layout), 0);
}

/* A test whose body runs once in each layout ("Layout" in chan_lfring.h). */
#define LAYOUT_TEST(name)                                                                                              \
    static void name##_in_layout(void);                                                                                \
    FERRY_TEST(name)                                                                                                   \
    {                                                                                                                  \
        for (ring_layout = FERRY__LFRING_PACKED; ring_layout <= FERRY__LFRING_INLINE; ring_layout++)                  \
            name##_in_layout();                                                                                        \
        ring_layout = FERRY__LFRING_INLINE;                                                                            \
    }                                                                                                                  \
    static void name##_in_layout(void)

FERRY_TEST(lfring_fits_limits_and_overflow)
{
    CHECK(!ferry__lfring_fits(0, 8));
    CHECK(ferry__lfring_fits(1, 8));
    CHECK(!ferry__lfring_fits(1, 0));
    CHECK(ferry__lfring_fits(FERRY__LFRING_MAX_CAP / 64, 8));
    CHECK(!ferry__lfring_fits(FERRY__LFRING_MAX_CAP + 1, 1));
    /* The byte bound, packed (items over a line's 56 bytes): cap
     * sequence bytes rounded up to a line, then the items, <= MAX_BYTES. */
    size_t elem = 60, cap = FERRY__LFRING_MAX_BYTES / (elem + 1);
    CHECK(ferry__lfring_fits(cap, elem));
    CHECK(!ferry__lfring_fits(cap + 1, elem));
    CHECK(ferry__lfring_fits(1, FERRY__LFRING_MAX_BYTES - FERRY_CACHELINE));
    CHECK(!ferry__lfring_fits(1, FERRY__LFRING_MAX_BYTES - FERRY_CACHELINE + 1));
    /* Inline (items of 4, 8 or 16 bytes): whole lines of grp slots.
     * 8-byte items, 7 a line: 2^26 / 64 lines hold 7 * 2^20 items, within
     * MAX_CAP; 16-byte items, 3 a line. */
    CHECK(ferry__lfring_fits(7u << 20, 8));
    CHECK(ferry__lfring_fits(3u << 20, 16));
    /* Past that, packed: the ring stays lock-free up to the packed bound
     * (not the locked path), and init lays it out packed. */
    struct ferry__lfring big;
    CHECK_EQ(ferry__lfring_init(&big, 7u << 20, 8), 0);
    CHECK_EQ(big.layout, FERRY__LFRING_INLINE);
    ferry__lfring_fini(&big);
    CHECK_EQ(ferry__lfring_init(&big, (7u << 20) + 1, 8), 0);
    CHECK_EQ(big.layout, FERRY__LFRING_PACKED);
    ferry__lfring_fini(&big);
    static const size_t fixed[] = {4, 8, 16};
    for (size_t fi = 0; fi < 3; fi++) {
        size_t e = fixed[fi], top = FERRY__LFRING_MAX_BYTES / (e + 1);
        for (size_t c = top - 100; c < top + 100; c++) {
            size_t bytes = ((c + 63) / 64 * 64 + c * e + 63) / 64 * 64;
            CHECK_EQ(ferry__lfring_fits(c, e), bytes <= FERRY__LFRING_MAX_BYTES);
        }
    }
    /* Packed at 56 bytes, around the bound: the bytes rounded up to a
     * line, then the items, rounded up to a line. */
    for (size_t c = FERRY__LFRING_MAX_BYTES / 57 - 100; c < FERRY__LFRING_MAX_BYTES / 57 + 100; c++) {
        size_t bytes = ((c + 63) / 64 * 64 + c * 56 + 63) / 64 * 64;
        CHECK_EQ(ferry__lfring_fits(c, 56), bytes <= FERRY__LFRING_MAX_BYTES);
    }
    CHECK(ferry__lfring_fits(FERRY__LFRING_MAX_CAP / 64, 8));
    /* Sizes whose sum with the sequence number wraps (the old SIGFPE). */
    CHECK(!ferry__lfring_fits(1, SIZE_MAX));
    CHECK(!ferry__lfring_fits(1, SIZE_MAX - 3));
    CHECK(!ferry__lfring_fits(1, SIZE_MAX - 4));
    CHECK(!ferry__lfring_fits(SIZE_MAX, 1));
    CHECK(!ferry__lfring_fits(1, FERRY__LFRING_MAX_BYTES + 1));
    struct ferry__lfring r;
    memset(&r, 0xa5, sizeof r);
    CHECK_EQ(ferry__lfring_init(&r, 0, 8), -EINVAL);
    ferry__lfring_fini(&r); /* safe after a failed init */
    CHECK_EQ(ferry__lfring_init(&r, 1, SIZE_MAX - 3), -EINVAL);
    CHECK_EQ(ferry__lfring_init_layout(&r, 4, 57, FERRY__LFRING_INLINE), -EINVAL); /* not a line's */
    ferry__lfring_fini(&r);
}

/* The layouts for every item size from 1 to 100 bytes: init's choice
 * (inline for 4, 8 and 16 bytes); either layout forced for every size up
 * to 56 (the batch loops with the shape a variable, as well as fixed);
 * the inline shape (a slot's sequence byte and item in one line, every
 * item aligned as in a packed array up to 16 bytes, all clear of the
 * bytes, the reciprocal exact); and batches of 1 to 40 across lines and laps with every byte of
 * every item checked. */
static void fill_item(unsigned char *p, size_t elem, uint64_t pos)
{
    for (size_t b = 0; b < elem; b++)
        p[b] = (unsigned char)(pos * 31 + b * 7 + 1);
}

static void sizes_round(struct ferry__lfring *r, size_t cap, size_t elem, uint64_t *rnd)
{
    enum { MAXB = 40 };
    unsigned char *in = malloc(MAXB * elem), *out = malloc(MAXB * elem);
    CHECK(in && out);
    uint64_t next_in = 0, next_out = 0;
    for (int step = 0; step < 300; step++) {
        size_t k = 1 + ferry_test_rand(rnd) % MAXB;
        if (ferry_test_rand(rnd) & 1) {
            for (size_t i = 0; i < k; i++)
                fill_item(in + i * elem, elem, next_in + i);
            size_t room = cap - (size_t)(next_in - next_out);
            size_t got = ferry__lfring_push(r, in, k, false);
            CHECK_EQ(got, k < room ? k : room);
            next_in += got;
        } else {
            size_t have = (size_t)(next_in - next_out);
            size_t got = ferry__lfring_pop(r, out, k, false);
            CHECK_EQ(got, k < have ? k : have);
            unsigned char *want = malloc(elem);
            CHECK(want);
            for (size_t i = 0; i < got; i++, next_out++) {
                fill_item(want, elem, next_out);
                CHECK(memcmp(out + i * elem, want, elem) == 0);
            }
            free(want);
        }
    }
    free(in);
    free(out);
}

FERRY_TEST(lfring_every_item_size_in_both_layouts)
{
    static const size_t caps[] = {1, 2, 3, 7, 9, 31, 33, 100};
    uint64_t rnd = 42;
    for (size_t elem = 1; elem <= 100; elem++) {
        struct ferry__lfring r;
        CHECK_EQ(ferry__lfring_init(&r, 5, elem), 0);
        bool fixed = elem == 4 || elem == 8 || elem == 16; /* FIXED_SIZES in chan_lfring.c */
        CHECK_EQ(r.layout, fixed ? FERRY__LFRING_INLINE : FERRY__LFRING_PACKED);
        ferry__lfring_fini(&r);
        if (elem > 56)
            CHECK_EQ(ferry__lfring_init_layout(&r, 5, elem, FERRY__LFRING_INLINE), -EINVAL);
        for (unsigned lay = FERRY__LFRING_PACKED; lay <= FERRY__LFRING_INLINE; lay++) {
            if (lay == FERRY__LFRING_INLINE && elem > 56)
                continue;
            for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
                size_t cap = caps[ci];
                CHECK_EQ(ferry__lfring_init_layout(&r, cap, elem, lay), 0);
                CHECK_EQ((uintptr_t)r.buf % FERRY_CACHELINE, 0);
                for (size_t i = 0; i < cap; i++) {
                    uintptr_t seq = (uintptr_t)ferry__lfring_seq(&r, i), item = (uintptr_t)ferry__lfring_item(&r, i);
                    CHECK(seq >= (uintptr_t)r.buf && item + elem <= (uintptr_t)r.buf + r.bytes);
                    if (lay == FERRY__LFRING_INLINE) {
                        CHECK_EQ(seq / FERRY_CACHELINE, item / FERRY_CACHELINE); /* one line */
                        CHECK_EQ((item + elem - 1) / FERRY_CACHELINE, item / FERRY_CACHELINE);
                        CHECK(item >= seq - seq % FERRY_CACHELINE + r.grp); /* after the bytes */
                    }
                    /* The alignment a packed array gives, up to 16. */
                    size_t align = elem & (0 - elem);
                    CHECK_EQ(item % (align < 16 ? align : 16), 0);
                    if (i > 0) /* consecutive, never overlapping */
                        CHECK(item >= (uintptr_t)ferry__lfring_item(&r, i - 1) + elem);
                }
                sizes_round(&r, cap, elem, &rnd);
                ferry__lfring_fini(&r);
            }
        }
    }
    /* The reciprocal: exact for every index a ring can have (< 2^28) and
     * every group size; checked in full below 2^16 and around every
     * multiple of grp near the top. */
    for (size_t elem = 1; elem <= 56; elem++) {
        size_t hdr, grp;
        uint64_t mul;
        grp = ferry__lines_shape(elem, &hdr, &mul);
        CHECK_EQ(grp, FERRY__LINES_GRP(elem));
        CHECK_EQ(hdr, FERRY__LINES_HDR(elem));
        CHECK(grp >= 1 && hdr % 8 == 0 && hdr >= grp && hdr + grp * elem <= FERRY_CACHELINE);
        CHECK(hdr + (grp + 1) * elem > FERRY_CACHELINE || (grp + 1 + 7) / 8 * 8 + (grp + 1) * elem > FERRY_CACHELINE);
        for (size_t i = 0; i < ((size_t)1 << 16); i++)
            CHECK_EQ(ferry__lines_div(mul, i), i / grp);
        for (size_t i = FERRY__LFRING_MAX_CAP - 4096; i < FERRY__LFRING_MAX_CAP; i++)
            CHECK_EQ(ferry__lines_div(mul, i), i / grp);
    }
}

/* Push and pop in batches over many laps, for capacities that are and are
 * not powers of two (1 exercises the doubled sequence domain). */
LAYOUT_TEST(lfring_fifo_batches_over_many_laps)
{
    static const size_t caps[] = {1, 2, 3, 7, 8, 64, 1000};
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        size_t cap = caps[ci];
        struct ferry__lfring r;
        ring_open(&r, cap);
        CHECK(ferry__lfring_empty(&r));
        long next_in = 0, next_out = 0, in[17], out[17];
        uint64_t rnd = cap;
        for (int step = 0; step < 20000; step++) {
            size_t k = 1 + ferry_test_rand(&rnd) % 17;
            if (ferry_test_rand(&rnd) & 1) {
                for (size_t i = 0; i < k; i++)
                    in[i] = next_in + (long)i;
                size_t room = cap - (size_t)(next_in - next_out);
                size_t got = ferry__lfring_push(&r, in, k, false);
                CHECK_EQ(got, k < room ? k : room); /* as many as fit, in order */
                next_in += (long)got;
            } else {
                size_t have = (size_t)(next_in - next_out);
                size_t got = ferry__lfring_pop(&r, out, k, false);
                CHECK_EQ(got, k < have ? k : have);
                for (size_t i = 0; i < got; i++)
                    CHECK_EQ(out[i], next_out++);
            }
            CHECK_EQ(ferry__lfring_len(&r), (size_t)(next_in - next_out));
            CHECK_EQ(ferry__lfring_empty(&r), next_in == next_out);
        }
        uint64_t h, t;
        ferry__lfring_positions(&r, &h, &t);
        CHECK_EQ(h, (uint64_t)next_out);
        CHECK_EQ(t, (uint64_t)next_in);
        ferry__lfring_fini(&r);
    }
}

/* A batch claim takes the run of ready slots from the head (or tail) and
 * stops at the first slot still in flight: one whose producer claimed it
 * but has not published (pop), or whose consumer claimed it but has not
 * freed it (push); before and after the array's end (the run helpers
 * compare one stored number per lap). The in-flight side is played by
 * hand: a claim on the position word without the slot's store. */
static void claim_unpublished(struct ferry__lfring *r, long v)
{
    uint64_t t = atomic_fetch_add(&r->tail, 1);
    size_t idx = ferry__lfring_index(r, t);
    memcpy(ferry__lfring_item(r, idx), &v, sizeof v);
    CHECK_EQ(ferry__lfring_cmp(r, idx, 2 * t), 0); /* free for t, untouched */
}

static void publish(struct ferry__lfring *r, uint64_t pos)
{
    ferry__lfring_set(r, ferry__lfring_index(r, pos), 2 * pos + 1);
}

LAYOUT_TEST(lfring_batch_runs_stop_at_a_slot_in_flight)
{
    static const size_t caps[] = {8, 7}; /* mask and modulo indexing */
    for (size_t ci = 0; ci < 2; ci++) {
        size_t cap = caps[ci];
        struct ferry__lfring r;
        ring_open(&r, cap);
        long in[8], out[8];
        for (int i = 0; i < 8; i++)
            in[i] = 100 + i;
        /* Move head and tail to cap - 3, so runs cross the array's end. */
        for (size_t i = 0; i < cap - 3; i++) {
            CHECK_EQ(ferry__lfring_push(&r, in, 1, false), 1);
            CHECK_EQ(ferry__lfring_pop(&r, out, 1, false), 1);
        }
        uint64_t p0 = cap - 3;
        /* Pop side: p0, p0+1 published; p0+2 (last slot) in flight; then
         * p0+3, p0+4 (slots 0, 1) published. */
        CHECK_EQ(ferry__lfring_push(&r, in, 2, false), 2);
        claim_unpublished(&r, 7);
        CHECK_EQ(ferry__lfring_push(&r, in + 3, 2, false), 2);
        CHECK_EQ(ferry__lfring_pop(&r, out, 8, false), 2); /* stops before p0+2 */
        CHECK_EQ(out[0], 100);
        CHECK_EQ(out[1], 101);
        CHECK_EQ(ferry__lfring_pop(&r, out, 8, false), 0); /* head item unpublished */
        publish(&r, p0 + 2);
        CHECK_EQ(ferry__lfring_pop(&r, out, 8, false), 3); /* the run wraps */
        CHECK_EQ(out[0], 7);
        CHECK_EQ(out[1], 103);
        CHECK_EQ(out[2], 104);
        /* The same with the gap after the wrap: p0+5 .. p0+7 from slot 2;
         * fill so that the run starts before the end and the gap is in
         * slot 1 of the next lap. */
        CHECK(ferry__lfring_empty(&r));
        uint64_t h, t;
        ferry__lfring_positions(&r, &h, &t);
        while (ferry__lfring_index(&r, t) != cap - 2) {
            CHECK_EQ(ferry__lfring_push(&r, in, 1, false), 1);
            CHECK_EQ(ferry__lfring_pop(&r, out, 1, false), 1);
            ferry__lfring_positions(&r, &h, &t);
        }
        CHECK_EQ(ferry__lfring_push(&r, in, 3, false), 3); /* slots cap-2, cap-1, 0 */
        claim_unpublished(&r, 9);                           /* slot 1 */
        CHECK_EQ(ferry__lfring_push(&r, in + 4, 1, false), 1);
        CHECK_EQ(ferry__lfring_pop(&r, out, 8, false), 3);
        CHECK_EQ(out[2], 102);
        publish(&r, t + 3);
        CHECK_EQ(ferry__lfring_pop(&r, out, 8, false), 2);
        CHECK_EQ(out[0], 9);
        CHECK_EQ(out[1], 104);
        /* Push side: a consumer holds slot (head + 1) claimed, not freed;
         * the slots around it are free. Fill the ring, take one, claim one
         * by hand, take one more: a push of cap runs over one slot only. */
        CHECK_EQ(ferry__lfring_push(&r, in, 8, false), cap);
        CHECK_EQ(ferry__lfring_pop(&r, out, 1, false), 1);
        uint64_t held = atomic_fetch_add(&r.head, 1); /* claimed, slot not freed */
        CHECK_EQ(ferry__lfring_pop(&r, out, 1, false), 1);
        CHECK_EQ(ferry__lfring_push(&r, in, 8, false), 1); /* stops at the held slot */
        CHECK_EQ(ferry__lfring_push(&r, in, 8, false), 0); /* tail's slot still held */
        ferry__lfring_set(&r, ferry__lfring_index(&r, held), 2 * (held + cap)); /* freed */
        CHECK_EQ(ferry__lfring_push(&r, in, 8, false), 2); /* the held slot and the next */
        CHECK_EQ(ferry__lfring_len(&r), cap);
        ferry__lfring_fini(&r);
    }
}

/* Long runs, four slots per step (the batch loops of chan_lfring.c): a
 * run of ready slots stops exactly at the one in flight, wherever it lies
 * in a step, before or after the array's end, on both sides. */
static void move_to_slot(struct ferry__lfring *r, size_t idx)
{
    long v = 0;
    uint64_t h, t;
    ferry__lfring_positions(r, &h, &t);
    for (; ferry__lfring_index(r, t) != idx; t++) {
        CHECK_EQ(ferry__lfring_push(r, &v, 1, false), 1);
        CHECK_EQ(ferry__lfring_pop(r, &v, 1, false), 1);
    }
}

LAYOUT_TEST(lfring_long_runs_stop_exactly_at_the_slot_in_flight)
{
    static const size_t caps[] = {64, 61}; /* mask and modulo indexing */
    long in[64], out[64];
    for (int i = 0; i < 64; i++)
        in[i] = 1000 + i;
    for (size_t ci = 0; ci < 2; ci++) {
        size_t cap = caps[ci];
        struct ferry__lfring r;
        ring_open(&r, cap);
        for (size_t start = 0; start < cap; start += 3) {
            for (size_t gap = 1; gap < 40; gap++) {
                /* Pop side: gap items published, one claimed unpublished,
                 * more published behind it. */
                move_to_slot(&r, start);
                uint64_t h, t;
                ferry__lfring_positions(&r, &h, &t);
                CHECK_EQ(ferry__lfring_push(&r, in, gap, false), gap);
                claim_unpublished(&r, 7);
                CHECK_EQ(ferry__lfring_push(&r, in + gap, 8, false), 8);
                CHECK_EQ(ferry__lfring_pop(&r, out, 64, false), gap);
                for (size_t i = 0; i < gap; i++)
                    CHECK_EQ(out[i], in[i]);
                CHECK_EQ(ferry__lfring_pop(&r, out, 64, false), 0);
                publish(&r, t + gap);
                CHECK_EQ(ferry__lfring_pop(&r, out, 64, false), 9);
                CHECK_EQ(out[0], 7);
                CHECK_EQ(out[8], in[gap + 7]);
                CHECK(ferry__lfring_empty(&r));
                /* Push side: the consumer of position h + gap holds its slot
                 * (claimed, not freed) one lap later; a push runs up to it. */
                ferry__lfring_positions(&r, &h, &t);
                size_t fill = gap + 1;
                CHECK_EQ(ferry__lfring_push(&r, in, fill, false), fill);
                CHECK_EQ(ferry__lfring_pop(&r, out, gap, false), gap);
                uint64_t held = atomic_fetch_add(&r.head, 1); /* claimed, slot not freed */
                CHECK_EQ(held, h + gap);
                /* Free slots from t + fill on; the held slot is reached at
                 * position held + cap. */
                size_t room = (size_t)(held + cap - (t + fill));
                CHECK_EQ(ferry__lfring_push(&r, in, 64, false), room < 64 ? room : 64);
                ferry__lfring_set(&r, ferry__lfring_index(&r, held), 2 * (held + cap)); /* freed */
                /* Take everything out again. */
                while (ferry__lfring_pop(&r, out, 64, false) > 0)
                    ;
                CHECK(ferry__lfring_empty(&r));
            }
        }
        ferry__lfring_fini(&r);
    }
}

LAYOUT_TEST(lfring_zero_counts_move_nothing)
{
    struct ferry__lfring r;
    ring_open(&r, 4);
    long v = 1;
    CHECK_EQ(ferry__lfring_push(&r, &v, 0, false), 0);
    CHECK_EQ(ferry__lfring_pop(&r, &v, 0, false), 0);
    CHECK_EQ(ferry__lfring_pop(&r, &v, 1, false), 0); /* empty */
    ferry__lfring_fini(&r);
}

/* After CLOSED no push succeeds; what is in the ring still comes out, and
 * head == tail then means closed and drained. */
LAYOUT_TEST(lfring_close_stops_claims_not_drains)
{
    struct ferry__lfring r;
    ring_open(&r, 4);
    long in[3] = {1, 2, 3}, out[4];
    CHECK_EQ(ferry__lfring_push(&r, in, 3, false), 3);
    CHECK_EQ(ferry__lfring_flags(&r), 0);
    uint64_t before = ferry__lfring_close(&r, FERRY__LFRING_CLOSED);
    CHECK_EQ(before, 3);
    CHECK_EQ(ferry__lfring_flags(&r), FERRY__LFRING_CLOSED);
    CHECK_EQ(ferry__lfring_push(&r, in, 1, false), 0);
    CHECK(!ferry__lfring_empty(&r));
    CHECK_EQ(ferry__lfring_pop(&r, out, 4, false), 3);
    CHECK_EQ(out[2], 3);
    CHECK(ferry__lfring_empty(&r));
    ferry__lfring_fini(&r);
}

static long drained[16];
static size_t ndrained;
static void collect(void *item, void *ctx)
{
    CHECK_PTR_EQ(ctx, (void *)drained);
    memcpy(&drained[ndrained++], item, sizeof(long));
}

LAYOUT_TEST(lfring_drain_hands_every_item_over_in_order)
{
    struct ferry__lfring r;
    ring_open(&r, 5);
    long in[7] = {10, 11, 12, 13, 14, 15, 16}, out[2];
    CHECK_EQ(ferry__lfring_push(&r, in, 5, false), 5);
    CHECK_EQ(ferry__lfring_pop(&r, out, 2, false), 2);
    CHECK_EQ(ferry__lfring_push(&r, in + 5, 2, false), 2); /* wrapped */
    ndrained = 0;
    CHECK_EQ(ferry__lfring_drain(&r, collect, drained), 5);
    CHECK_EQ(ndrained, 5);
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ(drained[i], 12 + (long)i);
    CHECK(ferry__lfring_empty(&r));
    CHECK_EQ(ferry__lfring_push(&r, in, 1, false), 0); /* RXGONE */
    CHECK_EQ(ferry__lfring_drain(&r, NULL, NULL), 0);
    ferry__lfring_fini(&r);
}

/* A producer between its claim and its publication: drain waits for it
 * (R1, R4). The claim is made by hand here, as push makes it. */
struct late {
    struct ferry__lfring *r;
    uint64_t pos;
    FERRY_ATOMIC(int) published;
};

static void *publish_late(void *arg)
{
    struct late *l = arg;
    ferry_test_sleep_ms(50);
    size_t idx = ferry__lfring_index(l->r, l->pos);
    long v = 99;
    memcpy(ferry__lfring_item(l->r, idx), &v, sizeof v);
    atomic_store(&l->published, 1);
    ferry__lfring_set(l->r, idx, 2 * l->pos + 1);
    return NULL;
}

LAYOUT_TEST(lfring_drain_waits_for_a_claimed_item)
{
    struct ferry__lfring r;
    ring_open(&r, 4);
    long v = 7;
    CHECK_EQ(ferry__lfring_push(&r, &v, 1, false), 1);
    struct late l = {.r = &r, .pos = 1};
    atomic_fetch_add(&r.tail, 1); /* claimed, not published */
    pthread_t t;
    pthread_create(&t, NULL, publish_late, &l);
    ndrained = 0;
    CHECK_EQ(ferry__lfring_drain(&r, collect, drained), 2);
    CHECK_EQ(atomic_load(&l.published), 1);
    CHECK_EQ(drained[0], 7);
    CHECK_EQ(drained[1], 99);
    pthread_join(t, NULL);
    ferry__lfring_fini(&r);
}

/* Many producers and consumers, batches of 1..5, no lock anywhere: every
 * item exactly once, each producer's items in order per consumer. */
#define PRODUCERS 3
#define CONSUMERS 3
struct mt {
    struct ferry__lfring r;
    size_t per;
    FERRY_ATOMIC(size_t) taken;
    unsigned char *seen;
};

static void *producer(void *arg)
{
    struct mt *m = *(struct mt **)arg;
    long id = (long)((struct mt **)arg)[1];
    uint64_t rnd = (uint64_t)id + 1;
    for (size_t i = 0; i < m->per;) {
        long b[5];
        size_t k = 1 + ferry_test_rand(&rnd) % 5;
        if (k > m->per - i)
            k = m->per - i;
        for (size_t j = 0; j < k; j++)
            b[j] = id * (long)m->per + (long)(i + j);
        size_t got = ferry__lfring_push(&m->r, b, k, true);
        if (got == 0)
            sched_yield();
        i += got;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct mt *m = arg;
    long last[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++)
        last[p] = -1;
    size_t total = m->per * PRODUCERS;
    uint64_t rnd = 99;
    while (atomic_load(&m->taken) < total) {
        long b[5];
        size_t got = ferry__lfring_pop(&m->r, b, 1 + ferry_test_rand(&rnd) % 5, true);
        if (got == 0) {
            sched_yield();
            continue;
        }
        atomic_fetch_add(&m->taken, got);
        for (size_t j = 0; j < got; j++) {
            long p = b[j] / (long)m->per, i = b[j] % (long)m->per;
            CHECK(p >= 0 && p < PRODUCERS);
            CHECK_MSG(i > last[p], "producer %ld: %ld after %ld", p, i, last[p]);
            last[p] = i;
            CHECK_MSG(m->seen[b[j]]++ == 0, "item %ld twice", b[j]);
        }
    }
    return NULL;
}

LAYOUT_TEST(lfring_mpmc_exactly_once_in_order)
{
    static const size_t caps[] = {1, 3, 16};
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        struct mt m;
        memset(&m, 0, sizeof m);
        CHECK_EQ(ferry__lfring_init_layout(&m.r, caps[ci], sizeof(long), ring_layout), 0);
        /* Fewer items through the tiniest rings: six threads take turns
         * there item by item, yielding, which a loaded machine slows most. */
        m.per = ferry_test_scaled(caps[ci] >= 16 ? 20000 : 5000);
        m.seen = calloc(m.per * PRODUCERS, 1);
        pthread_t pt[PRODUCERS], ct[CONSUMERS];
        void *args[PRODUCERS][2];
        for (int i = 0; i < CONSUMERS; i++)
            pthread_create(&ct[i], NULL, consumer, &m);
        for (long i = 0; i < PRODUCERS; i++) {
            args[i][0] = &m;
            args[i][1] = (void *)i;
            pthread_create(&pt[i], NULL, producer, args[i]);
        }
        for (int i = 0; i < PRODUCERS; i++)
            pthread_join(pt[i], NULL);
        for (int i = 0; i < CONSUMERS; i++)
            pthread_join(ct[i], NULL);
        for (size_t i = 0; i < m.per * PRODUCERS; i++)
            CHECK_EQ(m.seen[i], 1);
        CHECK(ferry__lfring_empty(&m.r));
        free(m.seen);
        ferry__lfring_fini(&m.r);
    }
}

/* V4: a thread whose position is stale by 64 to 127 laps reads its slot's
 * one-byte sequence number as "behind" (the doubled lap difference wraps
 * to a negative byte). Without the re-read of the position word that is a
 * false "full" for a push or a room check and a false "empty" for a pop;
 * with it, the call starts again from the current position. Any number
 * of laps is covered: 64 and 100 wrap, 128 reads as equal (the claim
 * fails), 1 and 200 read as ahead. */
static size_t stall_laps;

static void move_laps(struct ferry__lfring *r, bool pop_first)
{
    long v[8];
    for (size_t j = 0; j < 8; j++)
        v[j] = (long)j;
    for (size_t i = 0; i < stall_laps; i++) {
        if (pop_first)
            CHECK_EQ(ferry__lfring_pop(r, v, 8, false), r->cap);
        CHECK_EQ(ferry__lfring_push(r, v, r->cap, false), r->cap);
        if (!pop_first)
            CHECK_EQ(ferry__lfring_pop(r, v, 8, false), r->cap);
    }
}

/* The stalled push's tail: fill the ring, go round it stall_laps times
 * (full after each lap), take one item: one slot free at the new tail. */
static void laps_then_room(struct ferry__lfring *r)
{
    long v = 1;
    CHECK_EQ(ferry__lfring_push(r, &v, 1, false), 1);
    move_laps(r, true);
    CHECK_EQ(ferry__lfring_pop(r, &v, 1, false), 1);
}

/* The same for a full ring (the stalled room check). */
static void full_laps_then_room(struct ferry__lfring *r)
{
    long v;
    move_laps(r, true);
    CHECK_EQ(ferry__lfring_pop(r, &v, 1, false), 1);
}

/* The stalled pop's head: take the one item, go round the ring
 * stall_laps times (empty after each lap), put one item in. */
static void laps_then_item(struct ferry__lfring *r)
{
    long v = 1;
    CHECK_EQ(ferry__lfring_pop(r, &v, 1, false), 1);
    move_laps(r, false);
    v = 77;
    CHECK_EQ(ferry__lfring_push(r, &v, 1, false), 1);
}

LAYOUT_TEST(lfring_a_position_stale_by_many_laps_is_read_again)
{
    static const size_t laps[] = {1, 63, 64, 100, 127, 128, 129, 200, 256, 300};
    static const size_t caps[] = {8, 7};
    for (size_t ci = 0; ci < 2; ci++) {
        for (size_t li = 0; li < sizeof laps / sizeof laps[0]; li++) {
            size_t cap = caps[ci];
            struct ferry__lfring r;
            ring_open(&r, cap);
            long v[8], out[8];
            for (size_t j = 0; j < 8; j++)
                v[j] = 50 + (long)j;
            /* Push: one slot free at the tail; while the push is stalled
             * the ring goes round and a slot is free at the new tail. */
            CHECK_EQ(ferry__lfring_push(&r, v, cap - 1, false), cap - 1);
            stall_laps = laps[li];
            stall_fn = laps_then_room;
            CHECK_EQ(ferry__lfring_push(&r, v, 1, false), 1);
            CHECK_EQ(ferry__lfring_len(&r), cap);
            CHECK_PTR_EQ((void *)stall_fn, NULL); /* the stall ran */
            /* Room: the same, asked without a claim. */
            CHECK(!ferry__lfring_room(&r));
            stall_fn = full_laps_then_room;
            CHECK(ferry__lfring_room(&r));
            CHECK_EQ(ferry__lfring_push(&r, v, 8, false), 1);
            /* Pop: one item at the head; while the pop is stalled the ring
             * goes round and one item is at the new head. */
            while (ferry__lfring_pop(&r, out, 8, false) > 0)
                ;
            CHECK_EQ(ferry__lfring_push(&r, v, 1, false), 1);
            stall_fn = laps_then_item;
            CHECK_EQ(ferry__lfring_pop(&r, out, 1, false), 1);
            CHECK_EQ(out[0], 77);
            CHECK(ferry__lfring_empty(&r));
            ferry__lfring_fini(&r);
        }
    }
}

/* A run never counts past the ring, even for a thread whose position is
 * stale: one that read t = idx0 after the slots up to idx0 were filled
 * and freed (holding the next lap's number, want + 2) sees slots idx0 + 1
 * .. still holding want and then, past the ring's end, slots 0 .. idx0
 * holding want + 2 -- which is what the next lap looks for. Its claim
 * fails, but the run must stop at the whole ring (V1), so that no line
 * past the buffer is read before it does. */
LAYOUT_TEST(lfring_a_run_never_counts_past_the_ring)
{
    for (size_t cap = 2; cap <= 30; cap++) {
        for (size_t idx0 = 0; idx0 < cap; idx0++) {
            struct ferry__lfring r;
            CHECK_EQ(ferry__lfring_init_layout(&r, cap, 8, ring_layout), 0);
            for (size_t i = 0; i < cap; i++)
                atomic_store(ferry__lfring_seq(&r, i), i <= idx0 ? 2 : 0);
            CHECK(ferry__lfring_run_many(&r, idx0, 0, SIZE_MAX) <= cap);
            CHECK(ferry__lfring_run_many(&r, idx0, 0, cap + 7) <= cap);
            ferry__lfring_fini(&r);
        }
    }
}

/* Many producers and consumers with batches of 1 to 40 -- whole lines and
 * pieces of them, across the ring's end -- for each size laid out inline
 * (4, 8, 16 bytes), capacities with a partial last line and multiples of
 * the group: every item arrives once, in its producer's order, every byte
 * intact (the first four bytes number it, the rest repeat its low byte). */
struct wl {
    struct ferry__lfring r;
    size_t elem, per;
    FERRY_ATOMIC(size_t) taken;
    unsigned char *seen;
};

enum { WL_BATCH = 40 };

static void *wl_producer(void *arg)
{
    struct wl *m = *(struct wl **)arg;
    uint32_t id = (uint32_t)(uintptr_t)((void **)arg)[1];
    uint64_t rnd = id * 7 + 1;
    unsigned char b[WL_BATCH * 16];
    for (size_t i = 0; i < m->per;) {
        size_t k = 1 + ferry_test_rand(&rnd) % WL_BATCH;
        if (k > m->per - i)
            k = m->per - i;
        for (size_t j = 0; j < k; j++) {
            uint32_t v = id * (uint32_t)m->per + (uint32_t)(i + j);
            memset(b + j * m->elem, (int)(v & 0xff), m->elem);
            memcpy(b + j * m->elem, &v, sizeof v);
        }
        size_t got = ferry__lfring_push(&m->r, b, k, true);
        if (got == 0)
            sched_yield();
        i += got;
    }
    return NULL;
}

static void *wl_consumer(void *arg)
{
    struct wl *m = arg;
    uint64_t rnd = 5;
    long last[2] = {-1, -1};
    unsigned char b[WL_BATCH * 16];
    while (atomic_load(&m->taken) < 2 * m->per) {
        size_t got = ferry__lfring_pop(&m->r, b, 1 + ferry_test_rand(&rnd) % WL_BATCH, true);
        if (got == 0) {
            sched_yield();
            continue;
        }
        atomic_fetch_add(&m->taken, got);
        for (size_t j = 0; j < got; j++) {
            uint32_t v;
            memcpy(&v, b + j * m->elem, sizeof v);
            CHECK(v < 2 * m->per);
            for (size_t x = sizeof v; x < m->elem; x++)
                CHECK_EQ(b[j * m->elem + x], v & 0xff);
            long p = (long)(v / m->per), i = (long)(v % m->per);
            CHECK_MSG(i > last[p], "producer %ld: %ld after %ld", p, i, last[p]);
            last[p] = i;
            CHECK_MSG(m->seen[v]++ == 0, "item %u twice", v);
        }
    }
    return NULL;
}

FERRY_TEST(lfring_mpmc_whole_lines_every_inline_size)
{
    static const size_t sizes[] = {4, 8, 16}, caps[] = {7, 13, 16, 24, 36, 100};
    for (size_t si = 0; si < 3; si++) {
        for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
            struct wl m;
            memset(&m, 0, sizeof m);
            m.elem = sizes[si];
            CHECK_EQ(ferry__lfring_init(&m.r, caps[ci], m.elem), 0);
            CHECK_EQ(m.r.layout, FERRY__LFRING_INLINE);
            m.per = ferry_test_scaled(6000);
            m.seen = calloc(2 * m.per, 1);
            CHECK(m.seen != NULL);
            pthread_t t[4];
            void *args[2][2];
            for (int i = 0; i < 2; i++) {
                args[i][0] = &m;
                args[i][1] = (void *)(uintptr_t)i;
                pthread_create(&t[i], NULL, wl_producer, args[i]);
                pthread_create(&t[2 + i], NULL, wl_consumer, &m);
            }
            for (int i = 0; i < 4; i++)
                pthread_join(t[i], NULL);
            for (size_t i = 0; i < 2 * m.per; i++)
                CHECK_EQ(m.seen[i], 1);
            CHECK(ferry__lfring_empty(&m.r));
            free(m.seen);
            ferry__lfring_fini(&m.r);
        }
    }
}
