/* SPDX-License-Identifier: MIT */
/* The op state machine, wake rounds, blocking waits and cancel. The states,
 * transitions and the cancel guarantee are in chan_op.h; the cancel
 * protocol is model-checked in models/chan_cancel.pml, its carry step (W5)
 * in models/chan_carry.pml.
 *
 * Invariants:
 *  W1 An async op is TAKEN exactly while it is in a registered round's
 *     `async` list; that list changes only under the channel's lock (the
 *     completer appends) or the round's lock (pops, take-overs). A round
 *     with async ops is registered from its first async completion until
 *     it has popped and woken all of them and no canceller pins it.
 *  W2 A round pops in order and calls each popped op's waker before it
 *     pops the next; the op's ticket is its pop number (1, 2, ...), and the
 *     round's seq counts the wakers that returned. So a popped op's waker
 *     has returned iff seq >= its ticket, and at most one popped op (the
 *     round's `current`) has a waker running.
 *  W3 After a completer's DONE store (O1, O3) it never touches the op
 *     again: the waker was copied first, the futex wake is on the address.
 *  W4 Blocking ops in a round are woken before any async waker runs, so a
 *     blocking waiter that times out and finds its op taken waits only for
 *     the completer's next few instructions.
 *  W5 A round that would run wakers FERRY__WAKE_NEST_MAX deep moves its
 *     async ops (all but a blocking select's, which never nest) to the
 *     outermost round's carrier for its channel, under the channel's lock
 *     -- which every canceller holds while it finds and takes over an op --
 *     and the carrier's lock, then leaves the registry: to a canceller an
 *     op is in one registered round or the other, never in neither. A
 *     carrier is a registered round of the same channel (W1, W2 hold for
 *     it) and holds a count of the channel's memory until it has run. It
 *     may receive an op again, completed anew inside its own running
 *     waker: that op is TAKEN while also the carrier's `current`, so a
 *     cancel looks at TAKEN first. Carriers take turns, oldest first, a
 *     turn being the ops a carrier held when it began (what its wakers
 *     add waits for the next): no carried waker waits behind a chain that
 *     goes on in another carrier. Between turns a carrier stays
 *     registered (W1) and keeps its tickets and seq (W2).
 *
 * Ordering rules (cited at each atomic access as O1-O6):
 *  O1 Blocking op: the completer's release exchange to DONE publishes the
 *     result and the items moved; the waiter's acquire loads (its polls,
 *     its CAS to SLEEPING failing, its load after the futex) pair with it.
 *  O2 Async op: TAKEN is stored under the channel's lock (relaxed: the
 *     lock orders it for cancellers, and ferry_op_result reads it as still
 *     pending, publishing nothing).
 *  O3 Async op: DONE is stored with release, under the round's lock, by
 *     the completer that pops it (after copying its waker and setting its
 *     ticket) or by a canceller; ferry_op_result's and cancel's acquire
 *     loads pair with it, making the result and the items visible.
 *  O4 Round seq (Dekker): the completer increments seq (seq_cst) after a
 *     waker returned, then reads pins (seq_cst); a canceller increments
 *     pins (seq_cst), then reads seq (seq_cst). Either the canceller sees
 *     the increment or the completer sees the pin and wakes it. The
 *     increment's release half pairs with the canceller's acquire half:
 *     the waker's effects happen before the cancel returns.
 *  O5 Round pins: a canceller's release decrement pairs with the
 *     completer's acquire load at the round's end: the canceller is done
 *     with the round's memory before the round goes away.
 *  O6 Claim (select, chan_op.h): relaxed CAS and stores -- only their
 *     atomicity matters (one winner; a provisional claim is settled by the
 *     thread that took it); the claim word carries no data: the items and
 *     the result are published by the winner's completion (O1, O3), and a
 *     selector that reads the word to learn the winner does so after it
 *     took, in a cancel, the lock under which the claim was made.
 */
#include "chan_op.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "futex.h"

/* The rounds this thread is waking, innermost first (a waker may call into
 * a channel and start a nested round). */
static FERRY_TLS struct ferry__wake *tls_waking;

