/* SPDX-License-Identifier: MIT */
/* ferry_mutex and ferry_cond: the out-of-line parts (see ferry/mutex.h and
 * docs/mutex.md).
 *
 * Words. A mutex word is [head | WAKING | QLOCK | LOCKED], a cond word
 * [head | QLOCK]. `head` points at the first node of a circular doubly
 * linked FIFO of waiters (ferry/list.h links without a separate head: the
 * word is the head pointer, and the node before the first is the last);
 * each node lives in its waiting thread's stack frame and is guarded by the
 * QLOCK bit of the word whose queue holds it.
 * WAKING says that a waiter was dequeued and woken to compete for the
 * mutex and has not yet taken it or gone back to sleep: while it is set,
 * unlock wakes nobody else (the woken thread will look at the queue).
 *
 * Rules that make it correct (docs/mutex.md has the full argument):
 *  R1 QLOCK is taken only by compare-and-swap from a word without QLOCK, and
 *     released by the holder's release store or CAS.
 *  R2 LOCKED is set by CAS from a word without LOCKED (with or without
 *     QLOCK) or by the inline fetch-or (the same thing: it changes the word
 *     only if LOCKED was clear), and cleared only by the owner: by the inline CAS from exactly
 *     LOCKED, or in the slow unlock by a CAS from a word without QLOCK or a
 *     store while holding QLOCK. So while a thread holds QLOCK and sees
 *     LOCKED, LOCKED stays set.
 *  R3 A locker enqueues only while LOCKED is set (it takes QLOCK by a CAS
 *     from a word with LOCKED). The owner's unlock then cannot take the
 *     inline path (the word is not exactly LOCKED) and looks at the queue,
 *     so it sees the new waiter: no lost wakeup.
 *  R4 WAKING is set by a QLOCK holder, together with waking one dequeued
 *     waiter with S_WOKEN, or by a spinning locker, by a CAS from a word with
 *     LOCKED, waiters and neither QLOCK nor WAKING; that thread then "holds"
 *     WAKING. Only the holder clears it: in the CAS that takes the mutex, in
 *     the CAS that takes QLOCK to queue (LOCKED set), or, giving up at a
 *     deadline, by a CAS from a word with LOCKED and without QLOCK. So while
 *     a thread holds QLOCK and sees LOCKED, WAKING does not change.
 *  R5 Whenever the queue is non-empty and LOCKED is clear, WAKING is set:
 *     its holder is awake and will try to take the mutex; if its CAS fails,
 *     somebody holds the mutex, and since the holder clears WAKING only
 *     while it sees LOCKED (R4), that owner's unlock sees the queue without
 *     WAKING and wakes the next waiter. An unlock that sees WAKING just
 *     releases: the awake thread will take the mutex or requeue.
 *  R6 A waiter's node is touched by another thread only until that thread
 *     stores the node's final state with release; the futex wake that may
 *     follow is on the address only, and a spurious wake of whatever lives
 *     there later is harmless.
 */
/* The entry points are defined under their own names (no time64
 * redirection, see ferry/mutex.h). */
#define FERRY__MUTEX_IMPL 1
#include <ferry/list.h>
#include <ferry/mutex.h>

#include "futex.h"
#include "platform.h"
#include "rt_block.h"
#include "time64.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOCKED FERRY__MUTEX_LOCKED
#define QLOCK FERRY__MUTEX_QLOCK
#define WAKING ((uintptr_t)4)
#define PTR_MASK (~(uintptr_t)7)

/* A waiter that has waited this long for the mutex is handed it directly
 * (the eventual-fairness bound)... */
#define FAIR_NS 1000000ull
/* ...but at most once per FAIR_INTERVAL_US per mutex, so that a long queue
 * of old waiters does not turn every unlock into a (slow) handoff. */
#define FAIR_INTERVAL_US 1000u

/* Whether the mutex's fair_at lets a handoff happen at now_us. fair_at is a
 * 32-bit microsecond clock, which wraps every 71.6 minutes, and it is only
 * ever set at most FAIR_INTERVAL_US ahead of the clock (since + FAIR_NS, or
 * now + FAIR_INTERVAL_US). So only a value at most twice that far ahead holds
 * a handoff back; anything further "ahead" is the zero of a new mutex or a
 * value left from an earlier lap of the clock, and is already due. (A signed
 * difference would read such a value as up to 36 minutes in the future: a new
 * mutex made no fair handoffs in every other half of the clock's lap.) */
