/* SPDX-License-Identifier: MIT */
/* The lock-free block list (src/chan_lflist.h) on its own, without a
 * channel: block shapes, batches across block ends, recycling (steady
 * traffic allocates no block), running out of memory at every k-th
 * allocation, closing, draining (including an item still between claim and
 * publication), many producers and consumers at once on blocks of one
 * and three slots, where every claim races a block's linking, entering
 * and recycling, and a pop stalled inside its window (L4) while the list
 * moves on into a block allocated meanwhile. */
#include <errno.h>
#include <ferry/common.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* This program's pops can stall between their head and head_blk loads
 * (pop_stall, below): the hook must be defined before the header. */
static void pop_stall(void);
#define FERRY__LFLIST_POP_STALL() pop_stall()

#include "chan_lflist.h"
#include "test.h"

/* The allocation hook: fails every `fail_every`-th call (0: never). */
static FERRY_ATOMIC(long) alloc_calls, fail_every;

static void *test_alloc(size_t n)
{
    long k = atomic_fetch_add(&alloc_calls, 1) + 1;
    long every = atomic_load(&fail_every);
    if (every && k % every == 0)
        return NULL;
    return malloc(n);
}

static void list_open(struct ferry__lflist *l, unsigned shift)
{
    memset(l, 0xa5, sizeof *l); /* init must not rely on zeroed memory */
    l->alloc = test_alloc;
    CHECK_EQ(ferry__lflist_init_shape(l, sizeof(long), shift), 0);
}

static size_t push(struct ferry__lflist *l, const long *v, size_t n)
{
    bool nomem = false;
    return ferry__lflist_push(l, v, n, false, &nomem);
}

static size_t pop(struct ferry__lflist *l, long *v, size_t max)
{
    bool entered = false;
    return ferry__lflist_pop(l, v, max, false, &entered);
}

static size_t len(struct ferry__lflist *l)
{
    uint64_t h, t;
    ferry__lflist_positions(l, &h, &t);
    return (size_t)(t - h);
}

FERRY_TEST(lflist_fits_and_shapes)
{
    CHECK(!ferry__lflist_fits(0));
    CHECK(ferry__lflist_fits(1));
    CHECK(ferry__lflist_fits(FERRY__LFLIST_MAX_ELEM));
    CHECK(!ferry__lflist_fits(FERRY__LFLIST_MAX_ELEM + 1));
    CHECK(!ferry__lflist_fits(SIZE_MAX));
    struct ferry__lflist l;
    memset(&l, 0, sizeof l);
    CHECK_EQ(ferry__lflist_init(&l, 0), -EINVAL);
    CHECK_EQ(ferry__lflist_init(&l, SIZE_MAX), -EINVAL);
    CHECK_EQ(ferry__lflist_init_shape(&l, 8, 0), -EINVAL);
    CHECK_EQ(ferry__lflist_init_shape(&l, 8, 11), -EINVAL);
    /* About 8 KiB of items per block, 31..1023 slots. */
    static const size_t elems[] = {1, 8, 64, 256, 4096, FERRY__LFLIST_MAX_ELEM};
    static const size_t caps[] = {1023, 1023, 127, 31, 31, 31};
    for (size_t i = 0; i < sizeof elems / sizeof elems[0]; i++) {
        memset(&l, 0, sizeof l);
        CHECK_EQ(ferry__lflist_init(&l, elems[i]), 0);
        CHECK_EQ(l.cap, caps[i]);
        CHECK_EQ(ferry__lflist_blocks(&l), 1);
        CHECK(ferry__lflist_empty(&l));
        ferry__lflist_fini(&l);
    }
    /* No memory for the first block. */
    memset(&l, 0, sizeof l);
    l.alloc = test_alloc;
    atomic_store(&fail_every, 1);
    CHECK_EQ(ferry__lflist_init(&l, 8), -ENOMEM);
    atomic_store(&fail_every, 0);
}

/* Push and pop in batches across many block ends, on blocks of 1, 3, 7 and
 * 1023 slots: FIFO, every count as expected, and the storage bounded by
 * the largest backlog (blocks are recycled, not allocated again). */
