/* SPDX-License-Identifier: MIT */
/* ferry/defer.h: deferred reclamation for real-time threads.
 *
 * A real-time thread must not free memory (free() may take a lock or make a
 * system call), yet it ends up owning garbage: a buffer it has played, an
 * old parameter set it has replaced. It hands such objects to a ferry_defer
 * instead; an ordinary thread calls ferry_defer_collect() now and then
 * (a timer, an idle loop), which runs each object's reclamation function.
 *
 *     struct buf { ferry_defer_node dn; float samples[256]; };
 *     static void free_buf(ferry_defer_node *n)
 *     { free(ferry_container_of(n, struct buf, dn)); }
 *
 *     ferry_defer_push(&garbage, &b->dn, free_buf);    // real-time thread
 *     ferry_defer_collect(&garbage);                   // housekeeping thread
 *
 * (ferry_container_of is in ferry/list.h.)
 *
 * Push is one atomic exchange onto a list (no compare-and-swap loop, so it is
 * wait-free for any number of pushing threads) and two plain stores. Collect
 * takes the whole list with one exchange, restores push order and runs the
 * functions. A pusher that was interrupted between its exchange and linking
 * its node makes the collector wait for those two instructions (bounded
 * spinning, then sched_yield); the pusher itself never waits.
 *
 * ferry_shared (below) is a reference-counted handle built on it: the
 * release that drops the last reference inside a real-time section defers
 * the destruction to the collector instead of running it.
 *
 * fork(): the child has only the forking thread. A push another thread had
 * half done at the fork (exchanged, not yet linked) stays half done there,
 * and the child's ferry_defer_collect and ferry_defer_fini wait for it for
 * ever; a batch another thread was collecting at the fork is not in the
 * child's list (its functions never run there). In a child that may have
 * forked so, call ferry_defer_init() (forgetting what was queued) before
 * collecting, or fork only while no other thread pushes or collects.
 *
 * ferry_defer is aligned to FERRY_CACHELINE (64) bytes: on the heap,
 * allocate it with aligned_alloc(FERRY_CACHELINE, ...), not malloc (see
 * spsc.h).
 */
#ifndef FERRY_DEFER_H
#define FERRY_DEFER_H

#include <ferry/common.h>

FERRY_EXTERN_C_BEGIN

/* The link embedded in each object handed to ferry_defer_push: fn is
 * called with it by ferry_defer_collect (recover the object with
 * ferry_container_of). Owned by the list from the push until fn runs. */
typedef struct ferry_defer_node {
    FERRY_ATOMIC(struct ferry_defer_node *) next;
    void (*fn)(struct ferry_defer_node *node);
} ferry_defer_node;

/* A list of deferred frees: pushed to wait-free by any thread (a
 * real-time one included), collected later (ferry_defer_collect) by a
 * thread that may block.
 * Zero-filled (or ferry_defer_init) is empty. Aligned to FERRY_CACHELINE:
 * on the heap, allocate it with aligned_alloc. */
typedef struct ferry_defer {
    /* Newest pushed node; each node links to the one pushed before it. */
    FERRY_ATOMIC(ferry_defer_node *) head __attribute__((aligned(FERRY_CACHELINE)));
    char pad_[FERRY_CACHELINE - sizeof(void *)];
} ferry_defer;

/* Marks a node whose push has done its exchange but not yet linked it. */
#define FERRY__DEFER_LINKING FERRY__RCAST(ferry_defer_node *, FERRY__SCAST(uintptr_t, 1))

/* Make d empty (zero-filled memory, e.g. a static ferry_defer, is already
 * a valid empty one). Returns 0, or -EINVAL if d is NULL. Not concurrent with
 * other calls on d. Never blocks, never allocates. */
int ferry_defer_init(ferry_defer *d);

/* Queue node for reclamation: the collector will call fn(node) exactly once.
 * The caller gives up node (and the object around it) until then; node must
 * not already be queued. Misuse aborts with a message: a NULL fn (it would
 * crash the collector later), and pushing the node that is already the
 * newest one queued on d (it would make the collector loop forever); a node
 * queued deeper than that is not detected. d and node must not be NULL.
 * Any number of threads, concurrently with each other and with
 * ferry_defer_collect. Wait-free: one atomic exchange and two stores; no
 * allocation, no lock, no system call. Safe in a real-time section. */
