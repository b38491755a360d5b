/* SPDX-License-Identifier: MIT */
/* ferry/chan.h: the batch channel.
 *
 * A multi-producer, multi-consumer channel of fixed-size items, bounded
 * (capacity N), unbounded (FERRY_UNBOUNDED) or rendezvous (capacity 0), that
 * moves many items per lock acquisition. Items are elem_size bytes, copied in
 * and out (pointers are the common case).
 *
 *   ferry_tx *tx; ferry_rx *rx;
 *   ferry_chan_config cfg = { .elem_size = sizeof(char *), .capacity = 1024 };
 *   ferry_chan_open(&cfg, &tx, &rx);
 *   ferry_send(tx, paths, npaths);          // blocks while full
 *   n = ferry_recv(rx, batch, 256);         // up to 256 at once; 0 = closed and drained
 *
 * Guarantees
 * - Nothing is lost: every item sent is received exactly once, or counted
 *   back to its sender (a send's return value says how many it sent), or
 *   handed to cfg.drop when no receiver remains.
 * - FIFO within a priority level; items of one send call stay in order; calls
 *   of concurrent senders may interleave. Higher levels are received first.
 * - Direct handoff: a sender that finds receivers waiting copies into their
 *   buffers (on plain channels through the buffer, under the lock); a
 *   receiver that frees space moves the items of blocked senders in. The
 *   woken thread does not take the lock again to finish.
 * - Precise wakeups: only as many waiters are woken as the new items (or the
 *   new space) can satisfy, oldest first; a blocked sender whose items do not
 *   fit is not overtaken by later, smaller ones (FIFO among blocked senders).
 * - No allocation after setup: waiters live on the caller's stack (blocking
 *   calls) or in the caller's ferry_op (async, see ferry/op.h). Storage grows
 *   to the largest backlog seen (bounded channels: at most the capacity,
 *   allocated up front when small, and always for a plain one: see
 *   ferry_chan_open) and is then kept.
 * - Every function here may be called concurrently from any number of
 *   threads on the same channel, except where a handle's lifetime is
 *   concerned: do not use a handle after releasing it.
 * - fork(): the child gets the channel as it was -- buffered items, pending
 *   async ops -- without the blocking calls and selects that other threads
 *   were waiting in (they do not exist there); a call another thread was in
 *   the middle of may leave the channel unusable in the child (docs/chan.md,
 *   "fork()").
 * - Signals and cancellation: a signal handled while a call waits does not
 *   end the wait (it resumes with the same absolute deadline; no -EINTR,
 *   nothing lost). No call here (nor in ferry/op.h, ferry/select.h) is a
 *   cancellation point: a pthread_cancel that arrives while a thread waits
 *   in a blocking call acts at the thread's next cancellation point, after
 *   the call has returned with what it moved. The callbacks a call runs
 *   (weigh, drop, the wakers of async ops it completes) run with
 *   cancellation held off likewise: one that reaches a cancellation point
 *   does not cut the call short. The calls are neither
 *   async-signal-safe nor async-cancel-safe.
 *
 * Arguments (one policy for every channel and op function):
 * - A function that returns a result returns -EINVAL, and does nothing,
 *   for a NULL handle, op or config, a NULL buffer with a non-zero count,
 *   or a count whose size in bytes (count * elem_size) exceeds PTRDIFF_MAX
 *   (no buffer can be that large).
 * - ferry_tx_release(NULL), ferry_rx_release(NULL) and ferry_tx_close(NULL)
 *   do nothing (like free(NULL)); ferry_tx_clone(NULL) and
 *   ferry_rx_clone(NULL) return NULL.
 * - Deadlines are absolute CLOCK_MONOTONIC (ferry/deadline.h makes one
 *   from a duration). NULL means "no deadline" in every *_until call (the
 *   plain blocking call). A deadline whose tv_nsec
 *   is outside [0, 1e9) is -EINVAL before anything happens: nothing moved,
 *   nothing linked. A deadline already past is valid: the call makes the
 *   progress that needs no waiting (the try call), then -ETIMEDOUT.
 */
#ifndef FERRY_CHAN_H
#define FERRY_CHAN_H

#include <ferry/common.h>
#include <ferry/deadline.h>
#include <errno.h>     /* the -E... results below */
#include <stdint.h>
#include <sys/types.h> /* ssize_t */
#include <time.h>      /* struct timespec */

FERRY_EXTERN_C_BEGIN

typedef struct ferry_tx ferry_tx; /* sending handle   */
typedef struct ferry_rx ferry_rx; /* receiving handle */

/* The capacity of an unbounded channel (ferry_chan_config.capacity): its
 * storage grows as needed, and without a budget a send never waits for
 * room (with one, senders wait while the buffered weight is at the budget). */
#define FERRY_UNBOUNDED SIZE_MAX
/* Most priority levels a channel may have. */
#define FERRY_MAX_LEVELS 64

