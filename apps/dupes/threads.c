/* SPDX-License-Identifier: MIT */
/* Starting and joining the stage threads (threads.h). */
#include "threads.h"

#include "debug.h"
#include "msg.h"
#include "signals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Stacks: every stage keeps its buffers on the heap, so 512 KiB is plenty
 * (the deepest frames are a PATH_MAX piece in path_open and vfprintf) and
 * a thousand readers do not reserve 8 GiB of address space; SQLite, in the
 * writer, gets 2 MiB. */
#define STAGE_STACK (512u << 10)
#define WRITER_STACK (2u << 20)

static int start(pthread_t *t, void *(*fn)(void *), void *arg, size_t stack)
{
    if (debug_fail(FAIL_THREAD))
        return EAGAIN;
    pthread_attr_t a;
    int r = pthread_attr_init(&a);
    if (r == 0) {
        pthread_attr_setstacksize(&a, stack);
        r = pthread_create(t, &a, fn, arg);
        pthread_attr_destroy(&a);
    }
    return r;
}

static void cannot(const char *what, int err)
{
    msg("cannot start the %s thread: %s", what, strerror(err));
}

/* Start up to n threads of one kind: the number started. clone() takes
 * the thread's handles, drop() gives them back when it did not start. */
static unsigned start_pool(struct threads *t, struct dupes *d, pthread_t *ts, unsigned n, const char *what,
                           void *(*fn)(void *), void *(*arg)(struct threads *, struct dupes *, unsigned),
                           void (*clone)(struct dupes *), void (*drop)(struct dupes *, void *))
{
    unsigned i;
    for (i = 0; i < n; i++) {
        void *a = arg(t, d, i);
        int r = a ? 0 : ENOMEM;
        if (a) {
            clone(d);
            r = start(&ts[i], fn, a, STAGE_STACK);
            if (r)
                drop(d, a);
        }
        if (r) {
            if (i == 0)
                cannot(what, r);
            else
                msg("started only %u of %u %s threads: %s", i, n, what, strerror(r));
            break;
        }
    }
    return i;
}

static void reader_clone(struct dupes *d)
{
    ferry_rx_clone(d->jobs_rx);
    ferry_tx_clone(d->results_tx);
}

static void reader_drop(struct dupes *d, void *arg)
{
    ferry_rx_release(d->jobs_rx);
    ferry_tx_release(d->results_tx);
    reader_free(arg);
}

static void *reader_arg(struct threads *t, struct dupes *d, unsigned i)
{
    (void)t;
    (void)i;
    return reader_new(d);
}

static void walker_clone(struct dupes *d)
{
    ferry_rx_clone(d->dirs_rx);
    ferry_tx_clone(d->dirs_tx);
    ferry_tx_clone(d->entries_tx);
}

static void walker_drop(struct dupes *d, void *arg)
{
    ferry_rx_release(d->dirs_rx);
    ferry_tx_release(d->dirs_tx);
    ferry_tx_release(d->entries_tx);
    walker_free(((struct walker_arg *)arg)->w);
}

static void *walker_arg(struct threads *t, struct dupes *d, unsigned i)
{
    struct walker *w = walker_new(d, &d->arenas[i]);
    t->wargs[i] = (struct walker_arg){ .d = d, .arena = &d->arenas[i], .w = w };
    return w ? &t->wargs[i] : NULL;
}

/* The matcher and the grouper: each sends jobs, results (grouper) and rows. */
static void sender_clone(struct dupes *d, bool grouper)
{
    if (grouper)
        ferry_rx_clone(d->entries_rx);
    else
        ferry_rx_clone(d->results_rx);
    ferry_tx_clone(d->jobs_tx);
    if (grouper)
        ferry_tx_clone(d->results_tx);
    if (d->rows_tx)
        ferry_tx_clone(d->rows_tx);
}

static void sender_drop(struct dupes *d, bool grouper)
{
    if (grouper)
        ferry_rx_release(d->entries_rx);
    else
        ferry_rx_release(d->results_rx);
    ferry_tx_release(d->jobs_tx);
    if (grouper)
        ferry_tx_release(d->results_tx);
    if (d->rows_tx)
        ferry_tx_release(d->rows_tx);
}

static bool start_one(struct dupes *d, pthread_t *th, const char *what, void *(*fn)(void *),
                      bool grouper)
{
    sender_clone(d, grouper);
    int r = start(th, fn, d, STAGE_STACK);
    if (r) {
        sender_drop(d, grouper);
        cannot(what, r);
    }
    return r == 0;
}