FERRY_TEST(lflist_fifo_batches_across_blocks)
{
    static const unsigned shifts[] = {1, 2, 3, 10};
    for (size_t si = 0; si < sizeof shifts / sizeof shifts[0]; si++) {
        struct ferry__lflist l;
        list_open(&l, shifts[si]);
        long next_in = 0, next_out = 0, in[17], out[17];
        size_t most = 0;
        uint64_t rnd = shifts[si];
        for (int step = 0; step < 20000; step++) {
            size_t k = 1 + ferry_test_rand(&rnd) % 17;
            /* Lean towards pushing while the backlog is small. */
            if (ferry_test_rand(&rnd) % 8 < (next_in - next_out < 40 ? 5u : 3u)) {
                for (size_t i = 0; i < k; i++)
                    in[i] = next_in + (long)i;
                CHECK_EQ(push(&l, in, k), k); /* never full */
                next_in += (long)k;
            } else {
                size_t have = (size_t)(next_in - next_out);
                size_t got = 0, g;
                while (got < k && (g = pop(&l, out + got, k - got)) > 0) /* a pop stops at a block's end */
                    got += g;
                CHECK_EQ(got, k < have ? k : have);
                for (size_t i = 0; i < got; i++)
                    CHECK_EQ(out[i], next_out++);
            }
            size_t backlog = (size_t)(next_in - next_out);
            most = backlog > most ? backlog : most;
            CHECK_EQ(len(&l), backlog);
            CHECK_EQ(ferry__lflist_empty(&l), backlog == 0);
        }
        /* The chain holds the backlog; one more block may be held for
         * linking, one may be half acked. */
        CHECK_MSG(ferry__lflist_blocks(&l) <= most / l.cap + 3, "%zu blocks for a backlog of at most %zu",
                  ferry__lflist_blocks(&l), most);
        ferry__lflist_fini(&l);
    }
}

/* The layout of a block follows the push that links it (chan_lflist.h,
 * "Layout"): inline (each line a group of slots' ready bytes and items)
 * after a push of fewer than INLINE_BELOW items, packed after a larger
 * one; a recycled block takes the layout of its new linker (checked at
 * every link), and no byte of its old one is read as set. Blocks and
 * their packed ready bytes and items are cache-line aligned; an inline
 * slot's ready byte and item share one line. FIFO throughout. */
static struct ferry__lfblock *tail_block(struct ferry__lflist *l) { return atomic_load(&l->tail_blk); }

static void check_aligned(struct ferry__lflist *l, struct ferry__lfblock *b)
{
    CHECK_EQ((uintptr_t)b % FERRY_CACHELINE, 0);
    CHECK_EQ((uintptr_t)b->ready % FERRY_CACHELINE, 0);
    CHECK_EQ((uintptr_t)ferry__lflist_item_at(l, b, FERRY__LFLIST_PACKED, 0) % FERRY_CACHELINE, 0);
    for (size_t o = 0; l->inl_off != 0 && o < l->cap; o++) {
        uintptr_t r = (uintptr_t)ferry__lflist_ready_at(l, b, FERRY__LFLIST_INLINE, o);
        uintptr_t it = (uintptr_t)ferry__lflist_item_at(l, b, FERRY__LFLIST_INLINE, o);
        CHECK_EQ(r / FERRY_CACHELINE, it / FERRY_CACHELINE);
        CHECK_EQ(r / FERRY_CACHELINE, (it + l->elem - 1) / FERRY_CACHELINE);
        CHECK(it >= (uintptr_t)b + l->inl_off && it + l->elem <= (uintptr_t)b + l->block_bytes);
    }
}