/* A channel's configuration, for ferry_chan_open, which copies it (the
 * struct may go away after the call; the name string may not). Zero-fill
 * it (a designated initializer or memset) and set what you need: elem_size
 * is required; capacity 0 is a rendezvous channel; every other field means
 * "none" when 0. */
typedef struct ferry_chan_config {
    size_t elem_size;   /* bytes per item; required, > 0                         */
    size_t capacity;    /* most items buffered; 0 = rendezvous; FERRY_UNBOUNDED  */
    unsigned levels;    /* priority levels, 0 or 1 = none; at most FERRY_MAX_LEVELS */
    size_t budget;      /* most total weight buffered; 0 = no weight bound        */
    size_t (*weigh)(const void *item, void *ctx); /* weight of one item; NULL: elem_size */
    void *weigh_ctx;
    void (*drop)(void *item, void *ctx); /* gets items no receiver will take      */
    void *drop_ctx;
    const char *name;   /* optional, kept by pointer; in statistics and misuse reports */
} ferry_chan_config;

/* Create a channel and its first sender and receiver.
 * Returns 0, -EINVAL (NULL arguments, elem_size 0 or above PTRDIFF_MAX, a
 * bounded capacity * elem_size above PTRDIFF_MAX, levels >
 * FERRY_MAX_LEVELS, weigh set without a budget) or -ENOMEM. Allocates;
 * never blocks. A plain bounded channel (one level, no budget, capacity at
 * most 2^28, storage about capacity * (elem_size + 1) bytes at most 64 MiB)
 * gets all of its storage, a lock-free ring, now; another bounded channel
 * gets its storage now when all of it is at most 1 MiB, and grows it by
 * doubling otherwise; an unbounded one starts with one block or none.
 * Large items that pass these checks but whose storage cannot be had make
 * the sends that need it return -ENOMEM.
 *
 * With a budget, each item's weight is computed once, when it enters the
 * buffer (by the sending thread, or by the receiver that moves a blocked
 * sender's item in); weigh must be a pure function of the item. Items handed
 * directly from a sender to a waiting receiver are never buffered and are not
 * weighed. A weight of 0 is allowed (such items count only against capacity).
 * weigh and drop run with the channel's lock held: they must not call any
 * function on the same channel (through any of its handles, ferry_chan_stats
 * included, or ferry_op_cancel of an op on it): such a call aborts with a
 * message (it would deadlock on the lock). Other threads' calls meanwhile
 * simply wait for the lock. They run with thread cancellation held off (a
 * request acts after the call returns), and must return: a longjmp or
 * pthread_exit out of one leaves the lock held for ever. */
int ferry_chan_open(const ferry_chan_config *cfg, ferry_tx **tx, ferry_rx **rx);

/* One more sender / receiver: counts a reference and returns its argument
 * (NULL for NULL). Each clone must be released once. Takes the channel's
 * lock briefly; never allocates. Any thread, concurrently with any call. */
ferry_tx *ferry_tx_clone(ferry_tx *tx);
ferry_rx *ferry_rx_clone(ferry_rx *rx);

/* Release one sender. When the last sender is released the channel is
 * closed for sending: receivers drain what is buffered, then get 0; blocked
 * and pending receivers are woken. Releasing more often than cloned, or any
 * call through a handle after its side's last release, aborts (while the
 * channel still exists through its other side; afterwards it is a use after
 * free); ferry_chan_stats says -EINVAL for it.
 * When both sides are gone the channel's memory is freed. NULL: nothing.
 * Takes the lock briefly (wakers of ops it completes run on this thread);
 * never allocates. */
void ferry_tx_release(ferry_tx *tx);

/* Release one receiver. When the last receiver is released, buffered items
 * go to cfg.drop (if set), blocked and pending senders complete with the
 * count they sent or -EPIPE, and later sends get -EPIPE. NULL: nothing.
 * Takes the lock (drop runs under it); never allocates. */
void ferry_rx_release(ferry_rx *rx);

/* Close the channel for sending, for every sender (the handles stay valid
 * and must still be released). Blocked senders return what they sent so far
 * or -EPIPE; receivers drain, then get 0. Idempotent; NULL: nothing. Takes
 * the lock briefly; never allocates. */
void ferry_tx_close(ferry_tx *tx);

/* Send all n items in order, blocking while there is no room. Returns n; or
 * the count sent before the channel closed (for sending, or because every
 * receiver is gone), or -EPIPE if it closed before any was sent. On an
 * unbounded channel without a budget it never blocks: if storage cannot
 * grow it returns the count sent so far, or -ENOMEM. n == 0 returns 0.
 * -EINVAL: see "Arguments" above. Blocks (never on an unbounded channel
 * without a budget; with one, while the buffered weight leaves no room);
 * allocates only to grow storage (see above). */
ssize_t ferry_send(ferry_tx *tx, const void *items, size_t n);

/* Send as many as fit now, without blocking: a count >= 1, -EAGAIN if none
 * fit, -EPIPE if closed (-ENOMEM as ferry_send). Never blocks. */