static inline bool fair_allowed(ferry_mutex *m, uint32_t now_us)
{
    uint32_t ahead = atomic_load_explicit(&m->fair_at, memory_order_relaxed) - now_us;
    return ahead == 0 || ahead > 2 * FAIR_INTERVAL_US;
}

/* Spinning before sleeping: this many rounds of pauses (1, 2, 4, ... 32,
 * then 32 each), re-reading the word each round: 127 pauses, about 5 us on
 * the test machine (37 ns per pause). That is about half the cost of a futex
 * sleep and wake, so spinning never costs much more than blocking would
 * have, and a short critical section ends within it. */
#define SPIN_ROUNDS 8
#define SPIN_MAX_PAUSES 32
/* A waiter that has just queued polls its node this many times first. */
#define NODE_SPINS 16

/* Node states (the futex word of a waiter). */
enum {
    S_WAIT = 1,    /* linked, or dequeued with the wake not yet stored      */
    S_SLEEP = 2,   /* with S_WAIT: the owner sleeps (or will) in the kernel */
    S_WOKEN = 4,   /* dequeued: compete for the mutex; holds WAKING (R4)   */
    S_HANDOFF = 8, /* dequeued: the mutex was handed over, the waiter owns it */
    S_RETRY = 16,  /* dequeued: lock the mutex as a newcomer (no WAKING):
                    * a cond waiter woken directly by signal                 */
};

typedef struct node {
    _Alignas(8) ferry_list link; /* in the queue; under QLOCK of the queue holding it */
    /* Address of the mutex or cond whose queue holds the node, 0 if none.
     * Written under that queue's QLOCK; read by the owner under a QLOCK
     * (relaxed atomic because a cond waiter reads it under the cond's QLOCK
     * while a mutex unlock may clear it under the mutex's). */
    FERRY_ATOMIC(uintptr_t) where;
    ferry_mutex *mutex;     /* cond waiters: the mutex to move onto          */
    uint64_t since;         /* ns: when it began waiting for the mutex       */
    FERRY_ATOMIC(uint32_t) state;
} node;

_Static_assert(_Alignof(node) >= 8, "the three low bits of a node address hold flags");

/* ------------------------------------------------------------- helpers */

/* Back off while a QLOCK is held by another thread: it is held for a few
 * dozen instructions, so spin briefly, then yield the CPU (the holder may
 * have been preempted, and on an oversubscribed machine it needs our CPU). */
static inline void qlock_backoff(unsigned *spins)
{
    if (*spins < 16) {
        for (unsigned i = 0; i < (1u << (*spins / 4)); i++)
            ferry__cpu_relax();
        (*spins)++;
    } else {
        sched_yield();
    }
}

static inline node *head_of(uintptr_t w) { return (node *)(w & PTR_MASK); }

/* The queue: nodes on a ferry_list ring with no separate head; the word
 * holds the first node, NULL when empty. */
static inline node *q_next(const node *n) { return ferry_container_of(n->link.next, node, link); }
static inline node *q_prev(const node *n) { return ferry_container_of(n->link.prev, node, link); }

/* Link n at the tail (front: as the new first node). */
static node *q_insert(node *head, node *n, bool front)
{
    if (!head) {
        ferry_list_init(&n->link);
        return n;
    }
    /* Before the first: the tail. (The head is linked: no zero-filled head
     * to set up, so list.h's insert rather than add_tail.) */
    ferry__list_insert(&n->link, head->link.prev, &head->link);
    return front ? n : head;
}

static node *q_remove(node *head, node *n)
{
    if (n->link.next == &n->link)
        return NULL;
    node *next = q_next(n);
    ferry_list_del(&n->link);
    return head == n ? next : head;
}

/* Append queue b (non-NULL) after the tail of a. */
static node *q_splice(node *a, node *b)
{
    if (!a)
        return b;
    /* A sentinel just before b makes b a headed list; move it before a. */
    ferry_list tmp;
    ferry_list_add_tail(&b->link, &tmp);
    ferry_list_splice_tail(&a->link, &tmp);
    return a;
}

