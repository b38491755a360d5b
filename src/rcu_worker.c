/* SPDX-License-Identifier: MIT */
/* RCU callback workers (see rcu_common.h): ferry_*_call pushes the head on
 * a lock-free stack of the caller's worker and wakes its thread; the thread
 * takes everything queued, waits for one grace period and runs the batch.
 *
 * Which worker: the one the calling thread is bound to
 * (ferry_*_set_thread_worker), else the per-CPU worker of the thread's CPU
 * slot once ferry_*_create_cpu_workers has run, else the flavor's default
 * worker, whose push queues are sharded by CPU slot so that updaters on
 * different CPUs never touch the same cache line. A thread's CPU slot is the
 * CPU it ran on at its first call and never changes, so one thread's
 * callbacks always go to one queue and run in call order.
 *
 * Fork: workers are paused at batch boundaries by nothing: fork handling
 * (rcu_fork.c) holds worker_lock and every take_lock across fork(), so in
 * the child each worker's callbacks are either still in its queues or
 * recorded in `inflight` (taken, not yet started), and a new thread is
 * started for every worker that has any.
 */
#include "rcu_common.h"
#include "platform.h"
#include "rt_block.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "futex.h"

#define WORKER_RUNNING 0u
#define WORKER_SLEEPING 1u
#define HEAD_MAGIC ((uintptr_t)0x5a17c0ffee0ddba1ull)

/* The queued-twice mark of a head: its address ^ magic ^ the fork
 * generation, which a fork child's handler bumps (before any other thread
 * exists there) and then re-marks every head that is really on one of its
 * queues (ferry__rcu_workers_remark). A head whose call was under way in another
 * thread at the fork -- marked, not yet pushed: the mark is stored before
 * the push -- keeps the old generation's mark in the child, which no
 * longer reads as queued, so the child can queue it. Relaxed: written only
 * in a child with one thread; threads created later see it through
 * pthread_create. */
static FERRY_ATOMIC(uintptr_t) fork_gen;

static inline uintptr_t head_mark(const ferry_rcu_head *head)
{
    return (uintptr_t)head ^ HEAD_MAGIC ^ atomic_load_explicit(&fork_gen, memory_order_relaxed);
}

/* The worker whose thread this is (NULL in other threads). */
static FERRY_TLS ferry_rcu_worker *self_worker;
/* Per flavor: the worker the thread is bound to, or NULL. */
static FERRY_TLS ferry_rcu_worker *bound[FERRY__RCU_NFLAVORS];
/* The thread's CPU slot plus one (0: not chosen yet). */
static FERRY_TLS unsigned thread_slot;

static FERRY_ATOMIC(unsigned) slot_rr;   /* when sched_getcpu fails */

/* ferry_list_for_each_entry would form a (misaligned) worker pointer from
 * the list head at the end; this forms one only for real nodes. */
