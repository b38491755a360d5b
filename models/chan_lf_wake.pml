/* SPDX-License-Identifier: MIT */
/* Promela model of the sleep/wake handshake of the channel's lock-free data
 * path, checked by models/verify.sh (test unit.model.chan_lf_wake,
 * cmake/parts/models.cmake).
 *
 * Producers send single items and consumers receive single items, each
 * first on the fast path (no lock) and, when that fails, under the lock,
 * where they may link their op and sleep until another thread completes it.
 * Items live in a ring of CAP slots with a sequence number per slot (free
 * for position p: 2p; holds the item of p: 2p+1; freed by a consumer for
 * the next lap: 2(p+CAP)); tail and head are claimed with atomic updates.
 *
 * What each part models, step by step (the rules are those the code cites:
 * D1-D4 in src/chan_lf.c, R1-R5 in src/chan_lfring.h):
 *   push, pop        ferry__lfring_push / _pop for one item: read the
 *                    slot's sequence number (acquire), claim the position
 *                    (R3), then publish the item or free the slot with one
 *                    release store (R1, R2);
 *   ring_empty       ferry__lfring_empty: tail, then head (R5);
 *   producer, fast   lf_send (src/chan_lf.c): the relaxed pre-check of
 *                    tx_waiters (D4; waiting receivers do not turn the
 *                    fast path off), the push, then
 *                    lf_after: fence, read rx_waiters, and if it is not
 *                    zero lock, ferry__chan_settle, unlock (D2);
 *   consumer, fast   lf_recv: the pre-check of tx_waiters (D4), the pop,
 *                    fence, read tx_waiters (D2); not zero: on to the slow
 *                    path with the item;
 *   producer, slow   ferry__chan_send_locked (src/chan_move.c) on a
 *                    lock-free path: with no blocked sender, if receivers
 *                    wait settle and, the ring empty, hand the item to the
 *                    oldest receiver (handoff_to_receivers); else put it
 *                    (lf_put); still not in: count_sleeper with its fence,
 *                    and put again (D1); if receivers wait, settle; then
 *                    uncount_sleeper (D3) and return, or link and sleep
 *                    (count_sleeper without the fence when it queues
 *                    behind blocked senders: they go first);
 *   consumer, slow   ferry__chan_recv_locked: take_into (lf_take, then,
 *                    the ring empty, take_from_senders), and if nothing
 *                    came, count_sleeper with its fence and take_into again
 *                    (D1); then uncount_sleeper (D3) and settle if anyone
 *                    waits, or link and sleep;
 *   settle           ferry__chan_settle: ring items to waiting receivers,
 *                    oldest first, while the ring is not empty; then, the
 *                    first time round or when receivers took some,
 *                    refill_from_senders; again until nothing moved;
 *   complete_*       ferry__op_complete: the op leaves its list and its
 *                    side's count goes down (ferry__chan_unwait, D3).
 * Left out: batches (every call moves one item), select claims, closing,
 * deadlines, cancels and try calls (an op that leaves its list otherwise
 * than by completion lowers the count the same way, D3), and the wake
 * round: a completed op is marked done under the lock; that its thread
 * learns of it only after the unlock does not matter here, since it does
 * not take the lock again.
 *
 * Memory is modelled with one FIFO store buffer per thread: the stores the
 * handshake depends on -- a slot's publication (item and sequence number,
 * one release store), a slot's freeing, the waiter counts tx_waiters /
 * rx_waiters, and the unlock -- go into the thread's buffer, and a flusher
 * process moves the oldest entry to memory at any moment. A thread's loads
 * see its own buffered stores first, else memory: a load may pass the
 * thread's earlier stores (store->load reordering, the one reordering the
 * Dekker pattern must forbid; x86 allows it, and C11 allows it unless both
 * sides issue a seq_cst fence). A fence waits until the buffer is empty.
 * The waiter counts are changed only under the lock; their read-modify-
 * write is modelled as a buffered store, because a C11 seq_cst RMW is not a
 * fence for the loads after it. Taking the lock drains the buffer (it is
 * an atomic RMW on the lock word; the lock is released by a buffered store,
 * so everything stored before the unlock is visible to the next holder).
 * Data guarded by the lock (the waiter lists, op completion) is plain.
 *
 * The handshake (src/chan_lf.c, D1 and D2): a party about to sleep counts
 * itself (under the lock), fences, and retries the ring; a fast-path party
 * publishes (or frees) a slot, fences, and reads the other side's count,
 * settling under the lock when it is not zero.
 *
 * The consumer asks for LEFT items fewer than the producers send, so that
 * a run can end with a producer legitimately asleep on a full ring.
 * Checked: no lost wakeup (once nothing can move any more, nobody sleeps
 * while the ring holds an item for it or room for it: see observer), every
 * item received exactly once and in each producer's order, and at the end
 * the waiter counts equal the sleepers.
 *
 * Configurations: default one producer (3 items), one consumer (2), CAP 1;
 * -DLEFT=0: the consumer takes all 3; -DTWO_PRODUCERS: two producers (1
 * item each), one consumer, CAP 2 (out-of-order publication).
 * Broken variants, each of which spin must reject:
 *   -DNO_PUSH_FENCE   no fence between a fast-path push and the read of
 *                     rx_waiters (lf_after, D2);
 *   -DNO_POP_FENCE    no fence between a fast-path pop and the read of
 *                     tx_waiters (lf_recv, D2);
 *   -DNO_SLEEP_FENCE  no fence between counting oneself and the retry
 *                     (count_sleeper, D1);
 *   -DNO_WAITER_CHECK the fast-path push does not look at rx_waiters
 *                     afterwards (lf_after without its read).
 *   -DNO_RECV_SETTLE  a receive that got its item under the lock does not
 *                     settle: the room it freed is not given to a blocked
 *                     sender (ferry__chan_recv_locked without its settle).
 */

