/* SPDX-License-Identifier: MIT */
/* The matcher: one thread that receives every hash result and groups.
 *
 * - A partial result joins the group of files with its size and partial
 *   hash. When a group gets its second member, both (and every later one)
 *   need their full hash: known from the index, or a full job for the
 *   readers (level 1 below 1 MiB, level 0 above, so small files pass big
 *   ones). Files of at most 2 * BLK bytes were read whole: their full hash
 *   is already there.
 * - A full result joins the final group of its size and full hash (the
 *   table main prints from).
 * - Every hash that was read becomes an index row.
 * - It is done when the grouper's END has come and every result announced
 *   (by the grouper's count and by its own full jobs) has arrived; then it
 *   releases its jobs sender, which lets the readers finish.
 *
 * With --hardlinks a group counts paths, not inodes: RES_LINK messages
 * from the grouper bring the paths found after a file was sent on. */
#include "debug.h"
#include "dupes.h"
#include "index.h"
#include "msg.h"
#include "read.h"
#include "satcount.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RES_BATCH 256
#define OUT_BATCH 256
#define BIG_FILE (1u << 20)

struct pgroup {
    uint64_t size;
    uint8_t partial[PARTIAL_LEN];
    struct node *first;
    uint32_t count;
    bool active;
};

struct matcher {
    struct dupes *d;
    struct table partials;
    struct arena arena;
    struct job jobs[OUT_BATCH];
    struct row rows[OUT_BATCH];
    size_t njobs, nrows;
    uint64_t expected, received;
    bool end_seen;
    bool lost;           /* jobs were lost (a failure, reported): stop waiting */
};

static uint64_t pkey_hash(uint64_t size, const uint8_t *h)
{
    uint64_t a, b;
    memcpy(&a, h, 8);
    memcpy(&b, h + 8, 8);
    return hash_mix2(size ^ a, b);
}

static uint64_t pgroup_hash(const void *e)
{
    const struct pgroup *g = e;
    return pkey_hash(g->size, g->partial);
}

static bool pgroup_eq(const void *e, const void *key)
{
    const struct pgroup *g = e;
    const struct node *n = key;
    return g->size == n->size && memcmp(g->partial, n->partial, PARTIAL_LEN) == 0;
}

static uint64_t fgroup_hash(const void *e)
{
    const struct fgroup *g = e;
    return pkey_hash(g->size, g->hash);
}

static bool fgroup_eq(const void *e, const void *key)
{
    const struct fgroup *g = e;
    const struct node *n = key;
    return g->size == n->size && memcmp(g->hash, n->full, HASH_MAX) == 0;
}

static void fail(struct matcher *m)
{
    dupes_oom(m->d);
}

static void flush(struct matcher *m)
{
    struct dupes *d = m->d;
    if (m->nrows) {
        if (d->rows_tx)
            stage_send(d, d->rows_tx, m->rows, m->nrows, sizeof *m->rows, 0);
        m->nrows = 0;
    }
    /* Small files first, each level in one call. */
    for (unsigned level = 1; m->njobs; level--) {
        struct job tmp[OUT_BATCH];
        size_t n = 0, keep = 0;
        for (size_t i = 0; i < m->njobs; i++) {
            bool small = m->jobs[i].node->size < BIG_FILE;
            if (small == (level == 1))
                tmp[n++] = m->jobs[i];
            else
                m->jobs[keep++] = m->jobs[i];
        }
        m->njobs = keep;
        if (n && stage_send(d, d->jobs_tx, tmp, n, sizeof *tmp, level) < n)
            m->lost = true; /* their results will never come: stop waiting */
        if (level == 0)
            break;
    }
}

static void put_row(struct matcher *m, const struct node *n)
{
    if (!m->d->index)
        return;
    row_of_node(&m->rows[m->nrows++], n);
    if (m->nrows == OUT_BATCH)
        flush(m);
}

static void add_full(struct matcher *m, struct node *n)
{
    struct table *t = &m->d->full_groups;
    uint64_t h = pkey_hash(n->size, n->full);
    struct fgroup *g = table_find(t, h, fgroup_eq, n);
    if (!g) {
        g = arena_alloc(&m->d->match_arena, sizeof *g);
        if (!g || table_add(t, h, g, fgroup_hash)) {
            fail(m);
            return;
        }
        *g = (struct fgroup){ .size = n->size };
        memcpy(g->hash, n->full, HASH_MAX);
    }
    n->m_state = M_FULL;
    n->m.next = g->first;
    g->first = n;
    g->count++;
}