#define for_each_worker(w, f)                                                  \
    ferry_list_for_each(w##_node, &(f)->workers)                               \
        for (ferry_rcu_worker *w = ferry_container_of(w##_node, ferry_rcu_worker, node); w; \
             w = NULL) /* no break in the body: it would leave the inner loop */

static unsigned slot_of_thread(void)
{
    unsigned s = thread_slot;
    if (FERRY_LIKELY(s))
        return s - 1;
    int cpu = sched_getcpu();
    /* Relaxed: a counter for spreading threads, no data depends on it. */
    s = cpu >= 0 ? (unsigned)cpu : atomic_fetch_add_explicit(&slot_rr, 1, memory_order_relaxed);
    thread_slot = s + 1;
    return s;
}

static bool queues_empty(ferry_rcu_worker *w)
{
    for (unsigned i = 0; i < w->nq; i++)
        /* seq_cst: the worker's half of the sleep Dekker (see worker_main). */
        if (atomic_load_explicit(&w->queues[i].top, memory_order_seq_cst))
            return false;
    return true;
}

static void worker_kick(ferry_rcu_worker *w)
{
    /* seq_cst: the Dekker pair of the worker's sleep (see worker_main). */
    if (atomic_load_explicit(&w->state, memory_order_seq_cst) == WORKER_SLEEPING &&
        atomic_exchange_explicit(&w->state, WORKER_RUNNING, memory_order_seq_cst) ==
            WORKER_SLEEPING)
        ferry__futex_wake(&w->state, 1);
}

/* ------------------------------------------------------------------------ */
/* The worker thread.                                                        */

/* Take everything queued, in call order per queue, and record it in
 * `inflight` (fork handling finds it there). Leftovers adopted after a fork
 * come first. */
static ferry_rcu_head *take_batch(ferry_rcu_worker *w)
{
    ferry_mutex_lock(&w->take_lock);
    ferry_rcu_head *fifo = atomic_load_explicit(&w->inflight, memory_order_relaxed);
    ferry_rcu_head **tail = &fifo;
    while (*tail)
        tail = &(*tail)->next;
    for (unsigned i = 0; i < w->nq; i++) {
        if (!atomic_load_explicit(&w->queues[i].top, memory_order_relaxed))
            continue;   /* no write to an idle queue's line */
        /* Acquire pairs with the pushers' CAS: the heads' fields and what
         * the callers did before are visible. */
        ferry_rcu_head *lifo = atomic_exchange_explicit(&w->queues[i].top, NULL,
                                                        memory_order_acquire);
        /* The stack is newest first: reverse it onto the tail. */
        ferry_rcu_head *rev = NULL, *last = lifo;
        while (lifo) {
            ferry_rcu_head *next = lifo->next;
            lifo->next = rev;
            rev = lifo;
            lifo = next;
        }
        if (rev) {
            *tail = rev;
            tail = &last->next;
        }
    }
    /* Relaxed: only fork handling reads it, with take_lock held. */
    atomic_store_explicit(&w->inflight, fifo, memory_order_relaxed);
    ferry_mutex_unlock(&w->take_lock);
    return fifo;
}

/* The worker leaves its callbacks' reader state: a section a callback left
 * open would hold up every later grace period for ever, this worker's own
 * included, so say so instead. Checked per batch, not per callback (an
 * indirect call and a thread-local load: 12 instructions a callback). */
static void leave_callbacks(struct ferry__rcu_flavor *f)
{
    if (FERRY_UNLIKELY(f->in_read_section()))
        ferry__die("%s: a callback returned inside a read-side section "
                   "(a read lock without its unlock)", f->name);
    f->worker_enter(false);
}

static void run_batch(ferry_rcu_worker *w, ferry_rcu_head *fifo)
{
    struct ferry__rcu_flavor *f = w->f;
    if (!ferry__rcu_strict)
        ferry__rcu_synchronize(f);
    f->worker_enter(true);
    while (fifo) {
        ferry_rcu_head *next = fifo->next;
        if (ferry__rcu_strict) {
            leave_callbacks(f);
            ferry__rcu_synchronize(f);
            f->worker_enter(true);
        }
        /* What is left for a child forked from here on: this callback
         * counts as started. Relaxed: fork's copy of memory is a cut that
         * respects this thread's program order. */
        atomic_store_explicit(&w->inflight, next, memory_order_relaxed);
        fifo->queued = 0;   /* may be queued again from here on */
        fifo->fn(fifo);
        fifo = next;
    }
    leave_callbacks(f);
}

static bool default_has_poll(ferry_rcu_worker *w)
{
    return w->is_default && ferry__rcu_poll_pending(w->f);
}

/* A stopping worker exits once nothing is queued; barrier pushes (under
 * worker_lock) are checked for under the same lock. */
static bool try_exit(ferry_rcu_worker *w)
{
    struct ferry__rcu_flavor *f = w->f;   /* w may be freed once started is 0 */
    ferry_mutex_lock(&f->worker_lock);
    bool empty = queues_empty(w);
    if (empty)
        /* Under worker_lock, which barrier and worker_start read it under.
         * Release, and this thread's last access to w: stop_and_free polls
         * `started` without the lock (acquire) and frees w as soon as it
         * reads 0, so everything this thread did with w must happen before
         * (the lock's release would come too late). */
        atomic_store_explicit(&w->started, 0, memory_order_release);
    ferry_mutex_unlock(&f->worker_lock);
    return empty;
}

static void *worker_main(void *arg)
{
    ferry_rcu_worker *w = arg;
    struct ferry__rcu_flavor *f = w->f;
    /* Cancellation held off for the thread's life: a callback may hand
     * pthread_self() to code that cancels it and then reach a cancellation
     * point (a write, a printf); the thread must not end there, which
     * would leave later callbacks unrun, barriers waiting for ever and its
     * reader record registered after its storage is gone. A request that
     * arrives stays pending and never acts. */
    (void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    self_worker = w;
    if (w->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((unsigned)w->cpu, &set);
        (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);   /* best effort */
    }
    f->worker_init();
    for (;;) {
        /* Acquire pairs with destroy's store: what was queued before it is
         * taken below. */
        bool stop = atomic_load_explicit(&w->stopping, memory_order_acquire);
        ferry_rcu_head *batch = take_batch(w);
        if (batch) {
            run_batch(w, batch);
            continue;
        }
        if (default_has_poll(w)) {
            ferry__rcu_synchronize(f);
            continue;
        }
        if (stop) {
            if (try_exit(w))
                break;
            continue;
        }
        /* Sleep. Dekker with pushers: we store SLEEPING then load the
         * queues; they push (seq_cst) then load state. One of us sees the
         * other. The same with start_poll (poll_target) and destroy
         * (stopping). */
        atomic_store_explicit(&w->state, WORKER_SLEEPING, memory_order_seq_cst);
        if (queues_empty(w) && !default_has_poll(w) &&
            !atomic_load_explicit(&w->stopping, memory_order_seq_cst))
            ferry__futex_wait(&w->state, WORKER_SLEEPING, NULL);
        /* Relaxed: only this thread acts on its own RUNNING; the next
         * SLEEPING store is seq_cst. */
        atomic_store_explicit(&w->state, WORKER_RUNNING, memory_order_relaxed);
    }
    f->worker_fini();
    self_worker = NULL;
    return NULL;
}

/* Start w's thread; worker_lock held. Returns 0 or a positive errno. */
static int spawn(ferry_rcu_worker *w)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_attr_init(&attr);
    if (w->is_default || w->is_cpu)   /* never joined */
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* the worker takes no signals */
    /* Relaxed: before the thread exists; pthread_create publishes it. */
    atomic_store_explicit(&w->state, WORKER_RUNNING, memory_order_relaxed);
    int rc = pthread_create(&w->tid, &attr, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc == 0)
        /* Release pairs with the acquire in ferry__rcu_call (the worker's
         * fields, and its thread, exist). */
        atomic_store_explicit(&w->started, 1, memory_order_release);
    return rc;
}

/* worker_lock held. */
static void link_worker(struct ferry__rcu_flavor *f, ferry_rcu_worker *w)
{
    w->seq = ++f->worker_seq;
    ferry_list_add_tail(&f->workers, &w->node);
}

static void setup_default(struct ferry__rcu_flavor *f)
{
    ferry_rcu_worker *w = &f->dflt;   /* w->f is set statically */
    w->queues = f->dflt_queues;
    w->nq = ferry__rcu_ncpus < FERRY__RCU_MAX_SHARDS ? ferry__rcu_ncpus : FERRY__RCU_MAX_SHARDS;
    w->cpu = -1;
    w->is_default = true;
    link_worker(f, w);
}

/* Start w if it is not running (the default worker also gets set up).
 * Returns 0 or a negative errno; dies instead when `die`. */
static int worker_start(ferry_rcu_worker *w, bool die)
{
    struct ferry__rcu_flavor *f = w->f;
    int rc = 0;
    ferry_mutex_lock(&f->worker_lock);
    if (!atomic_load_explicit(&w->started, memory_order_relaxed)) {
        if (w == &f->dflt && !w->queues)
            setup_default(f);
        rc = spawn(w);
    }
    ferry_mutex_unlock(&f->worker_lock);
    if (rc != 0 && die)
        ferry__die("%s: cannot start a callback thread: %s", f->name, strerror(rc));
    return -rc;
}

/* worker_lock held. A worker without a thread has nothing queued (a push
 * starts the thread first), except in a forked child whose restart failed
 * (ferry__rcu_workers_after_fork_child does not die for it): start it now,
 * or die as a call would. Returns whether w has a thread. */
static bool ensure_running(ferry_rcu_worker *w)
{
    /* Relaxed: written under worker_lock (started), or by no thread at all
     * while there is none (inflight). */
    if (atomic_load_explicit(&w->started, memory_order_relaxed))
        return true;
    if (!atomic_load_explicit(&w->inflight, memory_order_relaxed) && queues_empty(w))
        return false;
    int rc = spawn(w);
    if (rc != 0)
        ferry__die("%s: cannot start a callback thread: %s", w->f->name, strerror(rc));
    return true;
}

/* ------------------------------------------------------------------------ */
/* call, barrier, polling.                                                   */

static ferry_rcu_worker *pick_worker(struct ferry__rcu_flavor *f)
{
    ferry_rcu_worker *w = bound[f->index];
    if (w)
        return w;
    /* Acquire pairs with the release publishing the array. */
    ferry_rcu_worker **cw = atomic_load_explicit(&f->cpu_workers, memory_order_acquire);
    if (cw)
        return cw[slot_of_thread() % f->ncpu_workers];
    return &f->dflt;   /* set up when it starts */
}

static void push(struct ferry__rcu_queue *q, ferry_rcu_head *head)
{
    ferry_rcu_head *old = atomic_load_explicit(&q->top, memory_order_relaxed);
    do {
        head->next = old;
        /* seq_cst (release at least): publishes the head and orders the
         * caller's removal before the worker's grace period; seq_cst for
         * the sleep Dekker (see worker_main). */
    } while (!atomic_compare_exchange_weak_explicit(&q->top, &old, head, memory_order_seq_cst,
                                                    memory_order_relaxed));
}

static void push_to(ferry_rcu_worker *w, ferry_rcu_head *head, unsigned qi)
{
    push(&w->queues[qi], head);
    worker_kick(w);
}

void ferry__rcu_call(struct ferry__rcu_flavor *f, ferry_rcu_head *head,
                     void (*fn)(ferry_rcu_head *), const char *file, int line)
{
    if (FERRY_UNLIKELY(!head || !fn))
        ferry__die_at(file ? file : "(unknown call site)", line, "%s_call: NULL %s", f->name,
                      head ? "callback" : "head");
    uintptr_t mark = head_mark(head);
    if (FERRY_UNLIKELY(head->queued == mark))
        ferry__die_at(file ? file : "(unknown call site)", line,
                      "%s_call: head %p queued twice (its callback has not run yet)",
                      f->name, (void *)head);
    head->queued = mark;
    head->fn = fn;
    ferry_rcu_worker *w = pick_worker(f);
    /* Acquire pairs with spawn's release (queues and nq are set). */
    if (FERRY_UNLIKELY(!atomic_load_explicit(&w->started, memory_order_acquire)))
        worker_start(w, true);
    push_to(w, head, w->nq == 1 ? 0 : slot_of_thread() % w->nq);
}

bool ferry__rcu_head_pending(const ferry_rcu_head *head)
{
    /* Set by ferry__rcu_call before the push, cleared by run_batch before
     * the callback starts; read only where no thread can change it (a
     * fork child before its workers restart). */
    return head->queued == head_mark(head);
}

void ferry__rcu_kick_default(struct ferry__rcu_flavor *f)
{
    ferry_rcu_worker *w = &f->dflt;
    /* Acquire: as in ferry__rcu_call. */
    if (!atomic_load_explicit(&w->started, memory_order_acquire))
        worker_start(w, true);
    worker_kick(w);
}

/* Barrier: one head on every queue of every running worker (a queue is
 * FIFO, so each head runs after everything queued there before it), in
 * rounds of up to BARRIER_HEADS heads on the caller's stack. */
#define BARRIER_HEADS 64

struct barrier_head {
    ferry_rcu_head head;
    FERRY_ATOMIC(uint32_t) *left;
};

static void barrier_cb(ferry_rcu_head *h)
{
    struct barrier_head *b = ferry_container_of(h, struct barrier_head, head);
    FERRY_ATOMIC(uint32_t) *left = b->left;
    /* Release pairs with the barrier caller's acquire; after the last
     * decrement only the address is used (a stale wake is harmless). */
    if (atomic_fetch_sub_explicit(left, 1, memory_order_release) == 1)
        ferry__futex_wake(left, 1);
}

void ferry__rcu_barrier(struct ferry__rcu_flavor *f, const char *file, int line)
{
    FERRY__RT_MAY_BLOCK(f->barrier_name);
    if (FERRY_UNLIKELY(self_worker != NULL))
        ferry__die_at(file ? file : "(unknown call site)", line,
                      "%s_barrier called from a callback (deadlock)", f->name);
    struct barrier_head heads[BARRIER_HEADS];
    /* Resume point of the next round: worker `from_seq`, queue `from_q`
     * (workers are linked in seq order; ones destroyed meanwhile are gone,
     * ones created meanwhile have nothing queued before us, harmlessly
     * covered too). */
    unsigned long from_seq = 0;
    unsigned from_q = 0;
    bool more = true;
    while (more) {
        FERRY_ATOMIC(uint32_t) left;
        unsigned n = 0;
        more = false;
        /* Relaxed: set before any head is pushed (the push publishes it). */
        atomic_store_explicit(&left, 0, memory_order_relaxed);
        ferry_mutex_lock(&f->worker_lock);
        ferry_list_for_each(pos, &f->workers) {
            ferry_rcu_worker *w = ferry_container_of(pos, ferry_rcu_worker, node);
            if (w->seq < from_seq)
                continue;
            if (!ensure_running(w))
                continue;
            unsigned q = w->seq == from_seq ? from_q : 0;
            for (; q < w->nq && n < BARRIER_HEADS; q++, n++) {
                memset(&heads[n], 0, sizeof heads[n]);
                heads[n].left = &left;
                heads[n].head.fn = barrier_cb;
                heads[n].head.queued = head_mark(&heads[n].head);
                /* Relaxed: before the push that publishes the head. */
                atomic_fetch_add_explicit(&left, 1, memory_order_relaxed);
                push_to(w, &heads[n].head, q);
            }
            if (q < w->nq) {
                from_seq = w->seq;
                from_q = q;
                more = true;
                break;
            }
        }
        ferry_mutex_unlock(&f->worker_lock);
        uint32_t v;
        /* Acquire pairs with barrier_cb's release: the callbacks before
         * each head happen before our return. */
        while ((v = atomic_load_explicit(&left, memory_order_acquire)) != 0)
            ferry__futex_wait(&left, v, NULL);
    }
}

void ferry__rcu_check_not_own_worker(struct ferry__rcu_flavor *f, const char *what)
{
    ferry_rcu_worker *w = self_worker;
    if (FERRY_UNLIKELY(w && w->f == f))
        ferry__die("%s called from a %s callback (the callback thread's registration "
                   "belongs to its worker)", what, f->name);
}

/* ------------------------------------------------------------------------ */
/* Worker management.                                                        */

static ferry_rcu_worker *worker_alloc(struct ferry__rcu_flavor *f, int cpu)
{
    ferry_rcu_worker *w = aligned_alloc(FERRY_CACHELINE, sizeof *w);
    if (!w)
        return NULL;
    memset(w, 0, sizeof *w);
    w->f = f;
    w->queues = &w->own;
    w->nq = 1;
    w->cpu = cpu;
    return w;
}

static bool cpu_ok(int cpu)
{
    return cpu >= -1 && cpu < CPU_SETSIZE;
}

int ferry__rcu_worker_create(struct ferry__rcu_flavor *f, ferry_rcu_worker **out, int cpu)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cpu_ok(cpu))
        return -EINVAL;
    ferry_rcu_worker *w = worker_alloc(f, cpu);
    if (!w)
        return -ENOMEM;
    ferry_mutex_lock(&f->worker_lock);
    link_worker(f, w);
    int rc = spawn(w);
    if (rc != 0)
        ferry_list_del(&w->node);
    ferry_mutex_unlock(&f->worker_lock);
    if (rc != 0) {
        free(w);
        return -rc;
    }
    *out = w;
    return 0;
}

