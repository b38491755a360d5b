/* SPDX-License-Identifier: MIT */
/* Byte-by-byte verification of the groups (verify.h).
 *
 * A group is split into classes of identical files: each file is compared
 * with one member (the representative) of each class until one matches.
 * Both files are opened for each comparison (two descriptors at a time,
 * whatever the group's size) with the checks of every read -- the same
 * regular file, size, mtime and ctime as when it was listed -- and both are
 * re-stat'ed after it. A file that changed, vanished or could not be read
 * is left out (with a message); when it is a class's representative,
 * another member takes its place (they all matched it while it was
 * unchanged) and the comparison is made again. A stop signal ends the
 * verification: the groups verified so far are reported, marked partial.
 * The files of a group that split (one file differs from another with its
 * hash: a stale index row, or a collision) lose their hashes in the index
 * (index_forget): which one is stale cannot be told without reading them
 * all again, which the next run does. */
#include "verify.h"

#include "index.h"
#include "msg.h"
#include "read.h"
#include "signals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VCHUNK (256u * 1024u)

struct vbuf {
    uint8_t *a, *b;
    /* The files of the groups that split, for index_forget. */
    const struct node **stale;
    size_t nstale, stale_cap;
};

/* Note the files (distinct inodes) of a group that split. 0 or -ENOMEM. */
static int add_stale(struct vbuf *v, struct node *const *nodes, size_t n)
{
    if (v->stale_cap - v->nstale < n) {
        size_t cap = v->stale_cap ? v->stale_cap : 64;
        while (cap - v->nstale < n)
            cap *= 2;
        const struct node **p = realloc(v->stale, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        v->stale = p;
        v->stale_cap = cap;
    }
    memcpy(v->stale + v->nstale, nodes, n * sizeof *nodes);
    v->nstale += n;
    return 0;
}

static bool stopped(struct dupes *d)
{
    return signals_count() > 0 || atomic_load_explicit(&d->stop, memory_order_relaxed);
}

enum { SAME, DIFFERENT, A_FAILED, B_FAILED, STOPPED };

/* Compare the files behind fa and fb (na's size bytes), then check both are
 * unchanged. A_FAILED / B_FAILED: that file is to be left out (reported). */
static int compare(struct dupes *d, struct vbuf *v, int fa, struct node *na, int fb, struct node *nb)
{
    int res = SAME;
    for (uint64_t off = 0; off < na->size && res == SAME;) {
        if (stopped(d))
            return STOPPED;
        size_t want = na->size - off < VCHUNK ? (size_t)(na->size - off) : VCHUNK;
        ssize_t x = read_at(d, fa, v->a, want, off);
        if (x == -EINTR)
            return STOPPED; /* (a read a stop signal interrupted: read_at) */
        if (x != (ssize_t)want) {
            read_short(d, na, fa, x);
            return A_FAILED;
        }
        ssize_t y = read_at(d, fb, v->b, want, off);
        if (y == -EINTR)
            return STOPPED;
        if (y != (ssize_t)want) {
            read_short(d, nb, fb, y);
            return B_FAILED;
        }
        atomic_fetch_add_explicit(&d->c.bytes_read, 2 * want, memory_order_relaxed);
        if (memcmp(v->a, v->b, want) != 0)
            res = DIFFERENT;
        off += want;
    }
    if (read_restat(d, na, fa) != ST_OK)
        return A_FAILED;
    if (read_restat(d, nb, fb) != ST_OK)
        return B_FAILED;
    return res;
}

struct classes {
    struct node **nodes; /* the group's distinct inodes, in path order */
    size_t *node_of;     /* each member's index in nodes */
    int *cls_of;         /* each one's class, or -1: left out (or not yet placed) */
    size_t *rep;         /* each class's representative (a node index), or SIZE_MAX: none left */
    size_t n, ncls;
    bool split;          /* two files were compared and differ (not: a class lost its members) */
};

/* verify_group's table of the distinct inodes: node -> its index. */
struct seen {
    const struct node *n;
    size_t idx;
};

static uint64_t seen_hash(const void *e)
{
    return hash_mix((uint64_t)(uintptr_t)((const struct seen *)e)->n);
}

static bool seen_eq(const void *e, const void *key)
{
    return ((const struct seen *)e)->n == key;
}

/* A new representative for class c, in place of the one left out. */
static void replace_rep(struct classes *k, size_t c)
{
    k->rep[c] = SIZE_MAX;
    for (size_t j = 0; j < k->n; j++)
        if (k->cls_of[j] == (int)c) {
            k->rep[c] = j;
            return;
        }
}

/* Place node i (open as fd) in a class: SAME, B_FAILED (left out) or
 * STOPPED. */
static int place(struct dupes *d, struct vbuf *v, struct classes *k, size_t i, int fd)
{
    bool compared = false;
    for (size_t c = 0; c < k->ncls; c++) {
        while (k->rep[c] != SIZE_MAX) {
            size_t r = k->rep[c];
            uint8_t status;
            int rfd = read_open(d, k->nodes[r], &status);
            if (rfd < 0 && stopped(d))
                return STOPPED; /* (an open a stop signal interrupted: dropped) */
            int res = rfd < 0 ? A_FAILED : compare(d, v, rfd, k->nodes[r], fd, k->nodes[i]);
            if (rfd >= 0)
                close(rfd);
            if (res == A_FAILED) { /* the representative changed: another one */
                k->cls_of[r] = -1;
                replace_rep(k, c);
                continue;
            }
            if (res == SAME)
                k->cls_of[i] = (int)c;
            if (res == SAME || res == B_FAILED || res == STOPPED)
                return res;
            compared = k->split = true; /* DIFFERENT: the next class */
            break;
        }
    }
    if (compared)
        msg_node(k->nodes[i], "differs from the files with the same hash: reported apart");
    k->rep[k->ncls] = i;
    k->cls_of[i] = (int)k->ncls++;
    return SAME;
}

/* Split group g into its classes of identical files, each added to out. 0,
 * -ENOMEM, or -EINTR when a stop signal came (g is not added). */
static int verify_group(struct dupes *d, struct vbuf *v, struct group *g, struct report *out)
{
    struct classes k = { .nodes = malloc(g->n * sizeof *k.nodes), .node_of = malloc(g->n * sizeof *k.node_of),
                         .cls_of = malloc(g->n * sizeof *k.cls_of), .rep = malloc(g->n * sizeof *k.rep) };
    struct seen *ents = malloc(g->n * sizeof *ents);
    struct table seen = { 0 };
    int ret = -ENOMEM;
    if (!k.nodes || !k.node_of || !k.cls_of || !k.rep || !ents)
        goto done;
    for (size_t i = 0; i < g->n; i++) { /* distinct inodes: with --hardlinks, paths of one */
        struct node *n = g->m[i].node;
        uint64_t h = hash_mix((uint64_t)(uintptr_t)n);
        const struct seen *e = table_find(&seen, h, seen_eq, n);
        if (e) {
            k.node_of[i] = e->idx;
            continue;
        }
        ents[k.n] = (struct seen){ .n = n, .idx = k.n };
        if (table_add(&seen, h, &ents[k.n], seen_hash))
            goto done;
        k.node_of[i] = k.n;
        k.nodes[k.n++] = n;
    }
    for (size_t i = 0; i < k.n; i++) /* (replace_rep looks at the files not yet placed too) */
        k.cls_of[i] = -1;
    ret = 0;
    for (size_t i = 0; i < k.n && !ret; i++) {
        uint8_t status;
        int fd = read_open(d, k.nodes[i], &status);
        if (fd < 0 && stopped(d))
            ret = -EINTR; /* (maybe an open a stop signal interrupted: dropped) */
        if (fd < 0)
            continue; /* left out (reported) */
        if (place(d, v, &k, i, fd) == STOPPED)
            ret = -EINTR;
        close(fd);
    }
    /* Two files whose hashes agree and whose bytes do not: a stale hash or a
     * collision. (Not a class whose members all changed: another class
     * then begins without any comparison that failed.) */
    if (k.split && ret != -EINTR)
        ret = add_stale(v, k.nodes, k.n);
    for (size_t c = 0; c < k.ncls && !ret; c++) {
        struct group h = { .size = g->size, .m = malloc(g->n * sizeof *h.m) };
        memcpy(h.hash, g->hash, HASH_MAX);
        if (!h.m) {
            ret = -ENOMEM;
            break;
        }
        for (size_t i = 0; i < g->n; i++) /* the members of class c */
            if (k.cls_of[k.node_of[i]] == (int)c)
                h.m[h.n++] = g->m[i];
        ret = report_add(out, d->opt, &h);
    }
done:
    table_free(&seen);
    free(ents);
    free(k.nodes);
    free(k.node_of);
    free(k.cls_of);
    free(k.rep);
    return ret;
}

int verify_report(struct dupes *d, struct report *r)
{
    struct report out = { .partial = r->partial };
    struct vbuf v = { .a = malloc(VCHUNK), .b = malloc(VCHUNK) };
    int ret = v.a && v.b ? 0 : -ENOMEM;
    signals_restart(false); /* a read that blocks ends at the first signal */
    for (size_t i = 0; i < r->n && !ret; i++) {
        ret = stopped(d) ? -EINTR : verify_group(d, &v, &r->g[i], &out);
        if (ret == -EINTR) {
            out.partial = true;
            ret = 0;
            break;
        }
    }
    signals_restart(true);
    /* A read that ran out of memory (said, and it stopped the loop as a
     * signal would): no result, rather than one short of that file. */
    if (atomic_load_explicit(&d->failed, memory_order_relaxed))
        ret = -ENOMEM;
    /* (Also after a stop: what was found stale so far.) */
    if (!ret && v.nstale && d->index && index_forget(d->index, v.stale, v.nstale))
        ret = -EIO;
    free(v.stale);
    free(v.a);
    free(v.b);
    out.paths = r->paths; /* the members moved to out point into it */
    r->paths = (struct arena){ 0 };
    report_free(r);
    report_sort(&out);
    *r = out;
    return ret;
}
