/* SPDX-License-Identifier: MIT */
/* epoll_pipeline: worker threads feed a ferry channel; an epoll event loop
 * consumes it without ever blocking inside ferry.
 *
 *   workers --ferry_send (blocking)--> [channel] --ferry_recv_start--> event loop
 *                                                   waker: write(eventfd)
 *   The loop's epoll set: the eventfd (the receive op completed) and a
 *   timerfd (periodic statistics, and the stop time of round 2).
 *
 * Round 1: every worker sends a fixed number of items and releases its
 * sender; the last release closes the channel and the pending op completes
 * with 0, which ends the loop.
 * Round 2: the workers send without end (pausing between batches, as if
 * they computed something); after a while the loop stops: it
 * cancels its pending op (keeping any items the cancel reports), then
 * releases the receiver. The workers' ferry_send calls return what they sent
 * (or -EPIPE) and the items still buffered go to the channel's drop callback.
 *
 * Both rounds check that every item sent was received or dropped exactly
 * once, in per-worker order. Exit status 0 when every check passed.
 *
 *   cc -std=c11 epoll_pipeline.c $(pkg-config --cflags --libs ferry) && ./a.out [-v]
 */
/* POSIX, beyond ISO C: clock_gettime, nanosleep (epoll, eventfd and timerfd are Linux). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <ferry/chan.h>
#include <ferry/op.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4
#define ITEMS_PER_WORKER 50000 /* round 1 */
#define SEND_BATCH 32
#define RECV_BATCH 64
#define CAPACITY 1024
#define TICK_MS 20
#define ROUND2_MS 100    /* round 2 stops after this long           */
#define WATCHDOG_MS 1500 /* a round that takes longer has failed     */
#define READY_BUDGET 16  /* batches per wakeup before serving other fds */

static bool verbose;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* ------------------------------------------------------------------------ */
/* Items and the exactly-once check                                         */

/* An item: the worker's id in the high half, its sequence number in the low. */
static uint64_t item_make(unsigned worker, uint64_t seq) { return (uint64_t)worker << 32 | (uint32_t)seq; }

struct tally {
    uint64_t next[WORKERS]; /* the sequence number due next from each worker */
    uint64_t received, dropped, errors;
};

/* Items of one worker must arrive in order, each once: anything else (a
 * duplicate, a gap, a reordering) shows up as an unexpected number. */
static void tally_item(struct tally *t, uint64_t item)
{
    unsigned w = (unsigned)(item >> 32);
    uint32_t seq = (uint32_t)item;
    if (w >= WORKERS || seq != (uint32_t)t->next[w]) {
        if (t->errors++ < 5)
            fprintf(stderr, "bad item: worker %u seq %" PRIu32 "\n", w, seq);
        return;
    }
    t->next[w]++;
}

/* The channel's drop callback: buffered items nobody will receive, handed
 * over by the last ferry_rx_release (on its thread, under the channel's lock). */
static void on_drop(void *item, void *ctx)
{
    struct tally *t = ctx;
    uint64_t v;
    memcpy(&v, item, sizeof v);
    tally_item(t, v);
    t->dropped++;
}

/* ------------------------------------------------------------------------ */
/* Workers: plain blocking sends                                            */

struct worker {
    pthread_t thread;
    unsigned id;
    ferry_tx *tx;   /* its own clone, released when it is done */
    uint64_t limit; /* items to send; UINT64_MAX: until refused */
    long pause_us;  /* "work" between batches                  */
    uint64_t sent;  /* items the channel accepted             */
};

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    uint64_t batch[SEND_BATCH];
    while (wk->sent < wk->limit) {
        size_t n = 0;
        while (n < SEND_BATCH && wk->sent + n < wk->limit) {
            batch[n] = item_make(wk->id, wk->sent + n);
            n++;
        }
        ssize_t r = ferry_send(wk->tx, batch, n); /* blocks while the channel is full */
        if (r > 0)
            wk->sent += (uint64_t)r;
        if (r != (ssize_t)n)
            break; /* -EPIPE or a short count: the receiver is gone */
        if (wk->pause_us)
            nanosleep(&(struct timespec){0, wk->pause_us * 1000}, NULL);
    }
    ferry_tx_release(wk->tx); /* the last release closes the channel */
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The event loop                                                           */

struct loop {
    int epfd, efd, tfd;
    ferry_rx *rx;
    ferry_op op;              /* the receive in flight, when armed     */
    bool armed;               /* op started and its result not yet used */
    bool closed;              /* a receive returned 0: drained for good */
    uint64_t buf[RECV_BATCH]; /* op's output; must live while armed     */
    struct tally *tally;
    uint64_t batches, immediate, woken, yields, ticks;
    ssize_t cancelled; /* what the shutdown cancel returned; -1: none */
};

