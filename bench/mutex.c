/* SPDX-License-Identifier: MIT */
/* bench/mutex: ferry_mutex against pthread_mutex_t (default and
 * PTHREAD_MUTEX_ADAPTIVE_NP), measured in the same run.
 *
 *   uncontended   one thread, lock+unlock in a loop: ns per pair
 *   hammer-T      T threads (2, 4, 8, 16) each looping: lock, a short
 *                 critical section (a few dependent updates of shared data),
 *                 unlock, a little private work. Throughput in million
 *                 acquisitions per second, and the longest single wait
 *                 (lock call to lock return) seen by any thread.
 *   condvar       a producer/consumer ring over a mutex and two conds.
 *
 * Each case is repeated (the implementations interleaved) and the median
 * reported; ratios are ferry over each pthread kind (higher is better for
 * throughput, lower for time). --quick: shorter runs, fewer repetitions.
 * --only WORD: run only the cases whose name starts with WORD
 * (uncontended, hammer, condvar).
 */
#include <ferry/mutex.h>

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { IMPL_PTHREAD, IMPL_ADAPTIVE, IMPL_FERRY, NIMPL };
static const char *impl_name[NIMPL] = {"pthread", "pthread-adapt", "ferry"};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Wait times are taken around every acquisition, so they must be cheap:
 * the TSC on x86 (converted with a rate measured at start), else the
 * monotonic clock. */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>

#include "bench.h"
static double tsc_per_ns = 1;
static inline uint64_t ticks(void) { return __rdtsc(); }
static void calibrate(void)
{
    struct timespec a, b, d = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t t0 = __rdtsc();
    nanosleep(&d, NULL);
    uint64_t t1 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    tsc_per_ns = (double)(t1 - t0) / ns;
}
#else
static double tsc_per_ns = 1;
static inline uint64_t ticks(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static void calibrate(void) {}
#endif

static long context_switches(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw + ru.ru_nivcsw;
}

typedef struct lockbox {
    pthread_mutex_t pm;
    ferry_mutex fm;
    int impl;
} lockbox;

static void box_init(lockbox *b, int impl)
{
    b->impl = impl;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (impl == IMPL_ADAPTIVE)
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&b->pm, &a);
    pthread_mutexattr_destroy(&a);
    ferry_mutex_init(&b->fm);
}

static void box_fini(lockbox *b)
{
    pthread_mutex_destroy(&b->pm);
    ferry_mutex_fini(&b->fm);
}

static inline void box_lock(lockbox *b)
{
    if (b->impl == IMPL_FERRY)
        ferry_mutex_lock(&b->fm);
    else
        pthread_mutex_lock(&b->pm);
}

static inline void box_unlock(lockbox *b)
{
    if (b->impl == IMPL_FERRY)
        ferry_mutex_unlock(&b->fm);
    else
        pthread_mutex_unlock(&b->pm);
}

/* ------------------------------------------------------- uncontended */

static double uncontended_ns(int impl, long iters)
{
    lockbox b;
    box_init(&b, impl);
    volatile long sink = 0;
    double t0 = now_s();
    if (impl == IMPL_FERRY) {
        for (long i = 0; i < iters; i++) {
            ferry_mutex_lock(&b.fm);
            sink++;
            ferry_mutex_unlock(&b.fm);
        }
    } else {
        for (long i = 0; i < iters; i++) {
            pthread_mutex_lock(&b.pm);
            sink++;
            pthread_mutex_unlock(&b.pm);
        }
    }
    double t = now_s() - t0;
    box_fini(&b);
    return t * 1e9 / (double)iters;
}

/* ------------------------------------------------------------ hammer */

typedef struct shared {
    lockbox box;
    char pad0[64];
    uint64_t data[8]; /* what the critical section updates */
    char pad1[64];
    atomic_int go;    /* 0 wait, 1 run, 2 stop */
    atomic_int ready;
} shared;

typedef struct worker {
    shared *s;
    pthread_t t;
    uint64_t ops;
    uint64_t max_wait_ns;
    uint64_t rng;
    char pad[64];
} worker;