/* Under the channel's lock: make the round findable by cancellers (W1). */
void ferry__round_register(struct ferry_chan *c, struct ferry__wake *wk)
{
    ferry_mutex_init(&wk->lock);
    wk->popped = 0;
    wk->current = NULL;
    /* Relaxed: the round is published to other threads by wake_lock. */
    atomic_store_explicit(&wk->seq, 0, memory_order_relaxed);
    atomic_store_explicit(&wk->pins, 0, memory_order_relaxed);
    ferry_mutex_lock(&c->wake_lock);
    wk->gen = ++c->round_gen;
    ferry_list_add_tail(&c->rounds, &wk->node);
    ferry_mutex_unlock(&c->wake_lock);
    wk->registered = true;
}

static inline ferry_op *op_of_node(ferry_list *n)
{
    return ferry_container_of(ferry_container_of(n, ferry_waiter, node), ferry_op, waiter);
}

/* Take the first op off a round's list (the caller holds what guards it). */
static ferry_op *wakeset_pop(ferry_wakeset *ws)
{
    ferry_list *n = ferry_list_first(&ws->head);
    if (!n)
        return NULL;
    ferry_op *op = op_of_node(n);
    ferry_list_del(n);
    ws->len--;
    op->waiter.taken = false;
    return op;
}

/* The carriers of a thread's outermost round (FERRY__WAKE_NEST_MAX): on
 * that round's frame, which outlives every round nested in its wakers. A
 * carrier is a round of its own, registered in its channel like any other
 * (cancellers find it there, W1), and holds a count of the channel's
 * memory (I5) from its first op until its last waker has returned: the
 * call that completed the op may release the last handle before then.
 * Only the thread whose frame holds them touches `used` and the carriers'
 * lists (appends under the channel's lock and the carrier's lock, pops
 * under the carrier's lock). Carriers take turns (W5): a turn runs the ops
 * the carrier held when it began; with more left, the carrier goes to the
 * back of the queue, so that an op waits for the turns queued before its
 * own, never for a chain that goes on in another carrier (each hop would
 * be added to that carrier's next turn). */
#define CARRIERS 4
struct ferry__carry {
    struct ferry__wake k[CARRIERS];
    bool used[CARRIERS];
    uint32_t turn[CARRIERS]; /* place in the queue: the lowest runs next */
    uint32_t turns;          /* the next place */
};

/* The rounds of async ops: pop each op under the round's lock and call its
 * waker (W2), then leave the registry. A carrier's turn pops at most `max`
 * ops; true if it stopped there with ops left (it stays registered). */
static bool run_round(struct ferry_chan *c, struct ferry__wake *wk, struct ferry__carry *carry, size_t max)
{
    ferry_op *op;
    bool left = false;
    /* A waker that reaches a cancellation point (a write to an eventfd)
     * must not end the thread here: the round lives in this thread's
     * frame, the ops after it would never be woken, and cancellers would
     * find a round that is gone. Cancellation is held off until every
     * waker has run and the round has left the registry (chan_internal.h,
     * ferry__nocancel_begin). */
    int cancel_state = ferry__nocancel_begin();
    wk->outer = tls_waking;
    wk->depth = wk->outer ? wk->outer->depth + 1 : 1;
    wk->carry = carry;
    tls_waking = wk;
    for (size_t n = 0;; n++) {
        ferry_mutex_lock(&wk->lock);
        if (n == max && !ferry_wakeset_empty(&wk->async)) {
            ferry_mutex_unlock(&wk->lock);
            left = true;
            break;
        }
        op = wakeset_pop(&wk->async);
        if (!op) {
            ferry_mutex_unlock(&wk->lock);
            break;
        }
        op->ticket = ++wk->popped;
        ferry_waker w = op->waker;
        wk->current = op;
        /* Release: O3 (popped). The op is the owner's from here (W3). */
        atomic_store_explicit(&op->state, FERRY__ST_DONE, memory_order_release);
        ferry_mutex_unlock(&wk->lock);
        w.wake(w.ctx);
        wk->current = NULL;
        /* seq_cst: O4 (with the pins load below). */
        atomic_fetch_add_explicit(&wk->seq, 1, memory_order_seq_cst);
        if (atomic_load_explicit(&wk->pins, memory_order_seq_cst) != 0)
            ferry__futex_wake(&wk->seq, INT_MAX);
    }
    tls_waking = wk->outer;
    if (left) {
        ferry__nocancel_end(cancel_state);
        return true;
    }
    ferry_mutex_lock(&c->wake_lock);
    ferry_list_del(&wk->node);
    ferry_mutex_unlock(&c->wake_lock);
    /* Cancellers that pinned the round before it left the registry (they
     * see seq complete, so they leave at once). Acquire: O5. */
    uint32_t v;
    while ((v = atomic_load_explicit(&wk->pins, memory_order_acquire)) != 0)
        ferry__futex_wait(&wk->pins, v, NULL);
    ferry__nocancel_end(cancel_state);
    return false;
}

