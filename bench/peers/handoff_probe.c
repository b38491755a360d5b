/* SPDX-License-Identifier: MIT */
/* The machine's handoff cost, measured: two threads, pinned to the first
 * two CPUs this process may run on, pass one cache line back and forth
 * (each waits for the other's store, then stores), and the program prints
 * the nanoseconds a round trip takes:
 *
 *   handoff_probe [MS]       MS: how long to measure (1..10000, default 20)
 *   -> "PROBE 54.3"          the median of five slices of MS/5 each
 *   -> "PROBE -"             fewer than two CPUs to pin to: nothing measured
 *
 * Why: on the shared 2-CPU machine every result of the peer suite moves
 * between two states that last seconds each, and this round trip moves
 * with them -- 54-73 ns in one, 330-345 ns in the other (the two virtual
 * CPUs placed near or far from each other by the host, it seems). The
 * runner (scripts/bench-peers-run.sh) runs this before and after every
 * measurement, so that each result is known to come from one state or the
 * other, and libraries are compared within one state
 * (docs/performance.md, "The slow machine state, measured"). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLICES 5
/* Round trips between two readings of the clock (a reading costs about a
 * third of a fast round trip; a slice overshoots by at most this many). */
#define TRIPS_PER_CHECK 32

/* The ball: the main thread stores odd values, the partner even ones. */
static _Alignas(64) _Atomic uint64_t ball;
static _Alignas(64) _Atomic int stop;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static int cpu_b;

static void *partner(void *arg)
{
    (void)arg;
    if (pin(cpu_b) != 0)
        return NULL;
    uint64_t want = 1;
    /* Relaxed stop: only ends the loop. Acquire ball: pairs with the main
     * thread's release store (the handoff itself is what is measured). */
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        if (atomic_load_explicit(&ball, memory_order_acquire) == want) {
            atomic_store_explicit(&ball, want + 1, memory_order_release); /* pairs with main's acquire */
            want += 2;
        }
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long ms = 20;
    if (argc > 2) {
        fprintf(stderr, "usage: handoff_probe [MS]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        ms = strtol(argv[1], &end, 10);
        if (errno || end == argv[1] || *end || ms < 1 || ms > 10000) {
            fprintf(stderr, "handoff_probe: MS must be 1..10000, not '%s'\n", argv[1]);
            return 2;
        }
    }
    /* The first two CPUs we may run on. */
    cpu_set_t allowed;
    int cpus[2], found = 0;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[found++] = c;
    if (found < 2 || pin(cpus[0]) != 0) {
        puts("PROBE -");
        return 0;
    }
    cpu_b = cpus[1];
    pthread_t t;
    int err = pthread_create(&t, NULL, partner, NULL);
    if (err) {
        fprintf(stderr, "handoff_probe: pthread_create: %s\n", strerror(err));
        return 1;
    }
    double slice = (double)ms / 1e3 / SLICES, ns[SLICES];
    uint64_t v = 0;
    bool stalled = false;
    for (int i = 0; i < SLICES && !stalled; i++) {
        double s = now(), e;
        uint64_t trips = 0;
        do {
            for (int j = 0; j < TRIPS_PER_CHECK; j++) {
                atomic_store_explicit(&ball, v + 1, memory_order_release); /* pairs with partner's acquire */
                v += 2;
                /* Acquire: pairs with the partner's release store. A
                 * partner that could not pin itself has returned: the
                 * wait gives up after a second. */
                double w = 0;
                for (unsigned spins = 0; atomic_load_explicit(&ball, memory_order_acquire) != v; spins++)
                    if ((spins & 0xffff) == 0xffff && (w == 0 ? (w = now(), 0) : now() - w > 1.0)) {
                        stalled = true;
                        break;
                    }
                if (stalled)
                    break;
            }
            trips += TRIPS_PER_CHECK;
            e = now();
        } while (!stalled && e - s < slice);
        ns[i] = (e - s) * 1e9 / (double)trips;
    }
    atomic_store_explicit(&stop, 1, memory_order_relaxed); /* ends the partner's loop */
    pthread_join(t, NULL);
    if (stalled) {
        puts("PROBE -");
        return 0;
    }
    qsort(ns, SLICES, sizeof ns[0], cmp_double);
    printf("PROBE %.1f\n", ns[SLICES / 2]);
    return 0;
}
