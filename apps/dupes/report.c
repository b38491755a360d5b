/* SPDX-License-Identifier: MIT */
/* Building the printed groups (report.h). */
#include "report.h"

#include "path.h"
#include "satcount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int member_cmp(const void *x, const void *y)
{
    const struct member *a = x, *b = y;
    return path_cmp(a->path, a->len, b->path, b->len);
}

static int group_cmp(const void *x, const void *y)
{
    const struct group *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return path_cmp(a->m[0].path, a->m[0].len, b->m[0].path, b->m[0].len);
}

/* A path into the report's arena, exactly sized (a struct buf reserves at
 * least 256 bytes: a million duplicate paths would cost 270 MB). */
static char *keep_path(struct report *r, const char *p, size_t len)
{
    char *s = arena_alloc(&r->paths, len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = 0;
    }
    return s;
}

static int push(struct report *r, struct buf *b, struct member **m, size_t *n, size_t *cap,
                const struct node *x, struct node *owner)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct member *p = realloc(*m, c * sizeof *p);
        if (!p)
            return -ENOMEM;
        *m = p;
        *cap = c;
    }
    size_t len = 0;
    const char *p = node_out_path(x, b, &len);
    char *s = p ? keep_path(r, p, len) : NULL;
    if (!s)
        return -ENOMEM;
    (*m)[(*n)++] = (struct member){ .path = s, .len = len, .node = owner };
    return 0;
}

int report_add(struct report *r, const struct options *o, struct group *g)
{
    size_t inodes = 0;
    for (size_t i = 0; i < g->n; i++)
        if (i == 0 || g->m[i].node != g->m[i - 1].node)
            inodes++;
    g->inodes = inodes;
    if (g->n < 2 || (!o->hardlinks && inodes < 2)) {
        free(g->m);
        return 0;
    }
    qsort(g->m, g->n, sizeof *g->m, member_cmp);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct group *p = realloc(r->g, cap * sizeof *p);
        if (!p) {
            free(g->m);
            return -ENOMEM;
        }
        r->g = p;
        r->cap = cap;
    }
    r->g[r->n++] = *g;
    return 0;
}

/* A path of an inode, with the node that found it. */
struct spelled {
    const struct node *x;
    char *path;
    size_t len;
};

/* By directory entry (directory dev, inode, name), then by path. */
static int entry_path_cmp(const void *a, const void *b)
{
    const struct spelled *p = a, *q = b;
    const struct dir *dx = p->x->dir, *dy = q->x->dir;
    if (dx->dev != dy->dev)
        return dx->dev < dy->dev ? -1 : 1;
    if (dx->ino != dy->ino)
        return dx->ino < dy->ino ? -1 : 1;
    int c = path_cmp(p->x->name, p->x->namelen, q->x->name, q->x->namelen);
    return c ? c : path_cmp(p->path, p->len, q->path, q->len);
}

/* --hardlinks, for an inode whose paths include aliases (one directory
 * entry reached from two PATHs): each entry once, by its smallest path. */
static int push_entries(struct report *r, struct buf *b, struct group *g, struct node *n)
{
    size_t k = 0;
    for (const struct node *x = n; x; x = x->links)
        k++;
    struct spelled *s = malloc(k * sizeof *s);
    if (!s)
        return -ENOMEM;
    k = 0;
    for (const struct node *x = n; x; x = x->links) {
        size_t len = 0;
        const char *p = node_out_path(x, b, &len);
        char *kept = p ? keep_path(r, p, len) : NULL;
        if (!kept) {
            free(s);
            return -ENOMEM;
        }
        s[k++] = (struct spelled){ .x = x, .path = kept, .len = len };
    }
    qsort(s, k, sizeof *s, entry_path_cmp);
    for (size_t i = 0; i < k; i++) /* the caller sized g->m for every path */
        if (i == 0 || !same_dir_entry(s[i - 1].x, s[i].x))
            g->m[g->n++] = (struct member){ .path = s[i].path, .len = s[i].len, .node = n };
    free(s);
    return 0;
}

/* The members of one full group: each inode's smallest path, or (with
 * --hardlinks) all of its paths, aliases once. Members of one inode stay
 * together. */
static int collect(struct report *r, const struct options *o, const struct fgroup *f, struct group *g,
                   struct buf *b)
{
    size_t cap = 0; /* exactly the paths it will hold: groups are many and small */
    for (const struct node *n = f->first; n; n = n->m.next)
        for (const struct node *x = n; x; x = o->hardlinks ? x->links : NULL)
            cap++;
    *g = (struct group){ .size = f->size, .m = malloc(cap * sizeof *g->m) };
    if (!g->m)
        return -ENOMEM;
    memcpy(g->hash, f->hash, HASH_MAX);
    for (struct node *n = f->first; n; n = n->m.next) {
        if (o->hardlinks) {
            bool aliases = false;
            for (const struct node *x = n; x; x = x->links)
                aliases |= (x->g_flags & G_ALIAS) != 0;
            if (aliases && push_entries(r, b, g, n))
                return -ENOMEM;
            for (const struct node *x = n; x && !aliases; x = x->links)
                if (push(r, b, &g->m, &g->n, &cap, x, n))
                    return -ENOMEM;
            continue;
        }
        const struct node *best = n; /* the inode's bytewise smallest path */
        struct buf bb = { 0 };       /* best's path */
        size_t best_len = 0;
        if (n->links && !node_out_path(n, &bb, &best_len))
            return -ENOMEM;
        for (const struct node *x = n->links; x; x = x->links) {
            size_t len = 0;
            const char *p = node_out_path(x, b, &len);
            bool smaller = p && path_cmp(p, len, bb.p, best_len) < 0;
            if (smaller) {
                bb.len = 0;
                best = x;
                best_len = len;
            }
            if (!p || (smaller && buf_append(&bb, p, len))) {
                buf_free(&bb);
                return -ENOMEM;
            }
        }
        buf_free(&bb);
        if (push(r, b, &g->m, &g->n, &cap, best, n))
            return -ENOMEM;
    }
    return 0;
}

int report_build(struct dupes *d, struct report *r)
{
    const struct table *t = &d->full_groups;
    struct buf b = { 0 };
    int ret = 0;
    for (size_t i = 0; i < table_slots(t) && !ret; i++) {
        const struct fgroup *f = t->slot[i];
        if (!f || (f->count < 2 && !(d->opt->hardlinks && f->first->links)))
            continue;
        struct group g;
        ret = collect(r, d->opt, f, &g, &b);
        if (ret)
            free(g.m);
        else
            ret = report_add(r, d->opt, &g);
    }
    buf_free(&b);
    report_sort(r);
    return ret;
}

void report_sort(struct report *r)
{
    if (r->n)
        qsort(r->g, r->n, sizeof *r->g, group_cmp);
}

void report_free(struct report *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->g[i].m);
    free(r->g);
    arena_free_all(&r->paths);
    r->g = NULL;
    r->n = r->cap = 0;
}

uint64_t group_wasted(const struct group *g)
{
    return sat_mul(g->size, g->inodes - 1);
}
