/* SPDX-License-Identifier: MIT */
/* ferry/op.h: async channel operations with caller-owned state and wakers.
 *
 * An async operation is a ferry_op struct the caller owns (on the heap, in a
 * task, in a connection struct). Starting one never blocks:
 *
 *   ferry_op op;
 *   ferry_waker w = { on_ready, conn };         // e.g. write to an eventfd
 *   ssize_t r = ferry_recv_start(rx, &op, buf, 64, w);
 *   if (r != -EINPROGRESS) handle(r);          // completed at once; w not called
 *   ...later, after on_ready(conn) ran...
 *   r = ferry_op_result(&op);                  // the count, 0, -EPIPE, ...
 *
 * - If the operation can complete at once, *_start returns its result (as the
 *   blocking call would) and the waker is never called. Otherwise it returns
 *   -EINPROGRESS: the op is linked into the channel, and out / items must stay
 *   valid until it completes or is cancelled. A pending op is linked by its
 *   address: it must not be moved or copied (memcpy, struct assignment)
 *   until ferry_op_result says it is complete; ferry_op_cancel of such a
 *   copy aborts with a message ("moved or copied while pending").
 * - A receive op completes once it has at least one item (up to max); a send
 *   op once all n items are taken. Closing and releasing complete pending ops
 *   (receive: 0 when closed and drained, -EPIPE when the receiving side is
 *   gone; send: the count sent, or -EPIPE).
 * - The thread that completes an op calls w.wake(w.ctx) exactly once, after
 *   releasing the channel's lock. From the moment the op is complete the
 *   channel never touches it again: the wake callback may free or reuse it.
 * - ferry_op_cancel withdraws a pending op and returns what it had already
 *   moved (possibly 0); after it returns the waker will not be called, is
 *   not running, and the channel holds no reference to the op. Cancelling a
 *   completed op returns its result; if the completion happened but its
 *   waker has not started yet, the cancel takes it over: it returns the
 *   result and the waker is never called. Call it while the handle the op
 *   was started on is still held.
 * - The cancel guarantee: a cancel waits only for the completion of the op
 *   it cancels -- when that op's own waker is running on another thread, it
 *   waits for that waker to return -- and never for other ops' wakers, even
 *   those completed by the same send in the same round. So a cancel may be
 *   called while holding a lock that other ops' wakers take; only the
 *   cancelled op's own waker must not need what the canceller holds.
 * - A wake callback may call into the channel, and may cancel ops -- its own
 *   (the cancel then returns at once), or any other; one that its thread
 *   completed in the same round and has not woken yet is taken over. Two
 *   wake callbacks running on different threads must not each cancel the
 *   other's op (each would wait for the other to return).
 * - Wakers nest, 32 deep: a channel call made inside a waker runs the
 *   wakers of the ops it completes before it returns, on the same stack,
 *   while the thread is fewer than 32 wake rounds deep. Deeper (a chain in
 *   which each waker's call completes the next op: two ops whose wakers
 *   each restart their receive and send to the other's channel), the call
 *   returns with those ops complete and their wakers not yet called; they
 *   run, in order, after the thread's outermost waker returns, on the
 *   thread's outermost call. So a chain of any length runs in bounded
 *   stack (32 levels, some 400-800 bytes each, plus the wakers' own
 *   frames). Meanwhile such an op is like any complete op whose waker has
 *   not run: ferry_op_result is -EINPROGRESS, and ferry_op_cancel takes
 *   the completion over (returning its result; the waker is then never
 *   called). A waker that deep must not block waiting for what such a
 *   waker would do -- it would wait for ever. A blocking select's wake-up
 *   is never held back. (Rarely, when a waker that deep completes ops on
 *   more than 4 channels at once, the ops of the channels beyond the 4th
 *   are woken nested, as above.)
 * - A waker may run inside the *_start of another op B (B's start completed
 *   the waker's op) and cancel B before that start has returned. If the
 *   start completes B at once, there is nothing to withdraw: the cancel
 *   returns -EINPROGRESS and changes nothing (B's result is not known to
 *   the op until its start returns it), the start then returns B's result
 *   as usual and B's waker is never called; afterwards ferry_op_result and
 *   ferry_op_cancel return that result. If the start has linked B (B is
 *   pending), the cancel withdraws it like any pending op and returns what
 *   it moved; the start still returns -EINPROGRESS, and B's waker is never
 *   called. Inside such a waker ferry_op_result(B) is -EINPROGRESS until
 *   B completes or is withdrawn.
 * - A *_start that fails or completes at once leaves the op complete:
 *   ferry_op_result and ferry_op_cancel return that result and touch no
 *   channel (the op may outlive the channel then). A zero-filled op counts
 *   as never started: both return -EINVAL.
 * - Blocking calls and async ops mix freely on both ends of one channel; a
 *   blocking call is an op on the caller's stack whose waker is a futex.
 * - Nothing allocates.
 * - A waker runs with thread cancellation held off (a waker that writes to
 *   an eventfd reaches a cancellation point): a cancellation request acts
 *   after the channel call that ran the waker has returned. A waker must
 *   return; a longjmp or pthread_exit out of one leaves the other ops of
 *   its wake round unwoken.
 */
#ifndef FERRY_OP_H
#define FERRY_OP_H

