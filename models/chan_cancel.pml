/* SPDX-License-Identifier: MIT */
/* Promela model of the channel's cancel / wake-round protocol
 * (src/chan_op.c, src/chan_op.h), checked by models/verify.sh (test
 * unit.model.chan_cancel, cmake/parts/models.cmake): the protocol holds and
 * every state of the canceller is reached.
 *
 * Two async receive ops, A (older) and B, wait on a channel. A sender's
 * one send of two items completes both in one wake round: under the
 * channel's lock it gives each linked op one item (TAKEN, in the round's
 * list) and registers the round; after the lock it pops the ops in order
 * under the round's lock -- ticket = pop number, state DONE -- and calls
 * each waker, counting returned wakers in seq; at the end it leaves the
 * registry and waits until no canceller pins the round.
 *
 * ferry_op_cancel(T): under the channel's lock, a still-linked op is
 * withdrawn (nothing moved into it; the sender's item for it stays
 * buffered). Otherwise, under the registry lock: a round that is no longer
 * registered has returned from every waker; a registered one is examined
 * under its own lock -- an op not yet popped is taken over (the result is
 * returned, its waker never runs); a popped one pins the round and waits
 * until seq reaches its ticket, that is, for its own waker.
 *
 * Configurations (chosen by init, all explored):
 *   0  a thread holding user mutex M cancels A; B's waker takes M
 *   1  a thread holding M cancels B; A's waker takes M
 *   2  A's waker cancels B (a sibling of its own round, same thread)
 *   3  A's waker cancels A (its own op)
 * Properties:
 *   P1 a cancel never waits for another op's waker: when it waits, its own
 *      op is the only popped op whose waker has not returned (assert), and
 *      no configuration deadlocks (M held by the canceller, taken by the
 *      other op's waker: an invalid end state otherwise);
 *   P2 a waker runs at most once, and never once the cancel of its op has
 *      returned; the cancelled op's waker is not running when it returns;
 *   P3 nothing moved is lost: the cancel's result plus the item left
 *      buffered for the cancelled op is exactly one; the other op is woken
 *      once with its item (or, in configuration 2, taken over with it).
 *
 * The model is sequentially consistent: the implementation gets that from
 * the locks and from the seq_cst pairs of chan_op.c O4 (seq / pins).
 *
 * Broken variants, which spin must reject:
 *   -DPHASE_WAIT  the old protocol: a cancel of a completed op waits for
 *                 the whole round (every waker of it), with no take-over:
 *                 deadlocks in configurations 0 and 1 (P1);
 *   -DNO_WAIT     a cancel of a popped op returns without waiting for its
 *                 waker: violates P2.
 */
#define A 0
#define B 1
#define NOP 2
#define NONE 255
#define COMPLETER 0
#define OTHER 1

#define PENDING 1
#define TAKEN 3
#define DONE 4

byte state[2];
bit linked[2];
byte result[2];
byte ticket[2];
bit in_round[2];
byte woken[2];
bit waker_running[2];
bit cancel_returned[2];
byte cres[2] = 255;        /* each op's cancel result, 255: not cancelled */
byte buffered;             /* items the send left in the channel */

bit chan_lock, wake_lock, rlock, M;
bit registered;
byte ntaken, popped, seq, pins;
byte current = NONE;       /* the op whose waker runs (on the completer) */
bit completer_done, canceller_done;

byte mode;

inline lock(l) { atomic { l == 0 -> l = 1 } }
inline unlock(l) { l = 0 }

