/* SPDX-License-Identifier: MIT */
/* uv_pipeline: a libuv loop that feeds worker threads and collects their
 * results through two ferry channels, without ever blocking.
 *
 *   loop --ferry_send_start--> [jobs]    --ferry_recv (blocking)--> workers
 *   loop <--ferry_recv_start-- [results] <--ferry_send (blocking)-- workers
 *
 * Both async ops share one uv_async_t: their wakers call uv_async_send(),
 * which may be called from any thread and coalesces (several wakes before the
 * loop gets round to it run the callback once). So the callback looks at
 * every op, and re-arms each until it stays pending. A uv_timer_t watchdog
 * runs on the same loop.
 *
 * Shutdown follows the channels: once every job is sent the loop releases
 * the jobs sender; the workers drain the jobs, see 0, and release the results
 * sender; the loop's receive then completes with 0 and the loop closes its
 * handles. The program checks that every job's result arrived exactly once
 * and is correct. Exit status 0 when every check passed.
 *
 *   cc -std=c11 uv_pipeline.c $(pkg-config --cflags --libs ferry) $(pkg-config --cflags --libs libuv) && ./a.out
 */
/* POSIX, beyond ISO C: what uv.h needs (pthread_rwlock_t, ...). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <ferry/chan.h>
#include <ferry/op.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define WORKERS 2
#define JOBS 100000
#define JOB_BATCH 64     /* jobs per async send                      */
#define RESULT_BATCH 64  /* results per async receive                */
#define JOBS_CAPACITY 128
#define RESULTS_CAPACITY 256
#define RECV_BUDGET 16   /* batches per callback before yielding     */
#define WATCHDOG_MS 1500

struct result {
    uint64_t job;
    uint64_t value;
};

static uint64_t work(uint64_t job) { return job * job + 1; }

/* ------------------------------------------------------------------------ */
/* Workers: blocking calls on both channels                                 */