static inline void ferry_defer_push(ferry_defer *d, ferry_defer_node *node,
                                    void (*fn)(ferry_defer_node *node))
{
    if (FERRY_UNLIKELY(!fn))
        ferry__die("ferry_defer_push: NULL fn for node %p", FERRY__SCAST(void *, node));
    node->fn = fn;
    atomic_store_explicit(&node->next, FERRY__DEFER_LINKING, memory_order_relaxed);
    /* acq_rel (the release half matters): publishes fn and the caller's writes to the object (and the
     * LINKING mark) to the collector, whose acquire exchange of head reads
     * this value or a later one in the exchange chain (a release sequence).
     * The acquire half is not needed (we never read through prev) but costs
     * nothing on x86 and keeps the chain of exchanges plainly ordered. */
    ferry_defer_node *prev = atomic_exchange_explicit(&d->head, node, memory_order_acq_rel);
    if (FERRY_UNLIKELY(prev == node))
        ferry__die("ferry_defer_push: node %p is already queued", FERRY__SCAST(void *, node));
    /* Release: pairs with the collector's acquire load of node->next when
     * it finds the LINKING mark replaced. */
    atomic_store_explicit(&node->next, prev, memory_order_release);
}

/* Run fn for every node pushed before this call started (and possibly some
 * pushed while it runs), in push order (exactly push order for the nodes of
 * one thread; across threads, the order their exchanges happened).
 * Returns how many ran. fn may push onto d again (collected next time) or
 * free the node; it must return (a longjmp or pthread_exit out of it
 * loses the rest of the batch, which is off the list by then).
 * Ordinary threads only: may wait briefly (sched_yield) for a pusher that is
 * between its two instructions. Several collectors may run at once (each
 * takes a disjoint batch), but normally one thread collects. Allocates
 * nothing itself. A NULL d collects nothing (returns 0). Not a cancellation
 * point, and cancellation is held off while the functions run (a batch
 * taken off the list is run whole): a request made meanwhile takes effect
 * at the thread's next cancellation point. */
size_t ferry_defer_collect(ferry_defer *d);

/* Whether something is waiting to be collected (false for a NULL d). Any
 * thread, wait-free. */
static inline bool ferry_defer_pending(const ferry_defer *d)
{
    /* Relaxed: a hint; collect does the synchronizing. */
    return d && atomic_load_explicit(&d->head, memory_order_relaxed) != FERRY__NULLPTR;
}

/* Collect what remains and leave d empty. Call when no thread pushes any
 * more; pushes after it belong to the next user of d. A NULL d is a no-op. */
void ferry_defer_fini(ferry_defer *d);   /* (a fn that always re-pushes makes it loop) */

/* ------------------------------------------------------------------------
 * ferry_shared: reference-counted object whose last release from a
 * real-time thread is deferred.
 *
 *     struct wavetable { ferry_shared sh; float data[4096]; };
 *     static void destroy(ferry_shared *s)
 *     { free(ferry_container_of(s, struct wavetable, sh)); }
 *
 *     ferry_shared_init(&w->sh, &garbage, destroy);    // one reference
 *     ferry_shared_acquire(&w->sh);                    // another holder
 *     ferry_shared_release(&w->sh);   // in a real-time section: deferred
 *
 * The counting uses atomic read-modify-writes only, so acquire and release
 * are wait-free and safe in a real-time section.
 */
/* A reference-counted object whose last release defers its destroy to a
 * ferry_defer list (see above); embed it and recover the object with
 * ferry_container_of. */
typedef struct ferry_shared {
    FERRY_ATOMIC(size_t) refs;
    ferry_defer *defer;
    void (*destroy)(struct ferry_shared *s);
    ferry_defer_node node;
} ferry_shared;

/* Start s with one reference. destroy(s) runs when the last reference is
 * released: at once when that release happens outside a real-time section,
 * else on d's collector. Returns 0, or -EINVAL if s, d or destroy is NULL. */
int ferry_shared_init(ferry_shared *s, ferry_defer *d, void (*destroy)(ferry_shared *s));

/* Add a reference; returns s. Any thread, wait-free. Acquiring an object
 * whose count already reached zero is misuse and aborts, and so does an
 * acquire beyond SIZE_MAX references (a leak: 2^32 on a 32-bit machine)
 * rather than wrap the count to zero. */
ferry_shared *ferry_shared_acquire(ferry_shared *s);

/* Drop a reference. The last one destroys s: directly when the calling
 * thread is not in a real-time section (ferry_rt_active() is false), else by
 * ferry_defer_push onto the ferry_defer given to init. Any thread; inside a
 * real-time section wait-free, no allocation, no system call. Releasing more
 * often than acquired aborts. */
void ferry_shared_release(ferry_shared *s);

/* Like ferry_shared_release, but the last release always goes through the
 * ferry_defer, whatever thread calls it (for real-time threads that do not
 * mark their sections). Wait-free, no allocation, no system call. */
void ferry_shared_release_deferred(ferry_shared *s);

/* Current count (a snapshot). The ferry_shared calls other than init do not
 * check for NULL: s must be an initialized object. */
size_t ferry_shared_refs(const ferry_shared *s);

FERRY_EXTERN_C_END

#endif /* FERRY_DEFER_H */
