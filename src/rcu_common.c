/* Code shared by the RCU flavors: registry, reader scan, grace-period
 * sharing, polling, and the call_rcu worker (see rcu_common.h). */
#include "rcu_common.h"

#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "futex.h"
#include "platform.h"

bool ferry__rcu_strict;

__attribute__((constructor)) static void rcu_common_init(void)
{
    const char *s = getenv("FERRY_RCU_STRICT");
    ferry__rcu_strict = s && *s && strcmp(s, "0") != 0;
}

static inline const char *site_file(const char *file)
{
    return file ? file : "(unknown call site)";
}

/* ------------------------------------------------------------------------ */
/* Debug checks reachable from the public headers.                          */

void ferry__rcu_die_unbalanced(const char *file, int line)
{
    ferry__die_at(site_file(file), line,
                  "ferry_rcu_read_unlock without a matching ferry_rcu_read_lock");
}

void ferry__rcu_check_lock(const char *file, int line)
{
    if (FERRY_UNLIKELY(!ferry__rcu_reader.registered))
        ferry__die_at(site_file(file), line,
                      "ferry_rcu_read_lock in a thread that is not registered "
                      "(call ferry_rcu_register_thread first)");
}

void ferry__rcu_check_deref(const char *file, int line)
{
    if (FERRY_UNLIKELY(!ferry_rcu_read_ongoing() &&
                       atomic_load_explicit(&ferry__qsbr_reader.ctr, memory_order_relaxed) == 0))
        ferry__die_at(site_file(file), line,
                      "ferry_rcu_dereference outside a read-side section "
                      "(use ferry_rcu_dereference_protected on the update side)");
}

void ferry__rcu_check_not_reading(struct ferry__rcu_flavor *f, const char *what,
                                  const char *file, int line)
{
    if (FERRY_UNLIKELY(f->in_read_section()))
        ferry__die_at(site_file(file), line, "%s inside a %s read-side section (deadlock)",
                      what, f->name);
}

/* ------------------------------------------------------------------------ */
/* Registry.                                                                 */

/* A thread that exits while registered would leave a dangling node in the
 * registry: a thread-specific key's destructor unregisters it (or aborts if
 * it exits inside a read-side section). */
static void arm_exit_key(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r)
{
    /* Acquire pairs with the release below (the key exists). */
    if (!atomic_load_explicit(&f->exit_key_ready, memory_order_acquire)) {
        pthread_mutex_lock(&f->worker_lock);
        if (!atomic_load_explicit(&f->exit_key_ready, memory_order_relaxed)) {
            int rc = pthread_key_create(&f->exit_key, f->thread_exit);
            if (rc != 0)
                ferry__die("%s_register_thread: pthread_key_create: %s", f->name, strerror(rc));
            atomic_store_explicit(&f->exit_key_ready, 1, memory_order_release);
        }
        pthread_mutex_unlock(&f->worker_lock);
    }
    pthread_setspecific(f->exit_key, r);
}

void ferry__rcu_register(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r)
{
    if (FERRY_UNLIKELY(r->registered))
        ferry__die("%s_register_thread: thread already registered", f->name);
    arm_exit_key(f, r);
    pthread_mutex_lock(&f->registry_lock);
    ferry_list_add_tail(&f->registry, &r->node);
    r->registered = true;
    pthread_mutex_unlock(&f->registry_lock);
}

void ferry__rcu_unregister(struct ferry__rcu_flavor *f, struct ferry__rcu_reader *r)
{
    if (FERRY_UNLIKELY(!r->registered))
        ferry__die("%s_unregister_thread: thread is not registered", f->name);
    pthread_mutex_lock(&f->registry_lock);
    /* The node may sit on a scan's private list; unlinking works there too. */
    ferry_list_del(&r->node);
    r->registered = false;
    pthread_mutex_unlock(&f->registry_lock);
    pthread_setspecific(f->exit_key, NULL);
}

/* ------------------------------------------------------------------------ */
/* Waiting for readers.                                                      */

/* Busy scans before sleeping on the futex (principle 8: bounded spinning). */
#define ACTIVE_ATTEMPTS 100

