/* SPDX-License-Identifier: MIT */
/* bench/rcu: ferry's RCU flavors side by side with liburcu's (urcu-memb,
 * urcu-qsbr and urcu-bp, linked statically), measured in the same run,
 * interleaved round by round:
 *
 *   read_lock_unlock   ns per read-side section (lock, dereference, load,
 *                      unlock), one thread; QSBR: a quiescent state every 256
 *   reads_T            read-side sections per second with T reader threads
 *   sync_latency_Nc    median synchronize latency, N callers, one busy reader
 *   uperf_T            ns per synchronize per updater with T updaters and no
 *                      reader (rcutorture's uperf: duration * T / updates)
 *   urcu_RrWw          test_urcu's workload: R readers (QSBR: a quiescent
 *                      state every 1024 sections), W writers that allocate,
 *                      exchange, synchronize and free; updates per second
 *                      (the readers' sections per second on the next line)
 *   call_T             callbacks queued and completed per second: T threads
 *                      each queue their share, then one barrier; default
 *                      workers, then (call_T_percpu) one worker per CPU
 *
 * Each case prints, per implementation, the median over the rounds and the
 * worst round, then the ratio ferry/liburcu of the medians for each flavor
 * (for times < 1 is better for ferry, for rates > 1), and for the read side
 * also ferry's bp/memb. Options:
 *   --quick           a few seconds (fewer rounds, shorter runs)
 *   --case NAME       only this group: read, reads, sync, uperf, urcu, call,
 *                     or one urcu_RrWw (repeatable; default: all)
 *   --threads LIST    thread counts for reads, uperf and call (e.g. 1,2,4,16)
 *   --rounds N        rounds per case (default 5)
 *   --calls N         callbacks per call_T round, all threads together
 *                     (default 2000000)
 *   --impl NAME       only this implementation (repeatable; e.g. to run one
 *                     under perf); ratios are printed only for all six
 */
#include <ferry/rcu.h>
#include <ferry/rcu_bp.h>
#include <ferry/rcu_qsbr.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "peers/rcu_bench.h"

/* ---- ferry instances of the shared workloads ---- */
#define IMPL(x) ferry_memb_bench_##x
#define B_HEAD ferry_rcu_head
#define B_REG ferry_rcu_register_thread
#define B_UNREG ferry_rcu_unregister_thread
#define B_LOCK ferry_rcu_read_lock
#define B_UNLOCK ferry_rcu_read_unlock
#define B_DEREF ferry_rcu_dereference
#define B_XCHG(pp, v) ferry_rcu_xchg_pointer(pp, v)
#define B_SYNC ferry_rcu_synchronize
#define B_CALL ferry_rcu_call
#define B_BARRIER ferry_rcu_barrier
#define B_CPU_WORKERS ferry_rcu_create_cpu_workers
#include "rcu_impl.h"
IMPL_TABLE(ferry_memb_impl, "ferry-memb");
#include "rcu_impl_end.h"

static void ferry_bp_nop(void) {}
#define IMPL(x) ferry_bp_bench_##x
#define B_REG ferry_bp_nop   /* the first read lock registers */
#define B_UNREG ferry_rcu_bp_unregister_thread
#define B_LOCK ferry_rcu_bp_read_lock
#define B_UNLOCK ferry_rcu_bp_read_unlock
#define B_SYNC ferry_rcu_bp_synchronize
#define B_CALL ferry_rcu_bp_call
#define B_BARRIER ferry_rcu_bp_barrier
#define B_CPU_WORKERS ferry_rcu_bp_create_cpu_workers
#include "rcu_impl.h"
IMPL_TABLE(ferry_bp_impl, "ferry-bp");
#include "rcu_impl_end.h"

