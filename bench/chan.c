/* SPDX-License-Identifier: MIT */
/* bench/chan: the batch channel against a mutex+condvar baseline, same run.
 *
 *   build/release/bench/chan              full size (N = 5,000,000, 5 repetitions)
 *   build/release/bench/chan --quick      small N, 3 repetitions (make demo)
 *   options: --filter SUBSTR (cases whose "case impl" contains SUBSTR; a
 *            trailing $ anchors it at the end: --filter ' ferry$'),
 *            --reps R, --n N, --verbose (every repetition),
 *            --stats (ferry_chan_stats of every ferry run, on stderr)
 *
 * Parts (each line: crossbeam-channel's format, the median of R runs):
 *  1. crossbeam-channel's matrix (benchmarks/crossbeam-channel.rs): seq, spsc,
 *     mpsc, mpmc x bounded0, bounded1, bounded(N), unbounded; N 8-byte
 *     messages, T = 4 threads (mpsc: T producers, 1 consumer; mpmc: T
 *     producers, T consumers, each N/T). seq = one thread sends all, then
 *     receives all (only for bounded(N) and unbounded, as in crossbeam).
 *     "ferry" sends and receives one item per call; "baseline" is
 *     chan_baseline.c (pthread mutex + two condvars, one item per lock).
 *  2. Batch variants: ferry_send(n = B) / ferry_recv(max = B), B = 16, 256
 *     ("ferry-b16", "ferry-b256") for spsc/mpsc/mpmc, against the same
 *     baseline (which has no batch operation).
 *  3. Peer (when built with moodycamel::ConcurrentQueue): spsc and mpmc,
 *     enqueue_bulk / try_dequeue_bulk with tokens, B = 256, unbounded.
 *  4. Async ping-pong: two threads, a channel each way, one item in flight;
 *     ferry_recv_start + an eventfd waker drained in an epoll loop, against
 *     blocking ferry_send/ferry_recv. Round trips per second.
 *  5. Priorities and budgets: plain bounded(4096) channel vs levels = 8
 *     (random level per send) vs budget (constant weight; item-derived
 *     weight; a budget that binds) at B = 1 and 16 (B = 16 moves 4N items),
 *     spsc and mpmc.
 *  6. Select, crossbeam-channel's select_rx and select_both for each
 *     capacity: T channels; select_rx: T producers, one per channel
 *     (ferry_send), one consumer selecting over the T channels; select_both:
 *     T producers each selecting over T send cases, T consumers each
 *     selecting over T receive cases. One item per call ("ferry-select");
 *     the summary sets them beside ferry's mpsc and mpmc of the same
 *     capacity (one channel, no select).
 * Timing: from a start barrier that all threads have passed to the join of
 * the last one (channel creation and thread start are outside; crossbeam
 * includes them, which matters only for tiny N). The summary at the end
 * gives ns per item and ratios; docs/performance.md compares them with the
 * channel's performance goals.
 */
#include <ferry/chan.h>
#include <ferry/op.h>
#include <ferry/select.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "chan_baseline.h"

#ifdef FERRY_BENCH_MOODYCAMEL
/* bench/peers/chan_moodycamel.cpp: seconds for n items, B-item bulk calls. */
double ferry_peer_moodycamel(int producers, int consumers, size_t n, size_t batch);
#endif

#define THREADS 4
#define FULL_N 5000000u
#define QUICK_N 500000u
#define MAX_BATCH 256
#define MAX_RESULTS 256
#define SLOW_DIV 25 /* bounded0 and bounded1 cases move N / SLOW_DIV items */

static struct {
    size_t n;
    int reps;
    bool quick, verbose, stats;
    const char *filter;
} opt = {FULL_N, 5, false, false, false, NULL};

