/* SPDX-License-Identifier: MIT */
/* Promela model of two selects across each other (src/chan_op.c,
 * ferry__op_claim_pair; src/chan_move.c, handoff_to_receivers and
 * take_from_senders), checked by models/chan_select.sh.
 *
 * X and Y are rendezvous channels. Select 1 (claim word W[0], the lower
 * address) has case 1, send on X, and case 2, receive on Y; select 2 (W[1])
 * has case 3, send on Y, and case 4, receive on X. Each select starts its
 * two cases in either order, each start under its channel's lock: a start
 * that finds the other select's case linked on its channel pairs with it,
 * which needs both claims -- taken in address order, the first
 * provisionally (a claim that finds a word held provisionally waits until
 * it is settled); otherwise it links its case. A select whose cases are
 * both linked sleeps until a pairing wakes it; then it cancels its cases.
 *
 * Properties:
 *   P1 each select completes exactly one case, the one its word names;
 *   P2 the two agree: select 1 sent on X iff select 2 received on X, and
 *      select 2 sent on Y iff select 1 received on Y;
 *   P3 neither sleeps forever, and no claim waits forever (a deadlock would
 *      be an invalid end state).
 * Broken variant, which spin must reject (models/chan_select.sh):
 *   -DUNORDERED  a start claims its own case first, then the other: each
 *                select holds its own word provisionally while it waits for
 *                the other's -- a deadlock (P3).
 */
#define PROV 8
#define LINKED 1
#define WON 2
#define LOST 3

byte W[2];           /* claim words: 0, an op (1..4), or op | PROV */
bit L[2];            /* channel locks: 0 = X, 1 = Y */
bit linked[5];
bit moved[5];
bit woken[2];
bit done[2];

inline lock(l) { atomic { l == 0 -> l = 1 } }
inline unlock(l) { l = 0 }

/* Word of op: cases 1, 2 are select 1's (W[0]); 3, 4 select 2's (W[1]). */
#define WORD(op) (((op) - 1) / 2)
/* Channel of op: 1 and 4 on X, 2 and 3 on Y. */
#define CHAN(op) (((op) == 1 || (op) == 4) -> 0 : 1)
/* The other select's case on the same channel. */
#define PEER(op) (5 - (op))

inline claim(op, prov, ok)
{
    atomic {
        (W[WORD(op)] & PROV) == 0 || (W[WORD(op)] & 7) == op;
        if
        :: W[WORD(op)] == 0 -> if :: prov -> W[WORD(op)] = op | PROV :: else -> W[WORD(op)] = op fi; ok = 1
        :: W[WORD(op)] == op -> ok = 1
        :: else -> ok = 0
        fi
    }
}

inline claim_done(op, won)
{
    atomic {
        if
        :: W[WORD(op)] == (op | PROV) -> if :: won -> W[WORD(op)] = op :: else -> W[WORD(op)] = 0 fi
        :: else -> skip
        fi
    }
}

/* Start case `op` of select `me`; res: LINKED, WON or LOST. */
inline start(op, me, res, first, second, ok)
{
    lock(L[CHAN(op)]);
    if
    :: linked[PEER(op)] ->
#ifdef UNORDERED
        first = op; second = PEER(op);
#else
        if :: WORD(op) < WORD(PEER(op)) -> first = op; second = PEER(op)
           :: else -> first = PEER(op); second = op
        fi;
#endif
        claim(first, 1, ok);
        if
        :: ok ->
            claim(second, 0, ok);
            claim_done(first, ok);
            if
            :: ok ->                          /* both: the handoff */
                linked[PEER(op)] = 0;
                moved[op] = 1; moved[PEER(op)] = 1;
                res = WON
            :: !ok && second == op -> res = LOST /* our sibling won */
            :: !ok && second != op ->         /* the peer's sibling won: it leaves */
                linked[PEER(op)] = 0; linked[op] = 1; res = LINKED
            fi
        :: !ok && first == op -> res = LOST
        :: !ok && first != op -> linked[PEER(op)] = 0; linked[op] = 1; res = LINKED
        fi
    :: else -> linked[op] = 1; res = LINKED
    fi;
    unlock(L[CHAN(op)]);
    if :: res == WON -> woken[1 - me] = 1 :: else -> skip fi /* the peer's waker */
}

proctype selector(byte me)
{
    byte a, b, r1, r2, first, second;
    bit ok;
    if :: a = 2 * me + 1; b = 2 * me + 2 :: a = 2 * me + 2; b = 2 * me + 1 fi;
    start(a, me, r1, first, second, ok);
    r2 = 0;
    if
    :: r1 == LINKED -> start(b, me, r2, first, second, ok)
    :: else -> skip
    fi;
    if
    :: r1 == LINKED && r2 == LINKED -> (woken[me])
    :: else -> skip
    fi;
    lock(L[CHAN(a)]); linked[a] = 0; unlock(L[CHAN(a)]);
    lock(L[CHAN(b)]); linked[b] = 0; unlock(L[CHAN(b)]);
    /* P1 */
    assert(moved[a] + moved[b] == 1);
    assert(W[me] == (moved[a] -> a : b));
    done[me] = 1
}

init {
    atomic { run selector(0); run selector(1) }
    (done[0] && done[1]);
    /* P2 */
    assert(moved[1] == moved[4] && moved[2] == moved[3])
}