FERRY_TEST(lflist_layout_follows_the_linking_push)
{
    struct ferry__lflist l;
    list_open(&l, 3); /* 7 slots a block */
    long in[64], out[64], next_in = 0, next_out = 0;
    struct ferry__lfblock *first = tail_block(&l);
    check_aligned(&l, first);
    CHECK_EQ(atomic_load(&first->layout), FERRY__LFLIST_PACKED); /* the first block */
    /* One at a time to the block's end: the block linked then is inline. */
    for (int i = 0; i < 7; i++) {
        in[0] = next_in++;
        CHECK_EQ(push(&l, in, 1), 1);
    }
    struct ferry__lfblock *b = tail_block(&l);
    CHECK(b != first);
    check_aligned(&l, b);
    CHECK_EQ(atomic_load(&b->layout), FERRY__LFLIST_INLINE);
    /* Its bytes where inline puts them, none where packed would (a new
     * block's ready bytes are all zero), and the items beside them. */
    for (int i = 0; i < 3; i++) {
        in[0] = next_in++;
        CHECK_EQ(push(&l, in, 1), 1);
    }
    for (size_t o = 0; o < 3; o++) {
        CHECK_EQ(atomic_load(ferry__lflist_ready_at(&l, b, FERRY__LFLIST_INLINE, o)), 1);
        CHECK_EQ(atomic_load(&b->ready[o]), 0);
        long v;
        memcpy(&v, ferry__lflist_item_at(&l, b, FERRY__LFLIST_INLINE, o), sizeof v);
        CHECK_EQ(v, 7 + (long)o);
    }
    CHECK_EQ(atomic_load(ferry__lflist_ready_at(&l, b, FERRY__LFLIST_INLINE, 3)), 0);
    /* A batch of INLINE_BELOW across the end: the next block is packed. */
    for (size_t i = 0; i < FERRY__LFLIST_INLINE_BELOW; i++)
        in[i] = next_in++;
    CHECK_EQ(push(&l, in, FERRY__LFLIST_INLINE_BELOW), FERRY__LFLIST_INLINE_BELOW);
    struct ferry__lfblock *c = tail_block(&l);
    CHECK(c != b);
    CHECK_EQ(atomic_load(&c->layout), FERRY__LFLIST_PACKED);
    /* Everything out, in order, in pops of 1 and of many. */
    for (size_t got; (got = pop(&l, out, next_out % 2 ? 5 : 1)) > 0;)
        for (size_t i = 0; i < got; i++)
            CHECK_EQ(out[i], next_out++);
    CHECK_EQ(next_out, next_in);
    /* Blocks now come back recycled, each time laid out anew for the push
     * that links them: alternate batches of 1 and of 9 for many blocks,
     * popping behind; both layouts follow each other. */
    uint64_t rnd = 5;
    size_t relaid = 0;
    for (int round = 0; round < 2000; round++) {
        size_t k = round % 3 ? 1 : 9;
        for (size_t i = 0; i < k; i++)
            in[i] = next_in++;
        struct ferry__lfblock *before = tail_block(&l);
        unsigned was = atomic_load(&before->layout);
        CHECK_EQ(push(&l, in, k), k);
        struct ferry__lfblock *now = tail_block(&l);
        if (now != before) { /* this push linked it */
            unsigned want = k < FERRY__LFLIST_INLINE_BELOW ? FERRY__LFLIST_INLINE : FERRY__LFLIST_PACKED;
            CHECK_EQ(atomic_load(&now->layout), want);
            relaid += want != was;
        }
        size_t want = 1 + ferry_test_rand(&rnd) % 12, got = 0, g;
        while (got < want && (g = pop(&l, out + got, want - got)) > 0)
            got += g;
        for (size_t i = 0; i < got; i++)
            CHECK_EQ(out[i], next_out++);
        check_aligned(&l, tail_block(&l));
    }
    for (size_t got; (got = pop(&l, out, 7)) > 0;)
        for (size_t i = 0; i < got; i++)
            CHECK_EQ(out[i], next_out++);
    CHECK_EQ(next_out, next_in);
    CHECK(ferry__lflist_blocks(&l) <= 6); /* recycled, not allocated again */
    CHECK(relaid > 100);                  /* layouts changed along the way */
    ferry__lflist_fini(&l);
}

/* Inline blocks for every item size: items of 1 to 56 bytes lie in
 * groups a line (with 1 byte: 32 a line; 8: 7; 56: 1), larger ones are
 * never inline. Small pushes (inline blocks) and pops of up to 40 (across
 * lines and blocks) carry every byte through in order, for blocks of 31
 * slots, which end in a partly used line for most group sizes. */