#define IMPL(x) ferry_qsbr_bench_##x
#define B_REG ferry_qsbr_register_thread
#define B_UNREG ferry_qsbr_unregister_thread
#define B_LOCK ferry_qsbr_read_lock
#define B_UNLOCK ferry_qsbr_read_unlock
#define B_SYNC ferry_qsbr_synchronize
#define B_CALL ferry_qsbr_call
#define B_BARRIER ferry_qsbr_barrier
#define B_CPU_WORKERS ferry_qsbr_create_cpu_workers
#define B_QSBR 1
#define B_QS ferry_qsbr_quiescent_state
#define B_OFFLINE ferry_qsbr_thread_offline
#define B_ONLINE ferry_qsbr_thread_online
#include "rcu_impl.h"
IMPL_TABLE(ferry_qsbr_impl, "ferry-qsbr");

/* ---- driver ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    struct timespec d = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&d, NULL);
}

static int reps = 5;
static double read_dur = 0.5, uperf_dur = 0.5, urcu_dur = 1.0;
static unsigned long lock_iters = 50000000, sync_iters = 2000, call_iters = 2000000;
static volatile unsigned long sink;

#define MAX_THREADS 64

/* Readers that run until told to stop. */
struct readers {
    const struct rcu_bench_impl *im;
    int n;
    bool test_urcu;   /* test_urcu's reader loop instead of read_until */
    pthread_t tid[MAX_THREADS];
    atomic_int stop;
    atomic_int ready;
    atomic_ulong total;
};

static void *reader_main(void *arg)
{
    struct readers *rs = arg;
    rs->im->reg();
    atomic_fetch_add(&rs->ready, 1);
    unsigned long n = rs->test_urcu ? rs->im->read_test_urcu(&rs->stop) : rs->im->read_until(&rs->stop);
    rs->im->offline();
    rs->im->unreg();
    atomic_fetch_add(&rs->total, n);
    return NULL;
}

static void readers_start(struct readers *rs, const struct rcu_bench_impl *im, int n, bool test_urcu)
{
    memset(rs, 0, sizeof *rs);
    rs->im = im;
    rs->n = n;
    rs->test_urcu = test_urcu;
    for (int i = 0; i < n; i++)
        if (pthread_create(&rs->tid[i], NULL, reader_main, rs) != 0)
            abort();
    while (atomic_load(&rs->ready) < n)
        sched_yield();
}

static unsigned long readers_stop(struct readers *rs)
{
    atomic_store(&rs->stop, 1);
    for (int i = 0; i < rs->n; i++)
        pthread_join(rs->tid[i], NULL);
    return atomic_load(&rs->total);
}

static double bench_read_lock(const struct rcu_bench_impl *im, int arg)
{
    (void)arg;
    im->reg();
    sink += im->read_loop(lock_iters / 10);   /* warm up */
    double t0 = now_s();
    sink += im->read_loop(lock_iters);
    double t = now_s() - t0;
    im->offline();
    im->unreg();
    return t * 1e9 / (double)lock_iters;
}

static double bench_reads(const struct rcu_bench_impl *im, int nthreads)
{
    struct readers rs;
    readers_start(&rs, im, nthreads, false);
    double t0 = now_s();
    sleep_s(read_dur);
    unsigned long n = readers_stop(&rs);
    return (double)n / (now_s() - t0);
}

/* Threads that run a function together, started at once. */
struct gang {
    const struct rcu_bench_impl *im;
    int n;
    pthread_t tid[MAX_THREADS];
    atomic_int go, stop, ready;
    atomic_ulong total;
    unsigned long per_thread;   /* call: callbacks per thread */
    void (*op)(void);           /* uperf, urcu: what each thread repeats */
    double lat[MAX_THREADS];    /* sync latency: each caller's median */
};

struct gang_arg {
    struct gang *g;
    int slot;
};

static void gang_init(struct gang *g, const struct rcu_bench_impl *im, int n)
{
    memset(g, 0, sizeof *g);
    g->im = im;
    g->n = n;
}