struct worker {
    pthread_t thread;
    ferry_rx *jobs;    /* own clones, released when done */
    ferry_tx *results;
};

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    uint64_t jobs[32];
    struct result out[32];
    ssize_t n;
    /* Blocks while there are no jobs; 0 once the loop released the jobs
     * sender and the jobs are drained. */
    while ((n = ferry_recv(wk->jobs, jobs, 32)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            out[i] = (struct result){jobs[i], work(jobs[i])};
        if (ferry_send(wk->results, out, (size_t)n) != n)
            break; /* the loop is gone (it gave up) */
    }
    ferry_rx_release(wk->jobs);
    ferry_tx_release(wk->results); /* the last one closes the results channel */
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The loop side                                                            */

struct app {
    uv_loop_t loop;
    uv_async_t async; /* both ops' wakers poke it */
    uv_timer_t watchdog;
    atomic_ulong wakes; /* waker calls, to show the coalescing */
    unsigned long callbacks;

    /* Sending jobs. */
    ferry_tx *jobs_tx; /* NULL once released */
    ferry_op send_op;
    bool send_started; /* send_op has been started at least once */
    bool send_armed;
    uint64_t send_buf[JOB_BATCH]; /* must stay valid while the send is pending */
    size_t send_len;
    uint64_t next_job;
    unsigned long sends_immediate, sends_woken;

    /* Receiving results. */
    ferry_rx *results_rx;
    ferry_op recv_op;
    bool recv_armed;
    bool results_closed;
    struct result recv_buf[RESULT_BATCH];
    unsigned long recvs_immediate, recvs_woken;

    unsigned char *seen;
    uint64_t received, errors;
    bool finished;
};

/* The waker, for both ops. It runs on the thread that completes the op (a
 * worker inside ferry_recv or ferry_send, or the last worker releasing its
 * results sender), outside the channel's lock. uv_async_send is the one libuv
 * call that is safe from any thread. */
static void wake_loop(void *ctx)
{
    struct app *a = ctx;
    atomic_fetch_add_explicit(&a->wakes, 1, memory_order_relaxed);
    uv_async_send(&a->async);
}

static ferry_waker app_waker(struct app *a) { return (ferry_waker){.wake = wake_loop, .ctx = a}; }

static void fail(struct app *a, const char *msg, ssize_t r)
{
    fprintf(stderr, "%s: %zd (%s)\n", msg, r, r < 0 ? strerror((int)-r) : "short count");
    a->errors++;
}

/* A send finished: all send_len jobs are with the workers, or the channel
 * refused (which cannot happen while the workers are alive). */
static void sent(struct app *a, ssize_t r)
{
    if (r != (ssize_t)a->send_len)
        fail(a, "sending jobs", r);
    else
        a->next_job += a->send_len;
}

/* Start sends until one stays pending or every job is out. */
static void feed(struct app *a)
{
    while (!a->send_armed && a->jobs_tx) {
        if (a->next_job == JOBS || a->errors) {
            /* Every job is out. The last send op's waker may still be
             * running on a worker (we can learn of a completion before its
             * waker is done, through the shared async handle): cancelling a
             * completed op returns its result and waits for that waker to
             * return. Do it while the handle is still held; then release. */
            if (a->send_started)
                ferry_op_cancel(&a->send_op);
            ferry_tx_release(a->jobs_tx); /* the workers drain, then get 0 */
            a->jobs_tx = NULL;
            return;
        }
        size_t n = 0;
        while (n < JOB_BATCH && a->next_job + n < JOBS) {
            a->send_buf[n] = a->next_job + n;
            n++;
        }
        a->send_len = n;
        ssize_t r = ferry_send_start(a->jobs_tx, &a->send_op, a->send_buf, n, app_waker(a));
        a->send_started = true;
        if (r == -EINPROGRESS) {
            a->send_armed = true; /* some jobs may have moved already */
            return;
        }
        a->sends_immediate++; /* completed at once: the waker is not called */
        sent(a, r);
    }
}

/* A receive finished: a batch of results, or 0 once every worker is done. */
static void got(struct app *a, ssize_t r)
{
    if (r <= 0) {
        if (r < 0)
            fail(a, "receiving results", r);
        a->results_closed = true;
        return;
    }
    for (ssize_t i = 0; i < r; i++) {
        const struct result *res = &a->recv_buf[i];
        if (res->job >= JOBS || a->seen[res->job] || res->value != work(res->job)) {
            if (a->errors++ < 5)
                fprintf(stderr, "bad result: job %" PRIu64 " value %" PRIu64 "\n", res->job, res->value);
            continue;
        }
        a->seen[res->job] = 1;
        a->received++;
    }
}

/* Start receives until one stays pending; yield after RECV_BUDGET batches
 * so that the loop's other handles get a turn (poking our own async handle
 * brings us back). */
static void drain(struct app *a)
{
    for (int budget = RECV_BUDGET; !a->recv_armed && !a->results_closed; budget--) {
        if (budget == 0) {
            uv_async_send(&a->async);
            return;
        }
        ssize_t r = ferry_recv_start(a->results_rx, &a->recv_op, a->recv_buf, RESULT_BATCH, app_waker(a));
        if (r == -EINPROGRESS) {
            a->recv_armed = true;
            return;
        }
        a->recvs_immediate++;
        got(a, r);
    }
}

static void finish(struct app *a)
{
    if (a->finished)
        return;
    a->finished = true;
    /* Closing the async handle is safe only once no waker can call
     * uv_async_send on it: cancel whatever is still pending (it reports what
     * moved) and, for ops already complete, let the cancel wait out a waker
     * that may still be running. */
    if (a->send_armed) {
        ssize_t r = ferry_op_cancel(&a->send_op);
        fprintf(stderr, "cancelled a pending send: %zd of %zu jobs had been taken\n", r, a->send_len);
        a->send_armed = false;
    }
    if (a->jobs_tx) {
        if (a->send_started)
            ferry_op_cancel(&a->send_op);
        ferry_tx_release(a->jobs_tx);
        a->jobs_tx = NULL;
    }
    ssize_t r = ferry_op_cancel(&a->recv_op); /* started by the first drain() */
    if (a->recv_armed && r > 0)
        got(a, r); /* results that raced with the cancel are kept */
    a->recv_armed = false;
    uv_close((uv_handle_t *)&a->async, NULL);
    uv_close((uv_handle_t *)&a->watchdog, NULL);
}

/* Runs on the loop thread after one or more uv_async_send calls. */
static void on_async(uv_async_t *h)
{
    struct app *a = h->data;
    ssize_t r;
    a->callbacks++;
    /* Coalesced: any of the ops may have completed, or none (a yield, or a
     * late wake for an op we already handled). A completed op is finished:
     * its items were moved by the counterpart, nothing to re-poll. */
    if (a->send_armed && (r = ferry_op_result(&a->send_op)) != -EINPROGRESS) {
        a->send_armed = false;
        a->sends_woken++;
        sent(a, r);
    }
    if (a->recv_armed && (r = ferry_op_result(&a->recv_op)) != -EINPROGRESS) {
        a->recv_armed = false;
        a->recvs_woken++;
        got(a, r);
    }
    feed(a);
    drain(a);
    if (a->results_closed && !a->send_armed && !a->jobs_tx)
        finish(a);
}

static void on_watchdog(uv_timer_t *t)
{
    struct app *a = t->data;
    fprintf(stderr, "watchdog: not done after %d ms\n", WATCHDOG_MS);
    a->errors++;
    finish(a);
}

int main(void)
{
    static struct app app; /* large; static keeps it off the stack */
    struct app *a = &app;
    a->seen = calloc(JOBS, 1);
    if (!a->seen)
        return 2;

    ferry_tx *results_tx;
    ferry_rx *jobs_rx;
    ferry_chan_config jobs_cfg = {.elem_size = sizeof(uint64_t), .capacity = JOBS_CAPACITY, .name = "jobs"};
    ferry_chan_config results_cfg = {
        .elem_size = sizeof(struct result), .capacity = RESULTS_CAPACITY, .name = "results"};
    if (ferry_chan_open(&jobs_cfg, &a->jobs_tx, &jobs_rx) < 0 ||
        ferry_chan_open(&results_cfg, &results_tx, &a->results_rx) < 0) {
        fprintf(stderr, "ferry_chan_open failed\n");
        return 2;
    }

    if (uv_loop_init(&a->loop) != 0 || uv_async_init(&a->loop, &a->async, on_async) != 0 ||
        uv_timer_init(&a->loop, &a->watchdog) != 0) {
        fprintf(stderr, "libuv init failed\n");
        return 2;
    }
    a->async.data = a;
    a->watchdog.data = a;
    uv_timer_start(&a->watchdog, on_watchdog, WATCHDOG_MS, 0);

    struct worker workers[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        workers[i] = (struct worker){.jobs = ferry_rx_clone(jobs_rx), .results = ferry_tx_clone(results_tx)};
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            return 2;
    }
    ferry_rx_release(jobs_rx); /* only the workers hold these now */
    ferry_tx_release(results_tx);

    uint64_t t0 = uv_hrtime();
    feed(a); /* start both ops; from now on on_async drives them */
    drain(a);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    double ms = (double)(uv_hrtime() - t0) / 1e6;

    /* If the loop gave up early, workers may be blocked sending results:
     * releasing the receiver makes their sends fail so that they exit. */
    if (!a->results_closed) {
        ferry_rx_release(a->results_rx);
        a->results_rx = NULL;
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i].thread, NULL);
    if (a->results_rx)
        ferry_rx_release(a->results_rx);
    uv_loop_close(&a->loop);

    if (a->received != JOBS) {
        fprintf(stderr, "%" PRIu64 " of %d results received\n", a->received, JOBS);
        a->errors++;
    }
    printf("uv_pipeline: %" PRIu64 " jobs sent to %d workers in %lu+%lu async sends (at once + after a wake), "
           "%" PRIu64 " results in %lu+%lu async receives, %lu wakes -> %lu async callbacks, %.1f ms, %s\n",
           a->next_job, WORKERS, a->sends_immediate, a->sends_woken, a->received, a->recvs_immediate,
           a->recvs_woken, (unsigned long)atomic_load(&a->wakes), a->callbacks, ms, a->errors ? "FAILED" : "ok");
    free(a->seen);
    return a->errors ? 1 : 0;
}