/* worker_lock held. Is w one of f's workers? Compares addresses only, so
 * that a destroyed worker (freed), a worker of another flavor or any other
 * pointer is told apart without reading through it. */
static bool known_worker(struct ferry__rcu_flavor *f, const ferry_rcu_worker *w)
{
    ferry_list_for_each(pos, &f->workers)
        if (pos == &w->node)
            return true;
    return false;
}

int ferry__rcu_worker_destroy(struct ferry__rcu_flavor *f, ferry_rcu_worker *w)
{
    if (!w)
        return -EINVAL;
    if (w == self_worker)   /* from one of its own callbacks: w is live */
        return w->f != f || w->is_default || w->is_cpu ? -EINVAL : -EDEADLK;
    ferry_mutex_lock(&f->worker_lock);
    if (!known_worker(f, w) || w->is_default || w->is_cpu) {
        ferry_mutex_unlock(&f->worker_lock);
        return -EINVAL;   /* destroyed already, another flavor's, or not to be destroyed */
    }
    if (atomic_load_explicit(&w->nbound, memory_order_relaxed) != 0 ||
        atomic_load_explicit(&w->stopping, memory_order_relaxed)) {
        ferry_mutex_unlock(&f->worker_lock);
        return -EBUSY;
    }
    /* Not running (a fork child that had nothing for it): nothing queued. */
    bool running = ensure_running(w);
    /* seq_cst: the Dekker pair of the worker's sleep. */
    atomic_store_explicit(&w->stopping, 1, memory_order_seq_cst);
    ferry_mutex_unlock(&f->worker_lock);
    if (running) {
        worker_kick(w);
        /* Not a cancellation point, though pthread_join is one: cancelled
         * there, the caller would leave w stopping, its thread never
         * joined and w never freed (every later destroy -EBUSY). A pending
         * cancellation acts at the caller's next cancellation point. */
        int cancel_state;
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
        pthread_join(w->tid, NULL);   /* it runs what is queued first */
        pthread_setcancelstate(cancel_state, NULL);
    }
    ferry_mutex_lock(&f->worker_lock);
    ferry_list_del(&w->node);
    ferry_mutex_unlock(&f->worker_lock);
    free(w);
    return 0;
}

