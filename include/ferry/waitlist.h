/* SPDX-License-Identifier: MIT */
/* ferry/waitlist.h: the list of waiting operations.
 *
 * The intrusive list of waiters the channel is built on: a waiting operation
 * embeds a ferry_waiter (on the waiting thread's stack, or in a caller-owned
 * async operation struct) and links it into a ferry_waitlist owned by the
 * object it waits on. Nothing is allocated, ever.
 *
 * All mutation of a waitlist, and of the waiters linked in it, happens under
 * a lock the caller holds (the channel's, the mutex's). Waking happens after
 * that lock is dropped:
 *
 *     lock(&chan->lock);
 *     ferry_wakeset ws = FERRY_WAKESET_INIT;
 *     uint64_t round = ferry_waitlist_round(&chan->receivers);
 *     ferry_waitlist_take(&chan->receivers, round, &ws, n);  // FIFO, up to n
 *     unlock(&chan->lock);
 *     ferry_wakeset_wake(&ws);    // calls each waiter's wake function
 *
 * Rounds make waking starvation-free: a round is a snapshot of the list's
 * tail, and a waiter linked after the round began (for example a woken waiter
 * that found nothing and went back to sleep) is not taken by that round, even
 * if the round continues after dropping and retaking the lock. Waiters are
 * taken oldest first.
 *
 * The inline calls (init, fini, empty, len, name, waiter init and fini) do
 * not check for NULL; the list and the waiter must exist.
 *
 * Misuse aborts with a message naming the list (its name, or "(unnamed)",
 * and its address) where one is involved, and the waiter: finishing a
 * waitlist that still has waiters, finishing a waiter that is still linked
 * or is waiting in a wakeset to be woken, linking a waiter twice, unlinking
 * a waiter that is linked on another list (one linked on no list is left
 * alone), moving a waiter that is not linked on the list given, and waking
 * (with ferry_wakeset_wake) a waiter that has no wake function.
 *
 * Zero-filled memory is a valid empty waitlist, waiter and wakeset.
 * Nothing here blocks or allocates.
 */
#ifndef FERRY_WAITLIST_H
#define FERRY_WAITLIST_H

#include <ferry/common.h>
#include <ferry/list.h>

#include <pthread.h>

FERRY_EXTERN_C_BEGIN

typedef struct ferry_waiter ferry_waiter;
typedef struct ferry_waitlist ferry_waitlist;

/* Called by ferry_wakeset_wake(), without the caller's lock, once per take.
 * When it is called the waiter is on no list: the wake function may let the
 * waiter's owner free or reuse it, and nothing in ferry touches `w` after the
 * call begins. */
typedef void (*ferry_wake_fn)(ferry_waiter *w);

/* A waiting operation's link, embedded in its owner (on the waiting
 * thread's stack, in a ferry_op). Its fields belong to the calls below:
 * read them through ferry_waiter_linked and ferry_waiter_taken. Zero-filled
 * (or after ferry_waiter_init): linked nowhere. */
struct ferry_waiter {
    ferry_list node;          /* in owner's list, or in a wakeset           */
    ferry_waitlist *owner;    /* the list it is linked on; NULL if none      */
    uint64_t seq;             /* link order within owner, for rounds         */
    ferry_wake_fn wake;       /* what waking it means                        */
    bool taken;               /* in a wakeset, not yet woken                 */
};

/* The waiters of one object, oldest first, protected by the object's
 * lock. Zero-filled: empty and unnamed. */
struct ferry_waitlist {
    ferry_list head;
    size_t len;               /* waiters linked                              */
    uint64_t next_seq;        /* seq of the next waiter to be linked         */
    const char *name;         /* for misuse reports; may be NULL             */
};

/* Waiters taken from waitlists, to be woken after the lock is dropped. */
typedef struct ferry_wakeset {
    ferry_list head;
    size_t len;
} ferry_wakeset;

/* Static initializers of an empty, unnamed waitlist and an empty wakeset:
 * the same as zero-filling (ferry_waitlist_init names a list). */
#define FERRY_WAITLIST_INIT {{FERRY__NULLPTR, FERRY__NULLPTR}, 0, 0, FERRY__NULLPTR}
#define FERRY_WAKESET_INIT {{FERRY__NULLPTR, FERRY__NULLPTR}, 0}