static void fill_item(unsigned char *p, size_t elem, uint64_t seq)
{
    for (size_t i = 0; i < elem; i++)
        p[i] = (unsigned char)(seq * 31 + i * 7 + (seq >> 8));
}

FERRY_TEST(lflist_inline_lines_every_item_size)
{
    static const size_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 13, 16, 24, 28, 29, 40, 55, 56, 57, 64, 100};
    unsigned char in[7 * 100], out[40 * 100], want[100];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t elem = sizes[si];
        struct ferry__lflist l;
        memset(&l, 0, sizeof l);
        CHECK_EQ(ferry__lflist_init_shape(&l, elem, 5), 0);
        if (elem <= FERRY__LFLIST_INLINE_MAX_ELEM) {
            CHECK(l.grp >= 1);
            CHECK_EQ(l.grp_hdr % 8, 0);
            CHECK(l.grp_hdr >= l.grp && l.grp_hdr + l.grp * elem <= FERRY_CACHELINE);
            CHECK((l.grp + 1 + 7) / 8 * 8 + (l.grp + 1) * elem > FERRY_CACHELINE); /* no room for one more */
            for (size_t o = 0; o < 1024; o++) /* o / grp by the multiply */
                CHECK_EQ(ferry__lines_div(l.grp_mul, o), o / l.grp);
        } else {
            CHECK_EQ(l.inl_off, 0);
        }
        uint64_t rnd = 11 + elem, seq_in = 0, seq_out = 0;
        size_t inline_links = 0;
        for (int round = 0; round < 300; round++) {
            size_t k = 1 + ferry_test_rand(&rnd) % 7;
            for (size_t i = 0; i < k; i++)
                fill_item(in + i * elem, elem, seq_in++);
            struct ferry__lfblock *before = tail_block(&l);
            bool nomem = false;
            CHECK_EQ(ferry__lflist_push(&l, in, k, false, &nomem), k);
            struct ferry__lfblock *now = tail_block(&l);
            if (now != before) {
                check_aligned(&l, now);
                unsigned lay = atomic_load(&now->layout);
                CHECK_EQ(lay, elem <= FERRY__LFLIST_INLINE_MAX_ELEM ? FERRY__LFLIST_INLINE : FERRY__LFLIST_PACKED);
                inline_links += lay == FERRY__LFLIST_INLINE;
            }
            if (ferry_test_rand(&rnd) % 3 == 0)
                continue; /* let a backlog build across lines and blocks */
            size_t max = 1 + ferry_test_rand(&rnd) % 40, got = 0, g;
            bool entered = false;
            while (got < max && (g = ferry__lflist_pop(&l, out + got * elem, max - got, false, &entered)) > 0)
                got += g;
            for (size_t i = 0; i < got; i++) {
                fill_item(want, elem, seq_out++);
                CHECK(memcmp(out + i * elem, want, elem) == 0);
            }
        }
        bool entered = false;
        for (size_t g; (g = ferry__lflist_pop(&l, out, 40, false, &entered)) > 0;)
            for (size_t i = 0; i < g; i++) {
                fill_item(want, elem, seq_out++);
                CHECK(memcmp(out + i * elem, want, elem) == 0);
            }
        CHECK_EQ(seq_out, seq_in);
        CHECK_MSG((inline_links > 0) == (elem <= FERRY__LFLIST_INLINE_MAX_ELEM), "elem %zu: %zu inline links", elem,
                  inline_links);
        ferry__lflist_fini(&l);
    }
}

/* Steady traffic allocates no block: after a warm-up with a backlog of at
 * most 100 items, a million more items through blocks of 3 slots. */
