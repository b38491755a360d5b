/* SPDX-License-Identifier: MIT */
/* Phased state change for RCU readers (ferry/rcu_sync.h).
 *
 * State machine, all transitions under sync_lock (readers only load state):
 *
 *   IDLE   --enter (count 0->1)-->  ENTER: the enterer waits for a grace
 *                                   period with the lock dropped; others
 *                                   that arrive wait on `passed`
 *   ENTER  --grace period over-->   PASSED (broadcast `passed`)
 *   PASSED --exit (count 1->0)-->   EXIT, callback queued (after a grace
 *                                   period)
 *   EXIT   --enter-->               stays EXIT (no wait: readers never saw
 *                                   idle since), count > 0
 *   EXIT   --exit (count 1->0)-->   REPLAY: the queued grace period began
 *                                   before this updater's interval ended,
 *                                   so it does not cover it
 *   callback: count > 0 -> PASSED; REPLAY -> EXIT, queued again;
 *             else -> IDLE
 *
 * Why the guarantee of the header holds: a read-side section that overlaps
 * [enter returned, exit called] began after the store that left IDLE was
 * made, since enter's grace period waited for every section older than it,
 * so its loads see "not idle" (the grace period's barriers order the store
 * before the sections it does not wait for). It ends before the return to
 * IDLE: that happens in a callback whose grace period began after the last
 * exit (REPLAY re-queues when an exit came after the grace period began),
 * so the grace period waits for the section.
 *
 * Locking and fork(): one lock for every rcu_sync, sync_lock, and one
 * condition variable, sync_passed (enterers waiting for another enterer's
 * grace period wait there and look at their own rs when woken). Nothing
 * blocks while holding sync_lock: the flavor's call is made after it is
 * released (exit, and the callback's REPLAY), because it may have to start
 * a callback thread, which takes RCU's locks, which a thread that called
 * ferry_rcu_before_fork holds across the fork. So our prepare handler can
 * take sync_lock (registered at the first init, after RCU's handlers, it
 * runs before RCU's prepare): no rcu_sync crosses the fork half-way
 * through a transition, and no child is left with the lock held by a
 * thread it does not have -- which would hang the child's callback thread
 * in an inherited return to idle, and every barrier behind it. The child
 * handler releases the lock and makes the condition variable new (its
 * waiters are the parent's threads). The rcu_sync's own lock and passed
 * fields are no longer used (they keep the struct's layout). What fork
 * cannot give the child is another thread's part in a state (an enter
 * waiting for its grace period, an updater inside, a return to idle
 * running): ferry/rcu_sync.h says what the child does then.
 */
#include <ferry/rcu_sync.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "rt_block.h"

struct ferry__rcu_sync_ops {
    void (*synchronize)(void);
    void (*call)(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *));
    void (*barrier)(void);
    bool (*reading)(void);   /* debug: inside a read-side section */
    /* QSBR: an enterer that blocks (on another enterer's grace period)
     * must not be online, or it holds that grace period up forever. */
    bool (*offline)(void);   /* go offline if online; true if it did */
    void (*online)(void);
};

static void memb_sync(void) { ferry_rcu_synchronize(); }
static void memb_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_rcu_call(h, fn); }
static void memb_barrier(void) { ferry_rcu_barrier(); }
static bool memb_reading(void) { return ferry_rcu_read_ongoing(); }
static void qsbr_sync(void) { ferry_qsbr_synchronize(); }
static void qsbr_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_qsbr_call(h, fn); }
static void qsbr_barrier(void) { ferry_qsbr_barrier(); }

static bool qsbr_offline(void)
{
    if (!ferry_qsbr_read_ongoing())
        return false;   /* offline or not registered */
    /* FERRY_DEBUG: aborts inside a ferry_qsbr_read_lock section. */
    ferry_qsbr_thread_offline();
    return true;
}

static void qsbr_online(void) { ferry_qsbr_thread_online(); }

