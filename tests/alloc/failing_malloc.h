/* SPDX-License-Identifier: MIT */
/* The allocation-failure tests' allocator: malloc, calloc, realloc,
 * aligned_alloc and free, defined by the including program (so the dynamic
 * linker, and the static link with libferry.a, resolve every call to them),
 * then passed on to glibc's own. While armed (arm(k)), every k-th call
 * fails with ENOMEM; `live` counts the blocks allocated and not freed (a
 * leak check), `biggest` the largest malloc request. Include it in one file
 * per program. Not for sanitizer builds: they own malloc. */
#ifndef FERRY_TEST_FAILING_MALLOC_H
#define FERRY_TEST_FAILING_MALLOC_H

#include <ferry/common.h>
#include <errno.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

/* Relaxed throughout: counters, read after the allocating threads are
 * synchronized with (joins, barriers). */
static FERRY_ATOMIC(long) every; /* 0: disarmed; k: fail every k-th call */
static FERRY_ATOMIC(long) calls, failed, live;
static FERRY_ATOMIC(size_t) biggest;

/* Decide for one allocation; count it. */
static bool fail_now(void)
{
    long k = atomic_load_explicit(&every, memory_order_relaxed);
    if (k == 0)
        return false;
    long c = atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1;
    if (c % k)
        return false;
    atomic_fetch_add_explicit(&failed, 1, memory_order_relaxed);
    errno = ENOMEM;
    return true;
}

static void *counted(void *p)
{
    if (p)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void *malloc(size_t n)
{
    size_t b = atomic_load_explicit(&biggest, memory_order_relaxed);
    while (n > b && !atomic_compare_exchange_weak_explicit(&biggest, &b, n, memory_order_relaxed,
                                                           memory_order_relaxed)) {
    }
    return fail_now() ? NULL : counted(__libc_malloc(n));
}
void *calloc(size_t a, size_t b) { return fail_now() ? NULL : counted(__libc_calloc(a, b)); }
void *realloc(void *p, size_t n)
{
    if (fail_now())
        return NULL;
    void *q = __libc_realloc(p, n);
    if (q && !p)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return q;
}
void *aligned_alloc(size_t a, size_t n) { return fail_now() ? NULL : counted(__libc_memalign(a, n)); }
void free(void *p)
{
    if (p)
        atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    __libc_free(p);
}

static void arm(long k)
{
    atomic_store_explicit(&calls, 0, memory_order_relaxed);
    atomic_store_explicit(&every, k, memory_order_relaxed);
}

static void disarm(void) { atomic_store_explicit(&every, 0, memory_order_relaxed); }

#endif
