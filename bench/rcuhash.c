/* SPDX-License-Identifier: MIT */
/* bench/rcuhash: ferry_lfht side by side with liburcu's cds_lfht (urcu-memb
 * flavor, linked statically), measured in the same run, interleaved.
 *
 * Both tables start with 1 bucket, AUTO_RESIZE | ACCOUNTING; half of the
 * keys [0, --keys) are added and both are resized to the same bucket count
 * before the timed part. Then every thread runs --ops operations on random
 * keys, each in its own read-side section:
 *   lookup90   90% lookups, 10% updates
 *   update50   50% lookups, 50% updates
 * An update deletes the key if present, else adds it with add_unique (so
 * the table stays half full). Nodes come from per-thread pools allocated
 * before timing and reclaimed after it: the timed part is table operations
 * and read-side sections only, no allocation, no reclamation.
 *
 * Each case prints, per implementation, the median and the worst (lowest)
 * of --rounds rounds in Mops/s (all threads together, wall clock) and in
 * Mops per CPU-second (operations / process CPU time of the timed part:
 * on a loaded machine preemption inflates wall time, not CPU time), then
 * the ratios ferry/liburcu of the medians (> 1: ferry faster). Rounds
 * alternate the implementations. Options:
 *   --threads 1,2    thread counts       --rounds N   rounds (default 7)
 *   --ops N          per thread/round    --keys N     key space (2^16)
 *   --mix lookup90|update50|all          --impl ferry|liburcu|all
 *   --quick          fewer ops and rounds
 * One implementation alone (--impl) is what `valgrind --tool=callgrind`
 * wants for instruction counts.
 */
#include <ferry/rcuhash.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#include "peers/rcuhash_bench.h"

/* ---- ferry instance of the shared workload ---- */
#define IMPL(x) ferry_lfht_bench_##x
#define H_TABLE ferry_lfht
#define H_NODE ferry_lfht_node
#define H_ITER ferry_lfht_iter
#define H_REG ferry_rcu_register_thread
#define H_UNREG ferry_rcu_unregister_thread
#define H_LOCK ferry_rcu_read_lock
#define H_UNLOCK ferry_rcu_read_unlock
#define H_SYNC ferry_rcu_synchronize
#define H_NEW() ferry_lfht_new(1, 1, 0, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING)
#define H_LOOKUP ferry_lfht_lookup
#define H_ITER_NODE ferry_lfht_iter_get_node
#define H_ADD_UNIQUE ferry_lfht_add_unique
#define H_DEL ferry_lfht_del
#define H_RESIZE ferry_lfht_resize
#define H_FIRST ferry_lfht_first
#define H_NEXT ferry_lfht_next
#define H_DESTROY ferry_lfht_destroy
#include "rcuhash_impl.h"
IMPL_TABLE(ferry_lfht_bench_impl, "ferry_lfht");

/* ---- driver ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define MAX_THREADS 64
#define MAX_ROUNDS 31

struct worker {
    pthread_t tid;
    const struct rcuhash_bench_impl *im;
    void *table;
    struct rcuhash_work w;
    pthread_barrier_t *start;
};

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    wk->im->reg();
    pthread_barrier_wait(wk->start);
    wk->im->work(wk->table, &wk->w);
    wk->im->unreg();
    return NULL;
}

static unsigned long opt_ops = 2000000, opt_keys = 1UL << 16;
static int opt_rounds = 7;

/* One round: fresh table, prefill, threads run, teardown. Mops/s (wall),
 * and Mops per CPU-second in *cpu_rate. */
static double round_once(const struct rcuhash_bench_impl *im, int threads, unsigned lookup_pct, int round,
                         double *cpu_rate)
{
    im->reg();
    void *table = im->create();
    if (!table)
        abort();
    struct rcuhash_work fill = { .keys = opt_keys };
    fill.pool_len = opt_keys / 2 + 1;
    fill.pool = im->alloc_pool(fill.pool_len);
    im->prefill(table, &fill);

    struct worker wk[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        wk[i] = (struct worker){ .im = im, .table = table, .start = &start };
        wk[i].w.ops = opt_ops;
        wk[i].w.keys = opt_keys;
        wk[i].w.lookup_pct = lookup_pct;
        wk[i].w.seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) + (uint64_t)round * 1000003u;
        wk[i].w.pool_len = opt_ops * (100 - lookup_pct) / 100 + 1;
        wk[i].w.pool = im->alloc_pool(wk[i].w.pool_len);
        if (pthread_create(&wk[i].tid, NULL, worker_main, &wk[i]) != 0)
            abort();
    }
    pthread_barrier_wait(&start);
    double t0 = now_s(), c0 = bench_cpu_sec();
    for (int i = 0; i < threads; i++)
        pthread_join(wk[i].tid, NULL);
    double t = now_s() - t0, c = bench_cpu_sec() - c0;

    unsigned long present = opt_keys / 2 + 0UL;
    for (int i = 0; i < threads; i++)
        present = present + wk[i].w.adds - wk[i].w.dels;
    unsigned long torn = im->teardown(table);
    if (torn != present) {
        fprintf(stderr, "%s: %lu nodes at the end, the counts say %lu\n", im->name, torn, present);
        abort();
    }
    im->free_pool(fill.pool);
    for (int i = 0; i < threads; i++)
        im->free_pool(wk[i].w.pool);
    pthread_barrier_destroy(&start);
    im->unreg();
    *cpu_rate = (double)opt_ops * threads / (c > 1e-6 ? c : 1e-6) * 1e-6;
    return (double)opt_ops * threads / t * 1e-6;
}

