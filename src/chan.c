/* SPDX-License-Identifier: MIT */
/* The batch channel: see include/ferry/chan.h and include/ferry/op.h.
 *
 * One lock protects everything: the per-level ring buffers, the two waiter
 * lists (receivers waiting for items, senders waiting for room) and the
 * counters. Every operation -- blocking or async, send or receive -- is a
 * ferry_op: blocking calls keep theirs on the stack and sleep on its state
 * word; async callers own theirs and are told through a waker. The code that
 * moves items never knows the difference.
 *
 * Invariants (under the lock):
 *  - receivers wait only while nothing is buffered and no sender is blocked,
 *    so a non-empty `recvq` implies an empty buffer and an empty `sendq`;
 *  - senders wait only while their next item does not fit, and a sender that
 *    arrives while others are blocked queues behind them (FIFO: nobody
 *    overtakes a blocked sender, so a heavy item is not starved by light ones);
 *  - a completed op is on no list; its result is set before it is taken.
 *
 * Completion protocol for an op (state word, see op_wake_* below):
 *   PENDING --(waiter decides to sleep)--> SLEEPING
 *   PENDING/SLEEPING --(completer, after unlock)--> DONE
 *   PENDING --(canceller, after finding the op already taken)--> CANCELLING
 *   CANCELLING --(completer)--> DONE, waker not called
 */
#include <ferry/chan.h>
#include <ferry/op.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futex.h"

enum { OP_RECV = 1, OP_SEND = 2 };
enum { ST_PENDING = 0, ST_SLEEPING = 1, ST_CANCELLING = 2, ST_DONE = 3 };

#define TX_MAGIC 0x66547821u /* "fTx!" */
#define RX_MAGIC 0x66527821u /* "fRx!" */
#define DEAD_MAGIC 0xdeadc4a1u

struct ferry_tx {
    uint32_t magic;
    struct ferry_chan *chan;
};
struct ferry_rx {
    uint32_t magic;
    struct ferry_chan *chan;
};

/* One ring per priority level. Slots are a power of two; `wt` (budgeted
 * channels only) holds each buffered item's weight, at the same index. */
struct ring {
    char *buf;
    size_t *wt;
    size_t mask; /* slots - 1, or SIZE_MAX when no storage yet */
    size_t head;
    size_t len;
};

/* The wake gate lets ferry_op_cancel wait until a completer that has already
 * decided to call an op's waker has returned from it (the waker may not run
 * after cancel returns). Completers that wake async ops count themselves in
 * running[phase] while they wake; a canceller flips the phase and waits for
 * the old one to drain. */
struct gate {
    unsigned phase;                    /* under the lock */
    FERRY_ATOMIC(uint32_t) running[2]; /* completers waking, per phase */
    FERRY_ATOMIC(uint32_t) waiting;    /* cancellers sleeping on running[] */
};

struct ferry_chan {
    pthread_mutex_t lock;
    ferry_waitlist recvq; /* receive ops waiting for items */
    ferry_waitlist sendq; /* send ops waiting for room     */
    size_t elem;
    size_t cap;    /* items; SIZE_MAX = unbounded */
    size_t budget; /* weight; 0 = none            */
    unsigned levels;
    uint64_t nonempty; /* bit per level with buffered items */
    size_t count;      /* items buffered, all levels        */
    size_t weight;     /* their weight                       */
    struct ring *rings;
    size_t (*weigh)(const void *, void *);
    void *weigh_ctx;
    void (*drop)(void *, void *);
    void *drop_ctx;
    const char *name;
    size_t tx_refs, rx_refs; /* handle counts, under the lock: they decide closing */
    /* Handles alive, for the memory's lifetime: a release drops its count only
     * after it has stopped touching the channel (it may still be waking
     * threads after it dropped tx_refs/rx_refs), and whoever drops the last
     * count frees. */
    FERRY_ATOMIC(size_t) live;
    bool closed; /* for sending */
    struct gate gate;
    struct ferry_chan_stats st;
    struct ferry_tx tx;
    struct ferry_rx rx;
    /* The lock-free ring (plain bounded channels only, see "Lock-free data
     * path" below); lf == false: none, everything goes through `rings`. */
    bool lf;
    char *lf_buf;                 /* cap * elem bytes                         */
    FERRY_ATOMIC(uint32_t) *lf_seq; /* per slot: its sequence number minus its index */
    size_t lf_mask;               /* cap - 1 when cap is a power of two, else SIZE_MAX */
    uint64_t lf_dropped;          /* ring items handed to drop (under the lock) */
    /* Hot words, each group on its own cache lines (padding, since the
     * struct comes from calloc and cannot rely on alignment). */
    char pad0[FERRY_CACHELINE];
    FERRY_ATOMIC(uint64_t) tail;       /* enqueue position | LF_CLOSED | LF_RXGONE */
    FERRY_ATOMIC(uint64_t) tx_batches; /* fast-path send calls                   */
    char pad1[FERRY_CACHELINE];
    FERRY_ATOMIC(uint64_t) head;       /* dequeue position                       */
    FERRY_ATOMIC(uint64_t) rx_batches; /* fast-path receive calls                */
    char pad2[FERRY_CACHELINE];
    /* Ops linked in sendq / recvq, plus the one deciding to link (written
     * under the lock, read by the fast paths). */
    FERRY_ATOMIC(uint32_t) tx_waiters;
    FERRY_ATOMIC(uint32_t) rx_waiters;
    char pad3[FERRY_CACHELINE];
};

/* Waiters taken under the lock, woken after it is dropped. While a thread
 * wakes them, its wake sets form a chain (a wake callback may call into the
 * channel and wake others), so that ferry_op_cancel called from inside a wake
 * callback can recognize ops this very thread is completing. */
struct wake {
    ferry_wakeset ws;
    int gate_phase; /* -1: holds no gate count */
    struct ferry_chan *chan;
    struct wake *outer; /* the wake set this thread was delivering before */
};

static _Thread_local struct wake *tls_waking;

static const char *chan_name(const struct ferry_chan *c) { return c->name ? c->name : "(unnamed)"; }

static void chan_lock(struct ferry_chan *c) { pthread_mutex_lock(&c->lock); }
static void chan_unlock(struct ferry_chan *c) { pthread_mutex_unlock(&c->lock); }

static void wake_init(struct wake *wk, struct ferry_chan *c)
{
    ferry_wakeset_init(&wk->ws);
    wk->gate_phase = -1;
    wk->chan = c;
    wk->outer = NULL;
}

/* Drop the lock, then wake everything taken. */
static void unlock_and_wake(struct ferry_chan *c, struct wake *wk)
{
    chan_unlock(c);
    if (ferry_wakeset_empty(&wk->ws))
        return;
    wk->outer = tls_waking;
    tls_waking = wk;
    ferry_wakeset_wake(&wk->ws);
    tls_waking = wk->outer;
    if (wk->gate_phase >= 0) {
        /* seq_cst (release at least): pairs with the load in gate_wait, so a
         * canceller that sees the count drain also sees every waker call
         * finished; seq_cst with the `waiting` accesses so that either the
         * canceller sees the decrement or we see it waiting (Dekker). */
        uint32_t left = atomic_fetch_sub_explicit(&c->gate.running[wk->gate_phase], 1, memory_order_seq_cst) - 1;
        if (left == 0 && atomic_load_explicit(&c->gate.waiting, memory_order_seq_cst) != 0)
            ferry__futex_wake(&c->gate.running[wk->gate_phase], INT_MAX);
    }
}

/* ------------------------------------------------------------------------ */
/* Completing ops                                                            */

static void op_wake_blocking(ferry_waiter *w)
{
    ferry_op *op = ferry_container_of(w, ferry_op, waiter);
    /* Release: publishes the result and the items copied into the op's
     * buffer; pairs with the acquire loads in op_wait. */
    uint32_t prev = atomic_exchange_explicit(&op->state, ST_DONE, memory_order_release);
    if (prev == ST_SLEEPING)
        ferry__futex_wake(&op->state, 1); /* may hit reused memory: harmless */
}

