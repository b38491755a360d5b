/* SPDX-License-Identifier: MIT */
/* Opening and re-checking the files the readers hash (read.h). */
#include "read.h"

#include "debug.h"
#include "hash.h"
#include "msg.h"
#include "path.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* pread(2), or with FERRY_DUPES_DEBUG_SHORT_READS as a file system that
 * returns less than asked (FUSE with direct_io does) and is interrupted:
 * at most SHORT_READ bytes a call, and EINTR every fifth call; with
 * FERRY_DUPES_DEBUG_FAIL=read:K the K-th call fails with EIO, with
 * again:K it sets O_NONBLOCK on fd and fails with EAGAIN, with block:K it
 * blocks until a signal interrupts it. */
#define SHORT_READ 4097
static ssize_t file_pread(int fd, uint8_t *p, size_t n, uint64_t off)
{
    if (debug_fail(FAIL_READ)) {
        errno = EIO;
        return -1;
    }
    if (debug_fail(FAIL_BLOCK))
        return debug_block(); /* (-1, EINTR: read_at reads on unless the run stops) */
    if (debug_fail(FAIL_AGAIN)) { /* as if another holder of the file made it non-blocking */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        errno = EAGAIN;
        return -1;
    }
    if (debug.short_reads) {
        static atomic_uint calls; /* (relaxed: any thread's fifth call will do) */
        if (atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) % 5 == 4) {
            errno = EINTR;
            return -1;
        }
        if (n > SHORT_READ)
            n = SHORT_READ;
    }
    return pread(fd, p, n, (off_t)off);
}

/* Make fd blocking: 0 or -errno. */
static int set_blocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    if ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return -errno;
    return 0;
}

/* EAGAINs in a row that read_at takes before it gives up (each after
 * making fd blocking again). */
#define AGAIN_MAX 8

/* Is the run stopping (a read that meets EINTR gives up)? */
static bool stopping(struct dupes *d)
{
    return atomic_load_explicit(&d->stop, memory_order_relaxed) || signals_count() > 0;
}

