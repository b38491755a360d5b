/* SPDX-License-Identifier: MIT */
/* ferry/select.h: wait on several channel operations, complete exactly one.
 *
 *   struct job *job; int stop;
 *   ferry_select_case cases[2] = {
 *       { .op = FERRY_SELECT_RECV, .rx = jobs, .buf = &job, .n = 1 },
 *       { .op = FERRY_SELECT_RECV, .rx = quit, .buf = &stop, .n = 1 },
 *   };
 *   int i = ferry_select(cases, 2);       // the one case that completed
 *   if (i == 0 && cases[0].result == 1)  // its result: as ferry_try_recv's
 *       run(job);
 *
 * The rules (Go's select, over batch channels):
 * - Each call returns the index of the ONE case that completed, and sets
 *   that case's `result` to what the matching try call would have returned:
 *   RECV: the count taken (1 .. n; highest priority level first, as
 *   ferry_recv), or 0 once the channel is closed for sending and drained;
 *   SEND: the count taken (1 .. n, at level `prio`; the rest stay with the
 *   caller: a send case completes once at least one item is taken), or
 *   -EPIPE when the channel is closed or has no receiver left (or -ENOMEM
 *   when an unbounded channel's storage cannot grow). Closed channels are
 *   ready, as in Go. Every other case moves nothing and its `result` is not
 *   written.
 * - A case is ready when its try call would not return -EAGAIN: RECV when
 *   items are buffered, a sender is blocked, or the channel is closed; SEND
 *   when there is room (capacity and budget), a receiver waits (rendezvous),
 *   or the channel is closed. A case whose handle is NULL (rx for RECV, tx
 *   for SEND) is never ready, like Go's nil channel; its other fields are
 *   ignored.
 * - Fair: among the cases ready when the call looks, each is chosen with
 *   equal probability (a random order per call, Go's pollorder, from a
 *   per-thread generator).
 * - When nothing is ready, the call waits for the first case to become
 *   ready -- a select receive pairs with a sender that arrives later, a
 *   select send with a later receiver, on every kind of channel (rendezvous,
 *   bounded, unbounded, priorities, budgets), mixed freely with blocking
 *   calls, async ops (ferry/op.h) and other selects on the same channels.
 *   One select's cases never pair with each other (a select with a send and
 *   a receive case on one rendezvous channel waits for someone else).
 * - Arguments: -EINVAL before anything happens (nothing moved, nothing
 *   waited for) for cases NULL with ncases > 0, ncases > INT_MAX, a case
 *   whose op is neither FERRY_SELECT_RECV nor FERRY_SELECT_SEND, and for a
 *   case with a non-NULL handle: buf NULL, n == 0, n * elem_size above
 *   PTRDIFF_MAX, or (SEND) prio not below the channel's levels. A deadline
 *   follows the channel's rule (ferry/chan.h, "Arguments"). A live handle is
 *   checked as every channel call checks it: one whose side has been
 *   released (every clone of it) aborts while the channel still lives
 *   through its other side; once both sides are released it is a use after
 *   free. Cases that are an async select in flight (ferry_select_start
 *   returned -EINPROGRESS and ferry_select_cancel has not yet) -- case 0,
 *   or any case it linked -- are -EINVAL for every form, including another
 *   ferry_select_start, and nothing is written to them: the select in
 *   flight goes on, and its cancel ends it as usual.
 *
 * Waiting costs no allocation and holds no lock: each case is an async op
 * (ferry/op.h) kept in the case itself, the cases share one claim word so
 * that at most one of them moves anything, and the thread sleeps on one
 * futex word for the whole select. docs/chan.md, "Select", has the design;
 * src/select.c the proof.
 *
 * Threads: a cases array belongs to one select at a time; any number of
 * selects and channel calls may run concurrently on the same channels.
 * Signals and pthread_cancel: as every channel call (ferry/chan.h): a
 * signal does not end a select's wait (no -EINTR), and no select call is a
 * cancellation point.
 */
#ifndef FERRY_SELECT_H
#define FERRY_SELECT_H

#include <ferry/chan.h>
#include <ferry/op.h>

FERRY_EXTERN_C_BEGIN

/* What a case does. */
enum { FERRY_SELECT_RECV = 1, FERRY_SELECT_SEND = 2 };

/* One case of a select. Set the first six fields (zero-fill the rest, as a
 * designated initializer does); read `result` of the chosen case.
 *
 * `priv_` is the select's storage, so that it never allocates: private,
 * never to be read or written by the caller (its layout may change). Its
 * size is part of the ABI, with room for growth: sizeof(ferry_select_case)
 * is 288 bytes on 64-bit targets (checked below). A zero-filled case is
 * "never started" (ferry_select_cancel returns -EINVAL). */
typedef struct ferry_select_case {
    int op;          /* FERRY_SELECT_RECV or FERRY_SELECT_SEND                     */
    unsigned prio;   /* SEND: the priority level (as ferry_send_prio); RECV: unused */
    ferry_rx *rx;    /* RECV: the channel; NULL = never ready (Go's nil channel)   */
    ferry_tx *tx;    /* SEND: the channel; NULL = never ready                      */
    void *buf;       /* RECV: where items go; SEND: the items offered              */
    size_t n;        /* RECV: most items to take; SEND: items offered (>= 1)       */
    ssize_t result;  /* out, the chosen case only                                  */
    struct {
        ferry_op op;                   /* the case as an async op                */
        FERRY_ATOMIC(uintptr_t) claim; /* case 0: the select's claim word         */
        void *chan;                    /* this call: the case's channel, or NULL  */
        uint32_t order;                /* this call's random order                */
        int32_t sel_result;            /* case 0: a finished select's return;
                                          a pending one's ncases                 */
        uint8_t state;                 /* this case: idle, linked, finished       */
        uint8_t sel_state;             /* case 0: never started, pending, done    */
        uint8_t pad[6];
        void *reserved[2];             /* for ABI growth; never touched           */
    } priv_;
} ferry_select_case;

