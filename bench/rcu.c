/* SPDX-License-Identifier: MIT */
/* bench/rcu: ferry's RCU flavors side by side with liburcu's (urcu-memb and
 * urcu-qsbr, linked statically), measured in the same run:
 *
 *   read_lock_unlock   ns per read-side section (lock, dereference, load,
 *                      unlock), one thread; QSBR: a quiescent state every 256
 *   reads_T            read-side sections per second with T reader threads
 *   sync_latency_1c    median synchronize latency, one caller, one busy reader
 *   sync_latency_4c    the same with 4 concurrent callers
 *   call_throughput    callbacks queued and completed per second (n calls,
 *                      then barrier), one caller
 *
 * Each case prints one line per implementation and the ratio ferry/liburcu
 * for the same flavor (for times: < 1 is better for ferry; for rates: > 1).
 * Values are medians of several repetitions. --quick: a few seconds.
 */
#include <ferry/rcu.h>
#include <ferry/rcu_qsbr.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
#define B_SYNC ferry_rcu_synchronize
#define B_CALL ferry_rcu_call
#define B_BARRIER ferry_rcu_barrier
#include "rcu_impl.h"
IMPL_TABLE(ferry_memb_impl, "ferry-memb");
#undef IMPL
#undef B_REG
#undef B_UNREG
#undef B_LOCK
#undef B_UNLOCK
#undef B_SYNC
#undef B_CALL
#undef B_BARRIER
#undef IMPL_IS_QSBR
#undef IMPL_TABLE

#define IMPL(x) ferry_qsbr_bench_##x
#define B_REG ferry_qsbr_register_thread
#define B_UNREG ferry_qsbr_unregister_thread
#define B_LOCK ferry_qsbr_read_lock
#define B_UNLOCK ferry_qsbr_read_unlock
#define B_SYNC ferry_qsbr_synchronize
#define B_CALL ferry_qsbr_call
#define B_BARRIER ferry_qsbr_barrier
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

static int reps = 5;
static double read_dur = 0.5;
static unsigned long lock_iters = 50000000, sync_iters = 2000, call_iters = 2000000;
static volatile unsigned long sink;

/* Readers that run until told to stop. */
struct readers {
    const struct rcu_bench_impl *im;
    int n;
    pthread_t tid[64];
    atomic_int stop;
    atomic_int ready;
    atomic_ulong total;
};

static void *reader_main(void *arg)
{
    struct readers *rs = arg;
    rs->im->reg();
    atomic_fetch_add(&rs->ready, 1);
    unsigned long n = rs->im->read_until(&rs->stop);
    rs->im->offline();
    rs->im->unreg();
    atomic_fetch_add(&rs->total, n);
    return NULL;
}

