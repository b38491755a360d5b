/* SPDX-License-Identifier: MIT */
/* Promela model of the carry step of the channel's wake rounds
 * (src/chan_op.c W5, carry_round and run_outermost) against the cancel
 * protocol, checked by models/verify.sh (test unit.model.chan_carry,
 * cmake/parts/models.cmake). models/chan_cancel.pml has the protocol for
 * a round that runs where it was made; this model adds the move.
 *
 * Two async receive ops, A (older) and B, wait on a channel. The completer
 * thread, inside a waker at the nesting depth, sends two items: under the
 * channel's lock each linked op gets one (TAKEN, in round W's list; W
 * registered). W would run one level too deep, so it is carried: under
 * the channel's lock, the carrier K (of the same channel, on the frame of
 * the thread's outermost round) is registered and takes a count of the
 * channel's memory (`live`); under K's lock and W's lock each op moves,
 * still TAKEN, to K's list, its round now K; W, empty, leaves the
 * registry. The completer's waker then releases its handle. Once its
 * outermost waker has returned, K runs like any round: pop under K's lock
 * (ticket, DONE, current), call the waker, count it in seq; then it leaves
 * the registry, waits until no canceller pins it, and drops its count of
 * `live` (the last count frees the channel).
 *
 * ferry_op_cancel(T) is chan_cancel.pml's: under the channel's lock, a
 * linked op is withdrawn; otherwise T's round (read under that lock) is
 * looked up in the registry; a registered one is examined under its own
 * lock: TAKEN is taken over, a popped op pins the round and waits for its
 * ticket, unless it is the canceller's own waker running.
 *
 * Configurations (chosen by init, all explored):
 *   0  another thread cancels A (then releases its handle)
 *   1  another thread cancels B (then releases its handle)
 *   2  A's waker, run by K, cancels B (in K, not yet popped)
 *   3  A's waker, run by K, cancels A (its own op)
 * Properties:
 *   P1 a cancel finds the op where its round says: a TAKEN op it takes
 *      over is in the list of the round it found (assert), never in one
 *      round's list under another round's lock;
 *   P2 a waker runs at most once, and never once the cancel of its op has
 *      returned; the cancelled op's waker is not running when it returns;
 *   P3 nothing moved is lost: the cancel's result plus the item left in
 *      the channel is one; the other op is woken once with its item (or,
 *      in configuration 2, taken over with it);
 *   P4 nobody touches the channel after its memory is freed, and it is
 *      freed once everyone is done (carrier included).
 *
 * Broken variants, which spin must reject:
 *   -DNO_CHAN_LOCK  the move under the two round locks only: a canceller
 *                   that read the op's round (W) before the move finds W
 *                   gone, or the op in K's list under W's lock (P1, P2);
 *   -DNO_LIVE       the carrier takes no count of the channel's memory:
 *                   the last handle's release frees it while K still has
 *                   to run (P4).
 */
#define A 0
#define B 1
#define NOP 2
#define NONE 255
#define COMPLETER 0
#define OTHER 1

#define RW 0 /* the nested round */
#define RK 1 /* the carrier */
#define NOWHERE 2

#define PENDING 1
#define TAKEN 3
#define DONE 4

byte state[2];
bit linked[2];
byte result[2];
byte ticket[2];
byte round[2];                 /* the op's round (op->round) */
byte where[2] = NOWHERE;       /* whose list it is in */
byte woken[2];
bit waker_running[2];
bit cancel_returned[2];
byte cres[2] = 255;            /* each op's cancel result, 255: not cancelled */
byte buffered;                 /* items the send left in the channel */

bit chan_lock, wake_lock, M;
bit rlock[2], reg[2];
byte popped[2], seq[2], pins[2];
byte current[2] = NONE;
byte live;                     /* counts of the channel's memory */
bit freed;
bit completer_done, canceller_done;

byte mode;

inline lock(l) { atomic { l == 0 -> l = 1 } }
inline unlock(l) { l = 0 }

inline put()
{
    atomic {
        assert(live > 0);
        live--;
        if
        :: live == 0 -> freed = 1
        :: else -> skip
        fi
    }
}

