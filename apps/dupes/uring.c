/* SPDX-License-Identifier: MIT */
/* The io_uring reader (--io uring): one thread keeps many files in flight
 * on one ring -- up to 4 x --threads, one read each at a time (partial jobs:
 * both blocks at once) -- and hashes each chunk as it completes. Files are
 * opened and re-stat'ed synchronously (read.h), exactly as the pread
 * readers do; only the data reads go through the ring. See docs/dupes.md
 * for how it compares with the pread threads. */
#include "debug.h"
#include "dupes.h"
#include "hash.h"
#include "msg.h"
#include "path.h"
#include "read.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UCHUNK (256u * 1024u)
#define MAX_SLOTS 1024

struct slot {
    struct job job;
    int fd;
    unsigned pending;    /* reads in flight */
    uint64_t off;        /* full: bytes hashed so far */
    uint8_t status;
    bool busy;
    uint8_t *buf;        /* UCHUNK bytes (>= 2 * BLK) */
    uint8_t tail[BLK];
    struct hasher h, hp;
};

struct uring {
    struct dupes *d;
    struct io_uring ring;
    struct slot *slots;
    unsigned nslots, inflight;
    struct result res[MAX_SLOTS];
    size_t nres;
    struct buf path;
};

/* user_data: slot index << 1 | which block (partial jobs of big files) */
static void submit_read(struct uring *u, unsigned i, uint8_t *p, size_t len, uint64_t off, unsigned tag)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) { /* full: push what is queued, then there is room */
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    io_uring_prep_read(sqe, u->slots[i].fd, p, (unsigned)len, off);
    io_uring_sqe_set_data64(sqe, (uint64_t)i << 1 | tag);
    u->slots[i].pending++;
}

static void finish(struct uring *u, unsigned i)
{
    struct slot *s = &u->slots[i];
    struct node *n = s->job.node;
    if (s->status == ST_OK)
        s->status = read_restat(u->d, n, s->fd);
    close(s->fd);
    if (s->status == ST_OK && debug.read_log >= 0) {
        size_t len = 0;
        const char *p = node_out_path(n, &u->path, &len);
        if (p)
            debug_log_read(s->job.kind == JOB_PARTIAL ? 'P' : 'F', p, len);
    }
    atomic_fetch_add_explicit(s->job.kind == JOB_PARTIAL ? &u->d->c.partial_reads : &u->d->c.full_reads,
                              1, memory_order_relaxed);
    u->res[u->nres++] = (struct result){ .node = n, .status = s->status, .links = s->job.links,
                                         .kind = s->job.kind == JOB_PARTIAL ? RES_PARTIAL : RES_FULL };
    s->busy = false;
    u->inflight--;
}

static void next_full_chunk(struct uring *u, unsigned i)
{
    struct slot *s = &u->slots[i];
    uint64_t size = s->job.node->size;
    size_t want = size - s->off < UCHUNK ? (size_t)(size - s->off) : UCHUNK;
    submit_read(u, i, s->buf, want, s->off, 0);
}

static void start_job(struct uring *u, const struct job *j)
{
    struct dupes *d = u->d;
    unsigned i = 0;
    while (u->slots[i].busy)
        i++;
    struct slot *s = &u->slots[i];
    s->job = *j;
    s->busy = true;
    s->pending = 0;
    s->off = 0;
    s->status = ST_OK;
    u->inflight++;
    struct node *n = j->node;
    if (atomic_load_explicit(&d->stop, memory_order_relaxed)) {
        s->status = ST_DROPPED;
        s->fd = -1;
    } else
        s->fd = read_open(d, n, &s->status);
    if (s->fd < 0) {
        u->res[u->nres++] = (struct result){ .node = n, .status = s->status, .links = j->links,
                                             .kind = j->kind == JOB_PARTIAL ? RES_PARTIAL : RES_FULL };
        s->busy = false;
        u->inflight--;
        return;
    }
    if (j->kind == JOB_FULL) {
        posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        next_full_chunk(u, i);
    } else if (n->size <= 2 * BLK)
        submit_read(u, i, s->buf, n->size, 0, 0);
    else {
        submit_read(u, i, s->buf, BLK, 0, 0);
        submit_read(u, i, s->buf + BLK, BLK, n->size - BLK, 1);
    }
}