static const struct ferry__rcu_sync_ops memb_ops = {
    memb_sync, memb_call, memb_barrier, memb_reading, NULL, NULL,
};
static const struct ferry__rcu_sync_ops qsbr_ops = {
    qsbr_sync, qsbr_call, qsbr_barrier, NULL, qsbr_offline, qsbr_online,
};

static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_passed = PTHREAD_COND_INITIALIZER;   /* a state reached PASSED */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&sync_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&sync_lock);
}

static void fork_child(void)
{
    /* Unlocked, not re-initialized: a callback thread that RCU's child
     * handler (which runs before ours) restarted may already wait for it. */
    pthread_mutex_unlock(&sync_lock);
    pthread_cond_init(&sync_passed, NULL);
}

static void fork_register(void)
{
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
        ferry__die("pthread_atfork failed: ferry_rcu_sync would not survive fork");
}

/* Set up by init and not finished: its ops is one of ours. NULL (zero-filled,
 * finished) or any other value (memory never set up, filled with a pattern)
 * is not, and is never called through. */
static bool set_up(const ferry_rcu_sync *rs)
{
    return rs && (rs->ops == &memb_ops || rs->ops == &qsbr_ops);
}

static int init(ferry_rcu_sync *rs, const struct ferry__rcu_sync_ops *ops)
{
    if (!rs)
        return -EINVAL;
    pthread_once(&fork_once, fork_register);
    memset(&rs->head, 0, sizeof rs->head);
    atomic_init(&rs->state, FERRY__RCU_SYNC_IDLE);
    rs->count = 0;
    rs->queued = false;
    rs->called = false;
    rs->ops = ops;
    return 0;
}

int ferry_rcu_sync_init(ferry_rcu_sync *rs)
{
    return init(rs, &memb_ops);
}

int ferry_rcu_sync_init_qsbr(ferry_rcu_sync *rs)
{
    return init(rs, &qsbr_ops);
}

/* Only sync_lock holders store the state; readers load it. */
static void set_state(ferry_rcu_sync *rs, int s)
{
    /* Release: a reader that loads IDLE (acquire, ferry_rcu_sync_is_idle)
     * sees what the updaters did before their exits (which precede this
     * store through sync_lock). For the other states the grace period in
     * enter does the ordering. */
    atomic_store_explicit(&rs->state, s, memory_order_release);
}

static int get_state(ferry_rcu_sync *rs)
{
    /* Relaxed: under sync_lock, which orders every store. */
    return atomic_load_explicit(&rs->state, memory_order_relaxed);
}

static void return_to_idle(ferry_rcu_head *h)
{
    ferry_rcu_sync *rs = ferry_container_of(h, ferry_rcu_sync, head);
    bool again = false;
    pthread_mutex_lock(&sync_lock);
    if (rs->count > 0) {
        /* An updater entered meanwhile: readers stay on the slow path. */
        set_state(rs, FERRY__RCU_SYNC_PASSED);
        rs->queued = false;
    } else if (get_state(rs) == FERRY__RCU_SYNC_REPLAY) {
        /* An exit came after this grace period began: wait one more. */
        set_state(rs, FERRY__RCU_SYNC_EXIT);
        again = true;
    } else {
        set_state(rs, FERRY__RCU_SYNC_IDLE);
        rs->queued = false;
    }
    pthread_mutex_unlock(&sync_lock);
    /* Outside the lock (see the top). Nobody else queues the head
     * meanwhile: it is queued only from PASSED (exit), and only this
     * callback leaves EXIT; queued stays true, so fini waits for it. */
    if (again)
        rs->ops->call(&rs->head, return_to_idle);
}

