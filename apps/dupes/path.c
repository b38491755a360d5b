/* SPDX-License-Identifier: MIT */
/* Paths (path.h). */
#include "path.h"

#include "dupes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int buf_reserve(struct buf *b, size_t n)
{
    if (n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, b->len + n))
        return -ENOMEM;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* prefix + "/" + the names of d's chain below its root + "/" + name (each
 * part only where present), into b. NULL when memory is exhausted. */
static const char *build(struct buf *b, const char *prefix, size_t plen, const struct dir *d,
                         const char *name, size_t nlen, size_t *len)
{
    size_t parts = 0, total = 0;
    for (const struct dir *x = d; x && x->parent; x = x->parent) {
        total += x->namelen;
        parts++;
    }
    if (name) {
        total += nlen;
        parts++;
    }
    bool sep0 = plen > 0 && parts > 0 && prefix[plen - 1] != '/';
    total += plen + sep0 + (parts ? parts - 1 : 0);
    if (buf_reserve(b, total))
        return NULL;
    char *end = b->p + total;
    *end = 0;
    bool later = false; /* a part already written after this one */
    if (name) {
        end -= nlen;
        memcpy(end, name, nlen);
        later = true;
    }
    for (const struct dir *x = d; x && x->parent; x = x->parent) {
        if (later)
            *--end = '/';
        end -= x->namelen;
        memcpy(end, x->name, x->namelen);
        later = true;
    }
    if (sep0)
        *--end = '/';
    memcpy(b->p, prefix, plen);
    b->len = total;
    if (len)
        *len = total;
    return b->p;
}

const char *dir_rel_path(const struct dir *d, struct buf *b, size_t *len)
{
    return build(b, "", 0, d, NULL, 0, len);
}

const char *dir_out_path(const struct dir *d, struct buf *b, size_t *len)
{
    return build(b, d->root->arg, d->root->arglen, d, NULL, 0, len);
}

const char *node_rel_path(const struct node *n, struct buf *b, size_t *len)
{
    return build(b, "", 0, n->dir, n->name, n->namelen, len);
}

const char *node_out_path(const struct node *n, struct buf *b, size_t *len)
{
    const struct root *r = n->dir->root;
    if (r->is_file)
        return build(b, r->arg, r->arglen, NULL, NULL, 0, len);
    return build(b, r->arg, r->arglen, n->dir, n->name, n->namelen, len);
}

const char *node_abs_path(const struct node *n, struct buf *b, size_t *len)
{
    const struct root *r = n->dir->root;
    if (r->is_file)
        return build(b, r->abs, r->abslen, NULL, NULL, 0, len);
    return build(b, r->abs, r->abslen, n->dir, n->name, n->namelen, len);
}

bool same_dir_entry(const struct node *a, const struct node *b)
{
    return a->dir->dev == b->dir->dev && a->dir->ino == b->dir->ino && a->namelen == b->namelen &&
           memcmp(a->name, b->name, a->namelen) == 0;
}

/* 1: openat2 works; 0: not tried yet; -1: the kernel lacks it. Relaxed: each
 * thread may find out for itself. */
static atomic_int have_openat2;

static int open_one(int dirfd, const char *rel, int flags)
{
    if (atomic_load_explicit(&have_openat2, memory_order_relaxed) >= 0) {
        struct open_how how = { .flags = (uint64_t)flags,
                                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS) {
            atomic_store_explicit(&have_openat2, 1, memory_order_relaxed);
            return fd >= 0 ? (int)fd : -errno;
        }
        atomic_store_explicit(&have_openat2, -1, memory_order_relaxed);
    }
    int fd = openat(dirfd, rel, flags | O_NOFOLLOW);
    return fd >= 0 ? fd : -errno;
}

/* open_one(), or with follow a plain openat(2) that follows symlinks. */
static int open_piece(int dirfd, const char *rel, int flags, bool follow)
{
    if (!follow)
        return open_one(dirfd, rel, flags);
    int fd = openat(dirfd, rel, flags);
    return fd >= 0 ? fd : -errno;
}

static int open_pieces(int dirfd, const char *rel, size_t len, int flags, bool follow)
{
    if (len == 0)
        return open_piece(dirfd, ".", flags, follow);
    if (len < PATH_MAX)
        return open_piece(dirfd, rel, flags, follow);
    /* Walk down in pieces shorter than PATH_MAX, each ending at a '/'. */
    char piece[PATH_MAX];
    int cur = dirfd;
    size_t at = 0;
    for (;;) {
        size_t left = len - at;
        if (left < PATH_MAX) {
            memcpy(piece, rel + at, left);
            piece[left] = 0;
            int fd = open_piece(cur, piece, flags, follow);
            if (cur != dirfd)
                close(cur);
            return fd;
        }
        size_t cut = PATH_MAX - 1;
        while (cut > 0 && rel[at + cut] != '/')
            cut--;
        if (cut == 0) { /* a component longer than PATH_MAX cannot exist */
            if (cur != dirfd)
                close(cur);
            return -ENAMETOOLONG;
        }
        memcpy(piece, rel + at, cut);
        piece[cut] = 0;
        int fd = open_piece(cur, piece, O_PATH | O_DIRECTORY | O_CLOEXEC, follow);
        if (cur != dirfd)
            close(cur);
        if (fd < 0)
            return fd;
        cur = fd;
        at += cut + 1;
    }
}

int path_open(int dirfd, const char *rel, size_t len, int flags)
{
    return open_pieces(dirfd, rel, len, flags, false);
}

int path_open_follow(int dirfd, const char *rel, size_t len, int flags)
{
    return open_pieces(dirfd, rel, len, flags, true);
}
