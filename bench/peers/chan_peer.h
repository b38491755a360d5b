/* SPDX-License-Identifier: MIT */
/* The peer suite's workload, C and C++ side (see docs/performance.md, "Against
 * the peers"; the Rust and Go peers implement the same contract).
 *
 *   <binary> P C B CAP N
 *
 * P producer threads and C consumer threads move N 8-byte items (N rounded
 * down to a multiple of P * C): producer p sends the values p*N/P + 1 ..
 * (p+1)*N/P in order, B items per call (B = 1: the plain call); consumers
 * block while there is nothing to take, take up to B items per call and add
 * them up. CAP is the capacity, or "unbounded". The clock runs from the
 * moment the first thread leaves the start barrier (all have arrived) to the
 * moment the last one is done: each thread reads the clock itself, so a main
 * thread that is not scheduled does not skew it. The count and
 * the sum of what the consumers got are checked against N and N(N+1)/2.
 *
 * PEER_PIN in the environment pins every thread, to take the scheduler's
 * placement out of a measurement (docs/performance.md, "What flips batch 1"):
 * "one" all threads on CPU 0; "split" producers on CPU 0, consumers on CPU 1;
 * "alt" thread i of each side on CPU (i + side) mod 2. (The Rust binaries
 * read it too, bench/peers/rust/peer.rs; the Go ones do not, since their
 * goroutines are not threads: `taskset -c 0` gives them the "one"
 * placement.)
 *
 * Output, one line on stdout:  RESULT <seconds> <items>
 * Exit status: 0; 2 bad arguments (usage on stderr); 3 a wrong count or sum.
 *
 * A library binds the workload with three calls: produce (one producer's
 * share), consume (one consumer, until the channel is closed and drained, or
 * until it has its `quota` = N/C items, for queues without a close) and
 * done_producing (called once, after the last producer returned).
 */
#ifndef FERRY_BENCH_PEERS_CHAN_PEER_H
#define FERRY_BENCH_PEERS_CHAN_PEER_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEER_MAX_BATCH 4096
#define PEER_MAX_THREADS 256

struct peer_args {
    int producers, consumers;
    size_t batch;
    size_t cap; /* 0 when unbounded */
    int unbounded;
    uint64_t n;
};

struct peer_ops {
    void *ctx;
    /* Send first .. first + count - 1, batch items per call. */
    void (*produce)(void *ctx, int p, uint64_t first, uint64_t count, size_t batch);
    /* Receive up to batch per call; add to *count and *sum. */
    void (*consume)(void *ctx, int c, size_t batch, uint64_t quota, uint64_t *count, uint64_t *sum);
    /* After the last producer: close the channel (NULL if the handles do it). */
    void (*done_producing)(void *ctx);
};

static inline void peer_usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s P C B CAP N\n"
            "  P, C producer and consumer threads (1..%d); B items per call (1..%d);\n"
            "  CAP capacity or 'unbounded'; N items (rounded down to a multiple of P*C)\n",
            prog, PEER_MAX_THREADS, PEER_MAX_BATCH);
}

static inline int peer_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Parse argv; on a bad argument print the usage and exit 2. */
static inline void peer_parse(int argc, char **argv, struct peer_args *a)
{
    uint64_t p, c, b, cap = 0, n;
    int unb = argc == 6 && !strcmp(argv[4], "unbounded");
    if (argc != 6 || peer_parse_u64(argv[1], 1, PEER_MAX_THREADS, &p) ||
        peer_parse_u64(argv[2], 1, PEER_MAX_THREADS, &c) || peer_parse_u64(argv[3], 1, PEER_MAX_BATCH, &b) ||
        (!unb && peer_parse_u64(argv[4], 1, (uint64_t)1 << 32, &cap)) ||
        peer_parse_u64(argv[5], 1, (uint64_t)1 << 40, &n) || n < p * c) {
        peer_usage(argv[0]);
        exit(2);
    }
    a->producers = (int)p;
    a->consumers = (int)c;
    a->batch = (size_t)b;
    a->cap = (size_t)cap;
    a->unbounded = unb;
    a->n = n / (p * c) * (p * c);
}

