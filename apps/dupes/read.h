/* SPDX-License-Identifier: MIT */
/* What a reader does around the read itself: open a file safely, check
 * that it is still the file the walk saw, hash what it read, and the
 * re-stat after hashing. The reader threads are in read.c; verify.c opens
 * files the same way. */
#ifndef FERRY_DUPES_READ_H
#define FERRY_DUPES_READ_H

#include "dupes.h"

#include <stdbool.h>
#include <sys/stat.h>

/* Open n for reading (O_NONBLOCK: a FIFO put in its place cannot block us;
 * O_NOATIME where permitted) and check it is the same regular file with the
 * same size, mtime and ctime; then clear O_NONBLOCK (the reads block, as
 * reads of a file do). The fd, or -1 with *status set (and the message
 * printed, the counter counted; a failing fcntl is a read error; an open
 * interrupted as the run stops: ST_DROPPED, unreported). */
int read_open(struct dupes *d, struct node *n, uint8_t *status);

/* After hashing: is it unchanged and still linked? ST_OK, ST_CHANGED or
 * ST_VANISHED (counted and reported). Runs the after-read test hook. */
uint8_t read_restat(struct dupes *d, struct node *n, int fd);

/* Report a read error (EIO...) on n: ST_UNREADABLE, or ST_CHANGED when the
 * file turned out shorter than when listed; -ENOMEM is fatal (dupes_oom):
 * ST_DROPPED; -EINTR (read_at: the run stops) is ST_DROPPED, unreported. */
uint8_t read_failed(struct dupes *d, struct node *n, ssize_t got);

/* A read of n (open as fd) that got less than asked (got >= 0), or an
 * error (got < 0): read_failed, unless n is unchanged, still linked, and
 * so holds less than its size says (sysfs's files have a size of 4096):
 * ST_CHANGED, reported as that and counted as changed. */
uint8_t read_short(struct dupes *d, struct node *n, int fd, ssize_t got);

/* A full read of n (open as fd) disagreed with the partial hash the index
 * gave it (ST_STALE from hash_full_done): when the re-stat finds n
 * unchanged, the index row was stale -- reported, n's hashes dropped (its
 * row is written without any: the next run reads it afresh), ST_STALE;
 * else what the re-stat says. Until this, every run left such a file out
 * as "changed between its partial and full reads", and its duplicates. */
uint8_t read_stale(struct dupes *d, struct node *n, int fd);

/* n holds more than its size says (an empty file that is not: /proc's
 * files have a size of 0): ST_CHANGED, reported and counted as changed. */
uint8_t read_longer(struct dupes *d, struct node *n);

bool stat_same(const struct node *n, const struct stat *st);

/* Racily clean: may a file changed at time t (ns since 1970: its ctime)
 * still be changed, without t moving, by a write at time now or
 * later? Yes when t is not older than now's tick of t's granularity: the
 * kernel stamps a file with its coarse clock, truncated to the file
 * system's granularity (whole seconds, even ones on FAT, 10 ms on exFAT,
 * 100 ns on NTFS: read off t's trailing zeros), so two writes in one tick
 * leave one time. A time before 1970 (or beyond 2262, kept modulo 2^64:
 * negative) is not: a write now stamps another. now <= 0: yes. */
bool time_racy(int64_t t, int64_t now);

/* Is n racily clean now: time_racy of its ctime against the
 * CLOCK_REALTIME_COARSE the kernel stamps files with (or the test hook's
 * FERRY_DUPES_DEBUG_CLOCK)? Every change of a file after now -- a write,
 * or a write with its mtime put back by utimensat -- stamps its ctime, which
 * no one can set: it goes unseen only when the ctime was already in now's
 * tick. The mtime says nothing either way (a file's mtime set into the
 * future is not racy; an old mtime put back in this tick is). Asked before
 * the read: a hash of content that may change after it unseen is not one
 * to keep in the index (the next run reads it again). */
bool read_racy(const struct node *n);

/* pread(2) until n bytes, the end of the file or an error (a short read or
 * EINTR is read on; EAGAIN, should something have made fd non-blocking
 * again, makes it blocking and is read on, up to 8 in a row): the count,
 * or -errno. -EINTR when the run is stopping (d->stop, or a stop signal
 * came): a read that blocks for ever is interrupted then (signals.h's
 * kick), and gives up. */
ssize_t read_at(struct dupes *d, int fd, uint8_t *p, size_t n, uint64_t off);

struct hasher;
/* The partial hash of n from buf: its whole content (size <= 2 * BLK, and
 * then it is the full hash too), or its first BLK bytes followed by its
 * last BLK bytes. */
void hash_partial(struct hasher *h, struct node *n, const uint8_t *buf);
/* A full read's chunk [off, off + len): into h, and its part of the first
 * and last blocks into hp and tail (for the partial-hash check). Call with
 * off = 0 first (h and hp are reset then). */
void hash_full_chunk(struct hasher *h, struct hasher *hp, uint8_t tail[BLK], const struct node *n,
                     uint64_t off, const uint8_t *p, size_t len);
/* After the last chunk: ST_OK with n->full set, or ST_CHANGED (reported)
 * when the first and last blocks no longer give n's partial hash -- or,
 * when that hash came from the index (n->indexed), ST_STALE unreported:
 * call read_stale. */
uint8_t hash_full_done(struct dupes *d, struct hasher *h, struct hasher *hp, const uint8_t tail[BLK],
                       struct node *n);

/* Bytes a job reads: the partial blocks, or the whole file. */
static inline uint64_t job_bytes(const struct node *n, uint32_t kind)
{
    if (kind == JOB_FULL || n->size <= 2 * BLK)
        return n->size;
    return 2 * BLK;
}

#endif
