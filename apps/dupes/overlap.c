/* SPDX-License-Identifier: MIT */
/* PATHs that overlap: each directory walked once (overlap.h). */
#include "overlap.h"

#include "msg.h"

#include <stdlib.h>
#include <string.h>

int spelling_order(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Compare a + "/" with b + "/" ("/" stays "/"): what every path below
     * starts with. */
    size_t ka = alen + (alen == 0 || a[alen - 1] != '/');
    size_t kb = blen + (blen == 0 || b[blen - 1] != '/');
    for (size_t i = 0; i < ka && i < kb; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : '/';
        unsigned char y = i < blen ? (unsigned char)b[i] : '/';
        if (x != y)
            return x < y ? -1 : 1;
    }
    return ka == kb ? 0 : SPELLING_MIXED;
}

static int by_inode(const void *x, const void *y)
{
    const struct root *a = *(struct root *const *)x, *b = *(struct root *const *)y;
    if (a->dev != b->dev)
        return a->dev < b->dev ? -1 : 1;
    return a->ino < b->ino ? -1 : a->ino > b->ino;
}

static int by_abs(const void *x, const void *y)
{
    const struct root *a = *(struct root *const *)x, *b = *(struct root *const *)y;
    return strcmp(a->abs, b->abs);
}

/* The first of the n roots sorted by cmp that compares equal to key, and
 * (in *count) how many do. */
static struct root **equal_range(struct root **v, size_t n, const struct root *key,
                                 int (*cmp)(const void *, const void *), size_t *count)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(&v[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < n && cmp(&v[end], &key) == 0)
        end++;
    *count = end - lo;
    return v + lo;
}

/* Does a directory PATH whose real path is the first plen bytes of r's
 * (r itself, or an ancestor of it) spell r first? Its walk reaches r's
 * directory at the real path's rest (nothing on that path is a symlink). */
static bool spelled_first_by(const struct root *up, const struct root *r, size_t plen, struct buf *b)
{
    const char *rel = r->abs + plen + (r->abs[plen] == '/');
    size_t rlen = strlen(rel);
    bool sep = rlen && up->arg[up->arglen - 1] != '/';
    b->len = 0;
    if (buf_append(b, up->arg, up->arglen) || (sep && buf_append(b, "/", 1)) || buf_append(b, rel, rlen))
        return false; /* (out of memory: not deferred, walked as before) */
    return spelling_order(b->p, b->len, r->arg, r->arglen) == -1;
}

/* Is r inside (or the same as) a directory PATH that spells it first?
 * byabs: the n directory PATHs sorted by real path. */
static bool find_deferred(struct root *r, struct root **byabs, size_t n, struct buf *b)
{
    size_t plen = r->abslen;
    for (;;) {
        struct root key = { .abs = r->abs };
        char *cut = r->abs + plen, was = *cut;
        *cut = 0; /* (the ancestor's real path, for a moment) */
        size_t k = 0;
        struct root **up = equal_range(byabs, n, &key, by_abs, &k);
        *cut = was;
        for (size_t i = 0; i < k; i++)
            if (up[i] != r && spelled_first_by(up[i], r, plen, b))
                return true;
        if (plen <= 1)
            return false;
        while (plen > 1 && r->abs[--plen] != '/') /* the parent: "/x" -> "/" */
            ;
        if (plen == 0)
            plen = 1;
    }
}

int overlap_init(struct dupes *d)
{
    size_t n = 0;
    for (int i = 0; i < d->nroots; i++)
        n += !d->roots[i].is_file;
    if (n < 2)
        return 0; /* nothing can overlap */
    d->root_dirs = malloc(n * sizeof *d->root_dirs);
    struct root **byabs = malloc(n * sizeof *byabs);
    if (!d->root_dirs || !byabs) {
        free(byabs);
        msg("out of memory");
        return -1;
    }
    for (int i = 0; i < d->nroots; i++)
        if (!d->roots[i].is_file) {
            byabs[d->nroot_dirs] = &d->roots[i];
            d->root_dirs[d->nroot_dirs++] = &d->roots[i];
        }
    qsort(d->root_dirs, n, sizeof *d->root_dirs, by_inode);
    qsort(byabs, n, sizeof *byabs, by_abs);
    struct buf b = { 0 };
    for (size_t i = 0; i < n; i++)
        byabs[i]->deferred = find_deferred(byabs[i], byabs, n, &b);
    buf_free(&b);
    free(byabs);
    return 0;
}

void overlap_free(struct dupes *d)
{
    free(d->root_dirs);
    d->root_dirs = NULL;
    d->nroot_dirs = 0;
}

bool overlap_skip(struct dupes *d, const struct dir *dir, const struct stat *st, struct buf *b)
{
    if (!d->nroot_dirs || (!dir->parent && dir->root->forced))
        return false;
    struct root key = { .dev = st->st_dev, .ino = st->st_ino };
    size_t k = 0;
    struct root **same = equal_range(d->root_dirs, d->nroot_dirs, &key, by_inode, &k);
    const char *s = NULL;
    size_t slen = 0;
    for (size_t i = 0; i < k; i++) {
        if (same[i] == dir->root)
            continue;
        if (!s && !(s = dir_out_path(dir, b, &slen)))
            return false; /* (out of memory: walked, as before) */
        int o = spelling_order(same[i]->arg, same[i]->arglen, s, slen);
        if (o == -1 || o == 0)
            return true; /* that PATH's walk, or one that spells it first, lists it */
    }
    for (size_t i = 0; i < k; i++)
        if (same[i] != dir->root && same[i]->deferred &&
            spelling_order(s, slen, same[i]->arg, same[i]->arglen) == -1)
            /* Relaxed: read by the walker that takes pending_dirs to 0,
             * after this walker's decrement (acq_rel) for this directory. */
            atomic_store_explicit(&same[i]->covered, true, memory_order_relaxed);
    return false;
}

bool overlap_release(struct dupes *d)
{
    return d->nroot_dirs && !atomic_exchange_explicit(&d->deferred_done, true, memory_order_relaxed);
}
