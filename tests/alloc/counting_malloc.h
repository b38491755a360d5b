/* SPDX-License-Identifier: MIT */
/* The zero-allocation tests' allocator: malloc, calloc, realloc and free,
 * defined by the including program (so the dynamic linker, and the static
 * link with libferry.a, resolve every call to them), counted in `calls`
 * while `armed` is set, then passed on to glibc's own. Include it in one
 * file per program. Not for sanitizer builds: they own malloc. */
#ifndef FERRY_TEST_COUNTING_MALLOC_H
#define FERRY_TEST_COUNTING_MALLOC_H

#include <ferry/common.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static FERRY_ATOMIC(int) armed;
static FERRY_ATOMIC(long) calls;

static void note(void)
{
    /* Relaxed: a counter read after the measured threads are synchronized
     * with (joins, channel handoffs). */
    if (atomic_load_explicit(&armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
}

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { if (p) note(); __libc_free(p); }

#endif
