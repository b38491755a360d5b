/* SPDX-License-Identifier: MIT */
/* The batch channel's lifecycle and public entry points (include/ferry/chan.h,
 * include/ferry/op.h; docs/chan.md). Each entry point checks its arguments
 * -- the one policy for every channel function: NULL handles, NULL buffers
 * with a non-zero count, counts whose byte size cannot be a real buffer,
 * levels out of range and deadlines with tv_nsec outside [0, 1e9) are
 * -EINVAL before anything happens; releasing or closing NULL is a no-op;
 * a NULL deadline means none -- then makes one call through the data path
 * chosen at open (chan_internal.h lists the files).
 *
 * Invariants: I1-I5 (chan_internal.h). Handles: a ferry_tx / ferry_rx is
 * part of the channel's memory; its magic is TX / RX while its side has a
 * holder and DEAD after the side's last release (a call through it then
 * aborts) or once the channel is freed (a use after that is a use after
 * free, caught only if the memory still holds it).
 *
 * Atomics: `live` only.
 *  L1 Each handle's clone increments live (relaxed, under the lock: the
 *     clone is ordered after the open or clone it copies by the caller).
 *  L2 A release drops its count with acq_rel after its last touch of the
 *     channel; the thread that drops the last count frees: the release half
 *     orders every thread's use before the free, the acquire half makes the
 *     freeing thread see it.
 */
/* The timed calls are defined under their plain names (ferry/chan.h,
 * after ferry_recv_until). */
#define FERRY__TIME64_IMPL 1
#include "chan_op.h"
#include "rt_block.h"
#include "time64.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* fork()                                                                    */

/* fork() copies only the calling thread, and the channel's memory as it
 * was: in the child, the waits of the parent's other threads -- blocking
 * calls, blocking selects, linked on recvq / sendq -- belong to threads
 * that do not exist there, and would take the child's items (a receive) or
 * hand it their own and hold its sends up behind them (a send). The child
 * handler counts the fork; each channel, the first time its lock is taken
 * after it, drops those waits (chan_internal.h). The forking thread's own
 * waits stay: it waits only if a signal handler forked during its wait, and
 * that wait goes on in the child (each wait names its thread:
 * ferry__thread_mark, chan_op.h). Async ops stay: their owner may be the
 * forking thread. Calls that other threads were in the middle of (a
 * lock held, a fast path between claim and publication) are not repaired:
 * docs/chan.md, "fork()". */

FERRY_ATOMIC(uint32_t) ferry__fork_gen;
void *ferry__fork_owner;
FERRY__TID_TLS uintptr_t ferry__thread_mark_tls;
static FERRY_ATOMIC(uintptr_t) thread_marks;

uintptr_t ferry__thread_mark_new(void)
{
    /* Relaxed: only distinctness matters, which the RMW gives. Skips 0
     * (no mark yet) when the count wraps (2^32 threads on 32 bits). */
    uintptr_t m;
    do
        m = atomic_fetch_add_explicit(&thread_marks, 1, memory_order_relaxed) + 1;
    while (m == 0);
    ferry__thread_mark_tls = m;
    return m;
}