int ferry__rcu_set_thread_worker(struct ferry__rcu_flavor *f, ferry_rcu_worker *w)
{
    ferry_rcu_worker *old = bound[f->index];
    if (old == w)
        return 0;   /* bound to it already: it is live (it cannot be destroyed while bound) */
    if (w) {
        ferry_mutex_lock(&f->worker_lock);
        /* Not read through unless it is one of f's workers (a destroyed
         * one is freed). Relaxed: destroy reads and writes these under
         * worker_lock too. */
        bool stopping = !known_worker(f, w) || w->is_default ||
                        atomic_load_explicit(&w->stopping, memory_order_relaxed);
        if (!stopping)
            atomic_fetch_add_explicit(&w->nbound, 1, memory_order_relaxed);
        ferry_mutex_unlock(&f->worker_lock);
        if (stopping)
            return -EINVAL;
        /* Unbinds the thread at its exit; without it w would count the
         * thread for ever (every destroy -EBUSY). */
        int rc = ferry__rcu_arm_exit(f);
        if (FERRY_UNLIKELY(rc != 0)) {
            /* Relaxed: as below. */
            atomic_fetch_sub_explicit(&w->nbound, 1, memory_order_relaxed);
            return rc;
        }
    }
    if (old)
        /* Relaxed: a count destroy checks; the unbinding thread no longer
         * pushes to old after this. */
        atomic_fetch_sub_explicit(&old->nbound, 1, memory_order_relaxed);
    bound[f->index] = w;
    return 0;
}

