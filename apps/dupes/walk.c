/* SPDX-License-Identifier: MIT */
/* The walkers: several threads share one queue of directories (the dirs
 * channel). Each takes a few directories, lists them with getdents64,
 * stats the regular files (statx relative to the directory, so no path
 * length limit applies; with the birth time, see stat_entry), sends the files to the grouper in batches (the
 * entries channel) and its subdirectories back to the queue. The queue's
 * priority is the depth, so the walk goes deep first: the queue stays
 * short and a disk reads neighbouring inodes together.
 *
 * Termination is exact: pending_dirs counts the directories queued or being
 * read; a walker adds a directory's subdirectories before it subtracts the
 * directory itself, so the count reaches 0 only after the last directory is
 * done, and the walker that takes it there closes the queue.
 *
 * Symlinks, FIFOs, sockets and devices are skipped by their d_type (or
 * st_mode): never opened, never followed. A directory that is also another
 * PATH is listed by one walk only (overlap.h); PATHs left to an enclosing
 * one that did not reach them are queued when the count reaches 0.
 *
 * Every directory listed is recorded by (dev, inode) in a set all walkers
 * share (dirset.h): one lookup a directory, however deep. A directory
 * found there was reached by a second route: a bind mount of one of its
 * ancestors inside it (a loop: reported and skipped; only then are the
 * ancestors looked at), or a bind mount of it elsewhere, which is listed
 * again only where that makes the output what it would be had every route
 * listed it, whichever route came first (route_lists). */
#include "debug.h"
#include "dirset.h"
#include "dupes.h"
#include "msg.h"
#include "overlap.h"
#include "path.h"
#include "satcount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DIR_BATCH 4
#define ENTRY_BATCH 256
#define DENTS_BYTES (64 * 1024)
#define DIR_LEVELS 16

struct walker {
    struct dupes *d;
    struct arena *arena;
    struct node *out[ENTRY_BATCH];
    size_t nout;
    struct dir **subs;
    size_t nsub, capsub;
    char *dents;
    struct buf path, other;          /* scratch: paths (other: route_lists) */
    uint64_t files, bytes;
    /* The directory this walker listed last, still open: a subdirectory of
     * it is opened from it by name, not by its whole path from the PATH
     * (which the kernel resolves component by component: a tree N levels
     * deep would cost N^2 / 2 lookups). A walker usually takes the
     * subdirectories it queued itself, so a deep chain stays with one
     * walker and costs one lookup a level. fd -1: none. */
    const struct dir *open_dir;
    int open_fd;
};

/* Close the walker's last directory (walker.open_dir). */
static void forget_open_dir(struct walker *w)
{
    if (w->open_fd >= 0)
        close(w->open_fd);
    w->open_fd = -1;
    w->open_dir = NULL;
}

/* Open dir: from the walker's last directory when that is its parent (one
 * lookup, no symlink followed: O_NOFOLLOW on the one name), else by its
 * path below the PATH's descriptor (path_open). With noatime, O_NOATIME
 * first and without it where that is refused (EPERM: not the owner, and a
 * file system that will not let even root). The last directory is closed
 * either way, so that a walker holds at most two descriptors (fdlimit.h).
 * A descriptor, or -errno. */
static int open_walk_dir(struct walker *w, const struct dir *dir, int flags, bool noatime)
{
    int fd = -EPERM;
    if (w->open_dir && dir->parent == w->open_dir) {
        for (int i = !noatime; i < 2 && fd == -EPERM; i++) {
            fd = openat(w->open_fd, dir->name, flags | O_NOFOLLOW | (i == 0 ? O_NOATIME : 0));
            fd = fd >= 0 ? fd : -errno;
        }
        forget_open_dir(w);
        return fd;
    }
    forget_open_dir(w);
    atomic_fetch_add_explicit(&w->d->c.dir_path_opens, 1, memory_order_relaxed); /* (struct counters) */
    size_t rlen = 0;
    const char *rel = dir_rel_path(dir, &w->path, &rlen);
    if (!rel)
        return -ENOMEM;
    for (int i = !noatime; i < 2 && fd == -EPERM; i++)
        fd = path_open(dir->root->fd, rel, rlen, flags | (i == 0 ? O_NOATIME : 0));
    return fd;
}

static void count_flush(struct walker *w)
{
    struct counters *c = &w->d->c;
    atomic_fetch_add_explicit(&c->files, w->files, memory_order_relaxed);
    sat_add_atomic(&c->bytes, w->bytes);
    debug_count(DBG_WALK, w->files);
    w->files = w->bytes = 0;
}