#ifdef TWO_PRODUCERS
#define CAP 2
#define NPROD 2
#define PER_PROD 1
#ifndef LEFT
#define LEFT 0
#endif
#else
#define CAP 1
#define NPROD 1
#ifndef PER_PROD
#define PER_PROD 2
#endif
#endif
#ifndef LEFT
#define LEFT 1          /* items the consumer does not ask for */
#endif
#define NCONS 1
#define NTHREADS (NPROD + NCONS)
#define NITEMS (NPROD * PER_PROD)
#define SB 6            /* store buffer entries per thread */
#define NONE 255

/* Store buffer entry kinds */
#define SEQV 1          /* slot sequence number (+ item) */
#define RXWV 2          /* rx_waiters */
#define TXWV 3          /* tx_waiters */
#define LOCKV 4         /* unlock */

/* Memory */
byte seq[CAP];          /* slot i starts free for position i: 2i (init) */
byte itm[CAP];
byte tail, head;        /* claimed positions (atomic RMWs) */
byte rxw, txw;          /* rx_waiters, tx_waiters */
bit lck;

/* Store buffers, FIFO, oldest at index 0 */
byte sbv[NTHREADS * SB], sbi[NTHREADS * SB], sbx[NTHREADS * SB], sby[NTHREADS * SB];
byte sbn[NTHREADS];

/* Under the lock: waiter lists (FIFO of thread ids) and the ops */
byte rq[NCONS + 1], rqn;
byte sq[NPROD + 1], sqn;
bit op_done[NTHREADS];
byte op_val[NTHREADS];  /* send: the item; receive: the item it got */

/* Checks */
byte got[NITEMS + 1];
byte last_from[NPROD];
byte finished;

/* ------------------------------------------------------------------------ */
/* Memory operations of thread `me`                                          */

inline store(var, i, x, y)
{
    d_step {
        assert(sbn[me] < SB);
        sbv[me * SB + sbn[me]] = var;
        sbi[me * SB + sbn[me]] = i;
        sbx[me * SB + sbn[me]] = x;
        sby[me * SB + sbn[me]] = y;
        sbn[me]++
    }
}

