/* SPDX-License-Identifier: MIT */
/* The op state machine, wake rounds and cancel (src/chan_op.c).
 *
 * Every channel call is a ferry_op: a blocking call keeps it on its stack
 * and sleeps on its state word; an async call keeps it in caller memory and
 * is told through a waker. The op's fields (include/ferry/op.h):
 *   waiter     node in recvq / sendq while pending, in a wake round's list
 *              once complete and not yet woken;
 *   chan, buf, n, prio, kind, async, waker: what the op is;
 *   done       items moved so far; need: items that complete a send (n;
 *              a select's send case would ask for 1);
 *   result     set under the lock when the op completes;
 *   round, round_gen, ticket: the async op's wake round, that round's
 *              registration number, and the op's place in the order in
 *              which the round called its wakers (set when it was popped);
 *   claim      NULL, or a word shared by sibling ops of which at most one
 *              may complete (a select's cases; see ferry__op_claim);
 *   state      below.
 *
 * States (the `state` word):
 *   NONE      0: zero-filled, never started.
 *   PENDING   linked on recvq / sendq, or being decided under the lock.
 *   SLEEPING  blocking op, pending, its thread sleeps on the word.
 *   TAKEN     async op, complete (result set), in its wake round's list;
 *             its waker has not been called. A cancel may take it over.
 *   DONE      complete and published: ferry_op_result returns the result.
 *             Async: its waker has been called (or is being called), or
 *             never will be (immediate result, failed start, withdrawn,
 *             taken over).
 *   LOST      a completer found the op's claim won by a sibling and took it
 *             off its list; nothing moved through it there.
 *
 * Transitions:
 *   blocking: PENDING -> SLEEPING (its thread, CAS); PENDING / SLEEPING ->
 *     DONE (completer, exchange, after dropping the channel's lock).
 *   async: PENDING -> TAKEN (completer, under the channel's lock);
 *     TAKEN -> DONE (completer, under the round's lock, just before it
 *     calls the waker: "popped"; or a canceller under the channel's lock
 *     and the round's lock: "taken over", the waker is then never called);
 *     PENDING -> DONE (a cancel that unlinks it); PENDING -> LOST.
 *
 * The cancel guarantee: ferry_op_cancel waits only for the completion of
 * the op it cancels -- if the op's waker is running on another thread, for
 * that waker to return -- never for other ops' wakers. The waker's return
 * cannot be recorded in the op (the waker may free it), so it is recorded
 * in the round: the round lives on the completing thread's stack, is
 * registered in the channel (rounds, under wake_lock) while it runs, and
 * counts its wakers' returns in `seq`; a canceller finds the op's round by
 * address and registration number and waits until seq reaches the op's
 * ticket. The round stays registered until it has called every waker and
 * every canceller waiting on it has left (pins).
 *
 * Nesting: a waker may call into a channel, whose round then runs inside
 * that waker. A round that would run wakers FERRY__WAKE_NEST_MAX rounds
 * deep instead moves its async ops, still TAKEN, to a carrier: a round on
 * the frame of the thread's outermost round, registered in the same
 * channel, which runs once that outermost round has (chan_op.c, W5).
 */
#ifndef FERRY_SRC_CHAN_OP_H
#define FERRY_SRC_CHAN_OP_H

#include <errno.h>

#include "chan_internal.h"

enum { FERRY__OP_RECV = 1, FERRY__OP_SEND = 2 };

enum {
    FERRY__ST_NONE = 0,
    FERRY__ST_PENDING = 1,
    FERRY__ST_SLEEPING = 2,
    FERRY__ST_TAKEN = 3,
    FERRY__ST_DONE = 4,
    FERRY__ST_LOST = 5,
};

/* A wake round: the ops one thread completed under the channel's lock, to
 * be woken after it drops the lock. On the completing thread's stack. */
struct ferry__wake {
    struct ferry_chan *chan;
    ferry_wakeset blocking;     /* blocking ops: woken first, by futex       */
    ferry_wakeset async;        /* async ops, TAKEN: popped under `lock`      */
    ferry_mutex lock;           /* guards `async`, tickets (once registered)  */
    ferry_list node;            /* in chan->rounds while registered           */
    bool registered;
    uint32_t gen;               /* registration number                        */
    uint32_t popped;            /* async ops popped so far (the last ticket)  */
    FERRY_ATOMIC(uint32_t) seq; /* async wakers returned (cancellers wait)    */
    FERRY_ATOMIC(uint32_t) pins; /* cancellers waiting on seq                  */
    ferry_op *current;          /* op whose waker runs now (this thread's)    */
    struct ferry__wake *outer;  /* the round this thread was waking before    */
    unsigned depth;             /* 1 + outer's depth while it runs wakers     */
    struct ferry__carry *carry; /* the outermost round's carriers (chan_op.c) */
};