static void flush_entries(struct walker *w)
{
    if (w->nout) {
        stage_send(w->d, w->d->entries_tx, w->out, w->nout, sizeof *w->out, 0);
        w->nout = 0;
    }
    count_flush(w);
}

static struct dir *new_dir(struct walker *w, struct dir *parent, const char *name, size_t len)
{
    struct dir *d = debug_fail(FAIL_DIR) ? NULL : arena_alloc(w->arena, sizeof *d + len + 1);
    if (!d)
        return NULL;
    d->parent = parent;
    d->root = parent->root;
    d->dev = d->ino = 0;
    d->depth = parent->depth + 1;
    d->namelen = (uint32_t)len;
    memcpy(d->name, name, len);
    d->name[len] = 0;
    return d;
}

struct dir *walk_root_dir(struct dupes *d, struct root *r, struct arena *a)
{
    (void)d;
    struct dir *x = arena_alloc(a, sizeof *x + 1);
    if (!x)
        return NULL;
    memset(x, 0, sizeof *x + 1);
    x->root = r;
    return x;
}

/* fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW), with the birth time in
 * *btime_ns (0 where the file system keeps none): the index tells a renamed
 * file from a new file that reuses a deleted file's inode by it (group.c).
 * 0, or -1 with errno set. */
static int stat_entry(int dir, const char *name, struct stat *st, int64_t *btime_ns)
{
    struct statx x;
    *btime_ns = 0;
    if (statx(dir, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &x) != 0) {
        /* ENOSYS: a kernel before 4.11; EPERM: a container whose seccomp
         * filter predates statx (stat itself never fails so) */
        if (errno != ENOSYS && errno != EPERM)
            return -1;
        return fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW);
    }
    memset(st, 0, sizeof *st);
    st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
    st->st_ino = x.stx_ino;
    st->st_mode = x.stx_mode;
    st->st_nlink = x.stx_nlink;
    st->st_uid = x.stx_uid;
    st->st_gid = x.stx_gid;
    st->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
    st->st_size = (off_t)x.stx_size;
    st->st_blksize = (blksize_t)x.stx_blksize;
    st->st_blocks = (blkcnt_t)x.stx_blocks;
    st->st_atim = (struct timespec){ x.stx_atime.tv_sec, x.stx_atime.tv_nsec };
    st->st_mtim = (struct timespec){ x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec };
    st->st_ctim = (struct timespec){ x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec };
    if (x.stx_mask & STATX_BTIME)
        *btime_ns = time_ns(x.stx_btime.tv_sec, (long)x.stx_btime.tv_nsec);
    return 0;
}

static void add_file(struct walker *w, struct dir *dir, const char *name, size_t len,
                     const struct stat *st, int64_t btime_ns)
{
    struct node *n = arena_alloc(w->arena, sizeof *n + len + 1);
    if (!n) {
        dupes_oom(w->d);
        return;
    }
    memset(n, 0, sizeof *n);
    n->dev = st->st_dev;
    n->ino = st->st_ino;
    n->size = (uint64_t)st->st_size;
    n->mtime_ns = time_ns(st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    n->ctime_ns = time_ns(st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
    n->btime_ns = btime_ns;
    n->uid = st->st_uid;
    if (st->st_nlink > 1)
        n->g_flags = G_LINKS;
    n->dir = dir;
    n->namelen = (uint32_t)len;
    memcpy(n->name, name, len);
    n->name[len] = 0;
    w->out[w->nout++] = n;
    w->files++;
    w->bytes = sat_add(w->bytes, n->size);
    if (w->nout == ENTRY_BATCH)
        flush_entries(w);
}

/* Room for one more directory to queue; false after dupes_oom. */
static bool room_for_sub(struct walker *w)
{
    if (w->nsub == w->capsub) {
        size_t cap = w->capsub ? w->capsub * 2 : 64;
        struct dir **s = realloc(w->subs, cap * sizeof *s);
        if (!s) {
            dupes_oom(w->d);
            return false;
        }
        w->subs = s;
        w->capsub = cap;
    }
    return true;
}

static void add_subdir(struct walker *w, struct dir *parent, const char *name, size_t len)
{
    if (!room_for_sub(w))
        return;
    struct dir *d = new_dir(w, parent, name, len);
    if (!d) { /* a directory left out: the walk would be silently short */
        dupes_oom(w->d);
        return;
    }
    w->subs[w->nsub++] = d;
}

static void skip_dir(struct walker *w, struct dir *dir, const char *why, int err)
{
    if (err == ENOMEM) { /* not the directory's fault: the run cannot be complete */
        dupes_oom(w->d);
        return;
    }
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) { /* gone or replaced since listed */
        atomic_fetch_add_explicit(&w->d->c.vanished, 1, memory_order_relaxed);
        return;
    }
    atomic_store_explicit(&w->d->walk_incomplete, true, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->d->c.unreadable, 1, memory_order_relaxed);
    msg_dir(dir, "%s: %s (skipped)", why, strerror(err));
}

/* name is the index (base) or one of SQLite's files beside it. */
static bool is_index_file(const char *base, const char *name)
{
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0)
        return false;
    name += n;
    return !*name || !strcmp(name, "-wal") || !strcmp(name, "-shm") || !strcmp(name, "-journal");
}

