/* SPDX-License-Identifier: MIT */
/* ferry/rcu_sync.h: phased state change for RCU readers (the kernel's
 * rcu_sync).
 *
 * Readers run a cheap fast path while no updater is active and a slow path
 * (say, taking a lock) while one is. Inside a read-side section a reader
 * asks ferry_rcu_sync_is_idle(): one relaxed load, no barrier. An updater
 * calls ferry_rcu_sync_enter() before its work: it flips the state and
 * waits for a grace period, so when it returns every read-side section
 * that could have seen "idle" has ended, and every section still running
 * or starting sees "not idle". ferry_rcu_sync_exit() ends the updater's
 * work; the state returns to idle only a grace period after the last exit,
 * through the flavor's call (exit never blocks).
 *
 * Guarantee: every read-side section that overlaps an updater's interval
 * [enter returned, exit called] sees "not idle" at every check it makes.
 *
 * Sharing: concurrent enters from idle share one grace period; an enter
 * while another updater is inside, or before the deferred return to idle
 * has happened, waits for no grace period at all. Enter and exit nest as a
 * count (any number of updaters at once; exclusion among them is the
 * caller's business).
 *
 * The default flavor (ferry/rcu.h) or QSBR (ferry/rcu_qsbr.h), chosen at
 * init: readers use that flavor's read-side sections.
 *
 * fork(): the library's fork handlers leave no rcu_sync half-way through
 * a transition or locked in the child, and a return to idle that was
 * queued (not yet running) at the fork runs there too (RCU runs the
 * callbacks a child inherits). One used only by the forking thread (also
 * between its enter and exit), or idle, works in the child. What the child
 * cannot have is another thread's part: an rcu_sync that another thread
 * was inside at the fork (from the start of its enter to the end of its
 * exit, or between them), or whose return to idle was running, stays in
 * that thread's state there (an enter would wait for ever for its grace
 * period, the count keeps its enter, fini waits for ever for its return).
 * A child that may have such a one leaves it alone (no enter, exit, fini,
 * init or free: an inherited return to idle may still use it) and uses a
 * new rcu_sync.
 */
#ifndef FERRY_RCU_SYNC_H
#define FERRY_RCU_SYNC_H

#include <ferry/rcu.h>

#include <pthread.h>

FERRY_EXTERN_C_BEGIN

/* Private. States in order: a reader sees idle only in IDLE. */
enum {
    FERRY__RCU_SYNC_IDLE,
    FERRY__RCU_SYNC_ENTER,    /* first enter waits for its grace period */
    FERRY__RCU_SYNC_PASSED,   /* updaters inside, readers on the slow path */
    FERRY__RCU_SYNC_EXIT,     /* count 0, return to idle queued */
    FERRY__RCU_SYNC_REPLAY,   /* an enter/exit pair ran during EXIT's wait */
};

struct ferry__rcu_sync_ops;

typedef struct ferry_rcu_sync {
    FERRY_ATOMIC(int) state;           /* read by readers */
    unsigned long count;               /* updaters inside; under the library's lock */
    bool queued;                       /* the callback is queued; under that lock */
    bool called;                       /* a callback was ever queued; under that lock */
    pthread_mutex_t lock;              /* unused (one lock serves every rcu_sync) */
    pthread_cond_t passed;             /* unused */
    ferry_rcu_head head;
    const struct ferry__rcu_sync_ops *ops;
} ferry_rcu_sync;

/* Set up rs, idle, for the default flavor / the QSBR flavor. Returns 0, or
 * -EINVAL for NULL. Not while rs is in use. Never blocks or allocates.
 * enter, exit and fini return -EINVAL for an rs that is zero-filled or
 * holds any other bytes that no init wrote (never set up), or that was
 * finished by ferry_rcu_sync_fini (it may be set up again). */
int ferry_rcu_sync_init(ferry_rcu_sync *rs);
int ferry_rcu_sync_init_qsbr(ferry_rcu_sync *rs);

/* True while no updater is inside (and the deferred return to idle has
 * happened). Call inside a read-side section of rs's flavor; see the
 * guarantee above. One load (acquire: a plain load on x86): it pairs with
 * the release store of the return to idle, so a reader that sees idle also
 * sees what the updaters did before their exit. Against enter, the grace
 * period does the ordering (a section that was running when the state left
 * idle ends before enter returns). rs must be initialized. Wait-free. */
static inline bool ferry_rcu_sync_is_idle(const ferry_rcu_sync *rs)
{
    return atomic_load_explicit(&rs->state, memory_order_acquire) == FERRY__RCU_SYNC_IDLE;
}

/* Enter: after it returns, no read-side section that saw "idle" is still
 * running and none will see it until the matching exit (and a grace period
 * more). Blocks for a grace period when the state is idle (concurrent
 * callers share it), else at most until the first enterer's grace period
 * ends. Not inside a read-side section of the default flavor (aborts with a
 * message: it would wait for a grace period that waits for the caller); a
 * QSBR caller inside a ferry_qsbr_read_lock section aborts in FERRY_DEBUG
 * builds (otherwise it goes offline as below). QSBR: an online caller goes offline for the call and comes
 * back online. Returns 0, or -EINVAL for NULL. Never allocates. Not a
 * cancellation point: a pthread_cancel that arrives while it waits takes
 * effect at the caller's next cancellation point, after it returned. */
int ferry_rcu_sync_enter(ferry_rcu_sync *rs);

/* Exit: the last exit queues the return to idle, a grace period later, with
 * the flavor's call. Never blocks (a mutex held briefly), never allocates;
 * any thread, also inside a read-side section. Returns 0, -EINVAL for NULL,
 * -EPERM when no enter is outstanding (nothing changes). */
int ferry_rcu_sync_exit(ferry_rcu_sync *rs);

/* Tear down: waits for a queued return to idle (the flavor's barrier: not
 * inside a read-side section nor from an RCU callback). Returns 0, -EINVAL
 * for NULL, -EBUSY while an enter is outstanding (nothing changes). */
int ferry_rcu_sync_fini(ferry_rcu_sync *rs);

FERRY_EXTERN_C_END

#endif /* FERRY_RCU_SYNC_H */
