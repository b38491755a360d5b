/* SPDX-License-Identifier: MIT */
/* Promela model of ferry_llq (src/llq.c, include/ferry/llq.h): one producer
 * pushing K nodes, one consumer popping until it has them all. Each shared
 * access is its own step; the exchange is atomic. Checked:
 *   - FIFO, exactly once: the consumer gets 0, 1, ..., K-1 in order;
 *   - a node is handed out only when the producer will never write it again
 *     (it is not the `prev` of a push between its exchange and its link);
 *   - the stub is never handed out;
 *   - no invalid end state (the consumer always gets everything).
 * Checked by models/verify.sh (test unit.model.llq, cmake/parts/models.cmake).
 *
 * Broken variant, which spin must reject:
 *   -DNO_LAST_CHECK  pop appends the stub behind cur without first checking
 *                    that cur is the newest node (last == cur): while a push
 *                    is between its exchange and its link, the stub goes in
 *                    a second time behind itself (a cycle), and the stub is
 *                    handed out, an item skipped, or the queue left non-empty.
 */
#define K 3
#define STUB K
#define NIL 255

byte next[K + 1];
byte last = STUB;
byte first = STUB;            /* consumer-local */
byte ppending = NIL;          /* producer: prev between exchange and link */

proctype producer()
{
    byte i = 0, prev;
    do
    :: i < K ->
        next[i] = NIL;
        atomic { prev = last; last = i; ppending = prev };
        atomic { next[prev] = i; ppending = NIL };
        i++
    :: else -> break
    od
}

proctype consumer()
{
    byte got = 0, cur, nxt, cprev, result;
    do
    :: got < K ->
        result = NIL;
        cur = first;
        nxt = next[cur];
        if
        :: cur == STUB ->
            if
            :: nxt == NIL -> goto done
            :: else -> first = nxt; cur = nxt; nxt = next[cur]
            fi
        :: else -> skip
        fi;
        if
        :: nxt != NIL -> first = nxt; result = cur; goto done
        :: else -> skip
        fi;
#ifndef NO_LAST_CHECK
        if
        :: last != cur -> goto done      /* a push is half-way: not yet */
        :: else -> skip
        fi;
#endif
        /* append the stub behind cur */
        next[STUB] = NIL;
        atomic { cprev = last; last = STUB };
        next[cprev] = STUB;
        nxt = next[cur];
        if
        :: nxt != NIL -> first = nxt; result = cur
        :: else -> skip
        fi;
done:
        if
        :: result != NIL ->
            assert(result != STUB);
            assert(result == got);            /* FIFO, exactly once */
            assert(ppending != result);       /* producer is done with it */
            got++
        :: else -> skip
        fi
    :: else -> break
    od;
    /* drained: the queue reports empty now */
    cur = first;
    assert(cur == STUB && next[STUB] == NIL)
}

init
{
    byte j;
    for (j : 0 .. K) { next[j] = NIL };
    atomic { run producer(); run consumer() }
}
