/* SPDX-License-Identifier: MIT */
/* The grouper: one thread that sees every file the walkers find.
 *
 * - Hard links collapse by (dev, inode) before anything is read: a second
 *   path of a known inode becomes a link of its node and is never hashed.
 *   A path that names a directory entry already seen (the same directory
 *   and name, reached from two PATHs such as "t" and "./t", or through a
 *   symlinked PATH or a bind mount) is an alias, not a further link: one
 *   file is never its own duplicate. The entries of inodes with several
 *   paths are kept in a table, so a file with 65,000 links costs 65,000
 *   lookups, not their square.
 * - The index (loaded here at the start, while the walkers already run)
 *   says whether a file's row is current: same (dev, inode), size and
 *   mtime, and the same ctime -- or another path, the same birth time and
 *   one name (a rename moves the ctime: a moved file keeps its hashes and
 *   costs no read; a new file that reuses a deleted file's inode is born
 *   later; a file with several names is kept under any one of them). A
 *   current row's hashes are used as they are.
 * - Size grouping: a file goes on only once another file has its size.
 *   Then it is sent to the readers for its partial hash (jobs channel, top
 *   level), or, with a partial hash known from the index, straight to the
 *   matcher (results channel).
 * - When the walk ends: index rows for files that were never hashed and
 *   whose row is not current, deletions for indexed files the walk did not
 *   find, and an END message telling the matcher how many results to await.
 */
#include "debug.h"
#include "dupes.h"
#include "hash.h"
#include "index.h"
#include "msg.h"
#include "path.h"
#include "satcount.h"

#include <stdlib.h>
#include <string.h>

#define OUT_BATCH 256

struct sgroup {
    uint64_t size;
    struct node *first;
    uint32_t count;      /* inodes (paths with --hardlinks) */
    bool active;
};

struct grouper {
    struct dupes *d;
    struct table inodes, sizes, idx;
    struct table entries; /* directory entries of the inodes with several paths */
    struct arena arena;
    struct job jobs[OUT_BATCH];
    struct result res[OUT_BATCH];
    struct row rows[OUT_BATCH];
    size_t njobs, nres, nrows;
    uint64_t issued;     /* results the matcher will receive from us or the readers */
    struct buf path;
};

static uint64_t node_hash(const void *e)
{
    const struct node *n = e;
    return index_key_hash(n->dev, n->ino);
}

static bool node_eq(const void *e, const void *key)
{
    const struct node *a = e, *b = key;
    return a->dev == b->dev && a->ino == b->ino;
}

static uint64_t size_hash(const void *e)
{
    return hash_mix(((const struct sgroup *)e)->size);
}

static bool size_eq(const void *e, const void *key)
{
    return ((const struct sgroup *)e)->size == *(const uint64_t *)key;
}

static bool entry_eq(const void *e, const void *key)
{
    const struct index_entry *a = e;
    const struct node *b = key;
    return a->dev == b->dev && a->ino == b->ino;
}

static void fail(struct grouper *g)
{
    dupes_oom(g->d);
}

static void flush(struct grouper *g)
{
    struct dupes *d = g->d;
    if (g->nres) {
        send_counted(d, d->results_tx, g->res, g->nres, sizeof *g->res, 0);
        g->nres = 0;
    }
    if (g->njobs) {
        uint64_t bytes = 0;
        for (size_t i = 0; i < g->njobs; i++) {
            uint64_t s = g->jobs[i].node->size;
            bytes += s <= 2 * BLK ? s : 2 * BLK;
        }
        sat_add_atomic(&d->c.to_read, bytes);
        send_counted(d, d->jobs_tx, g->jobs, g->njobs, sizeof *g->jobs, 2);
        g->njobs = 0;
    }
    if (g->nrows) {
        if (d->rows_tx)
            stage_send(d, d->rows_tx, g->rows, g->nrows, sizeof *g->rows, 0);
        g->nrows = 0;
    }
}

static void put_row(struct grouper *g, const struct node *n)
{
    if (!g->d->index)
        return;
    row_of_node(&g->rows[g->nrows++], n);
    if (g->nrows == OUT_BATCH)
        flush(g);
}

static void push_result(struct grouper *g, struct node *n, uint8_t kind, uint32_t links)
{
    g->res[g->nres++] = (struct result){ .node = n, .kind = kind, .status = ST_OK, .links = links,
                                         .known = true };
    if (g->nres == OUT_BATCH)
        flush(g);
}

