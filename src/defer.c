/* SPDX-License-Identifier: MIT */
/* Deferred reclamation (ferry/defer.h). */
#include <ferry/defer.h>
#include <ferry/list.h>
#include <ferry/rt.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "platform.h"

int ferry_defer_init(ferry_defer *d)
{
    if (!d)
        return -EINVAL;
    atomic_store_explicit(&d->head, (ferry_defer_node *)NULL, memory_order_relaxed);
    return 0;
}

/* The node's link, once its pusher has written it. */
static ferry_defer_node *wait_link(ferry_defer_node *n)
{
    /* Acquire: pairs with the release store of node->next in
     * ferry_defer_push. */
    ferry_defer_node *next = atomic_load_explicit(&n->next, memory_order_acquire);
    for (unsigned spins = 0; FERRY_UNLIKELY(next == FERRY__DEFER_LINKING); spins++) {
        /* The pusher is between its exchange and its store: a few
         * instructions, unless it was preempted. Spin briefly, then let it
         * run. */
        if (spins < 64)
            ferry__cpu_relax();
        else
            sched_yield();
        next = atomic_load_explicit(&n->next, memory_order_acquire);
    }
    return next;
}

size_t ferry_defer_collect(ferry_defer *d)
{
    if (!d || !atomic_load_explicit(&d->head, memory_order_relaxed))
        return 0;
    /* The batch below is ours alone once taken: a cancellation acted on
     * inside a function it runs (a destroy that closes a file reaches a
     * cancellation point) would lose the rest of it. So collect is not a
     * cancellation point: a request waits for the thread's next one. */
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    /* Acquire: pairs with the release exchanges of ferry_defer_push (all
     * of them, through the release sequence of exchanges on head), so each
     * node's fn and its object's contents are visible. */
    ferry_defer_node *n = atomic_exchange_explicit(&d->head, (ferry_defer_node *)NULL,
                                                   memory_order_acquire);
    /* The batch is newest first: reverse it into push order, waiting for
     * any link still being written. */
    ferry_defer_node *fifo = NULL;
    while (n) {
        ferry_defer_node *older = wait_link(n);
        atomic_store_explicit(&n->next, fifo, memory_order_relaxed);
        fifo = n;
        n = older;
    }
    size_t count = 0;
    while (fifo) {
        ferry_defer_node *next = atomic_load_explicit(&fifo->next, memory_order_relaxed);
        fifo->fn(fifo);   /* may free fifo */
        fifo = next;
        count++;
    }
    pthread_setcancelstate(cancel_state, NULL);
    return count;
}

void ferry_defer_fini(ferry_defer *d)
{
    if (!d)
        return;
    while (ferry_defer_collect(d) != 0) {
        /* fn may have pushed more: collect until nothing is left. */
    }
}

/* ------------------------------------------------------------------------ */

int ferry_shared_init(ferry_shared *s, ferry_defer *d, void (*destroy)(ferry_shared *s))
{
    if (!s || !d || !destroy)
        return -EINVAL;
    atomic_store_explicit(&s->refs, 1, memory_order_relaxed);
    s->defer = d;
    s->destroy = destroy;
    atomic_store_explicit(&s->node.next, (ferry_defer_node *)NULL, memory_order_relaxed);
    s->node.fn = NULL;
    return 0;
}

ferry_shared *ferry_shared_acquire(ferry_shared *s)
{
    /* Relaxed: taking a reference needs an existing one, which already
     * orders the object's contents for this thread. */
    size_t old = atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    /* One comparison for both misuses: old == 0 (the object is being or
     * has been destroyed) and old == SIZE_MAX (the count just wrapped to 0:
     * the next release would destroy an object that still has holders). */
    if (FERRY_UNLIKELY(old - 1 >= SIZE_MAX - 1)) {
        if (old == 0)
            ferry__die("ferry_shared %p acquired after its last release", (void *)s);
        ferry__die("ferry_shared %p acquired with too many references (%zu; a reference leak?)",
                   (void *)s, old);
    }
    return s;
}

static void shared_run_destroy(ferry_defer_node *n)
{
    ferry_shared *s = ferry_container_of(n, ferry_shared, node);
    s->destroy(s);
}

/* True when this release dropped the last reference. */
static bool shared_drop(ferry_shared *s)
{
    /* acq_rel: the release half orders every holder's use of the object
     * before its decrement; the acquire half (instead of a fence, which
     * ThreadSanitizer does not model) makes the thread that drops the last
     * reference see all of them before it destroys the object. */
    size_t old = atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel);
    if (FERRY_LIKELY(old > 1))
        return false;
    if (FERRY_UNLIKELY(old == 0))
        ferry__die("ferry_shared %p released more often than acquired", (void *)s);
    return true;
}

void ferry_shared_release(ferry_shared *s)
{
    if (!shared_drop(s))
        return;
    if (ferry_rt_active())
        ferry_defer_push(s->defer, &s->node, shared_run_destroy);
    else
        s->destroy(s);
}

void ferry_shared_release_deferred(ferry_shared *s)
{
    if (shared_drop(s))
        ferry_defer_push(s->defer, &s->node, shared_run_destroy);
}

size_t ferry_shared_refs(const ferry_shared *s)
{
    return atomic_load_explicit(&s->refs, memory_order_relaxed);
}