/* Load slot i's sequence number and item: own newest buffered store, else memory. */
inline load_slot(i, out_s, out_v)
{
    j = sbn[me];
    out_s = NONE;
    do
    :: j > 0 ->
        j--;
        if
        :: sbv[me * SB + j] == SEQV && sbi[me * SB + j] == i ->
            out_s = sbx[me * SB + j]; out_v = sby[me * SB + j]; break
        :: else -> skip
        fi
    :: else -> break
    od;
    if
    :: out_s == NONE -> out_s = seq[i]; out_v = itm[i]
    :: else -> skip
    fi
}

/* Load a waiter count (var RXWV or TXWV). */
inline load_w(var, out)
{
    d_step {
        j = sbn[me];
        out = NONE;
        do
        :: j > 0 ->
            j--;
            if
            :: sbv[me * SB + j] == var -> out = sbx[me * SB + j]; break
            :: else -> skip
            fi
        :: else -> break
        od;
        if
        :: out == NONE && var == RXWV -> out = rxw
        :: out == NONE && var == TXWV -> out = txw
        :: else -> skip
        fi
    }
}

inline fence() { sbn[me] == 0 }

inline lock() { atomic { sbn[me] == 0 && lck == 0 -> lck = 1 } }
inline unlock() { store(LOCKV, 0, 0, 0) }

/* Under the lock: a waiter count up or down (count_sleeper's seq_cst RMW,
 * uncount_sleeper's and ferry__chan_unwait's relaxed ones). */
inline count(var, delta)
{
    load_w(var, w);
    assert(w + delta >= 0 && w + delta < NONE);
    store(var, 0, w + delta, 0)
}

/* ferry__lfring_push of one item: claim the tail if its slot is free for
 * it, then publish (R1, a release store). r = 1 pushed, 0 full. */
inline push(val, r)
{
    r = 2;
    do
    :: r == 2 ->
        d_step {
            t = tail; idx = t % CAP;
            load_slot(idx, s, x);
            if
            :: s == 2 * t -> tail = t + 1; r = 1
            :: s < 2 * t -> r = 0       /* holds an item of the last lap */
            :: else -> skip             /* stale tail: retry */
            fi
        }
    :: r != 2 -> break
    od;
    if
    :: r == 1 -> store(SEQV, idx, 2 * t + 1, val)
    :: else -> skip
    fi
}

/* ferry__lfring_pop of one item: claim the head if its slot is published,
 * read the item, then free the slot for the next lap (R2, a release
 * store). r = 1 popped, 0 nothing published at the head. */
inline pop(val, r)
{
    r = 2;
    do
    :: r == 2 ->
        d_step {
            h = head; idx = h % CAP;
            load_slot(idx, s, x);
            if
            :: s == 2 * h + 1 -> head = h + 1; val = x; r = 1
            :: s < 2 * h + 1 -> r = 0   /* empty, or not published yet */
            :: else -> skip
            fi
        }
    :: r != 2 -> break
    od;
    if
    :: r == 1 -> store(SEQV, idx, 2 * (h + CAP), 0)
    :: else -> skip
    fi
}

/* ferry__lfring_empty (R5): tail, then head, two loads (head never passes
 * the tail read first). e = 1: nothing claimed and untaken. */
inline ring_empty(e)
{
    e = tail;
    e = (head == e)
}

/* Under the lock: complete the oldest waiting receiver with item val. */
inline complete_receiver(val)
{
    c = rq[0]; op_val[c] = val;
    rq[0] = rq[1]; rqn--;
    count(RXWV, -1);
    op_done[c] = 1
}

/* Under the lock: the oldest blocked sender's item is in: complete it. */
inline complete_sender()
{
    c = sq[0];
    j = 0;
    do
    :: j + 1 < sqn -> sq[j] = sq[j + 1]; j++
    :: else -> break
    od;
    sqn--;
    count(TXWV, -1);
    op_done[c] = 1
}

/* ferry__chan_settle: ring items to waiting receivers while the ring is not
 * empty; then, the first time or when receivers took some, refill the ring
 * from blocked senders (refill_from_senders, oldest first, up to the first
 * that does not get in); until nothing moves. */