/* Store a node's final state and wake its owner if it sleeps (R5). */
static void wake_node(node *n, uint32_t state)
{
    FERRY_ATOMIC(uint32_t) *addr = &n->state;
    /* Release: pairs with the acquire load in node_wait, so the owner sees
     * the queue updates and, for a handoff, the previous critical section. */
    uint32_t old = atomic_exchange_explicit(addr, state, memory_order_release);
    /* From here on, n may be gone. */
    if (old & S_SLEEP)
        ferry__futex_wake(addr, 1);
}

/* Wait until the node leaves S_WAIT; returns its state, or 0 if the
 * deadline passed first. */
static uint32_t node_wait(node *n, const struct timespec *deadline)
{
    uint32_t s;
    for (int i = 0; i < NODE_SPINS; i++) {
        /* Acquire: pairs with the release exchange in wake_node. */
        s = atomic_load_explicit(&n->state, memory_order_acquire);
        if (!(s & S_WAIT))
            return s;
        ferry__cpu_relax();
    }
    for (;;) {
        /* Acquire: as above. */
        s = atomic_load_explicit(&n->state, memory_order_acquire);
        if (!(s & S_WAIT))
            return s;
        if (!(s & S_SLEEP)) {
            /* Announce the sleep so that the waker makes the system call.
             * Relaxed: the state itself is all that is communicated. */
            atomic_compare_exchange_strong_explicit(&n->state, &s, s | S_SLEEP,
                                                    memory_order_relaxed, memory_order_relaxed);
            continue;
        }
        if (ferry__futex_wait(&n->state, s, deadline) == -ETIMEDOUT) {
            /* Acquire: as above. */
            s = atomic_load_explicit(&n->state, memory_order_acquire);
            return (s & S_WAIT) ? 0 : s;
        }
    }
}

/* Take a word's QLOCK whatever its other bits; returns the word as it was
 * when taken, with QLOCK set. */
static uintptr_t qlock(FERRY_ATOMIC(uintptr_t) *word)
{
    unsigned spins = 0;
    uintptr_t w = atomic_load_explicit(word, memory_order_relaxed);
    for (;;) {
        if (w & QLOCK) {
            qlock_backoff(&spins);
            w = atomic_load_explicit(word, memory_order_relaxed);
            continue;
        }
        /* Acquire: pairs with the release that dropped QLOCK last, so the
         * queue (and the nodes in it) are as the previous holder left them. */
        if (atomic_compare_exchange_weak_explicit(word, &w, w | QLOCK, memory_order_acquire,
                                                  memory_order_relaxed))
            return w | QLOCK;
    }
}

/* Drop a mutex's QLOCK, installing `head` and or-ing `set`, keeping LOCKED
 * and WAKING as they are now (a thread may take the mutex meanwhile, and
 * clear WAKING as it does, R2, R4). `w` is the word as last seen. */
static void mutex_qunlock(ferry_mutex *m, uintptr_t w, node *head, uintptr_t set)
{
    /* Release: pairs with the acquire of the next QLOCK holder (qlock, or
     * the CAS in mutex_lock_node/unlock_slow). */
    while (!atomic_compare_exchange_weak_explicit(&m->word, &w,
                                                  (w & (LOCKED | WAKING)) | (uintptr_t)head | set,
                                                  memory_order_release, memory_order_relaxed)) {
    }
}

__attribute__((noinline, cold)) static void die_mutex_moved(ferry_mutex *m, node *head)
{
    ferry__die("ferry_mutex %p was moved (copied) while threads waited on it: its waiter queue "
               "belongs to the mutex at %p; a mutex must not be moved while locked or waited on",
               (void *)m, (void *)atomic_load_explicit(&head->where, memory_order_relaxed));
}

__attribute__((noinline, cold)) static void die_cond_moved(ferry_cond *c, node *head)
{
    ferry__die("ferry_cond %p was moved (copied) while threads waited on it: its waiter queue "
               "belongs to the cond at %p; a cond must not be moved while waited on",
               (void *)c, (void *)atomic_load_explicit(&head->where, memory_order_relaxed));
}

/* Waiters record the address of the queue they are on; a head that names
 * another address means the word was copied from elsewhere. */
static inline void check_mutex_head(ferry_mutex *m, node *head)
{
    if (FERRY_UNLIKELY(head && atomic_load_explicit(&head->where, memory_order_relaxed) != (uintptr_t)m))
        die_mutex_moved(m, head);
}