__attribute__((noreturn)) static void die(const char *what)
{
    fprintf(stderr, "bench/chan: %s\n", what);
    exit(1);
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

struct result {
    char kase[40];
    char impl[20];
    double sec;   /* median wall-clock seconds */
    double cpu;   /* median CPU seconds, all threads (less sensitive to other load) */
    size_t items; /* items moved per run (round trips for ping-pong) */
};
static struct result results[MAX_RESULTS];
static int nresults;

static void record(const char *kase, const char *impl, double sec, double cpu, size_t items)
{
    printf("%-25s %-15s %7.3f sec\n", kase, impl, sec);
    fflush(stdout);
    if (nresults < MAX_RESULTS) {
        struct result *r = &results[nresults++];
        snprintf(r->kase, sizeof r->kase, "%s", kase);
        snprintf(r->impl, sizeof r->impl, "%s", impl);
        r->sec = sec;
        r->cpu = cpu;
        r->items = items;
    }
}

static const struct result *find(const char *kase, const char *impl)
{
    for (int i = 0; i < nresults; i++)
        if (!strcmp(results[i].kase, kase) && !strcmp(results[i].impl, impl))
            return &results[i];
    return NULL;
}

static bool selected(const char *kase, const char *impl)
{
    if (!opt.filter)
        return true;
    char both[80], pat[80];
    snprintf(both, sizeof both, "%s %s", kase, impl);
    snprintf(pat, sizeof pat, "%s", opt.filter);
    size_t pl = strlen(pat);
    if (pl && pat[pl - 1] == '$') { /* anchored at the end: " ferry$" */
        pat[--pl] = 0;
        size_t bl = strlen(both);
        return bl >= pl && !strcmp(both + bl - pl, pat);
    }
    return strstr(both, pat) != NULL;
}

/* ------------------------------------------------------------------------ */
/* The queues under test, behind one interface                               */

enum kind { K_FERRY, K_BASELINE };

struct qcfg {
    size_t cap;
    unsigned levels;
    size_t budget;
    size_t (*weigh)(const void *, void *);
};

struct queue {
    enum kind kind;
    unsigned levels;
    ferry_tx *tx;
    ferry_rx *rx;
    bl_queue *bl;
};

static void q_open(struct queue *q, enum kind kind, const struct qcfg *c)
{
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->levels = c->levels ? c->levels : 1;
    if (kind == K_BASELINE) {
        q->bl = bl_open(c->cap);
        if (!q->bl)
            die("baseline: out of memory");
        return;
    }
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t),
                             .capacity = c->cap,
                             .levels = c->levels,
                             .budget = c->budget,
                             .weigh = c->weigh,
                             .name = "bench"};
    int r = ferry_chan_open(&cfg, &q->tx, &q->rx);
    if (r)
        die("ferry_chan_open failed");
}

static void q_close(struct queue *q)
{
    if (q->kind == K_BASELINE) {
        bl_free(q->bl);
        return;
    }
    ferry_tx_release(q->tx);
    ferry_rx_release(q->rx);
}

static inline void q_send(struct queue *q, const uint64_t *items, size_t n, unsigned prio)
{
    if (q->kind == K_BASELINE) {
        for (size_t i = 0; i < n; i++)
            bl_send(q->bl, items[i]);
        return;
    }
    ssize_t r = q->levels > 1 ? ferry_send_prio(q->tx, items, n, prio) : ferry_send(q->tx, items, n);
    if (r != (ssize_t)n)
        die("ferry_send returned short");
}

static inline size_t q_recv(struct queue *q, uint64_t *out, size_t max)
{
    if (q->kind == K_BASELINE) {
        out[0] = bl_recv(q->bl);
        return 1;
    }
    ssize_t r = ferry_recv(q->rx, out, max);
    if (r <= 0)
        die("ferry_recv failed");
    return (size_t)r;
}

/* ------------------------------------------------------------------------ */
/* One throughput run: P producers, C consumers (C == 0: seq)                */

struct run {
    struct queue q;
    size_t n, batch;
    int producers, consumers;
    pthread_barrier_t start;
    uint64_t sum[2 * THREADS + 1]; /* per consumer: checks nothing was lost */
};

struct worker {
    struct run *run;
    int id;
    pthread_t th;
    double t0, t1; /* this thread's start (after the barrier) and end */
};

static inline uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void produce(struct run *run, int id, size_t count)
{
    uint64_t buf[MAX_BATCH];
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    uint64_t base = (uint64_t)id * count;
    for (size_t i = 0; i < count;) {
        size_t k = count - i < run->batch ? count - i : run->batch;
        for (size_t j = 0; j < k; j++)
            buf[j] = base + i + j + 1;
        unsigned prio = run->q.levels > 1 ? (unsigned)(xorshift(&rng) % run->q.levels) : 0;
        q_send(&run->q, buf, k, prio);
        i += k;
    }
}

static uint64_t consume(struct run *run, size_t count)
{
    uint64_t buf[MAX_BATCH];
    uint64_t sum = 0;
    for (size_t i = 0; i < count;) {
        size_t want = count - i < run->batch ? count - i : run->batch;
        size_t got = q_recv(&run->q, buf, want);
        for (size_t j = 0; j < got; j++)
            sum += buf[j];
        i += got;
    }
    return sum;
}

