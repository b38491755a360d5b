/* SPDX-License-Identifier: MIT */
/* Promela model of ferry's default-flavor grace period (src/rcu.c),
 * checked by models/verify.sh (test unit.model.rcu_gp,
 * cmake/parts/models.cmake).
 *
 * Readers: read_lock loads the global phase, then publishes (phase, nest=1)
 * in one word store; they load the protected pointer and use the object,
 * then read_unlock stores nest=0. The updater publishes a new object, runs a
 * grace period, then frees the old object. Safety property: no reader uses
 * a freed object (assert in the reader).
 *
 * The model is sequentially consistent: in the implementation, the
 * readers' compiler barriers plus the updater's membarrier (or the fences
 * of fallback mode) are what provide SC at these points. Statements are
 * atomic exactly where the code uses a single load or store of one word.
 *
 * Default: the two-phase algorithm (wait for readers of the old phase,
 * flip, wait for readers of the pre-flip phase). With -DSINGLE_FLIP: flip
 * once and wait for old-phase readers; spin must find the violation (a
 * reader that read the phase before one flip and published it after looks
 * "current" to the next grace period).
 *
 * Registration and the quick path (src/rcu_common.c, nobody_else_reads):
 * readers register (count themselves in `active`, here `nactive`: `active`
 * is a Promela keyword) before reading and may unregister between
 * sections; a grace period that finds `active` == 0 after the new pointer
 * is published skips the scans. In the code the
 * reader's increment is followed by a seq_cst fence and the updater's load
 * is preceded by one, which is what makes this SC interleaving faithful.
 * With -DQUICK_BEFORE_PUBLISH the updater checks `active` before it
 * publishes the pointer (the store->load reordering those fences forbid);
 * spin must find the violation (a reader registers and reads the old
 * pointer after the check, and the old object is freed under it).
 */
#define NOBJ 3       /* objects 0..2: two updates */
#define NREADERS 2

bit gp_phase = 0;
bit r_phase[NREADERS];
bit r_nest[NREADERS];     /* (phase, nest) is one word in the code */
byte ptr = 0;
bit freed[NOBJ];
bit reg[NREADERS];        /* registered (and counted) */
byte nactive = 0;         /* registered readers: the quick path's count */

/* Reader i is OLD: inside a section begun in the other phase. */
#define OLD(i) (r_nest[i] == 1 && r_phase[i] != gp_phase)
#define CURRENT(i) (r_nest[i] == 1 && r_phase[i] == gp_phase)

active [NREADERS] proctype reader()
{
    bit tmp;
    byte p;
    do
    :: !reg[_pid] -> atomic { nactive++; reg[_pid] = 1 }     /* register */
    :: reg[_pid] -> atomic { nactive--; reg[_pid] = 0 }      /* unregister */
    :: reg[_pid] ->
       tmp = gp_phase;                                      /* read_lock: load */
       atomic { r_phase[_pid] = tmp; r_nest[_pid] = 1 };    /* read_lock: store */
       p = ptr;                                             /* dereference */
       assert(!freed[p]);                                   /* use the object */
       r_nest[_pid] = 0                                     /* read_unlock */
    od
}

active proctype updater()
{
    byte old, i = 1, j;
    bit snap[NREADERS];
    bool quick;
    do
    :: i < NOBJ ->
        old = ptr;
#ifdef QUICK_BEFORE_PUBLISH
        quick = (nactive == 0);            /* the check, hoisted above the store */
        ptr = i;
#else
        ptr = i;                          /* assign_pointer */
        quick = (nactive == 0);            /* quick path: nobody else reads */
#endif
        if
        :: quick -> goto reclaim
        :: else -> skip
        fi;
#ifndef SINGLE_FLIP
        /* phase 1: wait until each reader is inactive or current; current
         * ones are re-checked after the flip (liburcu's cur_snap list) */
        j = 0;
        do
        :: j < NREADERS ->
            if
            :: r_nest[j] == 0 -> snap[j] = 0
            :: CURRENT(j) -> snap[j] = 1
            fi;                           /* blocks while reader j is OLD */
            j++
        :: else -> break
        od;
        gp_phase = 1 - gp_phase;          /* flip */
        j = 0;
        do
        :: j < NREADERS ->
            if
            :: snap[j] -> !OLD(j)         /* wait for the pre-flip readers */
            :: else -> skip
            fi;
            j++
        :: else -> break
        od;
#else
        gp_phase = 1 - gp_phase;          /* a single flip ... */
        j = 0;
        do
        :: j < NREADERS -> !OLD(j); j++   /* ... and one wait */
        :: else -> break
        od;
#endif
reclaim:
        freed[old] = 1;                   /* reclaim */
        i++
    :: else -> break
    od
}