static void readers_start(struct readers *rs, const struct rcu_bench_impl *im, int n)
{
    memset(rs, 0, sizeof *rs);
    rs->im = im;
    rs->n = n;
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

static double bench_read_lock(const struct rcu_bench_impl *im)
{
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
    readers_start(&rs, im, nthreads);
    double t0 = now_s();
    struct timespec d = { (time_t)read_dur, (long)((read_dur - (double)(time_t)read_dur) * 1e9) };
    nanosleep(&d, NULL);
    unsigned long n = readers_stop(&rs);
    return (double)n / (now_s() - t0);
}

struct sync_arg {
    const struct rcu_bench_impl *im;
    unsigned long iters;
    double lat;
};

/* Median of the caller's per-call latencies (robust against the caller
 * being preempted on a loaded machine). */
static void *sync_main(void *arg)
{
    struct sync_arg *a = arg;
    double *lat = malloc(a->iters * sizeof *lat);
    if (!lat)
        abort();
    for (unsigned long i = 0; i < a->iters; i++) {
        double t0 = now_s();
        a->im->sync();
        lat[i] = now_s() - t0;
    }
    a->lat = bench_median(lat, (int)a->iters);
    free(lat);
    return NULL;
}

/* Synchronize latency (us): the mean over `callers` concurrent callers of
 * each one's median per-call latency, with one busy reader thread. */
static double bench_sync(const struct rcu_bench_impl *im, int callers)
{
    struct readers rs;
    readers_start(&rs, im, 1);
    pthread_t t[8];
    struct sync_arg a[8];
    for (int i = 0; i < callers; i++) {
        a[i] = (struct sync_arg){ im, sync_iters / (unsigned long)callers, 0 };
        if (pthread_create(&t[i], NULL, sync_main, &a[i]) != 0)
            abort();
    }
    double sum = 0;
    for (int i = 0; i < callers; i++) {
        pthread_join(t[i], NULL);
        sum += a[i].lat;
    }
    readers_stop(&rs);
    return sum / callers * 1e6;
}

/* Callbacks per second: queue n, then barrier. */
static double bench_call(const struct rcu_bench_impl *im)
{
    im->call_n(1000);
    im->barrier();
    double t0 = now_s();
    im->call_n(call_iters);
    im->barrier();
    return (double)call_iters / (now_s() - t0);
}

static const struct rcu_bench_impl *impls[4];
static int nimpls;

typedef double (*bench_fn)(const struct rcu_bench_impl *im, int arg);

static double run_read_lock(const struct rcu_bench_impl *im, int arg) { (void)arg; return bench_read_lock(im); }
static double run_reads(const struct rcu_bench_impl *im, int arg) { return bench_reads(im, arg); }
static double run_sync(const struct rcu_bench_impl *im, int arg) { return bench_sync(im, arg); }
static double run_call(const struct rcu_bench_impl *im, int arg) { (void)arg; return bench_call(im); }

/* Run a case for every implementation, interleaved, `reps` times; print
 * medians and the ferry/liburcu ratio per flavor. */
static void run_case(const char *name, bench_fn fn, int arg, const char *unit, double scale)
{
    double v[4][16];
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < nimpls; i++)
            v[i][r] = fn(impls[i], arg) * scale;
    double med[4];
    for (int i = 0; i < nimpls; i++) {
        med[i] = bench_median(v[i], reps);
        printf("%-25s %-15s %12.3f %s\n", name, impls[i]->name, med[i], unit);
    }
    /* impls: ferry-memb, ferry-qsbr, liburcu-memb, liburcu-qsbr */
    if (nimpls == 4) {
        printf("%-25s %-15s %12.3f x\n", name, "ratio-memb", med[0] / med[2]);
        printf("%-25s %-15s %12.3f x\n", name, "ratio-qsbr", med[1] / med[3]);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (quick) {
        reps = 3;
        read_dur = 0.1;
        lock_iters = 5000000;
        sync_iters = 200;
        call_iters = 200000;
    }
    impls[nimpls++] = &ferry_memb_impl;
    impls[nimpls++] = &ferry_qsbr_impl;
#ifndef FERRY_BENCH_NO_URCU
    impls[nimpls++] = &rcu_bench_urcu_memb;
    impls[nimpls++] = &rcu_bench_urcu_qsbr;
#endif
    printf("# bench/rcu%s: ferry membarrier=%d; medians of %d; ratio = ferry/liburcu\n",
           quick ? " --quick" : "", (int)ferry_rcu_uses_membarrier(), reps);
    run_case("read_lock_unlock", run_read_lock, 0, "ns", 1);
    static const int threads[] = { 1, 2, 4, 8, 16 };
    for (size_t i = 0; i < sizeof threads / sizeof *threads; i++) {
        if (quick && (threads[i] == 2 || threads[i] == 8))
            continue;
        char name[32];
        snprintf(name, sizeof name, "reads_%d", threads[i]);
        run_case(name, run_reads, threads[i], "Mreads/s", 1e-6);
    }
    run_case("sync_latency_1c", run_sync, 1, "us", 1);
    run_case("sync_latency_4c", run_sync, 4, "us", 1);
    run_case("call_throughput", run_call, 0, "Mcalls/s", 1e-6);
    return (int)(sink & 0);
}
