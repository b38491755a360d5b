/* SPDX-License-Identifier: MIT */
/* Internal: the parts of RCU shared by the flavors (src/rcu.c, memb;
 * src/rcu_bp.c, bp; src/rcu_qsbr.c, qsbr). rcu_common.c: the reader
 * registry, the reader scan with its futex sleep, the synchronize quick path
 * and grace-period sharing among concurrent callers, polled grace periods.
 * rcu_worker.c: callback workers (call, barrier, per-CPU and bound
 * workers). rcu_fork.c: fork handling. A flavor supplies how to classify a
 * reader's counter, its update-side barrier, how to run one grace period,
 * and how its callback threads take part as readers.
 */
#ifndef FERRY_SRC_RCU_COMMON_H
#define FERRY_SRC_RCU_COMMON_H

#include <ferry/mutex.h>
#include <ferry/rcu.h>
#include <pthread.h>

enum ferry__rcu_state { FERRY__RCU_INACTIVE, FERRY__RCU_CURRENT, FERRY__RCU_OLD };

struct ferry__rcu_gp_waiter;

/* Flavor indexes (thread-local worker bindings). */
enum { FERRY__RCU_MEMB, FERRY__RCU_QSBR, FERRY__RCU_BP, FERRY__RCU_NFLAVORS };

/* A callback push queue: a lock-free LIFO stack of heads, alone on its
 * cache line (pushers on different queues share nothing). */
struct ferry__rcu_queue {
    FERRY_ATOMIC(ferry_rcu_head *) top;
} __attribute__((aligned(FERRY_CACHELINE)));

/* The default worker spreads its pushers over up to this many queues (one
 * per CPU). */
#define FERRY__RCU_MAX_SHARDS 64

/* A callback worker: push queues and the thread that drains them (started on
 * first use). Every flavor has a default worker with one queue per CPU;
 * per-CPU workers and workers created by the user have one queue each. */
struct ferry_rcu_worker {
    /* Read by every caller of call (written once at creation/start). */
    struct ferry__rcu_flavor *f;
    struct ferry__rcu_queue *queues;
    unsigned nq;
    int cpu;                              /* affinity; -1: none */
    FERRY_ATOMIC(int) started;            /* the thread exists */
    bool is_default, is_cpu;

    /* RUNNING or SLEEPING: the Dekker pair between the worker's sleep and
     * pushers' wake-up (see worker_main in rcu_worker.c). */
    FERRY_ATOMIC(uint32_t) state __attribute__((aligned(FERRY_CACHELINE)));

    /* The worker's own (and fork handling's). */
    FERRY_ATOMIC(ferry_rcu_head *) inflight __attribute__((aligned(FERRY_CACHELINE)));
    ferry_mutex take_lock;                /* taking a batch, held across fork */
    FERRY_ATOMIC(int) stopping;           /* destroy: drain, then exit */
    FERRY_ATOMIC(unsigned) nbound;        /* threads bound to this worker */
    pthread_t tid;
    ferry_list node;                      /* in f->workers, by seq */
    unsigned long seq;                    /* order of linking into f->workers */

    struct ferry__rcu_queue own;          /* queues == &own when nq == 1 */
};

struct ferry__rcu_flavor {
    const char *name;                    /* "ferry_rcu", "ferry_qsbr", ... (messages) */
    const char *sync_name, *barrier_name; /* "<name>_synchronize", "<name>_barrier" (rt_block.h) */
    int index;                           /* FERRY__RCU_MEMB, ... */
    struct ferry__rcu_gp *gp;
    /* Classify a reader counter value against the global counter. */
    enum ferry__rcu_state (*state)(unsigned long gp_ctr, unsigned long reader_ctr);
    void (*mb_master)(void);             /* update-side barrier paired with readers' */
    void (*run_gp)(struct ferry__rcu_flavor *f);  /* the scan of one grace period */
    /* The calling thread's reader record, or NULL when it has none. */
    struct ferry__rcu_reader *(*self)(void);
    void (*unregister_self)(void);       /* thread exit while registered */
    /* A callback thread: a reader that counts only while running callbacks
     * (worker_enter(true) .. worker_enter(false)); worker_fini at its exit. */
    void (*worker_init)(void);
    void (*worker_enter)(bool running);
    void (*worker_fini)(void);
    bool (*in_read_section)(void);       /* checks (QSBR: FERRY_DEBUG builds only) */
    void (*fork_child)(void);            /* flavor-specific reset in a child; or NULL */