#include <ferry/chan.h>
#include <ferry/waitlist.h>

FERRY_EXTERN_C_BEGIN

/* What completing an op calls: wake(ctx), once, on the completing thread,
 * after it has dropped the channel's lock. wake must not be NULL. */
typedef struct ferry_waker {
    void (*wake)(void *ctx);
    void *ctx;
} ferry_waker;

/* An async operation: caller-allocated, embeddable, and opaque in all but
 * size. Every field is private to the channel (src/chan_op.h says what each
 * means); `reserved` is space for fields that later versions add without
 * changing the size, so code compiled against this header keeps working
 * with a newer library. sizeof(ferry_op) is part of the ABI: 192 bytes on
 * 64-bit targets (checked below).
 *
 * A zero-filled ferry_op is "never started": ferry_op_result returns
 * -EINVAL and ferry_op_cancel returns -EINVAL. Other uninitialized memory
 * must not be passed to those two (a *_start sets the op up whatever it
 * held); they answer -EINVAL, without following its pointers, where its
 * state word holds a value no op ever has (a byte fill such as 0xa5 or
 * 0xff), but other garbage may crash. */
typedef struct ferry_op {
    ferry_waiter waiter;               /* in a waiter list or a wake round      */
    struct ferry_chan *chan;
    void *buf;                         /* out (receive) or items (send)        */
    size_t n;                          /* max (receive) or n (send)            */
    size_t done;                       /* items moved so far                   */
    size_t need;                       /* items that complete it (send)        */
    size_t head_weight;                /* cached weight of the next item       */
    ssize_t result;                    /* final result once complete           */
    ferry_waker waker;
    void *round;                       /* the wake round that completed it     */
    FERRY_ATOMIC(uintptr_t) *claim;    /* shared with sibling ops, or NULL      */
    unsigned prio;                     /* send level                           */
    uint32_t round_gen;                /* that round's registration number     */
    uint32_t ticket;                   /* its place among the round's wakers   */
    FERRY_ATOMIC(uint32_t) state;      /* never started, pending, ..., done    */
    uint8_t kind;                      /* receive / send                       */
    bool async;                        /* waker vs. futex                      */
    bool has_head_weight;
    uint8_t pad_;
    void *reserved[4];                 /* for ABI growth; never touched        */
} ferry_op;

#if UINTPTR_MAX == UINT64_MAX
#ifdef __cplusplus
static_assert(sizeof(ferry_op) == 192, "ferry_op's size is part of the ABI");
#else
_Static_assert(sizeof(ferry_op) == 192, "ferry_op's size is part of the ABI");
#endif
#endif

/* Start a receive of up to max items into out. Returns the count (>= 1), 0
 * (closed and drained), -EPIPE, -EINVAL (NULL rx, op, out or w.wake, max 0,
 * max * elem_size above PTRDIFF_MAX), or -EINPROGRESS (pending). The op need
 * not be initialized first, but must not be pending (ferry_op_result says
 * -EINPROGRESS, also while it is complete and its waker not yet called):
 * starting an op that is still pending aborts with a message naming the op
 * and the channel(s) (it would corrupt that channel's queues) -- on the
 * same channel in every state, on another channel (or with a NULL rx)
 * while it waits there; one complete on another channel whose waker has
 * not been called yet is undetected misuse. Any thread; never blocks or
 * allocates. */
ssize_t ferry_recv_start(ferry_rx *rx, ferry_op *op, void *out, size_t max, ferry_waker w);

/* Start a send of n items at level 0. Returns n (all sent now), -EPIPE,
 * -EINVAL (NULL tx, op or w.wake, NULL items with n > 0, n * elem_size above
 * PTRDIFF_MAX), -ENOMEM, or -EINPROGRESS (pending; some items may already
 * have moved: ferry_op_cancel reports how many). A pending op must not be
 * started again (as ferry_recv_start). Any thread; never blocks;
 * allocates only to grow an unbounded channel's storage. */
ssize_t ferry_send_start(ferry_tx *tx, ferry_op *op, const void *items, size_t n, ferry_waker w);

/* ferry_send_start at priority level prio (-EINVAL if out of range). */
ssize_t ferry_send_prio_start(ferry_tx *tx, ferry_op *op, const void *items, size_t n, unsigned prio,
                              ferry_waker w);

/* The op's result once complete (what the blocking call would have
 * returned), or -EINPROGRESS while pending; -EINVAL for NULL or a
 * zero-filled (never started) op. Acquire: after it returns a completed
 * result, the items in out are visible. Any thread; never blocks. */
ssize_t ferry_op_result(const ferry_op *op);

/* Withdraw a pending op, or take over a completion whose waker has not
 * started; see above. Returns what moved (a pending op), or the op's result;
 * -EINVAL for NULL or a zero-filled op. Waits only for this op's own waker
 * if it is running on another thread (never for new items, never for other
 * ops' wakers); -EINPROGRESS, changing nothing, for an op whose start is
 * running on this thread and has not linked it (see above). One thread owns
 * an op: do not cancel it concurrently with another cancel or a start of it
 * (except from a waker that start runs, as above). Never allocates. */
ssize_t ferry_op_cancel(ferry_op *op);

FERRY_EXTERN_C_END

#endif /* FERRY_OP_H */
