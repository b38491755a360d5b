/* SPDX-License-Identifier: MIT */
/* ferry/rcu_bp.h: RCU readers without registration ("bp" flavor, after
 * liburcu's "bulletproof" urcu-bp).
 *
 * The read side works in any thread, including threads the program did not
 * create and knows nothing about (library code called from an application's
 * threads): a thread's first ferry_rcu_bp_read_lock() registers it, and it
 * is unregistered when it exits (a thread-specific key's destructor). The
 * sections cost what the default flavor's do plus a thread-local pointer
 * test; the grace period, update-side calls, callback workers and fork
 * handling are the default flavor's (membarrier, two-phase grace period),
 * with ferry_rcu_bp_ names, and a grace period of this flavor waits only
 * for this flavor's readers.
 *
 * Registration on first use takes a lock (with all signals blocked) and may
 * allocate (reader records come from mmap'ed blocks that are reused, never
 * freed); when that fails, the read lock aborts with a message. A thread
 * that wants to see the error instead, or whose first section may be in a
 * signal handler that interrupts RCU code of the same thread, calls
 * ferry_rcu_bp_register_thread() first.
 *
 * A thread that exits inside a section is treated as having left it: its
 * record is released after the section is closed for it (the thread can
 * no longer use what it read). A destructor of the same thread that runs
 * after ferry's and reads again registers the thread again for the next
 * round of destructors; after ferry's last round there is none to do
 * that, and the read lock aborts, saying so.
 *
 * Debug checks: unlock without lock and nesting deeper than 2^32 - 1 levels
 * (always), synchronize or barrier inside a section (always), and
 * ferry_rcu_dereference outside any section of any flavor (FERRY_DEBUG).
 */
#ifndef FERRY_RCU_BP_H
#define FERRY_RCU_BP_H

#include <ferry/rcu.h>

FERRY_EXTERN_C_BEGIN

/* Internals: the thread's reader record (NULL until registered) and the
 * flavor's global grace-period state; the reader barrier (use_fences) is
 * the default flavor's. */
extern __thread FERRY__TLS_IE struct ferry__rcu_reader *ferry__rcu_bp_self;
extern struct ferry__rcu_gp ferry__rcu_bp_gp;
struct ferry__rcu_reader *ferry__rcu_bp_register_slow(void);
__attribute__((noreturn, cold)) void ferry__rcu_bp_die_unbalanced(const char *file, int line);

/* Register the calling thread now (optional: the first read lock does it).
 * Returns 0 (also when already registered), -ENOMEM (no memory for a
 * record, or for the thread-specific value that unregisters the thread at
 * its exit) or -EAGAIN (the process has no thread-specific key left for
 * that, at the flavor's first registration) or -ESRCH (from a
 * thread-specific-data destructor after ferry's last run, see
 * ferry_rcu_register_thread: nothing would release the record); the
 * thread is then not registered. Blocks briefly (a lock); may allocate. */
int ferry_rcu_bp_register_thread(void);

/* Unregister the calling thread now (optional: thread exit does it). A
 * later read lock registers it again. No-op when not registered; aborts
 * inside a read-side section, and from a ferry_rcu_bp callback (its thread
 * is registered by RCU). */
void ferry_rcu_bp_unregister_thread(void);

/* Begin a read-side section: nestable, wait-free once the thread is
 * registered (registration: see above), no system call. */
static inline void (ferry_rcu_bp_read_lock)(void)
{
    struct ferry__rcu_reader *r = ferry__rcu_bp_self;
    if (FERRY_UNLIKELY(!r))
        r = ferry__rcu_bp_register_slow();
    ferry__rcu_ctr_lock(&r->ctr, &ferry__rcu_bp_gp);
}

static inline void ferry__rcu_bp_read_unlock_at(const char *file, int line)
{
    struct ferry__rcu_reader *r = ferry__rcu_bp_self;
    if (FERRY_UNLIKELY(!r || !ferry__rcu_ctr_unlock(&r->ctr, &ferry__rcu_bp_gp)))
        ferry__rcu_bp_die_unbalanced(file, line);
}

/* End a read-side section. Wait-free. Aborts without a matching lock. */
static inline void (ferry_rcu_bp_read_unlock)(void)
{
    ferry__rcu_bp_read_unlock_at(FERRY__NULLPTR, 0);
}
#define ferry_rcu_bp_read_unlock() ferry__rcu_bp_read_unlock_at(__FILE__, __LINE__)

/* True if the calling thread is inside a bp read-side section. */
static inline bool ferry_rcu_bp_read_ongoing(void)
{
    struct ferry__rcu_reader *r = ferry__rcu_bp_self;
    return r && (atomic_load_explicit(&r->ctr, memory_order_relaxed) & FERRY__RCU_NEST_MASK) != 0;
}

/* Update side: as the ferry_rcu_ calls of ferry/rcu.h, for this flavor's
 * readers (own grace periods, own callback workers). */
void ferry_rcu_bp_synchronize_at(const char *file, int line);
#define ferry_rcu_bp_synchronize() ferry_rcu_bp_synchronize_at(__FILE__, __LINE__)
void ferry_rcu_bp_call_at(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *head),
                          const char *file, int line);
#define ferry_rcu_bp_call(head, fn) ferry_rcu_bp_call_at((head), (fn), __FILE__, __LINE__)
void ferry_rcu_bp_barrier_at(const char *file, int line);
#define ferry_rcu_bp_barrier() ferry_rcu_bp_barrier_at(__FILE__, __LINE__)
unsigned long ferry_rcu_bp_start_poll(void);
bool ferry_rcu_bp_poll(unsigned long cookie);
unsigned long ferry_rcu_bp_gp_count(void);

/* Callback workers: as ferry_rcu_worker_create, ferry_rcu_worker_destroy,
 * ferry_rcu_set_thread_worker, ferry_rcu_get_thread_worker,
 * ferry_rcu_create_cpu_workers and ferry_rcu_get_cpu_worker of ferry/rcu.h,
 * for this flavor's callbacks. */
int ferry_rcu_bp_worker_create(ferry_rcu_worker **out, int cpu);
int ferry_rcu_bp_worker_destroy(ferry_rcu_worker *w);
int ferry_rcu_bp_set_thread_worker(ferry_rcu_worker *w);
ferry_rcu_worker *ferry_rcu_bp_get_thread_worker(void);
int ferry_rcu_bp_create_cpu_workers(void);
ferry_rcu_worker *ferry_rcu_bp_get_cpu_worker(int cpu);

/* Readers registered in this flavor right now (statistics, tests). */
unsigned long ferry_rcu_bp_registered_threads(void);

FERRY_EXTERN_C_END

#endif /* FERRY_RCU_BP_H */