static inline void check_cond_head(ferry_cond *c, node *head)
{
    if (FERRY_UNLIKELY(head && atomic_load_explicit(&head->where, memory_order_relaxed) != (uintptr_t)c))
        die_cond_moved(c, head);
}

/* --------------------------------------------------------------- debug */


void ferry__mutex_debug_acquired(ferry_mutex *m)
{
    /* Relaxed: written by the owner inside its critical section; other
     * threads read it only to report misuse. */
    atomic_store_explicit(&m->owner, ferry__self_tid(), memory_order_relaxed);
}

void ferry__mutex_debug_release(ferry_mutex *m)
{
    uintptr_t w = atomic_load_explicit(&m->word, memory_order_relaxed);
    if (FERRY_UNLIKELY(!(w & LOCKED)))
        ferry__die("ferry_mutex %p: unlock of a mutex that is not locked", (void *)m);
    uint32_t me = ferry__self_tid();
    uint32_t owner = atomic_load_explicit(&m->owner, memory_order_relaxed);
    if (FERRY_UNLIKELY(!ferry__is_self_tid(owner))) /* (locked before a fork: the id it had then) */
        ferry__die("ferry_mutex %p: unlock by thread %u, which does not own it (owner: thread %u)",
                   (void *)m, me, owner);
    atomic_store_explicit(&m->owner, 0, memory_order_relaxed);
}

/* --------------------------------------------------------------- mutex */

int ferry_mutex_init(ferry_mutex *m)
{
    if (!m)
        return -EINVAL;
    atomic_store_explicit(&m->word, 0, memory_order_relaxed);
    atomic_store_explicit(&m->owner, 0, memory_order_relaxed);
    atomic_store_explicit(&m->fair_at, 0, memory_order_relaxed);
    return 0;
}

void ferry_mutex_fini(ferry_mutex *m)
{
    if (!m)
        return;
    uintptr_t w = atomic_load_explicit(&m->word, memory_order_relaxed);
    if (FERRY_UNLIKELY(w & ~LOCKED))
        ferry__die("ferry_mutex %p destroyed while threads wait for it", (void *)m);
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(w & LOCKED))
        ferry__die("ferry_mutex %p destroyed while locked (by thread %u)", (void *)m,
                   atomic_load_explicit(&m->owner, memory_order_relaxed));
#endif
}

/* A timed-out waiter leaves the queue. Returns 0 if it was still linked and
 * is now out; otherwise it had been dequeued and a wake is on its way: wait
 * for it and return the node's final state. */
static uint32_t mutex_leave(ferry_mutex *m, node *n)
{
    uintptr_t w = qlock(&m->word);
    node *head = head_of(w);
    if (atomic_load_explicit(&n->where, memory_order_relaxed) == (uintptr_t)m) {
        head = q_remove(head, n);
        atomic_store_explicit(&n->where, 0, memory_order_relaxed);
        mutex_qunlock(m, w, head, 0);
        return 0;
    }
    mutex_qunlock(m, w, head, 0);
    return node_wait(n, NULL);
}

/* Wait for the mutex with node n (in the caller's frame). `requeue`: n has
 * waited before (n->since is kept and it goes back to the front).
 * `waking`: the caller holds the WAKING role (R4). */
