/* SPDX-License-Identifier: MIT */
/* audio_sim: a simulated audio callback with ferry's real-time toolkit.
 *
 *     audio_sim [seconds]        (default 1)
 *
 * A real-time thread wakes every 128 frames at 48 kHz (2.667 ms). In each
 * period, inside a real-time section (ferry_rt_enter/exit), it
 *   - takes the next block of samples from a ferry_spsc ring (filled by the
 *     main thread, which allocates the blocks),
 *   - picks up new parameters that the main thread sends over a ferry_llq
 *     (each a reference-counted ferry_shared object),
 *   - applies the gain to the block and "plays" it (mixes it into a meter),
 *   - hands the played block, and any parameter set it replaced, back for
 *     reclamation through ferry_defer: it never frees anything itself.
 * The main thread refills the ring, sends a parameter change every 50 ms and
 * runs ferry_defer_collect(), which frees what the real-time thread gave up.
 * It feeds a real-time consumer, so it runs at real-time priority too (below
 * the audio thread, when allowed): otherwise any busy process on the machine
 * could keep it off the CPU until the ring runs dry.
 *
 * It reports periods, underruns (the ring ran dry: the period played
 * silence, an audible glitch) and deadline misses (the period finished late:
 * the scheduler woke the thread late). Exit status: 0 and "audio_sim: ok"
 * when every block sent was played or freed exactly once and no period ran
 * dry; 1 when the bookkeeping is wrong; 3 when there were underruns.
 * Run it under the checker to prove the real-time section clean:
 *
 *     LD_PRELOAD=build/release/tools/libferry-rtcheck.so build/release/examples/audio_sim 2
 *
 *   cc -std=c11 audio_sim.c $(pkg-config --cflags --libs ferry) -lm
 */
/* X/Open, beyond ISO C: clock_nanosleep, SCHED_FIFO, M_PI. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/llq.h>
#include <ferry/rt.h>
#include <ferry/spsc.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000
#define FRAMES 128
#define CHANNELS 2
#define PERIOD_NS (1000000000LL * FRAMES / RATE)   /* 2,666,666 ns */
#define RING 16

typedef struct block {
    ferry_defer_node dn;        /* for the trip back to the main thread */
    uint64_t seq;
    float samples[FRAMES * CHANNELS];
} block;

typedef struct params {
    ferry_llq_node qn;          /* for the trip to the real-time thread */
    ferry_shared sh;            /* the real-time thread's reference */
    float gain;
} params;

static ferry_spsc blocks;       /* main -> rt: block pointers */
static block *blocks_buf[RING];
static ferry_llq param_q;       /* main -> rt: new parameter sets */
static ferry_defer garbage;     /* rt -> main: things to free */
static atomic_bool stop;

/* Statistics, written by the real-time thread, read after join. */
static uint64_t periods, played, underruns, misses, next_seq, out_of_order;
static int64_t worst_late_ns;
static double meter;
/* Written by the main thread's collector. */
static uint64_t blocks_freed, params_freed;

static int64_t ts_ns(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
    struct timespec t = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    return t;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);   /* vDSO: no system call */
    return ts_ns(t);
}

static void free_block(ferry_defer_node *n)
{
    free(ferry_container_of(n, block, dn));
    blocks_freed++;
}

static void destroy_params(ferry_shared *s)
{
    free(ferry_container_of(s, params, sh));
    params_freed++;
}

/* The audio callback: everything here is real-time safe. */
static void process(params **cur)
{
    /* New parameters? Keep the newest, give up the ones it replaces. */
    ferry_llq_node *n;
    while ((n = ferry_llq_pop(&param_q)) != NULL) {
        params *p = ferry_container_of(n, params, qn);
        if (*cur)
            ferry_shared_release(&(*cur)->sh);   /* last reference: deferred */
        *cur = p;
    }
    block *b;
    if (ferry_spsc_pop(&blocks, &b, 1) == 0) {
        underruns++;   /* would play silence */
        return;
    }
    if (b->seq != next_seq)
        out_of_order++;
    next_seq = b->seq + 1;
    float gain = *cur ? (*cur)->gain : 1.0f;
    double sum = 0;
    for (int i = 0; i < FRAMES * CHANNELS; i++) {
        float s = b->samples[i] * gain;
        sum += (double)s * s;
    }
    meter = 0.99 * meter + 0.01 * sum / (FRAMES * CHANNELS);
    played++;
    ferry_defer_push(&garbage, &b->dn, free_block);   /* no free() here */
}

static void *audio_thread(void *arg)
{
    (void)arg;
    params *cur = NULL;
    int64_t next = now_ns() + PERIOD_NS;
    while (!atomic_load_explicit(&stop, memory_order_acquire)) {
        /* Wait for the period outside the real-time section: sleeping is
         * how a periodic thread gives the CPU back. */
        struct timespec at = ns_ts(next);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
        }
        ferry_rt_enter();
        int64_t start = now_ns();
        process(&cur);
        int64_t done = now_ns();
        ferry_rt_exit();
        periods++;
        /* Deadline: the block must be ready by the end of this period. */
        int64_t late = done - (next + PERIOD_NS);
        if (late > 0) {
            misses++;
            if (late > worst_late_ns)
                worst_late_ns = late;
        }
        next += PERIOD_NS;
        if (start > next + PERIOD_NS)   /* far behind (machine busy): resync */
            next = start + PERIOD_NS;
    }
    if (cur) {
        ferry_rt_enter();
        ferry_shared_release(&cur->sh);
        ferry_rt_exit();
    }
    return NULL;
}