/* The waker. It runs on whichever thread completes the op -- a worker inside
 * ferry_send, or the thread whose release closed the channel -- after the
 * channel's lock is dropped. Keep it short and non-blocking. */
static void wake_loop(void *ctx)
{
    struct loop *lp = ctx;
    uint64_t one = 1;
    /* EAGAIN only if the counter is saturated, and then it is readable. */
    if (write(lp->efd, &one, sizeof one) < 0 && errno != EAGAIN)
        die("write(eventfd)");
}

/* One finished receive: a count, or 0 once closed and drained. */
static void consume(struct loop *lp, ssize_t r)
{
    if (r == 0) {
        lp->closed = true;
        return;
    }
    if (r < 0) { /* -EPIPE cannot happen while we hold the receiver */
        fprintf(stderr, "receive failed: %s\n", strerror((int)-r));
        lp->tally->errors++;
        lp->closed = true;
        return;
    }
    for (ssize_t i = 0; i < r; i++)
        tally_item(lp->tally, lp->buf[i]);
    lp->tally->received += (uint64_t)r;
    lp->batches++;
}

/* Start receives until one stays pending. A start that completes at once
 * returns its result and never calls the waker, so handle it here and go
 * round again. After READY_BUDGET batches, give the other fds a turn: leave
 * the op unarmed and make the eventfd readable ourselves. */
static void arm(struct loop *lp)
{
    for (int budget = READY_BUDGET; !lp->armed && !lp->closed; budget--) {
        if (budget == 0) {
            wake_loop(lp);
            lp->yields++;
            return;
        }
        ssize_t r = ferry_recv_start(lp->rx, &lp->op, lp->buf, RECV_BATCH,
                                     (ferry_waker){.wake = wake_loop, .ctx = lp});
        if (r == -EINPROGRESS) {
            lp->armed = true; /* wake_loop will run once it completes */
            return;
        }
        lp->immediate++;
        consume(lp, r);
    }
}

/* The eventfd is readable: the op completed (or we yielded to ourselves). */
static void on_channel_ready(struct loop *lp)
{
    uint64_t cnt;
    if (read(lp->efd, &cnt, sizeof cnt) < 0 && errno != EAGAIN)
        die("read(eventfd)");
    if (lp->armed) {
        /* The op is complete when woken: the items are already in buf (the
         * sender copied them there); no second call into the channel. */
        ssize_t r = ferry_op_result(&lp->op);
        if (r == -EINPROGRESS)
            return; /* a late wake of an earlier op (or a shared eventfd) */
        lp->armed = false;
        lp->woken++;
        consume(lp, r);
    }
    arm(lp);
}