ferry_rcu_worker *ferry__rcu_get_thread_worker(struct ferry__rcu_flavor *f)
{
    return bound[f->index];
}

void ferry__rcu_thread_exit_workers(struct ferry__rcu_flavor *f)
{
    ferry_rcu_worker *w = bound[f->index];
    if (w) {
        bound[f->index] = NULL;
        atomic_fetch_sub_explicit(&w->nbound, 1, memory_order_relaxed);
    }
}

static void stop_and_free(ferry_rcu_worker **ws, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        /* Never published: nothing is queued, the thread exits at once. */
        atomic_store_explicit(&ws[i]->stopping, 1, memory_order_seq_cst);
        worker_kick(ws[i]);
    }
    /* Detached threads cannot be joined: wait until each has left (acquire
     * pairs with try_exit's release store, its last access to the worker). */
    for (unsigned i = 0; i < n; i++) {
        while (atomic_load_explicit(&ws[i]->started, memory_order_acquire))
            sched_yield();
        free(ws[i]);
    }
}

int ferry__rcu_create_cpu_workers(struct ferry__rcu_flavor *f)
{
    ferry_mutex_lock(&f->create_lock);
    int rc = 0;
    if (atomic_load_explicit(&f->cpu_workers, memory_order_acquire))
        goto out;
    unsigned n = ferry__rcu_ncpus;
    ferry_rcu_worker **ws = calloc(n, sizeof *ws);
    if (!ws) {
        rc = -ENOMEM;
        goto out;
    }
    unsigned made = 0;
    for (; made < n; made++) {
        ws[made] = worker_alloc(f, (int)made);
        if (!ws[made]) {
            rc = -ENOMEM;
            break;
        }
        ws[made]->is_cpu = true;
        ferry_mutex_lock(&f->worker_lock);
        int e = spawn(ws[made]);
        ferry_mutex_unlock(&f->worker_lock);
        if (e != 0) {
            free(ws[made]);
            rc = -e;
            break;
        }
    }
    if (rc != 0) {
        stop_and_free(ws, made);
        free(ws);
        goto out;
    }
    ferry_mutex_lock(&f->worker_lock);
    for (unsigned i = 0; i < n; i++)
        link_worker(f, ws[i]);
    f->ncpu_workers = n;
    /* Release pairs with pick_worker's acquire. */
    atomic_store_explicit(&f->cpu_workers, ws, memory_order_release);
    ferry_mutex_unlock(&f->worker_lock);
out:
    ferry_mutex_unlock(&f->create_lock);
    return rc;
}