static inline uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void *hammer_main(void *arg)
{
    worker *w = arg;
    shared *s = w->s;
    atomic_fetch_add(&s->ready, 1);
    while (atomic_load_explicit(&s->go, memory_order_acquire) == 0)
        ;
    uint64_t ops = 0, maxw = 0;
    while (atomic_load_explicit(&s->go, memory_order_relaxed) == 1) {
        uint64_t t0 = ticks();
        box_lock(&s->box);
        uint64_t t1 = ticks();
        /* Short critical section: a few dependent read-modify-writes. */
        uint64_t v = s->data[0];
        for (int i = 1; i < 8; i++) {
            v = v * 6364136223846793005ull + s->data[i];
            s->data[i] = v;
        }
        s->data[0]++;
        box_unlock(&s->box);
        if (t1 - t0 > maxw)
            maxw = t1 - t0;
        ops++;
        /* A little private work between acquisitions. */
        unsigned spin = (unsigned)(xorshift(&w->rng) % 64);
        for (volatile unsigned i = 0; i < spin; i++)
            ;
    }
    w->ops = ops;
    w->max_wait_ns = maxw;
    return NULL;
}

/* Runs one hammer round; returns throughput in Mops/s, sets *maxwait_ms
 * and *csw (context switches per 1000 acquisitions). */
static double hammer(int impl, int nthreads, double seconds, double *maxwait_ms, double *csw,
                     double *cpu_ns)
{
    shared *s = aligned_alloc(64, sizeof *s);
    memset(s, 0, sizeof *s);
    box_init(&s->box, impl);
    worker *ws = aligned_alloc(64, sizeof *ws * (size_t)nthreads);
    memset(ws, 0, sizeof *ws * (size_t)nthreads);
    for (int i = 0; i < nthreads; i++) {
        ws[i].s = s;
        ws[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        pthread_create(&ws[i].t, NULL, hammer_main, &ws[i]);
    }
    while (atomic_load(&s->ready) < nthreads)
        usleep(100);
    long cs0 = context_switches();
    double c0 = bench_cpu_sec();
    double t0 = now_s();
    atomic_store_explicit(&s->go, 1, memory_order_release);
    usleep((useconds_t)(seconds * 1e6));
    atomic_store_explicit(&s->go, 2, memory_order_relaxed);
    double t = now_s() - t0;
    uint64_t ops = 0, maxw = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(ws[i].t, NULL);
        ops += ws[i].ops;
        if (ws[i].max_wait_ns > maxw)
            maxw = ws[i].max_wait_ns;
    }
    *csw = (double)(context_switches() - cs0) * 1000.0 / (double)(ops ? ops : 1);
    *cpu_ns = (bench_cpu_sec() - c0) * 1e9 / (double)(ops ? ops : 1);
    box_fini(&s->box);
    free(ws);
    free(s);
    *maxwait_ms = (double)maxw / tsc_per_ns / 1e6;
    return (double)ops / t / 1e6;
}

/* ----------------------------------------------------------- condvar */

/* A bounded ring (capacity 64) with P producers and C consumers moving
 * `items` integers, over pthread mutex+cond or ferry mutex+cond. */
typedef struct ring {
    int impl;
    pthread_mutex_t pm;
    pthread_cond_t pne, pnf;
    ferry_mutex fm;
    ferry_cond fne, fnf;
    long buf[64];
    unsigned cap;
    unsigned head, tail;
    long to_produce, to_consume;
    long sum;
} ring;

static void ring_lock(ring *r)
{
    if (r->impl == IMPL_FERRY)
        ferry_mutex_lock(&r->fm);
    else
        pthread_mutex_lock(&r->pm);
}

static void ring_unlock(ring *r)
{
    if (r->impl == IMPL_FERRY)
        ferry_mutex_unlock(&r->fm);
    else
        pthread_mutex_unlock(&r->pm);
}

static void ring_wait(ring *r, bool not_empty)
{
    if (r->impl == IMPL_FERRY)
        ferry_cond_wait(not_empty ? &r->fne : &r->fnf, &r->fm);
    else
        pthread_cond_wait(not_empty ? &r->pne : &r->pnf, &r->pm);
}