/* A PATH argument that is a file: its one node. */
static void walk_file_root(struct walker *w, struct dir *dir)
{
    struct root *r = dir->root;
    struct stat st;
    if (fstat(r->fd, &st) == 0) { /* its directory: to tell aliases apart (group.c) */
        dir->dev = st.st_dev;
        dir->ino = st.st_ino;
    }
    int64_t btime_ns;
    if (stat_entry(r->fd, r->base, &st, &btime_ns) != 0) {
        skip_dir(w, dir, "cannot stat", errno);
        return;
    }
    struct dupes *d = w->d;
    if (d->db_base && d->db_dir_dev == dir->dev && d->db_dir_ino == dir->ino &&
        is_index_file(d->db_base, r->base))
        return; /* the index named as a PATH: passed by, as in a directory */
    if (S_ISREG(st.st_mode))
        add_file(w, dir, r->base, strlen(r->base), &st, btime_ns);
}

/* Is dir (reached a second time: route_lists) one of its own ancestors? */
static bool is_loop(struct walker *w, const struct dir *dir)
{
    uint64_t steps = 0;
    bool loop = false;
    for (const struct dir *a = dir->parent; a && !loop; a = a->parent, steps++)
        loop = a->dev == dir->dev && a->ino == dir->ino;
    atomic_fetch_add_explicit(&w->d->c.ancestor_steps, steps, memory_order_relaxed); /* (struct counters) */
    return loop;
}

/* Is dir (dev and ino set, opened) to be listed by this route? Records it
 * in the set of directories listed (dirset.h). Reached before by another
 * route (first):
 *   - a loop (dir is one of its own ancestors) is reported, once however
 *     many routes reach it, and skipped;
 *   - otherwise (a bind mount of it elsewhere below this PATH, or another
 *     PATH that overlap.h left both walks to): listed again when this
 *     route's spelling sorts first, or when the order depends on the names
 *     below (one spelling followed by "/" begins the other: "t" and
 *     "t/sub/."), so that, whichever walker came first, every file's
 *     smallest path is found and the output is the same as when every
 *     route listed it (the grouper takes the second paths as aliases):
 *     the same from run to run, with any number of walkers. A route that
 *     sorts after the first is not listed. */
static bool route_lists(struct walker *w, struct dir *dir)
{
    struct dupes *d = w->d;
    struct counters *c = &d->c;
    const struct dir *first = NULL;
    int r = debug_fail(FAIL_DIRSET) ? -ENOMEM : dirset_add(&d->dirs_seen, dir, &first);
    if (r == 0)
        return true;
    if (r < 0) { /* unrecorded, a loop through it would go on for ever: */
        dupes_oom(d); /* the run stops (exit 2), nothing silently lost */
        return false;
    }
    /* Relaxed, all: statistics (struct counters). */
    if (is_loop(w, dir)) {
        /* One loop however many routes reach it (one through a bind mount
         * of its parent too): reported once. Not recorded (out of memory):
         * reported again rather than not at all. */
        if ((debug_fail(FAIL_LOOPS) ? -ENOMEM : dirset_add_loop(&d->dirs_seen, dir)) == 1) {
            atomic_fetch_add_explicit(&c->dirs_again, 1, memory_order_relaxed);
            return false;
        }
        atomic_fetch_add_explicit(&c->dir_loops, 1, memory_order_relaxed);
        msg_dir(dir, "directory loop (a bind mount?): skipped");
        return false;
    }
    size_t alen = 0, blen = 0;
    const char *a = dir_out_path(dir, &w->path, &alen);
    const char *b = a ? dir_out_path(first, &w->other, &blen) : NULL;
    int o = b ? spelling_order(a, alen, b, blen) : -1; /* (out of memory: listed, as before) */
    if (o == -1 || o == SPELLING_MIXED) {
        atomic_fetch_add_explicit(&c->dirs_relisted, 1, memory_order_relaxed);
        return true;
    }
    atomic_fetch_add_explicit(&c->dirs_again, 1, memory_order_relaxed);
    return false;
}

