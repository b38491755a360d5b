/* SPDX-License-Identifier: MIT */
/* The channel's shared internals: the channel struct, its handles, and the
 * data-path table through which the generic code reaches the buffer.
 *
 * Files (docs/chan.md, "How it is built"):
 *   chan.c         lifecycle (open, clone, release, close) and the public
 *                  entry points: argument checks, then one call through
 *                  c->path, chosen once at open;
 *   chan_move.c    the generic part of every call, under the lock: direct
 *                  handoff between ops, settling waiters, send / receive
 *                  slow paths, closing;
 *   chan_op.c      the op state machine: wake rounds, completion, waiting,
 *                  cancel (chan_op.h);
 *   chan_buf.c     data path 1, locked: per-level rings, priorities and
 *                  weight budgets (rendezvous, unbounded, levels, budgets);
 *   chan_lf.c      data paths 2 and 3, lock-free: fast paths over
 *                  chan_lfring.c (bounded) and chan_lflist.c (unbounded)
 *                  and their sleep/wake handshake with the slow path;
 *   chan_lfring.c  the lock-free batch ring itself (chan_lfring.h);
 *   chan_lflist.c  the lock-free list of recycled blocks (chan_lflist.h);
 *   chan_wait.c    the lock-free paths' wait policy: how long a blocking
 *                  call polls before it sleeps (chan_wait.h);
 *   chan_stats.c   ferry_chan_stats;
 *   select.c       ferry_select and friends, on the claim hook of the op
 *                  machine (chan_op.h).
 *
 * Invariants (under `lock`):
 *  I1 a receive op waits (is on recvq) only while the buffer holds nothing
 *     it could take and no sender waits -- except transiently on a
 *     lock-free path, where fast-path senders publish without the lock and
 *     then settle the waiters themselves (chan_lf.c, D1-D3);
 *  I2 a send op waits only while its next item does not fit; a sender that
 *     arrives while others wait queues behind them (FIFO: no overtaking);
 *  I3 an op is on at most one list: recvq / sendq while pending, a wake
 *     round once complete, none after its waker was called or it was
 *     cancelled; its result is set before it leaves recvq / sendq;
 *  I4 closed (for sending) is set once and never cleared; tx_refs == 0
 *     implies closed; after close nothing waits on recvq with an empty
 *     buffer, and nothing waits on sendq;
 *  I5 the memory lives while `live` > 0: every handle holds one count and
 *     drops it only after its last touch (a release drops it after waking
 *     what it completed).
 */
#ifndef FERRY_SRC_CHAN_INTERNAL_H
#define FERRY_SRC_CHAN_INTERNAL_H

#include <ferry/chan.h>
#include <ferry/list.h>
#include <ferry/mutex.h>
#include <ferry/op.h>
#include <ferry/waitlist.h>

#include <pthread.h>

#include "chan_buf.h"
#include "chan_lflist.h"
#include "chan_lfring.h"
#include "chan_wait.h"
#include "platform.h"

#define FERRY__TX_MAGIC 0x66547821u /* "fTx!" */
#define FERRY__RX_MAGIC 0x66527821u /* "fRx!" */
#define FERRY__DEAD_MAGIC 0xdeadc4a1u

struct ferry_tx {
    uint32_t magic;
    struct ferry_chan *chan;
};
struct ferry_rx {
    uint32_t magic;
    struct ferry_chan *chan;
};

/* How a call waits: not at all, on the caller's futex, or through a waker. */
enum ferry__mode { FERRY__TRY, FERRY__BLOCK, FERRY__ASYNC };

struct ferry__wake;

/* A data path: the buffer and how items get in and out of it. Chosen once,
 * at open (chan.c); the generic code (chan_move.c) never names one. */
struct ferry__chan_path {
    const char *name;
    /* Fast paths run without the lock (a sleeper's retry must then pair
     * with them: chan_lf.c, D1-D3); the generic code then counts sleepers
     * in tx_waiters / rx_waiters and re-tries before linking. */
    bool lockfree;
    /* Set up / tear down the path's storage (c is zeroed, configured). */
    int (*init)(struct ferry_chan *c);
    void (*fini)(struct ferry_chan *c);
    /* The public calls, arguments checked, n / max >= 1: the path's fast
     * path, else an op on the stack through ferry__chan_send_locked /
     * ferry__chan_recv_locked. */
    ssize_t (*send)(struct ferry_chan *c, const void *items, size_t n, unsigned prio, enum ferry__mode mode,
                    const struct timespec *deadline);
    ssize_t (*recv)(struct ferry_chan *c, void *out, size_t max, enum ferry__mode mode,
                    const struct timespec *deadline);
    /* Under the lock. put: move as many of op's remaining items in as room
     * allows (op->done grows); false if storage could not grow (nothing
     * lost). take: move up to max buffered items out. empty: nothing
     * buffered or claimed. close: closed for sending. drop_all: the last
     * receiver is gone, every buffered item goes to cfg.drop. stats: add
     * what the path counts itself. */
    bool (*put)(struct ferry_chan *c, ferry_op *op);
    /* Would put move at least one of op's items now? (For claimed ops,
     * which must not commit their siblings to a move that does not
     * happen; may cache the head item's weight in the op.) */
    bool (*room)(struct ferry_chan *c, ferry_op *op);
    size_t (*take)(struct ferry_chan *c, char *out, size_t max);
    bool (*empty)(struct ferry_chan *c);
    void (*close)(struct ferry_chan *c);
    void (*drop_all)(struct ferry_chan *c);
    void (*stats)(struct ferry_chan *c, struct ferry_chan_stats *st);
};