    ferry_mutex gp_lock;                 /* one grace period at a time */
    ferry_mutex registry_lock;           /* registry and the scan's lists */
    ferry_list registry;                 /* struct ferry__rcu_reader.node */
    /* Registered readers that are not parked: the synchronize quick path
     * returns at once when no other reader counts (proof in rcu_common.c). */
    FERRY_ATOMIC(unsigned long) active __attribute__((aligned(FERRY_CACHELINE)));
    /* synchronize callers waiting for a grace period: a lock-free stack;
     * the caller that finds it empty leads the next grace period. */
    FERRY_ATOMIC(struct ferry__rcu_gp_waiter *) waiters __attribute__((aligned(FERRY_CACHELINE)));
    /* Grace-period sequence: odd while one runs; +2 per grace period. */
    FERRY_ATOMIC(unsigned long) gp_seq __attribute__((aligned(FERRY_CACHELINE)));
    FERRY_ATOMIC(unsigned long) poll_target;  /* gp_seq the default worker must reach */
    FERRY_ATOMIC(unsigned long) quick_gps;    /* statistics: quick-path synchronize calls */

    /* Workers: the default one, the per-CPU ones, those created by users. */
    ferry_mutex worker_lock;             /* the list, starting threads; held across fork */
    ferry_mutex create_lock;             /* one create_cpu_workers at a time */
    ferry_list workers;
    unsigned long worker_seq;
    FERRY_ATOMIC(ferry_rcu_worker **) cpu_workers;  /* NULL until created */
    unsigned ncpu_workers;
    ferry_rcu_worker dflt;
    struct ferry__rcu_queue dflt_queues[FERRY__RCU_MAX_SHARDS];

    FERRY_ATOMIC(int) exit_key_ready;
    pthread_key_t exit_key;              /* thread exit: unregister, unbind */
};

#define FERRY__RCU_FLAVOR_INIT(var, nm, idx, gpp, st, mb, run, slf, unreg, winit, wenter, \
                               wfini, inrs, forkc)                                \
    {                                                                      \
        .dflt = { .f = &(var) },                                           \
        .name = (nm), .sync_name = nm "_synchronize", .barrier_name = nm "_barrier",     \
        .index = (idx), .gp = (gpp), .state = (st), .mb_master = (mb), \
        .run_gp = (run), .self = (slf), .unregister_self = (unreg),        \
        .worker_init = (winit), .worker_enter = (wenter), .worker_fini = (wfini), \
        .in_read_section = (inrs), .fork_child = (forkc),                  \
    }

/* The three flavors (rcu.c, rcu_qsbr.c, rcu_bp.c), for fork handling. */
extern struct ferry__rcu_flavor ferry__rcu_memb, ferry__rcu_qsbr_flavor, ferry__rcu_bp_flavor;

/* FERRY_RCU_STRICT=1: one grace period per callback, no batching. */
extern bool ferry__rcu_strict;
/* Configured CPUs (at least 1), read at load time. */
extern unsigned ferry__rcu_ncpus;

/* Registry. A parked reader is registered but does not count in `active`
 * (callback threads between batches); it must be outside any section.
 * Registering a reader that is not parked first arms the thread-exit
 * destructor: returns 0, or a negative errno when that fails (-ENOMEM,
 * -EAGAIN, -ESRCH; nothing registered). Parked registration always succeeds.
 * register_or_die: the same for a user thread, aborting with a message. */
int ferry__rcu_register(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r, bool parked);
void ferry__rcu_register_or_die(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r);
void ferry__rcu_unregister(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r);
void ferry__rcu_park(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r, bool parked);
/* Arm the flavor's thread-exit destructor for the calling thread. Returns
 * 0, or a negative errno (-EAGAIN: no key left; -ENOMEM; -ESRCH: the thread
 * is exiting and the destructor has run its last round, see rcu_common.c).
 * exited_msg: what -ESRCH means, for messages. */
int ferry__rcu_arm_exit(struct ferry__rcu_flavor *f);
extern const char ferry__rcu_exited_msg[];

/* Scan `input` until no reader in it is OLD: INACTIVE readers move to qs,
 * CURRENT ones to cur_snap (or qs when cur_snap is NULL). Called with
 * registry_lock held; drops it while sleeping. */
void ferry__rcu_wait_for_readers(struct ferry__rcu_flavor *f, ferry_list *input,
                                 ferry_list *cur_snap, ferry_list *qs);

void ferry__rcu_synchronize(struct ferry__rcu_flavor *f);
unsigned long ferry__rcu_start_poll(struct ferry__rcu_flavor *f);
bool ferry__rcu_poll(struct ferry__rcu_flavor *f, unsigned long cookie);
bool ferry__rcu_poll_pending(struct ferry__rcu_flavor *f);
unsigned long ferry__rcu_gp_count(struct ferry__rcu_flavor *f);

/* Callback workers (rcu_worker.c). */
void ferry__rcu_call(struct ferry__rcu_flavor *f, ferry_rcu_head *head,
                     void (*fn)(ferry_rcu_head *), const char *file, int line);