static void chan_forked_child(void)
{
    /* The child has one thread, this one (chan_internal.h): plain store,
     * read by that thread or by threads it creates later (ordered by
     * pthread_create). Relaxed count, likewise. */
    ferry__fork_owner = ferry__thread_mark();
    atomic_fetch_add_explicit(&ferry__fork_gen, 1, memory_order_relaxed);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_register(void)
{
    /* On failure (no memory) channels are as fork-unsafe as before:
     * nothing else depends on the handler. */
    (void)pthread_atfork(NULL, NULL, chan_forked_child);
}

/* Drop one list's waits of threads that do not exist in this process. */
static void drop_thread_waits(struct ferry_chan *c, ferry_waitlist *q)
{
    ferry_waiter *w = ferry_waitlist_peek(q, FERRY_ROUND_ALL);
    while (w) {
        ferry_waiter *next = ferry_waitlist_next(q, w, FERRY_ROUND_ALL);
        ferry_op *op = ferry_container_of(w, ferry_op, waiter);
        if (ferry__op_is_thread_wait(op)) {
            ferry_waitlist_unlink(q, w);
            ferry__chan_unwait(c, op);
        }
        w = next;
    }
}

void ferry__chan_after_fork(struct ferry_chan *c)
{
    drop_thread_waits(c, &c->recvq);
    drop_thread_waits(c, &c->sendq);
    c->fork_gen = atomic_load_explicit(&ferry__fork_gen, memory_order_relaxed); /* chan_internal.h */
}

/* ------------------------------------------------------------------------ */
/* Open                                                                      */

static void chan_free(struct ferry_chan *c)
{
    ferry_waitlist_fini(&c->recvq);
    ferry_waitlist_fini(&c->sendq);
    c->path->fini(c);
    ferry_mutex_fini(&c->wake_lock);
    pthread_mutex_destroy(&c->lock);
    c->tx.magic = c->rx.magic = FERRY__DEAD_MAGIC;
    free(c);
}

/* The data path for a configuration (decided once, here). */
static const struct ferry__chan_path *choose_path(const ferry_chan_config *cfg, unsigned levels)
{
    if (levels == 1 && cfg->budget == 0 && cfg->capacity != FERRY_UNBOUNDED &&
        ferry__lfring_fits(cfg->capacity, cfg->elem_size))
        return &ferry__chan_path_lockfree;
    if (levels == 1 && cfg->budget == 0 && cfg->capacity == FERRY_UNBOUNDED && ferry__lflist_fits(cfg->elem_size))
        return &ferry__chan_path_lflist;
    return &ferry__chan_path_locked;
}

int ferry_chan_open(const ferry_chan_config *cfg, ferry_tx **tx, ferry_rx **rx)
{
    if (!cfg || !tx || !rx || cfg->elem_size == 0 || cfg->elem_size > (size_t)PTRDIFF_MAX)
        return -EINVAL;
    unsigned levels = cfg->levels ? cfg->levels : 1;
    if (levels > FERRY_MAX_LEVELS)
        return -EINVAL;
    if (cfg->weigh && cfg->budget == 0) /* a weight with nothing to bound */
        return -EINVAL;
    /* A bounded channel's whole buffer must be a possible object. */
    if (cfg->capacity != FERRY_UNBOUNDED && cfg->capacity > (size_t)PTRDIFF_MAX / cfg->elem_size)
        return -EINVAL;
    pthread_once(&fork_once, fork_register);
    struct ferry_chan *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->fork_gen = atomic_load_explicit(&ferry__fork_gen, memory_order_relaxed); /* chan_internal.h */
    pthread_mutex_init(&c->lock, NULL);
    ferry_mutex_init(&c->wake_lock);
    ferry_list_init(&c->rounds);
    ferry_waitlist_init(&c->recvq, "receivers");
    ferry_waitlist_init(&c->sendq, "senders");
    c->elem = cfg->elem_size;
    c->max_count = (size_t)PTRDIFF_MAX / c->elem;
    c->cap = cfg->capacity;
    c->budget = cfg->budget;
    c->levels = levels;
    c->weigh = cfg->weigh;
    c->weigh_ctx = cfg->weigh_ctx;
    c->drop = cfg->drop;
    c->drop_ctx = cfg->drop_ctx;
    c->name = cfg->name;
    c->tx_refs = c->rx_refs = 1;
    atomic_store_explicit(&c->live, 2, memory_order_relaxed); /* L1: not shared yet */
    c->tx.magic = FERRY__TX_MAGIC;
    c->tx.chan = c;
    c->rx.magic = FERRY__RX_MAGIC;
    c->rx.chan = c;
    c->path = choose_path(cfg, levels);
    int r = c->path->init(c);
    if (r != 0) {
        chan_free(c);
        return r;
    }
    *tx = &c->tx;
    *rx = &c->rx;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Handles                                                                   */

/* A handle's channel, after checking that it is a live handle of the kind
 * wanted (ferry_tx and ferry_rx share one layout: {magic, chan}); NULL for
 * a NULL handle. */
static struct ferry_chan *handle_chan(const void *h, uint32_t magic, const char *kind)
{
    const struct ferry_tx *hd = (const struct ferry_tx *)h;
    if (FERRY_UNLIKELY(!hd))
        return NULL;
    /* A dead handle is still the channel's own field (the other side keeps
     * the channel; afterwards reading it at all is a use after free), so
     * its channel and name can be read for the message. */
    if (FERRY_UNLIKELY(hd->magic == FERRY__DEAD_MAGIC))
        ferry__die("%s released more often than cloned, or used after its last release (handle %p, channel %s)",
                   kind, h, ferry__chan_name(hd->chan));
    if (FERRY_UNLIKELY(hd->magic != magic))
        ferry__die("%p is not a live %s (magic %#x): released too often, or the other kind of handle", h, kind,
                   hd->magic);
    struct ferry_chan *c = hd->chan;
    ferry__callback_check(c, kind);
    return c;
}

void ferry__callback_reentered(struct ferry_chan *c, const char *what)
{
    ferry__die("channel '%s': its weigh or drop callback called into the channel through a %s (the callbacks "
               "run under the channel's lock and must not call into the channel)",
               ferry__chan_name(c), what);
}

void ferry__callback_check_tid(struct ferry_chan *c, const char *what)
{
    if (atomic_load_explicit(&c->cb_tid, memory_order_relaxed) == ferry__self_tid()) /* C1 */
        ferry__callback_reentered(c, what);
}

static struct ferry_chan *tx_chan(const ferry_tx *tx) { return handle_chan(tx, FERRY__TX_MAGIC, "ferry_tx"); }
static struct ferry_chan *rx_chan(const ferry_rx *rx) { return handle_chan(rx, FERRY__RX_MAGIC, "ferry_rx"); }

struct ferry_chan *ferry__tx_chan(const ferry_tx *tx) { return tx_chan(tx); }
struct ferry_chan *ferry__rx_chan(const ferry_rx *rx) { return rx_chan(rx); }

/* Count one more handle of a side (refs: &c->tx_refs or &c->rx_refs). */
static void clone_side(struct ferry_chan *c, size_t *refs, const char *kind)
{
    ferry__chan_lock(c);
    if (FERRY_UNLIKELY(*refs == 0))
        ferry__die("channel '%s': %s cloned after its last release", ferry__chan_name(c), kind);
    (*refs)++;
    atomic_fetch_add_explicit(&c->live, 1, memory_order_relaxed); /* L1 */
    ferry__chan_unlock(c);
}

/* Under the lock: drop one handle of a side; true if it was the last. The
 * last one also marks the side's handle released (magic DEAD), so that a
 * later call through it aborts while the other side keeps the channel's
 * memory (chan.h, ferry_tx_release); only a misuse reads it concurrently. */
static bool release_side(struct ferry_chan *c, size_t *refs, uint32_t *magic, const char *kind)
{
    if (FERRY_UNLIKELY(*refs == 0))
        ferry__die("channel '%s': %s released more often than cloned", ferry__chan_name(c), kind);
    if (--*refs != 0)
        return false;
    *magic = FERRY__DEAD_MAGIC;
    return true;
}

ferry_tx *ferry_tx_clone(ferry_tx *tx)
{
    struct ferry_chan *c = tx_chan(tx);
    if (c)
        clone_side(c, &c->tx_refs, "ferry_tx");
    return tx;
}

ferry_rx *ferry_rx_clone(ferry_rx *rx)
{
    struct ferry_chan *c = rx_chan(rx);
    if (c)
        clone_side(c, &c->rx_refs, "ferry_rx");
    return rx;
}

/* Drop one hold on the memory (a handle's, or a wake carrier's: chan_op.c);
 * the last frees it (L2). */
static void chan_put(struct ferry_chan *c)
{
    if (atomic_fetch_sub_explicit(&c->live, 1, memory_order_acq_rel) == 1) /* L2 */
        chan_free(c);
}
void ferry__chan_put(struct ferry_chan *c) { chan_put(c); }

/* Close for sending (close) and/or drop one sender (release): the last
 * sender's release closes too. */
static void tx_end(ferry_tx *tx, bool release)
{
    struct ferry_chan *c = tx_chan(tx);
    if (!c)
        return;
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    ferry__chan_lock(c);
    if (!release || release_side(c, &c->tx_refs, &c->tx.magic, "ferry_tx"))
        ferry__chan_close_locked(c, &wk);
    ferry__unlock_and_wake(c, &wk);
    if (release)
        chan_put(c);
}

void ferry_tx_close(ferry_tx *tx) { tx_end(tx, false); }
void ferry_tx_release(ferry_tx *tx) { tx_end(tx, true); }

void ferry_rx_release(ferry_rx *rx)
{
    struct ferry_chan *c = rx_chan(rx);
    if (!c)
        return;
    struct ferry__wake wk;
    ferry__wake_init(&wk, c);
    ferry__chan_lock(c);
    if (release_side(c, &c->rx_refs, &c->rx.magic, "ferry_rx"))
        ferry__chan_receivers_gone(c, &wk); /* buffered items go to drop, senders learn */
    ferry__unlock_and_wake(c, &wk);
    chan_put(c);
}

/* ------------------------------------------------------------------------ */
/* Send and receive                                                          */

/* Is a count of n items of c a possible buffer? */
static inline bool count_ok(const struct ferry_chan *c, size_t n) { return n <= c->max_count; }

/* The checks every send makes (the policy above); 0 or -EINVAL. */
static inline int send_check(const struct ferry_chan *c, const void *items, size_t n, unsigned prio,
                             const struct timespec *deadline)
{
    if (FERRY_UNLIKELY(!c || (!items && n > 0) || prio >= c->levels || !count_ok(c, n) ||
                       !ferry__deadline_valid(deadline)))
        return -EINVAL;
    return 0;
}

static inline int recv_check(const struct ferry_chan *c, const void *out, size_t max,
                             const struct timespec *deadline)
{
    if (FERRY_UNLIKELY(!c || !out || max == 0 || !count_ok(c, max) || !ferry__deadline_valid(deadline)))
        return -EINVAL;
    return 0;
}

static ssize_t send_call(ferry_tx *tx, const void *items, size_t n, unsigned prio, enum ferry__mode mode,
                         const struct timespec *deadline)
{
    struct ferry_chan *c = tx_chan(tx);
    int e = send_check(c, items, n, prio, deadline);
    if (e)
        return e;
    if (n == 0)
        return 0;
    return c->path->send(c, items, n, prio, mode, deadline);
}

static ssize_t recv_call(ferry_rx *rx, void *out, size_t max, enum ferry__mode mode,
                         const struct timespec *deadline)
{
    struct ferry_chan *c = rx_chan(rx);
    int e = recv_check(c, out, max, deadline);
    if (e)
        return e;
    return c->path->recv(c, out, max, mode, deadline);
}

/* The blocking calls with the real-time checker loaded (rt_block.h): name
 * the call, then make it. Out of line, so that the plain path below is a
 * load, a branch and a tail call. */
static __attribute__((noinline, cold)) ssize_t send_named(const char *call, ferry_tx *tx, const void *items,
                                                          size_t n, unsigned prio,
                                                          const struct timespec *deadline)
{
    FERRY__RT_MAY_BLOCK(call);
    return send_call(tx, items, n, prio, FERRY__BLOCK, deadline);
}

static __attribute__((noinline, cold)) ssize_t recv_named(const char *call, ferry_rx *rx, void *out, size_t max,
                                                          const struct timespec *deadline)
{
    FERRY__RT_MAY_BLOCK(call);
    return recv_call(rx, out, max, FERRY__BLOCK, deadline);
}

ssize_t ferry_send(ferry_tx *tx, const void *items, size_t n)
{
    if (ferry__rt_checking())
        return send_named("ferry_send", tx, items, n, 0, NULL);
    return send_call(tx, items, n, 0, FERRY__BLOCK, NULL);
}

ssize_t ferry_try_send(ferry_tx *tx, const void *items, size_t n)
{
    return send_call(tx, items, n, 0, FERRY__TRY, NULL);
}

/* The timed calls take a deadline in the default layout of struct timespec
 * (plain names) or, on 32-bit targets, also the 64-bit one (_time64:
 * time64.h). */
static ssize_t send_until(ferry_tx *tx, const void *items, size_t n, unsigned prio, const struct timespec *deadline,
                          const char *name)
{
    if (ferry__rt_checking())
        return send_named(name, tx, items, n, prio, deadline);
    return send_call(tx, items, n, prio, FERRY__BLOCK, deadline);
}

ssize_t ferry_send_until(ferry_tx *tx, const void *items, size_t n, const struct timespec *deadline)
{
    struct timespec buf;
    return send_until(tx, items, n, 0, ferry__deadline_of32(deadline, &buf), "ferry_send_until");
}

ssize_t ferry_send_prio(ferry_tx *tx, const void *items, size_t n, unsigned prio)
{
    if (ferry__rt_checking())
        return send_named("ferry_send_prio", tx, items, n, prio, NULL);
    return send_call(tx, items, n, prio, FERRY__BLOCK, NULL);
}

ssize_t ferry_send_prio_until(ferry_tx *tx, const void *items, size_t n, unsigned prio,
                              const struct timespec *deadline)
{
    struct timespec buf;
    return send_until(tx, items, n, prio, ferry__deadline_of32(deadline, &buf), "ferry_send_prio_until");
}

ssize_t ferry_recv(ferry_rx *rx, void *out, size_t max)
{
    if (ferry__rt_checking())
        return recv_named("ferry_recv", rx, out, max, NULL);
    return recv_call(rx, out, max, FERRY__BLOCK, NULL);
}

ssize_t ferry_try_recv(ferry_rx *rx, void *out, size_t max)
{
    return recv_call(rx, out, max, FERRY__TRY, NULL);
}

static ssize_t recv_until(ferry_rx *rx, void *out, size_t max, const struct timespec *deadline)
{
    if (ferry__rt_checking())
        return recv_named("ferry_recv_until", rx, out, max, deadline);
    return recv_call(rx, out, max, FERRY__BLOCK, deadline);
}

ssize_t ferry_recv_until(ferry_rx *rx, void *out, size_t max, const struct timespec *deadline)
{
    struct timespec buf;
    return recv_until(rx, out, max, ferry__deadline_of32(deadline, &buf));
}

ssize_t ferry__send_until_time64(ferry_tx *tx, const void *items, size_t n, const struct timespec *deadline)
{
    struct timespec buf;
    return send_until(tx, items, n, 0, ferry__deadline_of64(deadline, &buf), "ferry_send_until");
}

ssize_t ferry__send_prio_until_time64(ferry_tx *tx, const void *items, size_t n, unsigned prio,
                                      const struct timespec *deadline)
{
    struct timespec buf;
    return send_until(tx, items, n, prio, ferry__deadline_of64(deadline, &buf), "ferry_send_prio_until");
}

ssize_t ferry__recv_until_time64(ferry_rx *rx, void *out, size_t max, const struct timespec *deadline)
{
    struct timespec buf;
    return recv_until(rx, out, max, ferry__deadline_of64(deadline, &buf));
}

/* ------------------------------------------------------------------------ */
/* Async operations                                                          */

/* A start that is rejected or finishes at once leaves the op DONE with its
 * result (its waker is never called): ferry_op_result and ferry_op_cancel
 * answer with that result and touch no channel. */
static ssize_t start_done(ferry_op *op, ssize_t r)
{
    if (op)
        ferry__op_finish_now(op, r);
    return r;
}

/* Is `op`, as its fields say, linked on one of its own channel's wait
 * queues -- pending there? Address arithmetic only: nothing is followed,
 * so memory that no start set up (op.h: a start takes any memory) is only
 * compared, and a fill pattern or other garbage never matches (its `owner`
 * would have to be its `chan` plus the offset of a queue). Read without
 * the channel's lock: in a correct program an op this is asked about is
 * not pending at all (its owner saw it complete or withdrawn before
 * starting it again), so nothing changes the fields meanwhile. */
static bool linked_on_own_chan(const ferry_op *op)
{
    uintptr_t owner = (uintptr_t)op->waiter.owner, chan = (uintptr_t)op->chan;
    return owner != 0 && chan != 0 &&
           (owner == chan + offsetof(struct ferry_chan, recvq) || owner == chan + offsetof(struct ferry_chan, sendq));
}

/* Starting an op that is still pending would corrupt the wait queues of
 * the channel it is pending on, or its wake round's list: abort with a
 * message. The op need not be initialized before a start, so its memory
 * may hold anything; only what is certain counts:
 *  - on another channel than c (or with a NULL handle, c NULL: the failed
 *    start would mark the op done while that channel still links it): a
 *    pending or sleeping state AND a waiter linked on a queue of the op's
 *    own channel (linked_on_own_chan). An op complete there whose waker
 *    has not been called yet (TAKEN) is in a round's list, which nothing
 *    here can tell from garbage without following its pointers: not
 *    detected (op.h);
 *  - on c: a pending state AND a waiter linked on one of c's queues, or the
 *    taken state AND c as the op's channel, looked at under c's lock (a
 *    taken op's channel is c's only while c's round holds it: every other
 *    way out of TAKEN sets DONE, and a start sets PENDING). */
static void check_not_pending(struct ferry_chan *c, ferry_op *op)
{
    /* Relaxed: the value only decides whether to look closer (under c's
     * lock for c), which orders what follows with the op's completer. */
    uint32_t st = atomic_load_explicit(&op->state, memory_order_relaxed);
    if (FERRY_LIKELY(st != FERRY__ST_PENDING && st != FERRY__ST_SLEEPING && st != FERRY__ST_TAKEN))
        return;
    if (st != FERRY__ST_TAKEN && op->chan != c && linked_on_own_chan(op)) {
        if (c)
            ferry__die("ferry_op %p started on channel '%s' while it is still pending on channel '%s' (cancel "
                       "it, or wait for its result, first)",
                       (void *)op, ferry__chan_name(c), ferry__chan_name(op->chan));
        ferry__die("ferry_op %p started with a NULL handle while it is still pending on channel '%s' (cancel "
                   "it, or wait for its result, first)",
                   (void *)op, ferry__chan_name(op->chan));
    }
    if (!c)
        return;
    ferry__chan_lock(c);
    /* Relaxed: under the lock, which orders PENDING, SLEEPING and TAKEN
     * (chan_op.c O2); a round's pop to DONE meanwhile still means the
     * start came while the op was pending. */
    st = atomic_load_explicit(&op->state, memory_order_relaxed);
    bool pending = ((st == FERRY__ST_PENDING || st == FERRY__ST_SLEEPING) &&
                    (op->waiter.owner == &c->recvq || op->waiter.owner == &c->sendq)) ||
                   (st == FERRY__ST_TAKEN && op->chan == c);
    ferry__chan_unlock(c);
    if (pending)
        ferry__die("ferry_op %p started again while it is pending on channel '%s' (cancel it, or wait for "
                   "its result, first)",
                   (void *)op, ferry__chan_name(c));
}

ssize_t ferry__recv_start_claimed(ferry_rx *rx, ferry_op *op, void *out, size_t max, ferry_waker w,
                                  FERRY_ATOMIC(uintptr_t) *claim)
{
    struct ferry_chan *c = rx_chan(rx);
    if (op)
        check_not_pending(c, op);
    if (!op || !w.wake || recv_check(c, out, max, NULL))
        return start_done(op, -EINVAL);
    ferry__op_setup(op, c, FERRY__OP_RECV, out, max, 0, true, w);
    op->claim = claim;
    ferry__chan_lock(c);
    ssize_t r = ferry__chan_recv_locked(c, op, FERRY__ASYNC, NULL);
    return r == -EINPROGRESS ? r : start_done(op, r); /* -EINPROGRESS: the op is not ours to touch */
}

ssize_t ferry__send_start_claimed(ferry_tx *tx, ferry_op *op, const void *items, size_t n, unsigned prio,
                                  size_t need, ferry_waker w, FERRY_ATOMIC(uintptr_t) *claim)
{
    struct ferry_chan *c = tx_chan(tx);
    if (op)
        check_not_pending(c, op);
    if (!op || !w.wake || send_check(c, items, n, prio, NULL) || need > n)
        return start_done(op, -EINVAL);
    if (n == 0)
        return start_done(op, 0);
    ferry__op_setup(op, c, FERRY__OP_SEND, (void *)(uintptr_t)items, n, prio, true, w);
    op->need = need ? need : n;
    op->claim = claim;
    ferry__chan_lock(c);
    ssize_t r = ferry__chan_send_locked(c, op, FERRY__ASYNC, NULL);
    return r == -EINPROGRESS ? r : start_done(op, r);
}

ssize_t ferry_recv_start(ferry_rx *rx, ferry_op *op, void *out, size_t max, ferry_waker w)
{
    return ferry__recv_start_claimed(rx, op, out, max, w, NULL);
}

ssize_t ferry_send_prio_start(ferry_tx *tx, ferry_op *op, const void *items, size_t n, unsigned prio,
                              ferry_waker w)
{
    return ferry__send_start_claimed(tx, op, items, n, prio, 0, w, NULL);
}

ssize_t ferry_send_start(ferry_tx *tx, ferry_op *op, const void *items, size_t n, ferry_waker w)
{
    return ferry__send_start_claimed(tx, op, items, n, 0, 0, w, NULL);
}
