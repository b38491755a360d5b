/* SPDX-License-Identifier: MIT */
/* The channel benchmark's baseline: the queue most C programs write first.
 *
 * A pthread mutex and two condition variables ("not empty", "not full") over
 * a ring of 8-byte items, one item per lock acquisition:
 *   - bounded (capacity N >= 1): a fixed ring of N slots, allocated up front;
 *   - unbounded (SIZE_MAX): a ring that doubles when full and keeps its storage;
 *   - rendezvous (capacity 0): a one-item slot; the sender waits until a
 *     receiver has taken its item (same mutex and two condvars).
 * Nothing here is tuned beyond what a careful first version would do: signal
 * only after a change, and only one waiter per item.
 * The batch calls (bl_send_n, bl_recv_n) move many items per lock
 * acquisition, as a careful first version with a batch API would; a change of
 * more than one item wakes every waiter of the other side.
 */
#ifndef FERRY_BENCH_CHAN_BASELINE_H
#define FERRY_BENCH_CHAN_BASELINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct bl_queue bl_queue;

/* NULL on allocation failure. capacity SIZE_MAX = unbounded, 0 = rendezvous. */
bl_queue *bl_open(size_t capacity);
void bl_free(bl_queue *q);
/* Blocks while full (or, rendezvous, until the item is taken). */
void bl_send(bl_queue *q, uint64_t item);
/* Blocks while empty. */
uint64_t bl_recv(bl_queue *q);
/* Send all n items, as many per lock acquisition as fit, blocking while full
 * (bounded and unbounded queues; a rendezvous queue sends one by one). */
void bl_send_n(bl_queue *q, const uint64_t *items, size_t n);
/* Block while empty, then take up to max items (>= 1) under one lock
 * acquisition; returns the count. */
size_t bl_recv_n(bl_queue *q, uint64_t *out, size_t max);

#endif