inline settle()
{
    first = 1;
    do
    :: took = 0;
        do
        :: rqn > 0 ->
            ring_empty(e);
            if
            :: e -> break
            :: else -> skip
            fi;
            pop(x2, r);
            if
            :: r == 1 -> complete_receiver(x2); took = 1
            :: else -> break
            fi
        :: else -> break
        od;
        if
        :: (first == 0 && took == 0) || sqn == 0 -> break
        :: else -> skip
        fi;
        first = 0;
        moved = 0;
        do
        :: sqn > 0 ->
            push(op_val[sq[0]], r);
            if
            :: r == 1 -> moved = 1; complete_sender()
            :: else -> break
            fi
        :: else -> break
        od;
        if
        :: moved == 0 -> break
        :: else -> skip
        fi
    od
}

/* ------------------------------------------------------------------------ */

/* take_into (src/chan_move.c) for a consumer that has no item yet: lf_take
 * (a pop), then, the ring empty, the oldest blocked sender's item
 * (take_from_senders). done = 1: v holds the item. */
inline take_into()
{
    pop(v, r); done = r;
    if
    :: done == 0 && sqn > 0 ->
        ring_empty(e);
        if
        :: e -> v = op_val[sq[0]]; complete_sender(); done = 1
        :: else -> skip
        fi
    :: else -> skip
    fi
}

proctype producer(byte me; byte id0)
{
    byte i = 0, v, w, r, t, h, idx, s, x, x2, c, j, e;
    bit moved, counted, done, first, took;
    do
    :: i < PER_PROD ->
        v = id0 + i;
        done = 0;
        /* lf_send: no blocked sender (D4); waiting receivers do not turn
         * the fast path off (lf_after hands the item over) */
        load_w(TXWV, w);
        if
        :: w == 0 ->
            push(v, r);
            if
            :: r == 1 ->
                done = 1;
                /* lf_after (D2) */
#ifndef NO_PUSH_FENCE
                fence();
#endif
#ifndef NO_WAITER_CHECK
                load_w(RXWV, w);
                if
                :: w != 0 -> lock(); settle(); unlock()
                :: else -> skip
                fi
#endif
            :: else -> skip
            fi
        :: else -> skip
        fi;
        if
        :: done == 0 ->
            /* ferry__chan_send_locked, under the lock */
            lock();
            counted = 0;
            if
            :: sqn == 0 ->
                if
                :: rqn > 0 ->
                    settle();
                    if                  /* handoff_to_receivers */
                    :: rqn > 0 ->
                        ring_empty(e);
                        if
                        :: e -> complete_receiver(v); done = 1
                        :: else -> skip
                        fi
                    :: else -> skip
                    fi
                :: else -> skip
                fi;
                if                      /* lf_put */
                :: done == 0 -> push(v, r); done = r
                :: else -> skip
                fi;
                if
                :: done == 0 ->         /* count_sleeper (D1), lf_put again */
                    count(TXWV, 1);
#ifndef NO_SLEEP_FENCE
                    fence();
#endif
                    counted = 1;
                    push(v, r); done = r
                :: else -> skip
                fi;
                if
                :: rqn > 0 -> settle()
                :: else -> skip
                fi
            :: else -> skip
            fi;
            if
            :: done == 1 ->
                if
                :: counted -> count(TXWV, -1)   /* uncount_sleeper (D3) */
                :: else -> skip
                fi;
                unlock()
            :: else ->
                if
                :: !counted -> count(TXWV, 1)   /* behind blocked senders: no retry */
                :: else -> skip
                fi;
                op_val[me] = v; op_done[me] = 0;
                sq[sqn] = me; sqn++;    /* link_and_wait */
                unlock();
end_sleep:      op_done[me] == 1        /* sleep until a settler moved our item */
            fi
        :: else -> skip
        fi;
        i++
    :: else -> break
    od;
    finished++
}

