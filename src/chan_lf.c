/* SPDX-License-Identifier: MIT */
/* Data paths 2 and 3, lock-free: plain channels (one level, no budget)
 * keep their items in a lock-free buffer -- bounded ones (1 <= capacity,
 * storage within the ring's limits) in the batch ring (chan_lfring.h),
 * unbounded ones (items up to 32 KiB) in the block list (chan_lflist.h).
 * Sends and receives that need not wait run without the channel's lock;
 * everything that waits, and every async op, goes through the generic
 * slow path (chan_move.c) under the lock, which moves items through the
 * same buffer. The two paths share the code below: it is written once
 * against a small buffer interface (struct lf_buf) whose two instances
 * are constants, so that each path's calls compile to direct calls.
 *
 * The ring and the list differ in three ways here: a send on the list
 * never finds it full (it may find no memory: -ENOMEM, or the count so
 * far, from the slow path); a pop from the list may move its head into the
 * next block, after which the popper re-checks for sleepers as a publisher
 * does (D2; chan_lflist.h L3); and the list is never refilled from
 * blocked senders (there are none).
 *
 * Fast paths:
 *  - send: open and no blocked sender (nobody overtakes one, I2): push.
 *    Waiting receivers do not turn it off: the items go into the ring and
 *    D2 hands them over under the lock (once they did, every send took the
 *    lock while anyone slept, and the woken receivers found the ring
 *    empty and slept again: docs/performance.md, "What flips batch 1");
 *  - receive: pop, no pre-check; if senders are blocked, go on under the
 *    lock (take more of what they hold, refill the ring from them).
 *  - a blocking call that finds the ring full (empty) polls it before it
 *    takes the lock to wait (chan_wait.h: how long, and why); try calls
 *    and async starts never poll. A lost claim yields (chan_wait.h,
 *    "Contention"); under the lock nothing does.
 *
 * The sleep/wake handshake (the party that must act is the one that
 * publishes the slot at the head -- items -- or frees the slot at the
 * tail -- room -- and every publisher and every freer checks, so a thread
 * delayed between its claim and its publication cannot strand a sleeper:
 * it settles them itself when it gets there):
 *  D1 A party about to wait (under the lock, chan_move.c) increments its
 *     side's count (tx_waiters / rx_waiters) with a seq_cst RMW, issues a
 *     seq_cst fence, and retries the ring before it links its op.
 *  D2 A fast-path party publishes its slots (lfring R1 / R2, lflist L1
 *     release stores) or moves the list's head into the next block
 *     (lflist L3), issues a seq_cst fence, then reads the other side's
 *     count. By the fence rule, either D1's retry sees the slots, or D2's
 *     read sees the count and takes the lock to settle (chan_move.c).
 *  D3 Counts are decremented under the lock, relaxed, when an op leaves
 *     a list (completed, withdrawn, lost) or a counted party does not wait
 *     after all; a stale nonzero only sends a fast path to the lock.
 *  D4 The fast paths' pre-checks (the counts, the buffer's flag bits) are
 *     relaxed hints: a stale view is caught by D2 or by the claim (lfring
 *     R4, lflist L7).
 *  D5 A call that is done on its fast path makes D2's fence out of the
 *     seq_cst RMW that counts its batch (ferry__mb_after_rmw: free on
 *     x86, where the fence would be a second locked instruction per call).
 *     The count goes before the read of the other side's count, after the
 *     publication; a receive that then finds senders blocked takes its
 *     count back and goes to the lock, which counts the batch.
 * Closing: the buffer's CLOSED / RXGONE bits (lfring R4, lflist L7), set
 * under the lock; the last receiver's release drains the buffer into
 * cfg.drop.
 *
 * Invariants:
 *  F1 tx_waiters (rx_waiters) >= the send (receive) ops on sendq (recvq),
 *     plus one for each party deciding to link under the lock (D1, D3);
 *  F2 a fast-path send pushes only while it saw no blocked sender and no
 *     flag (D4): items never overtake a blocked sender -- up to the
 *     transient D2 covers. A receiver never overtakes items a blocked
 *     sender still holds: a sender blocks only on a full ring, and refills
 *     move its items in behind the ring's (so a fast pop takes older items
 *     first), or, with the ring empty, under the lock (take_from_senders).
 */