static int mutex_lock_node(ferry_mutex *m, const struct timespec *deadline, node *n, bool requeue,
                           bool waking)
{
    unsigned spin = 0, qspins = 0;
    uintptr_t w = atomic_load_explicit(&m->word, memory_order_relaxed);
    for (;;) {
        uintptr_t role = waking ? WAKING : 0;
        if (!(w & LOCKED)) {
            /* Acquire: pairs with the release of the previous owner's unlock. */
            if (atomic_compare_exchange_weak_explicit(&m->word, &w, (w | LOCKED) & ~role,
                                                      memory_order_acquire, memory_order_relaxed))
                return 0;
            continue;
        }
        /* Spin while the owner is likely to release soon. Bounded, with
         * pauses that grow; the word is re-read between them. */
        if (spin < SPIN_ROUNDS) {
            if (!waking && head_of(w) && !(w & (WAKING | QLOCK))) {
                /* Threads sleep in the queue: take the WAKING role, so that
                 * the owner's unlock does not wake one of them while we are
                 * here to take the mutex (R4). Relaxed: it carries no data. */
                if (!atomic_compare_exchange_weak_explicit(&m->word, &w, w | WAKING,
                                                           memory_order_relaxed, memory_order_relaxed))
                    continue;
                waking = true;
                w |= WAKING;
            }
            unsigned pauses = 1u << spin;
            if (pauses > SPIN_MAX_PAUSES)
                pauses = SPIN_MAX_PAUSES;
            for (unsigned i = 0; i < pauses; i++)
                ferry__cpu_relax();
            spin++;
            w = atomic_load_explicit(&m->word, memory_order_relaxed);
            continue;
        }
        if (w & QLOCK) {
            qlock_backoff(&qspins);
            w = atomic_load_explicit(&m->word, memory_order_relaxed);
            continue;
        }
        if (deadline && ferry__deadline_passed(deadline)) {
            /* Give up, unlinked, having seen LOCKED; drop WAKING only in a
             * CAS that sees LOCKED still set (R4, R5). */
            if (waking && !atomic_compare_exchange_weak_explicit(&m->word, &w, w & ~WAKING,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed))
                continue;
            return -ETIMEDOUT;
        }
        /* Take QLOCK while LOCKED is set (R3), dropping our WAKING (R4).
         * Acquire: pairs with the release that dropped QLOCK last. */
        if (!atomic_compare_exchange_weak_explicit(&m->word, &w, (w | QLOCK) & ~role,
                                                   memory_order_acquire, memory_order_relaxed))
            continue;
        waking = false;
        w &= ~role;
        node *head = head_of(w);
        check_mutex_head(m, head);
        if (!requeue)
            n->since = ferry__now_ns();
        atomic_store_explicit(&n->state, S_WAIT, memory_order_relaxed);
        atomic_store_explicit(&n->where, (uintptr_t)m, memory_order_relaxed);
        head = q_insert(head, n, requeue);
        /* While we hold QLOCK and LOCKED is set, nobody else changes the
         * word (R2, R4), so a plain store. Release: pairs with the acquire
         * of the next QLOCK holder. */
        atomic_store_explicit(&m->word, (uintptr_t)head | (w & (LOCKED | WAKING)),
                              memory_order_release);

        uint32_t s = node_wait(n, deadline);
        if (s == 0 && (s = mutex_leave(m, n)) == 0)
            return -ETIMEDOUT;
        if (s & S_HANDOFF)
            return 0;
        /* S_WOKEN: the mutex was released and we hold WAKING; compete for
         * it, spinning again, and if we lose go back to the front. */
        waking = (s & S_WOKEN) != 0;
        requeue = true;
        spin = 0;
        w = atomic_load_explicit(&m->word, memory_order_relaxed);
    }
}

/* --------------------------------------------------------- mutex (slow) */

static int mutex_lock_slow(ferry_mutex *m, const struct timespec *deadline)
{
    if (FERRY_UNLIKELY(!ferry__deadline_valid(deadline)))
        return -EINVAL;
    /* The owner's id is recorded only by FERRY_DEBUG's inline code (0
     * otherwise); a thread finds its own id there only while it holds m,
     * since it clears the id itself before its unlock. Relaxed: the same
     * thread wrote what it would find. Locking again would wait forever --
     * or until a deadline: one already past is the try call, which fails
     * (-ETIMEDOUT, as for any holder), not a wait. */
    if (FERRY_UNLIKELY(ferry__is_self_tid(atomic_load_explicit(&m->owner, memory_order_relaxed)))) {
        if (deadline && ferry__deadline_passed(deadline))
            return -ETIMEDOUT;
        ferry__die("ferry_mutex %p: locked again by thread %u, which already holds it "
                   "(not recursive)", (void *)m, ferry__self_tid());
    }
    node n;
    n.mutex = m;
    n.since = 0;
    atomic_store_explicit(&n.where, 0, memory_order_relaxed);
    atomic_store_explicit(&n.state, 0, memory_order_relaxed);
    return mutex_lock_node(m, deadline, &n, false, false);
}

int ferry__mutex_lock_slow(ferry_mutex *m, const struct timespec *deadline)
{
    struct timespec buf;
    return mutex_lock_slow(m, ferry__deadline_of32(deadline, &buf));
}

int ferry__mutex_lock_slow_time64(ferry_mutex *m, const struct timespec *deadline)
{
    struct timespec buf;
    return mutex_lock_slow(m, ferry__deadline_of64(deadline, &buf));
}