void ferry__rcu_barrier(struct ferry__rcu_flavor *f, const char *file, int line);
void ferry__rcu_kick_default(struct ferry__rcu_flavor *f);   /* a poll is pending */
int ferry__rcu_worker_create(struct ferry__rcu_flavor *f, ferry_rcu_worker **out, int cpu);
int ferry__rcu_worker_destroy(struct ferry__rcu_flavor *f, ferry_rcu_worker *w);
int ferry__rcu_set_thread_worker(struct ferry__rcu_flavor *f, ferry_rcu_worker *w);
ferry_rcu_worker *ferry__rcu_get_thread_worker(struct ferry__rcu_flavor *f);
int ferry__rcu_create_cpu_workers(struct ferry__rcu_flavor *f);
ferry_rcu_worker *ferry__rcu_get_cpu_worker(struct ferry__rcu_flavor *f, int cpu);
void ferry__rcu_thread_exit_workers(struct ferry__rcu_flavor *f);   /* unbind */

/* Fork: rcu_fork.c registers its handlers (from rcu_common.c's
 * constructor) and calls these per flavor. */
void ferry__rcu_fork_init(void);
void ferry__rcu_workers_prepare_fork(struct ferry__rcu_flavor *f);
void ferry__rcu_workers_after_fork_parent(struct ferry__rcu_flavor *f);
void ferry__rcu_workers_after_fork_child(struct ferry__rcu_flavor *f);
/* In the child, before anything else: a new generation of queued marks,
 * then every flavor's heads that are on a queue marked with it (see
 * rcu_worker.c: a head whose call was under way at the fork is not). */
void ferry__rcu_fork_new_generation(void);
void ferry__rcu_workers_remark(struct ferry__rcu_flavor *f);
void ferry__rcu_gp_after_fork_child(struct ferry__rcu_flavor *f);
/* For the hash table's fork handling (rcuhash.c): fn is called early in
 * the child handler (after the queued marks are renewed), while the child
 * has no thread but the forking one, before any worker gets a new thread
 * (so before any callback can start there); set once, before the first
 * fork that needs it. And: was head queued with ferry__rcu_call, its
 * callback not started yet? Read in a child before the workers restart,
 * true means it runs in the child -- provided no call of head was under
 * way in another thread at the fork, or RCU's child handler has renewed
 * the marks already (the mark is set just before the push). */
void ferry__rcu_set_fork_child_hook(void (*fn)(void));
bool ferry__rcu_head_pending(const ferry_rcu_head *head);

/* Abort when the caller is one of f's callback threads: user code there
 * must not unregister it (the worker would go on running callbacks, which
 * may read, unseen by grace periods, and its reader count would go wrong). */
void ferry__rcu_check_not_own_worker(struct ferry__rcu_flavor *f, const char *what);

/* Debug: abort if the caller is inside a read-side section of f. */
void ferry__rcu_check_not_reading(struct ferry__rcu_flavor *f, const char *what,
                                  const char *file, int line);

/* The update-side entry points that are the same for every flavor:
 * polling, statistics and worker management, under the flavor's prefix
 * (but worker_destroy, which waits for a grace period as barrier does:
 * each flavor's file defines it with its read-side rule). */
#define FERRY__RCU_DEFINE_COMMON_API(pfx, fl)                                              \
    unsigned long pfx##_start_poll(void) { return ferry__rcu_start_poll(&(fl)); }        \
    bool pfx##_poll(unsigned long cookie) { return ferry__rcu_poll(&(fl), cookie); }     \
    unsigned long pfx##_gp_count(void) { return ferry__rcu_gp_count(&(fl)); }            \
    int pfx##_worker_create(ferry_rcu_worker **out, int cpu)                              \
    {                                                                                     \
        return ferry__rcu_worker_create(&(fl), out, cpu);                                 \
    }                                                                                     \
    int pfx##_set_thread_worker(ferry_rcu_worker *w)                                      \
    {                                                                                     \
        return ferry__rcu_set_thread_worker(&(fl), w);                                    \
    }                                                                                     \
    ferry_rcu_worker *pfx##_get_thread_worker(void) { return ferry__rcu_get_thread_worker(&(fl)); } \
    int pfx##_create_cpu_workers(void) { return ferry__rcu_create_cpu_workers(&(fl)); }  \
    ferry_rcu_worker *pfx##_get_cpu_worker(int cpu) { return ferry__rcu_get_cpu_worker(&(fl), cpu); }

/* memb and bp share the two-phase grace period and the membarrier barrier
 * (rcu.c). */
void ferry__rcu_mb_master(void);
void ferry__rcu_two_phase_gp(struct ferry__rcu_flavor *f);
enum ferry__rcu_state ferry__rcu_memb_state(unsigned long gp_ctr, unsigned long v);
void ferry__rcu_membarrier_after_fork_child(void);

#endif