#if UINTPTR_MAX == UINT64_MAX
#ifdef __cplusplus
static_assert(sizeof(ferry_select_case) == 288, "ferry_select_case's size is part of the ABI");
#else
_Static_assert(sizeof(ferry_select_case) == 288, "ferry_select_case's size is part of the ABI");
#endif
#endif

/* Wait until one case is ready and complete it (see the rules above).
 * Returns its index, with its `result` set; -EINVAL for bad arguments
 * (above), for ncases == 0, and when every case's handle is NULL (Go's
 * `select {}` would block forever; a thread that must sleep until some
 * time uses ferry_select_until). Any thread. Blocks (one futex sleep, no
 * lock held); allocates only as a send case's ferry_send would (an
 * unbounded channel's storage). */
int ferry_select(ferry_select_case *cases, size_t ncases);

/* Complete one case that is ready now, without waiting: its index (with
 * `result` set), -EAGAIN if none is ready (also for ncases == 0 or every
 * handle NULL), -EINVAL (above). Any thread; never blocks. */
int ferry_try_select(ferry_select_case *cases, size_t ncases);

/* ferry_select that gives up at the absolute CLOCK_MONOTONIC deadline with
 * -ETIMEDOUT, nothing moved. With ncases == 0 or every handle NULL it
 * sleeps until the deadline, then -ETIMEDOUT (a select with only nil
 * channels and a timer, in Go). NULL deadline: ferry_select. A deadline
 * already past: ferry_try_select, then -ETIMEDOUT instead of -EAGAIN.
 * tv_nsec outside [0, 1e9): -EINVAL, nothing moved. */
int ferry_select_until(ferry_select_case *cases, size_t ncases, const struct timespec *deadline);

/* The entry point for a program built with a 64-bit time_t on a 32-bit
 * target (see ferry/chan.h, after ferry_recv_until). Not for direct use. */
int ferry__select_until_time64(ferry_select_case *cases, size_t ncases, const struct timespec *deadline);
#if defined(__USE_TIME_BITS64) && defined(__TIMESIZE) && __TIMESIZE == 32 && !defined(FERRY__TIME64_IMPL)
#define ferry_select_until ferry__select_until_time64
#endif

/* Async select: start the cases as async ops with one waker. Returns the
 * index of a case that completed at once (with `result` set; w is never
 * called), or -EINPROGRESS: exactly one case will complete (or none, if
 * the select is cancelled first), and then w.wake(w.ctx) is called once, on
 * the completing thread, after it has dropped the channel's lock -- possibly
 * before ferry_select_start returns. Then call ferry_select_cancel, which
 * says which case it was. -EINVAL: the arguments above, ncases == 0, or
 * w.wake NULL; a failed start is finished: ferry_select_cancel returns the
 * same -EINVAL (when ncases >= 1). Every handle NULL: -EINPROGRESS, and only
 * a cancel ends it.
 * The cases, their buffers and handles must stay valid, and untouched, until
 * ferry_select_cancel has returned (the waker must not free or reuse them
 * before that, but may call it: see there), and in place: the cases are
 * linked by their addresses, so a cancel of a copy of them aborts ("moved or
 * copied while pending").
 * Any thread; never blocks; allocates only as a send case would. */
int ferry_select_start(ferry_select_case *cases, size_t ncases, ferry_waker w);

/* End an async select: withdraw every case still pending and return the
 * index of the case that completed (its `result` set), or -ECANCELED if none
 * did (nothing moved). After it returns the waker will not be called and is
 * not running, and the cases are the caller's again (to reuse or free). It
 * waits only for the chosen case's own waker, if that runs on another thread
 * at the moment (never for new items; ferry/op.h, "the cancel guarantee").
 * The select's own waker may call it once ferry_select_start has returned
 * -EINPROGRESS: that waker is the chosen case's, running on this thread, so
 * the cancel does not wait for it; it withdraws the other cases and returns
 * the chosen index, and the waker may then reuse or free the cases. Not
 * before the start has returned: the waker runs as soon as a case
 * completes, possibly while the start is still starting the later cases (on
 * another thread; or on this one, when a case's start completes some other
 * op whose waker completes an earlier case), and a cancel then races with
 * the start (it may answer -EINVAL, or miss cases the start links after
 * it). A waker that may come first hands over: the starter once the start
 * has returned -EINPROGRESS, and the waker, each add 1 to a counter zeroed
 * before the start (atomic_fetch_add, acq_rel), and the one that finds 1
 * there cancels (docs/chan.md, "Async select"). As with ferry_op_cancel,
 * two wakers on different threads must not each cancel the other's select.
 * Calling it again, or for a select that finished at once or failed,
 * returns the same result; for zero-filled, never-started cases (or cases
 * NULL, ncases 0 or above INT_MAX) it returns -EINVAL. While the select is
 * pending, ncases must be its start's: any other count is -EINVAL and
 * changes nothing (the cancel with the right count still ends it). Not
 * concurrently with the start or another cancel of the same cases. Never
 * allocates. */
int ferry_select_cancel(ferry_select_case *cases, size_t ncases);

FERRY_EXTERN_C_END

#endif /* FERRY_SELECT_H */