#include "chan_op.h"

#include <errno.h>

/* ------------------------------------------------------------------------ */
/* The two buffers behind one interface                                      */

static inline struct ferry__lfring *R(struct ferry_chan *c) { return &c->u.lf.ring; }
static inline struct ferry__lflist *L(struct ferry_chan *c) { return &c->u.lfl.list; }

struct lf_buf {
    bool bounded;
    /* push: up to n items in, backoff as the ring's and list's (*nomem:
     * the list had no block); pop: up to max out (*entered: the list's
     * head moved into the next block). */
    size_t (*push)(struct ferry_chan *c, const void *src, size_t n, bool backoff, bool *nomem);
    size_t (*pop)(struct ferry_chan *c, void *dst, size_t max, bool backoff, bool *entered);
    uint64_t (*flags)(struct ferry_chan *c);
    FERRY_ATOMIC(uint64_t) *(*aux)(struct ferry_chan *c, bool tail); /* the per-side batch counters */
};

static inline size_t ring_push(struct ferry_chan *c, const void *src, size_t n, bool backoff, bool *nomem)
{
    (void)nomem;
    return ferry__lfring_push(R(c), src, n, backoff);
}
static inline size_t ring_pop(struct ferry_chan *c, void *dst, size_t max, bool backoff, bool *entered)
{
    (void)entered;
    return ferry__lfring_pop(R(c), dst, max, backoff);
}
static inline uint64_t ring_flags(struct ferry_chan *c) { return ferry__lfring_flags(R(c)); }
static inline FERRY_ATOMIC(uint64_t) *ring_aux(struct ferry_chan *c, bool tail)
{
    return tail ? &R(c)->tail_aux : &R(c)->head_aux;
}

static inline size_t list_push(struct ferry_chan *c, const void *src, size_t n, bool backoff, bool *nomem)
{
    return ferry__lflist_push(L(c), src, n, backoff, nomem);
}
static inline size_t list_pop(struct ferry_chan *c, void *dst, size_t max, bool backoff, bool *entered)
{
    /* A pop ends at its block's end; a receive takes up to max of what is
     * there, as on the ring, so it goes on into the next block. */
    size_t k = 0;
    for (;;) {
        bool e = false;
        k += ferry__lflist_pop(L(c), (char *)dst + k * c->elem, max - k, backoff, &e);
        *entered |= e;
        if (FERRY_LIKELY(!e) || k == max)
            return k;
    }
}
static inline uint64_t list_flags(struct ferry_chan *c) { return ferry__lflist_flags(L(c)); }
static inline FERRY_ATOMIC(uint64_t) *list_aux(struct ferry_chan *c, bool tail)
{
    return tail ? &L(c)->tail_aux : &L(c)->head_aux;
}

static const struct lf_buf ring_buf = {true, ring_push, ring_pop, ring_flags, ring_aux};
static const struct lf_buf list_buf = {false, list_push, list_pop, list_flags, list_aux};

/* ------------------------------------------------------------------------ */
/* Fast paths, polling, the publisher's half of the handshake                */

/* The other side has sleepers: settle under the lock (D2). */
static __attribute__((noinline)) void lf_settle(struct ferry_chan *c)
{
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    ferry__chan_lock(c);
    ferry__chan_settle(c, &wk);
    ferry__unlock_and_wake(c, &wk);
}

/* After a fast-path push (items published), pop (room freed) or a list
 * head's move (items reachable): if the other side has sleepers, settle
 * under the lock (D2). */
static void lf_after(struct ferry_chan *c, FERRY_ATOMIC(uint32_t) *waiters)
{
    atomic_thread_fence(memory_order_seq_cst); /* D2, pairs with D1's fence */
    if (FERRY_UNLIKELY(atomic_load_explicit(waiters, memory_order_relaxed) != 0)) /* D2 */
        lf_settle(c);
}

/* A fast-path call is done: count its batch in the side's counter and,
 * with the same RMW as D2's barrier, read the other side's waiters (D5).
 * True: none (or they were settled here, when `settle`). */