static void op_wake_async(ferry_waiter *w)
{
    ferry_op *op = ferry_container_of(w, ferry_op, waiter);
    ferry_waker wk = op->waker; /* read before DONE: the op may go away then */
    /* acq_rel: release publishes the result (pairs with ferry_op_result's
     * acquire); acquire pairs with a canceller's CAS to CANCELLING. */
    uint32_t prev = atomic_exchange_explicit(&op->state, ST_DONE, memory_order_acq_rel);
    if (prev == ST_CANCELLING) {
        ferry__futex_wake(&op->state, 1); /* the canceller waits for DONE */
        return;
    }
    wk.wake(wk.ctx);
}

/* Under the lock: `op` is complete with `result`; take it off its list into
 * the wake set. */
static void op_complete(struct ferry_chan *c, ferry_op *op, ssize_t result, struct wake *wk)
{
    op->result = result;
    op->completer = wk;
    ferry_waitlist_move(op->kind == OP_RECV ? &c->recvq : &c->sendq, &op->waiter, &wk->ws);
    c->st.wakeups++;
    if (c->lf) /* relaxed: under the lock; a stale nonzero only costs a fast path a lock round */
        atomic_fetch_sub_explicit(op->kind == OP_RECV ? &c->rx_waiters : &c->tx_waiters, 1, memory_order_relaxed);
    if (op->kind == OP_SEND && op->done > 0)
        c->st.batches_sent++;
    if (op->kind == OP_RECV && result > 0)
        c->st.batches_received++;
    if (op->async) {
        if (wk->gate_phase < 0) {
            wk->gate_phase = (int)c->gate.phase;
            atomic_fetch_add_explicit(&c->gate.running[c->gate.phase], 1, memory_order_relaxed);
        }
        op->gate = (unsigned)wk->gate_phase + 1;
    }
}

/* ------------------------------------------------------------------------ */
/* Ring buffers                                                              */

static size_t ring_slots(const struct ring *r) { return r->mask == SIZE_MAX ? 0 : r->mask + 1; }

/* Copy k items. One pointer-sized item, the common case, is a single move
 * rather than a call into libc. */
static inline void copy_items(const struct ferry_chan *c, void *dst, const void *src, size_t k)
{
    if (k == 1 && c->elem == sizeof(void *))
        memcpy(dst, src, sizeof(void *));
    else
        memcpy(dst, src, k * c->elem);
}

/* ------------------------------------------------------------------------ */
/* Lock-free data path (plain bounded channels)                              */
/*
 * A channel with levels <= 1, no budget and 1 <= capacity < FERRY_UNBOUNDED
 * (storage at most LF_MAX_BYTES) keeps its items in a bounded MPMC ring with a
 * sequence number per slot (after D. Vyukov's bounded queue): slot i =
 * pos % cap is free for position pos when seq == 2*pos, holds the item of
 * position pos when seq == 2*pos + 1, and a consumer frees it for the next
 * lap with seq = 2*(pos + cap). (Doubled so that capacity 1 works: with
 * seq == pos + 1 for "full", a full slot would read as free for pos + 1.)
 * `tail` and `head` count claimed positions; a batch claims k consecutive
 * positions with one CAS after checking the k slots. The sequence numbers
 * are 32-bit (compared modulo 2^32; live values differ by at most 2*cap,
 * far below 2^31) and stored minus 2*index, so that zeroed memory is the
 * initial state.
 *
 * The mutex still guards the waiter lists and every slow path. Fast paths:
 *  - send: no blocked sender, no waiting receiver, open: claim and fill slots;
 *  - recv: no blocked sender: claim and empty slots.
 * Waking sleepers (Dekker): a party that is about to sleep increments its
 * side's waiter count (tx_waiters / rx_waiters, seq_cst, under the lock),
 * issues a seq_cst fence, and re-tries the ring before linking its op. A
 * fast-path party first publishes its slots (release stores of seq), then
 * issues a seq_cst fence and reads the other side's count. By the fence
 * rules, either the sleeper's retry sees the published slots, or the
 * publisher sees the count > 0 and takes the lock to move items between the
 * ring and the waiting ops (lf_settle). The one that must act is the one that
 * publishes the slot at the head (items) or frees the slot at the tail
 * (room): every publisher and every freer checks, so an out-of-order
 * completion by another thread cannot strand a sleeper.
 * Closing: LF_CLOSED / LF_RXGONE are bits in `tail`, set under the lock with
 * fetch_or, so a claim (CAS on tail) is atomic with the "still open" check:
 * every claim that succeeded is ordered before the close, and its items are
 * published later (received, or dropped by the releaser, who waits for the
 * publication). With LF_CLOSED set, head == tail means closed and drained.
 */
#define LF_CLOSED (1ull << 63)
#define LF_RXGONE (1ull << 62)
#define LF_BITS (LF_CLOSED | LF_RXGONE)
#define LF_MAX_BYTES ((size_t)64 << 20)
#define LF_MAX_CAP ((size_t)1 << 28)

static inline size_t lf_index(const struct ferry_chan *c, uint64_t pos)
{
    return c->lf_mask != SIZE_MAX ? (size_t)(pos & c->lf_mask) : (size_t)(pos % c->cap);
}

static inline size_t lf_next(const struct ferry_chan *c, size_t idx) { return idx + 1 == c->cap ? 0 : idx + 1; }

/* seq of slot idx (in the doubled domain, see above) compared with `want`: 0 equal, < 0 behind, > 0 ahead.
 * Acquire: pairs with the release store that set it (a producer's item
 * copy, or a consumer's finished read of the old item). */
static inline int32_t lf_cmp(const struct ferry_chan *c, size_t idx, uint64_t want)
{
    uint32_t s = atomic_load_explicit(&c->lf_seq[idx], memory_order_acquire) + 2 * (uint32_t)idx;
    return (int32_t)(s - (uint32_t)want);
}

static inline void lf_set(struct ferry_chan *c, size_t idx, uint64_t seq)
{
    atomic_store_explicit(&c->lf_seq[idx], (uint32_t)seq - 2 * (uint32_t)idx, memory_order_release);
}

/* Copy k items between the ring (from slot idx, wrapping) and `mem`. */
static inline void lf_copy(struct ferry_chan *c, size_t idx, char *mem, size_t k, bool in)
{
    size_t first = c->cap - idx < k ? c->cap - idx : k;
    char *slot = c->lf_buf + idx * c->elem;
    if (in)
        copy_items(c, slot, mem, first);
    else
        copy_items(c, mem, slot, first);
    if (k > first) {
        if (in)
            memcpy(c->lf_buf, mem + first * c->elem, (k - first) * c->elem);
        else
            memcpy(mem + first * c->elem, c->lf_buf, (k - first) * c->elem);
    }
}

/* Push up to n items without waiting; returns how many went in (0: full,
 * or closed). Any thread, with or without the lock. */
static size_t lf_push(struct ferry_chan *c, const char *src, size_t n)
{
    if (n == 0)
        return 0;
    uint64_t t = atomic_load_explicit(&c->tail, memory_order_relaxed);
    size_t k, idx0;
    for (;;) {
        if (t & LF_BITS)
            return 0;
        idx0 = lf_index(c, t);
        int32_t d = lf_cmp(c, idx0, 2 * t);
        if (d != 0) {
            if (d < 0)
                return 0; /* the slot still holds an item of the last lap: full */
            t = atomic_load_explicit(&c->tail, memory_order_relaxed); /* stale */
            continue;
        }
        k = 1;
        for (size_t idx = lf_next(c, idx0); k < n && lf_cmp(c, idx, 2 * (t + k)) == 0; idx = lf_next(c, idx))
            k++;
        /* Relaxed: the claim orders nothing by itself (the slot sequence
         * numbers carry the data); the RMW chain on tail orders claims
         * against the closing fetch_or. */
        if (atomic_compare_exchange_weak_explicit(&c->tail, &t, t + k, memory_order_relaxed, memory_order_relaxed))
            break;
    }
    lf_copy(c, idx0, (char *)(uintptr_t)src, k, true);
    size_t idx = idx0;
    for (size_t j = 0; j < k; j++, idx = lf_next(c, idx))
        lf_set(c, idx, 2 * (t + j) + 1); /* release: publishes the item (lf_cmp's acquire) */
    return k;
}