void ferry__rcu_wake_up_gp(struct ferry__rcu_gp *gp)
{
    /* A reader saw futex == 1 after its counter update; the updater sleeps
     * (or is about to) and re-scans once woken. */
    if (atomic_exchange_explicit(&gp->futex, 0, memory_order_seq_cst) != 0)
        ferry__futex_wake(&gp->futex, 1);
}

static void wait_gp(struct ferry__rcu_flavor *f)
{
    /* Orders the scan's counter loads before the futex re-check (pairs with
     * readers' barrier between their counter store and futex load). */
    f->mb_master();
    while (atomic_load_explicit(&f->gp->futex, memory_order_seq_cst) == 1) {
        int rc = ferry__futex_wait(&f->gp->futex, 1, NULL);
        if (rc == -EAGAIN || rc == 0)
            break;
    }
}

void ferry__rcu_wait_for_readers(struct ferry__rcu_flavor *f, ferry_list *input,
                                 ferry_list *cur_snap, ferry_list *qs)
{
    unsigned attempts = 0;
    for (;;) {
        bool sleep = attempts >= ACTIVE_ATTEMPTS;
        if (sleep) {
            /* Ask readers to wake us: store the flag, then a barrier so that
             * a reader either sees it or its counter update is seen below. */
            atomic_store_explicit(&f->gp->futex, 1, memory_order_seq_cst);
            f->mb_master();
        }
        unsigned long gp_ctr = atomic_load_explicit(&f->gp->ctr, memory_order_relaxed);
        ferry_list_for_each_safe(pos, input) {
            struct ferry__rcu_reader *r = ferry_container_of(pos, struct ferry__rcu_reader, node);
            /* Acquire pairs with the reader's counter store (seq_cst under
             * TSan; otherwise ordered by mb_master / the reader's barrier). */
            unsigned long v = atomic_load_explicit(&r->ctr, memory_order_acquire);
            switch (f->state(gp_ctr, v)) {
            case FERRY__RCU_CURRENT:
                if (cur_snap) {
                    ferry_list_move_tail(cur_snap, pos);
                    break;
                }
                /* fall through */
            case FERRY__RCU_INACTIVE:
                ferry_list_move_tail(qs, pos);
                break;
            case FERRY__RCU_OLD:
                break;
            }
        }
        if (ferry_list_empty(input)) {
            if (sleep) {
                f->mb_master();
                atomic_store_explicit(&f->gp->futex, 0, memory_order_relaxed);
            }
            return;
        }
        if (sleep) {
            pthread_mutex_unlock(&f->registry_lock);
            wait_gp(f);
            pthread_mutex_lock(&f->registry_lock);
        } else {
            attempts++;
            ferry__cpu_relax();
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Synchronize: concurrent callers share grace periods.                     */

struct gp_waiter {
    ferry_list node;
    FERRY_ATOMIC(uint32_t) done;
};

/* One grace period; gp_lock held. */
static void run_one_gp(struct ferry__rcu_flavor *f)
{
    unsigned long s = atomic_load_explicit(&f->gp_seq, memory_order_relaxed);
    atomic_store_explicit(&f->gp_seq, s + 1, memory_order_relaxed);
    f->run_gp(f);
    /* Release pairs with ferry__rcu_poll's acquire: a poller that sees the
     * grace period over also sees what the scan acquired from readers. */
    atomic_store_explicit(&f->gp_seq, s + 2, memory_order_release);
}

void ferry__rcu_synchronize(struct ferry__rcu_flavor *f)
{
    struct gp_waiter w;
    atomic_store_explicit(&w.done, 0, memory_order_relaxed);

    pthread_mutex_lock(&f->waiters_lock);
    bool leader = ferry_list_empty(&f->waiters);
    ferry_list_add_tail(&f->waiters, &w.node);
    pthread_mutex_unlock(&f->waiters_lock);

    if (!leader) {
        /* The first waiter in the queue takes the whole queue once it owns
         * gp_lock, i.e. before its grace period starts, so that grace period
         * began after we queued. Acquire pairs with the leader's release. */
        while (atomic_load_explicit(&w.done, memory_order_acquire) == 0)
            ferry__futex_wait(&w.done, 0, NULL);
        return;
    }

    pthread_mutex_lock(&f->gp_lock);
    ferry_list batch = { 0 };
    pthread_mutex_lock(&f->waiters_lock);
    ferry_list_splice_tail(&batch, &f->waiters);
    pthread_mutex_unlock(&f->waiters_lock);

    run_one_gp(f);
    pthread_mutex_unlock(&f->gp_lock);

    /* Wake the others. The _safe iteration reads a node's successor before
     * its owner is released (it may return and reuse its stack at once). */
    ferry_list_for_each_safe(pos, &batch) {
        struct gp_waiter *o = ferry_container_of(pos, struct gp_waiter, node);
        if (o == &w)
            continue;
        /* Release pairs with the waiter's acquire load of done. */
        atomic_store_explicit(&o->done, 1, memory_order_release);
        ferry__futex_wake(&o->done, 1);
    }
}

/* ------------------------------------------------------------------------ */
/* Polling.                                                                  */

static void worker_kick(struct ferry__rcu_flavor *f);
static void worker_start(struct ferry__rcu_flavor *f);

unsigned long ferry__rcu_start_poll(struct ferry__rcu_flavor *f)
{
    /* Orders the caller's removal before reading gp_seq: a grace period the
     * cookie counts starts after this fence (its mb_master follows it). */
    atomic_thread_fence(memory_order_seq_cst);
    unsigned long s = atomic_load_explicit(&f->gp_seq, memory_order_acquire);
    /* Idle (even): the next grace period, ending at s + 2. Running (odd):
     * it may have begun before the removal; wait for the next, s + 3. */
    unsigned long cookie = (s + 3) & ~1UL;
    unsigned long t = atomic_load_explicit(&f->poll_target, memory_order_relaxed);
    /* seq_cst: the Dekker pair of the worker's sleep (it stores SLEEPING,
     * then checks poll_target; we store poll_target, then check its state). */
    while ((long)(cookie - t) > 0 &&
           !atomic_compare_exchange_weak_explicit(&f->poll_target, &t, cookie,
                                                  memory_order_seq_cst, memory_order_relaxed))
        ;
    worker_start(f);
    worker_kick(f);
    return cookie;
}

bool ferry__rcu_poll(struct ferry__rcu_flavor *f, unsigned long cookie)
{
    /* Acquire pairs with the release at the end of run_one_gp. */
    return (long)(atomic_load_explicit(&f->gp_seq, memory_order_acquire) - cookie) >= 0;
}

/* ------------------------------------------------------------------------ */
/* call_rcu worker.                                                          */

#define WORKER_RUNNING 0u
#define WORKER_SLEEPING 1u
#define HEAD_MAGIC ((uintptr_t)0x5a17c0ffee0ddba1ull)

static __thread bool in_worker;

static bool poll_pending(struct ferry__rcu_flavor *f)
{
    unsigned long t = atomic_load_explicit(&f->poll_target, memory_order_seq_cst);
    return (long)(t - atomic_load_explicit(&f->gp_seq, memory_order_relaxed)) > 0;
}

static void run_callbacks(struct ferry__rcu_flavor *f, ferry_rcu_head *list)
{
    /* The stack is newest first: reverse it into queue order. */
    ferry_rcu_head *fifo = NULL;
    while (list) {
        ferry_rcu_head *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    if (!ferry__rcu_strict)
        ferry__rcu_synchronize(f);
    if (f->worker_online)
        f->worker_online(true);
    while (fifo) {
        ferry_rcu_head *next = fifo->next;
        if (ferry__rcu_strict) {
            if (f->worker_online)
                f->worker_online(false);
            ferry__rcu_synchronize(f);
            if (f->worker_online)
                f->worker_online(true);
        }
        fifo->queued = 0;   /* may be queued again from here on */
        fifo->fn(fifo);
        fifo = next;
    }
    if (f->worker_online)
        f->worker_online(false);
}

static void *worker_main(void *arg)
{
    struct ferry__rcu_flavor *f = arg;
    in_worker = true;
    f->worker_init();
    for (;;) {
        /* Acquire pairs with the release of the pushers' CAS: the heads'
         * fields and everything the callers did before are visible. */
        ferry_rcu_head *list = atomic_exchange_explicit(&f->cbs, NULL, memory_order_acquire);
        if (list) {
            run_callbacks(f, list);
            continue;
        }
        if (poll_pending(f)) {
            ferry__rcu_synchronize(f);
            continue;
        }
        /* Sleep. Dekker with pushers: we store SLEEPING then load cbs; they
         * push (seq_cst) then load worker_state. One of us sees the other. */
        atomic_store_explicit(&f->worker_state, WORKER_SLEEPING, memory_order_seq_cst);
        if (atomic_load_explicit(&f->cbs, memory_order_seq_cst) == NULL && !poll_pending(f))
            ferry__futex_wait(&f->worker_state, WORKER_SLEEPING, NULL);
        atomic_store_explicit(&f->worker_state, WORKER_RUNNING, memory_order_relaxed);
    }
    return NULL;
}

static void worker_start(struct ferry__rcu_flavor *f)
{
    /* Acquire pairs with the release below (the thread exists). */
    if (FERRY_LIKELY(atomic_load_explicit(&f->worker_started, memory_order_acquire)))
        return;
    pthread_mutex_lock(&f->worker_lock);
    if (!atomic_load_explicit(&f->worker_started, memory_order_relaxed)) {
        pthread_attr_t attr;
        pthread_t tid;
        sigset_t all, old;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);   /* the worker takes no signals */
        int rc = pthread_create(&tid, &attr, worker_main, f);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (rc != 0)
            ferry__die("%s: cannot start the callback thread: %s", f->name, strerror(rc));
        atomic_store_explicit(&f->worker_started, 1, memory_order_release);
    }
    pthread_mutex_unlock(&f->worker_lock);
}

static void worker_kick(struct ferry__rcu_flavor *f)
{
    /* seq_cst: the Dekker pair of the worker's sleep (see worker_main). */
    if (atomic_load_explicit(&f->worker_state, memory_order_seq_cst) == WORKER_SLEEPING &&
        atomic_exchange_explicit(&f->worker_state, WORKER_RUNNING, memory_order_seq_cst) ==
            WORKER_SLEEPING)
        ferry__futex_wake(&f->worker_state, 1);
}

void ferry__rcu_call(struct ferry__rcu_flavor *f, ferry_rcu_head *head,
                     void (*fn)(ferry_rcu_head *), const char *file, int line)
{
    uintptr_t mark = (uintptr_t)head ^ HEAD_MAGIC;
    if (FERRY_UNLIKELY(head->queued == mark))
        ferry__die_at(site_file(file), line,
                      "%s_call: head %p queued twice (its callback has not run yet)",
                      f->name, (void *)head);
    head->queued = mark;
    head->fn = fn;
    worker_start(f);
    ferry_rcu_head *old = atomic_load_explicit(&f->cbs, memory_order_relaxed);
    do {
        head->next = old;
        /* seq_cst (release at least): publishes the head and orders the
         * caller's removal before the worker's grace period. */
    } while (!atomic_compare_exchange_weak_explicit(&f->cbs, &old, head, memory_order_seq_cst,
                                                    memory_order_relaxed));
    worker_kick(f);
}

struct barrier_head {
    ferry_rcu_head head;
    FERRY_ATOMIC(uint32_t) done;
};

static void barrier_cb(ferry_rcu_head *h)
{
    struct barrier_head *b = ferry_container_of(h, struct barrier_head, head);
    /* Release pairs with the barrier caller's acquire. */
    atomic_store_explicit(&b->done, 1, memory_order_release);
    ferry__futex_wake(&b->done, 1);
}

void ferry__rcu_barrier(struct ferry__rcu_flavor *f, const char *file, int line)
{
    if (FERRY_UNLIKELY(in_worker))
        ferry__die_at(site_file(file), line, "%s_barrier called from a callback (deadlock)",
                      f->name);
    if (!atomic_load_explicit(&f->worker_started, memory_order_acquire))
        return;   /* nothing was ever queued */
    struct barrier_head b;
    memset(&b, 0, sizeof b);
    atomic_store_explicit(&b.done, 0, memory_order_relaxed);
    /* Callbacks run in queue order, so ours runs after all earlier ones. */
    ferry__rcu_call(f, &b.head, barrier_cb, file, line);
    while (atomic_load_explicit(&b.done, memory_order_acquire) == 0)
        ferry__futex_wait(&b.done, 0, NULL);
}