/* A round that would run wakers at this nesting depth on its thread (a
 * waker's channel call whose round runs wakers, inside a waker, ...) hands
 * its user wakers to a carrier of the outermost round instead: they run
 * after the outermost waker running now returns, and the stack stays
 * bounded (op.h, "Wakers nest"). */
#define FERRY__WAKE_NEST_MAX 32

static inline void ferry__wake_init(struct ferry__wake *wk, struct ferry_chan *c)
{
    wk->chan = c;
    ferry_wakeset_init(&wk->blocking);
    ferry_wakeset_init(&wk->async);
    wk->registered = false;
}

/* Wake every op the round took: blocking ops first, then async ops'
 * wakers, one at a time, each popped under the round's lock (a cancel may
 * take over those not yet popped); then leave the registry. */
void ferry__wake_round(struct ferry_chan *c, struct ferry__wake *wk);

/* Drop the channel's lock, then wake what the round took. */
static inline void ferry__unlock_and_wake(struct ferry_chan *c, struct ferry__wake *wk)
{
    ferry__chan_unlock(c);
    if (!ferry_wakeset_empty(&wk->blocking) || wk->registered)
        ferry__wake_round(c, wk);
}

/* The calling thread's mark: a number given to each thread at its first
 * wait (ferry__thread_mark_new, chan.c) from a count that never goes back,
 * so that no two threads of a process -- nor a thread of a fork's child
 * and one that was alive at the fork -- ever share one; in a fork's child
 * the forking thread keeps its own. It names the owner of a thread's wait
 * (a blocking call's op, a blocking select's sleep), so that the fork
 * handling (ferry__op_is_thread_wait) keeps the waits of the thread that
 * forked: one whose signal handler forked while it waited goes on waiting
 * in the child. (Not an address: a thread the child creates may be given
 * the stack, and so the thread-locals, of a thread that is gone.) */
extern FERRY__TID_TLS uintptr_t ferry__thread_mark_tls;
__attribute__((cold)) uintptr_t ferry__thread_mark_new(void);
static inline void *ferry__thread_mark(void)
{
    uintptr_t m = ferry__thread_mark_tls;
    if (FERRY_UNLIKELY(m == 0))
        m = ferry__thread_mark_new();
    return (void *)m;
}
/* The mark of the thread that made the latest fork this process is the
 * child of (set by chan.c's child handler; NULL in a process that is no
 * fork's child). */
extern __attribute__((visibility("hidden"))) void *ferry__fork_owner;

/* Set an op up for a call. need: items that complete a send (n). A
 * blocking op's waker.ctx is set to its thread's mark. */
static inline void ferry__op_setup(ferry_op *op, struct ferry_chan *c, int kind, void *buf, size_t n, unsigned prio, bool async,
                     ferry_waker w)
{
    ferry_waiter_init(&op->waiter, NULL); /* rounds wake ops themselves */
    op->chan = c;
    op->buf = buf;
    op->n = n;
    op->need = n;
    op->done = 0;
    op->has_head_weight = false;
    op->head_weight = 0;
    op->result = -EINPROGRESS;
    op->waker = w;
    if (!async) /* a blocking call's op has no waker: its ctx names the thread */
        op->waker.ctx = ferry__thread_mark();
    op->round = NULL;
    op->claim = NULL;
    op->round_gen = 0;
    op->ticket = 0;
    op->prio = prio;
    op->kind = (uint8_t)kind;
    op->async = async;
    /* Relaxed: the op is published to completers by the channel's lock. */
    atomic_store_explicit(&op->state, FERRY__ST_PENDING, memory_order_relaxed);
}

/* A started op that finished at once (or a start that failed): DONE with
 * that result, no waker, no round, no channel reference. */
void ferry__op_finish_now(ferry_op *op, ssize_t result);

/* Under the lock: the round's first async op registers it (chan_op.c). */
void ferry__round_register(struct ferry_chan *c, struct ferry__wake *wk);

/* Under the lock, lock-free paths only: one op fewer on a list (chan_lf.c
 * D3). Relaxed: a stale nonzero count only sends a fast path to the lock. */