ssize_t ferry_try_send(ferry_tx *tx, const void *items, size_t n);

/* ferry_send that gives up at the absolute CLOCK_MONOTONIC deadline: the count
 * sent so far, or -ETIMEDOUT if none. NULL deadline: ferry_send; tv_nsec
 * out of range: -EINVAL, nothing sent. */
ssize_t ferry_send_until(ferry_tx *tx, const void *items, size_t n, const struct timespec *deadline);

/* ferry_send at priority level prio (0 .. levels-1; higher is received
 * first). -EINVAL if prio is out of range. ferry_send is level 0. */
ssize_t ferry_send_prio(ferry_tx *tx, const void *items, size_t n, unsigned prio);

/* ferry_send_prio with a deadline (NULL: none): the general form behind the
 * calls above. */
ssize_t ferry_send_prio_until(ferry_tx *tx, const void *items, size_t n, unsigned prio,
                              const struct timespec *deadline);

/* Wait for at least one item, then take up to max: FIFO within a level,
 * highest level first. Returns the count (>= 1), or 0 once the channel is
 * closed for sending and drained. -EINVAL if max == 0, or see "Arguments".
 * Blocks; never allocates. */
ssize_t ferry_recv(ferry_rx *rx, void *out, size_t max);

/* ferry_recv without waiting: -EAGAIN if nothing is available. Never
 * blocks. */
ssize_t ferry_try_recv(ferry_rx *rx, void *out, size_t max);

/* ferry_recv that gives up at the deadline with -ETIMEDOUT (NULL: none;
 * tv_nsec out of range: -EINVAL, nothing taken). */
ssize_t ferry_recv_until(ferry_rx *rx, void *out, size_t max, const struct timespec *deadline);

/* 32-bit targets where a program may choose a 64-bit time_t (glibc's
 * _TIME_BITS=64; the default there is 32 bits): struct timespec has another
 * layout in such a program, so each call that takes a deadline has a
 * second entry point for it, which these headers select in a program built
 * that way (ferry/mutex.h and ferry/deadline.h do the same). A deadline
 * past what the library's time_t holds never comes. Elsewhere the two are
 * the same. Not for direct use. */
ssize_t ferry__send_until_time64(ferry_tx *tx, const void *items, size_t n, const struct timespec *deadline);
ssize_t ferry__send_prio_until_time64(ferry_tx *tx, const void *items, size_t n, unsigned prio,
                                      const struct timespec *deadline);
ssize_t ferry__recv_until_time64(ferry_rx *rx, void *out, size_t max, const struct timespec *deadline);
#if defined(__USE_TIME_BITS64) && defined(__TIMESIZE) && __TIMESIZE == 32 && !defined(FERRY__TIME64_IMPL)
#define ferry_send_until ferry__send_until_time64
#define ferry_send_prio_until ferry__send_prio_until_time64
#define ferry_recv_until ferry__recv_until_time64
#endif

/* Like POSIX struct stat / stat(): the struct tag and the function share a
 * name (in C++ too: write `struct ferry_chan_stats` for the type). */
struct ferry_chan_stats {
    const char *name;          /* cfg.name, or NULL                           */
    size_t elem_size, capacity, budget;
    unsigned levels;
    size_t len;                /* items buffered now                          */
    size_t weight;             /* their total weight (budgeted channels)      */
    size_t senders, receivers; /* live handles                                */
    bool closed;               /* closed for sending                          */
    uint64_t items_sent;       /* items accepted by the channel               */
    uint64_t batches_sent;     /* send calls that moved at least one item     */
    uint64_t items_received;
    uint64_t batches_received; /* receive calls that returned items           */
    uint64_t sends_blocked;    /* times a sender had to wait                  */
    uint64_t recvs_blocked;    /* times a receiver had to wait                */
    uint64_t handoffs;         /* items copied directly between caller buffers */
    uint64_t wakeups;          /* waiters woken                               */
};

/* Statistics of the channel behind `handle`, a ferry_tx * or a ferry_rx *.
 * Returns 0, or -EINVAL if handle or out is NULL or handle is not a live
 * ferry handle. Takes the channel's lock briefly; never allocates.
 * Plain channels (one level, no budget; bounded with storage <= 64 MiB, or
 * unbounded with items <= 32 KiB) move items without the lock; their item
 * and batch counters and len are read from the buffer's positions and
 * per-side counters without stopping that traffic: exact once traffic
 * stops, possibly a few operations apart from each other while it runs.
 * Each counter only grows (items_sent, batches_received, ...) on every
 * channel, read from any thread at any time. */
#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
/* g++ -Wshadow: "hides constructor for struct ferry_chan_stats". As with
 * stat(), C++ callers name the type `struct ferry_chan_stats`. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
int ferry_chan_stats(const void *handle, struct ferry_chan_stats *out);
#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

FERRY_EXTERN_C_END

#endif /* FERRY_CHAN_H */