/* ferry_op_cancel(tgt) on thread `self`; t, wait: the caller's locals. */
inline cancel(tgt, self, t, wait)
{
    wait = 0;
    lock(chan_lock);
    if
    :: linked[tgt] ->
        linked[tgt] = 0;           /* withdrawn: nothing moved */
        state[tgt] = DONE;
        unlock(chan_lock);
        cres[tgt] = 0
    :: else ->
        lock(wake_lock);
        if
        :: registered && !(self == COMPLETER && current == tgt) ->
#ifdef PHASE_WAIT
            /* the old gate: wait for every waker of the round */
            unlock(wake_lock);
            unlock(chan_lock);
            (seq == ntaken)
#else
            lock(rlock);
            if
            :: state[tgt] == TAKEN ->  /* not popped: take it over */
                in_round[tgt] = 0;
                state[tgt] = DONE
            :: else ->                 /* popped: its waker returned iff seq >= ticket */
                t = ticket[tgt];
                pins++;
                if
                :: atomic { seq < t ->      /* one load of seq in the code */
                    assert(seq + 1 == t) }  /* P1: only its own waker is outstanding */
#ifndef NO_WAIT
                    wait = 1
#else
                    pins--
#endif
                :: else -> pins--
                fi
            fi;
            unlock(rlock);
            unlock(wake_lock);
            unlock(chan_lock)
#endif
        :: else ->                     /* round over, or we are inside tgt's own waker */
            unlock(wake_lock);
            unlock(chan_lock)
        fi;
        if
        :: wait -> (seq >= t); pins--
        :: else -> skip
        fi;
        cres[tgt] = result[tgt]
    fi;
    if
    :: self == COMPLETER && current == tgt -> skip  /* its own waker: we are in it */
    :: else -> assert(!waker_running[tgt])          /* P2 */
    fi;
    cancel_returned[tgt] = 1
}

proctype completer()
{
    byte i, op, t;
    bit wait;
    /* The send, under the channel's lock. */
    lock(chan_lock);
    for (i : 0 .. 1) {
        if
        :: linked[i] ->
            linked[i] = 0;
            result[i] = 1;
            state[i] = TAKEN;
            in_round[i] = 1;
            ntaken++;
            if
            :: !registered -> lock(wake_lock); registered = 1; unlock(wake_lock)
            :: else -> skip
            fi
        :: else -> buffered++
        fi
    }
    unlock(chan_lock);
    /* The round: pop, wake, count. */
    do
    :: lock(rlock);
        if
        :: in_round[A] -> op = A
        :: !in_round[A] && in_round[B] -> op = B
        :: else -> op = NOP
        fi;
        if
        :: op == NOP -> unlock(rlock); break
        :: else ->
            in_round[op] = 0;
            popped++;
            ticket[op] = popped;
            state[op] = DONE;
            current = op;
            unlock(rlock);
            /* the waker */
            assert(!cancel_returned[op]);   /* P2 */
            waker_running[op] = 1;
            woken[op]++;
            assert(woken[op] == 1);         /* P2 */
            if
            :: (mode == 0 && op == B) || (mode == 1 && op == A) -> lock(M); unlock(M)
            :: mode == 2 && op == A -> cancel(B, COMPLETER, t, wait)
            :: mode == 3 && op == A -> cancel(A, COMPLETER, t, wait)
            :: else -> skip
            fi;
            waker_running[op] = 0;
            current = NONE;
            seq++
        fi
    od;
    if
    :: registered -> lock(wake_lock); registered = 0; unlock(wake_lock)
    :: else -> skip
    fi;
    (pins == 0);
    completer_done = 1
}

proctype canceller(byte tgt)
{
    byte t;
    bit wait;
    lock(M);
    cancel(tgt, OTHER, t, wait);
    unlock(M);
    canceller_done = 1
}

init {
    byte tgt, other;
    state[A] = PENDING;
    state[B] = PENDING;
    linked[A] = 1;
    linked[B] = 1;
    if
    :: mode = 0; tgt = A
    :: mode = 1; tgt = B
    :: mode = 2; tgt = B
    :: mode = 3; tgt = A
    fi;
    other = 1 - tgt;
    atomic {
        run completer();
        if
        :: mode < 2 -> run canceller(tgt)
        :: else -> canceller_done = 1
        fi
    }
    (completer_done && canceller_done);
    /* P3: the cancelled op's item is in its cancel's result or still in
     * the channel; the other op got its item and was woken once. */
    assert(cres[tgt] != 255);
    assert(cres[tgt] + buffered == 1);
    assert(result[other] == 1 && woken[other] == 1 && cres[other] == 255);
    assert(woken[tgt] <= 1);
    assert(pins == 0)
}