static void ring_signal(ring *r, bool not_empty)
{
    if (r->impl == IMPL_FERRY)
        ferry_cond_signal(not_empty ? &r->fne : &r->fnf);
    else
        pthread_cond_signal(not_empty ? &r->pne : &r->pnf);
}

static void ring_broadcast(ring *r)
{
    if (r->impl == IMPL_FERRY) {
        ferry_cond_broadcast(&r->fne);
        ferry_cond_broadcast(&r->fnf);
    } else {
        pthread_cond_broadcast(&r->pne);
        pthread_cond_broadcast(&r->pnf);
    }
}

static void *producer(void *arg)
{
    ring *r = arg;
    for (;;) {
        ring_lock(r);
        while (r->to_produce > 0 && r->tail - r->head == r->cap)
            ring_wait(r, false);
        if (r->to_produce == 0) {
            ring_unlock(r);
            return NULL;
        }
        r->buf[r->tail++ % r->cap] = r->to_produce--;
        ring_signal(r, true);
        ring_unlock(r);
    }
}

static void *consumer(void *arg)
{
    ring *r = arg;
    for (;;) {
        ring_lock(r);
        while (r->to_consume > 0 && r->tail == r->head)
            ring_wait(r, true);
        if (r->to_consume == 0) {
            ring_broadcast(r);
            ring_unlock(r);
            return NULL;
        }
        r->sum += r->buf[r->head++ % r->cap];
        r->to_consume--;
        ring_signal(r, false);
        ring_unlock(r);
    }
}

static double condvar_run(int impl, int np, int nc, unsigned cap, long items, double *csw, double *cpu_us)
{
    long cs0 = context_switches();
    double c0 = bench_cpu_sec();
    ring *r = calloc(1, sizeof *r);
    r->impl = impl;
    r->cap = cap;
    pthread_mutex_init(&r->pm, NULL);
    pthread_cond_init(&r->pne, NULL);
    pthread_cond_init(&r->pnf, NULL);
    r->to_produce = r->to_consume = items;
    pthread_t t[32];
    double t0 = now_s();
    for (int i = 0; i < np; i++)
        pthread_create(&t[i], NULL, producer, r);
    for (int i = 0; i < nc; i++)
        pthread_create(&t[np + i], NULL, consumer, r);
    for (int i = 0; i < np + nc; i++)
        pthread_join(t[i], NULL);
    double el = now_s() - t0;
    *csw = (double)(context_switches() - cs0) * 1000.0 / (double)items;
    *cpu_us = (bench_cpu_sec() - c0) * 1e6 / (double)items;
    if (r->sum != items * (items + 1) / 2) {
        fprintf(stderr, "condvar: lost items (%ld)\n", r->sum);
        exit(1);
    }
    pthread_mutex_destroy(&r->pm);
    pthread_cond_destroy(&r->pne);
    pthread_cond_destroy(&r->pnf);
    free(r);
    return el;
}

/* -------------------------------------------------------------- main */

static void *idle_main(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

int main(int argc, char **argv)
{
    bool quick = false;
    const char *only = "";
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[a], "--only") == 0 && a + 1 < argc)
            only = argv[++a];
    }