static inline __attribute__((always_inline)) bool lf_done(struct ferry_chan *c, FERRY_ATOMIC(uint64_t) *aux,
                                                          FERRY_ATOMIC(uint32_t) *waiters, bool settle)
{
    /* seq_cst RMW, then the barrier it makes free on x86: D5 (D2's fence);
     * the count itself is a statistic, on the side's own line. */
    atomic_fetch_add_explicit(aux, 1, memory_order_seq_cst);
    ferry__mb_after_rmw(); /* D5: after the fetch_add above; pairs with D1's fence */
    if (FERRY_LIKELY(atomic_load_explicit(waiters, memory_order_relaxed) == 0)) /* D2 */
        return true;
    if (!settle)
        return false;
    lf_settle(c);
    return true;
}

/* A blocking send found the ring full after pushing k of its n items:
 * poll before it registers as a waiter (chan_wait.h). While a sender is
 * blocked it keeps polling without pushing (it goes first, I2); it stops
 * when the ring closes. Returns the items pushed in all. (The list is
 * never full: it does not poll.) */
static __attribute__((noinline)) size_t lf_send_poll(struct ferry_chan *c, const char *items, size_t n, size_t k,
                                                     const struct timespec *deadline)
{
    struct ferry__poller pl;
    if (!ferry__poll_begin(&pl, &c->poll_tx, deadline))
        return k;
    bool moved = false;
    while (ferry__poll_next(&pl)) {
        /* Relaxed pre-checks: D4. */
        if (ferry__lfring_flags(R(c)) != 0)
            break;
        if (atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) != 0)
            continue;
        size_t m = ferry__lfring_push(R(c), items + k * c->elem, n - k, true);
        if (m > 0) {
            lf_after(c, &c->rx_waiters);
            k += m;
            moved = true;
            if (k == n)
                break;
            ferry__poll_progress(&pl); /* progress: a new budget */
        }
    }
    ferry__poll_end(&c->poll_tx, moved);
    return k;
}

/* A blocking receive found the buffer empty: poll before it registers as
 * a waiter (chan_wait.h). Stops when the buffer closes (the slow path says
 * whether it is drained) or a sender blocks (its items are taken under the
 * lock). */
static inline __attribute__((always_inline)) size_t lf_recv_poll(struct ferry_chan *c, void *out, size_t max,
                                                                 const struct timespec *deadline,
                                                                 const struct lf_buf *B, bool *entered)
{
    struct ferry__poller pl;
    size_t k = 0;
    if (!ferry__poll_begin(&pl, &c->poll_rx, deadline))
        return 0;
    while (ferry__poll_next(&pl)) {
        /* Relaxed pre-checks: D4. */
        if (B->flags(c) != 0 || atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) != 0)
            break;
        if ((k = B->pop(c, out, max, true, entered)) > 0)
            break;
    }
    ferry__poll_end(&c->poll_rx, k > 0);
    return k;
}

static inline __attribute__((always_inline)) ssize_t lf_send(struct ferry_chan *c, const void *items, size_t n,
                                                             unsigned prio, enum ferry__mode mode,
                                                             const struct timespec *deadline,
                                                             const struct lf_buf *B)
{
    size_t k = 0;
    bool nomem = false, hand = false;
    /* Relaxed pre-checks: D4. Waiting receivers do not turn this path off:
     * the items go into the buffer and lf_after hands them over (D2) --
     * the same items to the same receivers as a direct handoff, as long as
     * the ring takes the whole batch. One it cannot take goes to the lock
     * (hand), so that waiting receivers get up to their max straight from
     * the sender and the rest fills the ring, as the contract says ("Direct
     * handoff"), not one ring's worth and a sender left blocked. */
    if (FERRY_LIKELY(B->flags(c) == 0 && atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) == 0)) {
        hand = B->bounded && n > 1 && FERRY_UNLIKELY(atomic_load_explicit(&c->rx_waiters, memory_order_relaxed) != 0) &&
               R(c)->cap - ferry__lfring_len(R(c)) < n;
        if (FERRY_LIKELY(!hand))
            k = B->push(c, items, n, true, &nomem);
        if (FERRY_LIKELY(k == n) || (k > 0 && mode == FERRY__TRY && B->bounded)) {
            lf_done(c, B->aux(c, true), &c->rx_waiters, true); /* D5 */
            return (ssize_t)k;
        }
        if (k > 0)
            lf_after(c, &c->rx_waiters);
    }
    if (B->bounded && FERRY_UNLIKELY(k < n) && mode == FERRY__BLOCK && !hand)
        k = lf_send_poll(c, items, n, k, deadline);
    if (k == n) {
        /* Relaxed: a statistic, on the senders' own line (the poll's
         * pushes made their own D2 checks). */
        atomic_fetch_add_explicit(B->aux(c, true), 1, memory_order_relaxed);
        return (ssize_t)k;
    }
    /* Full, closed, blocked senders ahead, or (the list) no memory: the
     * slow path says which, and waits if it must. */
    ferry__chan_lock(c);
    return ferry__chan_send_slow(c, items, n, k, prio, mode, deadline);
}