static void walk_dir(struct walker *w, struct dir *dir)
{
    struct dupes *d = w->d;
    struct root *r = dir->root;
    if (r->is_file) {
        walk_file_root(w, dir);
        return;
    }
    if (debug.before_opendir) {
        struct buf b = { 0 };
        size_t blen = 0;
        if (dir_out_path(dir, &b, &blen))
            debug_hook(debug.before_opendir, b.p);
        buf_free(&b);
    }
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    int fd = open_walk_dir(w, dir, flags, d->euid == 0);
    if (fd < 0) {
        skip_dir(w, dir, "cannot open directory", -fd);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        skip_dir(w, dir, "cannot stat directory", errno);
        close(fd);
        return;
    }
    if (d->opt->one_fs && (uint64_t)st.st_dev != (uint64_t)r->dev) {
        close(fd);
        return;
    }
    if (overlap_skip(d, dir, &st, &w->path)) { /* another PATH's walk lists it */
        close(fd);
        return;
    }
    dir->dev = st.st_dev;
    dir->ino = st.st_ino;
    if (!route_lists(w, dir)) { /* listed by another route, or a loop */
        close(fd);
        return;
    }
    bool db_here = d->db_base && d->db_dir_dev == (uint64_t)st.st_dev && d->db_dir_ino == (uint64_t)st.st_ino;
    atomic_fetch_add_explicit(&d->c.dirs, 1, memory_order_relaxed);
    for (;;) {
        if (atomic_load_explicit(&d->stop, memory_order_relaxed))
            break;
        ssize_t n = getdents64(fd, w->dents, DENTS_BYTES);
        if (n == 0)
            break;
        if (n < 0) {
            skip_dir(w, dir, "cannot read directory", errno);
            break;
        }
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *e = (struct dirent64 *)(w->dents + off);
            off += e->d_reclen;
            const char *name = e->d_name;
            if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
                continue;
            size_t len = strlen(name);
            unsigned type = e->d_type;
            if (type == DT_DIR) {
                add_subdir(w, dir, name, len);
                continue;
            }
            if (type != DT_REG && type != DT_UNKNOWN)
                continue; /* symlink, FIFO, socket, device: never opened */
            if (db_here && is_index_file(d->db_base, name))
                continue;
            int64_t btime_ns;
            if (stat_entry(fd, name, &st, &btime_ns) != 0) {
                int err = errno;
                if (err == ENOENT) {
                    atomic_fetch_add_explicit(&d->c.vanished, 1, memory_order_relaxed);
                    continue;
                }
                if (err == ENOMEM) {
                    dupes_oom(d);
                    continue;
                }
                /* Whether it still exists is not known: its index row stays,
                 * as do those below a directory that cannot be listed.
                 * (Relaxed: the walkers' release of the entries channel
                 * orders it before the grouper's load, after its last recv.) */
                atomic_store_explicit(&d->walk_incomplete, true, memory_order_relaxed);
                atomic_fetch_add_explicit(&d->c.unreadable, 1, memory_order_relaxed);
                size_t plen = 0;
                struct buf b = { 0 };
                const char *p = dir_out_path(dir, &b, &plen);
                if (p && !buf_append(&b, "/", 1) && !buf_append(&b, name, len))
                    msg_path(b.p, b.len, "cannot stat: %s", strerror(err));
                buf_free(&b);
                continue;
            }
            if (S_ISREG(st.st_mode))
                add_file(w, dir, name, len, &st, btime_ns);
            else if (S_ISDIR(st.st_mode))
                add_subdir(w, dir, name, len);
        }
    }
    /* Kept open for its subdirectories (open_walk_dir). */
    w->open_dir = dir;
    w->open_fd = fd;
}

/* pending_dirs reached 0: queue the deferred PATHs that no walk covered
 * (overlap.h), the first time only. True when the walk goes on: some were
 * queued, and what they add up to is counted in pending_dirs. */