struct peer_thread {
    pthread_t th;
    const struct peer_ops *ops;
    const struct peer_args *a;
    pthread_barrier_t *start;
    int index, producer;
    int pin; /* peer_pin_mode() */
    uint64_t count, sum;
    double t0, t1; /* when this thread left the barrier, when it was done */
};

static inline double peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* PEER_PIN (see the top): 0 none, 1 one, 2 split, 3 alt; exits 2 if unknown. */
static inline int peer_pin_mode(void)
{
    const char *pin = getenv("PEER_PIN");
    if (!pin || !*pin)
        return 0;
    if (!strcmp(pin, "one"))
        return 1;
    if (!strcmp(pin, "split"))
        return 2;
    if (!strcmp(pin, "alt"))
        return 3;
    fprintf(stderr, "PEER_PIN: one, split or alt, not '%s'\n", pin);
    exit(2);
}

/* Pin the calling thread to one CPU; exits 2 if that fails. */
static inline void peer_pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        fprintf(stderr, "PEER_PIN: cannot pin a thread to CPU %d\n", cpu);
        exit(2);
    }
}

static void *peer_thread_main(void *arg)
{
    struct peer_thread *t = (struct peer_thread *)arg;
    const struct peer_args *a = t->a;
    if (t->pin)
        peer_pin_to(t->pin == 1 ? 0 : t->pin == 2 ? !t->producer : (t->index + !t->producer) % 2);
    pthread_barrier_wait(t->start);
    t->t0 = peer_now();
    if (t->producer) {
        uint64_t share = a->n / (uint64_t)a->producers;
        t->ops->produce(t->ops->ctx, t->index, (uint64_t)t->index * share + 1, share, a->batch);
    } else {
        t->ops->consume(t->ops->ctx, t->index, a->batch, a->n / (uint64_t)a->consumers, &t->count, &t->sum);
    }
    t->t1 = peer_now();
    return NULL;
}

/* Run the workload, check it, print the RESULT line. Returns the exit status. */
static inline int peer_run(const char *lib, const struct peer_args *a, const struct peer_ops *ops)
{
    int nt = a->producers + a->consumers;
    int pin = peer_pin_mode();
    struct peer_thread *t = (struct peer_thread *)calloc((size_t)nt, sizeof *t);
    pthread_barrier_t start;
    if (!t || pthread_barrier_init(&start, NULL, (unsigned)nt + 1)) {
        fprintf(stderr, "%s: out of memory\n", lib);
        return 1;
    }
    for (int i = 0; i < nt; i++) {
        t[i].ops = ops;
        t[i].a = a;
        t[i].start = &start;
        t[i].producer = i < a->producers;
        t[i].pin = pin;
        t[i].index = t[i].producer ? i : i - a->producers;
        if (pthread_create(&t[i].th, NULL, peer_thread_main, &t[i])) {
            fprintf(stderr, "%s: cannot start thread %d\n", lib, i);
            return 1;
        }
    }
    pthread_barrier_wait(&start);
    for (int i = 0; i < a->producers; i++)
        pthread_join(t[i].th, NULL);
    if (ops->done_producing)
        ops->done_producing(ops->ctx);
    uint64_t count = 0, sum = 0;
    for (int i = a->producers; i < nt; i++) {
        pthread_join(t[i].th, NULL);
        count += t[i].count;
        sum += t[i].sum;
    }
    double t0 = t[0].t0, t1 = t[0].t1;
    for (int i = 1; i < nt; i++) {
        t0 = t[i].t0 < t0 ? t[i].t0 : t0;
        t1 = t[i].t1 > t1 ? t[i].t1 : t1;
    }
    double sec = t1 - t0;
    pthread_barrier_destroy(&start);
    free(t);
    uint64_t want = a->n % 2 ? (a->n + 1) / 2 * a->n : a->n / 2 * (a->n + 1);
    if (count != a->n || sum != want) {
        fprintf(stderr, "%s: received %llu items summing to %llu, want %llu summing to %llu\n", lib,
                (unsigned long long)count, (unsigned long long)sum, (unsigned long long)a->n,
                (unsigned long long)want);
        return 3;
    }
    printf("RESULT %.6f %llu\n", sec, (unsigned long long)a->n);
    return 0;
}

#endif