ferry_rcu_worker *ferry__rcu_get_cpu_worker(struct ferry__rcu_flavor *f, int cpu)
{
    ferry_rcu_worker **cw = atomic_load_explicit(&f->cpu_workers, memory_order_acquire);
    if (!cw || cpu < 0 || (unsigned)cpu >= f->ncpu_workers)
        return NULL;
    return cw[cpu];
}

/* ------------------------------------------------------------------------ */
/* Fork.                                                                     */

void ferry__rcu_workers_prepare_fork(struct ferry__rcu_flavor *f)
{
    ferry_mutex_lock(&f->worker_lock);
    for_each_worker(w, f)
        ferry_mutex_lock(&w->take_lock);
}

void ferry__rcu_workers_after_fork_parent(struct ferry__rcu_flavor *f)
{
    for_each_worker(w, f)
        ferry_mutex_unlock(&w->take_lock);
    ferry_mutex_unlock(&f->worker_lock);
}

/* A fork child, first of all (its only thread; relaxed below): what the
 * child sees of a call under way in another thread at the fork is its
 * program order cut anywhere -- prepare_fork does not wait for calls (it
 * could not without a count or a lock on every call's path). Pushed: the
 * head is on a queue and runs in the child. Not pushed (marked, perhaps
 * also waiting for worker_lock to start the worker): the head is on no
 * queue and nothing will push it, but its mark says queued, and the
 * child's next call with it would die "queued twice". So: a new
 * generation, and every head that is on a queue or in a worker's
 * `inflight` gets the new mark; the others' old marks mean nothing now. */