/* Per-thread count of unlocks that found a thread on its way to the mutex
 * (WAKING): every FAIR_CHECK_EVERY-th of them reads the clock to see whether
 * the oldest waiter is due a handoff. */
static FERRY_TLS unsigned fair_tick;
#define FAIR_CHECK_EVERY 16

void ferry__mutex_unlock_slow(ferry_mutex *m)
{
    uint64_t now = 0;
    unsigned spins = 0;
    int fair_due = -1; /* unknown */
    uintptr_t w = atomic_load_explicit(&m->word, memory_order_relaxed);
    for (;;) {
        if (FERRY_UNLIKELY(!(w & LOCKED)))
            ferry__die("ferry_mutex %p: unlock of a mutex that is not locked", (void *)m);
        if (w & QLOCK) {
            qlock_backoff(&spins);
            w = atomic_load_explicit(&m->word, memory_order_relaxed);
            continue;
        }
        if ((w & WAKING) && head_of(w) && fair_due < 0) {
            fair_due = 0;
            if (++fair_tick % FAIR_CHECK_EVERY == 0) {
                now = ferry__now_ns();
                fair_due = fair_allowed(m, (uint32_t)(now / 1000));
            }
        }
        if (!head_of(w) || ((w & WAKING) && !fair_due)) {
            /* Nobody waits, or a thread is on its way to take the mutex and
             * the oldest waiter is not due a handoff (R5): just release.
             * Release: as in ferry_mutex_unlock. */
            if (atomic_compare_exchange_weak_explicit(&m->word, &w, w & ~LOCKED, memory_order_release,
                                                      memory_order_relaxed))
                return;
            continue;
        }
        if (!now)
            now = ferry__now_ns();
        /* Acquire: pairs with the release that dropped QLOCK last. */
        if (atomic_compare_exchange_weak_explicit(&m->word, &w, w | QLOCK, memory_order_acquire,
                                                  memory_order_relaxed))
            break;
    }
    /* We hold QLOCK and own LOCKED: nobody else changes the word (R2, R4). */
    node *n = head_of(w);
    check_mutex_head(m, n);
    uint32_t now_us = (uint32_t)(now / 1000);
    bool starving = now > n->since && now - n->since >= FAIR_NS && fair_allowed(m, now_us);
    if ((w & WAKING) && !starving) {
        /* Not due: release, and do not look again before the oldest waiter
         * can be. Release: pairs with the acquire of the next QLOCK holder
         * and of the next owner's lock. */
        if (now < n->since + FAIR_NS)
            atomic_store_explicit(&m->fair_at, (uint32_t)((n->since + FAIR_NS) / 1000), memory_order_relaxed);
        atomic_store_explicit(&m->word, w & ~LOCKED, memory_order_release);
        return;
    }
    node *head = q_remove(n, n);
    atomic_store_explicit(&n->where, 0, memory_order_relaxed);
    if (starving)
        atomic_store_explicit(&m->fair_at, now_us + FAIR_INTERVAL_US, memory_order_relaxed);
    /* Hand the mutex to the starving waiter (whoever holds WAKING keeps
     * it), or release it and wake the oldest waiter, which takes WAKING.
     * Release: pairs with the acquire of the next QLOCK holder and with the
     * acquire of the next owner (its lock, or node_wait for a handoff). */
    atomic_store_explicit(&m->word, (uintptr_t)head | (starving ? (w & WAKING) | LOCKED : WAKING),
                          memory_order_release);
    wake_node(n, starving ? S_HANDOFF : S_WOKEN);
}

/* ---------------------------------------------------------------- cond */

int ferry_cond_init(ferry_cond *c)
{
    if (!c)
        return -EINVAL;
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    return 0;
}

void ferry_cond_fini(ferry_cond *c)
{
    if (!c)
        return;
    if (FERRY_UNLIKELY(atomic_load_explicit(&c->word, memory_order_relaxed) != 0))
        ferry__die("ferry_cond %p destroyed while threads wait on it", (void *)c);
}

/* Move `list` (circular, detached from cond c whose QLOCK the caller holds)
 * onto mutex m's queue. If m is free and nobody holds WAKING, the first node
 * is not queued but returned, to be woken with S_WOKEN by the caller after
 * it drops c's QLOCK; it holds WAKING (R4, R5). */
