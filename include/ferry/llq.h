/* SPDX-License-Identifier: MIT */
/* ferry/llq.h: unbounded intrusive wait-free SPSC queue.
 *
 * A linked queue of nodes embedded in the caller's objects: push cannot fail
 * (no capacity, no allocation), pop returns the very node that was pushed,
 * oldest first. One producer thread, one consumer thread; both calls are
 * wait-free and make no system call, so either end may be real-time. The
 * typical use is handing objects from a real-time thread to an ordinary one
 * (or back) where a bounded ring could fill up:
 *
 *     struct buf { ferry_llq_node node; float samples[128]; };
 *     ferry_llq_push(&q, &b->node);                    // producer
 *     ferry_llq_node *n = ferry_llq_pop(&q);           // consumer
 *     if (n) { struct buf *b = ferry_container_of(n, struct buf, node); ... }
 *
 * (ferry_container_of is in ferry/list.h.)
 *
 * How it works (Vyukov's intrusive queue with a stub): the queue always keeps
 * one node that the consumer has already passed ("current"), because the
 * producer may still be linking a successor onto the newest node. A node is
 * handed out only once its successor is linked, so nobody touches it again.
 * When the consumer reaches the newest node it appends the queue's own stub
 * node behind it (the same wait-free exchange that push uses), which makes
 * that node hand-out-able; the stub is skipped when the consumer meets it.
 * Thus the stub is recycled, never allocated, and neither side ever waits:
 * if the producer is half-way through a push, pop simply reports NULL
 * (the item it is pushing is not there yet) and the next pop finds it.
 *
 * A node may be pushed again (to this or another queue) once pop returned it.
 * Neither push nor pop checks its arguments (q and node must not be NULL,
 * and a node pushed while it is still queued corrupts the queue): they are
 * the wait-free hot paths. init and empty take a NULL q (doing nothing;
 * reporting empty).
 *
 * ferry_llq is aligned to FERRY_CACHELINE (64) bytes: on the heap, allocate
 * it with aligned_alloc(FERRY_CACHELINE, ...), not malloc (see spsc.h).
 */
#ifndef FERRY_LLQ_H
#define FERRY_LLQ_H

#include <ferry/common.h>

FERRY_EXTERN_C_BEGIN

/* The link embedded in each element of a ferry_llq: the queue owns it from
 * the push until the pop that returns it. */
typedef struct ferry_llq_node {
    FERRY_ATOMIC(struct ferry_llq_node *) next;
} ferry_llq_node;

/* The wait-free linked queue: one producer, one consumer, intrusive (see
 * above). Set up with ferry_llq_init; aligned to FERRY_CACHELINE. */
typedef struct ferry_llq {
    /* Newest node: exchanged by push (producer, and the consumer when it
     * appends the stub). */
    FERRY_ATOMIC(ferry_llq_node *) last __attribute__((aligned(FERRY_CACHELINE)));
    char pad0_[2 * FERRY_CACHELINE - sizeof(void *)];
    /* Consumer's position: the node it passed last (or the stub). */
    ferry_llq_node *first __attribute__((aligned(FERRY_CACHELINE)));
    ferry_llq_node stub;
} ferry_llq;

/* Make q an empty queue. Zero-filled memory is an empty queue too (as long
 * as it has not been used). Nodes still queued are forgotten (they are the
 * caller's: nothing is freed). A NULL q is a no-op. Not concurrent with any
 * other call on q. */
void ferry_llq_init(ferry_llq *q);

/* Append node (its contents are overwritten). Wait-free (one atomic exchange
 * and two stores), cannot fail, no allocation, no system call.
 * Producer only: one thread at a time (the consumer's own stub appends are
 * accounted for). node must not be in any queue. */
static inline void ferry_llq_push(ferry_llq *q, ferry_llq_node *node)
{
    atomic_store_explicit(&node->next, FERRY__SCAST(ferry_llq_node *, FERRY__NULLPTR), memory_order_relaxed);
    /* acq_rel: release publishes node->next = NULL before anyone can link
     * onto node (pairs with the acquire half of the next exchange); acquire
     * makes the previous pusher's node->next = NULL visible before we
     * overwrite it below. */
    ferry_llq_node *prev = atomic_exchange_explicit(&q->last, node, memory_order_acq_rel);
    if (FERRY_UNLIKELY(prev == FERRY__NULLPTR))   /* zero-filled queue: starts at the stub */
        prev = &q->stub;
    /* Release: publishes node (and what the caller wrote into its object);
     * pairs with the acquire loads of ->next in ferry_llq_pop. After this
     * store the producer never touches prev again. */
    atomic_store_explicit(&prev->next, node, memory_order_release);
}

/* Remove and return the oldest node, or NULL when the queue is empty (or
 * its only item is still being pushed). Wait-free, no allocation, no system
 * call. Consumer only: one thread at a time. */
ferry_llq_node *ferry_llq_pop(ferry_llq *q);

/* Consumer only: whether pop would return NULL now (approximately, as the
 * producer may be pushing). True for a NULL q. */
bool ferry_llq_empty(ferry_llq *q);

FERRY_EXTERN_C_END

#endif /* FERRY_LLQ_H */
