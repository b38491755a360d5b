/* SPDX-License-Identifier: MIT */
/* The generic part of every channel call, under the channel's lock: direct
 * handoff between a caller's op and waiting ops, settling waiters against
 * the buffer, the send and receive slow paths, closing. It reaches the
 * buffer only through c->path (chan_internal.h), so every data path --
 * locked rings, the lock-free ring, and whatever comes next -- shares one
 * send and one receive, in the manner of Go's chan.go.
 *
 * Invariants I1-I5 are in chan_internal.h. The order of a send:
 *   1. closed, or no receiver: -EPIPE (or what the fast path already sent);
 *   2. nobody waits to send before us (I2): first hand the buffer's items
 *      to waiting receivers (a lock-free path may hold published items
 *      that receivers have not seen yet), then, if the buffer is empty,
 *      our items straight to waiting receivers; then into the buffer;
 *   3. about to wait on a lock-free path: count ourselves and retry
 *      (chan_lf.c D1);
 *   4. done, or not waiting (try, deadline past, storage): return;
 *      otherwise link and wait (blocking) or return -EINPROGRESS (async).
 * A receive: buffer first, then (buffer empty) blocked senders' items
 * directly, at levels up to the last one the buffer gave (its batch stays
 * highest first); then refill the room it freed from blocked senders; wait
 * only with nothing taken.
 *
 * Claims (select, chan_op.h): every move through a claimed op claims it
 * first -- a linked op's by whoever completes it, the caller's own op (a
 * select's case being started) by its start: final where the move is
 * certain (handoffs, closed), provisional where a lock-free ring may come
 * up empty (buffer takes and puts). A start whose sibling already won
 * moves nothing, links nothing and returns FERRY__CLAIM_LOST. One select's
 * cases never pair with each other.
 *
 * Atomics: the waiter counts only, per chan_lf.c D1 (the sleeper's side of
 * its handshake) and D3.
 */
#include "chan_op.h"

#include <errno.h>
#include <string.h>

static inline ferry_op *op_of(ferry_waiter *w) { return ferry_container_of(w, ferry_op, waiter); }

/* ------------------------------------------------------------------------ */
/* Moving items between ops                                                  */

/* Sender `op` (the caller's) hands its items straight to waiting receivers
 * (only when the buffer is empty). Each receiver gets up to its max,
 * oldest first, and completes. Returns false, having moved nothing, if
 * op's claim was lost to a sibling (select). */
static bool handoff_to_receivers(struct ferry_chan *c, ferry_op *op, struct ferry__wake *wk)
{
    ferry_waiter *w = ferry_waitlist_peek(&c->recvq, FERRY_ROUND_ALL);
    while (op->done < op->n && w != NULL) {
        ferry_op *rop = op_of(w);
        ferry_waiter *next = ferry_waitlist_next(&c->recvq, w, FERRY_ROUND_ALL);
        switch (ferry__op_claim_pair(op, rop)) {
        case FERRY__PAIR_WON:
            break;
        case FERRY__PAIR_OTHER_LOST:
            ferry__op_lose(c, rop);
            w = next;
            continue;
        case FERRY__PAIR_SKIP:
            w = next;
            continue;
        default: /* OWN_LOST: nothing moved yet (a won claim stays won) */
            return false;
        }
        size_t k = op->n - op->done < rop->n ? op->n - op->done : rop->n;
        memcpy(rop->buf, (const char *)op->buf + op->done * c->elem, k * c->elem);
        op->done += k;
        rop->done = k;
        c->st.items_sent += k;
        c->st.items_received += k;
        c->st.handoffs += k;
        ferry__op_complete(c, rop, (ssize_t)k, wk);
        w = next;
    }
    return true;
}

/* The blocked sender whose items receiver `rop` (the caller's) takes
 * next: the oldest at the highest level that the caller may complete
 * (losers leave the list on the way; rop's own siblings are passed over).
 * NULL if none, if rop's claim was lost (*own_lost), or if that sender's
 * level is above `top`: a receive that took lower-level items from the
 * buffer does not put higher-level ones behind them in its batch (one
 * receive spans levels highest first; the next receive gets them). */
