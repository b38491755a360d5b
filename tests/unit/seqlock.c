/* SPDX-License-Identifier: MIT */
/* ferry/seqlock.h: readers see consistent snapshots while a writer changes
 * the data; retry on overlap; misuse checks. */
#include <ferry/seqlock.h>

#include <pthread.h>
#include <string.h>

#include "step.h"
#include "test.h"

FERRY_TEST(single_thread_sequence)
{
    ferry_seqlock sl = FERRY_SEQLOCK_INIT;
    uint32_t s = ferry_seqlock_read_begin(&sl);
    CHECK(!ferry_seqlock_read_retry(&sl, s));
    ferry_seqlock_write_begin(&sl);
    CHECK(ferry_seqlock_read_retry(&sl, s));   /* a write began */
    ferry_seqlock_write_end(&sl);
    CHECK(ferry_seqlock_read_retry(&sl, s));   /* and ended: still a change */
    s = ferry_seqlock_read_begin(&sl);
    CHECK_EQ(s, 2);
    CHECK(!ferry_seqlock_read_retry(&sl, s));
}

FERRY_TEST(copy_helpers_any_alignment)
{
    unsigned char a[64], b[64];
    for (int i = 0; i < 64; i++)
        a[i] = (unsigned char)i;
    for (int off = 0; off < 9; off++) {
        for (int n = 0; n < 40; n++) {
            memset(b, 0xee, sizeof b);
            ferry_seqlock_read_copy(b + off, a + (off * 3 % 8), (size_t)n);
            CHECK(memcmp(b + off, a + (off * 3 % 8), (size_t)n) == 0);
            CHECK_EQ(b[off + n], 0xee);
            memset(b, 0xee, sizeof b);
            ferry_seqlock_write_copy(b + off, a + 1, (size_t)n);
            CHECK(memcmp(b + off, a + 1, (size_t)n) == 0);
        }
    }
}

/* The protected record: every field equals `gen` in a consistent snapshot. */
struct rec {
    unsigned long gen;
    unsigned long f[7];
    char tag[13];
};

static ferry_seqlock rec_lock;
static struct rec shared;
static FERRY_ATOMIC(int) stop;

static void *reader(void *arg)
{
    FERRY_ATOMIC(unsigned long) *seen = arg;
    unsigned long last = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        struct rec r;
        uint32_t s;
        do {
            s = ferry_seqlock_read_begin(&rec_lock);
            ferry_seqlock_read_copy(&r, &shared, sizeof r);
        } while (ferry_seqlock_read_retry(&rec_lock, s));
        for (int i = 0; i < 7; i++)
            CHECK_MSG(r.f[i] == r.gen, "torn snapshot: gen %lu f[%d] %lu", r.gen, i, r.f[i]);
        CHECK_EQ(r.tag[12], (char)(r.gen & 0x7f));
        CHECK_MSG(r.gen >= last, "snapshot went back in time");
        last = r.gen;
        atomic_fetch_add_explicit(seen, 1, memory_order_relaxed);
    }
    return NULL;
}

FERRY_TEST(readers_never_see_torn_data)
{
    enum { R = 3 };
    pthread_t t[R];
    static FERRY_ATOMIC(unsigned long) seen[R];
    for (int i = 0; i < R; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, reader, &seen[i]), 0);
    size_t n = ferry_test_scaled(200000);
    /* Write at least n generations, and until every reader has taken a few
     * snapshots (they may start late on a loaded machine). */
    for (size_t g = 1;; g++) {
        if (g > n) {
            bool all = true;
            for (int i = 0; i < R; i++)
                all = all && atomic_load_explicit(&seen[i], memory_order_relaxed) >= 100;
            if (all)
                break;
        }
        struct rec r;
        r.gen = g;
        for (int i = 0; i < 7; i++)
            r.f[i] = g;
        memset(r.tag, (char)(g & 0x7f), sizeof r.tag);
        ferry_seqlock_write_begin(&rec_lock);
        ferry_seqlock_write_copy(&shared, &r, sizeof r);
        ferry_seqlock_write_end(&rec_lock);
    }
    atomic_store_explicit(&stop, 1, memory_order_relaxed);
    for (int i = 0; i < R; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < R; i++)
        CHECK(atomic_load_explicit(&seen[i], memory_order_relaxed) >= 100);
}

FERRY_TEST(scalar_fields)
{
    static struct { long a, b; } pt;
    ferry_seqlock sl;
    ferry_seqlock_init(&sl);
    ferry_seqlock_write_begin(&sl);
    ferry_seqlock_store(pt.a, 5);
    ferry_seqlock_store(pt.b, -5);
    ferry_seqlock_write_end(&sl);
    long a, b;
    uint32_t s;
    do {
        s = ferry_seqlock_read_begin(&sl);
        a = ferry_seqlock_load(pt.a);
        b = ferry_seqlock_load(pt.b);
    } while (ferry_seqlock_read_retry(&sl, s));
    CHECK_EQ(a + b, 0);
}

FERRY_DEATH_TEST(nested_write_begin_aborts, "a write section is already open")
{
    ferry_seqlock sl = FERRY_SEQLOCK_INIT;
    ferry_seqlock_write_begin(&sl);
    ferry_seqlock_write_begin(&sl);
}

FERRY_DEATH_TEST(write_end_without_begin_aborts, "without write_begin")
{
    ferry_seqlock sl = FERRY_SEQLOCK_INIT;
    ferry_seqlock_write_end(&sl);
}

#ifdef FERRY_TEST_CAN_STEP
/* ---- ferry_seqlock: a write section after any instruction of a read ------
 * The snapshot a reader accepts is whole, also across the sequence wrap. */
static ferry_seqlock sl;
static struct {
    uint64_t a, b, c;
} shared_data;
static uint64_t wv, ra, rb, rc;

static void s_write(void)
{
    ferry_seqlock_write_begin(&sl);
    wv++;
    ferry_seqlock_store(shared_data.a, wv);
    ferry_seqlock_store(shared_data.b, wv * 3);
    ferry_seqlock_store(shared_data.c, wv * 7);
    ferry_seqlock_write_end(&sl);
}

static void s_read(void)
{
    uint32_t s;
    do {
        s = ferry_seqlock_read_begin(&sl);
        ra = ferry_seqlock_load(shared_data.a);
        rb = ferry_seqlock_load(shared_data.b);
        rc = ferry_seqlock_load(shared_data.c);
    } while (ferry_seqlock_read_retry(&sl, s));
}

FERRY_TEST(seqlock_write_after_any_instruction_of_a_read)
{
    int runs = 0;
    for (int wrap = 0; wrap < 2; wrap++) {
        for (int k = 1;; k++) {
            ferry_seqlock_init(&sl);
            s_write();
            if (wrap)   /* the injected write section wraps the sequence to 0 */
                atomic_store_explicit(&sl.seq, UINT32_MAX - 1, memory_order_relaxed);
            uint64_t before = wv;
            bool more = step_run(s_read, s_write, k);
            CHECK(ra == before || ra == before + 1);
            CHECK_EQ(rb, ra * 3);
            CHECK_EQ(rc, ra * 7);
            runs++;
            if (!more)
                break;
        }
    }
    CHECK(runs > 2 * 3);
}
#endif /* FERRY_TEST_CAN_STEP */
