/* SPDX-License-Identifier: MIT */
/* Promela model of the lock-free block list (src/chan_lflist.h): claims
 * by compare-and-swap on the tail and head indices, linking the next block
 * (L2), entering it (L3), validation of block pointers by the claim (L4),
 * recycling by acks (L5) and the pool (L6: a spare slot, a stack pushed
 * without a lock and popped under one). Checked by models/chan_lflist.sh
 * (test unit.model.chan_lflist, cmake/parts/chan.cmake).
 *
 * Blocks hold CAP slots (LAP = CAP + 1 indices, the last one the block's
 * END); the model has NB blocks in all, so that the list must recycle to
 * go on: PROD producers each send PER items (one per claim), CONS
 * consumers take them one per claim until all are taken. Every shared
 * access is one step (sequentially consistent; the release/acquire
 * pairings L1-L3 and the sleep/wake handshake are argued in the source and
 * modelled with store buffers in models/chan_lf_wake.pml); a pointer read
 * and the claim that validates it are separate steps, so that every stale
 * pointer the interleavings allow is explored.
 *
 * Ghost state checks the safety argument directly: host[b] is the block
 * number b stands for (set when it is linked, NONE once it is recycled),
 * pos[b*CAP+o] the index whose item the slot holds.
 *  - a producer writes only into the block of the index it claimed, whose
 *    slot is not ready (L2, L4);
 *  - a consumer reads only after its claim, from the block of its index,
 *    a ready slot holding that index's item (L1, L4);
 *  - a block is recycled only with every slot acked and neither end
 *    pointing at it (L5); the pool never hands out a block twice (L6);
 *  - every item is taken exactly once, each producer's in order (one
 *    consumer; with two, each consumer sees each producer in order);
 *  - no run ends with a thread stuck (every producer and consumer
 *    finishes: the list never strands an item or a claim). A thread that
 *    finds nothing to do waits for the shared state it read to change, so
 *    a stranded run is a state where every thread waits: spin reports it
 *    as an invalid end state.
 *
 * Broken variants, each of which spin must reject:
 *   -DPTR_FIRST      a consumer loads head_blk before head (L4's order
 *                    reversed: a stale pointer passes the claim);
 *   -DEARLY_RECYCLE  a block is recycled one ack early (L5; with CAP 2);
 *   -DPUBLISH_FIRST  the linker publishes its last slot before it links
 *                    the next block (L2: the consumer that enters finds
 *                    no successor);
 *   -DPOP_NO_LOCK    two threads pop the pool's stack at once (L6's ABA).
 */

#ifndef CAP
#define CAP 1
#endif
#define LAP (CAP + 1)
#ifndef NB
#define NB 3
#endif
#ifndef PROD
#define PROD 2
#endif
#ifndef PER
#define PER 2
#endif
#ifndef CONS
#define CONS 2
#endif
#define NONE 255
#define TOTAL (PROD * PER)

byte tail, head;                 /* indices */
byte tail_blk, head_blk;
byte next[NB], acks[NB], pool_next[NB];
bit ready[NB * CAP];
byte item[NB * CAP];             /* the value: producer * PER + seq + 1 */
byte spare = NONE, stack = NONE; /* L6 */
bit pool_lock;
byte allocated = 1;              /* block 0 is the first block */

/* Ghosts */
byte host[NB];                   /* the block number a block stands for */
byte pos[NB * CAP];              /* the index whose item a slot holds */
byte got[TOTAL + 1];
byte taken;
byte handed[NB];                 /* times the pool handed a block out, minus returns */

#define block_of(i) ((i) / LAP)

/* A cleared block for linking, or NONE (L6). */
inline get_block(nb)
{
    atomic { nb = spare; spare = NONE };
    if
    :: nb == NONE ->
#ifndef POP_NO_LOCK
        atomic { pool_lock == 0 -> pool_lock = 1 };
#endif
        do
        :: stk = stack;
           if
           :: stk == NONE -> break
           :: else ->
               nx = pool_next[stk];
               atomic {
                   if
                   :: stack == stk -> stack = nx; nb = stk; break
                   :: else -> skip
                   fi
               }
           fi
        od;
        if
        :: nb == NONE && allocated < NB -> atomic { nb = allocated; allocated++ }
        :: else -> skip
        fi;
#ifndef POP_NO_LOCK
        pool_lock = 0
#else
        skip
#endif
    :: else -> skip
    fi;
    if
    :: nb != NONE ->
        atomic { assert(handed[nb] == 0); handed[nb] = 1 };
        /* Cleared one field at a time: stale readers may look meanwhile. */
        next[nb] = NONE;
        acks[nb] = 0;
        j = 0;
        do
        :: j < CAP -> ready[nb * CAP + j] = 0; j++
        :: else -> break
        od
    :: else -> skip
    fi
}