proctype consumer(byte me; byte quota)
{
    byte n = 0, v, w, r, t, h, idx, s, x, x2, c, j, p, e;
    bit moved, counted, done, first, took;
    do
    :: n < quota ->
        done = 0;
        /* lf_recv: no blocked sender (D4) */
        load_w(TXWV, w);
        if
        :: w == 0 ->
            pop(v, r);
            if
            :: r == 1 ->
                done = 1;
#ifndef NO_POP_FENCE
                fence();
#endif
                load_w(TXWV, w);        /* D2 */
                if
                :: w == 0 -> goto got_it
                :: else -> skip         /* senders blocked: go on under the lock */
                fi
            :: else -> skip
            fi
        :: else -> skip
        fi;
        /* ferry__chan_recv_locked, under the lock (with the item already
         * popped, take_into takes nothing more: one item asked for) */
        lock();
        if
        :: done == 0 -> take_into()
        :: else -> skip
        fi;
        counted = 0;
        if
        :: done == 0 ->                 /* count_sleeper (D1), take_into again */
            count(RXWV, 1);
#ifndef NO_SLEEP_FENCE
            fence();
#endif
            counted = 1;
            take_into()
        :: else -> skip
        fi;
        if
        :: done == 1 ->
            if
            :: counted -> count(RXWV, -1)       /* uncount_sleeper (D3) */
            :: else -> skip
            fi;
#ifndef NO_RECV_SETTLE
            if
            :: sqn > 0 || rqn > 0 -> settle()
            :: else -> skip
            fi;
#endif
            unlock()
        :: else ->
            op_done[me] = 0;
            rq[rqn] = me; rqn++;        /* link_and_wait */
            unlock();
end_sleep:  op_done[me] == 1;           /* sleep until a settler gave us an item */
            v = op_val[me]
        fi;
got_it:
        /* exactly once, in each producer's order */
        assert(v >= 1 && v <= NITEMS);
        got[v]++;
        assert(got[v] == 1);
        p = (v - 1) / PER_PROD;
        assert(v > last_from[p]);
        last_from[p] = v;
        n++
    :: else -> break
    od;
    finished++
}

/* Moves the oldest store of thread t's buffer to memory, at any moment. */
proctype flusher(byte t)
{
    byte j;
end:
    do
    :: d_step {
        sbn[t] > 0;
        if
        :: sbv[t * SB] == SEQV -> seq[sbi[t * SB]] = sbx[t * SB]; itm[sbi[t * SB]] = sby[t * SB]
        :: sbv[t * SB] == RXWV -> rxw = sbx[t * SB]
        :: sbv[t * SB] == TXWV -> txw = sbx[t * SB]
        :: sbv[t * SB] == LOCKV -> lck = 0
        fi;
        j = 0;
        do
        :: j + 1 < sbn[t] ->
            sbv[t * SB + j] = sbv[t * SB + j + 1];
            sbi[t * SB + j] = sbi[t * SB + j + 1];
            sbx[t * SB + j] = sbx[t * SB + j + 1];
            sby[t * SB + j] = sby[t * SB + j + 1];
            j++
        :: else -> break
        od;
        sbn[t]--
       }
    od
}

/* Once nothing can move any more (every thread finished or asleep on its
 * op, the lock free, every store visible), nobody may sleep while the ring
 * could serve it: a sleeping sender needs a full ring, a sleeping receiver
 * an empty one. The counts must equal the sleepers, and every item must be
 * received, in the ring, or held by a sleeping sender. */
proctype observer()
{
    byte i, n;
end_wait:
    atomic {
        finished + rqn + sqn == NTHREADS && lck == 0 &&
        sbn[0] == 0 && sbn[1] == 0 && sbn[NTHREADS - 1] == 0 ->
        assert(sqn == 0 || tail - head == CAP);     /* lost wakeup: sender */
        assert(rqn == 0 || tail == head);           /* lost wakeup: receiver */
        assert(!(sqn > 0 && rqn > 0));
        assert(txw == sqn && rxw == rqn);
        n = 0; i = 1;
        do
        :: i <= NITEMS -> n = n + got[i]; i++
        :: else -> break
        od;
        assert(n + tail - head + sqn == NITEMS)
    }
}

init
{
    byte i;
    atomic {
        i = 0;
        do
        :: i < CAP -> seq[i] = 2 * i; i++
        :: else -> break
        od;
        i = 0;
        do
        :: i < NPROD -> run producer(i, 1 + i * PER_PROD); i++
        :: else -> break
        od;
        run consumer(NPROD, NITEMS - LEFT);
        i = 0;
        do
        :: i < NTHREADS -> run flusher(i); i++
        :: else -> break
        od;
        run observer()
    }
}