FERRY_TEST(lflist_steady_traffic_allocates_nothing)
{
    struct ferry__lflist l;
    list_open(&l, 2);
    long v[8], w[8];
    for (int i = 0; i < 8; i++)
        v[i] = i;
    for (int i = 0; i < 100; i++)
        CHECK_EQ(push(&l, v, 1), 1);
    size_t blocks = 0, n = ferry_test_scaled(1000000);
    long calls = 0;
    for (size_t i = 0; i < n; i += 8) {
        if (i == 8) { /* the backlog has peaked (108 items) */
            blocks = ferry__lflist_blocks(&l);
            calls = atomic_load(&alloc_calls);
        }
        CHECK_EQ(push(&l, v, 8), 8);
        size_t got = 0;
        while (got < 8)
            got += pop(&l, w + got, 8 - got);
    }
    CHECK_EQ(ferry__lflist_blocks(&l), blocks);
    CHECK_EQ(atomic_load(&alloc_calls), calls);
    ferry__lflist_fini(&l);
}

/* No memory for a new block: a push fills the current block up to its
 * last slot and says so; nothing is lost, and once memory comes back (or a
 * recycled block is there) the list goes on. */
FERRY_TEST(lflist_no_memory_stops_before_the_last_slot)
{
    struct ferry__lflist l;
    list_open(&l, 2); /* 3 slots per block */
    long in[8] = {0, 1, 2, 3, 4, 5, 6, 7}, out[8];
    atomic_store(&fail_every, 1);
    bool nomem = false;
    CHECK_EQ(ferry__lflist_push(&l, in, 8, false, &nomem), 2); /* slots 0, 1: the last needs a successor */
    CHECK(nomem);
    nomem = false;
    CHECK_EQ(ferry__lflist_push(&l, in + 2, 1, false, &nomem), 0);
    CHECK(nomem);
    atomic_store(&fail_every, 0);
    nomem = false;
    CHECK_EQ(ferry__lflist_push(&l, in + 2, 6, false, &nomem), 6);
    CHECK(!nomem);
    size_t got = 0, g;
    while ((g = pop(&l, out + got, 8 - got)) > 0)
        got += g;
    CHECK_EQ(got, 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(out[i], i);
    /* Recycled blocks serve without allocating. */
    atomic_store(&fail_every, 1);
    nomem = false;
    CHECK_EQ(ferry__lflist_push(&l, in, 6, false, &nomem), 6);
    CHECK(!nomem);
    atomic_store(&fail_every, 0);
    ferry__lflist_fini(&l);
}

/* After CLOSED no push succeeds; what is in the list still comes out, and
 * equal positions then mean closed and drained. */
FERRY_TEST(lflist_close_stops_claims_not_pops)
{
    struct ferry__lflist l;
    list_open(&l, 2);
    long in[5] = {1, 2, 3, 4, 5}, out[8];
    CHECK_EQ(push(&l, in, 5), 5); /* across a block's end */
    CHECK_EQ(ferry__lflist_flags(&l), 0);
    ferry__lflist_close(&l, FERRY__LFLIST_CLOSED);
    CHECK_EQ(ferry__lflist_flags(&l), FERRY__LFLIST_CLOSED);
    CHECK_EQ(push(&l, in, 1), 0);
    CHECK(!ferry__lflist_empty(&l));
    size_t got = 0, g;
    while ((g = pop(&l, out + got, 8 - got)) > 0)
        got += g;
    CHECK_EQ(got, 5);
    CHECK_EQ(out[4], 5);
    CHECK(ferry__lflist_empty(&l));
    ferry__lflist_fini(&l);
}

static long drained[64];
static size_t ndrained;
static void collect(void *item, void *ctx)
{
    CHECK_PTR_EQ(ctx, (void *)drained);
    memcpy(&drained[ndrained++], item, sizeof(long));
}

FERRY_TEST(lflist_drain_hands_every_item_over_in_order)
{
    struct ferry__lflist l;
    list_open(&l, 2);
    long in[20], out[4];
    for (int i = 0; i < 20; i++)
        in[i] = 10 + i;
    CHECK_EQ(push(&l, in, 13), 13);
    CHECK_EQ(pop(&l, out, 2), 2);
    CHECK_EQ(pop(&l, out, 4), 1); /* stops at the block's end */
    CHECK_EQ(push(&l, in + 13, 7), 7);
    ndrained = 0;
    CHECK_EQ(ferry__lflist_drain(&l, collect, drained), 17);
    CHECK_EQ(ndrained, 17);
    for (size_t i = 0; i < 17; i++)
        CHECK_EQ(drained[i], 13 + (long)i);
    CHECK(ferry__lflist_empty(&l));
    CHECK_EQ(push(&l, in, 1), 0); /* RXGONE */
    CHECK_EQ(ferry__lflist_drain(&l, NULL, NULL), 0);
    ferry__lflist_fini(&l);
}

/* A producer between its claim and its publication: drain waits for it
 * (L1, L7). The claim is made by hand here, as push makes it. */
struct late {
    struct ferry__lflist *l;
    struct ferry__lfblock *b;
    size_t o;
    FERRY_ATOMIC(int) published;
};

static void *publish_late(void *arg)
{
    struct late *lt = arg;
    ferry_test_sleep_ms(50);
    long v = 99;
    memcpy(ferry__lflist_item(lt->l, lt->b, lt->o), &v, sizeof v);
    atomic_store(&lt->published, 1);
    atomic_store_explicit(ferry__lflist_ready(lt->l, lt->b, lt->o), 1, memory_order_release);
    return NULL;
}

FERRY_TEST(lflist_drain_waits_for_a_claimed_item)
{
    struct ferry__lflist l;
    list_open(&l, 2);
    long v = 7;
    CHECK_EQ(push(&l, &v, 1), 1);
    struct late lt = {.l = &l, .b = atomic_load(&l.tail_blk), .o = 1};
    atomic_fetch_add(&l.tail, 1); /* claimed, not published */
    pthread_t t;
    pthread_create(&t, NULL, publish_late, &lt);
    ndrained = 0;
    CHECK_EQ(ferry__lflist_drain(&l, collect, drained), 2);
    CHECK_EQ(atomic_load(&lt.published), 1);
    CHECK_EQ(drained[0], 7);
    CHECK_EQ(drained[1], 99);
    pthread_join(t, NULL);
    ferry__lflist_fini(&l);
}

/* Many producers and consumers, batches of 1..5 and 8..12, no lock anywhere, on
 * blocks of 1, 3 and 31 slots, with (optionally) every 7th allocation
 * failing: every item exactly once, each producer's items in order per
 * consumer, and no more blocks than the backlog needs. */
#define PRODUCERS 3
#define CONSUMERS 3
struct mt {
    struct ferry__lflist l;
    size_t per;
    FERRY_ATOMIC(size_t) taken;
    FERRY_ATOMIC(unsigned char) *seen;
};

struct pa {
    struct mt *m;
    long id;
};

static void *producer(void *arg)
{
    struct pa *a = arg;
    struct mt *m = a->m;
    uint64_t rnd = (uint64_t)a->id + 1;
    for (size_t i = 0; i < m->per;) {
        long b[12];
        /* Mostly 1..5, one batch in four 8..12: blocks of both layouts
         * (chan_lflist.h, "Layout"), recycled from one into the other. */
        size_t k = ferry_test_rand(&rnd) % 4 ? 1 + ferry_test_rand(&rnd) % 5 : 8 + ferry_test_rand(&rnd) % 5;
        if (k > m->per - i)
            k = m->per - i;
        for (size_t j = 0; j < k; j++)
            b[j] = a->id * (long)m->per + (long)(i + j);
        bool nomem = false;
        size_t got = ferry__lflist_push(&m->l, b, k, true, &nomem);
        CHECK(got == k || nomem);
        if (got < k)
            sched_yield(); /* no memory now: try again */
        i += got;
        /* Keep the backlog near 300 (all producers at about i), so that
         * blocks are recycled all along. */
        while (i * PRODUCERS > atomic_load(&m->taken) + 300)
            sched_yield();
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
        bool entered = false;
        size_t got = ferry__lflist_pop(&m->l, b, 1 + ferry_test_rand(&rnd) % 5, true, &entered);
        if (got == 0) {
            sched_yield();
            continue;
        }
        for (size_t j = 0; j < got; j++) {
            long p = b[j] / (long)m->per, i = b[j] % (long)m->per;
            CHECK(p >= 0 && p < PRODUCERS);
            CHECK_MSG(i > last[p], "producer %ld: %ld after %ld", p, i, last[p]);
            last[p] = i;
            CHECK_MSG(atomic_fetch_add(&m->seen[b[j]], 1) == 0, "item %ld twice", b[j]);
        }
        atomic_fetch_add(&m->taken, got);
    }
    return NULL;
}

static void mpmc(long fail)
{
    static const unsigned shifts[] = {1, 2, 5};
    for (size_t si = 0; si < sizeof shifts / sizeof shifts[0]; si++) {
        struct mt m;
        memset(&m, 0, sizeof m);
        m.l.alloc = test_alloc;
        CHECK_EQ(ferry__lflist_init_shape(&m.l, sizeof(long), shifts[si]), 0);
        atomic_store(&fail_every, fail);
        m.per = ferry_test_scaled(20000);
        m.seen = calloc(m.per * PRODUCERS, 1);
        pthread_t pt[PRODUCERS], ct[CONSUMERS];
        struct pa args[PRODUCERS];
        for (int i = 0; i < CONSUMERS; i++)
            pthread_create(&ct[i], NULL, consumer, &m);
        for (long i = 0; i < PRODUCERS; i++) {
            args[i] = (struct pa){&m, i};
            pthread_create(&pt[i], NULL, producer, &args[i]);
        }
        for (int i = 0; i < PRODUCERS; i++)
            pthread_join(pt[i], NULL);
        for (int i = 0; i < CONSUMERS; i++)
            pthread_join(ct[i], NULL);
        atomic_store(&fail_every, 0);
        for (size_t i = 0; i < m.per * PRODUCERS; i++)
            CHECK_EQ(atomic_load(&m.seen[i]), 1);
        CHECK(ferry__lflist_empty(&m.l));
        /* The backlog stays near 300 items (plus what is in flight). */
        CHECK_MSG(ferry__lflist_blocks(&m.l) <= 600 / m.l.cap + 16, "%zu blocks of %zu slots",
                  ferry__lflist_blocks(&m.l), m.l.cap);
        free((void *)m.seen);
        ferry__lflist_fini(&m.l);
    }
}

FERRY_TEST(lflist_mpmc_exactly_once_in_order) { mpmc(0); }

FERRY_TEST(lflist_mpmc_allocation_failing_every_7th) { mpmc(7); }

/* ------------------------------------------------------------------------ */
/* Through a channel (plain unbounded channels take the list)                */

static void nop_wake(void *ctx) { (void)ctx; }

/* No memory for a new block: every kind of send returns what went in, or
 * -ENOMEM when nothing did; nothing is lost, and sends work again once
 * memory is back. Blocks of three slots, so that the first block fills. */
FERRY_TEST(lflist_channel_send_without_memory)
{
    ferry__lflist_test_shift = 2;
    ferry__lflist_test_alloc = test_alloc;
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = FERRY_UNBOUNDED};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    atomic_store(&fail_every, 1);
    long in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[16];
    CHECK_EQ(ferry_send(tx, in, 8), 2); /* slots 0 and 1; the last needs a successor */
    CHECK_EQ(ferry_send(tx, in + 2, 1), -ENOMEM);
    CHECK_EQ(ferry_try_send(tx, in + 2, 1), -ENOMEM);
    struct timespec past = {0, 0};
    CHECK_EQ(ferry_send_until(tx, in + 2, 3, &past), -ENOMEM);
    ferry_op op;
    CHECK_EQ(ferry_send_start(tx, &op, in + 2, 2, (ferry_waker){nop_wake, NULL}), -ENOMEM);
    CHECK_EQ(ferry_op_result(&op), -ENOMEM);
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(tx, &st), 0);
    CHECK_EQ(st.len, 2);
    CHECK_EQ(st.items_sent, 2);
    atomic_store(&fail_every, 0);
    CHECK_EQ(ferry_send(tx, in + 2, 6), 6);
    size_t got = 0;
    while (got < 8)
        got += (size_t)ferry_recv(rx, out + got, 16 - got);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(out[i], i + 1);
    /* Every 3rd allocation failing: what each send reports as sent is
     * received exactly once, in order. */
    atomic_store(&fail_every, 3);
    long next = 0, expect = 0;
    uint64_t rnd = 5;
    for (int round = 0; round < 2000; round++) {
        long b[7];
        size_t n = 1 + ferry_test_rand(&rnd) % 7;
        for (size_t i = 0; i < n; i++)
            b[i] = next + (long)i;
        ssize_t k = ferry_send(tx, b, n);
        CHECK_MSG(k == -ENOMEM || (k >= 1 && (size_t)k <= n), "send returned %zd", k);
        next += k > 0 ? k : 0;
        if (ferry_test_rand(&rnd) % 3 == 0) {
            ssize_t r;
            while ((r = ferry_try_recv(rx, out, 16)) > 0)
                for (ssize_t i = 0; i < r; i++)
                    CHECK_EQ(out[i], expect++);
        }
    }
    atomic_store(&fail_every, 0);
    ferry_tx_release(tx);
    ssize_t r;
    while ((r = ferry_recv(rx, out, 16)) > 0)
        for (ssize_t i = 0; i < r; i++)
            CHECK_EQ(out[i], expect++);
    CHECK_EQ(r, 0);
    CHECK_EQ(expect, next);
    ferry_rx_release(rx);
    ferry__lflist_test_shift = 0;
    ferry__lflist_test_alloc = NULL;
}