static void gang_run(struct gang *g, void *(*fn)(void *), double seconds)
{
    struct gang_arg a[MAX_THREADS];
    for (int i = 0; i < g->n; i++) {
        a[i] = (struct gang_arg){ g, i };
        if (pthread_create(&g->tid[i], NULL, fn, &a[i]) != 0)
            abort();
    }
    while (atomic_load(&g->ready) < g->n)
        sched_yield();
    atomic_store(&g->go, 1);
    if (seconds > 0) {
        sleep_s(seconds);
        atomic_store(&g->stop, 1);
    }
    for (int i = 0; i < g->n; i++)
        pthread_join(g->tid[i], NULL);
}

static void gang_wait_go(struct gang *g)
{
    atomic_fetch_add(&g->ready, 1);
    while (!atomic_load(&g->go))
        ;
}

/* Median of the caller's per-call latencies (robust against the caller
 * being preempted on a loaded machine). */
static void *sync_lat_main(void *arg)
{
    struct gang_arg *a = arg;
    struct gang *g = a->g;
    unsigned long iters = sync_iters / (unsigned long)g->n;
    double *lat = malloc(iters * sizeof *lat);
    if (!lat)
        abort();
    gang_wait_go(g);
    for (unsigned long i = 0; i < iters; i++) {
        double t0 = now_s();
        g->im->sync();
        lat[i] = now_s() - t0;
    }
    g->lat[a->slot] = bench_median(lat, (int)iters);
    free(lat);
    return NULL;
}

/* Synchronize latency (us): the mean over `callers` concurrent callers of
 * each one's median per-call latency, with one busy reader thread. */
static double bench_sync(const struct rcu_bench_impl *im, int callers)
{
    struct readers rs;
    readers_start(&rs, im, 1, false);
    struct gang g;
    gang_init(&g, im, callers);
    gang_run(&g, sync_lat_main, 0);
    readers_stop(&rs);
    double sum = 0;
    for (int i = 0; i < callers; i++)
        sum += g.lat[i];
    return sum / callers * 1e6;
}

/* Repeat g->op until stopped; count. */
static void *repeat_main(void *arg)
{
    struct gang *g = ((struct gang_arg *)arg)->g;
    unsigned long n = 0;
    gang_wait_go(g);
    while (!atomic_load_explicit(&g->stop, memory_order_relaxed)) {
        g->op();
        n++;
    }
    atomic_fetch_add(&g->total, n);
    return NULL;
}

/* ns per update per updater thread, no readers. */
static double bench_uperf(const struct rcu_bench_impl *im, int updaters)
{
    struct gang g;
    gang_init(&g, im, updaters);
    g.op = im->sync;
    double t0 = now_s();
    gang_run(&g, repeat_main, uperf_dur);
    double t = now_s() - t0;
    return t * 1e9 * updaters / (double)atomic_load(&g.total);
}

static double urcu_reads;   /* the last bench_urcu's reads per second */

/* test_urcu: `rw` = readers * 100 + writers; returns updates per second. */
static double bench_urcu(const struct rcu_bench_impl *im, int rw)
{
    struct readers rs;
    readers_start(&rs, im, rw / 100, true);
    struct gang g;
    gang_init(&g, im, rw % 100);
    g.op = im->replace;
    double t0 = now_s();
    gang_run(&g, repeat_main, urcu_dur);
    unsigned long reads = readers_stop(&rs);
    double t = now_s() - t0;
    urcu_reads = (double)reads / t;
    return (double)atomic_load(&g.total) / t;
}

static void *call_main(void *arg)
{
    struct gang_arg *a = arg;
    struct gang *g = a->g;
    g->im->call_n(a->slot, g->per_thread);   /* the heads exist; warm */
    gang_wait_go(g);
    return NULL;
}

static void *call_timed_main(void *arg)
{
    struct gang_arg *a = arg;
    struct gang *g = a->g;
    gang_wait_go(g);
    g->im->call_n(a->slot, g->per_thread);
    return NULL;
}

