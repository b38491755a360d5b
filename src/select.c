/* SPDX-License-Identifier: MIT */
/* Select over several channels (include/ferry/select.h; docs/chan.md,
 * "Select").
 *
 * How a select runs:
 *  1. Check every case (-EINVAL before anything happens).
 *  2. Draw a random order of the cases (Fisher-Yates from a per-thread
 *     xorshift generator; Go's pollorder), lazily: each position as the
 *     try pass gets to it.
 *  3. Try pass: in that order, the try call of each case with a handle.
 *     The first that does not say -EAGAIN is the chosen case. Nothing is
 *     linked, so no other case can have moved anything.
 *  4. Otherwise (not a try select, deadline not past): start every case, in
 *     the same order, as an async op (the op lives in the case) through
 *     ferry__recv_start_claimed / ferry__send_start_claimed, all with one
 *     claim word W (cases[0].priv_.claim) and one waker. A send case
 *     completes once one item is taken (need = 1). A start either links its
 *     op (-EINPROGRESS), or completes it at once (it won W), or finds W won
 *     by an earlier case that another thread completed in the meantime
 *     (FERRY__CLAIM_LOST: nothing moved, nothing linked). The last two end
 *     the starting.
 *  5. Blocking form: if every started case is linked, sleep on one futex
 *     word, which the waker sets, until it is set or the deadline passes.
 *  6. Cancel every linked case (ferry_op_cancel). Then W names the chosen
 *     case, whose op holds its result; W = 0 means nothing completed
 *     (the deadline passed).
 * The async select (ferry_select_start) is steps 1-4 with the user's waker;
 * ferry_select_cancel is step 6.
 *
 * The claim word (chan_op.h has the protocol, chan_move.c the sites):
 *   0 (open) -> op | PROVISIONAL -> 0 or op;  0 -> op (final).
 *
 * Why it is right. Facts from the op machine:
 *  C1 Every move of items into or out of a claimed op, and every completion
 *     of one (closed: 0, -EPIPE; -ENOMEM), is preceded, in the same hold of
 *     that op's channel lock, by a claim of W for that op: final where the
 *     move is certain, or provisional and then settled -- final if something
 *     moved, open if nothing did. That holds for the completers (handoffs,
 *     settle, refill, close) and, through the hook this file completes, for
 *     the op's own start (its buffer take or put, its handoffs, closed,
 *     no memory).
 *  C2 W leaves 0 only by a CAS from 0, and a final W never changes (a
 *     provisional claim is settled by a CAS from op | PROVISIONAL). So at
 *     most one op of a select ever holds W final.
 *  C3 A final claim comes with the completion of its op in the same hold of
 *     the lock: every receive completes with its first items; a case's send
 *     needs 1 item; a close completes what it claims; a start that won
 *     returns its result. So W's op is never left linked: a select never
 *     waits for "its" channel alone while another case could complete.
 *  C4 A linked op whose W is final for a sibling is unlinked (LOST) by the
 *     first completer that meets it, having moved nothing; the channel's own
 *     invariants (chan_internal.h I1-I4, chan_lf.c D1-D3) complete every
 *     other linked op as soon as its channel can.
 * Claims are deadlock-free: a thread that holds a provisional claim waits
 * for nothing but a word at a higher address (ferry__op_claim_pair takes
 * two words in address order), and takes no lock.
 *
 * (a) No case other than the chosen one moves anything. In the try pass
 *     nothing is linked, and every try call before the chosen one returned
 *     -EAGAIN, which moves nothing. After it, by C1 and C2 only the op that
 *     holds W final moves items, and the chosen case is that op. The
 *     selector checks it: every other case's cancel must report 0 moved,
 *     or the library aborts.
 * (b) No lost wakeup. The blocking form sleeps only when every case with a
 *     handle was linked by its start. A case that becomes ready after its
 *     start linked it is completed by whoever makes it ready (C4), unless a
 *     sibling already won W -- then that sibling is complete (C3). Either
 *     way exactly one op completes through a waker, which sets the futex
 *     word and wakes the sleeper if it sleeps: the sleeper's CAS from 0 to
 *     SLEEPING and the waker's exchange to WOKEN are RMWs of one word, so
 *     either the CAS fails (no sleep) or the waker sees SLEEPING (futex
 *     wake, and a futex_wait that starts after the exchange returns at
 *     once). A start that finds W won (LOST) or wins it itself does not
 *     sleep at all. A case that became ready between the try pass and its
 *     start is found by the start, which re-checks everything under the
 *     lock. A provisional claim that came up empty (a lock-free fast path
 *     took the item first) leaves its op linked and unclaimed: the item is
 *     gone, and the op waits like any other.
 * (c) The chosen case's result accounts for every item moved. A receive
 *     op's result is its `done` at completion, the count copied into buf; a
 *     send op's result is its `done`, the count taken from buf, the rest
 *     (buf[done..n)) never touched; closed results come after a final claim
 *     (C1) with nothing moved. By (a) the other cases moved nothing, and on
 *     a timeout every linked case is cancelled first, so a case completed
 *     before its cancel took the lock is reported (W names it) rather than
 *     lost; W = 0 after all cancels means nothing moved.
 * (d) Nothing outlives the call. Every linked case is cancelled before the
 *     call returns, and a cancel returns only once the op's waker will not
 *     be called and is not running (ferry/op.h): the blocking form's waker
 *     context and futex word live on the selector's stack.
 * (e) Fairness. The try pass visits the cases in a uniformly random order,
 *     so the first ready one is uniform among those ready during the pass.
 * Two selects across each other (S1: send X, receive Y; S2: send Y,
 * receive X; X and Y rendezvous) cannot both sleep: whichever links second
 * on a channel finds the other's case there under that channel's lock and
 * pairs with it -- taking both claims in address order, or finding the
 * other select already decided, which is progress too. The Promela model
 * models/chan_select.pml checks the claim protocol (a completer racing a
 * selector's starts and its cancels), and that the variants without the
 * start's own claim, and with the old claim that stays on an op whose move
 * came up empty, fail.
 *
 * Atomics: the claim word (chan_op.c O6) and the sleep word:
 *  S1 ferry__select_wake's exchange to WOKEN is a release: the sleeper's acquire
 *     loads pair with it (the completion itself is published to the
 *     selector by the cancels, which take the channel locks, chan_op.c
 *     O1-O3). The sleeper's CAS to SLEEPING and the exchange are RMWs of
 *     one word: one of them sees the other (proof (b)).
 */