/* ---- a pop stalled between its head and head_blk loads ----
 *
 * The stalled thread waits on relaxed flags only, so that nothing it does
 * is ordered after what the main thread does meanwhile (ThreadSanitizer
 * sees exactly the order the list itself provides). */
static _Thread_local bool stall_me;
static FERRY_ATOMIC(int) stalled, stall_go;

static void pop_stall(void)
{
    if (!stall_me)
        return;
    stall_me = false;
    atomic_store_explicit(&stalled, 1, memory_order_relaxed);
    while (!atomic_load_explicit(&stall_go, memory_order_relaxed))
        sched_yield();
}

struct stalled_pop {
    struct ferry__lflist *l;
    size_t k;
    long v;
};

static void *stalled_popper(void *arg)
{
    struct stalled_pop *sp = arg;
    bool entered = false;
    stall_me = true;
    sp->k = ferry__lflist_pop(sp->l, &sp->v, 1, false, &entered);
    return NULL;
}

/* While a pop is stalled after its head load, the list moves on through
 * two blocks of one slot, the second allocated only now; the pop then
 * reads that block's ready byte (L4: its CAS would fail). The block's
 * allocation must be ordered before that read: before the fix the pop
 * loaded head_blk relaxed, and ThreadSanitizer reported a data race
 * with the malloc of the block (this test fails in the TSan build). */