extern const struct ferry__chan_path ferry__chan_path_locked;   /* chan_buf.c */
extern const struct ferry__chan_path ferry__chan_path_lockfree; /* chan_lf.c: the ring */
extern const struct ferry__chan_path ferry__chan_path_lflist;   /* chan_lf.c: the block list */

/* The lock-free paths' state: the ring (bounded), the list (unbounded). */
struct ferry__chan_lf {
    struct ferry__lfring ring; /* its positions on their own cache lines */
    uint64_t dropped;          /* ring items handed to drop (under the lock) */
};
struct ferry__chan_lfl {
    struct ferry__lflist list; /* likewise */
    uint64_t dropped;          /* list items handed to drop (under the lock) */
};

struct ferry_chan {
    pthread_mutex_t lock;
    const struct ferry__chan_path *path;
    /* The thread running one of this channel's weigh or drop callbacks (a
     * gettid value), 0 when none. The callbacks run under the lock, so a
     * call into the same channel from one would deadlock; every entry
     * point aborts with a message instead (chan.c, handle_chan). C1:
     * relaxed -- only the thread itself can find its own id here, and it
     * wrote it. */
    FERRY_ATOMIC(uint32_t) cb_tid;
    ferry_waitlist recvq; /* receive ops waiting for items */
    ferry_waitlist sendq; /* send ops waiting for room     */
    size_t elem;
    size_t max_count; /* most items one call may name: PTRDIFF_MAX / elem */
    size_t cap;    /* items; FERRY_UNBOUNDED = unbounded */
    size_t budget; /* weight; 0 = none                    */
    unsigned levels;
    size_t (*weigh)(const void *, void *);
    void *weigh_ctx;
    void (*drop)(void *, void *);
    void *drop_ctx;
    const char *name;
    size_t tx_refs, rx_refs; /* handle counts, under the lock: they decide closing */
    uint32_t fork_gen;         /* ferry__fork_gen when the waiters were last checked (under the lock) */
    FERRY_ATOMIC(size_t) live; /* I5 */
    bool closed;               /* for sending (I4) */
    struct ferry_chan_stats st; /* counters kept under the lock */
    struct ferry_tx tx;
    struct ferry_rx rx;
    /* Wake rounds with async ops, registered while they run (chan_op.c). */
    ferry_mutex wake_lock;
    ferry_list rounds;
    uint32_t round_gen;
    union {
        struct ferry__chan_buf buf; /* locked path          */
        struct ferry__chan_lf lf;   /* lock-free ring path  */
        struct ferry__chan_lfl lfl; /* lock-free list path  */
    } u;
    /* Ops linked in sendq / recvq plus the one deciding to link, on a
     * lock-free path (written under the lock, read by its fast paths). */
    char pad0[FERRY_CACHELINE];
    FERRY_ATOMIC(uint32_t) tx_waiters;
    FERRY_ATOMIC(uint32_t) rx_waiters;
    char pad1[FERRY_CACHELINE];
    /* The wait policy's state (chan_wait.h): the last wake of a blocking
     * op (any path), each lock-free side's poll success share. */
    FERRY_ATOMIC(uint64_t) wake_ns;
    struct ferry__poll_side poll_tx, poll_rx;
    char pad2[FERRY_CACHELINE];
};

/* Around a weigh or drop callback, under the lock (C1). The caller also
 * holds thread cancellation off around them (ferry__nocancel_begin), once
 * per run of callbacks. */
static inline void ferry__callback_enter(struct ferry_chan *c)
{
    atomic_store_explicit(&c->cb_tid, ferry__self_tid(), memory_order_relaxed); /* C1 */
}
static inline void ferry__callback_leave(struct ferry_chan *c)
{
    atomic_store_explicit(&c->cb_tid, 0, memory_order_relaxed); /* C1 */
}