/* n's size is shared: on to its partial hash. */
static void activate(struct grouper *g, struct node *n)
{
    n->g_flags |= G_ACTIVE;
    uint32_t links = g->d->opt->hardlinks ? n->g_paths - 1 : 0;
    /* (An empty file is read too, --empty: a size of 0 may hide contents,
     * as /proc's files do; read.c.) */
    g->issued++;
    if (n->have & HAVE_PARTIAL) {
        push_result(g, n, RES_PARTIAL, links);
        return;
    }
    g->jobs[g->njobs++] = (struct job){ .node = n, .kind = JOB_PARTIAL, .links = links };
    if (g->njobs == OUT_BATCH)
        flush(g);
}

static struct sgroup *size_group(struct grouper *g, uint64_t size)
{
    uint64_t h = hash_mix(size);
    struct sgroup *s = table_find(&g->sizes, h, size_eq, &size);
    if (s)
        return s;
    s = arena_alloc(&g->arena, sizeof *s);
    if (!s || table_add(&g->sizes, h, s, size_hash)) {
        fail(g);
        return NULL;
    }
    *s = (struct sgroup){ .size = size };
    return s;
}

/* Count one more member (inode, or path) of a size group. */
static void join_size(struct grouper *g, struct sgroup *s, struct node *n)
{
    if (++s->count == 1) {
        s->first = n;
        return;
    }
    if (!s->active) {
        s->active = true;
        if (s->first != n)
            activate(g, s->first);
    }
    if (!(n->g_flags & G_ACTIVE))
        activate(g, n);
}

/* A directory entry: the directory (dev, inode) and the name in it. */
static uint64_t entry_hash(const void *e)
{
    const struct node *n = e;
    return hash_mix2(hash_mix2(n->dir->dev, n->dir->ino), index_path_hash(n->name, n->namelen));
}

static bool same_entry(const void *e, const void *key)
{
    return same_dir_entry(e, key);
}

/* Is n's directory entry one seen already? Records it if not. */
static bool seen_entry(struct grouper *g, struct node *n)
{
    uint64_t h = entry_hash(n);
    if (table_find(&g->entries, h, same_entry, n))
        return true;
    if (table_add(&g->entries, h, n, entry_hash))
        fail(g);
    return false;
}

/* Another path of an inode we know. */
static void add_link(struct grouper *g, struct node *old, struct node *n)
{
    if (!old->links)
        seen_entry(g, old); /* its first path, now that it has a second */
    bool alias = seen_entry(g, n);
    n->links = old->links;
    old->links = n;
    if (alias) { /* the report shows each entry once, by its smallest path */
        n->g_flags |= G_ALIAS;
        /* counted once in the totals (files_found); relaxed: a statistic */
        atomic_fetch_add_explicit(&g->d->c.aliases, 1, memory_order_relaxed);
        sat_add_atomic(&g->d->c.alias_bytes, n->size);
        return;
    }
    old->g_paths++;
    if (!g->d->opt->hardlinks || !size_eligible(g->d->opt, old->size))
        return;
    if (old->g_flags & G_ACTIVE) { /* the matcher counts it */
        push_result(g, old, RES_LINK, 1);
        return;
    }
    struct sgroup *s = size_group(g, old->size);
    if (s)
        join_size(g, s, old);
}

/* Compare with the index row; take its hashes when it is current. */
static void check_index(struct grouper *g, struct node *n)
{
    struct index_entry *e = table_find(&g->idx, index_key_hash(n->dev, n->ino), entry_eq, n);
    if (!e)
        return;
    e->seen = true;
    n->g_flags |= G_IN_INDEX;
    if (e->size != n->size || e->mtime_ns != n->mtime_ns)
        return;
    if (e->ctime_ns != n->ctime_ns) {
        /* Renamed or moved (the ctime moves with it), or changed with its
         * mtime put back: the path tells them apart. Or a new file under
         * another path that reuses a deleted file's inode (ext4 does at
         * once) with its size and mtime (cp -p, tar, rsync): the birth
         * time tells that apart (a row without one is read again). */
        if (e->btime_ns != n->btime_ns)
            return;
        /* A file with several names is stored under the one the walk met
         * first, which another run may meet second: a different path is
         * then no sign of a rename, and one of its names may have been
         * rewritten in place with its mtime put back (cp -p onto it). */
        if (n->g_flags & G_LINKS)
            return;
        size_t len = 0;
        const char *p = node_abs_path(n, &g->path, &len);
        if (!p || index_path_hash(p, len) == e->path_hash)
            return;
        n->g_flags |= G_RENAMED;
    }
    n->g_flags |= G_ROW_CURRENT;
    n->have = e->have;
    n->indexed = (e->have & HAVE_PARTIAL) != 0;
    memcpy(n->partial, e->partial, PARTIAL_LEN);
    memcpy(n->full, e->full, HASH_MAX);
    if (n->g_flags & G_RENAMED)
        put_row(g, n); /* new path and ctime, same hashes */
}