static inline __attribute__((always_inline)) ssize_t lf_recv(struct ferry_chan *c, void *out, size_t max,
                                                             enum ferry__mode mode,
                                                             const struct timespec *deadline,
                                                             const struct lf_buf *B)
{
    /* No pre-check: the buffer's items are older than anything a blocked
     * sender still holds (F2), so blocked senders do not turn this path
     * off; they are refilled under the lock after the pop. */
    bool entered = false;
    size_t k = B->pop(c, out, max, true, &entered);
    if (FERRY_UNLIKELY(k == 0) && mode == FERRY__BLOCK)
        k = lf_recv_poll(c, out, max, deadline, B, &entered);
    if (FERRY_UNLIKELY(entered))
        lf_after(c, &c->rx_waiters); /* D2: the items past the block's end are reachable now */
    if (FERRY_LIKELY(k > 0) && FERRY_LIKELY(lf_done(c, B->aux(c, false), &c->tx_waiters, false))) /* D5 */
        return (ssize_t)k;
    ferry__chan_lock(c);
    /* k > 0: senders are blocked; go on under the lock (take more of what
     * they hold, refill the ring from them). The slow path counts the
     * batch under the lock, and lf_done has counted it in aux already:
     * take the lock's count back in the same hold of the lock, so that
     * ferry_chan_stats (which reads both under it) sees the batch once
     * from the pop on. (Taking aux's count back before the lock would
     * show the counter going down meanwhile.) */
    if (k > 0)
        c->st.batches_received--;
    return ferry__chan_recv_slow(c, out, max, k, mode, deadline);
}

static ssize_t ring_send(struct ferry_chan *c, const void *items, size_t n, unsigned prio, enum ferry__mode mode,
                         const struct timespec *deadline)
{
    return lf_send(c, items, n, prio, mode, deadline, &ring_buf);
}

static ssize_t ring_recv(struct ferry_chan *c, void *out, size_t max, enum ferry__mode mode,
                         const struct timespec *deadline)
{
    return lf_recv(c, out, max, mode, deadline, &ring_buf);
}

static ssize_t list_send(struct ferry_chan *c, const void *items, size_t n, unsigned prio, enum ferry__mode mode,
                         const struct timespec *deadline)
{
    return lf_send(c, items, n, prio, mode, deadline, &list_buf);
}

static ssize_t list_recv(struct ferry_chan *c, void *out, size_t max, enum ferry__mode mode,
                         const struct timespec *deadline)
{
    return lf_recv(c, out, max, mode, deadline, &list_buf);
}

/* ------------------------------------------------------------------------ */
/* Under the lock (the generic slow path): the ring                          */

static bool ring_put(struct ferry_chan *c, ferry_op *op)
{
    op->done += ferry__lfring_push(R(c), (const char *)op->buf + op->done * c->elem, op->n - op->done, false);
    return true;
}

static bool ring_room(struct ferry_chan *c, ferry_op *op)
{
    return op->done < op->n && ferry__lfring_room(R(c));
}

static size_t ring_take(struct ferry_chan *c, char *out, size_t max) { return ferry__lfring_pop(R(c), out, max, false); }

static bool ring_empty(struct ferry_chan *c) { return ferry__lfring_empty(R(c)); }