/* Pop up to max items without waiting; returns how many (0: nothing
 * published at the head). */
static size_t lf_pop(struct ferry_chan *c, char *dst, size_t max)
{
    if (max == 0)
        return 0;
    uint64_t h = atomic_load_explicit(&c->head, memory_order_relaxed);
    size_t k, idx0;
    for (;;) {
        idx0 = lf_index(c, h);
        int32_t d = lf_cmp(c, idx0, 2 * h + 1);
        if (d != 0) {
            if (d < 0)
                return 0; /* empty, or the head item not published yet */
            h = atomic_load_explicit(&c->head, memory_order_relaxed);
            continue;
        }
        k = 1;
        for (size_t idx = lf_next(c, idx0); k < max && lf_cmp(c, idx, 2 * (h + k) + 1) == 0; idx = lf_next(c, idx))
            k++;
        if (atomic_compare_exchange_weak_explicit(&c->head, &h, h + k, memory_order_relaxed, memory_order_relaxed))
            break;
    }
    lf_copy(c, idx0, dst, k, false);
    size_t idx = idx0;
    for (size_t j = 0; j < k; j++, idx = lf_next(c, idx))
        lf_set(c, idx, 2 * (h + j + c->cap)); /* release: our read is done before the slot is reused */
    return k;
}

/* Nothing claimed and not yet taken. Reads tail first: head never passes it. */
static inline bool lf_empty(struct ferry_chan *c)
{
    uint64_t t = atomic_load_explicit(&c->tail, memory_order_seq_cst) & ~LF_BITS;
    return atomic_load_explicit(&c->head, memory_order_seq_cst) == t;
}

/* Items in the ring now (approximate while others move them). */
static size_t lf_len(struct ferry_chan *c)
{
    uint64_t h = atomic_load_explicit(&c->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&c->tail, memory_order_relaxed) & ~LF_BITS;
    size_t n = t > h ? (size_t)(t - h) : 0;
    return n > c->cap ? c->cap : n;
}

/* Grow ring r to hold `need` more items (doubling, keeping the order).
 * Bounded channels never grow past the capacity rounded up to a power of
 * two. Returns false on allocation failure. */
