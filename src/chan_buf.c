/* SPDX-License-Identifier: MIT */
/* Data path 1, locked: the buffer of rendezvous, unbounded, prioritized,
 * budgeted and large bounded channels -- one ring per priority level, a
 * weight budget -- all under the channel's lock (chan_buf.h).
 *
 * Invariants (under the lock):
 *  B1 count = the sum of the rings' len <= cap; bit l of nonempty is set
 *     iff ring l holds items;
 *  B2 weight = the sum of the buffered items' weights (with no weigh
 *     function every item weighs elem_size); weight <= budget, except that
 *     one item heavier than the budget is admitted into an empty channel
 *     (so that it cannot wedge it);
 *  B3 a ring's slots are a power of two; it grows by doubling to the
 *     largest backlog seen (bounded: at most the capacity rounded up) and
 *     keeps its storage; every size computed here is checked for overflow
 *     (growth fails with "no memory" rather than wrapping).
 * No atomics: everything here runs under the lock.
 */
#include "chan_op.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bounded channels whose whole storage (all levels) is at most this get it
 * at open, so that they never allocate again. */
#define PREALLOC_BYTES ((size_t)1 << 20)

static inline struct ferry__chan_buf *B(struct ferry_chan *c) { return &c->u.buf; }

/* The weight of one item, by the user's weigh callback (under the lock;
 * the caller holds cancellation off: ferry__nocancel_begin). */
static size_t weigh_one(struct ferry_chan *c, const char *item)
{
    ferry__callback_enter(c);
    size_t w = c->weigh(item, c->weigh_ctx);
    ferry__callback_leave(c);
    return w;
}

static size_t ring_slots(const struct ferry__ring *r) { return r->mask == SIZE_MAX ? 0 : r->mask + 1; }

/* Grow ring r to hold `need` more items (doubling, keeping the order).
 * Returns false on overflow or allocation failure (B3). */
static __attribute__((noinline)) bool ring_grow(struct ferry_chan *c, struct ferry__ring *r, size_t need)
{
    if (need > SIZE_MAX - r->len)
        return false;
    size_t slots = ring_slots(r);
    size_t want = slots ? slots : 16;
    if (c->cap != FERRY_UNBOUNDED) {
        /* Bounded: never more than the capacity rounded up (B3; cap >= 1
         * here, and len + need <= cap, so the loop below stops there). */
        size_t most = 1;
        while (most < c->cap && most <= SIZE_MAX / 2)
            most *= 2;
        if (want > most)
            want = most;
    }
    while (want < r->len + need) {
        if (want > SIZE_MAX / 2)
            return false;
        want *= 2;
    }
    if (want > SIZE_MAX / c->elem || (c->weigh && want > SIZE_MAX / sizeof(size_t)))
        return false;
    char *nb = malloc(want * c->elem);
    size_t *nw = NULL;
    if (!nb)
        return false;
    if (c->weigh) {
        nw = malloc(want * sizeof *nw);
        if (!nw) {
            free(nb);
            return false;
        }
    }
    /* Unwrap the live items to the start of the new buffer. */
    size_t first = slots ? slots - r->head : 0;
    if (first > r->len)
        first = r->len;
    if (r->len) {
        memcpy(nb, r->buf + r->head * c->elem, first * c->elem);
        memcpy(nb + first * c->elem, r->buf, (r->len - first) * c->elem);
        if (nw) {
            memcpy(nw, r->wt + r->head, first * sizeof *nw);
            memcpy(nw + first, r->wt, (r->len - first) * sizeof *nw);
        }
    }
    free(r->buf);
    free(r->wt);
    r->buf = nb;
    r->wt = nw;
    r->mask = want - 1;
    r->head = 0;
    return true;
}

/* Make room for `need` more items in ring r. */
static inline bool ring_reserve(struct ferry_chan *c, struct ferry__ring *r, size_t need)
{
    return need <= ring_slots(r) - r->len || ring_grow(c, r, need);
}

/* Copy k items into ring r at its tail (room reserved). */
static inline void ring_put(struct ferry_chan *c, struct ferry__ring *r, const char *src, size_t k)
{
    size_t slots = r->mask + 1;
    size_t tail = (r->head + r->len) & r->mask;
    size_t first = slots - tail < k ? slots - tail : k;
    ferry__copy_items(r->buf + tail * c->elem, src, first, c->elem);
    if (k > first)
        memcpy(r->buf, src + first * c->elem, (k - first) * c->elem);
    r->len += k;
}

/* Copy k items from the head of ring r into dst and remove them. */
static inline void ring_get(struct ferry_chan *c, struct ferry__ring *r, char *dst, size_t k)
{
    size_t slots = r->mask + 1;
    size_t first = slots - r->head < k ? slots - r->head : k;
    ferry__copy_items(dst, r->buf + r->head * c->elem, first, c->elem);
    if (k > first)
        memcpy(dst + first * c->elem, r->buf, (k - first) * c->elem);
    if (r->wt) {
        for (size_t i = 0; i < k; i++)
            B(c)->weight -= r->wt[(r->head + i) & r->mask];
    } else if (c->budget) {
        B(c)->weight -= k * c->elem; /* every item weighs elem_size */
    }
    r->head = (r->head + k) & r->mask;
    r->len -= k;
}

