/* SPDX-License-Identifier: MIT */
/* bench/rt: the real-time toolkit.
 *
 *     rt [--quick]
 *
 * 1. SPSC throughput: N 8-byte items from a producer thread to a consumer
 *    thread through a 1024-slot ring, producer pushing and consumer popping
 *    batches of 1, 16 and 256, for ferry_spsc (at batch 1: "ferry" with the
 *    pointer calls ferry_spsc_push_ptr/pop_ptr, "ferry_copy" with
 *    ferry_spsc_push(q, &v, 1)), Concurrency Kit's ck_ring,
 *    Boost.Lockfree's spsc_queue and the baseline (a pthread mutex+condvar
 *    ring), all in this run. Each case runs R times, implementations
 *    interleaved; the median is printed, then throughput ratios. The
 *    consumer runs on CPU 0 and the producer on CPU 1 (--no-pin: wherever
 *    the scheduler puts them).
 * 2. ferry_llq push+pop, ferry_defer push and collect: ns per item on one
 *    thread (the cost a real-time thread pays), against a mutex-protected
 *    list as the baseline.
 *
 * Lines: printf("%-25s %-15s %7.3f sec\n", case, impl, seconds).
 */
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/llq.h>
#include <ferry/spsc.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "peers/rt_peers.h"

#define CAP 1024

double rt_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void rt_backoff(unsigned *spins)
{
    if (++*spins < 64)
        __builtin_ia32_pause();
    else
        sched_yield();   /* 2-core machines: let the other side run */
}

static bool pin = true;

void rt_pin(int role)
{
    if (!pin)
        return;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 2)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(role ? 1 : 0, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

uint64_t rt_expected_sum(size_t n)
{
    return (uint64_t)n * ((uint64_t)n + 1) / 2;
}

/* ---- ferry_spsc ---- */

typedef struct {
    ferry_spsc q;
    size_t n, batch;
    bool by_ptr;   /* batch 1: ferry_spsc_push_ptr/pop_ptr */
} spsc_ctx;

static void *ferry_producer(void *arg)
{
    spsc_ctx *c = arg;
    rt_pin(1);
    uint64_t *items = malloc(c->batch * sizeof *items);
    uint64_t v = 1;
    unsigned spins = 0;
    if (c->batch == 1 && c->by_ptr) {   /* one at a time: the pointer call */
        while (v <= c->n) {
            if (ferry_spsc_push_ptr(&c->q, (void *)(uintptr_t)v)) {
                v++;
                spins = 0;
            } else {
                rt_backoff(&spins);
            }
        }
    }
    if (c->batch == 1) {   /* one at a time through the copying call */
        while (v <= c->n) {
            if (ferry_spsc_push(&c->q, &v, 1)) {
                v++;
                spins = 0;
            } else {
                rt_backoff(&spins);
            }
        }
    }
    while (v <= c->n) {
        size_t k = c->batch;
        if (k > c->n - v + 1)
            k = c->n - v + 1;
        for (size_t i = 0; i < k; i++)
            items[i] = v + i;
        for (size_t done = 0; done < k;) {
            size_t m = ferry_spsc_push(&c->q, items + done, k - done);
            if (m == 0) {
                rt_backoff(&spins);
            } else {
                spins = 0;
                done += m;
            }
        }
        v += k;
    }
    free(items);
    return NULL;
}

static double run_ferry_spsc(size_t n, size_t batch, size_t cap, bool by_ptr)
{
    spsc_ctx *c = aligned_alloc(256, sizeof(spsc_ctx) + 255 - (sizeof(spsc_ctx) + 255) % 256);
    uint64_t *buf = aligned_alloc(64, cap * sizeof *buf);
    ferry_spsc_init(&c->q, buf, sizeof *buf, cap);
    c->n = n;
    c->batch = batch;
    c->by_ptr = by_ptr;
    uint64_t *out = malloc(batch * sizeof *out);
    rt_pin(0);
    double t0 = rt_now();
    pthread_t t;
    pthread_create(&t, NULL, ferry_producer, c);
    uint64_t sum = 0;
    size_t got = 0;
    unsigned spins = 0;
    while (got < n) {
        size_t k;
        if (batch == 1 && by_ptr) {
            void *p = NULL;
            k = ferry_spsc_pop_ptr(&c->q, &p);
            out[0] = (uint64_t)(uintptr_t)p;
        } else if (batch == 1) {
            k = ferry_spsc_pop(&c->q, out, 1);
        } else {
            k = ferry_spsc_pop(&c->q, out, batch);
        }
        if (k == 0) {
            rt_backoff(&spins);
            continue;
        }
        spins = 0;
        for (size_t i = 0; i < k; i++)
            sum += out[i];
        got += k;
    }
    pthread_join(t, NULL);
    double dt = rt_now() - t0;
    free(out);
    free(buf);
    free(c);
    return sum == rt_expected_sum(n) ? dt : -1;
}

/* Batch 1 by pointer (ferry_spsc_push_ptr/pop_ptr, like ck_ring's pointer
 * calls); larger batches with ferry_spsc_push/pop. */
static double run_ferry(size_t n, size_t batch, size_t cap)
{
    return run_ferry_spsc(n, batch, cap, true);
}

/* Batch 1 through the copying calls ferry_spsc_push(q, &v, 1). */
static double run_ferry_copy(size_t n, size_t batch, size_t cap)
{
    return run_ferry_spsc(n, batch, cap, false);
}

/* ---- baseline: pthread mutex + condvar ring ---- */

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t not_empty, not_full;
    uint64_t *buf;
    size_t cap, head, len;
    size_t n, batch;
} mc_ctx;