static ferry_op *next_sender(struct ferry_chan *c, ferry_op *rop, unsigned top, bool *own_lost)
{
    for (;;) {
        ferry_op *best = NULL;
        for (ferry_waiter *w = ferry_waitlist_peek(&c->sendq, FERRY_ROUND_ALL); w != NULL;
             w = ferry_waitlist_next(&c->sendq, w, FERRY_ROUND_ALL)) {
            ferry_op *s = op_of(w);
            if (FERRY_UNLIKELY(rop->claim != NULL && s->claim == rop->claim))
                continue; /* a sibling: never paired */
            if (!best || s->prio > best->prio)
                best = s;
            if (c->levels <= 1)
                break;
        }
        if (!best || best->prio > top)
            return NULL;
        switch (ferry__op_claim_pair(rop, best)) {
        case FERRY__PAIR_WON:
            return best;
        case FERRY__PAIR_OTHER_LOST:
            ferry__op_lose(c, best);
            continue;
        default: /* OWN_LOST (never SKIP: siblings were passed over) */
            *own_lost = true;
            return NULL;
        }
    }
}

/* The buffer is empty: receiver `rop` (the caller's) takes items directly
 * from blocked senders (this is how a rendezvous channel moves anything),
 * at levels up to `top` (next_sender). Senders that have given what they
 * need complete. Returns false, having moved nothing, if rop's claim was
 * lost. */
static bool take_from_senders(struct ferry_chan *c, ferry_op *rop, unsigned top, struct ferry__wake *wk)
{
    ferry_op *s;
    bool own_lost = false;
    while (rop->done < rop->n && (s = next_sender(c, rop, top, &own_lost)) != NULL) {
        size_t k = s->n - s->done < rop->n - rop->done ? s->n - s->done : rop->n - rop->done;
        memcpy((char *)rop->buf + rop->done * c->elem, (const char *)s->buf + s->done * c->elem, k * c->elem);
        s->done += k;
        s->has_head_weight = false; /* the weighed item left through the side door */
        rop->done += k;
        c->st.items_sent += k;
        c->st.items_received += k;
        c->st.handoffs += k;
        if (s->done >= s->need)
            ferry__op_complete(c, s, (ssize_t)s->done, wk);
    }
    return !own_lost;
}

/* Room appeared: move blocked senders' items into the buffer, oldest first,
 * stopping at the first sender that does not get what it needs (a blocked
 * sender is never overtaken, I2). Returns whether anything moved. */
static bool refill_from_senders(struct ferry_chan *c, struct ferry__wake *wk)
{
    bool moved = false;
    ferry_waiter *w;
    while ((w = ferry_waitlist_peek(&c->sendq, FERRY_ROUND_ALL)) != NULL) {
        ferry_op *s = op_of(w);
        if (FERRY_UNLIKELY(s->claim != NULL)) {
            /* A claim commits its sibling ops: take it only where a move
             * is likely (room), provisionally (on a lock-free ring a fast
             * path may win the slot first). */
            if (!c->path->room(c, s))
                break;
            if (!ferry__op_claim_prov(s)) {
                ferry__op_lose(c, s);
                continue;
            }
        }
        size_t before = s->done;
        bool ok = c->path->put(c, s);
        moved |= s->done != before;
        ferry__op_claim_done(s, s->done != before);
        if (!ok || s->done < s->need)
            break;
        ferry__op_complete(c, s, (ssize_t)s->done, wk);
    }
    return moved;
}

/* Complete every waiting op of q with `result` (senders that moved
 * something: their count). */
static void complete_all(struct ferry_chan *c, ferry_waitlist *q, ssize_t result, struct ferry__wake *wk)
{
    ferry_op *op;
    while ((op = ferry__op_first(c, q, false)) != NULL)
        ferry__op_complete(c, op, op->kind == FERRY__OP_SEND && op->done > 0 ? (ssize_t)op->done : result, wk);
}