int ferry_rcu_sync_enter(ferry_rcu_sync *rs)
{
    FERRY__RT_MAY_BLOCK("ferry_rcu_sync_enter");
    if (!set_up(rs))   /* NULL, zero-filled, garbage or finished */
        return -EINVAL;
    /* Always checked (one thread-local load): from inside a section, an
     * enter that shares another enterer's grace period would wait for it
     * while that grace period waits for this section -- a silent hang. */
    if (rs->ops->reading && rs->ops->reading())
        ferry__die("ferry_rcu_sync_enter inside a read-side section (deadlock)");
    /* Not a cancellation point, though pthread_cond_wait below is one: a
     * thread cancelled there would die holding sync_lock (cond_wait takes it
     * back first), and every later call on rs, the enterer whose grace
     * period it waited for, and the flavor's callback thread (the return to
     * idle) would block on it for ever. A pending cancellation acts at the
     * caller's next cancellation point. */
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    /* QSBR: offline for the whole call (it may block on a grace period,
     * ours or another enterer's). */
    bool went_offline = rs->ops->offline && rs->ops->offline();
    pthread_mutex_lock(&sync_lock);
    if (rs->count++ == 0 && get_state(rs) == FERRY__RCU_SYNC_IDLE) {
        set_state(rs, FERRY__RCU_SYNC_ENTER);
        pthread_mutex_unlock(&sync_lock);
        /* Every section that may have seen IDLE ends within this grace
         * period; its barriers make ENTER visible to the sections it does
         * not wait for. */
        rs->ops->synchronize();
        pthread_mutex_lock(&sync_lock);
        set_state(rs, FERRY__RCU_SYNC_PASSED);
        pthread_cond_broadcast(&sync_passed);
    } else {
        /* Another enterer's grace period may be running: share it (the
         * broadcast is for every rcu_sync: look again at ours). */
        while (get_state(rs) == FERRY__RCU_SYNC_ENTER)
            pthread_cond_wait(&sync_passed, &sync_lock);
    }
    pthread_mutex_unlock(&sync_lock);
    if (went_offline)
        rs->ops->online();
    pthread_setcancelstate(cancel_state, NULL);
    return 0;
}

int ferry_rcu_sync_exit(ferry_rcu_sync *rs)
{
    if (!set_up(rs))   /* NULL, zero-filled, garbage or finished */
        return -EINVAL;
    bool queue = false;
    pthread_mutex_lock(&sync_lock);
    if (rs->count == 0) {
        pthread_mutex_unlock(&sync_lock);
        return -EPERM;
    }
    if (--rs->count == 0) {
        int s = get_state(rs);
        if (s == FERRY__RCU_SYNC_PASSED) {
            set_state(rs, FERRY__RCU_SYNC_EXIT);
            rs->queued = true;
            rs->called = true;
            queue = true;
        } else if (s == FERRY__RCU_SYNC_EXIT) {
            set_state(rs, FERRY__RCU_SYNC_REPLAY);
        }
    }
    pthread_mutex_unlock(&sync_lock);
    /* Outside the lock (see the top). Nobody else queues the head
     * meanwhile: only the callback leaves EXIT, and it is not queued yet;
     * queued is already true, so fini waits for it. */
    if (queue)
        rs->ops->call(&rs->head, return_to_idle);
    return 0;
}

int ferry_rcu_sync_fini(ferry_rcu_sync *rs)
{
    if (!set_up(rs))   /* NULL, zero-filled, garbage or finished */
        return -EINVAL;
    pthread_mutex_lock(&sync_lock);
    if (rs->count > 0) {
        pthread_mutex_unlock(&sync_lock);
        return -EBUSY;
    }
    bool called = rs->called;
    pthread_mutex_unlock(&sync_lock);
    /* A callback that was ever queued may still be running (even after it
     * set queued = false it still unlocks sync_lock): wait until it has
     * returned. It may queue itself once more (REPLAY): loop. */
    bool queued = called;
    while (queued) {
        rs->ops->barrier();
        pthread_mutex_lock(&sync_lock);
        queued = rs->queued;
        pthread_mutex_unlock(&sync_lock);
    }
    rs->ops = NULL;   /* finished: later calls are -EINVAL, not a destroyed mutex */
    return 0;
}
