/* SPDX-License-Identifier: MIT */
/* Byte-by-byte verification of the groups (verify.h). */
#include "verify.h"

#include "msg.h"
#include "read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VCHUNK (256u * 1024u)

struct vbuf {
    uint8_t *a, *b;
};

/* 1 if the files behind fa and fb hold the same size bytes, 0 if not, -1
 * on a read error (reported). */
static int same_bytes(struct dupes *d, struct vbuf *v, int fa, struct node *na, int fb,
                      struct node *nb)
{
    for (uint64_t off = 0; off < na->size;) {
        size_t want = na->size - off < VCHUNK ? (size_t)(na->size - off) : VCHUNK;
        ssize_t x = pread(fa, v->a, want, (off_t)off);
        ssize_t y = pread(fb, v->b, want, (off_t)off);
        if (x != (ssize_t)want || y != (ssize_t)want) {
            if (x != (ssize_t)want)
                read_failed(d, na, x < 0 ? -errno : x);
            else
                read_failed(d, nb, y < 0 ? -errno : y);
            return -1;
        }
        atomic_fetch_add_explicit(&d->c.bytes_read, 2 * want, memory_order_relaxed);
        if (memcmp(v->a, v->b, want) != 0)
            return 0;
        off += want;
    }
    return 1;
}

struct cls {
    struct node *rep;
    int fd;
};

/* Split one group into classes of identical files. Each node gets the index
 * of its class in cls_of (or -1: left out). */
static int classify(struct dupes *d, struct vbuf *v, struct node **nodes, size_t n, int *cls_of,
                    struct cls *cls, size_t *ncls)
{
    *ncls = 0;
    for (size_t i = 0; i < n; i++) {
        cls_of[i] = -1;
        uint8_t status;
        int fd = read_open(d, nodes[i], &status);
        if (fd < 0)
            continue;
        for (size_t c = 0; c < *ncls && cls_of[i] < 0; c++) {
            int same = same_bytes(d, v, cls[c].fd, cls[c].rep, fd, nodes[i]);
            if (same < 0)
                break;
            if (same)
                cls_of[i] = (int)c;
        }
        if (cls_of[i] < 0) {
            if (*ncls > 0)
                msg_node(nodes[i], "differs from the files with the same hash: reported apart");
            cls[*ncls] = (struct cls){ .rep = nodes[i], .fd = fd };
            cls_of[i] = (int)(*ncls)++;
        } else
            close(fd);
    }
    return 0;
}

static int verify_group(struct dupes *d, struct vbuf *v, struct group *g, struct report *out)
{
    /* distinct inodes of the group */
    struct node **nodes = malloc(g->n * sizeof *nodes);
    int *cls_of = malloc(g->n * sizeof *cls_of);
    struct cls *cls = malloc(g->n * sizeof *cls);
    size_t n = 0, ncls = 0;
    int ret = -ENOMEM;
    if (!nodes || !cls_of || !cls)
        goto done;
    for (size_t i = 0; i < g->n; i++) {
        size_t j = 0;
        while (j < n && nodes[j] != g->m[i].node)
            j++;
        if (j == n)
            nodes[n++] = g->m[i].node;
    }
    classify(d, v, nodes, n, cls_of, cls, &ncls);
    for (size_t c = 0; c < ncls; c++) {
        struct group h = { .size = g->size };
        memcpy(h.hash, g->hash, HASH_MAX);
        h.m = malloc(g->n * sizeof *h.m);
        if (!h.m)
            goto done;
        /* members of class c, one inode's paths together */
        for (size_t k = 0; k < n; k++)
            for (size_t i = 0; cls_of[k] == (int)c && i < g->n; i++)
                if (g->m[i].node == nodes[k])
                    h.m[h.n++] = g->m[i];
        if (report_add(out, d->opt, &h))
            goto done;
    }
    ret = 0;
done:
    for (size_t c = 0; c < ncls; c++)
        close(cls[c].fd);
    free(nodes);
    free(cls_of);
    free(cls);
    return ret;
}

int verify_report(struct dupes *d, struct report *r)
{
    struct report out = { .partial = r->partial };
    struct vbuf v = { malloc(VCHUNK), malloc(VCHUNK) };
    int ret = v.a && v.b ? 0 : -ENOMEM;
    for (size_t i = 0; i < r->n && !ret; i++) {
        if (atomic_load_explicit(&d->stop, memory_order_relaxed)) {
            out.partial = true;
            break;
        }
        ret = verify_group(d, &v, &r->g[i], &out);
    }
    free(v.a);
    free(v.b);
    out.paths = r->paths; /* the members moved to out point into it */
    r->paths = (struct arena){ 0 };
    report_free(r);
    report_sort(&out);
    *r = out;
    return ret;
}
