/* SPDX-License-Identifier: MIT */
/* Building the printed groups (report.h). */
#include "report.h"

#include "path.h"

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

static void free_members(struct member *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(m[i].path);
    free(m);
}

static int push(struct member **m, size_t *n, size_t *cap, const struct node *x, struct node *owner)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct member *p = realloc(*m, c * sizeof *p);
        if (!p)
            return -ENOMEM;
        *m = p;
        *cap = c;
    }
    struct buf b = { 0 };
    size_t len = 0;
    if (!node_out_path(x, &b, &len))
        return -ENOMEM;
    (*m)[(*n)++] = (struct member){ .path = b.p, .len = len, .node = owner };
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
        free_members(g->m, g->n);
        return 0;
    }
    qsort(g->m, g->n, sizeof *g->m, member_cmp);
    struct group *p = realloc(r->g, (r->n + 1) * sizeof *p);
    if (!p) {
        free_members(g->m, g->n);
        return -ENOMEM;
    }
    r->g = p;
    r->g[r->n++] = *g;
    return 0;
}

/* The members of one full group: each inode's smallest path, or (with
 * --hardlinks) all of its paths. Members of one inode stay together. */
static int collect(const struct options *o, const struct fgroup *f, struct group *g)
{
    size_t cap = 0;
    *g = (struct group){ .size = f->size };
    memcpy(g->hash, f->hash, HASH_MAX);
    for (struct node *n = f->first; n; n = n->m.next) {
        if (o->hardlinks) {
            for (const struct node *x = n; x; x = x->links)
                if (push(&g->m, &g->n, &cap, x, n))
                    return -ENOMEM;
            continue;
        }
        if (push(&g->m, &g->n, &cap, n, n))
            return -ENOMEM;
        struct member *best = &g->m[g->n - 1];
        for (const struct node *x = n->links; x; x = x->links) {
            struct buf b = { 0 };
            size_t len = 0;
            if (!node_out_path(x, &b, &len))
                return -ENOMEM;
            if (member_cmp(&(struct member){ .path = b.p, .len = len }, best) < 0) {
                free(best->path);
                best->path = b.p;
                best->len = len;
            } else
                buf_free(&b);
        }
    }
    return 0;
}

int report_build(struct dupes *d, struct report *r)
{
    const struct table *t = &d->full_groups;
    for (size_t i = 0; i < table_slots(t); i++) {
        const struct fgroup *f = t->slot[i];
        if (!f || (f->count < 2 && !(d->opt->hardlinks && f->first->links)))
            continue;
        struct group g;
        if (collect(d->opt, f, &g)) {
            free_members(g.m, g.n);
            return -ENOMEM;
        }
        if (report_add(r, d->opt, &g))
            return -ENOMEM;
    }
    report_sort(r);
    return 0;
}

void report_sort(struct report *r)
{
    if (r->n)
        qsort(r->g, r->n, sizeof *r->g, group_cmp);
}

void report_free(struct report *r)
{
    for (size_t i = 0; i < r->n; i++)
        free_members(r->g[i].m, r->g[i].n);
    free(r->g);
    r->g = NULL;
    r->n = 0;
}

uint64_t group_wasted(const struct group *g)
{
    return g->size * (g->inodes - 1);
}