static node *move_to_mutex(ferry_mutex *m, node *list)
{
    uint64_t now = ferry__now_ns();
    node *p = list;
    do {
        /* The cond's QLOCK orders this against the owner's timeout check. */
        atomic_store_explicit(&p->where, (uintptr_t)m, memory_order_relaxed);
        p->since = now;
        p = q_next(p);
    } while (p != list);

    uintptr_t w = qlock(&m->word);
    node *head = head_of(w);
    check_mutex_head(m, head);
    node *wake = NULL;
    /* LOCKED seen under QLOCK stays set (R2): its owner's unlock will see
     * the queue. WAKING seen under QLOCK stays set unless its holder takes
     * the mutex (R4), and then its unlock will see the queue. Otherwise the
     * mutex is free with nobody on the way: wake one (R5). */
    if (!(w & (LOCKED | WAKING))) {
        wake = list;
        list = q_remove(list, wake);
        atomic_store_explicit(&wake->where, 0, memory_order_relaxed);
    }
    if (list)
        head = q_splice(head, list);
    mutex_qunlock(m, w, head, wake ? WAKING : 0);
    return wake;
}

static int cond_wait_until(ferry_cond *c, ferry_mutex *m, const struct timespec *deadline)
{
    if (!c || !m || !ferry__deadline_valid(deadline))
        return -EINVAL;
    if (FERRY_UNLIKELY(!(atomic_load_explicit(&m->word, memory_order_relaxed) & LOCKED)))
        ferry__die("ferry_cond %p: wait with mutex %p, which is not locked", (void *)c, (void *)m);
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(!ferry__is_self_tid(atomic_load_explicit(&m->owner, memory_order_relaxed))))
        ferry__die("ferry_cond %p: wait by thread %u with mutex %p, which it does not hold (owner: thread %u)",
                   (void *)c, ferry__self_tid(), (void *)m, atomic_load_explicit(&m->owner, memory_order_relaxed));
#endif
    node n;
    n.mutex = m;
    n.since = 0;
    atomic_store_explicit(&n.state, S_WAIT, memory_order_relaxed);
    atomic_store_explicit(&n.where, (uintptr_t)c, memory_order_relaxed);

    uintptr_t w = qlock(&c->word);
    node *head = head_of(w);
    check_cond_head(c, head);
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(head && head->mutex != m))
        ferry__die("ferry_cond %p: waited on with mutex %p while other threads wait with mutex %p",
                   (void *)c, (void *)m, (void *)head->mutex);
#endif
    head = q_insert(head, &n, false);
    /* Release: pairs with the acquire of the next QLOCK holder. */
    atomic_store_explicit(&c->word, (uintptr_t)head, memory_order_release);

    /* We are queued before the mutex is released: a signal sent by anyone
     * who takes the mutex after this finds us. */
    ferry_mutex_unlock(m);

    int ret = 0;
    uint32_t s = node_wait(&n, deadline);
    if (s == 0) {
        w = qlock(&c->word);
        head = head_of(w);
        if (atomic_load_explicit(&n.where, memory_order_relaxed) == (uintptr_t)c) {
            /* Still on the cond: a timeout, and nobody owes us a wake. */
            head = q_remove(head, &n);
            atomic_store_explicit(&n.where, 0, memory_order_relaxed);
            ret = -ETIMEDOUT;
        }
        /* Release: as above. */
        atomic_store_explicit(&c->word, (uintptr_t)head, memory_order_release);
        if (ret == 0)
            s = node_wait(&n, NULL); /* signalled meanwhile: moved or woken */
    }
    if (s & S_HANDOFF) {
#ifdef FERRY_DEBUG
        ferry__mutex_debug_acquired(m);
#endif
        return ret;
    }
    if (s & S_WOKEN) {
        /* Woken from the mutex queue, or because the mutex was free; we
         * hold WAKING and have waited for the mutex since the signal. */
        mutex_lock_node(m, NULL, &n, true, true);
    } else {
        /* Timed out on the cond, or S_RETRY: lock as a newcomer. */
        n.since = 0;
        mutex_lock_node(m, NULL, &n, false, false);
    }
#ifdef FERRY_DEBUG
    ferry__mutex_debug_acquired(m);
#endif
    return ret;
}