/* Account k items just put at level lvl (B1). */
static inline void buffer_added(struct ferry_chan *c, unsigned lvl, size_t k)
{
    B(c)->count += k;
    B(c)->nonempty |= 1ull << lvl;
    c->st.items_sent += k;
}

/* Does an item of weight w fit now (its predecessors in this run adding
 * `pending` items of weight `total`)? B2: an item heavier than the whole
 * budget still goes in when the channel is empty. No sum here can wrap:
 * total <= budget - w is tested only once w <= budget. */
static inline bool weight_fits(const struct ferry_chan *c, size_t pending, size_t total, size_t w)
{
    return (B((struct ferry_chan *)c)->count == 0 && pending == 0) || (w <= c->budget && total <= c->budget - w);
}

/* Budgeted channel with a weigh function: weigh a run of items (each once;
 * the one that does not fit keeps its weight in the op), then put the run
 * with one copy. */
#define WEIGH_RUN 64
static bool buffer_put_weighed(struct ferry_chan *c, ferry_op *op, struct ferry__ring *r)
{
    const char *src = (const char *)op->buf;
    struct ferry__chan_buf *b = B(c);
    while (op->done < op->n && b->count < c->cap) {
        size_t lim = op->n - op->done;
        if (lim > c->cap - b->count)
            lim = c->cap - b->count;
        if (lim > WEIGH_RUN)
            lim = WEIGH_RUN;
        if (!ring_reserve(c, r, lim))
            return false;
        size_t w[WEIGH_RUN], k = 0, total = b->weight;
        bool stopped = false;
        while (k < lim) {
            const char *item = src + (op->done + k) * c->elem;
            size_t wi = k == 0 && op->has_head_weight ? op->head_weight : weigh_one(c, item);
            if (!weight_fits(c, k, total, wi)) {
                op->head_weight = wi; /* weigh each item once */
                op->has_head_weight = true;
                stopped = true;
                break;
            }
            w[k++] = wi;
            total += wi; /* <= budget, or the one oversize item alone (B2) */
        }
        if (k == 0)
            break;
        op->has_head_weight = stopped; /* the cache holds the stopper's weight, or nothing */
        size_t tail = (r->head + r->len) & r->mask;
        for (size_t i = 0; i < k; i++)
            r->wt[(tail + i) & r->mask] = w[i];
        ring_put(c, r, src + op->done * c->elem, k);
        op->done += k;
        b->weight = total;
        buffer_added(c, op->prio, k);
        if (stopped)
            break;
    }
    return true;
}

/* The path's put: as many of op's remaining items as capacity and budget
 * allow. */
static bool buf_put(struct ferry_chan *c, ferry_op *op)
{
    struct ferry__chan_buf *b = B(c);
    struct ferry__ring *r = &b->rings[op->prio];
    if (c->weigh) {
        int cancel = ferry__nocancel_begin(); /* around the run's weigh calls */
        bool ok = buffer_put_weighed(c, op, r);
        ferry__nocancel_end(cancel);
        return ok;
    }
    size_t k = op->n - op->done;
    if (k > c->cap - b->count)
        k = c->cap - b->count;
    if (c->budget) {
        /* Every item weighs elem_size: the budget is a count bound. */
        size_t fit = b->weight < c->budget ? (c->budget - b->weight) / c->elem : 0;
        if (fit == 0 && b->count == 0)
            fit = 1; /* an oversize item on an empty channel (B2) */
        if (k > fit)
            k = fit;
    }
    if (k == 0)
        return true;
    if (!ring_reserve(c, r, k))
        return false;
    ring_put(c, r, (const char *)op->buf + op->done * c->elem, k);
    op->done += k;
    b->weight += c->budget ? k * c->elem : 0; /* k * elem <= budget - weight, or one item */
    buffer_added(c, op->prio, k);
    return true;
}

/* The path's room: would buf_put move at least one item of op now? (The
 * head item is weighed here at most once: its weight stays in the op.) */
static bool buf_room(struct ferry_chan *c, ferry_op *op)
{
    struct ferry__chan_buf *b = B(c);
    if (op->done >= op->n || b->count >= c->cap)
        return false;
    if (!c->budget)
        return true;
    if (!c->weigh)
        return b->count == 0 || (b->weight < c->budget && c->budget - b->weight >= c->elem);
    if (!op->has_head_weight) {
        int cancel = ferry__nocancel_begin();
        op->head_weight = weigh_one(c, (const char *)op->buf + op->done * c->elem);
        ferry__nocancel_end(cancel);
        op->has_head_weight = true;
    }
    return weight_fits(c, 0, b->weight, op->head_weight);
}

