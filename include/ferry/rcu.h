/* SPDX-License-Identifier: MIT */
/* ferry/rcu.h: userspace read-copy update, default ("memb") flavor.
 *
 * Readers bracket their accesses with ferry_rcu_read_lock() /
 * ferry_rcu_read_unlock() (nestable, wait-free, no system call, no atomic
 * read-modify-write: a thread-local counter update and a compiler barrier).
 * Updaters publish a new version of a structure with ferry_rcu_assign_pointer()
 * and, once no reader can still hold the old one, reclaim it: either by
 * waiting with ferry_rcu_synchronize(), by queueing a callback with
 * ferry_rcu_call(), or by polling with ferry_rcu_start_poll()/ferry_rcu_poll().
 *
 * Every thread that reads must first call ferry_rcu_register_thread() and,
 * before it exits, ferry_rcu_unregister_thread() (a thread that exits
 * registered is unregistered for it). Updaters need not register. Readers
 * that cannot register (threads the code did not create): ferry/rcu_bp.h.
 *
 * Callbacks run on worker threads: by default one per flavor with per-CPU
 * push queues; per-CPU workers and workers that threads bind to on request
 * (see "Callback workers" below). fork() is handled automatically: the
 * child can use all of RCU (see "fork()" below).
 *
 * Ordering: the read side issues only compiler barriers; the update side
 * makes every running reader execute a full barrier with
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED). The process registers for it
 * at load time (a constructor); when the kernel lacks it (or under
 * ThreadSanitizer, which cannot see it, or with FERRY_RCU_NO_MEMBARRIER=1 in
 * the environment) readers execute full fences instead, selected by a global
 * flag that is set before main() and never changes afterwards.
 *
 * The grace-period algorithm is liburcu's two-phase flip; docs/rcu.md explains
 * it and models/rcu_gp.pml checks it with spin.
 *
 * Debug checks (FERRY_DEBUG, each aborts naming the call site): a read lock in
 * an unregistered thread, ferry_rcu_dereference() outside any read-side
 * section. Always checked: synchronize, barrier or worker_destroy inside a
 * read-side section, unlock without lock, nesting deeper than 2^32 - 1 levels, the same head
 * queued twice, double register/unregister, a callback that returns inside
 * a read-side section.
 *
 * Strict mode: FERRY_RCU_STRICT=1 in the environment makes grace periods as
 * short as possible: every callback gets its own grace period, run at once.
 */
#ifndef FERRY_RCU_H
#define FERRY_RCU_H

#include <ferry/common.h>
#include <ferry/list.h>

FERRY_EXTERN_C_BEGIN

/* ------------------------------------------------------------------------ */
/* Internals shared by the flavors (rcu.h and rcu_qsbr.h). Not API.           */

#if defined(__SANITIZE_THREAD__)
#define FERRY__RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FERRY__RCU_TSAN 1
#endif
#endif

/* Per-thread reader state, one per flavor, registered in the flavor's list.
 * ctr is the only field other threads read (the grace-period scan). */
struct ferry__rcu_reader {
    FERRY_ATOMIC(unsigned long) ctr;
    unsigned long nest;            /* QSBR: debug read_lock nesting */
    ferry_list node;               /* in the flavor's registry */
    bool registered;
    bool parked;                   /* callback threads between batches */
    bool in_use;                   /* bp: the record belongs to a thread */
};

/* Per-flavor global grace-period state, read by readers. */
struct ferry__rcu_gp {
    FERRY_ATOMIC(unsigned long) ctr;   /* memb: phase bit | 1; qsbr: counter */
    FERRY_ATOMIC(uint32_t) futex;      /* 1 while an updater sleeps on readers */
    FERRY_ATOMIC(int) use_fences;      /* memb: readers run full fences */
};

/* memb: the low half of ctr counts nesting; one bit of the high half is the
 * phase the outermost read_lock copied from the global counter. */
#define FERRY__RCU_NEST_COUNT 1UL
#define FERRY__RCU_NEST_MASK ((1UL << (sizeof(unsigned long) * 4)) - 1)
#define FERRY__RCU_PHASE (1UL << (sizeof(unsigned long) * 4))

extern __thread FERRY__TLS_IE struct ferry__rcu_reader ferry__rcu_reader;
extern struct ferry__rcu_gp ferry__rcu_gp;

void ferry__rcu_wake_up_gp(struct ferry__rcu_gp *gp);
__attribute__((noreturn, cold)) void ferry__rcu_die_unbalanced(const char *file, int line);
void ferry__rcu_check_lock(const char *file, int line);
void ferry__rcu_check_deref(const char *file, int line);

