/* SPDX-License-Identifier: MIT */
/* ferry/seqlock.h under a writer storm: two writers (serialized by a
 * ferry_mutex, as the header asks) rewrite a record back to back while two
 * readers snapshot it. Every snapshot that read_retry accepts must be whole
 * (all fields from one write: the words and an unaligned byte run are
 * derived from one version number), and the versions one reader accepts
 * never go backwards (each snapshot is at least as new as the one before:
 * the seqlock is linearizable). The sequence starts just below 2^32, so the
 * storm carries it across the wrap. Readers must finish reads: at the end
 * each has accepted at least one snapshot, and one taken after the storm
 * shows the last version written. */
#include <ferry/mutex.h>
#include <ferry/seqlock.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

#define WORDS 12
#define BYTES 37 /* odd, read at an odd offset: the byte-wise copy path */

typedef struct record {
    uint64_t version;
    uint64_t w[WORDS];
    unsigned char pad;
    unsigned char bytes[BYTES];
} record;

static ferry_seqlock sl;
static ferry_mutex writers;
static record shared;
static uint64_t next_version; /* under `writers` */
static size_t writes_each;
static FERRY_ATOMIC(int) writers_left, readers_in;

static uint64_t word_of(uint64_t v, int i) { return v * 0x9e3779b97f4a7c15ull + (uint64_t)i; }
static unsigned char byte_of(uint64_t v, int i) { return (unsigned char)(v * 7 + (uint64_t)i * 13); }

static void *writer(void *arg)
{
    (void)arg;
    record r;
    memset(&r, 0, sizeof r);
    while (atomic_load(&readers_in) < 2) /* the storm starts with the readers running */
        sched_yield();
    for (size_t k = 0; k < writes_each; k++) {
        ferry_mutex_lock(&writers);
        uint64_t v = ++next_version;
        r.version = v;
        for (int i = 0; i < WORDS; i++)
            r.w[i] = word_of(v, i);
        for (int i = 0; i < BYTES; i++)
            r.bytes[i] = byte_of(v, i);
        ferry_seqlock_write_begin(&sl);
        ferry_seqlock_store(shared.version, v);
        ferry_seqlock_write_copy(shared.w, r.w, sizeof r.w);
        ferry_seqlock_write_copy(shared.bytes, r.bytes, sizeof r.bytes);
        ferry_seqlock_write_end(&sl);
        ferry_mutex_unlock(&writers);
    }
    atomic_fetch_sub(&writers_left, 1);
    return NULL;
}

typedef struct reader_result {
    size_t accepted, accepted_during_storm, retries;
    uint64_t last;
} reader_result;

/* One snapshot; returns its version after checking it is whole. */
static uint64_t snapshot(reader_result *res)
{
    record r;
    uint32_t s;
    for (;;) {
        s = ferry_seqlock_read_begin(&sl);
        r.version = ferry_seqlock_load(shared.version);
        ferry_seqlock_read_copy(r.w, shared.w, sizeof r.w);
        ferry_seqlock_read_copy(r.bytes, shared.bytes, sizeof r.bytes);
        if (!ferry_seqlock_read_retry(&sl, s))
            break;
        res->retries++;
    }
    CHECK_MSG(!(s & 1), "read_begin returned an odd sequence %u", s);
    uint64_t v = r.version;
    for (int i = 0; i < WORDS; i++)
        CHECK_MSG(v == 0 ? r.w[i] == 0 : r.w[i] == word_of(v, i),
                  "torn snapshot: version %llu, word %d is %llx", (unsigned long long)v, i,
                  (unsigned long long)r.w[i]);
    for (int i = 0; i < BYTES; i++)
        CHECK_MSG(v == 0 ? r.bytes[i] == 0 : r.bytes[i] == byte_of(v, i),
                  "torn snapshot: version %llu, byte %d is %u", (unsigned long long)v, i, r.bytes[i]);
    CHECK_MSG(v >= res->last, "snapshot went back in time: version %llu after %llu",
              (unsigned long long)v, (unsigned long long)res->last);
    res->last = v;
    res->accepted++;
    return v;
}

static void *reader(void *arg)
{
    reader_result *res = arg;
    atomic_fetch_add(&readers_in, 1);
    while (atomic_load(&writers_left) > 0) {
        snapshot(res);
        if (atomic_load(&writers_left) > 0)
            res->accepted_during_storm++;
    }
    return NULL;
}

FERRY_TEST(readers_never_accept_torn_or_stale_snapshots_in_a_writer_storm)
{
    writes_each = ferry_test_scaled(200000);
    /* Start just below the 32-bit wrap (even: no section open); the storm
     * takes the sequence across it. */
    atomic_store_explicit(&sl.seq, UINT32_MAX - 2 * 1000 + 1, memory_order_relaxed);
    memset(&shared, 0, sizeof shared);
    next_version = 0;
    atomic_store(&writers_left, 2);
    atomic_store(&readers_in, 0);
    pthread_t w[2], r[2];
    reader_result res[2];
    memset(res, 0, sizeof res);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&r[i], NULL, reader, &res[i]), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&w[i], NULL, writer, NULL), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(w[i], NULL), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(r[i], NULL), 0);
    CHECK_EQ(next_version, 2 * writes_each);
    /* 2 * writes_each sections, two increments each, from the start. */
    CHECK_EQ(atomic_load(&sl.seq), (uint32_t)(UINT32_MAX - 2 * 1000 + 1 + 4 * writes_each));
    for (int i = 0; i < 2; i++) {
        CHECK(snapshot(&res[i]) == 2 * writes_each);
        CHECK(res[i].accepted >= 1);
        fprintf(stderr, "reader %d: %zu snapshots during the storm, %zu retries\n", i,
                res[i].accepted_during_storm, res[i].retries);
    }
    ferry_mutex_fini(&writers);
}