static inline void ferry__chan_unwait(struct ferry_chan *c, const ferry_op *op)
{
    if (c->path->lockfree)
        atomic_fetch_sub_explicit(op->kind == FERRY__OP_RECV ? &c->rx_waiters : &c->tx_waiters, 1,
                                  memory_order_relaxed);
}

/* Under the lock: `op` (linked) is complete with `result`; move it into the
 * round. */
static inline void ferry__op_complete(struct ferry_chan *c, ferry_op *op, ssize_t result, struct ferry__wake *wk)
{
    op->result = result;
    ferry_waitlist *q = op->kind == FERRY__OP_RECV ? &c->recvq : &c->sendq;
    c->st.wakeups++;
    ferry__chan_unwait(c, op);
    if (op->kind == FERRY__OP_SEND && op->done > 0)
        c->st.batches_sent++;
    if (op->kind == FERRY__OP_RECV && result > 0)
        c->st.batches_received++;
    if (!op->async) {
        ferry_waitlist_move(q, &op->waiter, &wk->blocking);
        return;
    }
    if (!wk->registered)
        ferry__round_register(c, wk);
    ferry_waitlist_move(q, &op->waiter, &wk->async);
    op->round = wk;
    op->round_gen = wk->gen;
    /* Relaxed: chan_op.c O2. */
    atomic_store_explicit(&op->state, FERRY__ST_TAKEN, memory_order_relaxed);
}

/* The select hook: claims. Ops that share a claim word (a select's cases)
 * are siblings, of which at most one may move anything. The word holds:
 *   0                  open: no sibling has moved anything;
 *   op                 final: `op` won; every sibling is a loser;
 *   op | PROVISIONAL   a thread holding op's channel lock is about to move
 *                      items through `op`, and will make the claim final
 *                      (something moved) or open again (nothing did)
 *                      without waiting for anything in between.
 * Every place that moves items through a claimed op, or completes it,
 * claims it first, under the op's channel lock:
 *  - final, where the move is certain (a handoff between two ops, a close,
 *    an immediate result of a start);
 *  - provisional, where it may come up empty (a take from or a put into a
 *    buffer, which on a lock-free path races with the fast paths), then
 *    ferry__op_claim_done(op, moved). So a won claim always comes with a
 *    move or a completion in the same hold of the lock, and a claimed op
 *    never stays linked waiting for "its" channel while a sibling could
 *    complete (liveness).
 * Claiming an op whose word a sibling holds provisionally spins until that
 * resolves. Holders never wait while they hold a provisional claim, except
 * for a word at a higher address (ferry__op_claim_pair claims two words in
 * address order), so the spins cannot form a cycle.
 * (chan_op.c O6; models/chan_select.pml.) */
#define FERRY__CLAIM_PROVISIONAL ((uintptr_t)1)

bool ferry__op_claim_slow(ferry_op *op, bool provisional);

/* Final claim: may the caller complete `op`? True if op has no claim word,
 * or the word was open (now op's) or already op's. */
static inline bool ferry__op_claim(ferry_op *op)
{
    return FERRY_LIKELY(op->claim == NULL) || ferry__op_claim_slow(op, false);
}

/* Provisional claim, for a move that may come up empty; settle it with
 * ferry__op_claim_done. True as for ferry__op_claim (a word already final
 * for op stays final). */
static inline bool ferry__op_claim_prov(ferry_op *op)
{
    return FERRY_LIKELY(op->claim == NULL) || ferry__op_claim_slow(op, true);
}

/* Settle a provisional claim: final if anything moved, open otherwise (a
 * word already final for op stays final). */
void ferry__op_claim_done_slow(ferry_op *op, bool moved);
static inline void ferry__op_claim_done(ferry_op *op, bool moved)
{
    if (FERRY_UNLIKELY(op->claim != NULL))
        ferry__op_claim_done_slow(op, moved);
}

/* Has `op` (the caller's own, not linked) already won its claim? */
static inline bool ferry__op_claim_held(const ferry_op *op)
{
    /* Relaxed: only this thread writes op's own final claim (O6). */
    return op->claim == NULL || atomic_load_explicit(op->claim, memory_order_relaxed) == (uintptr_t)op;
}

/* Outcomes of ferry__op_claim_pair. */
enum { FERRY__PAIR_WON, FERRY__PAIR_SKIP, FERRY__PAIR_OTHER_LOST, FERRY__PAIR_OWN_LOST };