static void take(struct grouper *g, struct node *n)
{
    uint64_t h = index_key_hash(n->dev, n->ino);
    struct node *old = table_find(&g->inodes, h, node_eq, n);
    if (old) {
        add_link(g, old, n);
        return;
    }
    if (table_add(&g->inodes, h, n, node_hash)) {
        fail(g);
        return;
    }
    n->g_paths = 1;
    check_index(g, n);
    if (!size_eligible(g->d->opt, n->size))
        return;
    struct sgroup *s = size_group(g, n->size);
    if (s)
        join_size(g, s, n);
}

/* With -x the walk leaves other file systems below a PATH alone: is dev
 * one that a PATH is on (the rows of the others are not the walk's to
 * delete: a later run without -x would read those files again)? */
static bool walked_dev(const struct dupes *d, uint64_t dev, uint64_t *last_other)
{
    if (!d->opt->one_fs || dev == *last_other)
        return !d->opt->one_fs;
    for (int i = 0; i < d->nroots; i++)
        if ((uint64_t)d->roots[i].dev == dev)
            return true;
    *last_other = dev; /* (most often the one other device: looked up once) */
    return false;
}

/* The walk is over and complete: rows for what was never hashed, deletions
 * for what the walk did not find. */
static void walk_end_rows(struct grouper *g)
{
    for (size_t i = 0; i < table_slots(&g->inodes); i++) {
        struct node *n = g->inodes.slot[i];
        if (n && !(n->g_flags & (G_ACTIVE | G_ROW_CURRENT)))
            put_row(g, n);
    }
    if (atomic_load_explicit(&g->d->walk_incomplete, memory_order_relaxed))
        return; /* a directory went unread: its files may still exist */
    uint64_t other_dev = UINT64_MAX; /* (no device has this number) */
    for (size_t i = 0; i < table_slots(&g->idx); i++) {
        struct index_entry *e = g->idx.slot[i];
        if (!e || e->seen || !walked_dev(g->d, e->dev, &other_dev))
            continue;
        struct row *r = &g->rows[g->nrows++];
        memset(r, 0, sizeof *r);
        r->kind = ROW_DELETE;
        r->dev = e->dev;
        r->ino = e->ino;
        if (g->nrows == OUT_BATCH)
            flush(g);
    }
}

void *grouper_main(void *arg)
{
    struct dupes *d = arg;
    struct grouper gs = { .d = d }; /* (40 KB: on the stack, it cannot fail) */
    struct grouper *g = &gs;
    if (d->index && index_load(d->index, d->roots, d->nroots, &g->idx, &g->arena) != 0) {
        d->index_unusable = true;
        dupes_fail(d);
    }
    struct node *batch[OUT_BATCH];
    ssize_t n;
    while ((n = ferry_recv(d->entries_rx, batch, OUT_BATCH)) > 0) {
        if (atomic_load_explicit(&d->stop, memory_order_relaxed))
            continue; /* drain: the walkers are stopping */
        for (ssize_t i = 0; i < n; i++)
            take(g, batch[i]);
        flush(g);
    }
    atomic_store_explicit(&d->c.walk_done, true, memory_order_relaxed);
    if (!atomic_load_explicit(&d->stop, memory_order_relaxed))
        walk_end_rows(g);
    g->res[g->nres++] = (struct result){ .kind = RES_END, .count = g->issued };
    flush(g);
    ferry_rx_release(d->entries_rx);
    ferry_tx_release(d->jobs_tx);
    ferry_tx_release(d->results_tx);
    if (d->rows_tx)
        ferry_tx_release(d->rows_tx);
    d->inode_count = g->inodes.len;
    table_free(&g->inodes);
    table_free(&g->sizes);
    table_free(&g->idx);
    table_free(&g->entries);
    arena_free_all(&g->arena);
    buf_free(&g->path);
    stage_thread_done(d, STAGE_GROUP);
    return NULL;
}
