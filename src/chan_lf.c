/* SPDX-License-Identifier: MIT */
/* Data path 2, lock-free: plain bounded channels (one level, no budget,
 * 1 <= capacity, storage within the ring's limits: chan_lfring.h) keep their
 * items in the lock-free batch ring. Sends and receives that need not wait
 * run without the channel's lock; everything that waits, and every async
 * op, goes through the generic slow path (chan_move.c) under the lock,
 * which moves items through the same ring.
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
 *  D2 A fast-path party publishes its slots (lfring R1 / R2 release
 *     stores), issues a seq_cst fence, then reads the other side's count.
 *     By the fence rule, either D1's retry sees the slots, or D2's read
 *     sees the count and takes the lock to settle (chan_move.c).
 *  D3 Counts are decremented under the lock, relaxed, when an op leaves
 *     a list (completed, withdrawn, lost) or a counted party does not wait
 *     after all; a stale nonzero only sends a fast path to the lock.
 *  D4 The fast paths' pre-checks (the counts, the ring's flag bits) are
 *     relaxed hints: a stale view is caught by D2 or by the claim (lfring
 *     R4).
 * Closing: the ring's CLOSED / RXGONE bits (lfring R4), set under the
 * lock; the last receiver's release drains the ring into cfg.drop.
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

static inline struct ferry__lfring *R(struct ferry_chan *c) { return &c->u.lf.ring; }

/* After a fast-path push (items published) or pop (room freed): if the
 * other side has sleepers, settle under the lock (D2). */
static void lf_after(struct ferry_chan *c, FERRY_ATOMIC(uint32_t) *waiters)
{
    atomic_thread_fence(memory_order_seq_cst); /* D2, pairs with D1's fence */
    if (FERRY_LIKELY(atomic_load_explicit(waiters, memory_order_relaxed) == 0)) /* D2 */
        return;
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    ferry__chan_lock(c);
    ferry__chan_settle(c, &wk);
    ferry__unlock_and_wake(c, &wk);
}

/* A blocking send found the ring full after pushing k of its n items:
 * poll before it registers as a waiter (chan_wait.h). Stops when a sender
 * blocks ahead of it (it must queue behind, I2) or the ring closes.
 * Returns the items pushed in all. */
static __attribute__((noinline)) size_t lf_send_poll(struct ferry_chan *c, const char *items, size_t n, size_t k,
                                                     const struct timespec *deadline)
{
    struct ferry__poller pl;
    if (!ferry__poll_begin(&pl, &c->poll_tx, deadline))
        return k;
    bool moved = false;
    while (ferry__poll_next(&pl)) {
        /* Relaxed pre-checks: D4. While a sender is blocked, keep polling
         * without pushing (it goes first, I2). */
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

/* A blocking receive found the ring empty: poll before it registers as a
 * waiter (chan_wait.h). Stops when the ring closes (the slow path says
 * whether it is drained) or a sender blocks (its items are taken under the
 * lock). */
static __attribute__((noinline)) size_t lf_recv_poll(struct ferry_chan *c, void *out, size_t max,
                                                     const struct timespec *deadline)
{
    struct ferry__poller pl;
    size_t k = 0;
    if (!ferry__poll_begin(&pl, &c->poll_rx, deadline))
        return 0;
    while (ferry__poll_next(&pl)) {
        /* Relaxed pre-checks: D4. */
        if (ferry__lfring_flags(R(c)) != 0 || atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) != 0)
            break;
        if ((k = ferry__lfring_pop(R(c), out, max, true)) > 0)
            break;
    }
    ferry__poll_end(&c->poll_rx, k > 0);
    return k;
}

static ssize_t lf_send(struct ferry_chan *c, const void *items, size_t n, unsigned prio, enum ferry__mode mode,
                       const struct timespec *deadline)
{
    size_t k = 0;
    /* Relaxed pre-checks: D4. Waiting receivers do not turn this path off:
     * the items go into the ring and lf_after hands them over (D2). */
    if (FERRY_LIKELY(ferry__lfring_flags(R(c)) == 0 &&
                     atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) == 0)) {
        k = ferry__lfring_push(R(c), items, n, true);
        if (k > 0)
            lf_after(c, &c->rx_waiters);
    }
    if (FERRY_UNLIKELY(k < n) && mode == FERRY__BLOCK)
        k = lf_send_poll(c, items, n, k, deadline);
    if (FERRY_LIKELY(k == n) || (k > 0 && mode == FERRY__TRY)) {
        /* Relaxed: a statistic, on the senders' own line. */
        atomic_fetch_add_explicit(&R(c)->tail_aux, 1, memory_order_relaxed);
        return (ssize_t)k;
    }
    ferry__chan_lock(c);
    return ferry__chan_send_slow(c, items, n, k, prio, mode, deadline);
}