void ferry__rcu_fork_new_generation(void)
{
    atomic_store_explicit(&fork_gen, atomic_load_explicit(&fork_gen, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static void remark_list(ferry_rcu_head *h)
{
    for (; h; h = h->next)
        h->queued = head_mark(h);
}

void ferry__rcu_workers_remark(struct ferry__rcu_flavor *f)
{
    for_each_worker(w, f) {
        remark_list(atomic_load_explicit(&w->inflight, memory_order_relaxed));
        for (unsigned i = 0; i < w->nq; i++)
            remark_list(atomic_load_explicit(&w->queues[i].top, memory_order_relaxed));
    }
}

/* In the child no worker thread exists (unless the fork came from one of
 * its callbacks: that thread goes on as its worker). Every other worker
 * gets a new thread if it has callbacks queued or taken-but-not-started,
 * or (the default one) a poll to serve; the others start on next use. */
void ferry__rcu_workers_after_fork_child(struct ferry__rcu_flavor *f)
{
    ferry_mutex_init(&f->worker_lock);
    ferry_mutex_init(&f->create_lock);
    /* Relaxed below: the forking thread is the only thread of the child. */
    for_each_worker(w, f) {
        ferry_mutex_init(&w->take_lock);
        atomic_store_explicit(&w->nbound, bound[f->index] == w, memory_order_relaxed);
        if (w == self_worker)
            continue;
        bool had_thread = atomic_load_explicit(&w->started, memory_order_relaxed);
        atomic_store_explicit(&w->started, 0, memory_order_relaxed);
        atomic_store_explicit(&w->state, WORKER_RUNNING, memory_order_relaxed);
        bool pending = atomic_load_explicit(&w->inflight, memory_order_relaxed) ||
                       !queues_empty(w) || default_has_poll(w);
        if (had_thread && pending)
            (void)worker_start(w, false);   /* else: on next use */
    }
}