/* ferry_select_until is defined under its plain name (ferry/select.h). */
#define FERRY__TIME64_IMPL 1
#include <ferry/select.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>

#include "chan_op.h"
#include "futex.h"
#include "rt_block.h"
#include "time64.h"

enum { CASE_IDLE = 0, CASE_LINKED = 1, CASE_FINISHED = 2 };
enum { SEL_NEVER = 0, SEL_PENDING = 1, SEL_DONE = 2 };
enum { SLEEP_IDLE = 0, SLEEP_SLEEPING = 1, SLEEP_WOKEN = 2 };

/* ------------------------------------------------------------------------ */
/* The order of a call                                                       */

static FERRY_TLS uint64_t rng_state;

/* Seed this thread's generator (tests make the order reproducible). */
void ferry__select_seed(uint64_t seed);
void ferry__select_seed(uint64_t seed) { rng_state = seed ? seed : 0x9e3779b97f4a7c15ull; }

/* xorshift64*: fast, and plenty for choosing among cases. */
static inline uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    if (FERRY_UNLIKELY(x == 0)) /* first use on this thread */
        x = ((uint64_t)(uintptr_t)&rng_state ^ ferry__now_ns()) * 0x9e3779b97f4a7c15ull | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n), n >= 1, without bias (Lemire's multiply and reject). */
static inline uint32_t rng_below(uint32_t n)
{
    uint64_t m = (rng_next() >> 32) * (uint64_t)n;
    if (FERRY_UNLIKELY((uint32_t)m < n)) {
        uint32_t floor = (uint32_t)-n % n;
        while ((uint32_t)m < floor)
            m = (rng_next() >> 32) * (uint64_t)n;
    }
    return (uint32_t)(m >> 32);
}

/* The order is drawn lazily, as the cases are looked at (Fisher-Yates from
 * the front): the k-th case to look at is cases[cases[k].priv_.order], and
 * position k is drawn -- uniformly among the cases not placed yet -- only
 * when the caller gets there. A try pass that finds the first case it looks
 * at ready draws one number, not n. check_cases starts the order as the
 * identity. */
static inline uint32_t order_at(ferry_select_case *cases, uint32_t k, uint32_t n)
{
    uint32_t j = k + rng_below(n - k);
    uint32_t i = cases[j].priv_.order;
    cases[j].priv_.order = cases[k].priv_.order;
    cases[k].priv_.order = i;
    return i;
}

/* ------------------------------------------------------------------------ */
/* Checking                                                                  */

/* The channel of a case (NULL: the case is never ready). */
static inline struct ferry_chan *case_chan(const ferry_select_case *sc)
{
    return sc->op == FERRY_SELECT_RECV ? ferry__rx_chan(sc->rx) : ferry__tx_chan(sc->tx);
}

/* Check every case (select.h, "Arguments"); counts the cases with a
 * handle into *live. Sets each case up for this call: its channel, and the
 * identity order. 0 or -EINVAL. */
static int check_cases(ferry_select_case *cases, size_t n, size_t *live)
{
    if ((!cases && n > 0) || n > INT_MAX)
        return -EINVAL;
    *live = 0;
    for (size_t i = 0; i < n; i++) {
        ferry_select_case *sc = &cases[i];
        if (FERRY_UNLIKELY((unsigned)sc->op - FERRY_SELECT_RECV > FERRY_SELECT_SEND - FERRY_SELECT_RECV))
            return -EINVAL;
        struct ferry_chan *c = case_chan(sc);
        sc->priv_.chan = c;
        sc->priv_.order = (uint32_t)i;
        if (!c)
            continue;
        /* n - 1 >= max_count: n == 0, or more than any buffer holds. */
        if (FERRY_UNLIKELY(!sc->buf || sc->n - 1 >= c->max_count ||
                           (sc->prio >= c->levels && sc->op == FERRY_SELECT_SEND)))
            return -EINVAL;
        ++*live;
    }
    return 0;
}

/* Are these cases (or some of them) a select in flight -- started by
 * ferry_select_start and not yet cancelled? A call on them must not touch
 * them: resetting the claim word or a linked case's state would leave its
 * op linked in a channel after the cancel. Zero-filled cases are not
 * (select.h asks for them); neither are finished ones (every linked case
 * is FINISHED once its select's cancel returns). */
static bool in_flight(const ferry_select_case *cases, size_t n)
{
    if (!cases || n == 0 || n > INT_MAX)
        return false;
    if (cases[0].priv_.sel_state == SEL_PENDING)
        return true;
    for (size_t i = 0; i < n; i++)
        if (cases[i].priv_.state == CASE_LINKED)
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* The steps                                                                 */

/* Steps 2 and 3: the try pass, drawing the order as it goes. The chosen
 * index, or -EAGAIN (the whole order drawn). */
static int try_pass(ferry_select_case *cases, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        ferry_select_case *sc = &cases[order_at(cases, k, n)];
        struct ferry_chan *c = (struct ferry_chan *)sc->priv_.chan;
        if (!c)
            continue;
        ssize_t r = sc->op == FERRY_SELECT_RECV ? c->path->recv(c, sc->buf, sc->n, FERRY__TRY, NULL)
                                                : c->path->send(c, sc->buf, sc->n, sc->prio, FERRY__TRY, NULL);
        if (r != -EAGAIN) {
            sc->result = r;
            return (int)(sc - cases);
        }
    }
    return -EAGAIN;
}

/* Step 4: start the cases in the order. -EINPROGRESS: every case with a
 * handle is linked. Otherwise a case finished the starting: one won at once
 * (its index), or one linked earlier was won on another thread
 * (FERRY__CLAIM_LOST). */
static int start_cases(ferry_select_case *cases, uint32_t n, ferry_waker w)
{
    FERRY_ATOMIC(uintptr_t) *claim = &cases[0].priv_.claim;
    /* Relaxed: the word is published to completers by the channel locks
     * of the starts below (O6). */
    atomic_store_explicit(claim, 0, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++)
        cases[i].priv_.state = CASE_IDLE;
    for (uint32_t k = 0; k < n; k++) {
        ferry_select_case *sc = &cases[cases[k].priv_.order];
        if (!sc->priv_.chan)
            continue;
        ferry_op *op = &sc->priv_.op;
        ssize_t r = sc->op == FERRY_SELECT_RECV
                        ? ferry__recv_start_claimed(sc->rx, op, sc->buf, sc->n, w, claim)
                        : ferry__send_start_claimed(sc->tx, op, sc->buf, sc->n, sc->prio, 1, w, claim);
        if (r == -EINPROGRESS) {
            sc->priv_.state = CASE_LINKED; /* from here the op is the channel's until cancelled */
            continue;
        }
        sc->priv_.state = CASE_FINISHED;
        return r == FERRY__CLAIM_LOST ? FERRY__CLAIM_LOST : (int)(sc - cases);
    }
    return -EINPROGRESS;
}

/* Step 6: cancel every linked case; the chosen index (its result set), or
 * -1 if nothing completed. */
static int finish_cases(ferry_select_case *cases, uint32_t n)
{
    FERRY_ATOMIC(uintptr_t) *claim = &cases[0].priv_.claim;
    for (uint32_t i = 0; i < n; i++) {
        ferry_select_case *sc = &cases[i];
        if (sc->priv_.state != CASE_LINKED)
            continue;
        ssize_t r = ferry_op_cancel(&sc->priv_.op);
        sc->priv_.state = CASE_FINISHED;
        /* Relaxed: our cancel took the lock under which any claim of this
         * op was made (O6). Proof (a): a case that did not win moved nothing. */
        if (FERRY_UNLIKELY(r != 0 && atomic_load_explicit(claim, memory_order_relaxed) != (uintptr_t)&sc->priv_.op))
            ferry__die("select: case %u moved %zd items without being chosen", i, r);
    }
    /* Relaxed: as above; after every cancel, no claim can be provisional. */
    uintptr_t won = atomic_load_explicit(claim, memory_order_relaxed);
    if (won == 0)
        return -1;
    ferry_select_case *sc = (ferry_select_case *)(won - offsetof(ferry_select_case, priv_.op));
    sc->result = ferry_op_result(&sc->priv_.op);
    return (int)(sc - cases);
}

/* Record a finished select in case 0 (ferry_select_cancel reports it). */
static int sel_done(ferry_select_case *cases, size_t n, int result)
{
    if (cases && n > 0 && n <= INT_MAX) {
        cases[0].priv_.sel_state = SEL_DONE;
        cases[0].priv_.sel_result = result;
    }
    return result;
}

/* ------------------------------------------------------------------------ */
/* Blocking forms                                                            */

/* The blocking form's waker: the one futex word of the select (S1). Its
 * address marks the cases of a blocking select (chan_op.h). */
void ferry__select_wake(void *ctx)
{
    FERRY_ATOMIC(uint32_t) *word = &((struct ferry__select_sleep *)ctx)->word;
    /* Release: S1. The word outlives this call: the selector's cancel of
     * the chosen case waits for its waker to return (proof (d)). */
    if (atomic_exchange_explicit(word, SLEEP_WOKEN, memory_order_release) == SLEEP_SLEEPING)
        ferry__futex_wake(word, 1);
}

/* Sleep on the word until the waker sets it, or the deadline passes. */
static void sleep_on(FERRY_ATOMIC(uint32_t) *word, const struct timespec *deadline)
{
    uint32_t expect = SLEEP_IDLE;
    /* Acquire on failure: S1 (the only other value is WOKEN). */
    if (!atomic_compare_exchange_strong_explicit(word, &expect, SLEEP_SLEEPING, memory_order_acquire,
                                                 memory_order_acquire))
        return;
    for (;;) {
        int r = ferry__futex_wait(word, SLEEP_SLEEPING, deadline);
        if (atomic_load_explicit(word, memory_order_acquire) == SLEEP_WOKEN) /* S1 */
            return;
        if (r == -ETIMEDOUT)
            return;
    }
}

static int select_call(ferry_select_case *cases, size_t ncases, enum ferry__mode mode,
                       const struct timespec *deadline)
{
    size_t live;
    if (in_flight(cases, ncases))
        return -EINVAL; /* another select's cases: record nothing in them */
    if (check_cases(cases, ncases, &live) || !ferry__deadline_valid(deadline) ||
        (mode == FERRY__BLOCK && !deadline && live == 0))
        return sel_done(cases, ncases, -EINVAL);
    uint32_t n = (uint32_t)ncases;
    int r = -EAGAIN;
    if (live > 0) {
        r = try_pass(cases, n);
        if (r >= 0 || mode == FERRY__TRY)
            return sel_done(cases, ncases, r);
    } else if (mode == FERRY__TRY) {
        return sel_done(cases, ncases, -EAGAIN);
    }
    /* The waker's context: the futex word, and whose wait it is (chan_op.h,
     * for fork). Relaxed: published to completers by the starts' locks. */
    struct ferry__select_sleep sl;
    atomic_store_explicit(&sl.word, SLEEP_IDLE, memory_order_relaxed);
    sl.owner = ferry__thread_mark();
    if (live == 0) {
        /* Nothing can ever be ready: sleep until the deadline. */
        while (!ferry__deadline_passed(deadline))
            ferry__futex_wait(&sl.word, SLEEP_IDLE, deadline);
        return sel_done(cases, ncases, -ETIMEDOUT);
    }
    if (ferry__deadline_passed(deadline))
        return sel_done(cases, ncases, -ETIMEDOUT);
    ferry_waker w = {ferry__select_wake, &sl};
    if (start_cases(cases, n, w) == -EINPROGRESS)
        sleep_on(&sl.word, deadline);
    r = finish_cases(cases, n);
    return sel_done(cases, ncases, r >= 0 ? r : -ETIMEDOUT);
}

int ferry_select(ferry_select_case *cases, size_t ncases)
{
    FERRY__RT_MAY_BLOCK("ferry_select");
    if (ncases == 0)
        return -EINVAL;
    return select_call(cases, ncases, FERRY__BLOCK, NULL);
}

int ferry_try_select(ferry_select_case *cases, size_t ncases)
{
    return select_call(cases, ncases, FERRY__TRY, NULL);
}

int ferry_select_until(ferry_select_case *cases, size_t ncases, const struct timespec *deadline)
{
    FERRY__RT_MAY_BLOCK("ferry_select_until");
    struct timespec buf;
    return select_call(cases, ncases, FERRY__BLOCK, ferry__deadline_of32(deadline, &buf));
}

int ferry__select_until_time64(ferry_select_case *cases, size_t ncases, const struct timespec *deadline)
{
    FERRY__RT_MAY_BLOCK("ferry_select_until");
    struct timespec buf;
    return select_call(cases, ncases, FERRY__BLOCK, ferry__deadline_of64(deadline, &buf));
}

/* ------------------------------------------------------------------------ */
/* Async form                                                                */

int ferry_select_start(ferry_select_case *cases, size_t ncases, ferry_waker w)
{
    size_t live;
    if (in_flight(cases, ncases))
        return -EINVAL; /* another select's cases: record nothing in them */
    if (ncases == 0 || !w.wake || check_cases(cases, ncases, &live))
        return sel_done(cases, ncases, -EINVAL);
    uint32_t n = (uint32_t)ncases;
    for (uint32_t i = 0; i < n; i++)
        cases[i].priv_.state = CASE_IDLE;
    /* Relaxed: nothing is linked yet (O6). */
    atomic_store_explicit(&cases[0].priv_.claim, 0, memory_order_relaxed);
    if (live > 0) {
        int r = try_pass(cases, n);
        if (r >= 0)
            return sel_done(cases, ncases, r);
        r = start_cases(cases, n, w);
        if (r >= 0) {
            /* Won at once: withdraw the cases linked before it (they moved
             * nothing: C2). The waker is never called. */
            finish_cases(cases, n);
            return sel_done(cases, ncases, r);
        }
        /* -EINPROGRESS, or FERRY__CLAIM_LOST: a linked case was completed
         * on another thread, whose waker call is on its way. */
    }
    cases[0].priv_.sel_state = SEL_PENDING;
    cases[0].priv_.sel_result = (int32_t)n; /* while pending: the count its cancel must name */
    return -EINPROGRESS;
}

/* From the select's own waker too (select.h), once the start has
 * returned: the chosen case's ferry_op_cancel finds its own waker running
 * on this thread and does not wait for it (chan_op.c); the other cases'
 * cancels take their channels' locks, which no waker holds (wakers run
 * after their round dropped the lock). Before the start has returned it
 * would race with start_cases' writes to the cases and sel_state. */
int ferry_select_cancel(ferry_select_case *cases, size_t ncases)
{
    if (!cases || ncases == 0 || ncases > INT_MAX)
        return -EINVAL;
    switch (cases[0].priv_.sel_state) {
    case SEL_DONE:
        return cases[0].priv_.sel_result;
    case SEL_PENDING:
        /* A cancel of fewer cases would leave the others linked; of more,
         * read past the array. */
        if (ncases != (size_t)cases[0].priv_.sel_result)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    int r = finish_cases(cases, (uint32_t)ncases);
    return sel_done(cases, ncases, r >= 0 ? r : -ECANCELED);
}
