/* SPDX-License-Identifier: MIT */
/* ferry/rcu_qsbr.h: quiescent-state-based RCU ("qsbr" flavor).
 *
 * Readers are free: ferry_qsbr_read_lock()/unlock() generate no code in
 * release builds. Instead each registered thread is "online" and must
 * periodically announce a quiescent state (a point where it holds no
 * reference to RCU-protected data) with ferry_qsbr_quiescent_state(), or go
 * offline around blocking calls with ferry_qsbr_thread_offline() /
 * ferry_qsbr_thread_online(). A grace period ends once every online thread
 * has passed a quiescent state. A thread that neither announces quiescent
 * states nor goes offline stalls every grace period.
 *
 * The update side (synchronize, call, barrier, polling, callback workers,
 * fork handling) has the same semantics and guarantees as in ferry/rcu.h,
 * with ferry_qsbr_ names; heads are the same ferry_rcu_head, and the
 * pointer macros (ferry_rcu_dereference, ferry_rcu_assign_pointer, ...) are
 * shared: a thread that is online counts as inside a read-side section for
 * the debug check.
 *
 * The flavors are independent: their grace periods do not cover each
 * other's readers.
 *
 * Debug checks (FERRY_DEBUG): read_lock in an unregistered or offline
 * thread, quiescent state in an unregistered one (in an offline one it does
 * nothing), unlock without lock, online when already online, quiescent
 * state / offline / synchronize / barrier / unregister inside a read_lock
 * section, a thread that exits inside one: each aborts (naming the call
 * site where there is one). Release builds do not count read_lock
 * sections, so none of these is checked there.
 */
#ifndef FERRY_RCU_QSBR_H
#define FERRY_RCU_QSBR_H

#include <ferry/rcu.h>

FERRY_EXTERN_C_BEGIN

/* Internals. ctr: 0 while offline, else the global counter value of the
 * thread's last quiescent state. The global counter is odd and moves by 2. */
extern __thread FERRY__TLS_IE struct ferry__rcu_reader ferry__qsbr_reader;
extern struct ferry__rcu_gp ferry__qsbr_gp;
void ferry__qsbr_check(const char *what, bool need_online, const char *file, int line);
void ferry__qsbr_die_unbalanced(const char *file, int line);

#ifdef FERRY_DEBUG
#define FERRY__QSBR_CHECK(what, online) ferry__qsbr_check((what), (online), file, line)
#else
#define FERRY__QSBR_CHECK(what, online) ((void)file, (void)line)
#endif

/* Publish a quiescent state (v = the global counter) or going offline
 * (v = 0), and wake an updater sleeping on this thread. */
static inline void ferry__qsbr_publish(unsigned long v)
{
    /* Orders the earlier read-side accesses before the counter store; pairs
     * with the updater's fence after its scan (the store is a release under
     * TSan, which pairs with the scan's acquire). */
    atomic_thread_fence(memory_order_seq_cst);
    atomic_store_explicit(&ferry__qsbr_reader.ctr, v, FERRY__RCU_ORD);
    /* Orders the store before the futex check and later accesses (Dekker
     * with the updater's futex store and fence). */
    atomic_thread_fence(memory_order_seq_cst);
    if (FERRY_UNLIKELY(atomic_load_explicit(&ferry__qsbr_gp.futex, FERRY__RCU_ORD)))
        ferry__rcu_wake_up_gp(&ferry__qsbr_gp);
}

/* Register the calling thread as a reader; it starts online. Aborts if it is
 * already registered. Takes a lock; may block briefly. May allocate, and
 * aborts when that fails, and from a thread-specific-data destructor after
 * ferry's last round of them, as ferry_rcu_register_thread. */
void ferry_qsbr_register_thread(void);

/* Unregister (going offline first). Aborts if not registered, and from a
 * ferry_qsbr callback (its thread is registered by RCU); with FERRY_DEBUG,
 * also inside a read_lock section. */
void ferry_qsbr_unregister_thread(void);

static inline void ferry__qsbr_read_lock_at(const char *file, int line)
{
    FERRY__QSBR_CHECK("ferry_qsbr_read_lock", true);
#ifdef FERRY_DEBUG
    ferry__qsbr_reader.nest++;
#endif
}

static inline void ferry__qsbr_read_unlock_at(const char *file, int line)
{
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(ferry__qsbr_reader.nest == 0))
        ferry__qsbr_die_unbalanced(file, line);
    ferry__qsbr_reader.nest--;
#endif
    (void)file, (void)line;
}

/* Mark a read-side section. No code in release builds (the thread being
 * online is what protects it); debug builds count nesting and check that the
 * thread is registered and online. Never blocks. */
static inline void (ferry_qsbr_read_lock)(void) { ferry__qsbr_read_lock_at(FERRY__NULLPTR, 0); }
static inline void (ferry_qsbr_read_unlock)(void) { ferry__qsbr_read_unlock_at(FERRY__NULLPTR, 0); }
#define ferry_qsbr_read_lock() ferry__qsbr_read_lock_at(__FILE__, __LINE__)
#define ferry_qsbr_read_unlock() ferry__qsbr_read_unlock_at(__FILE__, __LINE__)