/* Hand the user wakers of round wk (of channel c, registered, not yet
 * running) to the outermost round's carrier for c; false if every carrier
 * is taken by other channels (wk then runs here, nested). The select's
 * blocking waker stays: it only wakes a futex and never nests, and a
 * sleeping selector must not wait for the outermost waker to return. */
static bool carry_round(struct ferry_chan *c, struct ferry__wake *wk, struct ferry__carry *carry)
{
    /* The channel's lock holds off every canceller of wk's ops (they find
     * and take over an op under it), so that each op moves, with its
     * round and registration number, as one step for them. */
    ferry__chan_lock(c);
    int free_slot = -1, slot = -1;
    for (int i = 0; i < CARRIERS && slot < 0; i++) {
        if (carry->used[i] && carry->k[i].chan == c)
            slot = i;
        else if (!carry->used[i] && free_slot < 0)
            free_slot = i;
    }
    if (slot < 0 && free_slot < 0) {
        ferry__chan_unlock(c);
        return false;
    }
    struct ferry__wake *k;
    if (slot < 0) {
        slot = free_slot;
        k = &carry->k[slot];
        ferry__wake_init(k, c);
        ferry__round_register(c, k);
        atomic_fetch_add_explicit(&c->live, 1, memory_order_relaxed); /* I5, as a handle's clone (chan.c L1) */
        carry->used[slot] = true;
        carry->turn[slot] = carry->turns++;
    }
    k = &carry->k[slot];
    ferry_mutex_lock(&k->lock);
    ferry_mutex_lock(&wk->lock);
    ferry_list_for_each_safe(n, &wk->async.head) {
        ferry_op *op = op_of_node(n);
        if (op->waker.wake == ferry__select_wake)
            continue;
        /* Still TAKEN, now in k's list under k's registration (W1). */
        ferry_list_move_tail(&k->async.head, n);
        wk->async.len--;
        k->async.len++;
        op->round = k;
        op->round_gen = k->gen;
    }
    ferry_mutex_unlock(&wk->lock);
    ferry_mutex_unlock(&k->lock);
    bool empty = ferry_wakeset_empty(&wk->async);
    if (empty) {
        ferry_mutex_lock(&c->wake_lock);
        ferry_list_del(&wk->node);
        ferry_mutex_unlock(&c->wake_lock);
    }
    ferry__chan_unlock(c);
    return empty;
}

/* The outermost round of its thread: run it, then the carriers its
 * wakers' nested rounds filled, until none is left. Out of line, so that
 * only the outermost frame holds the carriers. */
__attribute__((noinline)) static void run_outermost(struct ferry_chan *c, struct ferry__wake *wk)
{
    struct ferry__carry carry;
    memset(carry.used, 0, sizeof carry.used);
    carry.turns = 0;
    run_round(c, wk, &carry, SIZE_MAX);
    for (;;) {
        int i = -1;
        for (int j = 0; j < CARRIERS; j++)
            if (carry.used[j] && (i < 0 || (int32_t)(carry.turn[j] - carry.turn[i]) < 0))
                i = j;
        if (i < 0)
            break;
        struct ferry__wake *k = &carry.k[i];
        struct ferry_chan *kc = k->chan;
        /* The turn: what k holds now (only this thread adds to it). */
        ferry_mutex_lock(&k->lock);
        size_t n = k->async.len;
        ferry_mutex_unlock(&k->lock);
        if (run_round(kc, k, &carry, n)) {
            carry.turn[i] = carry.turns++; /* to the back of the queue */
            continue;
        }
        carry.used[i] = false;
        ferry__chan_put(kc);
    }
}