/* Reader-side barrier, paired with the updater's ferry__rcu_mb_master()
 * (membarrier, or a seq_cst fence in fallback mode). */
static inline void ferry__rcu_mb_slave(void)
{
#ifdef FERRY__RCU_TSAN
    atomic_thread_fence(memory_order_seq_cst);
#else
    if (FERRY_UNLIKELY(atomic_load_explicit(&ferry__rcu_gp.use_fences, memory_order_relaxed)))
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Orders of the reader's own counter accesses. Without TSan they are relaxed:
 * the barriers above (and the updater's membarrier) order them. Under TSan
 * they are seq_cst so that the sanitizer sees reader-side accesses happen
 * before the updater's scan (acquire) and thus before the free. */
#ifdef FERRY__RCU_TSAN
#define FERRY__RCU_ORD memory_order_seq_cst
#else
#define FERRY__RCU_ORD memory_order_relaxed
#endif

/* ------------------------------------------------------------------------ */
/* Pointer publication. These work on plain pointer lvalues (`T *p`).        */

/* Load an RCU-protected pointer for use inside a read-side section (of any
 * flavor). Acquire: on x86 and most hardware a plain load (compilers promote
 * memory_order_consume to it anyway); it pairs with the release store of
 * ferry_rcu_assign_pointer(). Debug builds abort, naming the call site, when
 * the calling thread is in no read-side section (memb read lock held, or QSBR
 * thread online). Update-side code that holds the update lock uses
 * ferry_rcu_dereference_protected(); code that only compares the pointer uses
 * ferry_rcu_access_pointer(). */
#define ferry_rcu_dereference_raw(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#ifdef FERRY_DEBUG
#define ferry_rcu_dereference(p) \
    (ferry__rcu_check_deref(__FILE__, __LINE__), ferry_rcu_dereference_raw(p))
#define ferry_rcu_dereference_protected(p, cond)                                  \
    ((cond) ? (void)0                                                           \
            : ferry__die_at(__FILE__, __LINE__,                                 \
                            "ferry_rcu_dereference_protected(%s): condition '%s' is false", \
                            #p, #cond),                                         \
     __atomic_load_n(&(p), __ATOMIC_RELAXED))
#else
#define ferry_rcu_dereference(p) ferry_rcu_dereference_raw(p)
#define ferry_rcu_dereference_protected(p, cond) \
    ((void)sizeof(cond), __atomic_load_n(&(p), __ATOMIC_RELAXED))
#endif
/* The pointer's value, not to be dereferenced (e.g. to compare with NULL). */
#define ferry_rcu_access_pointer(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)

/* Publish v in p: a release store, so that a reader that loads v with
 * ferry_rcu_dereference() sees v's contents as initialized before. */
#define ferry_rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

/* Publish v in *pp and return the old value: an acq_rel exchange (release
 * pairs with readers' dereference, acquire with the previous publisher). */
#define ferry_rcu_xchg_pointer(pp, v) __atomic_exchange_n((pp), (v), __ATOMIC_ACQ_REL)

/* Compare-and-exchange publication: stores v if *pp == old, returns the value
 * that was in *pp (== old on success). */
#define ferry_rcu_cmpxchg_pointer(pp, old, v)                                   \
    __extension__({                                                            \
        __typeof__(*(pp)) ferry__old = (old);                                  \
        __atomic_compare_exchange_n((pp), &ferry__old, (v), false,             \
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);       \
        ferry__old;                                                            \
    })

/* ------------------------------------------------------------------------ */
/* Callback heads (shared by the flavors).                                    */

/* Embed in the object to reclaim. Need not be initialized before
 * ferry_rcu_call(); must stay valid until its callback runs. */
typedef struct ferry_rcu_head {
    struct ferry_rcu_head *next;
    void (*fn)(struct ferry_rcu_head *head);
    uintptr_t queued;          /* queued-twice check: address ^ magic ^ fork generation while queued */
} ferry_rcu_head;

/* ------------------------------------------------------------------------ */
/* Default flavor API.                                                        */

/* Make the calling thread a reader (and let callbacks know it). Must be
 * called before the thread's first read lock; aborts if already registered.
 * Takes a lock; may block briefly behind a running grace-period scan. May
 * allocate (the thread-specific value that unregisters the thread at its
 * exit, in a process with more than 32 keys): aborts, saying so, when that
 * fails, as a thread registered without it would leave a dangling record
 * behind at its exit. From a thread-specific-data destructor: a
 * registration is undone by ferry's destructor in the next round of
 * destructors; ferry's runs in every round but the C library's last
 * (PTHREAD_DESTRUCTOR_ITERATIONS, 4 in glibc: the last is left to sanitizer
 * runtimes), and a registration after its last run aborts, saying so (see
 * docs/rcu.md, "The thread-exit destructor"). */
void ferry_rcu_register_thread(void);

/* Remove the calling thread from the readers. Aborts if it is not registered
 * or is inside a read-side section, and from a callback of this flavor (the
 * callback thread is registered by RCU, not by the callback). Call before
 * the thread exits. */
void ferry_rcu_unregister_thread(void);

/* The counter updates of read_lock / read_unlock, shared by the memb and bp
 * flavors (ctr: the thread's counter, gp: the flavor's global state). They
 * take the counter's address rather than the record's: GCC's UBSan takes a
 * member access through a pointer to a thread-local object for a null one. */
static inline void ferry__rcu_ctr_lock(FERRY_ATOMIC(unsigned long) *ctr, struct ferry__rcu_gp *gp)
{
    unsigned long tmp = atomic_load_explicit(ctr, memory_order_relaxed);
    if (FERRY_LIKELY(!(tmp & FERRY__RCU_NEST_MASK))) {
        /* Outermost: snapshot the phase (and a nest count of 1). */
        atomic_store_explicit(ctr, atomic_load_explicit(&gp->ctr, FERRY__RCU_ORD), FERRY__RCU_ORD);
        /* Orders the counter store before the section's loads; pairs with
         * the updater's mb_master between its reader scans. */
        ferry__rcu_mb_slave();
    } else {
        /* One more level would carry into the phase bit and make the thread
         * look outside any section to grace periods. */
        if (FERRY_UNLIKELY((tmp & FERRY__RCU_NEST_MASK) == FERRY__RCU_NEST_MASK))
            ferry__die("RCU read-side sections nested too deep (%lu levels): "
                       "a read lock without its unlock?", FERRY__RCU_NEST_MASK);
        atomic_store_explicit(ctr, tmp + FERRY__RCU_NEST_COUNT, memory_order_relaxed);
    }
}

/* Returns false (and changes nothing) when the thread is in no section. */
static inline bool ferry__rcu_ctr_unlock(FERRY_ATOMIC(unsigned long) *ctr, struct ferry__rcu_gp *gp)
{
    unsigned long tmp = atomic_load_explicit(ctr, memory_order_relaxed);
    if (FERRY_LIKELY((tmp & FERRY__RCU_NEST_MASK) == FERRY__RCU_NEST_COUNT)) {
        /* Outermost: the section's loads happen before the counter store;
         * pairs with the updater's mb_master. */
        ferry__rcu_mb_slave();
        atomic_store_explicit(ctr, tmp - FERRY__RCU_NEST_COUNT, FERRY__RCU_ORD);
        /* Orders the store before the futex check (Dekker with the
         * updater's store of gp.futex followed by mb_master). */
        ferry__rcu_mb_slave();
        if (FERRY_UNLIKELY(atomic_load_explicit(&gp->futex, FERRY__RCU_ORD)))
            ferry__rcu_wake_up_gp(gp);
        return true;
    }
    if (FERRY_UNLIKELY(!(tmp & FERRY__RCU_NEST_MASK)))
        return false;
    atomic_store_explicit(ctr, tmp - FERRY__RCU_NEST_COUNT, memory_order_relaxed);
    return true;
}

/* Begin a read-side section. Nestable, wait-free, never blocks, no system
 * call. Objects reached through ferry_rcu_dereference() stay valid until the
 * matching outermost unlock. FERRY_DEBUG: aborts when the thread is not
 * registered. */
static inline void (ferry_rcu_read_lock)(void)
{
    ferry__rcu_ctr_lock(&ferry__rcu_reader.ctr, &ferry__rcu_gp);
}

static inline void ferry__rcu_read_unlock_at(const char *file, int line)
{
    if (FERRY_UNLIKELY(!ferry__rcu_ctr_unlock(&ferry__rcu_reader.ctr, &ferry__rcu_gp)))
        ferry__rcu_die_unbalanced(file, line);
}

/* End a read-side section. Wait-free (a futex wake when an updater sleeps on
 * this reader). Aborts when the thread holds no read lock. */
static inline void (ferry_rcu_read_unlock)(void)
{
    ferry__rcu_read_unlock_at(FERRY__NULLPTR, 0);
}

#ifdef FERRY_DEBUG
#define ferry_rcu_read_lock() \
    (ferry__rcu_check_lock(__FILE__, __LINE__), (ferry_rcu_read_lock)())
#endif
#define ferry_rcu_read_unlock() ferry__rcu_read_unlock_at(__FILE__, __LINE__)

/* True if the calling thread is inside a read-side section (default flavor). */
static inline bool ferry_rcu_read_ongoing(void)
{
    return (atomic_load_explicit(&ferry__rcu_reader.ctr, memory_order_relaxed) &
            FERRY__RCU_NEST_MASK) != 0;
}

/* Wait until every read-side section that began before the call has ended.
 * Returns at once, without a system call, when no registered thread other
 * than the caller counts as a reader (callback threads count only while
 * running callbacks). Otherwise blocks (spins briefly, then sleeps on a
 * futex); concurrent callers share grace periods. Never allocates. Any
 * thread, registered or not, except inside a read-side section (aborts). */
void ferry_rcu_synchronize_at(const char *file, int line);
#define ferry_rcu_synchronize() ferry_rcu_synchronize_at(__FILE__, __LINE__)
void (ferry_rcu_synchronize)(void);

/* Run fn(head) on a callback worker's thread after a grace period. Never
 * blocks, never allocates (the head is intrusive): a lock-free push on the
 * calling thread's queue and, when the worker's thread sleeps, one futex
 * wake. The default worker's thread is started on first use (the only
 * allocation, and the only failure point: it aborts if it cannot be
 * created). A thread's callbacks run in the order of its calls (see the
 * workers below), on the worker's thread, which is a registered reader
 * while it runs callbacks; a callback must return outside any read-side
 * section it opened (the worker aborts at the end of the batch: a section
 * left open would hold up every later grace period). The worker's thread
 * runs with cancellation disabled (a pthread_cancel of it never acts); a
 * callback must return (no pthread_exit or longjmp out of it). Aborts if head is already queued, or if head or
 * fn is NULL. Any thread, also inside a read-side section, and from a
 * signal handler once the worker's thread has started (a lock-free push
 * and a futex wake; the start takes a lock that the interrupted code of
 * the same thread may hold). */
void ferry_rcu_call_at(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *head),
                       const char *file, int line);
#define ferry_rcu_call(head, fn) ferry_rcu_call_at((head), (fn), __FILE__, __LINE__)
void (ferry_rcu_call)(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *head));

/* Wait until every callback queued (by any thread, on any worker) before the
 * call has run. Blocks. Not inside a read-side section (aborts), nor from
 * a callback (aborts). */
void ferry_rcu_barrier_at(const char *file, int line);
#define ferry_rcu_barrier() ferry_rcu_barrier_at(__FILE__, __LINE__)
void (ferry_rcu_barrier)(void);

/* Polled grace periods. ferry_rcu_start_poll() returns a cookie and makes
 * sure a grace period will start (the default worker's thread runs one if
 * nobody else does); ferry_rcu_poll(cookie) returns true once a full grace
 * period has elapsed since start_poll, after which objects removed before
 * start_poll may be freed. Two ferry_rcu_synchronize calls that begin
 * after start_poll complete the cookie. Neither blocks; any thread, also in
 * a read-side section. The first start_poll starts the default worker's
 * thread (and, as ferry_rcu_call, aborts if it cannot be created). */
unsigned long ferry_rcu_start_poll(void);
bool ferry_rcu_poll(unsigned long cookie);

/* How many grace periods this flavor has completed, counting each
 * synchronize that returned at once for want of readers as one
 * (statistics, tests). */
unsigned long ferry_rcu_gp_count(void);

/* True when the update side uses membarrier (false: readers run fences). */
bool ferry_rcu_uses_membarrier(void);

/* ------------------------------------------------------------------------ */
/* Callback workers (all flavors have the same calls, with their prefix).    */

/* A callback worker: push queues and a thread that runs their callbacks.
 * By default every call goes to the flavor's default worker, whose queues
 * are sharded by CPU (threads on different CPUs never contend on one queue)
 * and whose single thread runs them. A thread's callbacks run in the order
 * of its calls as long as its binding (below) does not change; a barrier
 * orders everything. Each worker runs one grace period per batch it takes.
 * liburcu's names: see docs/rcu.md. */
typedef struct ferry_rcu_worker ferry_rcu_worker;

/* Create a worker with its own queue and thread, pinned to `cpu` (-1: not
 * pinned; pinning is best effort). Bind threads to it with
 * ferry_rcu_set_thread_worker(). Returns 0 and sets *out, or -EINVAL (NULL
 * out, cpu < -1 or too large), -ENOMEM, or the error of pthread_create
 * (negated), with *out set to NULL. Allocates; any thread. */
int ferry_rcu_worker_create(ferry_rcu_worker **out, int cpu);

/* Run what is queued on w, stop its thread and free it. Returns 0, -EINVAL
 * (NULL, the default or a per-CPU worker, a worker of another flavor, one
 * destroyed already -- w is looked up among the flavor's workers, never
 * read through first, until its address is reused by a later create),
 * -EBUSY (a thread is still bound to it, or it is being destroyed), or
 * -EDEADLK (called from one of w's callbacks). Blocks until w's callbacks
 * have run (after a grace period): not inside a read-side section (aborts,
 * as barrier; ferry_qsbr_worker_destroy takes an online caller offline for
 * the call and back online, as ferry_qsbr_barrier); not a cancellation point (a pthread_cancel meanwhile acts at
 * the caller's next one). Not concurrently with a call that binds a thread
 * to w. */
int ferry_rcu_worker_destroy(ferry_rcu_worker *w);

/* Send the calling thread's callbacks to w (NULL: back to the per-CPU or
 * default worker; also when the thread is bound to none). Returns 0, or
 * -EINVAL (w of another flavor, the default worker, being destroyed or
 * destroyed already: looked up, as in destroy), or -ENOMEM / -EAGAIN (the
 * thread-specific value that unbinds the thread at its exit could not be
 * set up; the binding is unchanged), or -ESRCH (from a thread-specific-data
 * destructor after ferry's last run, see ferry_rcu_register_thread: the
 * thread could not be unbound). A bound thread that exits is unbound.
 * Never blocks long; may allocate (that value, in a process with more than
 * 32 thread-specific keys). */
int ferry_rcu_set_thread_worker(ferry_rcu_worker *w);

/* The worker the calling thread is bound to, or NULL. */
ferry_rcu_worker *ferry_rcu_get_thread_worker(void);

/* Create one worker per configured CPU, each pinned to its CPU; from then
 * on threads that are not bound send their callbacks to the worker of the
 * CPU they ran on at their first call. Returns 0 (also when they already
 * exist), -ENOMEM or a pthread_create error (negated; nothing is left
 * behind). They are never destroyed. Allocates; any thread. */
int ferry_rcu_create_cpu_workers(void);

/* The per-CPU worker of `cpu`, or NULL (none created, or cpu out of range). */
ferry_rcu_worker *ferry_rcu_get_cpu_worker(int cpu);

/* ------------------------------------------------------------------------ */
/* fork() (all flavors).                                                      */

/* RCU survives fork() on its own: these three run as pthread_atfork
 * handlers, registered when the library loads. In the child, only the
 * forking thread is a reader (other threads' records are dropped, so a
 * section that another thread was in at the fork does not hold up the
 * child's grace periods), locks and grace-period state are reset, and
 * callback workers get new threads: callbacks that were queued, or taken
 * but not yet started, run in the child too (after a grace period there)
 * as well as in the parent; a callback that was running at the instant of
 * the fork does not run again in the child (a worker whose thread cannot be
 * restarted there gets it at the next call, barrier or destroy that needs
 * it, which abort if it still cannot be started). A call that another
 * thread was making at the fork is in the child or not: its callback runs
 * there if the head was pushed, else not, and then the child may queue
 * that head again. The parent is unaffected.
 *
 * Calling them by hand around fork() is allowed (they nest with the
 * automatic ones, liburcu's pattern ports by renaming), and needed around
 * a fork that skips atfork handlers (_Fork, a raw clone) if the child uses
 * RCU: before_fork() in the parent before it, then after_fork_parent() in
 * the parent or after_fork_child() in the child. Between before_fork()
 * and the fork the calling thread holds RCU's worker locks: a barrier,
 * worker management or a call that has to start a callback thread would
 * wait for itself. The handlers never wait for readers, grace periods,
 * callbacks or calls in progress (only for locks held a few
 * instructions), so fork is safe inside a read-side section and while
 * QSBR threads are online. A callback that forks: in the child its thread
 * goes on as that worker's thread. after_fork_* without before_fork abort.
 * Not handled: a fork from a signal handler that interrupted the same
 * thread inside an update-side call (docs/rcu.md, "Pitfalls"). */
void ferry_rcu_before_fork(void);
void ferry_rcu_after_fork_parent(void);
void ferry_rcu_after_fork_child(void);

FERRY_EXTERN_C_END

#endif /* FERRY_RCU_H */