/* True while the calling thread is online (may hold RCU references). */
static inline bool ferry_qsbr_read_ongoing(void)
{
    return atomic_load_explicit(&ferry__qsbr_reader.ctr, memory_order_relaxed) != 0;
}

/* Announce a quiescent state: the thread holds no RCU reference now. Cheap
 * when no grace period is waiting (a load and a compare); otherwise two full
 * fences and possibly a futex wake. Wait-free. In an offline thread it does
 * nothing (such a thread is quiescent already, and grace periods do not
 * wait for it): it must not bring the thread online, which would stall
 * every grace period while the thread believes itself offline. That is the
 * case of a signal handler that announces a quiescent state while its
 * thread waits in ferry_qsbr_synchronize or _barrier (which take an online
 * caller offline for the wait) or blocks offline. Async-signal-safe. */
static inline void ferry__qsbr_quiescent_state_at(const char *file, int line)
{
    /* Relaxed: the thread's own word (a signal handler runs on the thread). */
    unsigned long mine = atomic_load_explicit(&ferry__qsbr_reader.ctr, memory_order_relaxed);
    if (mine == 0) {
#ifdef FERRY_DEBUG
        if (FERRY_UNLIKELY(!ferry__qsbr_reader.registered))
            ferry__qsbr_check("ferry_qsbr_quiescent_state", false, file, line);
#endif
        (void)file, (void)line;
        return;
    }
    FERRY__QSBR_CHECK("ferry_qsbr_quiescent_state", true);
    unsigned long g = atomic_load_explicit(&ferry__qsbr_gp.ctr, FERRY__RCU_ORD);
    if (g != mine)
        ferry__qsbr_publish(g);
}
#define ferry_qsbr_quiescent_state() ferry__qsbr_quiescent_state_at(__FILE__, __LINE__)

/* Go offline: the thread holds no RCU reference until it comes back online,
 * and grace periods do not wait for it (call it around blocking calls).
 * Wait-free. */
static inline void ferry__qsbr_thread_offline_at(const char *file, int line)
{
    FERRY__QSBR_CHECK("ferry_qsbr_thread_offline", true);
    ferry__qsbr_publish(0);
}
#define ferry_qsbr_thread_offline() ferry__qsbr_thread_offline_at(__FILE__, __LINE__)

/* Come back online (after ferry_qsbr_thread_offline). Wait-free. */
static inline void ferry__qsbr_thread_online_at(const char *file, int line)
{
    FERRY__QSBR_CHECK("ferry_qsbr_thread_online", false);
    atomic_store_explicit(&ferry__qsbr_reader.ctr, atomic_load_explicit(&ferry__qsbr_gp.ctr, FERRY__RCU_ORD),
                          FERRY__RCU_ORD);
    /* Orders the store before the thread's next RCU loads; pairs with the
     * updater's fence before its scan. */
    atomic_thread_fence(memory_order_seq_cst);
}
#define ferry_qsbr_thread_online() ferry__qsbr_thread_online_at(__FILE__, __LINE__)

/* Wait for a grace period. Blocks; concurrent callers share grace periods.
 * An online caller is taken offline for the wait and brought back. Not
 * inside a read_lock section (FERRY_DEBUG aborts). */
void ferry_qsbr_synchronize_at(const char *file, int line);
#define ferry_qsbr_synchronize() ferry_qsbr_synchronize_at(__FILE__, __LINE__)

/* As ferry_rcu_call, for this flavor (own callback thread). Never blocks,
 * never allocates; aborts when head is already queued. */
void ferry_qsbr_call_at(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *head),
                        const char *file, int line);
#define ferry_qsbr_call(head, fn) ferry_qsbr_call_at((head), (fn), __FILE__, __LINE__)

/* Wait until every callback queued before it has run. Blocks (offline while
 * waiting, as synchronize). Not from a callback nor a read_lock section. */
void ferry_qsbr_barrier_at(const char *file, int line);
#define ferry_qsbr_barrier() ferry_qsbr_barrier_at(__FILE__, __LINE__)

/* Polled grace periods, as ferry_rcu_start_poll / ferry_rcu_poll. */
unsigned long ferry_qsbr_start_poll(void);
bool ferry_qsbr_poll(unsigned long cookie);

/* Completed grace periods of this flavor. */
unsigned long ferry_qsbr_gp_count(void);

/* Callback workers of this flavor, as ferry_rcu_worker_create & co. in
 * ferry/rcu.h. A QSBR worker's thread is online only while it runs
 * callbacks. ferry_qsbr_worker_destroy, which waits for the worker's
 * callbacks (and so for a grace period), takes an online caller offline
 * for the call and back online, as ferry_qsbr_barrier. */
int ferry_qsbr_worker_create(ferry_rcu_worker **out, int cpu);
int ferry_qsbr_worker_destroy(ferry_rcu_worker *w);
int ferry_qsbr_set_thread_worker(ferry_rcu_worker *w);
ferry_rcu_worker *ferry_qsbr_get_thread_worker(void);
int ferry_qsbr_create_cpu_workers(void);
ferry_rcu_worker *ferry_qsbr_get_cpu_worker(int cpu);

FERRY_EXTERN_C_END

#endif /* FERRY_RCU_QSBR_H */