static void complete(struct uring *u, struct io_uring_cqe *cqe)
{
    unsigned i = (unsigned)(io_uring_cqe_get_data64(cqe) >> 1);
    struct slot *s = &u->slots[i];
    struct node *n = s->job.node;
    int res = cqe->res;
    s->pending--;
    if (res > 0)
        atomic_fetch_add_explicit(&u->d->c.bytes_read, (uint64_t)res, memory_order_relaxed);
    size_t want;
    if (s->job.kind == JOB_FULL)
        want = n->size - s->off < UCHUNK ? (size_t)(n->size - s->off) : UCHUNK;
    else
        want = n->size <= 2 * BLK ? n->size : BLK;
    /* A short read of a regular file means it shrank (or an error): either
     * way it is not grouped. */
    if (s->status == ST_OK && res != (int)want)
        s->status = read_failed(u->d, n, res < 0 ? res : res);
    if (s->status == ST_OK && atomic_load_explicit(&u->d->stop, memory_order_relaxed))
        s->status = ST_DROPPED;
    if (s->pending)
        return; /* the other block of a partial job */
    if (s->status != ST_OK) {
        finish(u, i);
        return;
    }
    if (s->job.kind == JOB_PARTIAL) {
        hash_partial(&s->h, n, s->buf);
        finish(u, i);
        return;
    }
    hash_full_chunk(&s->h, &s->hp, s->tail, n, s->off, s->buf, want);
    s->off += want;
    if (s->off < n->size) {
        next_full_chunk(u, i);
        return;
    }
    s->status = hash_full_done(u->d, &s->h, &s->hp, s->tail, n);
    finish(u, i);
}

static void flush_results(struct uring *u)
{
    if (u->nres) {
        ferry_send(u->d->results_tx, u->res, u->nres);
        u->nres = 0;
    }
}

static int setup(struct uring *u)
{
    struct dupes *d = u->d;
    u->nslots = d->opt->threads * 4 > MAX_SLOTS ? MAX_SLOTS : d->opt->threads * 4;
    u->slots = calloc(u->nslots, sizeof *u->slots);
    if (!u->slots)
        return -ENOMEM;
    for (unsigned i = 0; i < u->nslots; i++) {
        struct slot *s = &u->slots[i];
        s->buf = aligned_alloc(4096, UCHUNK);
        if (!s->buf || hasher_init(&s->h, d->opt->hash) || hasher_init(&s->hp, d->opt->hash))
            return -ENOMEM;
    }
    return io_uring_queue_init(u->nslots * 2, &u->ring, 0);
}

static void teardown(struct uring *u, bool ring)
{
    if (ring)
        io_uring_queue_exit(&u->ring);
    for (unsigned i = 0; u->slots && i < u->nslots; i++) {
        hasher_fini(&u->slots[i].h);
        hasher_fini(&u->slots[i].hp);
        free(u->slots[i].buf);
    }
    free(u->slots);
    buf_free(&u->path);
}

void *uring_reader_main(void *arg)
{
    struct dupes *d = arg;
    struct uring *u = calloc(1, sizeof *u);
    int err = u ? (u->d = d, setup(u)) : -ENOMEM;
    if (err) {
        msg("--io uring: cannot set up io_uring: %s", strerror(-err));
        atomic_store_explicit(&d->stop, true, memory_order_relaxed);
    }
    struct job jobs[64];
    bool closed = false;
    while (!closed || (u && u->inflight)) {
        /* Take jobs while slots are free: wait for them only when idle. */
        size_t room = u && !err ? u->nslots - u->inflight : 64;
        if (room > 64)
            room = 64;
        if (!closed && room) {
            ssize_t n = u && u->inflight ? ferry_try_recv(d->jobs_rx, jobs, room)
                                         : ferry_recv(d->jobs_rx, jobs, room);
            if (n == 0)
                closed = true;
            for (ssize_t i = 0; i < n; i++) {
                if (err) { /* no ring: answer every job, so the matcher's count adds up */
                    struct result r = { .node = jobs[i].node, .status = ST_DROPPED, .links = jobs[i].links,
                                        .kind = jobs[i].kind == JOB_PARTIAL ? RES_PARTIAL : RES_FULL };
                    ferry_send(d->results_tx, &r, 1);
                } else
                    start_job(u, &jobs[i]);
            }
        }
        if (err || !u->inflight) {
            if (u && !err)
                flush_results(u);
            continue;
        }
        struct io_uring_cqe *cqe;
        int r = io_uring_submit_and_wait(&u->ring, 1);
        if (r < 0 && r != -EINTR && r != -EBUSY) {
            msg("io_uring: %s", strerror(-r));
            abort(); /* reads in flight into our buffers: nothing safe left */
        }
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&u->ring, head, cqe) {
            complete(u, cqe);
            seen++;
        }
        io_uring_cq_advance(&u->ring, seen);
        flush_results(u);
    }
    if (u) {
        flush_results(u);
        teardown(u, !err);
        free(u);
    }
    ferry_rx_release(d->jobs_rx);
    ferry_tx_release(d->results_tx);
    stage_thread_done(d, STAGE_READ);
    return NULL;
}