static __attribute__((noinline)) bool ring_grow(struct ferry_chan *c, struct ring *r, size_t need)
{
    size_t slots = ring_slots(r);
    size_t want = slots ? slots : 16;
    while (want < r->len + need) {
        if (want > SIZE_MAX / 2)
            return false;
        want *= 2;
    }
    if (want > SIZE_MAX / c->elem)
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
static inline bool ring_reserve(struct ferry_chan *c, struct ring *r, size_t need)
{
    return r->len + need <= ring_slots(r) || ring_grow(c, r, need);
}

/* Copy k items into ring r at its tail (room reserved). */
static inline void ring_put(struct ferry_chan *c, struct ring *r, const char *src, size_t k)
{
    size_t slots = r->mask + 1;
    size_t tail = (r->head + r->len) & r->mask;
    size_t first = slots - tail < k ? slots - tail : k;
    copy_items(c, r->buf + tail * c->elem, src, first);
    if (k > first)
        memcpy(r->buf, src + first * c->elem, (k - first) * c->elem);
    r->len += k;
}

/* Copy k items from the head of ring r into dst and remove them. */
static inline void ring_get(struct ferry_chan *c, struct ring *r, char *dst, size_t k)
{
    size_t slots = r->mask + 1;
    size_t first = slots - r->head < k ? slots - r->head : k;
    copy_items(c, dst, r->buf + r->head * c->elem, first);
    if (k > first)
        memcpy(dst + first * c->elem, r->buf, (k - first) * c->elem);
    if (r->wt) {
        for (size_t i = 0; i < k; i++)
            c->weight -= r->wt[(r->head + i) & r->mask];
    } else if (c->budget) {
        c->weight -= k * c->elem; /* every item weighs elem_size */
    }
    r->head = (r->head + k) & r->mask;
    r->len -= k;
}

/* Account k items just put at level lvl. */
static inline void buffer_added(struct ferry_chan *c, unsigned lvl, size_t k)
{
    c->count += k;
    c->nonempty |= 1ull << lvl;
    c->st.items_sent += k;
}

/* Does an item of weight w fit now (its predecessors in this run adding
 * `pending` items of weight `total`)? An item heavier than the whole budget
 * still goes in when the channel is empty, so that it cannot wedge it. */
static inline bool weight_fits(const struct ferry_chan *c, size_t pending, size_t total, size_t w)
{
    return (c->count == 0 && pending == 0) || (w <= c->budget && total <= c->budget - w);
}

/* Budgeted channel with a weigh function: weigh a run of items (each once;
 * the one that does not fit keeps its weight in the op), then put the run
 * with one copy. */
#define WEIGH_RUN 64
static bool buffer_put_weighed(struct ferry_chan *c, ferry_op *op, struct ring *r)
{
    const char *src = (const char *)op->buf;
    while (op->done < op->n && c->count < c->cap) {
        size_t lim = op->n - op->done;
        if (lim > c->cap - c->count)
            lim = c->cap - c->count;
        if (lim > WEIGH_RUN)
            lim = WEIGH_RUN;
        if (!ring_reserve(c, r, lim))
            return false;
        size_t w[WEIGH_RUN], k = 0, total = c->weight;
        bool stopped = false;
        while (k < lim) {
            const char *item = src + (op->done + k) * c->elem;
            size_t wi = k == 0 && op->has_head_weight ? op->head_weight : c->weigh(item, c->weigh_ctx);
            if (!weight_fits(c, k, total, wi)) {
                op->head_weight = wi; /* weigh each item once */
                op->has_head_weight = true;
                stopped = true;
                break;
            }
            w[k++] = wi;
            total += wi;
        }
        if (k == 0)
            break;
        op->has_head_weight = stopped; /* the cache holds the stopper's weight, or nothing */
        size_t tail = (r->head + r->len) & r->mask;
        for (size_t i = 0; i < k; i++)
            r->wt[(tail + i) & r->mask] = w[i];
        ring_put(c, r, src + op->done * c->elem, k);
        op->done += k;
        c->weight = total;
        buffer_added(c, op->prio, k);
        if (stopped)
            break;
    }
    return true;
}

/* Move as many of op's remaining items into the buffer as capacity and
 * budget allow. Returns false if storage could not grow (nothing lost: the
 * items simply stay with the sender). */
static bool buffer_put(struct ferry_chan *c, ferry_op *op)
{
    if (c->lf) {
        op->done += lf_push(c, (const char *)op->buf + op->done * c->elem, op->n - op->done);
        return true;
    }
    struct ring *r = &c->rings[op->prio];
    if (c->weigh)
        return buffer_put_weighed(c, op, r);
    size_t k = op->n - op->done;
    if (k > c->cap - c->count)
        k = c->cap - c->count;
    if (c->budget) {
        /* Every item weighs elem_size: the budget is a count bound. */
        size_t fit = c->weight < c->budget ? (c->budget - c->weight) / c->elem : 0;
        if (fit == 0 && c->count == 0)
            fit = 1; /* an oversize item on an empty channel */
        if (k > fit)
            k = fit;
    }
    if (k == 0)
        return true;
    if (!ring_reserve(c, r, k))
        return false;
    ring_put(c, r, (const char *)op->buf + op->done * c->elem, k);
    op->done += k;
    c->weight += c->budget ? k * c->elem : 0;
    buffer_added(c, op->prio, k);
    return true;
}

/* Take up to max buffered items, highest level first. */
static size_t buffer_take(struct ferry_chan *c, char *out, size_t max)
{
    size_t got = 0;
    while (got < max && c->nonempty) {
        unsigned lvl = 63u - (unsigned)__builtin_clzll(c->nonempty);
        struct ring *r = &c->rings[lvl];
        size_t k = r->len < max - got ? r->len : max - got;
        ring_get(c, r, out + got * c->elem, k);
        got += k;
        c->count -= k;
        if (r->len == 0)
            c->nonempty &= ~(1ull << lvl);
    }
    c->st.items_received += got;
    return got;
}

/* ------------------------------------------------------------------------ */
/* Moving items between ops                                                  */

/* Sender `op` hands its items straight to waiting receivers (the buffer is
 * empty whenever receivers wait). Each receiver gets up to its max, oldest
 * receiver first; only receivers that get items are woken. */
static void handoff_to_receivers(struct ferry_chan *c, ferry_op *op, struct wake *wk)
{
    ferry_waiter *w;
    while (op->done < op->n && (w = ferry_waitlist_peek(&c->recvq, FERRY_ROUND_ALL)) != NULL) {
        ferry_op *rop = ferry_container_of(w, ferry_op, waiter);
        size_t k = op->n - op->done < rop->n ? op->n - op->done : rop->n;
        memcpy(rop->buf, (const char *)op->buf + op->done * c->elem, k * c->elem);
        op->done += k;
        rop->done = k;
        c->st.items_sent += k;
        c->st.items_received += k;
        c->st.handoffs += k;
        op_complete(c, rop, (ssize_t)k, wk);
    }
}

/* The blocked sender whose items a receiver should take next: the oldest at
 * the highest level. */
static ferry_op *next_sender(struct ferry_chan *c)
{
    ferry_waiter *w = ferry_waitlist_peek(&c->sendq, FERRY_ROUND_ALL);
    if (!w || c->levels == 1)
        return w ? ferry_container_of(w, ferry_op, waiter) : NULL;
    ferry_op *best = ferry_container_of(w, ferry_op, waiter);
    while ((w = ferry_waitlist_next(&c->sendq, w, FERRY_ROUND_ALL)) != NULL) {
        ferry_op *o = ferry_container_of(w, ferry_op, waiter);
        if (o->prio > best->prio)
            best = o;
    }
    return best;
}

/* The buffer is empty: receiver `op` takes items directly from blocked
 * senders (this is how a rendezvous channel moves anything). Senders whose
 * last item is taken complete. */
static void take_from_senders(struct ferry_chan *c, ferry_op *rop, struct wake *wk)
{
    ferry_op *s;
    while (rop->done < rop->n && (s = next_sender(c)) != NULL) {
        size_t k = s->n - s->done < rop->n - rop->done ? s->n - s->done : rop->n - rop->done;
        memcpy((char *)rop->buf + rop->done * c->elem, (const char *)s->buf + s->done * c->elem, k * c->elem);
        s->done += k;
        s->has_head_weight = false; /* the weighed item left through the side door */
        rop->done += k;
        c->st.items_sent += k;
        c->st.items_received += k;
        c->st.handoffs += k;
        if (s->done == s->n)
            op_complete(c, s, (ssize_t)s->n, wk);
    }
}

/* Room appeared: move blocked senders' items into the buffer, oldest sender
 * first, stopping at the first item that does not fit (a blocked sender is
 * never overtaken). Senders whose items are all in complete. */
static void refill_from_senders(struct ferry_chan *c, struct wake *wk)
{
    ferry_waiter *w;
    while ((w = ferry_waitlist_peek(&c->sendq, FERRY_ROUND_ALL)) != NULL) {
        ferry_op *s = ferry_container_of(w, ferry_op, waiter);
        if (!buffer_put(c, s) || s->done < s->n)
            return;
        op_complete(c, s, (ssize_t)s->n, wk);
    }
}

/* Complete every waiting op of a list with `result` (or, for senders that
 * moved something, the count). */
static void complete_all(struct ferry_chan *c, ferry_waitlist *q, ssize_t result, struct wake *wk)
{
    ferry_waiter *w;
    while ((w = ferry_waitlist_peek(q, FERRY_ROUND_ALL)) != NULL) {
        ferry_op *op = ferry_container_of(w, ferry_op, waiter);
        op_complete(c, op, op->kind == OP_SEND && op->done > 0 ? (ssize_t)op->done : result, wk);
    }
}

/* Lock-free channels, under the lock: move items between the ring and the
 * waiting ops until nothing more moves. Waiting receivers take published
 * items in ring order (oldest receiver first); blocked senders refill the
 * freed room (oldest first, never overtaken). Once closed and drained,
 * waiting receivers get 0. */
static void lf_settle(struct ferry_chan *c, struct wake *wk)
{
    for (;;) {
        bool moved = false;
        ferry_waiter *w;
        while ((w = ferry_waitlist_peek(&c->recvq, FERRY_ROUND_ALL)) != NULL) {
            ferry_op *rop = ferry_container_of(w, ferry_op, waiter);
            size_t k = lf_pop(c, (char *)rop->buf, rop->n);
            if (k == 0)
                break;
            rop->done = k;
            op_complete(c, rop, (ssize_t)k, wk);
            moved = true;
        }
        if (!ferry_waitlist_empty(&c->sendq) && !c->closed && c->rx_refs > 0) {
            uint64_t before = atomic_load_explicit(&c->tail, memory_order_relaxed);
            refill_from_senders(c, wk);
            moved |= atomic_load_explicit(&c->tail, memory_order_relaxed) != before;
        }
        if (!moved)
            break;
    }
    if (c->closed && !ferry_waitlist_empty(&c->recvq) && lf_empty(c))
        complete_all(c, &c->recvq, 0, wk);
}

/* ------------------------------------------------------------------------ */
/* Open, clone, release                                                      */

static void chan_free(struct ferry_chan *c);

static size_t next_pow2(size_t v)
{
    size_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

int ferry_chan_open(const ferry_chan_config *cfg, ferry_tx **tx, ferry_rx **rx)
{
    if (!cfg || !tx || !rx || cfg->elem_size == 0)
        return -EINVAL;
    unsigned levels = cfg->levels ? cfg->levels : 1;
    if (levels > FERRY_MAX_LEVELS)
        return -EINVAL;
    if (cfg->weigh && cfg->budget == 0) /* a weight with nothing to bound */
        return -EINVAL;
    if (cfg->capacity != FERRY_UNBOUNDED && cfg->capacity > SIZE_MAX / cfg->elem_size)
        return -EINVAL;
    struct ferry_chan *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->rings = calloc(levels, sizeof *c->rings);
    if (!c->rings) {
        free(c);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < levels; i++)
        c->rings[i].mask = SIZE_MAX;
    pthread_mutex_init(&c->lock, NULL);
    ferry_waitlist_init(&c->recvq, "receivers");
    ferry_waitlist_init(&c->sendq, "senders");
    c->elem = cfg->elem_size;
    c->cap = cfg->capacity;
    c->budget = cfg->budget;
    c->levels = levels;
    c->weigh = cfg->weigh;
    c->weigh_ctx = cfg->weigh_ctx;
    c->drop = cfg->drop;
    c->drop_ctx = cfg->drop_ctx;
    c->name = cfg->name;
    c->tx_refs = c->rx_refs = 1;
    atomic_store_explicit(&c->live, 2, memory_order_relaxed);
    c->tx.magic = TX_MAGIC;
    c->tx.chan = c;
    c->rx.magic = RX_MAGIC;
    c->rx.chan = c;
    /* A plain bounded channel whose ring fits LF_MAX_BYTES gets the
     * lock-free ring, allocated now (the sequence numbers zeroed: calloc). */
    if (levels == 1 && c->budget == 0 && c->cap >= 1 && c->cap <= LF_MAX_CAP &&
        c->cap <= LF_MAX_BYTES / (c->elem + sizeof *c->lf_seq)) {
        c->lf_buf = malloc(c->cap * c->elem);
        c->lf_seq = calloc(c->cap, sizeof *c->lf_seq);
        if (!c->lf_buf || !c->lf_seq) {
            chan_free(c);
            return -ENOMEM;
        }
        c->lf = true;
        c->lf_mask = (c->cap & (c->cap - 1)) == 0 ? c->cap - 1 : SIZE_MAX;
    }
    /* A bounded channel whose full storage is small (1 MiB, all levels) gets
     * it now, so it never allocates again. Larger and unbounded ones grow to
     * the largest backlog they see and keep it. */
    if (!c->lf && c->cap != FERRY_UNBOUNDED && c->cap > 0 && c->cap <= (1u << 20) &&
        next_pow2(c->cap) * c->elem * levels <= (1u << 20)) {
        for (unsigned i = 0; i < levels; i++) {
            if (!ring_reserve(c, &c->rings[i], c->cap)) {
                chan_free(c);
                return -ENOMEM;
            }
        }
    }
    *tx = &c->tx;
    *rx = &c->rx;
    return 0;
}

/* A handle's channel, after checking that it is a live handle of the kind
 * wanted (ferry_tx and ferry_rx share one layout: {magic, chan}). */
static struct ferry_chan *handle_chan(const void *h, uint32_t magic, const char *kind)
{
    const struct ferry_tx *hd = (const struct ferry_tx *)h;
    if (FERRY_UNLIKELY(!hd))
        return NULL;
    if (FERRY_UNLIKELY(hd->magic != magic))
        ferry__die("%p is not a live %s (magic %#x): released too often, or the other kind of handle", h, kind,
                   hd->magic);
    return hd->chan;
}

static struct ferry_chan *tx_chan(const ferry_tx *tx) { return handle_chan(tx, TX_MAGIC, "ferry_tx"); }
static struct ferry_chan *rx_chan(const ferry_rx *rx) { return handle_chan(rx, RX_MAGIC, "ferry_rx"); }

/* Count one more handle of a side (refs: &c->tx_refs or &c->rx_refs). */
static void clone_side(struct ferry_chan *c, size_t *refs, const char *kind)
{
    chan_lock(c);
    if (FERRY_UNLIKELY(*refs == 0))
        ferry__die("channel '%s': %s cloned after its last release", chan_name(c), kind);
    (*refs)++;
    atomic_fetch_add_explicit(&c->live, 1, memory_order_relaxed);
    chan_unlock(c);
}

/* Under the lock: drop one handle of a side; true if it was the last. */
static bool release_side(struct ferry_chan *c, size_t *refs, const char *kind)
{
    if (FERRY_UNLIKELY(*refs == 0))
        ferry__die("channel '%s': %s released more often than cloned", chan_name(c), kind);
    return --*refs == 0;
}

ferry_tx *ferry_tx_clone(ferry_tx *tx)
{
    struct ferry_chan *c = tx_chan(tx);
    if (c)
        clone_side(c, &c->tx_refs, "ferry_tx");
    return tx;
}

ferry_rx *ferry_rx_clone(ferry_rx *rx)
{
    struct ferry_chan *c = rx_chan(rx);
    if (c)
        clone_side(c, &c->rx_refs, "ferry_rx");
    return rx;
}

static void chan_free(struct ferry_chan *c)
{
    ferry_waitlist_fini(&c->recvq);
    ferry_waitlist_fini(&c->sendq);
    for (unsigned i = 0; i < c->levels; i++) {
        free(c->rings[i].buf);
        free(c->rings[i].wt);
    }
    free(c->rings);
    free(c->lf_buf);
    free(c->lf_seq);
    pthread_mutex_destroy(&c->lock);
    c->tx.magic = c->rx.magic = DEAD_MAGIC;
    free(c);
}

/* Drop one handle's hold on the memory; the last frees it. acq_rel: the
 * release orders this thread's use of the channel before the free; the
 * acquire makes the freeing thread see every other thread's use. */
static void chan_put(struct ferry_chan *c)
{
    if (atomic_fetch_sub_explicit(&c->live, 1, memory_order_acq_rel) == 1)
        chan_free(c);
}

/* Under the lock, last receiver gone: stop claims (LF_RXGONE), then hand
 * every claimed item to drop, waiting for the publication of items whose
 * senders claimed them before the bit (they are between their claim and
 * their release store: a short wait that needs no lock). */
static void lf_drop_all(struct ferry_chan *c)
{
    /* seq_cst RMW: every successful claim is before it in tail's order, and
     * its return value is the final tail. */
    uint64_t end = atomic_fetch_or_explicit(&c->tail, LF_RXGONE, memory_order_seq_cst) & ~LF_BITS;
    uint64_t h = atomic_load_explicit(&c->head, memory_order_relaxed);
    for (; h < end; h++) {
        size_t idx = lf_index(c, h);
        while (lf_cmp(c, idx, 2 * h + 1) < 0)
            sched_yield();
        if (c->drop)
            c->drop(c->lf_buf + idx * c->elem, c->drop_ctx);
        c->lf_dropped++;
        lf_set(c, idx, 2 * (h + c->cap));
        atomic_store_explicit(&c->head, h + 1, memory_order_relaxed);
    }
}

/* Under the lock: close for sending; waiting receivers get 0, waiting
 * senders what they sent or -EPIPE. */
static void close_locked(struct ferry_chan *c, struct wake *wk)
{
    if (c->closed)
        return;
    c->closed = true;
    if (c->lf) {
        /* seq_cst: claims (CAS on tail) after this fail; lf_empty below and
         * every later drained check see a frozen tail. Receivers waiting for
         * an item claimed before the close stay: its publisher settles them
         * (lf_settle then completes the rest with 0). */
        atomic_fetch_or_explicit(&c->tail, LF_CLOSED, memory_order_seq_cst);
        if (lf_empty(c))
            complete_all(c, &c->recvq, 0, wk);
    } else {
        complete_all(c, &c->recvq, 0, wk);
    }
    complete_all(c, &c->sendq, -EPIPE, wk);
}

/* Close for sending (close) and/or drop one sender (release): the last
 * sender's release closes too. */
static void tx_end(ferry_tx *tx, bool release)
{
    struct ferry_chan *c = tx_chan(tx);
    if (!c)
        return;
    struct wake wk;
    wake_init(&wk, c);
    chan_lock(c);
    if (!release || release_side(c, &c->tx_refs, "ferry_tx"))
        close_locked(c, &wk);
    unlock_and_wake(c, &wk);
    if (release)
        chan_put(c);
}

void ferry_tx_close(ferry_tx *tx) { tx_end(tx, false); }
void ferry_tx_release(ferry_tx *tx) { tx_end(tx, true); }

void ferry_rx_release(ferry_rx *rx)
{
    struct ferry_chan *c = rx_chan(rx);
    if (!c)
        return;
    struct wake wk;
    wake_init(&wk, c);
    chan_lock(c);
    if (release_side(c, &c->rx_refs, "ferry_rx")) {
        /* Nobody will receive: buffered items go to drop, senders learn. */
        if (c->lf)
            lf_drop_all(c);
        for (unsigned lvl = 0; lvl < c->levels; lvl++) {
            struct ring *r = &c->rings[lvl];
            while (r->len) {
                void *item = r->buf + r->head * c->elem;
                if (c->drop)
                    c->drop(item, c->drop_ctx);
                r->head = (r->head + 1) & r->mask;
                r->len--;
            }
        }
        c->count = c->weight = 0;
        c->nonempty = 0;
        complete_all(c, &c->sendq, -EPIPE, &wk);
        complete_all(c, &c->recvq, -EPIPE, &wk);
    }
    unlock_and_wake(c, &wk);
    chan_put(c);
}

/* ------------------------------------------------------------------------ */
/* Waiting                                                                   */

/* Polls of the completion word before sleeping: a completion already on its
 * way would otherwise cost a futex round trip. Only with more than two CPUs:
 * measured on an oversubscribed 2-CPU machine, spinning burns the time slice
 * that the thread being waited for needs (ping-pong 1.8x slower). */
#define SPIN_POLLS 64

static int spin_polls(void)
{
    static FERRY_ATOMIC(int) cached = -1; /* relaxed: any thread may compute it */
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        v = sysconf(_SC_NPROCESSORS_ONLN) > 2 ? SPIN_POLLS : 0;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* A blocked sender or receiver that gives up (deadline): if still linked,
 * unlink it and return true; the caller reports partial progress. A sender
 * leaving the head of the queue may let those behind it in. */
static bool op_withdraw(struct ferry_chan *c, ferry_op *op)
{
    struct wake wk;
    wake_init(&wk, c);
    chan_lock(c);
    ferry_waitlist *q = op->kind == OP_RECV ? &c->recvq : &c->sendq;
    bool was_linked = ferry_waitlist_unlink(q, &op->waiter);
    if (was_linked && c->lf)
        atomic_fetch_sub_explicit(op->kind == OP_RECV ? &c->rx_waiters : &c->tx_waiters, 1, memory_order_relaxed);
    if (was_linked && op->kind == OP_SEND) {
        if (op->done > 0)
            c->st.batches_sent++;
        if (c->lf)
            lf_settle(c, &wk);
        else if (!c->closed && c->rx_refs > 0)
            refill_from_senders(c, &wk);
    }
    unlock_and_wake(c, &wk);
    return was_linked;
}

/* Wait for a blocking op to complete, or for the deadline. */
static ssize_t op_wait(struct ferry_chan *c, ferry_op *op, const struct timespec *deadline)
{
    for (int i = 0, polls = spin_polls(); i < polls; i++) {
        if (atomic_load_explicit(&op->state, memory_order_acquire) == ST_DONE)
            return op->result;
        cpu_relax();
    }
    uint32_t expect = ST_PENDING;
    /* Acquire on failure: the only other value is DONE (pairs with the
     * completer's release exchange). */
    if (!atomic_compare_exchange_strong_explicit(&op->state, &expect, ST_SLEEPING, memory_order_acquire,
                                                 memory_order_acquire))
        return op->result;
    for (;;) {
        int r = ferry__futex_wait(&op->state, ST_SLEEPING, deadline);
        if (atomic_load_explicit(&op->state, memory_order_acquire) == ST_DONE)
            return op->result;
        if (r == -ETIMEDOUT) {
            if (op_withdraw(c, op)) {
                if (op->kind == OP_SEND && op->done > 0)
                    return (ssize_t)op->done;
                return -ETIMEDOUT;
            }
            /* Taken by a completer just now: its wake is imminent. */
            deadline = NULL;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Send and receive                                                          */

enum mode { M_TRY, M_BLOCK, M_ASYNC };

static void op_setup(ferry_op *op, struct ferry_chan *c, int kind, void *buf, size_t n, unsigned prio,
                     bool async, ferry_waker w)
{
    ferry_waiter_init(&op->waiter, async ? op_wake_async : op_wake_blocking);
    op->chan = c;
    op->buf = buf;
    op->n = n;
    op->done = 0;
    op->has_head_weight = false;
    op->head_weight = 0;
    op->result = -EINPROGRESS;
    op->waker = w;
    op->prio = prio;
    op->kind = (uint8_t)kind;
    op->async = async;
    op->gate = 0;
    op->completer = NULL;
    atomic_store_explicit(&op->state, ST_PENDING, memory_order_relaxed);
}

/* The op must wait: link it on q, count the wait, drop the lock (waking
 * what was taken), then sleep (blocking) or return -EINPROGRESS (async). */
static ssize_t link_and_wait(struct ferry_chan *c, ferry_waitlist *q, uint64_t *blocked, ferry_op *op,
                             struct wake *wk, enum mode mode, const struct timespec *deadline)
{
    ferry_waitlist_link(q, &op->waiter);
    (*blocked)++;
    unlock_and_wake(c, wk);
    if (mode == M_ASYNC)
        return -EINPROGRESS;
    return op_wait(c, op, deadline);
}

/* The general send: called with the lock held; drops it. */
static ssize_t send_op(struct ferry_chan *c, ferry_op *op, enum mode mode, const struct timespec *deadline)
{
    struct wake wk;
    wake_init(&wk, c);
    bool nomem = false;
    if (c->closed || c->rx_refs == 0) {
        chan_unlock(c);
        return -EPIPE;
    }
    if (ferry_waitlist_empty(&c->sendq)) {
        if (!ferry_waitlist_empty(&c->recvq))
            handoff_to_receivers(c, op, &wk);
        if (op->done < op->n)
            nomem = !buffer_put(c, op);
    }
    if (op->done == op->n || mode == M_TRY || nomem || ferry__deadline_passed(deadline)) {
        if (op->done > 0)
            c->st.batches_sent++;
        unlock_and_wake(c, &wk);
        if (op->done > 0)
            return (ssize_t)op->done;
        return nomem ? -ENOMEM : mode == M_TRY ? -EAGAIN : -ETIMEDOUT;
    }
    return link_and_wait(c, &c->sendq, &c->st.sends_blocked, op, &wk, mode, deadline);
}

/* The general receive: called with the lock held; drops it. */
static ssize_t recv_op(struct ferry_chan *c, ferry_op *op, enum mode mode, const struct timespec *deadline)
{
    struct wake wk;
    wake_init(&wk, c);
    op->done = buffer_take(c, (char *)op->buf, op->n);
    if (op->done < op->n && !ferry_waitlist_empty(&c->sendq))
        take_from_senders(c, op, &wk);
    if (op->done > 0) {
        if (!ferry_waitlist_empty(&c->sendq))
            refill_from_senders(c, &wk);
        c->st.batches_received++;
        unlock_and_wake(c, &wk);
        return (ssize_t)op->done;
    }
    if (c->closed || c->tx_refs == 0) {
        chan_unlock(c);
        return 0;
    }
    if (mode == M_TRY || ferry__deadline_passed(deadline)) {
        chan_unlock(c);
        return mode == M_TRY ? -EAGAIN : -ETIMEDOUT;
    }
    return link_and_wait(c, &c->recvq, &c->st.recvs_blocked, op, &wk, mode, deadline);
}

/* Lock-free channels: the general send, called with the lock held (drops
 * it). op->done items may already be in (the fast path's partial push). */
static ssize_t lf_send_op(struct ferry_chan *c, ferry_op *op, enum mode mode, const struct timespec *deadline)
{
    struct wake wk;
    wake_init(&wk, c);
    if (c->closed || c->rx_refs == 0) {
        if (op->done > 0)
            c->st.batches_sent++;
        chan_unlock(c);
        return op->done > 0 ? (ssize_t)op->done : -EPIPE;
    }
    bool counted = false, give_up = mode == M_TRY || ferry__deadline_passed(deadline);
    if (ferry_waitlist_empty(&c->sendq)) {
        /* Receivers wait: first hand them what the ring holds (in order);
         * only an empty ring lets this op's items go to them directly. */
        lf_settle(c, &wk);
        if (!ferry_waitlist_empty(&c->recvq) && lf_empty(c))
            handoff_to_receivers(c, op, &wk);
        buffer_put(c, op);
        if (op->done < op->n && !give_up) {
            /* About to sleep: count ourselves, then retry (see the Dekker
             * argument above; pairs with the fence after a pop). */
            atomic_fetch_add_explicit(&c->tx_waiters, 1, memory_order_seq_cst);
            atomic_thread_fence(memory_order_seq_cst);
            counted = true;
            buffer_put(c, op);
        }
        if (!ferry_waitlist_empty(&c->recvq))
            lf_settle(c, &wk);
    }
    if (op->done == op->n || give_up) {
        if (counted)
            atomic_fetch_sub_explicit(&c->tx_waiters, 1, memory_order_relaxed);
        if (op->done > 0)
            c->st.batches_sent++;
        unlock_and_wake(c, &wk);
        if (op->done > 0)
            return (ssize_t)op->done;
        return mode == M_TRY ? -EAGAIN : -ETIMEDOUT;
    }
    if (!counted) /* queued behind blocked senders: no retry needed, they go first */
        atomic_fetch_add_explicit(&c->tx_waiters, 1, memory_order_seq_cst);
    return link_and_wait(c, &c->sendq, &c->st.sends_blocked, op, &wk, mode, deadline);
}

/* Lock-free channels: take items into a receive op, the ring first, then
 * (ring empty) straight from blocked senders. */
static void lf_take(struct ferry_chan *c, ferry_op *op, struct wake *wk)
{
    op->done += lf_pop(c, (char *)op->buf + op->done * c->elem, op->n - op->done);
    if (op->done < op->n && !ferry_waitlist_empty(&c->sendq) && lf_empty(c))
        take_from_senders(c, op, wk);
}

/* Lock-free channels: the general receive, called with the lock held (drops
 * it). op->done items may already be in (the fast path's pop). */
static ssize_t lf_recv_op(struct ferry_chan *c, ferry_op *op, enum mode mode, const struct timespec *deadline)
{
    struct wake wk;
    wake_init(&wk, c);
    lf_take(c, op, &wk);
    bool counted = false;
    if (op->done == 0) {
        /* About to sleep: count ourselves, then retry (pairs with the fence
         * after a push). */
        atomic_fetch_add_explicit(&c->rx_waiters, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        counted = true;
        lf_take(c, op, &wk);
    }
    if (op->done > 0) {
        if (counted)
            atomic_fetch_sub_explicit(&c->rx_waiters, 1, memory_order_relaxed);
        lf_settle(c, &wk);
        c->st.batches_received++;
        unlock_and_wake(c, &wk);
        return (ssize_t)op->done;
    }
    ssize_t r = 1;
    if (c->closed && lf_empty(c))
        r = 0;
    else if (mode == M_TRY || ferry__deadline_passed(deadline))
        r = mode == M_TRY ? -EAGAIN : -ETIMEDOUT;
    if (r <= 0) {
        atomic_fetch_sub_explicit(&c->rx_waiters, 1, memory_order_relaxed);
        unlock_and_wake(c, &wk);
        return r;
    }
    return link_and_wait(c, &c->recvq, &c->st.recvs_blocked, op, &wk, mode, deadline);
}

/* After a fast-path push (items published) or pop (room freed): if the
 * other side has sleepers, settle under the lock. The seq_cst fence pairs
 * with the one a sleeper issues after counting itself (Dekker). */
static void lf_after(struct ferry_chan *c, FERRY_ATOMIC(uint32_t) *waiters)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (FERRY_LIKELY(atomic_load_explicit(waiters, memory_order_relaxed) == 0))
        return;
    struct wake wk;
    wake_init(&wk, c);
    chan_lock(c);
    lf_settle(c, &wk);
    unlock_and_wake(c, &wk);
}

static const ferry_waker no_waker = {NULL, NULL};

/* Lock-free channels: the send and receive calls. */
static ssize_t lf_send_call(struct ferry_chan *c, const void *items, size_t n, enum mode mode,
                            const struct timespec *deadline)
{
    size_t k = 0;
    /* Fast path: open, no blocked sender (never overtake one), no waiting
     * receiver (those get the items directly, under the lock). Relaxed
     * pre-checks: a stale view is caught by lf_after or by the claim. */
    if (FERRY_LIKELY((atomic_load_explicit(&c->tail, memory_order_relaxed) & LF_BITS) == 0 &&
                     atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) == 0 &&
                     atomic_load_explicit(&c->rx_waiters, memory_order_relaxed) == 0)) {
        k = lf_push(c, items, n);
        if (k > 0) {
            lf_after(c, &c->rx_waiters);
            if (k == n || mode == M_TRY) {
                /* relaxed: a statistic; this cache line is the senders' own */
                atomic_fetch_add_explicit(&c->tx_batches, 1, memory_order_relaxed);
                return (ssize_t)k;
            }
        }
    }
    ferry_op op;
    op_setup(&op, c, OP_SEND, (void *)(uintptr_t)items, n, 0, false, no_waker);
    op.done = k;
    chan_lock(c);
    ssize_t r = lf_send_op(c, &op, mode, deadline);
    ferry_waiter_fini(&op.waiter);
    return r;
}

static ssize_t lf_recv_call(struct ferry_chan *c, void *out, size_t max, enum mode mode,
                            const struct timespec *deadline)
{
    size_t k = 0;
    /* Fast path: no blocked sender (else it must be refilled, under the lock). */
    if (FERRY_LIKELY(atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) == 0)) {
        k = lf_pop(c, out, max);
        if (k > 0) {
            atomic_thread_fence(memory_order_seq_cst); /* Dekker: see lf_after */
            if (FERRY_LIKELY(atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) == 0)) {
                atomic_fetch_add_explicit(&c->rx_batches, 1, memory_order_relaxed); /* statistic */
                return (ssize_t)k;
            }
            /* Senders are blocked: go on under the lock (take more of what
             * they hold, refill the ring from them). */
        }
    }
    ferry_op op;
    op_setup(&op, c, OP_RECV, out, max, 0, false, no_waker);
    op.done = k;
    chan_lock(c);
    ssize_t r = lf_recv_op(c, &op, mode, deadline);
    ferry_waiter_fini(&op.waiter);
    return r;
}

static ssize_t send_call(ferry_tx *tx, const void *items, size_t n, unsigned prio, enum mode mode,
                         const struct timespec *deadline)
{
    struct ferry_chan *c = tx_chan(tx);
    if (!c || (!items && n > 0))
        return -EINVAL;
    if (prio >= c->levels)
        return -EINVAL;
    if (n == 0)
        return 0;
    if (c->lf)
        return lf_send_call(c, items, n, mode, deadline);
    chan_lock(c);
    /* Fast path: nobody waits and everything fits. No op, no wakeups. */
    if (FERRY_LIKELY(!c->closed && c->rx_refs != 0 && !c->budget && ferry_waitlist_empty(&c->sendq) &&
                     ferry_waitlist_empty(&c->recvq) && n <= c->cap - c->count &&
                     ring_reserve(c, &c->rings[prio], n))) {
        ring_put(c, &c->rings[prio], items, n);
        buffer_added(c, prio, n);
        c->st.batches_sent++;
        chan_unlock(c);
        return (ssize_t)n;
    }
    ferry_op op;
    op_setup(&op, c, OP_SEND, (void *)(uintptr_t)items, n, prio, false, no_waker);
    ssize_t r = send_op(c, &op, mode, deadline);
    ferry_waiter_fini(&op.waiter);
    return r;
}

ssize_t ferry_send(ferry_tx *tx, const void *items, size_t n)
{
    return send_call(tx, items, n, 0, M_BLOCK, NULL);
}

ssize_t ferry_try_send(ferry_tx *tx, const void *items, size_t n)
{
    return send_call(tx, items, n, 0, M_TRY, NULL);
}

ssize_t ferry_send_until(ferry_tx *tx, const void *items, size_t n, const struct timespec *deadline)
{
    if (!deadline)
        return -EINVAL;
    return send_call(tx, items, n, 0, M_BLOCK, deadline);
}

ssize_t ferry_send_prio(ferry_tx *tx, const void *items, size_t n, unsigned prio)
{
    return send_call(tx, items, n, prio, M_BLOCK, NULL);
}

ssize_t ferry_send_prio_until(ferry_tx *tx, const void *items, size_t n, unsigned prio,
                              const struct timespec *deadline)
{
    return send_call(tx, items, n, prio, M_BLOCK, deadline);
}

static ssize_t recv_call(ferry_rx *rx, void *out, size_t max, enum mode mode, const struct timespec *deadline)
{
    struct ferry_chan *c = rx_chan(rx);
    if (!c || !out || max == 0)
        return -EINVAL;
    if (c->lf)
        return lf_recv_call(c, out, max, mode, deadline);
    chan_lock(c);
    /* Fast path: items are buffered and no sender waits for the room. */
    if (FERRY_LIKELY(c->count > 0 && ferry_waitlist_empty(&c->sendq))) {
        size_t k = buffer_take(c, out, max);
        c->st.batches_received++;
        chan_unlock(c);
        return (ssize_t)k;
    }
    ferry_op op;
    op_setup(&op, c, OP_RECV, out, max, 0, false, no_waker);
    ssize_t r = recv_op(c, &op, mode, deadline);
    ferry_waiter_fini(&op.waiter);
    return r;
}

ssize_t ferry_recv(ferry_rx *rx, void *out, size_t max)
{
    return recv_call(rx, out, max, M_BLOCK, NULL);
}

ssize_t ferry_try_recv(ferry_rx *rx, void *out, size_t max)
{
    return recv_call(rx, out, max, M_TRY, NULL);
}

ssize_t ferry_recv_until(ferry_rx *rx, void *out, size_t max, const struct timespec *deadline)
{
    if (!deadline)
        return -EINVAL;
    return recv_call(rx, out, max, M_BLOCK, deadline);
}

/* ------------------------------------------------------------------------ */
/* Async operations                                                          */

ssize_t ferry_recv_start(ferry_rx *rx, ferry_op *op, void *out, size_t max, ferry_waker w)
{
    struct ferry_chan *c = rx_chan(rx);
    if (!c || !op || !out || max == 0 || !w.wake)
        return -EINVAL;
    op_setup(op, c, OP_RECV, out, max, 0, true, w);
    chan_lock(c);
    ssize_t r = c->lf ? lf_recv_op(c, op, M_ASYNC, NULL) : recv_op(c, op, M_ASYNC, NULL);
    if (r != -EINPROGRESS) {
        op->result = r;
        atomic_store_explicit(&op->state, ST_DONE, memory_order_release);
    }
    return r;
}

ssize_t ferry_send_prio_start(ferry_tx *tx, ferry_op *op, const void *items, size_t n, unsigned prio,
                              ferry_waker w)
{
    struct ferry_chan *c = tx_chan(tx);
    if (!c || !op || (!items && n > 0) || !w.wake || prio >= c->levels)
        return -EINVAL;
    op_setup(op, c, OP_SEND, (void *)(uintptr_t)items, n, prio, true, w);
    ssize_t r = 0;
    if (n > 0) {
        chan_lock(c);
        r = c->lf ? lf_send_op(c, op, M_ASYNC, NULL) : send_op(c, op, M_ASYNC, NULL);
    }
    if (r != -EINPROGRESS) {
        op->result = r;
        atomic_store_explicit(&op->state, ST_DONE, memory_order_release);
    }
    return r;
}

ssize_t ferry_send_start(ferry_tx *tx, ferry_op *op, const void *items, size_t n, ferry_waker w)
{
    return ferry_send_prio_start(tx, op, items, n, 0, w);
}

ssize_t ferry_op_result(const ferry_op *op)
{
    /* Acquire: pairs with the completer's release, making result and the
     * received items visible. */
    if (atomic_load_explicit(&op->state, memory_order_acquire) != ST_DONE)
        return -EINPROGRESS;
    return op->result;
}

/* Is `wk` one of the wake rounds this thread is delivering right now? */
static bool waking_here(const struct wake *wk)
{
    for (const struct wake *w = tls_waking; w; w = w->outer)
        if (w == wk)
            return true;
    return false;
}

/* How many gate counts of channel c, phase p, this thread itself holds (it
 * is inside wake callbacks of those rounds). */
static uint32_t own_gate_counts(const struct ferry_chan *c, unsigned p)
{
    uint32_t n = 0;
    for (const struct wake *w = tls_waking; w; w = w->outer)
        if (w->chan == c && w->gate_phase == (int)p)
            n++;
    return n;
}

/* Wait until no other completer of gate phase `p` is still waking. */
static void gate_wait(struct ferry_chan *c, unsigned p)
{
    uint32_t own = own_gate_counts(c, p);
    chan_lock(c);
    if (c->gate.phase == p)
        c->gate.phase ^= 1; /* new completers count in the other phase */
    chan_unlock(c);
    atomic_fetch_add_explicit(&c->gate.waiting, 1, memory_order_seq_cst);
    uint32_t v;
    /* seq_cst: pairs with the completers' decrement (see unlock_and_wake). */
    while ((v = atomic_load_explicit(&c->gate.running[p], memory_order_seq_cst)) > own)
        ferry__futex_wait(&c->gate.running[p], v, NULL);
    atomic_fetch_sub_explicit(&c->gate.waiting, 1, memory_order_relaxed);
}

ssize_t ferry_op_cancel(ferry_op *op)
{
    if (!op)
        return -EINVAL;
    uint32_t s = atomic_load_explicit(&op->state, memory_order_acquire);
    struct ferry_chan *c = op->chan;
    if (s != ST_DONE) {
        if (op_withdraw(c, op)) {
            /* Still pending: withdrawn. Report what already moved. */
            op->result = (ssize_t)op->done;
            atomic_store_explicit(&op->state, ST_DONE, memory_order_release);
            ferry_waiter_fini(&op->waiter);
            return (ssize_t)op->done;
        }
        struct wake *wk = (struct wake *)op->completer; /* ordered by op_withdraw's lock */
        if (waking_here(wk)) {
            /* A wake callback on this thread cancels an op that this thread
             * completed and has not woken yet: take it out of the round. */
            if (op->waiter.taken) {
                ferry_list_del(&op->waiter.node);
                wk->ws.len--;
                op->waiter.taken = false;
                atomic_store_explicit(&op->state, ST_DONE, memory_order_relaxed);
            }
            return op->result;
        }
        /* Taken by another thread that has not woken it yet: stop the waker. */
        uint32_t expect = ST_PENDING;
        if (atomic_compare_exchange_strong_explicit(&op->state, &expect, ST_CANCELLING, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            while (atomic_load_explicit(&op->state, memory_order_acquire) != ST_DONE)
                ferry__futex_wait(&op->state, ST_CANCELLING, NULL);
            ferry_waiter_fini(&op->waiter);
            return op->result;
        }
    }
    /* Complete. If it completed asynchronously its waker may still be running
     * on the completer's thread (unless that is this thread: then we are in
     * it, or past it): wait for that to return. */
    if (op->gate && !waking_here((struct wake *)op->completer))
        gate_wait(c, op->gate - 1);
    return op->result;
}

/* ------------------------------------------------------------------------ */

int ferry_chan_stats(const void *handle, struct ferry_chan_stats *out)
{
    if (!handle || !out)
        return -EINVAL;
    const struct ferry_tx *h = (const struct ferry_tx *)handle; /* same layout as ferry_rx */
    if (h->magic != TX_MAGIC && h->magic != RX_MAGIC)
        return -EINVAL;
    struct ferry_chan *c = h->chan;
    chan_lock(c);
    *out = c->st;
    out->name = c->name;
    out->elem_size = c->elem;
    out->capacity = c->cap;
    out->budget = c->budget;
    out->levels = c->levels;
    out->len = c->count;
    if (c->lf) {
        /* Fast-path traffic is counted by ring positions and per-side
         * counters, read without stopping it (see chan.h). */
        uint64_t h = atomic_load_explicit(&c->head, memory_order_relaxed);
        uint64_t t = atomic_load_explicit(&c->tail, memory_order_relaxed) & ~LF_BITS;
        out->items_sent += t;
        out->items_received += h - c->lf_dropped;
        out->batches_sent += atomic_load_explicit(&c->tx_batches, memory_order_relaxed);
        out->batches_received += atomic_load_explicit(&c->rx_batches, memory_order_relaxed);
        out->len = lf_len(c);
    }
    out->weight = c->weight;
    out->senders = c->tx_refs;
    out->receivers = c->rx_refs;
    out->closed = c->closed || c->tx_refs == 0;
    chan_unlock(c);
    return 0;
}
