/* SPDX-License-Identifier: MIT */
/* Unbounded intrusive wait-free SPSC queue (ferry/llq.h). */
#include <ferry/llq.h>

void ferry_llq_init(ferry_llq *q)
{
    if (!q)
        return;
    atomic_store_explicit(&q->stub.next, (ferry_llq_node *)NULL, memory_order_relaxed);
    q->first = &q->stub;
    atomic_store_explicit(&q->last, &q->stub, memory_order_relaxed);
}

/* The consumer's position; NULL in a zero-filled queue means the stub. */
static inline ferry_llq_node *llq_first(ferry_llq *q)
{
    return FERRY_LIKELY(q->first != NULL) ? q->first : &q->stub;
}

ferry_llq_node *ferry_llq_pop(ferry_llq *q)
{
    ferry_llq_node *cur = llq_first(q);
    /* Acquire (every load of ->next here): pairs with the release store of
     * prev->next in ferry_llq_push, so the node's contents are visible. */
    ferry_llq_node *next = atomic_load_explicit(&cur->next, memory_order_acquire);
    if (cur == &q->stub) {
        /* Skip the stub: it carries no item. */
        if (!next)
            return NULL;
        q->first = cur = next;
        next = atomic_load_explicit(&cur->next, memory_order_acquire);
    }
    if (next) {
        /* cur has a successor: the producer is done with it. */
        q->first = next;
        return cur;
    }
    /* cur looks like the newest node. If it is not (a push is between its
     * exchange and its link), its item is not complete yet: report empty. */
    if (atomic_load_explicit(&q->last, memory_order_acquire) != cur)
        return NULL;
    /* Append the stub behind cur so that cur gets a successor. The stub is
     * not in the queue now (first is cur, and cur is the newest node). */
    ferry_llq_push(q, &q->stub);
    next = atomic_load_explicit(&cur->next, memory_order_acquire);
    if (next) {
        q->first = next;
        return cur;
    }
    /* A producer's push slipped in between: its node will be linked after
     * cur, and the stub after it. Next time. */
    return NULL;
}

bool ferry_llq_empty(ferry_llq *q)
{
    if (!q)
        return true;
    ferry_llq_node *cur = llq_first(q);
    ferry_llq_node *next = atomic_load_explicit(&cur->next, memory_order_acquire);
    return cur == &q->stub && next == NULL;
}
