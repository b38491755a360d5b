/* SPDX-License-Identifier: MIT */
/* The readers (default I/O): threads that take hash jobs from the jobs
 * channel in small batches (highest level first: partial hashes, then
 * small files, then big ones) and hash with pread. Many threads give the
 * disk many reads in flight; each keeps one file open at a time.
 *
 * Partial job: the first and the last BLK bytes (a file of at most 2 * BLK
 * bytes is read whole: its partial hash is then its full hash too; an
 * empty one, --empty, with a read of one byte that must find nothing: a
 * size of 0 says nothing of /proc's files).
 * Full job: the whole file (POSIX_FADV_SEQUENTIAL, 1 MiB preads), checked
 * against the partial hash on the way, so that a file rewritten between
 * the two reads is caught even if its times were put back.
 * Every file is re-stat'ed (fstat) after hashing: a file whose size, mtime
 * or ctime moved is not grouped (ST_CHANGED, a warning). */
#include "debug.h"
#include "dupes.h"
#include "hash.h"
#include "msg.h"
#include "path.h"
#include "read.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define JOB_BATCH 8

struct reader {
    struct dupes *d;
    struct hasher h, hp;
    uint8_t *buf;
    uint8_t tail[BLK];
    struct buf path;
};

static void count_read(struct reader *r, uint64_t bytes)
{
    atomic_fetch_add_explicit(&r->d->c.bytes_read, bytes, memory_order_relaxed);
}

static uint8_t read_partial(struct reader *r, struct node *n, int fd)
{
    ssize_t a, b = 0;
    if (n->size == 0) { /* (--empty) one byte: is it really empty? */
        a = read_at(r->d, fd, r->buf, 1, 0);
        count_read(r, a > 0 ? (uint64_t)a : 0);
        if (a < 0)
            return read_failed(r->d, n, a);
        if (a > 0) { /* written since it was opened, or a size that says nothing */
            uint8_t st = read_restat(r->d, n, fd);
            return st == ST_OK ? read_longer(r->d, n) : st;
        }
    } else if (n->size <= 2 * BLK) {
        a = read_at(r->d, fd, r->buf, n->size, 0);
        count_read(r, a > 0 ? (uint64_t)a : 0);
        if (a != (ssize_t)n->size)
            return read_short(r->d, n, fd, a);
    } else {
        /* Two small reads: readahead would fetch what is usually never
         * needed (measured cold on /usr: 4.3-4.7 s with, 4.9-5.0 s without;
         * a full read later opens its own fd, with readahead). */
        posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
        a = read_at(r->d, fd, r->buf, BLK, 0);
        if (a == BLK)
            b = read_at(r->d, fd, r->buf + BLK, BLK, n->size - BLK);
        count_read(r, (uint64_t)(a > 0 ? a : 0) + (uint64_t)(b > 0 ? b : 0));
        if (a != BLK || b != BLK)
            return read_short(r->d, n, fd, a != BLK ? a : b);
    }
    hash_partial(&r->h, n, r->buf);
    return ST_OK;
}

static uint8_t read_full(struct reader *r, struct node *n, int fd)
{
    struct dupes *d = r->d;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (uint64_t off = 0; off < n->size;) {
        if (atomic_load_explicit(&d->stop, memory_order_relaxed))
            return ST_DROPPED;
        size_t want = n->size - off < CHUNK ? (size_t)(n->size - off) : CHUNK;
        ssize_t got = read_at(r->d, fd, r->buf, want, off);
        count_read(r, got > 0 ? (uint64_t)got : 0);
        if (got != (ssize_t)want)
            return read_short(d, n, fd, got);
        hash_full_chunk(&r->h, &r->hp, r->tail, n, off, r->buf, want);
        off += want;
    }
    return hash_full_done(d, &r->h, &r->hp, r->tail, n);
}

static uint8_t process(struct reader *r, const struct job *j)
{
    struct dupes *d = r->d;
    struct node *n = j->node;
    if (atomic_load_explicit(&d->stop, memory_order_relaxed))
        return ST_DROPPED;
    uint8_t status;
    int fd = read_open(d, n, &status);
    if (fd < 0)
        return status;
    n->racy = read_racy(n); /* (before the read: a change after it is what it guards) */
    status = j->kind == JOB_PARTIAL ? read_partial(r, n, fd) : read_full(r, n, fd);
    if (status == ST_OK)
        status = read_restat(d, n, fd);
    else if (status == ST_STALE)
        status = read_stale(d, n, fd);
    close(fd);
    if (status == ST_OK && debug.read_log >= 0) {
        size_t len = 0;
        const char *p = node_out_path(n, &r->path, &len);
        if (p)
            debug_log_read(j->kind == JOB_PARTIAL ? 'P' : 'F', p, len);
    }
    atomic_fetch_add_explicit(j->kind == JOB_PARTIAL ? &d->c.partial_reads : &d->c.full_reads, 1,
                              memory_order_relaxed);
    return status;
}

struct reader *reader_new(struct dupes *d)
{
    struct reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->d = d;
    r->buf = aligned_alloc(4096, CHUNK);
    if (!r->buf || hasher_init(&r->h, d->opt->hash) != 0) {
        free(r->buf);
        free(r);
        return NULL;
    }
    if (hasher_init(&r->hp, d->opt->hash) != 0) {
        hasher_fini(&r->h);
        free(r->buf);
        free(r);
        return NULL;
    }
    return r;
}

void reader_free(struct reader *r)
{
    hasher_fini(&r->h);
    hasher_fini(&r->hp);
    buf_free(&r->path);
    free(r->buf);
    free(r);
}

void *reader_main(void *arg)
{
    struct reader *r = arg;
    struct dupes *d = r->d;
    struct job jobs[JOB_BATCH];
    struct result res[JOB_BATCH];
    ssize_t n;
    signals_allow_kick(); /* a read that blocks ends when the run stops */
    while ((n = ferry_recv(d->jobs_rx, jobs, JOB_BATCH)) > 0) {
        size_t nres = 0;
        for (ssize_t i = 0; i < n; i++) {
            uint8_t status = process(r, &jobs[i]);
            res[nres++] = (struct result){ .node = jobs[i].node, .status = status,
                                           .kind = jobs[i].kind == JOB_PARTIAL ? RES_PARTIAL : RES_FULL,
                                           .links = jobs[i].links };
            /* A big file took a while: let the matcher have what is done. */
            if (jobs[i].kind == JOB_FULL && jobs[i].node->size >= CHUNK) {
                send_counted(d, d->results_tx, res, nres, sizeof *res, 0);
                nres = 0;
            }
        }
        if (nres)
            send_counted(d, d->results_tx, res, nres, sizeof *res, 0);
    }
    reader_free(r);
    ferry_rx_release(d->jobs_rx);
    ferry_tx_release(d->results_tx);
    stage_thread_done(d, STAGE_READ);
    return NULL;
}