static bool queue_uncovered(struct walker *w)
{
    struct dupes *d = w->d;
    if (atomic_load_explicit(&d->stop, memory_order_relaxed) || !overlap_release(d))
        return false;
    for (int i = 0; i < d->nroots; i++) {
        struct root *r = &d->roots[i];
        if (!overlap_uncovered(r) || !room_for_sub(w))
            continue;
        struct dir *top = walk_root_dir(d, r, w->arena);
        if (!top) {
            dupes_oom(d);
            break;
        }
        r->forced = true; /* (the channel hands it to the walker that reads it) */
        w->subs[w->nsub++] = top;
    }
    size_t n = w->nsub, sent = 0;
    w->nsub = 0;
    if (!n)
        return false;
    /* Relaxed: nobody else touches pending_dirs until these are sent. */
    atomic_fetch_add_explicit(&d->pending_dirs, n, memory_order_relaxed);
    sent = stage_send(d, d->dirs_tx, w->subs, n, sizeof *w->subs, 0);
    /* acq_rel as in finish_dir: whoever takes it to 0 closes the queue. */
    return sent == n || atomic_fetch_sub_explicit(&d->pending_dirs, n - sent, memory_order_acq_rel) != n - sent;
}

/* One directory done: queue its subdirectories but one, then count it out.
 * Returns the one kept (NULL: none), which this walker lists next: it opens
 * from the directory still open (open_walk_dir), so a chain of directories
 * stays with one walker at one lookup a level however deep it goes. It is
 * counted in pending_dirs like the others until its own finish_dir. */
static struct dir *finish_dir(struct walker *w, const struct dir *dir)
{
    struct dupes *d = w->d;
    struct dir *next = NULL;
    if (w->nsub && !atomic_load_explicit(&d->stop, memory_order_relaxed)) {
        /* Relaxed: this thread's decrement below (acq_rel) orders it. */
        atomic_fetch_add_explicit(&d->pending_dirs, w->nsub, memory_order_relaxed);
        next = w->subs[--w->nsub];
        if (w->nsub) {
            unsigned level = dir->depth + 1 < DIR_LEVELS ? dir->depth + 1 : DIR_LEVELS - 1;
            size_t sent = stage_send(d, d->dirs_tx, w->subs, w->nsub, sizeof *w->subs, level);
            if (sent < w->nsub) /* a stop or a failure: count the rest out */
                atomic_fetch_sub_explicit(&d->pending_dirs, w->nsub - sent, memory_order_relaxed);
        }
    }
    w->nsub = 0;
    /* acq_rel: the walker that reaches 0 sees every other walker's
     * increments (and their sends, and their overlap_skip marks) before it
     * queues what is left or closes the queue. */
    if (atomic_fetch_sub_explicit(&d->pending_dirs, 1, memory_order_acq_rel) == 1 && !queue_uncovered(w))
        ferry_tx_close(d->dirs_tx); /* (not with one kept: it is still counted) */
    return next;
}

unsigned walk_dir_levels(void)
{
    return DIR_LEVELS;
}

struct walker *walker_new(struct dupes *d, struct arena *a)
{
    struct walker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->d = d;
    w->arena = a;
    w->open_fd = -1;
    w->dents = malloc(DENTS_BYTES);
    if (!w->dents) {
        free(w);
        return NULL;
    }
    return w;
}

void walker_free(struct walker *w)
{
    forget_open_dir(w);
    free(w->subs);
    buf_free(&w->path);
    buf_free(&w->other);
    free(w->dents);
    free(w);
}

void *walker_main(void *arg)
{
    struct walker_arg *a = arg;
    struct walker *w = a->w;
    struct dupes *d = a->d;
    struct dir *batch[DIR_BATCH];
    ssize_t n;
    while ((n = ferry_recv(d->dirs_rx, batch, DIR_BATCH)) > 0) {
        unsigned walked = 0;
        for (ssize_t i = 0; i < n; i++) {
            /* The directory, then the subdirectory finish_dir kept of it,
             * and so on down. */
            for (struct dir *x = batch[i]; x;) {
                if (!atomic_load_explicit(&d->stop, memory_order_relaxed))
                    walk_dir(w, x);
                x = finish_dir(w, x);
                if (++walked % DIR_BATCH == 0) /* counters and files out as often as before */
                    flush_entries(w);
            }
        }
        flush_entries(w);
    }
    flush_entries(w);
    ferry_tx_release(d->entries_tx);
    ferry_tx_release(d->dirs_tx);
    ferry_rx_release(d->dirs_rx);
    walker_free(w);
    stage_thread_done(d, STAGE_WALK);
    return NULL;
}