void ferry__chan_settle(struct ferry_chan *c, struct ferry__wake *wk)
{
    for (bool first = true;; first = false) {
        /* Buffered items to waiting receivers, in order, oldest first. */
        bool took = false;
        ferry_op *rop;
        while (!ferry_waitlist_empty(&c->recvq) && !c->path->empty(c) &&
               (rop = ferry__op_first(c, &c->recvq, true)) != NULL) {
            size_t k = c->path->take(c, (char *)rop->buf, rop->n);
            ferry__op_claim_done(rop, k != 0); /* a lock-free ring may come up empty */
            if (k == 0)
                break;
            rop->done = k;
            ferry__op_complete(c, rop, (ssize_t)k, wk);
            took = true;
        }
        /* The room that frees to blocked senders. Only worth a look the
         * first time, or when receivers just made room. */
        if (!(first || took) || ferry_waitlist_empty(&c->sendq) || c->closed || c->rx_refs == 0)
            break;
        if (!refill_from_senders(c, wk))
            break;
    }
    if (c->closed && !ferry_waitlist_empty(&c->recvq) && c->path->empty(c))
        complete_all(c, &c->recvq, 0, wk);
}

/* ------------------------------------------------------------------------ */
/* Waiting                                                                   */

/* The op must wait: link it on q, count the wait, drop the lock (waking
 * what was taken), then sleep (blocking) or return -EINPROGRESS (async: the
 * op is not touched after it is linked -- it may already be complete). */
static ssize_t link_and_wait(struct ferry_chan *c, ferry_waitlist *q, uint64_t *blocked, ferry_op *op,
                             struct ferry__wake *wk, enum ferry__mode mode, const struct timespec *deadline)
{
    ferry_waitlist_link(q, &op->waiter);
    (*blocked)++;
    ferry__unlock_and_wake(c, wk);
    if (mode == FERRY__ASYNC)
        return -EINPROGRESS;
    return ferry__op_wait(c, op, deadline);
}

/* Lock-free paths: the caller is about to sleep (chan_lf.c D1): count it;
 * `retry`: and fence, so that its retry of the ring pairs with the fast
 * paths' fence (D2). */
static inline void count_sleeper(FERRY_ATOMIC(uint32_t) *waiters, bool retry)
{
    /* seq_cst: D1. */
    atomic_fetch_add_explicit(waiters, 1, memory_order_seq_cst);
    if (retry)
        atomic_thread_fence(memory_order_seq_cst); /* D1, pairs with D2's fence */
}

/* Lock-free paths: a counted caller that did not sleep after all (D3). */
static inline void uncount_sleeper(FERRY_ATOMIC(uint32_t) *waiters)
{
    atomic_fetch_sub_explicit(waiters, 1, memory_order_relaxed); /* D3 */
}

bool ferry__chan_unlink_locked(struct ferry_chan *c, ferry_op *op, struct ferry__wake *wk)
{
    ferry_waitlist *q = op->kind == FERRY__OP_RECV ? &c->recvq : &c->sendq;
    if (!ferry_waitlist_unlink(q, &op->waiter))
        return false;
    ferry__chan_unwait(c, op);
    if (op->kind == FERRY__OP_SEND) {
        if (op->done > 0)
            c->st.batches_sent++;
        ferry__chan_settle(c, wk); /* those behind it may go in now */
    }
    return true;
}

bool ferry__chan_withdraw(struct ferry_chan *c, ferry_op *op)
{
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    ferry__chan_lock(c);
    bool was_linked = ferry__chan_unlink_locked(c, op, &wk);
    ferry__unlock_and_wake(c, &wk);
    return was_linked;
}

/* ------------------------------------------------------------------------ */
/* Send and receive                                                          */

/* The caller's send op puts what fits into the buffer; false if storage
 * could not grow. A claimed op (a select's case being started) claims
 * provisionally where the path sees room; *lost if a sibling had won. */