static void *mc_producer(void *arg)
{
    mc_ctx *c = arg;
    rt_pin(1);
    uint64_t v = 1;
    while (v <= c->n) {
        size_t k = c->batch;
        if (k > c->n - v + 1)
            k = c->n - v + 1;
        pthread_mutex_lock(&c->m);
        while (k) {
            while (c->len == c->cap)
                pthread_cond_wait(&c->not_full, &c->m);
            size_t room = c->cap - c->len, m = k < room ? k : room;
            for (size_t i = 0; i < m; i++)
                c->buf[(c->head + c->len + i) % c->cap] = v++;
            c->len += m;
            k -= m;
            pthread_cond_signal(&c->not_empty);
        }
        pthread_mutex_unlock(&c->m);
    }
    return NULL;
}

static double run_mutex(size_t n, size_t batch, size_t cap)
{
    mc_ctx c = {.m = PTHREAD_MUTEX_INITIALIZER, .not_empty = PTHREAD_COND_INITIALIZER,
                .not_full = PTHREAD_COND_INITIALIZER, .cap = cap, .n = n, .batch = batch};
    c.buf = malloc(cap * sizeof *c.buf);
    rt_pin(0);
    double t0 = rt_now();
    pthread_t t;
    pthread_create(&t, NULL, mc_producer, &c);
    uint64_t sum = 0;
    size_t got = 0;
    while (got < n) {
        pthread_mutex_lock(&c.m);
        while (c.len == 0)
            pthread_cond_wait(&c.not_empty, &c.m);
        size_t k = c.len < batch ? c.len : batch;
        for (size_t i = 0; i < k; i++)
            sum += c.buf[(c.head + i) % c.cap];
        c.head = (c.head + k) % c.cap;
        c.len -= k;
        pthread_cond_signal(&c.not_full);
        pthread_mutex_unlock(&c.m);
        got += k;
    }
    pthread_join(t, NULL);
    double dt = rt_now() - t0;
    free(c.buf);
    return sum == rt_expected_sum(n) ? dt : -1;
}

/* ---- the matrix ---- */

typedef double (*spsc_fn)(size_t n, size_t batch, size_t cap);
static const struct {
    const char *name;
    spsc_fn fn;
    bool batch1_only;   /* differs from "ferry" only at batch 1 */
} impls[] = {
    {"ferry", run_ferry, false},
    {"ferry_copy", run_ferry_copy, true},
#ifdef FERRY_BENCH_HAVE_CK
    {"ck_ring", rt_peer_ck_ring, false},
#endif
#ifdef FERRY_BENCH_HAVE_BOOST
    {"boost_spsc", rt_peer_boost_spsc, false},
#endif
    {"mutex_cond", run_mutex, false},
};
#define NIMPL (sizeof impls / sizeof impls[0])

static int failures;

static void bench_spsc(size_t n, int reps)
{
    static const size_t batches[] = {1, 16, 256};
    for (size_t b = 0; b < 3; b++) {
        double t[NIMPL][16], med[NIMPL], best[NIMPL];
        for (int r = 0; r < reps; r++)
            for (size_t i = 0; i < NIMPL; i++) {
                /* Rotate the order each repetition so that no implementation
                 * always runs right after another. */
                size_t k = (i + (size_t)r) % NIMPL;
                if (impls[k].batch1_only && batches[b] != 1)
                    continue;
                t[k][r] = impls[k].fn(n, batches[b], CAP);
                if (t[k][r] < 0) {
                    fprintf(stderr, "rt: %s batch %zu: wrong checksum\n", impls[k].name,
                            batches[b]);
                    failures++;
                }
            }
        char name[32];
        snprintf(name, sizeof name, "spsc_batch%zu", batches[b]);
        for (size_t i = 0; i < NIMPL; i++) {
            if (impls[i].batch1_only && batches[b] != 1)
                continue;
            best[i] = t[i][0];
            for (int r = 1; r < reps; r++)
                if (t[i][r] < best[i])
                    best[i] = t[i][r];
            med[i] = bench_median(t[i], reps);
            printf("%-25s %-15s %7.3f sec\n", name, impls[i].name, med[i]);
        }
        /* Throughput ratios: of the medians, and of the best repetitions
         * (the least disturbed by other load on a shared machine). */
        for (size_t i = 1; i < NIMPL; i++)
            if (!impls[i].batch1_only || batches[b] == 1)
                printf("%-25s ferry vs %-10s %6.2fx throughput (%.1f vs %.1f Mitems/s), "
                   "best %.2fx (%.1f vs %.1f)\n", name, impls[i].name, med[i] / med[0],
                   n / med[0] / 1e6, n / med[i] / 1e6, best[i] / best[0],
                   n / best[0] / 1e6, n / best[i] / 1e6);
        fflush(stdout);
    }
}