static void need_full(struct matcher *m, struct node *n)
{
    if (n->have & HAVE_FULL) {
        add_full(m, n);
        return;
    }
    if (atomic_load_explicit(&m->d->stop, memory_order_relaxed))
        return;
    n->m_state = M_FULL_WAIT;
    m->expected++;
    sat_add_atomic(&m->d->c.to_read, n->size);
    m->jobs[m->njobs++] = (struct job){ .node = n, .kind = JOB_FULL };
    if (m->njobs == OUT_BATCH)
        flush(m);
}

/* add more members (paths or inodes) to n's partial group */
static void count_partial(struct matcher *m, struct pgroup *g, struct node *n, uint32_t add)
{
    g->count += add;
    if (g->count < 2)
        return;
    if (!g->active) {
        g->active = true;
        if (g->first != n)
            need_full(m, g->first);
    }
    if (n->m_state == M_PARTIAL)
        need_full(m, n);
}

static void partial_done(struct matcher *m, struct node *n, uint32_t links)
{
    n->m_links += links;
    if (n->size <= 2 * BLK) { /* read whole: the partial hash was the full one */
        add_full(m, n);
        return;
    }
    uint64_t h = pkey_hash(n->size, n->partial);
    struct pgroup *g = table_find(&m->partials, h, pgroup_eq, n);
    if (!g) {
        g = arena_alloc(&m->arena, sizeof *g);
        if (!g || table_add(&m->partials, h, g, pgroup_hash)) {
            fail(m);
            return;
        }
        *g = (struct pgroup){ .size = n->size, .first = n };
        memcpy(g->partial, n->partial, PARTIAL_LEN);
    }
    n->m_state = M_PARTIAL;
    n->m.pg = g;
    count_partial(m, g, n, 1 + (m->d->opt->hardlinks ? n->m_links : 0));
}

static void take(struct matcher *m, const struct result *r)
{
    struct dupes *d = m->d;
    struct node *n = r->node;
    switch (r->kind) {
    case RES_END:
        m->end_seen = true;
        m->expected += r->count;
        return;
    case RES_LINK:
        if (n->m_state == M_NONE)
            n->m_links += r->links;
        else if (n->m_state == M_PARTIAL)
            count_partial(m, n->m.pg, n, r->links);
        return;
    }
    m->received++;
    if (r->status == ST_STALE)
        put_row(m, n); /* (without hashes: the next run reads it afresh) */
    if (r->status != ST_OK)
        return;
    if (!r->known) {
        put_row(m, n);
        debug_count(DBG_HASH, 1);
    }
    if (r->kind == RES_PARTIAL) {
        atomic_fetch_add_explicit(&d->c.hashed, 1, memory_order_relaxed);
        partial_done(m, n, r->links);
    } else
        add_full(m, n);
}

void *matcher_main(void *arg)
{
    struct dupes *d = arg;
    struct matcher ms = { .d = d }; /* (32 KB: on the stack, it cannot fail) */
    struct matcher *m = &ms;
    struct result batch[RES_BATCH];
    while (!m->lost && (!m->end_seen || m->received < m->expected)) {
        ssize_t n = ferry_recv(d->results_rx, batch, RES_BATCH);
        if (n <= 0)
            break; /* closed after a lost result (a failure, reported) */
        for (ssize_t i = 0; i < n; i++)
            take(m, &batch[i]);
        flush(m);
    }
    /* Every result is in (unless the run stopped first, or results were
     * lost): from now on a signal changes nothing. */
    int running = SCAN_RUNNING;
    if (!m->lost && m->end_seen && m->received >= m->expected)
        atomic_compare_exchange_strong_explicit(&d->scan_end, &running, SCAN_COMPLETE, memory_order_acq_rel,
                                                memory_order_acquire); /* (pairs with main's) */
    debug_count(DBG_MATCHED, 1); /* (test hook: a signal now, with every result in) */
    flush(m);
    ferry_tx_release(d->jobs_tx);
    if (d->rows_tx)
        ferry_tx_release(d->rows_tx);
    ferry_rx_release(d->results_rx);
    table_free(&m->partials);
    arena_free_all(&m->arena);
    stage_thread_done(d, STAGE_MATCH);
    char done = 'D';
    if (write(d->wake_fd, &done, 1) != 1)
        msg("cannot wake the main thread");
    return NULL;
}