ssize_t read_at(struct dupes *d, int fd, uint8_t *p, size_t n, uint64_t off)
{
    size_t got = 0;
    unsigned again = 0;
    while (got < n) {
        ssize_t r = file_pread(fd, p + got, n - got, off + got);
        if (r < 0) {
            int err = errno;
            if (err == EINTR && stopping(d))
                return -EINTR; /* (a kick: signals.h) */
            if (err == EINTR)
                continue;
            /* read_open made it blocking; something else made it
             * non-blocking again (a regular file is always "ready", yet a
             * network file system may say EAGAIN): blocking once more, a
             * few times, then a read error like any other. */
            if ((err == EAGAIN || err == EWOULDBLOCK) && ++again <= AGAIN_MAX) {
                int e = set_blocking(fd);
                if (e)
                    return e;
                continue;
            }
            return -err;
        }
        again = 0;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

bool stat_same(const struct node *n, const struct stat *st)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_dev == n->dev && (uint64_t)st->st_ino == n->ino &&
           (uint64_t)st->st_size == n->size &&
           time_ns(st->st_mtim.tv_sec, st->st_mtim.tv_nsec) == n->mtime_ns &&
           time_ns(st->st_ctim.tv_sec, st->st_ctim.tv_nsec) == n->ctime_ns;
}

/* The coarsest granularity t may have been truncated to (ns). */
static int64_t granularity(int64_t t)
{
    static const int64_t g[] = { 2000000000, 1000000000, 10000000, 1000000, 1000, 100 };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        if (t % g[i] == 0)
            return g[i];
    return 1;
}

bool time_racy(int64_t t, int64_t now)
{
    if (now <= 0)
        return true;
    if (t < 0)
        return false;
    int64_t g = granularity(t);
    return t >= now - now % g;
}

bool read_racy(const struct node *n)
{
    struct timespec ts;
    int64_t now = debug.clock_ns ? debug.clock_ns
                  : clock_gettime(CLOCK_REALTIME_COARSE, &ts) == 0 ? time_ns(ts.tv_sec, ts.tv_nsec) : 0;
    return time_racy(n->ctime_ns, now);
}

static void hook(const char *cmd, const struct node *n)
{
    struct buf b = { 0 };
    size_t len = 0;
    const char *p = node_out_path(n, &b, &len);
    if (p)
        debug_hook(cmd, p);
    buf_free(&b);
}

static uint8_t changed(struct dupes *d, struct node *n, const char *when)
{
    atomic_fetch_add_explicit(&d->c.changed, 1, memory_order_relaxed);
    msg_node(n, "changed %s: not grouped", when);
    return ST_CHANGED;
}

/* After an open that failed for another reason than the file's absence:
 * is the entry still the regular file the walk listed? A socket (ENXIO), a
 * device without a driver (ENXIO, ENODEV) or another file (unreadable, say)
 * put in its place is a change, not an unreadable file. */
static bool replaced(const struct node *n, const char *rel, size_t len)
{
    struct stat st;
    if (len == 0 || len >= PATH_MAX || fstatat(n->dir->root->fd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return false; /* (too long to look at in one call: as it was) */
    return !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != n->dev || (uint64_t)st.st_ino != n->ino;
}

int read_open(struct dupes *d, struct node *n, uint8_t *status)
{
    struct buf b = { 0 };
    size_t len = 0;
    const char *rel = node_rel_path(n, &b, &len);
    if (!rel) {
        *status = read_failed(d, n, -ENOMEM);
        return -1;
    }
    if (debug.before_open)
        hook(debug.before_open, n);
    int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
    bool noatime = d->euid == 0 || d->euid == n->uid;
    int fd;
    do { /* (an open that blocks, on FUSE or NFS, is interrupted the same way) */
        fd = debug_fail(FAIL_OPEN) ? -ENOMEM
                                   : path_open(n->dir->root->fd, rel, len, flags | (noatime ? O_NOATIME : 0));
        if (fd == -EPERM && noatime)
            fd = path_open(n->dir->root->fd, rel, len, flags);
    } while (fd == -EINTR && !stopping(d));
    if (fd == -EINTR) {
        buf_free(&b);
        *status = ST_DROPPED; /* (the run stops: dropped, as a job not yet taken is) */
        return -1;
    }
    bool gone = fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP; /* or a symlink now */
    bool other = fd < 0 && fd != -ENOMEM && !gone && replaced(n, rel, len);
    buf_free(&b);
    if (fd == -ENOMEM) {
        *status = read_failed(d, n, fd);
        return -1;
    }
    if (other) {
        *status = changed(d, n, "since it was listed");
        return -1;
    }
    if (fd < 0) {
        if (gone) {
            atomic_fetch_add_explicit(&d->c.vanished, 1, memory_order_relaxed);
            *status = ST_VANISHED;
        } else {
            atomic_fetch_add_explicit(&d->c.unreadable, 1, memory_order_relaxed);
            msg_node(n, "cannot open: %s", strerror(-fd));
            *status = ST_UNREADABLE;
        }
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !stat_same(n, &st)) {
        close(fd);
        *status = changed(d, n, "since it was listed");
        return -1;
    }
    /* A regular file: it is read blocking (O_NONBLOCK was for the open). */
    int e = set_blocking(fd);
    if (e) {
        close(fd);
        *status = read_failed(d, n, e);
        return -1;
    }
    *status = ST_OK;
    return fd;
}

uint8_t read_restat(struct dupes *d, struct node *n, int fd)
{
    if (debug.after_read)
        hook(debug.after_read, n);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return read_failed(d, n, -errno);
    if (st.st_nlink == 0) { /* deleted while we read it */
        atomic_fetch_add_explicit(&d->c.vanished, 1, memory_order_relaxed);
        return ST_VANISHED;
    }
    return stat_same(n, &st) ? ST_OK : changed(d, n, "while being read");
}

uint8_t read_stale(struct dupes *d, struct node *n, int fd)
{
    uint8_t st = read_restat(d, n, fd);
    if (st != ST_OK)
        return st; /* (it did change: said and counted) */
    msg_node(n, "its partial hash in the index was stale: not grouped (the next run reads it again)");
    n->have = 0;
    return ST_STALE;
}

uint8_t read_longer(struct dupes *d, struct node *n)
{
    atomic_fetch_add_explicit(&d->c.changed, 1, memory_order_relaxed);
    msg_node(n, "holds more than its size of %llu bytes (a /proc or /sys file?): not grouped",
             (unsigned long long)n->size);
    return ST_CHANGED;
}

uint8_t read_short(struct dupes *d, struct node *n, int fd, ssize_t got)
{
    struct stat st;
    if (got < 0 || fstat(fd, &st) != 0 || !stat_same(n, &st) || st.st_nlink == 0)
        return read_failed(d, n, got);
    atomic_fetch_add_explicit(&d->c.changed, 1, memory_order_relaxed);
    msg_node(n, "holds less than its size of %llu bytes (a /proc or /sys file?): not grouped",
             (unsigned long long)n->size);
    return ST_CHANGED;
}

uint8_t read_failed(struct dupes *d, struct node *n, ssize_t got)
{
    if (got >= 0)
        return changed(d, n, "while being read (shorter)");
    if (got == -EINTR) /* a read the stop interrupted: dropped, as a job not yet taken is */
        return ST_DROPPED;
    if (got == -ENOMEM) { /* not the file's fault: the run cannot be complete */
        dupes_oom(d);
        return ST_DROPPED;
    }
    atomic_fetch_add_explicit(&d->c.unreadable, 1, memory_order_relaxed);
    msg_node(n, "read error: %s", strerror((int)-got));
    return ST_UNREADABLE;
}

void hash_partial(struct hasher *h, struct node *n, const uint8_t *buf)
{
    uint8_t digest[HASH_MAX];
    n->indexed = false; /* (read now) */
    hasher_reset(h);
    if (n->size <= 2 * BLK) {
        hasher_update(h, buf, n->size);
        hasher_digest(h, digest);
        memcpy(n->full, digest, HASH_MAX);
        n->have = HAVE_PARTIAL | HAVE_FULL;
    } else {
        hasher_update(h, buf, 2 * BLK);
        hasher_digest(h, digest);
        n->have |= HAVE_PARTIAL;
    }
    memcpy(n->partial, digest, PARTIAL_LEN);
}

void hash_full_chunk(struct hasher *h, struct hasher *hp, uint8_t tail[BLK], const struct node *n,
                     uint64_t off, const uint8_t *p, size_t len)
{
    if (off == 0) {
        hasher_reset(h);
        hasher_reset(hp);
    }
    hasher_update(h, p, len);
    if (off < BLK) /* part of the first block */
        hasher_update(hp, p, (size_t)(BLK - off) < len ? (size_t)(BLK - off) : len);
    uint64_t tail_at = n->size - BLK; /* a full job's file is > 2 * BLK */
    if (off + len > tail_at) {
        uint64_t from = off > tail_at ? off : tail_at;
        memcpy(tail + (from - tail_at), p + (from - off), (size_t)(off + len - from));
    }
}

uint8_t hash_full_done(struct dupes *d, struct hasher *h, struct hasher *hp, const uint8_t tail[BLK],
                       struct node *n)
{
    uint8_t check[HASH_MAX];
    hasher_update(hp, tail, BLK);
    hasher_digest(hp, check);
    if (memcmp(check, n->partial, PARTIAL_LEN) != 0 && n->indexed)
        return ST_STALE; /* (not read this run: the index's; read_stale says so) */
    if (memcmp(check, n->partial, PARTIAL_LEN) != 0) {
        atomic_fetch_add_explicit(&d->c.changed, 1, memory_order_relaxed);
        msg_node(n, "changed between its partial and full reads: not grouped");
        return ST_CHANGED;
    }
    hasher_digest(h, n->full);
    n->have |= HAVE_FULL;
    return ST_OK;
}