static void on_tick(struct loop *lp)
{
    uint64_t expirations;
    if (read(lp->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        die("read(timerfd)");
    lp->ticks += expirations;
    struct ferry_chan_stats st;
    if (verbose && ferry_chan_stats(lp->rx, &st) == 0)
        printf("  tick %3" PRIu64 ": received %8" PRIu64 ", buffered %4zu, senders %zu, blocked sends %" PRIu64 "\n",
               lp->ticks, lp->tally->received, st.len, st.senders, st.sends_blocked);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run until the channel closes, or until stop_ms have passed (0: no stop). */
static int run_loop(struct loop *lp, uint64_t stop_ms)
{
    uint64_t start = now_ms();
    arm(lp);
    while (!lp->closed) {
        struct epoll_event ev[4];
        int n = epoll_wait(lp->epfd, ev, 4, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == lp->efd)
                on_channel_ready(lp);
            else if (ev[i].data.fd == lp->tfd)
                on_tick(lp);
        }
        uint64_t elapsed = now_ms() - start;
        if (stop_ms && elapsed >= stop_ms)
            break;
        if (elapsed >= WATCHDOG_MS) {
            fprintf(stderr, "watchdog: the round took more than %d ms\n", WATCHDOG_MS);
            lp->tally->errors++;
            break;
        }
    }
    /* Shutting down with an op in flight: withdraw it. The cancel returns
     * what it had already moved (a receive completed by a racing sender
     * returns its count) and afterwards the waker will not run, so the
     * eventfd and the loop may go away. */
    if (lp->armed) {
        ssize_t r = ferry_op_cancel(&lp->op);
        lp->armed = false;
        lp->cancelled = r;
        if (r != 0)
            consume(lp, r);
    }
    return 0;
}

static void loop_init(struct loop *lp, ferry_rx *rx, struct tally *t)
{
    memset(lp, 0, sizeof *lp);
    lp->cancelled = -1;
    lp->rx = rx;
    lp->tally = t;
    lp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    lp->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (lp->efd < 0 || lp->tfd < 0 || lp->epfd < 0)
        die("eventfd/timerfd/epoll");
    struct itimerspec its = {.it_interval = {0, TICK_MS * 1000000L}, .it_value = {0, TICK_MS * 1000000L}};
    if (timerfd_settime(lp->tfd, 0, &its, NULL) < 0)
        die("timerfd_settime");
    int fds[2] = {lp->efd, lp->tfd};
    for (int i = 0; i < 2; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
            die("epoll_ctl");
    }
}

static void loop_fini(struct loop *lp)
{
    close(lp->epfd);
    close(lp->tfd);
    close(lp->efd);
}

/* ------------------------------------------------------------------------ */

/* One round: `limit` items per worker (UINT64_MAX: until stopped after
 * stop_ms), pausing pause_us between batches. Returns 1 if a check failed. */
static int round_run(const char *name, uint64_t limit, long pause_us, uint64_t stop_ms)
{
    struct tally tally = {0};
    ferry_chan_config cfg = {
        .elem_size = sizeof(uint64_t),
        .capacity = CAPACITY,
        .drop = on_drop,
        .drop_ctx = &tally,
        .name = "epoll_pipeline",
    };
    ferry_tx *tx;
    ferry_rx *rx;
    int rc = ferry_chan_open(&cfg, &tx, &rx);
    if (rc < 0) {
        fprintf(stderr, "ferry_chan_open: %s\n", strerror(-rc));
        return 1;
    }

    struct worker workers[WORKERS];
    for (unsigned i = 0; i < WORKERS; i++) {
        workers[i] = (struct worker){.id = i, .tx = ferry_tx_clone(tx), .limit = limit, .pause_us = pause_us};
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            die("pthread_create");
    }
    ferry_tx_release(tx); /* only the workers send: the channel closes when they are done */

    struct loop lp;
    loop_init(&lp, rx, &tally);
    uint64_t t0 = now_ms();
    run_loop(&lp, stop_ms);
    uint64_t ms = now_ms() - t0;

    /* Stopped early (round 2): workers may be blocked in ferry_send.
     * Releasing the receiver ends their sends (a short count or -EPIPE) and
     * hands what is still buffered to on_drop. Closed (round 1): the workers
     * are finishing; join them first, then release. */
    if (!lp.closed) {
        ferry_rx_release(rx);
        rx = NULL;
    }
    uint64_t sent = 0;
    for (unsigned i = 0; i < WORKERS; i++) {
        pthread_join(workers[i].thread, NULL);
        sent += workers[i].sent;
        if (tally.next[i] != workers[i].sent) {
            fprintf(stderr, "%s: worker %u sent %" PRIu64 " items, %" PRIu64 " were received or dropped\n", name,
                    i, workers[i].sent, tally.next[i]);
            tally.errors++;
        }
    }
    if (rx)
        ferry_rx_release(rx);
    loop_fini(&lp);

    if (limit != UINT64_MAX && sent != limit * WORKERS) {
        fprintf(stderr, "%s: %" PRIu64 " items sent, %" PRIu64 " expected\n", name, sent, limit * WORKERS);
        tally.errors++;
    }
    if (tally.received + tally.dropped != sent) {
        fprintf(stderr, "%s: %" PRIu64 " received + %" PRIu64 " dropped != %" PRIu64 " sent\n", name,
                tally.received, tally.dropped, sent);
        tally.errors++;
    }
    printf("%s: %" PRIu64 " items sent by %d workers, %" PRIu64 " received in %" PRIu64 " batches "
           "(%" PRIu64 " at once, %" PRIu64 " after a wake), %" PRIu64 " dropped, %" PRIu64 " ms, %s\n",
           name, sent, WORKERS, tally.received, lp.batches, lp.immediate, lp.woken, tally.dropped, ms,
           tally.errors ? "FAILED" : "ok");
    if (lp.cancelled >= 0)
        printf("  shutdown cancelled the pending receive; the cancel returned %zd\n", lp.cancelled);
    return tally.errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    int failed = 0;
    failed += round_run("round 1 (run until closed)", ITEMS_PER_WORKER, 0, 0);
    failed += round_run("round 2 (stop and cancel) ", UINT64_MAX, 100, ROUND2_MS);
    return failed ? 1 : 0;
}