void ferry__wake_round(struct ferry_chan *c, struct ferry__wake *wk)
{
    ferry_op *op;
    if (!ferry_wakeset_empty(&wk->blocking))
        ferry__wake_stamp(&c->wake_ns); /* the wait policy's wake-cost sample (chan_wait.h P1) */
    while ((op = wakeset_pop(&wk->blocking)) != NULL) {
        /* Release: O1. From here on the op may be gone (W3). */
        uint32_t prev = atomic_exchange_explicit(&op->state, FERRY__ST_DONE, memory_order_release);
        if (prev == FERRY__ST_SLEEPING)
            ferry__futex_wake(&op->state, 1); /* may hit reused memory: harmless */
    }
    if (!wk->registered)
        return;
    struct ferry__wake *outer = tls_waking;
    if (!outer) {
        run_outermost(c, wk);
        return;
    }
    if (outer->depth >= FERRY__WAKE_NEST_MAX && carry_round(c, wk, outer->carry))
        return;
    run_round(c, wk, outer->carry, SIZE_MAX);
}

/* ------------------------------------------------------------------------ */
/* Setting up and completing                                                 */

void ferry__op_finish_now(ferry_op *op, ssize_t result)
{
    op->result = result;
    op->round = NULL;
    op->chan = NULL;
    /* Release: O3 (for a ferry_op_result on another thread). */
    atomic_store_explicit(&op->state, FERRY__ST_DONE, memory_order_release);
}

/* A sibling holds the word provisionally: it settles it within a few
 * instructions (it waits for nothing lower, chan_op.h), unless it was
 * preempted -- then give it the CPU. */
static void claim_spin(unsigned *spins)
{
    if (++*spins < 128)
        ferry__cpu_relax();
    else
        sched_yield();
}

bool ferry__op_claim_slow(ferry_op *op, bool provisional)
{
    const uintptr_t me = (uintptr_t)op;
    const uintptr_t want = provisional ? me | FERRY__CLAIM_PROVISIONAL : me;
    for (unsigned spins = 0;;) {
        uintptr_t cur = 0;
        /* Relaxed: O6. */
        if (atomic_compare_exchange_strong_explicit(op->claim, &cur, want, memory_order_relaxed,
                                                    memory_order_relaxed))
            return true;
        if (cur == me)
            return true; /* already final for op */
        if (!(cur & FERRY__CLAIM_PROVISIONAL))
            return false; /* final for a sibling */
        if (FERRY_UNLIKELY(cur == (me | FERRY__CLAIM_PROVISIONAL)))
            ferry__die("op %p: its claim is already held provisionally (taken twice under one lock)", (void *)op);
        claim_spin(&spins);
        /* Relaxed: O6. */
        while (atomic_load_explicit(op->claim, memory_order_relaxed) == cur)
            claim_spin(&spins);
    }
}

void ferry__op_claim_done_slow(ferry_op *op, bool moved)
{
    uintptr_t held = (uintptr_t)op | FERRY__CLAIM_PROVISIONAL;
    /* Relaxed: O6. A CAS, so that a word that was already final for op
     * (taken earlier in the same call) stays final. */
    atomic_compare_exchange_strong_explicit(op->claim, &held, moved ? (uintptr_t)op : 0, memory_order_relaxed,
                                            memory_order_relaxed);
}

int ferry__op_claim_pair_slow(ferry_op *own, ferry_op *other)
{
    if (other->claim == NULL)
        return ferry__op_claim(own) ? FERRY__PAIR_WON : FERRY__PAIR_OWN_LOST;
    if (own->claim == NULL)
        return ferry__op_claim(other) ? FERRY__PAIR_WON : FERRY__PAIR_OTHER_LOST;
    if (own->claim == other->claim)
        return FERRY__PAIR_SKIP;
    /* Address order: the first word provisionally, the second final; a
     * holder of a provisional claim waits only for higher words. */
    if ((uintptr_t)own->claim < (uintptr_t)other->claim) {
        if (!ferry__op_claim_slow(own, true))
            return FERRY__PAIR_OWN_LOST;
        bool won = ferry__op_claim_slow(other, false);
        ferry__op_claim_done_slow(own, won);
        return won ? FERRY__PAIR_WON : FERRY__PAIR_OTHER_LOST;
    }
    if (!ferry__op_claim_slow(other, true))
        return FERRY__PAIR_OTHER_LOST;
    bool won = ferry__op_claim_slow(own, false);
    ferry__op_claim_done_slow(other, won);
    return won ? FERRY__PAIR_WON : FERRY__PAIR_OWN_LOST;
}