int threads_start(struct dupes *d, struct threads *t)
{
    const struct options *o = d->opt;
    *t = (struct threads){ 0 };
    t->walkers = calloc(o->walkers, sizeof *t->walkers);
    t->readers = calloc(o->threads, sizeof *t->readers);
    t->wargs = calloc(o->walkers, sizeof *t->wargs);
    d->arenas = calloc(o->walkers, sizeof *d->arenas);
    d->nwalkers = o->walkers;
    bool ok = t->walkers && t->readers && t->wargs && d->arenas;
    /* The roots' directories start the walk (their records come from the
     * first walker's arena, before it runs). */
    size_t queued = 0; /* (a deferred PATH waits: overlap.h) */
    for (int i = 0; i < d->nroots; i++)
        queued += !d->roots[i].deferred;
    atomic_store_explicit(&d->pending_dirs, queued, memory_order_relaxed);
    for (int i = 0; i < d->nroots && ok; i++) {
        if (d->roots[i].deferred)
            continue;
        struct dir *top = walk_root_dir(d, &d->roots[i], &d->arenas[0]);
        ok = top && ferry_send(d->dirs_tx, &top, 1) == 1;
    }
    if (!ok)
        msg("out of memory");
    signals_block(); /* the threads inherit the mask: only main takes signals */
    if (ok && d->index) {
        ferry_rx_clone(d->rows_rx);
        int r = start(&t->writer, writer_main, d, WRITER_STACK);
        if (r) {
            ferry_rx_release(d->rows_rx);
            cannot("index writer", r);
        }
        ok = t->writer_started = r == 0;
    }
    if (ok)
        ok = t->matcher_started = start_one(d, &t->matcher, "matcher", matcher_main, false);
    if (ok)
        ok = t->grouper_started = start_one(d, &t->grouper, "grouper", grouper_main, true);
    else if (t->matcher_started) /* it waits for the grouper's END: it drains and ends */
        ferry_tx_close(d->results_tx); /* (a send of END could fail: out of memory) */
    /* Then the pools: with the stages above running, a pool that could not
     * start at all drains through them (the grouper ends its walk with no
     * entries, the matcher with no results). */
    if (ok)
        ok = (t->nreaders = start_pool(t, d, t->readers, o->threads, "reader", reader_main, reader_arg,
                                       reader_clone, reader_drop)) > 0;
    if (ok)
        ok = (t->nwalkers = start_pool(t, d, t->walkers, o->walkers, "walker", walker_main, walker_arg,
                                       walker_clone, walker_drop)) > 0;
    signals_unblock();
    if (!ok) /* the stages that started drain at once */
        dupes_fail(d);
    /* main's own handles: only dirs_tx stays (to close the queue on Ctrl-C) */
    ferry_rx_release(d->dirs_rx);
    ferry_tx_release(d->entries_tx);
    ferry_rx_release(d->entries_rx);
    ferry_tx_release(d->jobs_tx);
    ferry_rx_release(d->jobs_rx);
    ferry_tx_release(d->results_tx);
    ferry_rx_release(d->results_rx);
    if (d->rows_tx) {
        ferry_tx_release(d->rows_tx);
        ferry_rx_release(d->rows_rx);
    }
    return ok ? 0 : -1;
}

void threads_kick_readers(struct threads *t)
{
    for (unsigned i = t->readers_joined; i < t->nreaders; i++)
        signals_kick(t->readers[i]);
}

/* Join th; while the run is stopping, kick the readers every KICK_MS: one
 * blocked in a read holds up the others (the matcher waits for its
 * result, the grouper for room among the jobs). */
#define KICK_MS 100
static void join(struct threads *t, struct dupes *d, pthread_t th)
{
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until); /* (pthread_timedjoin_np's clock) */
        until.tv_nsec += KICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (pthread_timedjoin_np(th, NULL, &until) != ETIMEDOUT)
            return;
        if (atomic_load_explicit(&d->stop, memory_order_relaxed)) /* (relaxed: polled again) */
            threads_kick_readers(t);
    }
}

void threads_join(struct threads *t, struct dupes *d)
{
    for (unsigned i = 0; i < t->nwalkers; i++)
        join(t, d, t->walkers[i]);
    if (t->grouper_started)
        join(t, d, t->grouper);
    for (; t->readers_joined < t->nreaders; t->readers_joined++)
        join(t, d, t->readers[t->readers_joined]);
    if (t->matcher_started)
        join(t, d, t->matcher);
    if (t->writer_started)
        join(t, d, t->writer);
    free(t->walkers);
    free(t->readers);
    free(t->wargs);
}