static block *make_block(uint64_t seq)
{
    block *b = malloc(sizeof *b);
    if (!b)
        abort();
    b->seq = seq;
    for (int i = 0; i < FRAMES; i++) {
        double t = (double)(seq * FRAMES + (uint64_t)i) / RATE;
        float s = (float)sin(2 * M_PI * 440.0 * t);
        b->samples[2 * i] = s;
        b->samples[2 * i + 1] = s;
    }
    return b;
}

static params *make_params(float gain)
{
    params *p = malloc(sizeof *p);
    if (!p)
        abort();
    ferry_shared_init(&p->sh, &garbage, destroy_params);
    p->gain = gain;
    return p;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (seconds <= 0)
        seconds = 1.0;
    ferry_spsc_init(&blocks, blocks_buf, sizeof blocks_buf[0], RING);
    ferry_llq_init(&param_q);
    ferry_defer_init(&garbage);

    uint64_t sent = 0, params_sent = 0;
    while (ferry_spsc_free(&blocks) > 0) {   /* pre-fill */
        block *b = make_block(sent);
        ferry_spsc_push(&blocks, &b, 1);
        sent++;
    }

    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_FIFO) + 10};
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
    pthread_attr_setschedparam(&attr, &sp);
    const char *sched = "SCHED_FIFO";
    if (pthread_create(&t, &attr, audio_thread, NULL) != 0) {
        sched = "SCHED_OTHER (no permission for SCHED_FIFO)";
        if (pthread_create(&t, NULL, audio_thread, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    pthread_attr_destroy(&attr);
    /* The refill thread (this one), just below the audio thread. */
    struct sched_param refill = {.sched_priority = sp.sched_priority - 5};
    const char *refill_sched = pthread_setschedparam(pthread_self(), SCHED_FIFO, &refill) == 0
                                   ? "SCHED_FIFO" : "SCHED_OTHER";

    int64_t end = now_ns() + (int64_t)(seconds * 1e9);
    int64_t next_param = 0;
    while (now_ns() < end) {
        while (ferry_spsc_free(&blocks) > 0) {
            block *b = make_block(sent);
            ferry_spsc_push(&blocks, &b, 1);
            sent++;
        }
        if (now_ns() >= next_param) {
            params *p = make_params(0.5f + 0.5f * (float)(params_sent % 2));
            ferry_llq_push(&param_q, &p->qn);
            params_sent++;
            next_param = now_ns() + 50 * 1000000LL;
        }
        ferry_defer_collect(&garbage);
        struct timespec nap = {0, 1000000};   /* 1 ms: well under the 16-block buffer */
        nanosleep(&nap, NULL);
    }
    atomic_store_explicit(&stop, true, memory_order_release);
    pthread_join(t, NULL);

    /* Whatever the real-time thread did not take is still ours. */
    block *b;
    uint64_t unplayed = 0;
    while (ferry_spsc_pop(&blocks, &b, 1) == 1) {
        free(b);
        unplayed++;
    }
    ferry_llq_node *n;
    while ((n = ferry_llq_pop(&param_q)) != NULL)
        ferry_shared_release(&ferry_container_of(n, params, qn)->sh);
    ferry_defer_fini(&garbage);

    printf("audio_sim: %.1f s, audio thread %s, refill thread %s, period %.3f ms\n", seconds, sched,
           refill_sched, PERIOD_NS / 1e6);
    printf("audio_sim: %llu periods, %llu blocks played, %llu underruns, "
           "%llu deadline misses (worst %.3f ms late)\n",
           (unsigned long long)periods, (unsigned long long)played,
           (unsigned long long)underruns, (unsigned long long)misses, worst_late_ns / 1e6);
    printf("audio_sim: %llu parameter sets, %llu blocks and %llu parameter sets reclaimed, "
           "level %.3f\n", (unsigned long long)params_sent, (unsigned long long)blocks_freed,
           (unsigned long long)params_freed, meter);
    bool ok = played + unplayed == sent && blocks_freed == played &&
              params_freed == params_sent && out_of_order == 0;
    if (!ok) {
        printf("audio_sim: FAILED (sent %llu, played %llu, unplayed %llu, freed %llu, "
               "out of order %llu)\n", (unsigned long long)sent, (unsigned long long)played,
               (unsigned long long)unplayed, (unsigned long long)blocks_freed,
               (unsigned long long)out_of_order);
        return 1;
    }
    if (underruns) {
        printf("audio_sim: FAILED: %llu underruns (the main thread did not refill the ring in time)\n",
               (unsigned long long)underruns);
        return 3;
    }
    printf("audio_sim: ok\n");
    return 0;
}