static void ring_close(struct ferry_chan *c)
{
    /* Claims after this fail; every later drained check sees a frozen
     * tail (lfring R4). */
    ferry__lfring_close(R(c), FERRY__LFRING_CLOSED);
}

static void ring_drop_all(struct ferry_chan *c)
{
    ferry__callback_enter(c);
    c->u.lf.dropped += ferry__lfring_drain(R(c), c->drop, c->drop_ctx);
    ferry__callback_leave(c);
}

/* Fast-path traffic is counted by the buffer's positions and per-side
 * counters, read without stopping it (relaxed; see chan.h). */
static void lf_stats_common(struct ferry_chan *c, struct ferry_chan_stats *st, const struct lf_buf *B, uint64_t h,
                            uint64_t t, uint64_t dropped)
{
    st->items_sent += t;
    st->items_received += h - dropped;
    st->batches_sent += atomic_load_explicit(B->aux(c, true), memory_order_relaxed);
    st->batches_received += atomic_load_explicit(B->aux(c, false), memory_order_relaxed);
    st->len = t > h ? (size_t)(t - h) : 0;
    st->weight = 0;
}

static void ring_stats(struct ferry_chan *c, struct ferry_chan_stats *st)
{
    uint64_t h, t;
    ferry__lfring_positions(R(c), &h, &t);
    lf_stats_common(c, st, &ring_buf, h, t, c->u.lf.dropped);
    st->len = ferry__lfring_len(R(c));
}

static int ring_init(struct ferry_chan *c) { return ferry__lfring_init(R(c), c->cap, c->elem); }

static void ring_fini(struct ferry_chan *c) { ferry__lfring_fini(R(c)); }

const struct ferry__chan_path ferry__chan_path_lockfree = {
    .name = "lock-free ring",
    .lockfree = true,
    .init = ring_init,
    .fini = ring_fini,
    .send = ring_send,
    .recv = ring_recv,
    .put = ring_put,
    .room = ring_room,
    .take = ring_take,
    .empty = ring_empty,
    .close = ring_close,
    .drop_all = ring_drop_all,
    .stats = ring_stats,
};

/* ------------------------------------------------------------------------ */
/* Under the lock: the list                                                  */

static bool list_put(struct ferry_chan *c, ferry_op *op)
{
    bool nomem = false;
    op->done += ferry__lflist_push(L(c), (const char *)op->buf + op->done * c->elem, op->n - op->done, false,
                                   &nomem);
    return !nomem || op->done == op->n;
}

static bool list_room(struct ferry_chan *c, ferry_op *op)
{
    return op->done < op->n && ferry__lflist_flags(L(c)) == 0;
}

static size_t list_take(struct ferry_chan *c, char *out, size_t max)
{
    /* A head moved into the next block under the lock needs no re-check:
     * the settle that called us goes on taking (and the slow paths re-try
     * after counting themselves). */
    bool entered = false;
    return list_pop(c, out, max, false, &entered);
}

static bool list_empty(struct ferry_chan *c) { return ferry__lflist_empty(L(c)); }

static void list_close(struct ferry_chan *c) { ferry__lflist_close(L(c), FERRY__LFLIST_CLOSED); }

static void list_drop_all(struct ferry_chan *c)
{
    ferry__callback_enter(c);
    c->u.lfl.dropped += ferry__lflist_drain(L(c), c->drop, c->drop_ctx);
    ferry__callback_leave(c);
}

static void list_stats(struct ferry_chan *c, struct ferry_chan_stats *st)
{
    uint64_t h, t;
    ferry__lflist_positions(L(c), &h, &t);
    lf_stats_common(c, st, &list_buf, h, t, c->u.lfl.dropped);
}

static int list_init(struct ferry_chan *c) { return ferry__lflist_init(L(c), c->elem); }

static void list_fini(struct ferry_chan *c) { ferry__lflist_fini(L(c)); }

const struct ferry__chan_path ferry__chan_path_lflist = {
    .name = "lock-free block list",
    .lockfree = true,
    .init = list_init,
    .fini = list_fini,
    .send = list_send,
    .recv = list_recv,
    .put = list_put,
    .room = list_room,
    .take = list_take,
    .empty = list_empty,
    .close = list_close,
    .drop_all = list_drop_all,
    .stats = list_stats,
};