/* Callbacks per second with T threads calling. */
static double bench_call(const struct rcu_bench_impl *im, int threads)
{
    struct gang g;
    gang_init(&g, im, threads);
    g.per_thread = call_iters / (unsigned long)threads;
    gang_run(&g, call_main, 0);   /* allocate the heads, start the workers */
    im->barrier();
    gang_init(&g, im, threads);
    g.per_thread = call_iters / (unsigned long)threads;
    double t0 = now_s();
    gang_run(&g, call_timed_main, 0);
    im->barrier();
    return (double)(g.per_thread * (unsigned long)threads) / (now_s() - t0);
}

/* ---- cases ---- */

/* ferry-memb, ferry-qsbr, ferry-bp, then the liburcu peers in the same
 * order (peer of i is i + 3). */
static const struct rcu_bench_impl *impls[6];
static int nimpls;

typedef double (*bench_fn)(const struct rcu_bench_impl *im, int arg);

/* Run a case for every implementation, interleaved, `reps` rounds; print
 * medians and worst rounds, then ratios. higher_better: rates. */
static void run_case(const char *name, bench_fn fn, int arg, const char *unit, double scale,
                     bool higher_better, bool bp_vs_memb)
{
    double v[6][32], med[6], worst[6];
    double extra[6][32];   /* urcu: the readers' rate */
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < nimpls; i++) {
            v[i][r] = fn(impls[i], arg) * scale;
            extra[i][r] = urcu_reads * 1e-6;
        }
    for (int i = 0; i < nimpls; i++) {
        worst[i] = v[i][0];
        for (int r = 1; r < reps; r++)
            if (higher_better ? v[i][r] < worst[i] : v[i][r] > worst[i])
                worst[i] = v[i][r];
        med[i] = bench_median(v[i], reps);
        printf("%-25s %-15s %12.3f %-9s worst %12.3f\n", name, impls[i]->name, med[i], unit,
               worst[i]);
        if (fn == bench_urcu)
            printf("%-25s %-15s %12.3f %-9s\n", "  readers", impls[i]->name,
                   bench_median(extra[i], reps), "Mreads/s");
    }
    static const char *const flavor[3] = { "memb", "qsbr", "bp" };
    if (nimpls == 6)
        for (int i = 0; i < 3; i++)
            printf("%-25s ratio-%-9s %12.3f x\n", name, flavor[i], med[i] / med[i + 3]);
    if (bp_vs_memb && nimpls >= 3 && impls[2] == &ferry_bp_impl)
        printf("%-25s %-15s %12.3f x\n", name, "ferry-bp/memb", med[2] / med[0]);
    fflush(stdout);
}

static bool want(char **cases, int ncases, const char *c)
{
    if (ncases == 0)
        return true;
    for (int i = 0; i < ncases; i++)
        if (strcmp(cases[i], c) == 0)
            return true;
    return false;
}

static int parse_threads(const char *s, int *out)
{
    int n = 0;
    while (*s && n < 16) {
        int t = atoi(s);
        if (t < 1 || t > MAX_THREADS)
            return -1;
        out[n++] = t;
        s = strchr(s, ',');
        if (!s)
            break;
        s++;
    }
    return n;
}