void ferry__op_lose(struct ferry_chan *c, ferry_op *op)
{
    ferry_waitlist_unlink(op->kind == FERRY__OP_RECV ? &c->recvq : &c->sendq, &op->waiter);
    ferry__chan_unwait(c, op);
    /* Relaxed: under the lock, read by the owner's cancel under it. */
    atomic_store_explicit(&op->state, FERRY__ST_LOST, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Blocking waits                                                            */

/* Polls of the completion word before sleeping: a completion already on its
 * way would otherwise cost a futex round trip. Only with more than two CPUs:
 * measured on an oversubscribed 2-CPU machine, spinning burns the time slice
 * that the thread being waited for needs (ping-pong 1.8x slower). */
#define SPIN_POLLS 64

static int spin_polls(void) { return ferry__many_cpus() ? SPIN_POLLS : 0; }

ssize_t ferry__op_wait(struct ferry_chan *c, ferry_op *op, const struct timespec *deadline)
{
    for (int i = 0, polls = spin_polls(); i < polls; i++) {
        if (atomic_load_explicit(&op->state, memory_order_acquire) == FERRY__ST_DONE) /* O1 */
            return op->result;
        ferry__cpu_relax();
    }
    uint32_t expect = FERRY__ST_PENDING;
    /* Acquire on failure: the only other value is DONE (O1). */
    if (!atomic_compare_exchange_strong_explicit(&op->state, &expect, FERRY__ST_SLEEPING, memory_order_acquire,
                                                 memory_order_acquire))
        return op->result;
    uint64_t slept_at = ferry__now_ns();
    for (;;) {
        int r = ferry__futex_wait(&op->state, FERRY__ST_SLEEPING, deadline);
        if (atomic_load_explicit(&op->state, memory_order_acquire) == FERRY__ST_DONE) { /* O1 */
            if (r == 0)
                ferry__wake_sample(&c->wake_ns, slept_at); /* chan_wait.h P1 */
            return op->result;
        }
        if (r == -ETIMEDOUT) {
            if (ferry__chan_withdraw(c, op)) {
                if (op->kind == FERRY__OP_SEND && op->done > 0)
                    return (ssize_t)op->done;
                return -ETIMEDOUT;
            }
            /* Taken by a completer just now: its wake is imminent (W4). */
            deadline = NULL;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Result and cancel                                                         */

/* A state no start leaves: zero-filled (never started), or memory that no
 * start set up at all (op.h: such memory must not be passed; most of it,
 * e.g. a fill pattern, has a state word beyond the last one, and is told
 * apart here rather than followed to a channel that is not there). */
static inline bool never_started(uint32_t s) { return s == FERRY__ST_NONE || s > FERRY__ST_LOST; }

ssize_t ferry_op_result(const ferry_op *op)
{
    if (!op)
        return -EINVAL;
    /* Acquire: O1 / O3 -- after a completed result, the items are visible. */
    uint32_t s = atomic_load_explicit(&op->state, memory_order_acquire);
    if (s == FERRY__ST_DONE)
        return op->result;
    return never_started(s) ? -EINVAL : -EINPROGRESS;
}

/* Under c's wake_lock: the registered round `r` of c, if it is still
 * registered under that registration number (W1); NULL once it is over. */
static struct ferry__wake *round_find(struct ferry_chan *c, void *r, uint32_t gen)
{
    ferry_list_for_each_entry(w, &c->rounds, struct ferry__wake, node) {
        if ((void *)w == r && w->gen == gen)
            return w;
    }
    return NULL;
}

/* Is `r` a round this thread is waking right now? */
static bool waking_here(const struct ferry__wake *r)
{
    for (const struct ferry__wake *w = tls_waking; w; w = w->outer)
        if (w == r)
            return true;
    return false;
}

/* A pending op (or a complete one whose waker has not run) is on a list by
 * its address. A copy of it -- memcpy'd or assigned to another ferry_op,
 * the original moved away -- carries the original's links, but its
 * neighbours do not point to it: unlinking it would unlink the original
 * and corrupt the list later. Called under the lock that guards the list
 * the op is on (op.h: a pending op must not be moved or copied). */
static void check_not_moved(const ferry_op *op)
{
    const ferry_list *n = &op->waiter.node;
    if (FERRY_UNLIKELY(n->prev == NULL || n->prev->next != n))
        ferry__die("ferry_op %p was moved or copied while pending (a pending op is linked by its address: "
                   "cancel it first)",
                   (const void *)op);
}

ssize_t ferry_op_cancel(ferry_op *op)
{
    if (!op)
        return -EINVAL;
    /* Acquire: O3 (a DONE seen here makes result readable). */
    uint32_t s = atomic_load_explicit(&op->state, memory_order_acquire);
    if (never_started(s))
        return -EINVAL;
    if (s == FERRY__ST_DONE && op->round == NULL)
        return op->result; /* no waker outstanding: immediate, failed, withdrawn, taken over */
    struct ferry_chan *c = op->chan;
    /* A weigh or drop callback of c cancelling would deadlock on c's lock:
     * abort with a message instead, as every entry point does (C1). */
    ferry__callback_check(c, "ferry_op");
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    ferry__chan_lock(c);
    if (op->waiter.owner != NULL)
        check_not_moved(op);
    if (ferry__chan_unlink_locked(c, op, &wk)) {
        /* Still pending: withdrawn. Report what already moved. */
        ferry__unlock_and_wake(c, &wk);
        ferry__op_fini(op);
        ferry__op_finish_now(op, (ssize_t)op->done);
        return op->result;
    }
    /* Relaxed: under the lock, which orders TAKEN and LOST (O2). */
    s = atomic_load_explicit(&op->state, memory_order_relaxed);
    if (s == FERRY__ST_LOST) {
        ferry__chan_unlock(c);
        ferry__op_finish_now(op, (ssize_t)op->done);
        return op->result;
    }
    /* Complete (TAKEN or DONE) through a round: find it (W1). */
    ferry_mutex_lock(&c->wake_lock);
    struct ferry__wake *r = round_find(c, op->round, op->round_gen);
    bool wait = false;
    uint32_t ticket = 0;
    if (r) {
        ferry_mutex_lock(&r->lock);
        /* TAKEN first: a carrier (FERRY__WAKE_NEST_MAX) may hold the op
         * again, completed anew by a call in its own waker, while that
         * waker -- r's current -- still runs on this thread. */
        if (atomic_load_explicit(&op->state, memory_order_relaxed) == FERRY__ST_TAKEN) { /* O2, under r->lock */
            /* Not popped: take the completion over; its waker is never called. */
            check_not_moved(op);
            ferry_list_del(&op->waiter.node);
            r->async.len--;
            op->waiter.taken = false;
            /* Release: O3 (taken over). */
            atomic_store_explicit(&op->state, FERRY__ST_DONE, memory_order_release);
        } else if (!(waking_here(r) && r->current == op)) {
            /* Popped: its waker has returned iff seq >= ticket (W2). */
            ticket = op->ticket;
            /* seq_cst: O4 (pin, then read seq). */
            atomic_fetch_add_explicit(&r->pins, 1, memory_order_seq_cst);
            wait = (int32_t)(atomic_load_explicit(&r->seq, memory_order_seq_cst) - ticket) < 0;
            if (!wait)
                atomic_fetch_sub_explicit(&r->pins, 1, memory_order_relaxed); /* O5: r is registered, we hold wake_lock */
        }
        ferry_mutex_unlock(&r->lock);
    }
    /* Otherwise the round is over (every waker returned), or the op's own
     * waker is running on this thread: we are inside it. */
    ferry_mutex_unlock(&c->wake_lock);
    ferry__chan_unlock(c);
    if (wait) {
        uint32_t v;
        /* seq_cst: O4. */
        while ((int32_t)((v = atomic_load_explicit(&r->seq, memory_order_seq_cst)) - ticket) < 0)
            ferry__futex_wait(&r->seq, v, NULL);
        /* Release: O5. r may be gone right after this. */
        if (atomic_fetch_sub_explicit(&r->pins, 1, memory_order_release) == 1)
            ferry__futex_wake(&r->pins, 1);
    }
    op->round = NULL;
    return op->result;
}