#define WANT(name) (strncmp((name), only, strlen(only)) == 0)
    /* A mutex is used by threads: make the process multi-threaded before
     * measuring (glibc drops the lock prefix from its atomics while a
     * process has one thread, which flatters pthread's uncontended case). */
    pthread_t idle;
    pthread_create(&idle, NULL, idle_main, NULL);
    calibrate();
    int reps = quick ? 3 : 7;
    long unc_iters = quick ? 5000000 : 50000000;
    double secs = quick ? 0.15 : 0.6;
    long items = quick ? 200000 : 2000000;

    printf("# bench/mutex%s: %ld online CPUs; medians of %d runs; ratios are ferry vs each pthread kind\n",
           quick ? " --quick" : "", sysconf(_SC_NPROCESSORS_ONLN), reps);

    double v[NIMPL][16];
    for (int r = 0; r < reps && WANT("uncontended"); r++)
        for (int i = 0; i < NIMPL; i++)
            v[i][r] = uncontended_ns(i, unc_iters);
    double unc[NIMPL];
    for (int i = 0; i < NIMPL && WANT("uncontended"); i++) {
        unc[i] = bench_median(v[i], reps);
        printf("%-25s %-15s %8.2f ns/op\n", "uncontended", impl_name[i], unc[i]);
    }
    if (WANT("uncontended"))
        printf("%-25s %-15s %8.2fx vs pthread, %.2fx vs pthread-adapt (time ratio, higher = ferry faster)\n",
           "uncontended", "ratio", unc[IMPL_PTHREAD] / unc[IMPL_FERRY], unc[IMPL_ADAPTIVE] / unc[IMPL_FERRY]);

    static const int threads[] = {2, 4, 8, 16};
    for (size_t k = 0; k < sizeof threads / sizeof *threads && WANT("hammer"); k++) {
        int n = threads[k];
        double tp[NIMPL][16], mw[NIMPL][16], cs[NIMPL][16], cpu[NIMPL][16], pr[2][16];
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < NIMPL; i++)
                tp[i][r] = hammer(i, n, secs, &mw[i][r], &cs[i][r], &cpu[i][r]);
            pr[0][r] = tp[IMPL_FERRY][r] / tp[IMPL_PTHREAD][r];
            pr[1][r] = tp[IMPL_FERRY][r] / tp[IMPL_ADAPTIVE][r];
        }
        char name[32];
        snprintf(name, sizeof name, "hammer-%d", n);
        double med[NIMPL];
        for (int i = 0; i < NIMPL; i++) {
            double worst = 0;
            for (int r = 0; r < reps; r++)
                worst = mw[i][r] > worst ? mw[i][r] : worst;
            double mwm = bench_median(mw[i], reps);
            med[i] = bench_median(tp[i], reps);
            printf("%-25s %-15s %8.2f Mops/s  longest wait: median %6.2f ms, worst %6.2f ms;"
                   " %5.2f context switches / 1000 ops, %6.1f ns CPU / op\n",
                   name, impl_name[i], med[i], mwm, worst, bench_median(cs[i], reps), bench_median(cpu[i], reps));
        }
        printf("%-25s %-15s %8.2fx vs pthread, %.2fx vs pthread-adapt (throughput; median of per-run"
               " ratios %.2fx, %.2fx)\n",
               name, "ratio", med[IMPL_FERRY] / med[IMPL_PTHREAD], med[IMPL_FERRY] / med[IMPL_ADAPTIVE],
               bench_median(pr[0], reps), bench_median(pr[1], reps));
        fflush(stdout);
    }

    static const int pc[][3] = {{1, 1, 64}, {4, 4, 64}, {4, 4, 4}};
    for (size_t k = 0; k < 3 && WANT("condvar"); k++) {
        double el[NIMPL][16], cs[NIMPL][16], cpu[NIMPL][16];
        for (int r = 0; r < reps; r++)
            for (int i = 0; i < NIMPL; i += 2) /* pthread and ferry */
                el[i][r] = condvar_run(i, pc[k][0], pc[k][1], (unsigned)pc[k][2],
                                       pc[k][2] < 64 ? items / 10 : items, &cs[i][r], &cpu[i][r]);
        char name[32];
        snprintf(name, sizeof name, "condvar-%dp%dc-cap%d", pc[k][0], pc[k][1], pc[k][2]);
        double mp = bench_median(el[IMPL_PTHREAD], reps), mf = bench_median(el[IMPL_FERRY], reps);
        for (int i = 0; i < NIMPL; i += 2)
            printf("%-25s %-15s %7.3f sec  %8.2f context switches / 1000 items, %6.2f us CPU / item\n", name,
                   impl_name[i], i == IMPL_FERRY ? mf : mp, bench_median(cs[i], reps), bench_median(cpu[i], reps));
        printf("%-25s %-15s %8.2fx vs pthread (time ratio, higher = ferry faster)\n", name, "ratio", mp / mf);
        fflush(stdout);
    }
    return 0;
}
