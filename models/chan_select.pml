/* SPDX-License-Identifier: MIT */
/* Promela model of the select claim protocol (src/select.c, src/chan_op.h
 * "claims", src/chan_move.c), checked by models/chan_select.sh (registered
 * as unit test chan_select_model_spin).
 *
 * One select with two receive cases -- A on channel X (locked path), B on
 * channel Y (a lock-free ring) -- shares the claim word W. Around it:
 *   senderX   sends one item to X under X's lock: hands it to A if A is
 *             linked and A's claim can be won (final), else unlinks A as
 *             LOST (its sibling won) and buffers the item;
 *   senderY   publishes one item into Y's ring without the lock (the
 *             lock-free fast path), then settles Y under Y's lock: a linked
 *             B is claimed provisionally, takes from the ring, and the
 *             claim becomes final (it moved) or open again (the ring came up
 *             empty);
 *   thief     a fast-path receiver on Y: takes one item from the ring,
 *             without the lock, whenever one is there;
 *   selector  starts A, then B, each under its channel's lock: a case whose
 *             channel has an item claims itself (provisionally; the take on
 *             Y may come up empty), a case that finds W won by its sibling
 *             moves nothing (LOST at the start), a case with nothing to take
 *             links itself. If both are linked it sleeps until a waker
 *             (the completion of a case) wakes it. Then it cancels both
 *             cases under their locks (a linked case is withdrawn).
 * A claim attempt that finds W held provisionally by the other case waits
 * until it is settled (the spin of ferry__op_claim_slow); spin reports a
 * deadlock if that could ever wait forever.
 *
 * Properties (every interleaving, both senders in either order, the thief
 * at any moment):
 *   S1 at most one case moves anything, and it is the one W names;
 *   S2 nothing is lost: the two items are buffered, stolen, or moved into
 *      the winning case;
 *   L1 the select completes with exactly one item (it always can: the
 *      thief takes at most one of the two); it never sleeps forever -- a
 *      sleeping select is an invalid end state.
 *
 * Broken variants, which spin must reject (models/chan_select.sh):
 *   -DNO_OWN_CLAIM  the start takes buffered items without claiming its own
 *                   case (the missing piece of the hook before select):
 *                   A, completed by senderX while the selector goes on to
 *                   start B, and B both move -- S1 fails;
 *   -DSTICKY_CLAIM  the claim is final before the take and stays on a case
 *                   whose take came up empty (the thief was first), as the
 *                   hook had it: senderX then finds A's sibling "won" and
 *                   drops A, no one completes B, and the select sleeps
 *                   forever with an item buffered on X -- L1 fails.
 */
#define A 1
#define B 2
#define PROV 4

#define IDLE 0
#define LINKED 1
#define WON 2
#define LOST 3

byte W;                 /* the claim word: 0, A, B, A|PROV, B|PROV */
bit LX, LY;             /* the channels' locks */
byte bx, by;            /* items buffered on X, in Y's ring */
bit linkA, linkB;       /* on their channel's receive queue */
byte gotA, gotB;        /* items moved into each case */
bit woken;              /* the select's futex word */
byte stolen;
byte startA = IDLE, startB = IDLE;
bit sel_done, x_done, y_done;

inline lock(l) { atomic { l == 0 -> l = 1 } }
inline unlock(l) { l = 0 }

/* ferry__op_claim_slow(op, prov): wait while the other case holds W
 * provisionally, then take it if open (ok = 1), keep it if already op's
 * (ok = 1), or fail (ok = 0). */
inline claim(op, prov, ok)
{
    atomic {
        (W & PROV) == 0 || (W & 3) == op;
        if
        :: W == 0 -> if :: prov -> W = op | PROV :: else -> W = op fi; ok = 1
        :: W == op -> ok = 1
        :: else -> ok = 0
        fi
    }
}

/* ferry__op_claim_done(op, moved): settle a provisional claim. */
inline claim_done(op, moved)
{
    atomic {
        if
        :: W == (op | PROV) ->
#ifdef STICKY_CLAIM
            W = op
#else
            if :: moved -> W = op :: else -> W = 0 fi
#endif
        :: else -> skip
        fi
    }
}

proctype senderX()
{
    bit ok, wake;
    lock(LX);
    if
    :: linkA ->
        claim(A, 0, ok);
        linkA = 0;
        if
        :: ok -> gotA++; wake = 1   /* handoff: A complete */
        :: else -> bx++              /* A LOST; the item stays buffered */
        fi
    :: else -> bx++
    fi;
    unlock(LX);
    if :: wake -> woken = 1 :: else -> skip fi;   /* the waker, after the lock */
    x_done = 1
}

proctype senderY()
{
    bit ok, moved, wake;
    by++;                           /* the fast path publishes without the lock */
    lock(LY);                       /* then settles the sleepers (chan_lf.c D2) */
    if
    :: linkB ->
        claim(B, 1, ok);
        if
        :: ok ->
            atomic { if :: by > 0 -> by--; moved = 1 :: else -> moved = 0 fi };
            claim_done(B, moved);
            if
            :: moved -> linkB = 0; gotB++; wake = 1
            :: else -> skip         /* the thief was first: B stays linked */
            fi
        :: else -> linkB = 0        /* B LOST */
        fi
    :: else -> skip
    fi;
    unlock(LY);
    if :: wake -> woken = 1 :: else -> skip fi;
    y_done = 1
}

proctype thief()
{
end: /* it may find nothing to steal: a valid end */
    atomic { by > 0 -> by--; stolen++ }
}

proctype selector()
{
    bit ok, moved;
    /* Start A on X. */
    lock(LX);
    if
    :: bx > 0 ->
#ifdef NO_OWN_CLAIM
        ok = 1;
#else
        claim(A, 1, ok);
#endif
        assert(ok);                 /* the first start finds W open */
        bx--; gotA++; claim_done(A, 1); startA = WON
    :: else -> linkA = 1; startA = LINKED
    fi;
    unlock(LX);
    if
    :: startA == LINKED ->
        /* Start B on Y: a provisional claim, the take may come up empty. */
        lock(LY);
        if
        :: by > 0 ->
#ifdef NO_OWN_CLAIM
            ok = 1;
#else
            claim(B, 1, ok);
#endif
            if
            :: ok ->
                atomic { if :: by > 0 -> by--; moved = 1 :: else -> moved = 0 fi };
#ifndef NO_OWN_CLAIM
                claim_done(B, moved);
#endif
                if
                :: moved -> gotB++; startB = WON
                :: else -> linkB = 1; startB = LINKED
                fi
            :: else -> startB = LOST
            fi
        :: else -> linkB = 1; startB = LINKED
        fi;
        unlock(LY)
    :: else -> skip
    fi;
    /* One sleep, only if every case is linked. */
    if
    :: startA == LINKED && startB == LINKED -> (woken)
    :: else -> skip
    fi;
    /* Cancel every case: a linked one is withdrawn. */
    lock(LX); linkA = 0; unlock(LX);
    lock(LY); linkB = 0; unlock(LY);
    sel_done = 1
}

init {
    atomic {
        run selector();
        run senderX();
        run senderY();
        run thief()
    }
    (sel_done && x_done && y_done);
    /* S1: one case moved, and W names it. */
    assert(gotA == 0 || gotB == 0);
    assert(gotA == 0 || W == A);
    assert(gotB == 0 || W == B);
    /* L1: exactly one item reached the select. */
    assert(gotA + gotB == 1);
    /* S2: nothing lost (the thief may still take a buffered item of Y). */
    assert(bx + by + stolen + gotA + gotB == 2)
}