/* Thread cancellation held off around user callbacks that run inside a
 * channel call (weigh and drop under the lock, wakers in a wake round). A
 * callback that reaches a cancellation point (a drop that logs, a waker
 * that writes to an eventfd) would otherwise end the thread inside the
 * call: with the lock held and cb_tid set (every later call on the channel
 * would wait for ever), or with the rest of a wake round never woken. The
 * request stays pending and acts at the thread's next cancellation point,
 * after the call returned. begin returns the state that end restores. */
static inline int ferry__nocancel_begin(void)
{
    int state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
    return state;
}
static inline void ferry__nocancel_end(int state) { pthread_setcancelstate(state, NULL); }

/* Every entry point, before it takes the lock: abort if the calling thread
 * is inside one of c's callbacks (C1). `what` names the call's handle. */
__attribute__((noreturn, cold)) void ferry__callback_reentered(struct ferry_chan *c, const char *what);
/* Some thread is in a callback now: is it this one? (Out of line, so that
 * the entry points' common path stays small.) */
__attribute__((cold)) void ferry__callback_check_tid(struct ferry_chan *c, const char *what);
static inline void ferry__callback_check(struct ferry_chan *c, const char *what)
{
    if (FERRY_UNLIKELY(atomic_load_explicit(&c->cb_tid, memory_order_relaxed) != 0)) /* C1 */
        ferry__callback_check_tid(c, what);
}

/* fork() (chan.c): the number of forks this process is the child of,
 * counted by an atfork handler. A channel that has not seen the current
 * count drops, the first time its lock is taken, the waiters of the threads
 * that do not exist in this process (ferry__chan_after_fork). Relaxed: the
 * count changes only in a child that has one thread. */
extern __attribute__((visibility("hidden"))) FERRY_ATOMIC(uint32_t) ferry__fork_gen;
__attribute__((cold)) void ferry__chan_after_fork(struct ferry_chan *c);

static inline void ferry__chan_lock(struct ferry_chan *c)
{
    pthread_mutex_lock(&c->lock);
    if (FERRY_UNLIKELY(c->fork_gen != atomic_load_explicit(&ferry__fork_gen, memory_order_relaxed)))
        ferry__chan_after_fork(c);
}
static inline void ferry__chan_unlock(struct ferry_chan *c) { pthread_mutex_unlock(&c->lock); }

/* chan.c: a handle's channel, after the check every call makes (a handle
 * that is not live aborts); NULL for NULL. */
struct ferry_chan *ferry__tx_chan(const ferry_tx *tx);
struct ferry_chan *ferry__rx_chan(const ferry_rx *rx);
/* chan.c: drop one count of `live` (I5); the last frees the channel. */
void ferry__chan_put(struct ferry_chan *c);

static inline const char *ferry__chan_name(const struct ferry_chan *c)
{
    return c->name ? c->name : "(unnamed)";
}

/* chan_move.c: the generic slow paths. Called with the lock held; they
 * drop it (waking what they completed) and return the call's result, or
 * -EINPROGRESS for an async op left linked. */
ssize_t ferry__chan_send_locked(struct ferry_chan *c, ferry_op *op, enum ferry__mode mode,
                                const struct timespec *deadline);
ssize_t ferry__chan_recv_locked(struct ferry_chan *c, ferry_op *op, enum ferry__mode mode,
                                const struct timespec *deadline);
/* Under the lock: move items between the buffer and waiting ops until
 * nothing more moves; once closed and drained, waiting receivers get 0. */
void ferry__chan_settle(struct ferry_chan *c, struct ferry__wake *wk);
/* Under the lock: close for sending (idempotent); the last receiver gone. */
void ferry__chan_close_locked(struct ferry_chan *c, struct ferry__wake *wk);
void ferry__chan_receivers_gone(struct ferry_chan *c, struct ferry__wake *wk);
/* Unlink a pending op (a timeout, a cancel); true if it was still linked.
 * A sender leaving may let those behind it in. _locked: under the lock,
 * moves what it completes into wk; withdraw: takes and drops the lock. */
bool ferry__chan_unlink_locked(struct ferry_chan *c, ferry_op *op, struct ferry__wake *wk);
bool ferry__chan_withdraw(struct ferry_chan *c, ferry_op *op);

/* A call's op on the caller's stack (done: items its fast path already
 * moved): set up, run through the slow path, finished. Called with the
 * lock held; drops it. */
ssize_t ferry__chan_send_slow(struct ferry_chan *c, const void *items, size_t n, size_t done, unsigned prio,
                                  enum ferry__mode mode, const struct timespec *deadline);
ssize_t ferry__chan_recv_slow(struct ferry_chan *c, void *out, size_t max, size_t done, enum ferry__mode mode,
                                  const struct timespec *deadline);

#endif /* FERRY_SRC_CHAN_INTERNAL_H */