static void *producer_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&w->run->start);
    w->t0 = now_sec();
    produce(w->run, w->id, w->run->n / (size_t)w->run->producers);
    w->t1 = now_sec();
    return NULL;
}

static void *consumer_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&w->run->start);
    w->t0 = now_sec();
    w->run->sum[w->id] = consume(w->run, w->run->n / (size_t)w->run->consumers);
    w->t1 = now_sec();
    return NULL;
}

/* Seconds for one run; *cpu gets the CPU seconds of all threads. */
static double run_once(enum kind kind, const struct qcfg *cfg, int producers, int consumers, size_t n, size_t batch,
                       double *cpu)
{
    struct run *run = calloc(1, sizeof *run);
    if (!run)
        die("out of memory");
    q_open(&run->q, kind, cfg);
    run->n = n;
    run->batch = batch;
    run->producers = producers;
    run->consumers = consumers;
    double t0, t1, c0 = bench_cpu_sec();
    if (consumers == 0) { /* seq: send everything, then receive everything */
        t0 = now_sec();
        produce(run, 0, n);
        run->sum[0] = consume(run, n);
        t1 = now_sec();
    } else {
        struct worker w[2 * THREADS];
        int nw = producers + consumers;
        pthread_barrier_init(&run->start, NULL, (unsigned)nw + 1);
        for (int i = 0; i < nw; i++) {
            w[i].run = run;
            w[i].id = i < producers ? i : i - producers;
            if (pthread_create(&w[i].th, NULL, i < producers ? producer_main : consumer_main, &w[i]))
                die("pthread_create failed");
        }
        pthread_barrier_wait(&run->start);
        /* Each thread stamps its own start and end: on 2 cores this thread
         * may not run again until the others are done. */
        t0 = 1e300;
        t1 = 0;
        for (int i = 0; i < nw; i++) {
            pthread_join(w[i].th, NULL);
            t0 = w[i].t0 < t0 ? w[i].t0 : t0;
            t1 = w[i].t1 > t1 ? w[i].t1 : t1;
        }
        pthread_barrier_destroy(&run->start);
    }
    *cpu = bench_cpu_sec() - c0;
    /* Items are 1..n (producer p sends p*n/P+1 ..), so the sum is known. */
    uint64_t total = 0;
    for (int i = 0; i < (consumers ? consumers : 1); i++)
        total += run->sum[i];
    if (total != (uint64_t)n * (n + 1) / 2)
        die("checksum mismatch: items lost or duplicated");
    if (opt.stats && kind == K_FERRY) {
        struct ferry_chan_stats st;
        if (ferry_chan_stats(run->q.tx, &st) == 0)
            fprintf(stderr,
                    "    stats: batches sent %llu recv %llu, blocked sends %llu recvs %llu, wakeups %llu, "
                    "handoffs %llu (%.1f ns/item)\n",
                    (unsigned long long)st.batches_sent, (unsigned long long)st.batches_received,
                    (unsigned long long)st.sends_blocked, (unsigned long long)st.recvs_blocked,
                    (unsigned long long)st.wakeups, (unsigned long long)st.handoffs, (t1 - t0) * 1e9 / (double)n);
    }
    q_close(&run->q);
    free(run);
    return t1 - t0;
}

/* R repetitions, interleaving the implementations so that drift in the
 * machine's load hits them alike; records the medians. */
struct variant {
    const char *impl;
    enum kind kind;
    struct qcfg cfg;
    size_t batch;
};

static void measure(const char *kase, int producers, int consumers, size_t n, const struct variant *v, int nv)
{
    double t[8][16], cpu[8][16];
    bool on[8];
    bool any = false;
    for (int i = 0; i < nv; i++)
        any |= on[i] = selected(kase, v[i].impl);
    if (!any)
        return;
    for (int r = 0; r < opt.reps; r++)
        for (int i = 0; i < nv; i++)
            if (on[i]) {
                t[i][r] = run_once(v[i].kind, &v[i].cfg, producers, consumers, n, v[i].batch, &cpu[i][r]);
                if (opt.verbose)
                    fprintf(stderr, "  %s %s rep %d: %.3f\n", kase, v[i].impl, r, t[i][r]);
            }
    for (int i = 0; i < nv; i++)
        if (on[i])
            record(kase, v[i].impl, bench_median(t[i], opt.reps), bench_median(cpu[i], opt.reps), n);
}

/* ------------------------------------------------------------------------ */
/* Part 1 + 2: crossbeam-channel's matrix, with batch variants               */