/* Out-of-line misuse reports (src/waitlist.c). */
__attribute__((noreturn, cold)) void ferry__waitlist_misuse(const char *what, const ferry_waitlist *wl,
                                                            const ferry_waiter *w);

/* The list's name for messages: its name, or "(unnamed)" (also for NULL). */
static inline const char *ferry_waitlist_name(const ferry_waitlist *wl)
{
    return wl && wl->name ? wl->name : "(unnamed)";
}

/* Initialize an empty list. `name` (may be NULL) is kept by pointer. */
static inline void ferry_waitlist_init(ferry_waitlist *wl, const char *name)
{
    ferry_list_init(&wl->head);
    wl->len = 0;
    wl->next_seq = 0;
    wl->name = name;
}

/* Finish a list. Aborts if waiters are still linked: they would point at
 * freed memory. */
static inline void ferry_waitlist_fini(ferry_waitlist *wl)
{
    if (FERRY_UNLIKELY(wl->len != 0))
        ferry__waitlist_misuse("destroyed with waiters linked", wl, FERRY__NULLPTR);
}

/* Whether any waiter is linked, and how many. */
static inline bool ferry_waitlist_empty(const ferry_waitlist *wl) { return wl->len == 0; }
static inline size_t ferry_waitlist_len(const ferry_waitlist *wl) { return wl->len; }

/* Prepare a waiter; `wake` is what ferry_wakeset_wake() will call. */
static inline void ferry_waiter_init(ferry_waiter *w, ferry_wake_fn wake)
{
    w->node.next = w->node.prev = FERRY__NULLPTR;
    w->owner = FERRY__NULLPTR;
    w->seq = 0;
    w->wake = wake;
    w->taken = false;
}

/* Finish a waiter. Aborts if it is still linked, or taken and not yet woken:
 * its memory is about to go away while a list still points at it. */
static inline void ferry_waiter_fini(ferry_waiter *w)
{
    if (FERRY_UNLIKELY(w->owner != FERRY__NULLPTR))
        ferry__waitlist_misuse("still links a waiter that is being finished", w->owner, w);
    if (FERRY_UNLIKELY(w->taken))
        ferry__waitlist_misuse("had a waiter taken for waking that is being finished before it was woken",
                               FERRY__NULLPTR, w);
}

/* Whether `w` is linked on a list, and whether it is in a wakeset waiting to
 * be woken (at most one of the two holds). */
static inline bool ferry_waiter_linked(const ferry_waiter *w) { return w->owner != FERRY__NULLPTR; }
static inline bool ferry_waiter_taken(const ferry_waiter *w) { return w->taken; }

/* Link `w` at the tail. Aborts if it is already linked or taken. */
static inline void ferry_waitlist_link(ferry_waitlist *wl, ferry_waiter *w)
{
    if (FERRY_UNLIKELY(w->owner != FERRY__NULLPTR || w->taken))
        ferry__waitlist_misuse("was asked to link a waiter that is already linked", w->owner ? w->owner : wl, w);
    ferry_list_add_tail(&wl->head, &w->node);
    w->owner = wl;
    w->seq = wl->next_seq++;
    wl->len++;
}

/* Unlink `w` if it is linked on `wl`; returns whether it was. A waiter that
 * is not linked (never linked, already taken, already woken) is left alone.
 * Aborts if `w` is linked on a different list. */
static inline bool ferry_waitlist_unlink(ferry_waitlist *wl, ferry_waiter *w)
{
    if (w->owner == FERRY__NULLPTR)
        return false;
    if (FERRY_UNLIKELY(w->owner != wl))
        ferry__waitlist_misuse("was asked to unlink a waiter that is linked on another list", wl, w);
    ferry_list_del(&w->node);
    w->owner = FERRY__NULLPTR;
    wl->len--;
    return true;
}

/* Begin a wake round: the returned value admits exactly the waiters linked
 * now. Pass it to peek/take for as long as the round lasts. */
static inline uint64_t ferry_waitlist_round(const ferry_waitlist *wl) { return wl->next_seq; }