/* Give a block back (unused, or recycled) (L6). */
inline put_block(pb)
{
    atomic { handed[pb] = 0 };
    atomic {
        if
        :: spare == NONE -> spare = pb; pb = NONE
        :: else -> skip
        fi
    };
    if
    :: pb != NONE ->
        do
        :: stk = stack;
           pool_next[pb] = stk;
           atomic {
               if
               :: stack == stk -> stack = pb; break
               :: else -> skip
               fi
           }
        od
    :: else -> skip
    fi
}

inline publish()
{
    item[b * CAP + o] = me * PER + i + 1;
    pos[b * CAP + o] = t;
    ready[b * CAP + o] = 1                      /* L1 */
}

proctype producer(byte me)
{
    byte i = 0, t, o, b, nb = NONE, stk, nx, j, pb;
    bit ok, lastslot;
    do
    :: i < PER ->
again:
        t = tail;
        o = t % LAP;
        if
        :: o == CAP ->                          /* END: another producer links (L2) */
            (tail != t); goto again
        :: else -> skip
        fi;
        b = tail_blk;
        lastslot = (o + 1 == CAP);
        if
        :: lastslot && nb == NONE ->
            get_block(nb);
            if
            :: nb == NONE ->                    /* no block: wait for a recycled one */
                (spare != NONE || stack != NONE); goto again
            :: else -> skip
            fi
        :: else -> skip
        fi;
        atomic {
            ok = (tail == t);
            if
            :: ok -> tail = t + 1
            :: else -> skip
            fi
        };
        if
        :: !ok -> goto again
        :: else -> skip
        fi;
        /* The claim holds: b is the block of t, its slot free (L2, L4). */
        assert(host[b] == block_of(t));
        assert(ready[b * CAP + o] == 0);
#ifdef PUBLISH_FIRST
        if
        :: lastslot -> publish()
        :: else -> skip
        fi;
#endif
        if
        :: lastslot ->                          /* link (L2) */
            atomic { next[b] = nb; host[nb] = block_of(t) + 1 };
            tail_blk = nb;
            tail = tail + 1;                    /* END -> the next block's 0 */
            nb = NONE
        :: else -> skip
        fi;
#ifdef PUBLISH_FIRST
        if
        :: !lastslot -> publish()
        :: else -> skip
        fi;
#else
        publish();
#endif
        i++
    :: else -> break
    od;
    if
    :: nb != NONE -> pb = nb; put_block(pb)
    :: else -> skip
    fi
}

proctype consumer(byte me)
{
    byte h, o, b, n, v, a, stk, pb, p;
    byte last[PROD];
    bit ok;
    p = 0;
    do
    :: p < PROD -> last[p] = 0; p++
    :: else -> break
    od;
    do
    :: taken == TOTAL -> break
    :: else ->
#ifdef PTR_FIRST
        b = head_blk;
        h = head;
#else
        h = head;
        b = head_blk;
#endif
        o = h % LAP;
        if
        :: o == CAP ->                           /* END: another consumer enters (L3) */
            (head != h || taken == TOTAL); goto skip_round
        :: else -> skip
        fi;
        if
        :: ready[b * CAP + o] == 0 ->            /* nothing published: wait for a change */
            (head != h || ready[b * CAP + o] == 1 || taken == TOTAL); goto skip_round
        :: else -> skip
        fi;
        atomic {
            ok = (head == h);
            if
            :: ok -> head = h + 1
            :: else -> skip
            fi
        };
        if
        :: !ok -> goto skip_round
        :: else -> skip
        fi;
        if
        :: o + 1 == CAP ->                       /* enter (L3) */
            n = next[b];
            assert(n != NONE);
            head_blk = n;
            head = h + 2
        :: else -> skip
        fi;
        /* The claim holds: b is the block of h and the slot holds h's item. */
        assert(host[b] == block_of(h));
        assert(ready[b * CAP + o] == 1 && pos[b * CAP + o] == h);
        v = item[b * CAP + o];
        atomic {
            assert(v >= 1 && v <= TOTAL);
            got[v]++;
            assert(got[v] == 1);
            p = (v - 1) / PER;
            assert(v > last[p]);
            last[p] = v;
            taken++
        };
        atomic { acks[b]++; a = acks[b] };
#ifdef EARLY_RECYCLE
        if
        :: a == CAP - 1 ->
#else
        if
        :: a == CAP ->
#endif
            /* Recycle (L5): every slot acked, neither end points here. */
            atomic {
                assert(tail_blk != b && head_blk != b);
                host[b] = NONE
            };
            pb = b;
            put_block(pb)
        :: else -> skip
        fi;
skip_round:
        skip
    od
}

init
{
    byte i;
    atomic {
        i = 0;
        do
        :: i < NB -> next[i] = NONE; host[i] = NONE; i++
        :: else -> break
        od;
        host[0] = 0;
        handed[0] = 1;
        tail_blk = 0;
        head_blk = 0;
        i = 0;
        do
        :: i < PROD -> run producer(i); i++
        :: else -> break
        od;
        i = 0;
        do
        :: i < CONS -> run consumer(i); i++
        :: else -> break
        od
    }
}