static const struct rcuhash_bench_impl *impls[2];
static int nimpls;

static double worst_of(const double *v, int n)
{
    double w = v[0];
    for (int r = 1; r < n; r++)
        if (v[r] < w)
            w = v[r];
    return w;
}

static void run_case(const char *mix, unsigned lookup_pct, int threads)
{
    double v[2][MAX_ROUNDS], cv[2][MAX_ROUNDS], med[2], cmed[2], worst[2], cworst[2];
    for (int r = 0; r < opt_rounds; r++)
        for (int k = 0; k < nimpls; k++) {
            /* Alternate which implementation goes first. */
            int i = (r & 1) ? nimpls - 1 - k : k;
            v[i][r] = round_once(impls[i], threads, lookup_pct, r, &cv[i][r]);
        }
    char name[48];
    snprintf(name, sizeof name, "%s_t%d", mix, threads);
    for (int i = 0; i < nimpls; i++) {
        worst[i] = worst_of(v[i], opt_rounds);
        cworst[i] = worst_of(cv[i], opt_rounds);
        med[i] = bench_median(v[i], opt_rounds);
        cmed[i] = bench_median(cv[i], opt_rounds);
        printf("%-14s %-18s %8.3f Mops/s (worst %8.3f)   %8.3f Mops/cpu-s (worst %8.3f)\n", name,
               impls[i]->name, med[i], worst[i], cmed[i], cworst[i]);
    }
    if (nimpls == 2)
        printf("%-14s %-18s %8.3f x      (worst %8.3f)   %8.3f x          (worst %8.3f)\n", name,
               "ferry/liburcu", med[0] / med[1], worst[0] / worst[1], cmed[0] / cmed[1],
               cworst[0] / cworst[1]);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int threads[16] = { 1, 2 }, nthreads = 2;
    const char *mix = "all", *impl = "all";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            opt_ops = 200000;
            opt_rounds = 3;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            nthreads = 0;
            for (char *s = strtok(argv[++i], ","); s && nthreads < 16; s = strtok(NULL, ","))
                threads[nthreads++] = atoi(s);
        } else if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
            opt_ops = strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--keys") && i + 1 < argc) {
            opt_keys = strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            opt_rounds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--mix") && i + 1 < argc) {
            mix = argv[++i];
        } else if (!strcmp(argv[i], "--impl") && i + 1 < argc) {
            impl = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--quick] [--threads 1,2] [--ops N] [--keys N] [--rounds N] "
                            "[--mix lookup90|update50|all] [--impl ferry|liburcu|all]\n", argv[0]);
            return 2;
        }
    }
    if (opt_rounds < 1 || opt_rounds > MAX_ROUNDS || opt_keys < 2 || opt_ops < 1) {
        fprintf(stderr, "rcuhash: bad --rounds, --keys or --ops\n");
        return 2;
    }
    for (int i = 0; i < nthreads; i++)
        if (threads[i] < 1 || threads[i] > MAX_THREADS) {
            fprintf(stderr, "rcuhash: threads must be 1..%d\n", MAX_THREADS);
            return 2;
        }
    if (strcmp(impl, "liburcu"))
        impls[nimpls++] = &ferry_lfht_bench_impl;
#ifndef FERRY_BENCH_NO_URCU
    if (strcmp(impl, "ferry"))
        impls[nimpls++] = &rcuhash_bench_urcu;
#endif
    printf("# bench/rcuhash: %lu keys (half present), %lu ops per thread, medians of %d rounds;"
           " ferry membarrier=%d\n", opt_keys, opt_ops, opt_rounds, (int)ferry_rcu_uses_membarrier());
    for (int t = 0; t < nthreads; t++) {
        if (!strcmp(mix, "all") || !strcmp(mix, "lookup90"))
            run_case("lookup90", 90, threads[t]);
        if (!strcmp(mix, "all") || !strcmp(mix, "update50"))
            run_case("update50", 50, threads[t]);
    }
    return 0;
}