int ferry_cond_wait_until(ferry_cond *c, ferry_mutex *m, const struct timespec *deadline)
{
    FERRY__RT_MAY_BLOCK("ferry_cond_wait_until");
    struct timespec buf;
    return cond_wait_until(c, m, ferry__deadline_of32(deadline, &buf));
}

int ferry__cond_wait_until_time64(ferry_cond *c, ferry_mutex *m, const struct timespec *deadline)
{
    FERRY__RT_MAY_BLOCK("ferry_cond_wait_until");
    struct timespec buf;
    return cond_wait_until(c, m, ferry__deadline_of64(deadline, &buf));
}

int ferry_cond_wait(ferry_cond *c, ferry_mutex *m)
{
    FERRY__RT_MAY_BLOCK("ferry_cond_wait");
    return cond_wait_until(c, m, NULL);
}

void ferry_cond_signal(ferry_cond *c)
{
    if (!c)
        return;
    /* Reported in a real-time section whether or not a thread waits this
     * time (as pthread_cond_signal is, docs/rt.md): with a waiter it spins
     * for the queue's lock bit, which a preempted thread of ordinary
     * priority may hold, and makes a futex call. */
    FERRY__RT_MAY_BLOCK("ferry_cond_signal");
    /* Relaxed is enough: a waiter that queued before the signaller took the
     * mutex is ordered before this load by the mutex (and one that queued
     * later is not owed this signal). */
    if (atomic_load_explicit(&c->word, memory_order_relaxed) == 0)
        return;
    uintptr_t w = qlock(&c->word);
    node *head = head_of(w);
    node *wake = NULL;
    uint32_t how = S_WOKEN;
    if (head) {
        check_cond_head(c, head);
        node *n = head;
        head = q_remove(head, n);
        ferry_list_init(&n->link);
        /* If threads already sleep on the mutex, queueing behind them would
         * make the signalled thread wait for a chain of wakes (one per
         * unlock): wake it now to compete for the mutex (measured ~2x
         * faster with 4 producers and 4 consumers). Otherwise move it onto
         * the mutex, to be woken when the mutex is released rather than
         * now, only to find it held. A hint: read without QLOCK. */
        if (head_of(atomic_load_explicit(&n->mutex->word, memory_order_relaxed))) {
            atomic_store_explicit(&n->where, 0, memory_order_relaxed);
            wake = n;
            how = S_RETRY;
        } else {
            wake = move_to_mutex(n->mutex, n);
        }
    }
    /* Release: pairs with the acquire of the next QLOCK holder. */
    atomic_store_explicit(&c->word, (uintptr_t)head, memory_order_release);
    if (wake)
        wake_node(wake, how);
}

void ferry_cond_broadcast(ferry_cond *c)
{
    if (!c)
        return;
    FERRY__RT_MAY_BLOCK("ferry_cond_broadcast"); /* as ferry_cond_signal */
    /* Relaxed: as in ferry_cond_signal. */
    if (atomic_load_explicit(&c->word, memory_order_relaxed) == 0)
        return;
    uintptr_t w = qlock(&c->word);
    node *list = head_of(w);
    node *wake = NULL, *each = NULL;
    if (list) {
        check_cond_head(c, list);
        bool one_mutex = true;
        node *p = list;
        do {
            one_mutex &= p->mutex == list->mutex;
            p = q_next(p);
        } while (p != list);
        if (one_mutex) {
            wake = move_to_mutex(list->mutex, list);
        } else {
            /* Misuse tolerated in release builds (FERRY_DEBUG aborts at the
             * wait): wake them all, each relocks its own mutex. */
            p = list;
            do {
                atomic_store_explicit(&p->where, 0, memory_order_relaxed);
                p = q_next(p);
            } while (p != list);
            each = list;
        }
    }
    /* Release: pairs with the acquire of the next QLOCK holder. */
    atomic_store_explicit(&c->word, 0, memory_order_release);
    if (wake)
        wake_node(wake, S_WOKEN);
    if (each) {
        /* The list is ours now (unlinked, under no lock); read each next
         * pointer before the wake lets that node go. */
        node *p = each, *last = q_prev(each);
        for (;;) {
            node *next = q_next(p);
            bool done = p == last;
            wake_node(p, S_RETRY);
            if (done)
                break;
            p = next;
        }
    }
}