/* The path's take: up to max buffered items, highest level first. */
static size_t buf_take(struct ferry_chan *c, char *out, size_t max)
{
    struct ferry__chan_buf *b = B(c);
    size_t got = 0;
    while (got < max && b->nonempty) {
        unsigned lvl = 63u - (unsigned)__builtin_clzll(b->nonempty);
        struct ferry__ring *r = &b->rings[lvl];
        size_t k = r->len < max - got ? r->len : max - got;
        ring_get(c, r, out + got * c->elem, k);
        got += k;
        b->last_level = lvl;
        b->count -= k;
        if (r->len == 0)
            b->nonempty &= ~(1ull << lvl);
    }
    c->st.items_received += got;
    return got;
}

static bool buf_empty(struct ferry_chan *c) { return B(c)->count == 0; }

static void buf_close(struct ferry_chan *c) { (void)c; }

static void buf_drop_all(struct ferry_chan *c)
{
    struct ferry__chan_buf *b = B(c);
    for (unsigned lvl = 0; lvl < c->levels; lvl++) {
        struct ferry__ring *r = &b->rings[lvl];
        while (r->len) {
            if (c->drop) {
                ferry__callback_enter(c);
                c->drop(r->buf + r->head * c->elem, c->drop_ctx);
                ferry__callback_leave(c);
            }
            r->head = (r->head + 1) & r->mask;
            r->len--;
        }
    }
    b->count = b->weight = 0;
    b->nonempty = 0;
}

static void buf_stats(struct ferry_chan *c, struct ferry_chan_stats *st)
{
    st->len = B(c)->count;
    st->weight = B(c)->weight;
}

static int buf_init(struct ferry_chan *c)
{
    struct ferry__chan_buf *b = B(c);
    b->rings = calloc(c->levels, sizeof *b->rings);
    if (!b->rings)
        return -ENOMEM;
    for (unsigned i = 0; i < c->levels; i++)
        b->rings[i].mask = SIZE_MAX;
    /* A bounded channel whose full storage is small gets it now. Each
     * factor is bounded first, so that the product cannot wrap (B3). */
    if (c->cap == FERRY_UNBOUNDED || c->cap == 0 || c->cap > PREALLOC_BYTES || c->elem > PREALLOC_BYTES)
        return 0;
    size_t slots = 1;
    while (slots < c->cap)
        slots *= 2; /* the capacity rounded up, <= 2 * PREALLOC_BYTES */
    if (slots > PREALLOC_BYTES / c->elem / c->levels)
        return 0;
    for (unsigned i = 0; i < c->levels; i++)
        if (!ring_reserve(c, &b->rings[i], c->cap))
            return -ENOMEM;
    return 0;
}

static void buf_fini(struct ferry_chan *c)
{
    struct ferry__chan_buf *b = B(c);
    if (!b->rings)
        return;
    for (unsigned i = 0; i < c->levels; i++) {
        free(b->rings[i].buf);
        free(b->rings[i].wt);
    }
    free(b->rings);
}

/* The calls. Send fast path: nobody waits and everything fits -- no op, no
 * wakeups. Receive fast path: items are buffered and no sender waits for
 * the room. Otherwise the generic slow path (chan_move.c). */
static ssize_t buf_send(struct ferry_chan *c, const void *items, size_t n, unsigned prio, enum ferry__mode mode,
                        const struct timespec *deadline)
{
    struct ferry__chan_buf *b = B(c);
    ferry__chan_lock(c);
    if (FERRY_LIKELY(!c->closed && c->rx_refs != 0 && !c->budget && ferry_waitlist_empty(&c->sendq) &&
                     ferry_waitlist_empty(&c->recvq) && n <= c->cap - b->count &&
                     ring_reserve(c, &b->rings[prio], n))) {
        ring_put(c, &b->rings[prio], items, n);
        buffer_added(c, prio, n);
        c->st.batches_sent++;
        ferry__chan_unlock(c);
        return (ssize_t)n;
    }
    return ferry__chan_send_slow(c, items, n, 0, prio, mode, deadline);
}

static ssize_t buf_recv(struct ferry_chan *c, void *out, size_t max, enum ferry__mode mode,
                        const struct timespec *deadline)
{
    ferry__chan_lock(c);
    if (FERRY_LIKELY(B(c)->count > 0 && ferry_waitlist_empty(&c->sendq))) {
        size_t k = buf_take(c, out, max);
        c->st.batches_received++;
        ferry__chan_unlock(c);
        return (ssize_t)k;
    }
    return ferry__chan_recv_slow(c, out, max, 0, mode, deadline);
}

const struct ferry__chan_path ferry__chan_path_locked = {
    .name = "locked",
    .lockfree = false,
    .init = buf_init,
    .fini = buf_fini,
    .send = buf_send,
    .recv = buf_recv,
    .put = buf_put,
    .room = buf_room,
    .take = buf_take,
    .empty = buf_empty,
    .close = buf_close,
    .drop_all = buf_drop_all,
    .stats = buf_stats,
};