/* ferry_op_cancel(tgt) on thread `self`; r, t, wait: the caller's locals. */
inline cancel(tgt, self, r, t, wait)
{
    wait = 0;
    lock(chan_lock);
    assert(!freed);                            /* P4 */
    if
    :: linked[tgt] ->
        linked[tgt] = 0;                       /* withdrawn: nothing moved */
        state[tgt] = DONE;
        unlock(chan_lock);
        cres[tgt] = 0
    :: else ->
        r = round[tgt];
        lock(wake_lock);
        if
        :: reg[r] ->
            lock(rlock[r]);
            if
            :: state[tgt] == TAKEN ->          /* not popped: take it over */
                assert(where[tgt] == r);       /* P1 */
                where[tgt] = NOWHERE;
                state[tgt] = DONE
            :: else ->
                if
                :: self == COMPLETER && current[r] == tgt -> skip   /* its own waker */
                :: else ->                     /* popped: its waker returned iff seq >= ticket */
                    t = ticket[tgt];
                    pins[r]++;
                    if
                    :: seq[r] < t -> wait = 1
                    :: else -> pins[r]--
                    fi
                fi
            fi;
            unlock(rlock[r])
        :: else -> skip                        /* the round is over */
        fi;
        unlock(wake_lock);
        unlock(chan_lock);
        if
        :: wait -> (seq[r] >= t); pins[r]--
        :: else -> skip
        fi;
        cres[tgt] = result[tgt]
    fi;
    if
    :: self == COMPLETER && current[RK] == tgt -> skip  /* its own waker: we are in it */
    :: else -> assert(!waker_running[tgt])             /* P2 */
    fi;
    cancel_returned[tgt] = 1
}

proctype completer()
{
    byte i, op, r, t;
    bit wait;
    /* The send, under the channel's lock: round W. */
    lock(chan_lock);
    for (i : 0 .. 1) {
        if
        :: linked[i] ->
            linked[i] = 0;
            result[i] = 1;
            state[i] = TAKEN;
            if
            :: !reg[RW] -> lock(wake_lock); reg[RW] = 1; unlock(wake_lock)
            :: else -> skip
            fi;
            where[i] = RW;
            round[i] = RW
        :: else -> buffered++
        fi
    }
    unlock(chan_lock);
    /* W is one level too deep: carry it (carry_round). */
    if
    :: reg[RW] ->
#ifndef NO_CHAN_LOCK
        lock(chan_lock);
#endif
        lock(wake_lock); reg[RK] = 1; unlock(wake_lock);
#ifndef NO_LIVE
        live++;
#endif
        lock(rlock[RK]);
        lock(rlock[RW]);
        for (i : 0 .. 1) {
            if
            :: where[i] == RW -> where[i] = RK; round[i] = RK
            :: else -> skip
            fi
        }
        unlock(rlock[RW]);
        unlock(rlock[RK]);
        lock(wake_lock); reg[RW] = 0; unlock(wake_lock);
#ifndef NO_CHAN_LOCK
        unlock(chan_lock)
#endif
    :: else -> skip
    fi;
    /* The waker releases its handle; the outermost waker returns. */
    put();
    /* The carrier runs (run_outermost). */
    if
    :: reg[RK] ->
        do
        :: lock(rlock[RK]);
            if
            :: where[A] == RK -> op = A
            :: where[A] != RK && where[B] == RK -> op = B
            :: else -> op = NOP
            fi;
            if
            :: op == NOP -> unlock(rlock[RK]); break
            :: else ->
                where[op] = NOWHERE;
                popped[RK]++;
                ticket[op] = popped[RK];
                state[op] = DONE;
                current[RK] = op;
                unlock(rlock[RK]);
                /* the waker */
                assert(!cancel_returned[op]);   /* P2 */
                waker_running[op] = 1;
                woken[op]++;
                assert(woken[op] == 1);         /* P2 */
                if
                :: mode == 2 && op == A -> cancel(B, COMPLETER, r, t, wait)
                :: mode == 3 && op == A -> cancel(A, COMPLETER, r, t, wait)
                :: else -> skip
                fi;
                waker_running[op] = 0;
                current[RK] = NONE;
                seq[RK]++
            fi
        od;
        assert(!freed);                         /* P4: the registry is the channel's */
        lock(wake_lock); reg[RK] = 0; unlock(wake_lock);
        (pins[RK] == 0);
#ifndef NO_LIVE
        put()
#else
        skip
#endif
    :: else -> skip
    fi;
    completer_done = 1
}

proctype canceller(byte tgt)
{
    byte r, t;
    bit wait;
    lock(M);
    cancel(tgt, OTHER, r, t, wait);
    unlock(M);
    put();                                     /* its handle */
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
        live = 1;                              /* the completer's handle */
        run completer();
        if
        :: mode < 2 -> live++; run canceller(tgt)
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
    assert(pins[RW] == 0 && pins[RK] == 0);
    assert(!reg[RW] && !reg[RK]);
    assert(freed)                              /* P4 */
}