static const struct {
    const char *name;
    int producers, consumers;
} topos[] = {{"seq", 1, 0}, {"spsc", 1, 1}, {"mpsc", THREADS, 1}, {"mpmc", THREADS, THREADS}};

static const struct {
    const char *name;
    size_t cap; /* 1 << 62 stands for N */
} caps[] = {{"bounded0", 0}, {"bounded1", 1}, {"bounded", (size_t)1 << 62}, {"unbounded", FERRY_UNBOUNDED}};

static void part_matrix(void)
{
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        for (size_t ti = 0; ti < sizeof topos / sizeof topos[0]; ti++) {
            bool seq = topos[ti].consumers == 0;
            if (seq && caps[ci].cap <= 1)
                continue; /* would deadlock; crossbeam skips these too */
            char kase[40];
            snprintf(kase, sizeof kase, "%s_%s", caps[ci].name, topos[ti].name);
            struct qcfg cfg = {.cap = caps[ci].cap == (size_t)1 << 62 ? opt.n : caps[ci].cap};
            /* bounded0/bounded1 hand over (nearly) every item through a
             * sleep and a wakeup: 1-40 us per item here, minutes per run at
             * full N. They move N / SLOW_DIV items; ns per item compare. */
            size_t n = caps[ci].cap <= 1 ? opt.n / SLOW_DIV : opt.n;
            n -= n % (THREADS * 4);
            struct variant v[4] = {
                {"ferry", K_FERRY, cfg, 1},
                {"baseline", K_BASELINE, cfg, 1},
                {"ferry-b16", K_FERRY, cfg, 16},
                {"ferry-b256", K_FERRY, cfg, 256},
            };
            measure(kase, topos[ti].producers, topos[ti].consumers, n, v, seq ? 2 : 4);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Part 3: moodycamel                                                        */

static void part_peer(void)
{
#ifdef FERRY_BENCH_MOODYCAMEL
    static const struct {
        const char *kase;
        int p, c;
    } pc[] = {{"unbounded_spsc", 1, 1}, {"unbounded_mpmc", THREADS, THREADS}};
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++) {
        if (!selected(pc[i].kase, "moodycamel-b256"))
            continue;
        double t[16], cpu[16];
        for (int r = 0; r < opt.reps; r++) {
            double c0 = bench_cpu_sec();
            t[r] = ferry_peer_moodycamel(pc[i].p, pc[i].c, opt.n, 256);
            cpu[r] = bench_cpu_sec() - c0;
        }
        record(pc[i].kase, "moodycamel-b256", bench_median(t, opt.reps), bench_median(cpu, opt.reps), opt.n);
    }
#endif
}

/* ------------------------------------------------------------------------ */
/* Part 4: async ping-pong                                                   */

struct pp {
    ferry_tx *tx[2];
    ferry_rx *rx[2];
    size_t rounds;
    bool async;
    pthread_barrier_t start;
};

struct pp_side {
    struct pp *pp;
    int id; /* 0 serves (sends first), 1 echoes */
    int efd, ep;
    pthread_t th;
    double t0, t1;
};

static void pp_wake(void *ctx)
{
    struct pp_side *s = ctx;
    uint64_t one = 1;
    if (write(s->efd, &one, sizeof one) != sizeof one)
        die("eventfd write failed");
}

/* Receive one item on side s: async via epoll, or blocking. */
static uint64_t pp_recv(struct pp_side *s)
{
    uint64_t v;
    ferry_rx *rx = s->pp->rx[s->id];
    if (!s->pp->async) {
        if (ferry_recv(rx, &v, 1) != 1)
            die("ping-pong: recv failed");
        return v;
    }
    ferry_op op;
    ferry_waker w = {pp_wake, s};
    ssize_t r = ferry_recv_start(rx, &op, &v, 1, w);
    if (r == -EINPROGRESS) {
        struct epoll_event ev;
        int n;
        do
            n = epoll_wait(s->ep, &ev, 1, -1);
        while (n < 0 && errno == EINTR);
        uint64_t cnt;
        if (n != 1 || read(s->efd, &cnt, sizeof cnt) != sizeof cnt)
            die("ping-pong: epoll/eventfd failed");
        r = ferry_op_result(&op);
    }
    if (r != 1)
        die("ping-pong: async recv failed");
    return v;
}

static void *pp_main(void *arg)
{
    struct pp_side *s = arg;
    struct pp *pp = s->pp;
    pthread_barrier_wait(&pp->start);
    s->t0 = now_sec();
    for (uint64_t i = 0; i < pp->rounds; i++) {
        uint64_t v = i;
        if (s->id == 0) {
            if (ferry_send(pp->tx[0], &v, 1) != 1)
                die("ping-pong: send failed");
            if (pp_recv(s) != i)
                die("ping-pong: wrong reply");
        } else {
            v = pp_recv(s);
            if (ferry_send(pp->tx[1], &v, 1) != 1)
                die("ping-pong: send failed");
        }
    }
    s->t1 = now_sec();
    return NULL;
}

static double pp_once(bool async, size_t rounds)
{
    struct pp pp = {.rounds = rounds, .async = async};
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = 1, .name = "ping-pong"};
    /* Channel 0 carries pings to side 1, channel 1 pongs to side 0. */
    ferry_tx *tx0 = NULL, *tx1 = NULL;
    ferry_rx *rx0 = NULL, *rx1 = NULL;
    if (ferry_chan_open(&cfg, &tx0, &rx0) || ferry_chan_open(&cfg, &tx1, &rx1))
        die("ping-pong: open failed");
    pp.tx[0] = tx0;
    pp.tx[1] = tx1;
    pp.rx[0] = rx1; /* side 0 receives pongs */
    pp.rx[1] = rx0; /* side 1 receives pings */
    pthread_barrier_init(&pp.start, NULL, 3);
    struct pp_side side[2];
    for (int i = 0; i < 2; i++) {
        side[i].pp = &pp;
        side[i].id = i;
        side[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        side[i].ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &side[i]};
        if (side[i].efd < 0 || side[i].ep < 0 || epoll_ctl(side[i].ep, EPOLL_CTL_ADD, side[i].efd, &ev))
            die("ping-pong: eventfd/epoll setup failed");
        if (pthread_create(&side[i].th, NULL, pp_main, &side[i]))
            die("pthread_create failed");
    }
    pthread_barrier_wait(&pp.start);
    for (int i = 0; i < 2; i++)
        pthread_join(side[i].th, NULL);
    double t0 = side[0].t0 < side[1].t0 ? side[0].t0 : side[1].t0;
    double t1 = side[0].t1 > side[1].t1 ? side[0].t1 : side[1].t1;
    for (int i = 0; i < 2; i++) {
        close(side[i].efd);
        close(side[i].ep);
    }
    pthread_barrier_destroy(&pp.start);
    ferry_tx_release(tx0);
    ferry_tx_release(tx1);
    ferry_rx_release(rx0);
    ferry_rx_release(rx1);
    return t1 - t0;
}

