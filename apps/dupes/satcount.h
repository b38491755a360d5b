/* SPDX-License-Identifier: MIT */
/* Byte totals that stop at UINT64_MAX instead of wrapping. A file's size can
 * be close to 2^63 (a sparse file on XFS, btrfs or tmpfs), so two of them
 * already pass 2^64: the summary would print a small number. A total that
 * reached UINT64_MAX is shown as ">= 16.0 EiB" (human_bytes, stats.c). */
#ifndef FERRY_DUPES_SATCOUNT_H
#define FERRY_DUPES_SATCOUNT_H

#include <stdatomic.h>
#include <stdint.h>

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t s;
    return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

static inline uint64_t sat_mul(uint64_t a, uint64_t b)
{
    uint64_t p;
    return __builtin_mul_overflow(a, b, &p) ? UINT64_MAX : p;
}

/* Add n to a shared counter, stopping at UINT64_MAX. Relaxed, as every
 * counter of struct counters: statistics that publish no other memory. */
static inline void sat_add_atomic(atomic_uint_fast64_t *c, uint64_t n)
{
    uint_fast64_t old = atomic_load_explicit(c, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(c, &old, sat_add(old, n), memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

#endif