static bool put_own(struct ferry_chan *c, ferry_op *op, bool *lost)
{
    if (FERRY_LIKELY(op->claim == NULL))
        return c->path->put(c, op);
    if (!c->path->room(c, op))
        return true;
    if (!ferry__op_claim_prov(op)) {
        *lost = true;
        return true;
    }
    size_t before = op->done;
    bool ok = c->path->put(c, op);
    ferry__op_claim_done(op, op->done != before);
    return ok;
}

ssize_t ferry__chan_send_locked(struct ferry_chan *c, ferry_op *op, enum ferry__mode mode,
                                const struct timespec *deadline)
{
    const struct ferry__chan_path *p = c->path;
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    if (c->closed || c->rx_refs == 0) {
        if (op->done > 0)
            c->st.batches_sent++;
        /* Closed is ready: a claimed start completes with -EPIPE if it
         * wins its claim. */
        ssize_t r = op->done > 0 ? (ssize_t)op->done : ferry__op_claim(op) ? -EPIPE : FERRY__CLAIM_LOST;
        ferry__chan_unlock(c);
        return r;
    }
    bool give_up = mode == FERRY__TRY || ferry__deadline_passed(deadline);
    bool nomem = false, counted = false, lost = false;
    if (ferry_waitlist_empty(&c->sendq)) {
        if (!ferry_waitlist_empty(&c->recvq)) {
            /* Buffered items go first (order); on the locked path the
             * buffer is empty whenever receivers wait (I1). */
            if (p->lockfree)
                ferry__chan_settle(c, &wk);
            if (!ferry_waitlist_empty(&c->recvq) && p->empty(c))
                lost = !handoff_to_receivers(c, op, &wk);
        }
        if (!lost && op->done < op->need)
            nomem = !put_own(c, op, &lost);
        if (!lost && op->done < op->need && p->lockfree && !give_up) {
            count_sleeper(&c->tx_waiters, true); /* D1: count, fence, retry */
            counted = true;
            put_own(c, op, &lost);
        }
        if (p->lockfree && !ferry_waitlist_empty(&c->recvq))
            ferry__chan_settle(c, &wk);
    }
    if (op->done >= op->need || give_up || nomem || lost) {
        if (counted)
            uncount_sleeper(&c->tx_waiters);
        if (op->done > 0)
            c->st.batches_sent++;
        ssize_t r = op->done > 0 ? (ssize_t)op->done
                    : lost       ? FERRY__CLAIM_LOST
                    : nomem      ? (ferry__op_claim(op) ? -ENOMEM : FERRY__CLAIM_LOST)
                    : mode == FERRY__TRY ? -EAGAIN
                                         : -ETIMEDOUT;
        ferry__unlock_and_wake(c, &wk);
        return r;
    }
    if (p->lockfree && !counted) /* queued behind blocked senders: they go first, no retry needed */
        count_sleeper(&c->tx_waiters, false);
    return link_and_wait(c, &c->sendq, &c->st.sends_blocked, op, &wk, mode, deadline);
}

/* Take items into receive op `op` (the caller's): the buffer first, then
 * (buffer empty) straight from blocked senders. Returns false, having
 * moved nothing, if op's claim was lost to a sibling (select). */
static bool take_into(struct ferry_chan *c, ferry_op *op, struct ferry__wake *wk)
{
    char *out = (char *)op->buf + op->done * c->elem;
    size_t before = op->done;
    if (FERRY_LIKELY(op->claim == NULL)) {
        op->done += c->path->take(c, out, op->n - op->done);
    } else if (!c->path->empty(c)) {
        /* Provisional: a lock-free ring's take may come up empty. */
        if (!ferry__op_claim_prov(op))
            return false;
        size_t k = c->path->take(c, out, op->n - op->done);
        op->done += k;
        ferry__op_claim_done(op, k != 0);
    }
    if (op->done < op->n && !ferry_waitlist_empty(&c->sendq) && c->path->empty(c)) {
        /* Items taken from the buffer just now end at its last level:
         * senders above it wait for the next receive. (Levels live on the
         * locked path only: chan_buf.c.) */
        unsigned top = c->levels > 1 && op->done > before ? c->u.buf.last_level : ~0u;
        return take_from_senders(c, op, top, wk);
    }
    return true;
}