/* A round that admits every waiter, whenever it was linked. */
#define FERRY_ROUND_ALL UINT64_MAX

/* The oldest waiter admitted by `round`, left linked; NULL if none. */
static inline ferry_waiter *ferry_waitlist_peek(const ferry_waitlist *wl, uint64_t round)
{
    ferry_list *n = ferry_list_first(&wl->head);
    if (!n)
        return FERRY__NULLPTR;
    ferry_waiter *w = ferry_container_of(n, ferry_waiter, node);
    return w->seq < round ? w : FERRY__NULLPTR;
}

/* The waiter after `w` on its list that `round` admits, or NULL. */
static inline ferry_waiter *ferry_waitlist_next(const ferry_waitlist *wl, const ferry_waiter *w,
                                                uint64_t round)
{
    if (w->node.next == &wl->head)
        return FERRY__NULLPTR;
    ferry_waiter *n = ferry_container_of(w->node.next, ferry_waiter, node);
    return n->seq < round ? n : FERRY__NULLPTR;
}

/* Make ws empty (the same as zero-filling it or FERRY_WAKESET_INIT). */
static inline void ferry_wakeset_init(ferry_wakeset *ws)
{
    ferry_list_init(&ws->head);
    ws->len = 0;
}

/* Whether ws holds no waiter to wake. */
static inline bool ferry_wakeset_empty(const ferry_wakeset *ws) { return ws->len == 0; }

/* Move linked waiter `w` from `wl` to the wakeset (it will be woken after
 * the lock is dropped). Aborts if `w` is not linked on `wl`. */
static inline void ferry_waitlist_move(ferry_waitlist *wl, ferry_waiter *w, ferry_wakeset *ws)
{
    if (FERRY_UNLIKELY(w->owner != wl))
        ferry__waitlist_misuse("was asked to give up a waiter that is not linked on it", wl, w);
    ferry_list_del(&w->node);
    w->owner = FERRY__NULLPTR;
    wl->len--;
    w->taken = true;
    ferry_list_add_tail(&ws->head, &w->node);
    ws->len++;
}

/* Take up to `max` of the oldest waiters admitted by `round` into `ws`;
 * returns how many were taken. */
static inline size_t ferry_waitlist_take(ferry_waitlist *wl, uint64_t round, ferry_wakeset *ws,
                                         size_t max)
{
    size_t n = 0;
    ferry_waiter *w;
    while (n < max && (w = ferry_waitlist_peek(wl, round)) != FERRY__NULLPTR) {
        ferry_waitlist_move(wl, w, ws);
        n++;
    }
    return n;
}

/* Wake every waiter in `ws`, oldest first, and leave `ws` empty. Call it
 * after dropping the lock that protects the waitlists. Each waiter is
 * detached before its wake function runs, and not touched afterwards.
 * Returns the number woken. Aborts with a message on a waiter whose wake
 * function is NULL (a zero-filled waiter, or one initialized with NULL:
 * such waiters may be linked and taken, but their owner must wake them
 * itself). With more than one waiter, thread cancellation is held off
 * until all are woken (a wake function that reaches a cancellation point
 * would otherwise leave the rest unwoken, on no list, for ever): a
 * request takes effect at the thread's next cancellation point. */
static inline size_t ferry_wakeset_wake(ferry_wakeset *ws)
{
    size_t n = 0;
    ferry_list *node;
    int cancel_state = 0;
    bool hold = ws->len > 1;
    if (hold)
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    while ((node = ferry_list_first(&ws->head)) != FERRY__NULLPTR) {
        ferry_waiter *w = ferry_container_of(node, ferry_waiter, node);
        ferry_list_del(node);
        ws->len--;
        w->taken = false;
        ferry_wake_fn fn = w->wake;
        if (FERRY_UNLIKELY(!fn))
            ferry__waitlist_misuse("was asked to wake a waiter that has no wake function "
                                   "(ferry_wakeset_wake)", FERRY__NULLPTR, w);
        fn(w);
        n++;
    }
    if (hold)
        pthread_setcancelstate(cancel_state, FERRY__NULLPTR);
    return n;
}

FERRY_EXTERN_C_END

#endif /* FERRY_WAITLIST_H */