FERRY_TEST(stalled_pop_meets_a_block_allocated_meanwhile)
{
    struct ferry__lflist l;
    list_open(&l, 1);
    long a = 1, b = 2, c = 3, out = 0;
    CHECK_EQ(push(&l, &a, 1), 1); /* block 0's slot; block 1 linked */
    struct stalled_pop sp = {.l = &l};
    pthread_t t;
    pthread_create(&t, NULL, stalled_popper, &sp);
    while (!atomic_load_explicit(&stalled, memory_order_relaxed))
        sched_yield();
    /* Block 1's slot: block 2 allocated (none recycled yet) and linked. */
    CHECK_EQ(push(&l, &b, 1), 1);
    bool entered = false;
    CHECK_EQ(ferry__lflist_pop(&l, &out, 1, false, &entered), 1); /* enters block 1 */
    CHECK_EQ(out, a);
    CHECK_EQ(ferry__lflist_pop(&l, &out, 1, false, &entered), 1); /* enters block 2 */
    CHECK_EQ(out, b);
    atomic_store_explicit(&stall_go, 1, memory_order_relaxed);
    pthread_join(t, NULL);
    CHECK_EQ(sp.k, 0); /* block 2's slot is not published yet */
    CHECK_EQ(push(&l, &c, 1), 1);
    CHECK_EQ(ferry__lflist_pop(&l, &out, 1, false, &entered), 1);
    CHECK_EQ(out, c);
    ferry__lflist_fini(&l);
}
