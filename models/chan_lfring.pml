/* SPDX-License-Identifier: MIT */
/* Promela model of the lock-free ring's one-byte sequence numbers
 * (src/chan_lfring.h, V4): PROD producers push PER items each, CONS
 * consumers pop until every item is out, one item per call, on a ring of
 * CAP slots. A slot's number is its lap doubled (+ 1 while it holds an
 * item), counted modulo M -- 256 in the code, 8 here, so that a thread
 * stale by two laps misreads its slot as the code's would when stale by
 * 64 or more. Beside each number the model keeps the exact one (`real`,
 * not reduced), which the code does not have, to state what must hold.
 * Each shared access is its own step; a claim (compare-and-swap) is
 * atomic. Checked:
 *   - exactly once: every item is taken, none twice;
 *   - a claim takes a slot that is really free for (push) or holding
 *     (pop) its position: the comparison modulo M agreed with the exact one;
 *   - a push that reports "full" does so while the slot at the tail really
 *     is not free, and a pop that reports "empty" while the slot at the
 *     head really holds nothing: the verdicts a caller goes to sleep on;
 *   - no invalid end state.
 * Checked by models/verify.sh (test unit.model.chan_lfring,
 * cmake/parts/models.cmake).
 *
 * Broken variant, which spin must reject:
 *   -DNO_REREAD  "behind" is taken as full / empty at once, without reading
 *                the position word again: a thread stale by two laps (here;
 *                64 in the code) reports a full ring that has room, or an
 *                empty one that holds an item.
 *   -DNO_REREAD_PUSH  the same in push only: a false "full".
 * With -DM=32 (no aliasing within the model's few laps) the broken variant
 * holds: the re-read is there for the narrow numbers only. One item per
 * call: the batch runs (chan_lfring.c) compare each slot of a run the
 * same way, and their claim is the same CAS (tests/unit/chan_lfring.c
 * covers them, and the stale thread in each of push, pop and room).
 */
#ifndef CAP
#define CAP 1
#endif
#ifndef PROD
#define PROD 2
#endif
#ifndef CONS
#define CONS 2
#endif
#ifndef PER
#define PER 2
#endif
#ifndef M
#define M 8
#endif
#define TOTAL (PROD * PER)

byte tail, head;
byte seq[CAP];       /* the code's numbers, modulo M */
byte real[CAP];      /* the exact numbers: 2 * position (+ 1 holding) */
byte item[CAP];
byte taken;          /* items taken so far */
bool seen[TOTAL];    /* which items were taken */

/* dd = dd - w as a signed residue modulo M, in (-M/2, M/2]. */
inline signed_diff(dd, w)
{
    dd = (dd + M - w) % M;
    if
    :: dd > M / 2 -> dd = dd - M
    :: else -> skip
    fi
}

/* Each step below reads or writes one shared variable (a claim: compare
 * and swap); the local work after a read is folded into its step, and
 * locals are cleared once used, to keep the state space small. The
 * assertions read the exact numbers (`real`), which the code does not
 * have: they are checks of the model, not steps of the code. */
proctype producer(byte id)
{
    byte i = 0, t, now, idx;
    short d;
    bool really_full;   /* at the slot's read: is the ring really full? */
    do
    :: i < PER ->
        t = tail;
        do
        :: atomic {
               idx = t % CAP;
               d = seq[idx];
               really_full = real[tail % CAP] != 2 * tail;
               signed_diff(d, (2 * (t / CAP)) % M)
           };
           if
           :: d == 0 ->
               atomic {
                   if
                   :: tail == t ->
                       tail = t + 1;
                       assert(real[idx] == 2 * t);   /* really free for t */
                       really_full = false;
                       break
                   :: else -> t = tail; really_full = false
                   fi
               }
           :: d < 0 ->
               atomic {
#if defined(NO_REREAD) || defined(NO_REREAD_PUSH)
                   now = t;
#else
                   now = tail;
#endif
                   if
                   :: now == t -> assert(really_full)   /* "full" */
                   :: else -> skip
                   fi;
                   t = now; now = 0; d = 0; really_full = false
               }
               /* the caller tries again, or sleeps */
           :: d > 0 -> atomic { t = tail; d = 0; really_full = false }
           fi
        od;
        item[idx] = id * PER + i;
        atomic { seq[idx] = (2 * (t / CAP) + 1) % M; real[idx] = 2 * t + 1; t = 0; idx = 0 };
        i++
    :: else -> break
    od
}

proctype consumer()
{
    byte h, now, idx, v;
    short d;
    bool really_empty;  /* at the slot's read: is the ring really empty? */
    do
    :: taken == TOTAL -> break
    :: else ->
        h = head;
        do
        :: taken == TOTAL -> goto end
        :: else ->
           atomic {
               idx = h % CAP;
               d = seq[idx];
               really_empty = real[head % CAP] != 2 * head + 1;
               signed_diff(d, (2 * (h / CAP) + 1) % M)
           };
           if
           :: d == 0 ->
               atomic {
                   if
                   :: head == h ->
                       head = h + 1;
                       assert(real[idx] == 2 * h + 1);   /* really holds h */
                       really_empty = false;
                       break
                   :: else -> h = head; really_empty = false
                   fi
               }
           :: d < 0 ->
               atomic {
#ifdef NO_REREAD
                   now = h;
#else
                   now = head;
#endif
                   if
                   :: now == h -> assert(really_empty)   /* "empty" */
                   :: else -> skip
                   fi;
                   h = now; now = 0; d = 0; really_empty = false
               }
           :: d > 0 -> atomic { h = head; d = 0; really_empty = false }
           fi
        od;
        v = item[idx];
        atomic { seq[idx] = (2 * (h / CAP) + 2) % M; real[idx] = 2 * (h + CAP); h = 0; idx = 0 };
        atomic {
            assert(v < TOTAL && !seen[v]);   /* exactly once */
            seen[v] = true;
            taken++;
            v = 0
        }
    od;
end:
    skip
}

init
{
    byte p;
    atomic {
        for (p : 0 .. CAP - 1) { real[p] = 2 * p };   /* free for position p */
        for (p : 0 .. PROD - 1) { run producer(p) };
        for (p : 1 .. CONS) { run consumer() }
    }
}