int main(int argc, char **argv)
{
    bool quick = false;
    char *cases[8];
    int ncases = 0;
    int threads[16] = { 1, 2, 4, 8, 16 }, nthreads = 5;
    bool threads_given = false, rounds_given = false;
    char *only[6];
    int nonly = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc && ncases < 8) {
            cases[ncases++] = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            nthreads = parse_threads(argv[++i], threads);
            threads_given = true;
            if (nthreads < 1) {
                fprintf(stderr, "bench/rcu: bad --threads\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc) {
            call_iters = strtoul(argv[++i], NULL, 10);
            if (call_iters < 1000) {
                fprintf(stderr, "bench/rcu: --calls must be at least 1000\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc && nonly < 6) {
            only[nonly++] = argv[++i];
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
            rounds_given = true;
            if (reps < 1 || reps > 32) {
                fprintf(stderr, "bench/rcu: --rounds must be 1..32\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--quick] [--case read|reads|sync|uperf|urcu|call]... "
                            "[--threads 1,2,4] [--rounds N] [--calls N] [--impl NAME]...\n",
                    argv[0]);
            return 2;
        }
    }
    if (quick) {
        if (!rounds_given)
            reps = 3;
        read_dur = 0.1;
        uperf_dur = 0.1;
        urcu_dur = 0.2;
        lock_iters = 5000000;
        sync_iters = 200;
        call_iters = 200000;
        if (!threads_given) {
            threads[0] = 1, threads[1] = 4, threads[2] = 16;
            nthreads = 3;
        }
    }
    const struct rcu_bench_impl *all[] = {
        &ferry_memb_impl, &ferry_qsbr_impl, &ferry_bp_impl,
#ifndef FERRY_BENCH_NO_URCU
        &rcu_bench_urcu_memb, &rcu_bench_urcu_qsbr, &rcu_bench_urcu_bp,
#endif
    };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (nonly == 0 || want(only, nonly, all[i]->name))
            impls[nimpls++] = all[i];
    if (nimpls == 0) {
        fprintf(stderr, "bench/rcu: no implementation called that\n");
        return 2;
    }
    printf("# bench/rcu%s: ferry membarrier=%d; %ld CPUs; medians of %d rounds; "
           "ratio = ferry/liburcu\n", quick ? " --quick" : "", (int)ferry_rcu_uses_membarrier(),
           sysconf(_SC_NPROCESSORS_ONLN), reps);
    char name[48];
    if (want(cases, ncases, "read"))
        run_case("read_lock_unlock", bench_read_lock, 0, "ns", 1, false, true);
    if (want(cases, ncases, "reads"))
        for (int i = 0; i < nthreads; i++) {
            snprintf(name, sizeof name, "reads_%d", threads[i]);
            run_case(name, bench_reads, threads[i], "Mreads/s", 1e-6, true, true);
        }
    if (want(cases, ncases, "sync")) {
        run_case("sync_latency_1c", bench_sync, 1, "us", 1, false, false);
        run_case("sync_latency_4c", bench_sync, 4, "us", 1, false, false);
    }
    if (want(cases, ncases, "uperf"))
        for (int i = 0; i < nthreads; i++) {
            snprintf(name, sizeof name, "uperf_%d", threads[i]);
            run_case(name, bench_uperf, threads[i], "ns/upd", 1, false, false);
        }
    static const int rw[] = { 101, 202, 301 };
    for (size_t i = 0; i < sizeof rw / sizeof *rw; i++) {
        snprintf(name, sizeof name, "urcu_%dr%dw", rw[i] / 100, rw[i] % 100);
        if (want(cases, ncases, "urcu") || want(cases, ncases, name))
            run_case(name, bench_urcu, rw[i], "Kupd/s", 1e-3, true, false);
    }
    if (want(cases, ncases, "call")) {
        for (int i = 0; i < nthreads; i++) {
            snprintf(name, sizeof name, "call_%d", threads[i]);
            run_case(name, bench_call, threads[i], "Mcalls/s", 1e-6, true, false);
        }
        /* From here on every implementation has one worker per CPU. */
        for (int i = 0; i < nimpls; i++)
            if (impls[i]->cpu_workers() != 0)
                fprintf(stderr, "bench/rcu: %s: per-CPU workers failed\n", impls[i]->name);
        for (int i = 0; i < nthreads; i++) {
            snprintf(name, sizeof name, "call_%d_percpu", threads[i]);
            run_case(name, bench_call, threads[i], "Mcalls/s", 1e-6, true, false);
        }
    }
    return (int)(sink & 0);
}