ssize_t ferry__chan_recv_locked(struct ferry_chan *c, ferry_op *op, enum ferry__mode mode,
                                const struct timespec *deadline)
{
    const struct ferry__chan_path *p = c->path;
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    bool lost = !take_into(c, op, &wk);
    bool counted = false;
    if (!lost && op->done == 0 && p->lockfree) {
        count_sleeper(&c->rx_waiters, true); /* D1: count, fence, retry */
        counted = true;
        lost = !take_into(c, op, &wk);
    }
    if (op->done > 0) {
        if (counted)
            uncount_sleeper(&c->rx_waiters);
        /* The room we freed goes to blocked senders; on a lock-free path,
         * receivers that wait may take what they brought. */
        if (!ferry_waitlist_empty(&c->sendq) || (p->lockfree && !ferry_waitlist_empty(&c->recvq)))
            ferry__chan_settle(c, &wk);
        c->st.batches_received++;
        ferry__unlock_and_wake(c, &wk);
        return (ssize_t)op->done;
    }
    ssize_t r = 1;
    if (lost)
        r = FERRY__CLAIM_LOST;
    else if (c->closed && p->empty(c))
        /* Closed and drained (I4; on a lock-free path items claimed
         * before the close still come): ready, for a claimed start too. */
        r = ferry__op_claim(op) ? 0 : FERRY__CLAIM_LOST;
    else if (mode == FERRY__TRY || ferry__deadline_passed(deadline))
        r = mode == FERRY__TRY ? -EAGAIN : -ETIMEDOUT;
    if (r <= 0) {
        if (counted)
            uncount_sleeper(&c->rx_waiters);
        ferry__unlock_and_wake(c, &wk);
        return r;
    }
    return link_and_wait(c, &c->recvq, &c->st.recvs_blocked, op, &wk, mode, deadline);
}

static const ferry_waker no_waker = {NULL, NULL};

ssize_t ferry__chan_send_slow(struct ferry_chan *c, const void *items, size_t n, size_t done, unsigned prio,
                                  enum ferry__mode mode, const struct timespec *deadline)
{
    ferry_op op;
    ferry__op_setup(&op, c, FERRY__OP_SEND, (void *)(uintptr_t)items, n, prio, false, no_waker);
    op.done = done;
    ssize_t r = ferry__chan_send_locked(c, &op, mode, deadline);
    ferry__op_fini(&op);
    return r;
}

ssize_t ferry__chan_recv_slow(struct ferry_chan *c, void *out, size_t max, size_t done, enum ferry__mode mode,
                                  const struct timespec *deadline)
{
    ferry_op op;
    ferry__op_setup(&op, c, FERRY__OP_RECV, out, max, 0, false, no_waker);
    op.done = done;
    ssize_t r = ferry__chan_recv_locked(c, &op, mode, deadline);
    ferry__op_fini(&op);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                   */

void ferry__chan_close_locked(struct ferry_chan *c, struct ferry__wake *wk)
{
    if (c->closed)
        return;
    c->closed = true;
    /* Receivers waiting for an item claimed before the close stay: its
     * publisher settles them (and settle then completes the rest with 0). */
    c->path->close(c);
    if (c->path->empty(c))
        complete_all(c, &c->recvq, 0, wk);
    complete_all(c, &c->sendq, -EPIPE, wk);
}

void ferry__chan_receivers_gone(struct ferry_chan *c, struct ferry__wake *wk)
{
    int cancel = ferry__nocancel_begin(); /* every buffered item reaches drop */
    c->path->drop_all(c);
    ferry__nocancel_end(cancel);
    complete_all(c, &c->sendq, -EPIPE, wk);
    complete_all(c, &c->recvq, -EPIPE, wk);
}