/* A certain move between the caller's own op `own` (a call or a start,
 * not linked) and a linked op `other`: take both claims or neither. WON:
 * both taken (final). SKIP: they are siblings (one select's cases never
 * pair with each other); neither is touched. OTHER_LOST: other's sibling
 * won (the caller unlinks it with ferry__op_lose); OWN_LOST: own's sibling
 * won -- own must move nothing. Two claim words are taken in address
 * order, the first provisionally. */
int ferry__op_claim_pair_slow(ferry_op *own, ferry_op *other);
static inline int ferry__op_claim_pair(ferry_op *own, ferry_op *other)
{
    if (FERRY_LIKELY(own->claim == NULL && other->claim == NULL))
        return FERRY__PAIR_WON;
    return ferry__op_claim_pair_slow(own, other);
}

/* The result of a claimed start whose sibling had already won: nothing
 * moved, nothing linked (the start's op is complete with this result). */
#define FERRY__CLAIM_LOST (-ECANCELED)

/* Under the lock: a linked op whose claim a sibling won leaves its list
 * (LOST); its owner's cancel reports what it moved (nothing here). */
void ferry__op_lose(struct ferry_chan *c, ferry_op *op);

/* Under the lock: the oldest op on q that the caller may complete (losers
 * of a claim leave the list on the way), or NULL. prov: claim it
 * provisionally (the caller settles with ferry__op_claim_done). */
static inline ferry_op *ferry__op_first(struct ferry_chan *c, ferry_waitlist *q, bool prov)
{
    ferry_waiter *w;
    while ((w = ferry_waitlist_peek(q, FERRY_ROUND_ALL)) != NULL) {
        ferry_op *op = ferry_container_of(w, ferry_op, waiter);
        if (FERRY_LIKELY(op->claim == NULL) || ferry__op_claim_slow(op, prov))
            return op;
        ferry__op_lose(c, op);
    }
    return NULL;
}

/* Wait for a blocking op (linked, lock dropped) to complete, or for the
 * deadline; returns the call's result. */
ssize_t ferry__op_wait(struct ferry_chan *c, ferry_op *op, const struct timespec *deadline);

/* The starts behind ferry_recv_start / ferry_send_prio_start (chan.c),
 * with the select hook exposed: `claim` (NULL: none) is shared by sibling
 * ops of which at most one completes; a send completes once `need` items
 * are taken (0: all n). */
ssize_t ferry__recv_start_claimed(ferry_rx *rx, ferry_op *op, void *out, size_t max, ferry_waker w,
                                  FERRY_ATOMIC(uintptr_t) *claim);
ssize_t ferry__send_start_claimed(ferry_tx *tx, ferry_op *op, const void *items, size_t n, unsigned prio,
                                  size_t need, ferry_waker w, FERRY_ATOMIC(uintptr_t) *claim);

/* The waker of a blocking select's cases (select.c): such a case, like a
 * blocking call's op, is a wait of the thread that made the call. Its ctx
 * is the select's sleep, on that thread's stack: */
struct ferry__select_sleep {
    FERRY_ATOMIC(uint32_t) word; /* the futex word the selector sleeps on */
    void *owner;                 /* the selector's ferry__thread_mark()    */
};
void ferry__select_wake(void *ctx);

/* In a fork's child: is `op` a wait of a thread that does not exist here
 * -- a blocking call's op or a blocking select's case of any thread but the
 * one that forked -- rather than an async op (which its owner may complete
 * or cancel from any thread) or a wait of the forking thread? The fork
 * handling drops such waits (chan.c), in whichever thread takes the
 * channel's lock first. The forking thread's own waits stay: a thread that
 * forks is waiting only if a signal handler forked during its wait, which
 * then goes on (dropped, a blocking wait slept past its deadline for ever,
 * and a select aborted: "case 0 moved -115 items"). */
static inline bool ferry__op_is_thread_wait(const ferry_op *op)
{
    const void *owner;
    if (!op->async)
        owner = op->waker.ctx;
    else if (op->waker.wake == ferry__select_wake)
        owner = ((const struct ferry__select_sleep *)op->waker.ctx)->owner;
    else
        return false;
    return owner != ferry__fork_owner;
}

/* Finish an op that lived on the caller's stack (checks it is on no list). */
static inline void ferry__op_fini(ferry_op *op) { ferry_waiter_fini(&op->waiter); }

#endif /* FERRY_SRC_CHAN_OP_H */