static void part_pingpong(void)
{
    size_t rounds = opt.n / 25; /* 200,000 full, 20,000 quick */
    if (rounds < 1000)
        rounds = 1000;
    const char *impls[2] = {"ferry-blocking", "ferry-epoll"};
    double t[2][16], cpu[2][16];
    bool on[2] = {selected("pingpong", impls[0]), selected("pingpong", impls[1])};
    for (int r = 0; r < opt.reps; r++)
        for (int i = 0; i < 2; i++)
            if (on[i]) {
                double c0 = bench_cpu_sec();
                t[i][r] = pp_once(i == 1, rounds);
                cpu[i][r] = bench_cpu_sec() - c0;
            }
    for (int i = 0; i < 2; i++)
        if (on[i])
            record("pingpong", impls[i], bench_median(t[i], opt.reps), bench_median(cpu[i], opt.reps), rounds);
}

/* ------------------------------------------------------------------------ */
/* Part 5: priorities and budgets                                            */

#define PB_CAP 4096

/* A path-length-like weight: 8..71 bytes, derived from the item. */
static size_t weigh_item(const void *item, void *ctx)
{
    (void)ctx;
    uint64_t v;
    memcpy(&v, item, sizeof v);
    return 8 + (size_t)((v * 0x9e3779b97f4a7c15ull) >> 58);
}