/* ---- llq and defer: ns per operation on one thread ---- */

typedef struct item {
    ferry_llq_node qn;
    ferry_defer_node dn;
    ferry_list ln;
    uint64_t v;
} item;

static uint64_t sink;
static void count_item(ferry_defer_node *n)
{
    sink += ferry_container_of(n, item, dn)->v;
}

static void bench_single(size_t n, int reps)
{
    enum { CHUNK = 256 };
    item *items = calloc(CHUNK, sizeof *items);
    for (size_t i = 0; i < CHUNK; i++)
        items[i].v = i;
    double llq_b[16], llq_1[16], dpush[16], dcoll[16], mpush[16];
    for (int r = 0; r < reps; r++) {
        ferry_llq q;
        ferry_llq_init(&q);
        /* push 256, pop 256 */
        double t0 = rt_now();
        for (size_t done = 0; done < n; done += CHUNK) {
            for (size_t i = 0; i < CHUNK; i++)
                ferry_llq_push(&q, &items[i].qn);
            for (size_t i = 0; i < CHUNK; i++)
                sink += ferry_container_of(ferry_llq_pop(&q), item, qn)->v;
        }
        llq_b[r] = (rt_now() - t0) / (double)n * 1e9;
        /* push 1, pop 1: every pop appends the stub */
        t0 = rt_now();
        for (size_t i = 0; i < n; i++) {
            ferry_llq_push(&q, &items[i % CHUNK].qn);
            sink += ferry_container_of(ferry_llq_pop(&q), item, qn)->v;
        }
        llq_1[r] = (rt_now() - t0) / (double)n * 1e9;

        ferry_defer d;
        ferry_defer_init(&d);
        double push_t = 0, coll_t = 0;
        for (size_t done = 0; done < n; done += CHUNK) {
            t0 = rt_now();
            for (size_t i = 0; i < CHUNK; i++)
                ferry_defer_push(&d, &items[i].dn, count_item);
            double t1 = rt_now();
            ferry_defer_collect(&d);
            coll_t += rt_now() - t1;
            push_t += t1 - t0;
        }
        dpush[r] = push_t / (double)n * 1e9;
        dcoll[r] = coll_t / (double)n * 1e9;

        /* baseline: a mutex-protected list push, as a lock-based garbage
         * list would do (uncontended) */
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        ferry_list l;
        ferry_list_init(&l);
        push_t = 0;
        for (size_t done = 0; done < n; done += CHUNK) {
            t0 = rt_now();
            for (size_t i = 0; i < CHUNK; i++) {
                pthread_mutex_lock(&m);
                ferry_list_add_tail(&l, &items[i].ln);
                pthread_mutex_unlock(&m);
            }
            push_t += rt_now() - t0;
            ferry_list_init(&l);
        }
        mpush[r] = push_t / (double)n * 1e9;
    }
    double a = bench_median(llq_b, reps), b = bench_median(llq_1, reps), c = bench_median(dpush, reps),
           d = bench_median(dcoll, reps), e = bench_median(mpush, reps);
    printf("%-25s %-15s %7.3f sec\n", "llq_push_pop_batch256", "ferry", a * n * 1e-9);
    printf("%-25s %-15s %7.3f sec\n", "llq_push_pop_1", "ferry", b * n * 1e-9);
    printf("%-25s %-15s %7.3f sec\n", "defer_push", "ferry", c * n * 1e-9);
    printf("%-25s %-15s %7.3f sec\n", "defer_collect", "ferry", d * n * 1e-9);
    printf("%-25s %-15s %7.3f sec\n", "defer_push", "mutex_list", e * n * 1e-9);
    printf("llq push+pop: %.2f ns/item (batches of 256), %.2f ns/item (one at a time)\n", a, b);
    printf("defer: push %.2f ns/item, collect %.2f ns/item; mutex list push %.2f ns "
           "(defer push %.2fx faster)\n", c, d, e, e / c);
    free(items);
}

int main(int argc, char **argv)
{
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--no-pin") == 0)
            pin = false;
        else {
            fprintf(stderr, "usage: rt [--quick] [--no-pin]\n");
            return 2;
        }
    }
    size_t n = quick ? 1000000 : 5000000;
    int reps = quick ? 3 : 7;
    printf("# bench/rt: %zu 8-byte items, ring %d, median of %d%s\n", n, CAP, reps,
           quick ? " (quick)" : "");
    bench_spsc(n, reps);
    bench_single(quick ? 2000000 : 20000000, reps);
    /* the single-thread part ran pinned to CPU 0 if pinning was on */
    return failures ? 1 : 0;
}