static ssize_t lf_recv(struct ferry_chan *c, void *out, size_t max, enum ferry__mode mode,
                       const struct timespec *deadline)
{
    /* No pre-check: the ring's items are older than anything a blocked
     * sender still holds (F2), so blocked senders do not turn this path
     * off; they are refilled under the lock after the pop. */
    size_t k = ferry__lfring_pop(R(c), out, max, true);
    if (FERRY_UNLIKELY(k == 0) && mode == FERRY__BLOCK)
        k = lf_recv_poll(c, out, max, deadline);
    if (FERRY_LIKELY(k > 0)) {
        atomic_thread_fence(memory_order_seq_cst); /* D2, pairs with D1's fence */
        if (FERRY_LIKELY(atomic_load_explicit(&c->tx_waiters, memory_order_relaxed) == 0)) { /* D2 */
            /* Relaxed: a statistic, on the receivers' own line. */
            atomic_fetch_add_explicit(&R(c)->head_aux, 1, memory_order_relaxed);
            return (ssize_t)k;
        }
        /* Senders are blocked: go on under the lock (take more of what
         * they hold, refill the ring from them). */
    }
    ferry__chan_lock(c);
    return ferry__chan_recv_slow(c, out, max, k, mode, deadline);
}

/* Under the lock (the generic slow path). */
static bool lf_put(struct ferry_chan *c, ferry_op *op)
{
    op->done += ferry__lfring_push(R(c), (const char *)op->buf + op->done * c->elem, op->n - op->done, false);
    return true;
}

static bool lf_room(struct ferry_chan *c, ferry_op *op)
{
    return op->done < op->n && ferry__lfring_room(R(c));
}

static size_t lf_take(struct ferry_chan *c, char *out, size_t max) { return ferry__lfring_pop(R(c), out, max, false); }

static bool lf_empty(struct ferry_chan *c) { return ferry__lfring_empty(R(c)); }

static void lf_close(struct ferry_chan *c)
{
    /* Claims after this fail; every later drained check sees a frozen
     * tail (lfring R4). */
    ferry__lfring_close(R(c), FERRY__LFRING_CLOSED);
}

static void lf_drop_all(struct ferry_chan *c)
{
    c->u.lf.dropped += ferry__lfring_drain(R(c), c->drop, c->drop_ctx);
}

static void lf_stats(struct ferry_chan *c, struct ferry_chan_stats *st)
{
    /* Fast-path traffic is counted by ring positions and per-side
     * counters, read without stopping it (relaxed; see chan.h). */
    uint64_t h, t;
    ferry__lfring_positions(R(c), &h, &t);
    st->items_sent += t;
    st->items_received += h - c->u.lf.dropped;
    st->batches_sent += atomic_load_explicit(&R(c)->tail_aux, memory_order_relaxed);
    st->batches_received += atomic_load_explicit(&R(c)->head_aux, memory_order_relaxed);
    st->len = ferry__lfring_len(R(c));
    st->weight = 0;
}

static int lf_init(struct ferry_chan *c) { return ferry__lfring_init(R(c), c->cap, c->elem); }

static void lf_fini(struct ferry_chan *c) { ferry__lfring_fini(R(c)); }

const struct ferry__chan_path ferry__chan_path_lockfree = {
    .name = "lock-free ring",
    .lockfree = true,
    .init = lf_init,
    .fini = lf_fini,
    .send = lf_send,
    .recv = lf_recv,
    .put = lf_put,
    .room = lf_room,
    .take = lf_take,
    .empty = lf_empty,
    .close = lf_close,
    .drop_all = lf_drop_all,
    .stats = lf_stats,
};