static void part_prio_budget(void)
{
    static const struct {
        const char *name;
        int p, c;
    } pt[] = {{"spsc", 1, 1}, {"mpmc", THREADS, THREADS}};
    static const size_t batches[] = {1, 16};
    for (size_t ti = 0; ti < 2; ti++) {
        for (size_t bi = 0; bi < 2; bi++) {
            char kase[40];
            snprintf(kase, sizeof kase, "prio_%s_b%zu", pt[ti].name, batches[bi]);
            size_t b = batches[bi];
            struct variant v[5] = {
                {"plain", K_FERRY, {.cap = PB_CAP}, b},
                {"levels8", K_FERRY, {.cap = PB_CAP, .levels = 8}, b},
                /* weigh = NULL: elem_size per item; never the binding bound */
                {"budget-const", K_FERRY, {.cap = PB_CAP, .budget = 2 * PB_CAP * sizeof(uint64_t)}, b},
                /* item-derived weight, budget above cap x heaviest item */
                {"budget-weigh", K_FERRY, {.cap = PB_CAP, .budget = PB_CAP * 72, .weigh = weigh_item}, b},
                /* binds at about 256 items of average weight 40 */
                {"budget-bound", K_FERRY, {.cap = PB_CAP, .budget = 256 * 40, .weigh = weigh_item}, b},
            };
            /* Batches are ~10x cheaper per item: move 4N so that a run
             * lasts long enough to see a 10% difference through the noise. */
            measure(kase, pt[ti].p, pt[ti].c, b > 1 ? 4 * opt.n : opt.n, v, 5);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Part 6: select (crossbeam-channel's select_rx and select_both)           */

struct sel_run {
    ferry_tx *tx[THREADS];
    ferry_rx *rx[THREADS];
    size_t per;        /* items per producer thread */
    size_t per_consumer;
    bool both;         /* producers select over send cases too */
    pthread_barrier_t start;
    uint64_t sum[THREADS];
};

struct sel_worker {
    struct sel_run *run;
    int id;
    bool producer;
    pthread_t th;
    double t0, t1;
};

static void *sel_main(void *arg)
{
    struct sel_worker *w = arg;
    struct sel_run *r = w->run;
    ferry_select_case cs[THREADS];
    uint64_t v[THREADS];
    int nc = w->producer ? (r->both ? THREADS : 1) : THREADS;
    for (int i = 0; i < nc; i++) {
        int ch = nc == 1 ? w->id : i;
        cs[i] = w->producer ? (ferry_select_case){.op = FERRY_SELECT_SEND, .tx = r->tx[ch], .buf = &v[0], .n = 1}
                            : (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = r->rx[ch], .buf = &v[i], .n = 1};
    }
    pthread_barrier_wait(&r->start);
    w->t0 = now_sec();
    uint64_t sum = 0;
    size_t count = w->producer ? r->per : r->per_consumer;
    for (size_t k = 0; k < count; k++) {
        if (w->producer) {
            v[0] = (uint64_t)w->id * r->per + k + 1;
            if (nc == 1) {
                if (ferry_send(r->tx[w->id], &v[0], 1) != 1)
                    die("ferry_send failed");
                continue;
            }
        }
        int i = ferry_select(cs, (size_t)nc);
        if (i < 0 || cs[i].result != 1)
            die("ferry_select failed");
        if (!w->producer)
            sum += v[i];
    }
    w->t1 = now_sec();
    if (!w->producer)
        r->sum[w->id] = sum;
    return NULL;
}

static double sel_once(size_t cap, bool both, size_t n, double *cpu)
{
    struct sel_run *r = calloc(1, sizeof *r);
    if (!r)
        die("out of memory");
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = cap, .name = "bench-select"};
    for (int i = 0; i < THREADS; i++)
        if (ferry_chan_open(&cfg, &r->tx[i], &r->rx[i]))
            die("ferry_chan_open failed");
    int consumers = both ? THREADS : 1;
    r->per = n / THREADS;
    r->per_consumer = n / (size_t)consumers;
    r->both = both;
    struct sel_worker w[2 * THREADS];
    int nw = THREADS + consumers;
    pthread_barrier_init(&r->start, NULL, (unsigned)nw + 1);
    double c0 = bench_cpu_sec();
    for (int i = 0; i < nw; i++) {
        w[i] = (struct sel_worker){.run = r, .id = i < THREADS ? i : i - THREADS, .producer = i < THREADS};
        if (pthread_create(&w[i].th, NULL, sel_main, &w[i]))
            die("pthread_create failed");
    }
    pthread_barrier_wait(&r->start);
    double t0 = 1e300, t1 = 0;
    for (int i = 0; i < nw; i++) {
        pthread_join(w[i].th, NULL);
        t0 = w[i].t0 < t0 ? w[i].t0 : t0;
        t1 = w[i].t1 > t1 ? w[i].t1 : t1;
    }
    *cpu = bench_cpu_sec() - c0;
    pthread_barrier_destroy(&r->start);
    uint64_t total = 0;
    for (int i = 0; i < consumers; i++)
        total += r->sum[i];
    if (total != (uint64_t)n * (n + 1) / 2)
        die("select: checksum mismatch: items lost or duplicated");
    for (int i = 0; i < THREADS; i++) {
        ferry_tx_release(r->tx[i]);
        ferry_rx_release(r->rx[i]);
    }
    free(r);
    return t1 - t0;
}

static void part_select(void)
{
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        for (int both = 0; both < 2; both++) {
            char kase[40];
            snprintf(kase, sizeof kase, "%s_select_%s", caps[ci].name, both ? "both" : "rx");
            if (!selected(kase, "ferry-select"))
                continue;
            size_t cap = caps[ci].cap == (size_t)1 << 62 ? opt.n : caps[ci].cap;
            size_t n = caps[ci].cap <= 1 ? opt.n / SLOW_DIV : opt.n; /* as part 1 */
            n -= n % (THREADS * 4);
            double t[16], cpu[16];
            for (int r = 0; r < opt.reps; r++) {
                t[r] = sel_once(cap, both, n, &cpu[r]);
                if (opt.verbose)
                    fprintf(stderr, "  %s rep %d: %.3f\n", kase, r, t[r]);
            }
            record(kase, "ferry-select", bench_median(t, opt.reps), bench_median(cpu, opt.reps), n);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Summary                                                                   */

static double ns_per_item(const struct result *r) { return r->sec * 1e9 / (double)r->items; }

static void summary(void)
{
    printf("\nSummary: ns per item (median of %d), speedup = baseline time / ferry time\n", opt.reps);
    printf("(cpu x b1: the same ratio in CPU seconds of all threads, less sensitive to other load)\n");
    printf("%-20s %10s %10s %10s %10s %8s %8s %8s %9s\n", "case", "baseline", "ferry", "ferry-b16", "ferry-b256",
           "x b1", "x b16", "x b256", "cpu x b1");
    int b1_total = 0, b1_ok = 0;
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        for (size_t ti = 0; ti < sizeof topos / sizeof topos[0]; ti++) {
            char kase[40];
            snprintf(kase, sizeof kase, "%s_%s", caps[ci].name, topos[ti].name);
            const struct result *bl = find(kase, "baseline");
            const struct result *f[3] = {find(kase, "ferry"), find(kase, "ferry-b16"), find(kase, "ferry-b256")};
            if (!bl && !f[0] && !f[1] && !f[2])
                continue;
            printf("%-20s", kase);
            if (bl)
                printf(" %10.1f", ns_per_item(bl));
            else
                printf(" %10s", "-");
            for (int i = 0; i < 3; i++) {
                if (f[i])
                    printf(" %10.1f", ns_per_item(f[i]));
                else
                    printf(" %10s", "-");
            }
            for (int i = 0; i < 3; i++) {
                if (f[i] && bl)
                    printf(" %7.2fx", bl->sec / f[i]->sec);
                else
                    printf(" %8s", "-");
            }
            if (f[0] && bl && f[0]->cpu > 0)
                printf(" %8.2fx", bl->cpu / f[0]->cpu);
            printf("\n");
            if (f[0] && bl) {
                b1_total++;
                b1_ok += bl->sec / f[0]->sec >= 2.0;
            }
        }
    }
#ifdef FERRY_BENCH_MOODYCAMEL
    for (int i = 0; i < nresults; i++)
        if (!strcmp(results[i].impl, "moodycamel-b256")) {
            const struct result *f = find(results[i].kase, "ferry-b256");
            printf("%-20s moodycamel-b256 %.2f ns/item (%.0f M items/s)", results[i].kase, ns_per_item(&results[i]),
                   1e3 / ns_per_item(&results[i]));
            if (f)
                printf(", ferry-b256 / moodycamel = %.2fx speed", results[i].sec / f->sec);
            printf("\n");
        }
#endif
    const struct result *pb = find("pingpong", "ferry-blocking"), *pa = find("pingpong", "ferry-epoll");
    if (pb || pa) {
        printf("\nPing-pong (one item in flight, two threads):\n");
        for (int i = 0; i < 2; i++) {
            const struct result *r = i ? pa : pb;
            if (r)
                printf("  %-15s %10.0f round trips/s  %7.2f us/round trip\n", r->impl, (double)r->items / r->sec,
                       r->sec * 1e6 / (double)r->items);
        }
        if (pb && pa)
            printf("  epoll / blocking: %.2fx the blocking rate\n", pb->sec / pa->sec);
    }
    bool header = false;
    double worst = 0;
    for (int i = 0; i < nresults; i++) {
        if (strncmp(results[i].kase, "prio_", 5) || !strcmp(results[i].impl, "plain"))
            continue;
        const struct result *plain = find(results[i].kase, "plain");
        if (!plain)
            continue;
        if (!header) {
            printf("\nPriorities and budgets vs a plain bounded(%d) channel:\n", PB_CAP);
            printf("  %-16s %-14s %9s %9s %9s %9s\n", "case", "variant", "plain ns", "ns/item", "overhead",
                   "cpu ovh");
            header = true;
        }
        double ov = (results[i].sec / plain->sec - 1) * 100;
        double cov = plain->cpu > 0 ? (results[i].cpu / plain->cpu - 1) * 100 : 0;
        printf("  %-16s %-14s %9.1f %9.1f %8.1f%% %8.1f%%%s\n", results[i].kase, results[i].impl, ns_per_item(plain),
               ns_per_item(&results[i]), ov, cov, strcmp(results[i].impl, "budget-bound") ? "" : " (the budget binds)");
        if (strcmp(results[i].impl, "budget-bound") && ov > worst)
            worst = ov;
    }
    if (header)
        printf("  worst overhead (levels8, budget-const, budget-weigh): %.1f%%\n", worst);

    header = false;
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        for (int both = 0; both < 2; both++) {
            char kase[40], plain[40];
            snprintf(kase, sizeof kase, "%s_select_%s", caps[ci].name, both ? "both" : "rx");
            snprintf(plain, sizeof plain, "%s_%s", caps[ci].name, both ? "mpmc" : "mpsc");
            const struct result *sr = find(kase, "ferry-select"), *pr = find(plain, "ferry");
            if (!sr)
                continue;
            if (!header) {
                printf("\nSelect over %d channels, one item per call (beside one channel, no select):\n", THREADS);
                printf("  %-22s %12s %16s %12s\n", "case", "ns/item", "one channel", "ratio");
                header = true;
            }
            printf("  %-22s %12.1f", kase, ns_per_item(sr));
            if (pr)
                printf(" %16.1f %11.2fx\n", ns_per_item(pr), sr->sec / (double)sr->items / (pr->sec / (double)pr->items));
            else
                printf(" %16s %12s\n", "-", "-");
        }
    }

    printf("\nSummary:\n");
    if (b1_total)
        printf("  batch 1: ferry at least 2x the baseline in %d of %d cases\n", b1_ok, b1_total);
    const struct result *s256 = find("bounded_spsc", "ferry-b256");
    if (s256)
        printf("  spsc batch 256 bounded(N): %.0f M items/s\n",
               1e3 / ns_per_item(s256));
    const struct result *s1 = find("bounded_spsc", "ferry");
    if (s1)
        printf("  spsc batch 1 bounded(N): %.1f M items/s (crossbeam-channel reference ~28 M items/s)\n",
               1e3 / ns_per_item(s1));
    const struct result *m256 = find("bounded_mpmc", "ferry-b256");
    if (m256)
        printf("  mpmc 4x4 batch 256 bounded(N): %.2f ns/item on %ld CPUs\n",
               ns_per_item(m256), sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv)
{
    bool n_set = false, reps_set = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            opt.quick = true;
        else if (!strcmp(argv[i], "--verbose"))
            opt.verbose = true;
        else if (!strcmp(argv[i], "--stats"))
            opt.stats = true;
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
            opt.filter = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            opt.reps = atoi(argv[++i]);
            reps_set = true;
        } else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            opt.n = (size_t)strtoull(argv[++i], NULL, 10);
            n_set = true;
        } else {
            fprintf(stderr,
                    "usage: %s [--quick] [--filter SUBSTR] [--reps R] [--n N] [--verbose] [--stats]\n"
                    "  full run: N = %u items, 5 repetitions; --quick: N = %u, 3 repetitions\n",
                    argv[0], FULL_N, QUICK_N);
            return 2;
        }
    }
    if (opt.quick) {
        if (!n_set)
            opt.n = QUICK_N;
        if (!reps_set)
            opt.reps = 3;
    }
    if (opt.reps < 1 || opt.reps > 16)
        die("--reps must be 1..16");
    opt.n -= opt.n % (THREADS * 4);
    if (opt.n < THREADS * 4)
        die("--n too small");
    printf("bench/chan: N = %zu 8-byte items, T = %d, median of %d runs, %ld CPUs%s\n", opt.n, THREADS, opt.reps,
           sysconf(_SC_NPROCESSORS_ONLN), opt.quick ? " (quick)" : "");
    double t0 = now_sec();
    part_matrix();
    part_peer();
    part_pingpong();
    part_prio_budget();
    part_select();
    summary();
    printf("\ntotal %.1f s\n", now_sec() - t0);
    return 0;
}
