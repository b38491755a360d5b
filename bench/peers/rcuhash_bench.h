/* SPDX-License-Identifier: MIT */
/* The workload interface of bench/rcuhash.c: one table of functions per hash
 * table implementation (ferry_lfht in bench/rcuhash.c, liburcu's cds_lfht in
 * bench/peers/rcuhash_liburcu.c), each instantiated from bench/rcuhash_impl.h
 * in its own translation unit, so that every table call is a direct call. */
#ifndef FERRY_BENCH_RCUHASH_H
#define FERRY_BENCH_RCUHASH_H

#include <stddef.h>
#include <stdint.h>

/* One worker's run: `ops` operations on keys [0, keys); lookup_pct percent
 * are lookups, the rest updates (a present key is deleted, an absent one
 * added with add_unique). Added nodes come from the worker's pool (never
 * reused during the run: no reclamation is timed); counts come back. */
struct rcuhash_work {
    unsigned long ops, keys;
    unsigned lookup_pct;
    uint64_t seed;
    void *pool;              /* from alloc_pool */
    size_t pool_len, pool_used;
    unsigned long hits, adds, dels;
};

struct rcuhash_bench_impl {
    const char *name;
    void (*reg)(void);
    void (*unreg)(void);
    void *(*create)(void);                           /* auto-resize + accounting */
    void *(*alloc_pool)(size_t n);
    void (*free_pool)(void *pool);
    /* Add every other key of [0, keys) from the pool, then resize to the
     * power of two >= keys / 2 (both implementations start equal).
     * Calling thread registered. */
    void (*prefill)(void *table, struct rcuhash_work *w);
    void (*work)(void *table, struct rcuhash_work *w);   /* registered thread */
    /* Delete every node, wait for readers, destroy (registered thread). */
    unsigned long (*teardown)(void *table);
};

extern const struct rcuhash_bench_impl rcuhash_bench_urcu;

/* The hash both implementations use (a 64-bit finalizer). */
static inline unsigned long rcuhash_bench_hash(unsigned long k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdUL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53UL;
    k ^= k >> 33;
    return k;
}

#endif
