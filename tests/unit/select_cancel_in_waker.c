/* SPDX-License-Identifier: MIT */
/* ferry/select.h: ferry_select_cancel called from the select's own waker,
 * once ferry_select_start has returned. The waker is then the chosen
 * case's own, running on this thread: the cancel does not wait for it
 * (ferry_op_cancel knows its own waker), withdraws the other cases and
 * returns the chosen index; the waker may then reuse or free the cases.
 * On the completing thread and on the starting thread; and the hand-over
 * select.h describes for a waker that may run before the start returns
 * (ThreadSanitizer: the cases pass between the threads race-free). */
#include <errno.h>
#include <ferry/select.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "chan_test.h"

/* Rendezvous (chan_kinds[0]) or capacity 1 (chan_kinds[1]). */
static void open_cap(size_t cap, ferry_tx **tx, ferry_rx **rx)
{
    CHECK(cap <= 1);
    open_chan_kind(&chan_kinds[cap], tx, rx);
}

static void release_chan(ferry_tx *tx, ferry_rx *rx)
{
    ferry_rx_release(rx);
    ferry_tx_release(tx);
}

static ferry_select_case recv_case(ferry_rx *rx, long *buf)
{
    ferry_select_case c;
    memset(&c, 0, sizeof c);
    c.op = FERRY_SELECT_RECV;
    c.rx = rx;
    c.buf = buf;
    c.n = 1;
    return c;
}

/* A select of receives on alpha and beta whose waker cancels it. */
struct sel {
    ferry_select_case cs[2];
    long out[2];
    ferry_tx *atx, *btx;
    ferry_rx *arx, *brx;
    FERRY_ATOMIC(int) chosen; /* -2: not finished; the cancel's answer    */
    int rounds;               /* restarts left (cancel_then_restart_wake) */
};

static void sel_open(struct sel *s, size_t cap)
{
    memset(s, 0, sizeof *s);
    open_cap(cap, &s->atx, &s->arx);
    open_cap(cap, &s->btx, &s->brx);
    atomic_store(&s->chosen, -2);
}

static void sel_arm(struct sel *s)
{
    s->cs[0] = recv_case(s->arx, &s->out[0]);
    s->cs[1] = recv_case(s->brx, &s->out[1]);
}

static void sel_close(struct sel *s)
{
    release_chan(s->atx, s->arx);
    release_chan(s->btx, s->brx);
}

/* Release: the cancel's writes to the cases, for whoever reads `chosen`. */
static void cancel_wake(void *ctx)
{
    struct sel *s = ctx;
    atomic_store_explicit(&s->chosen, ferry_select_cancel(s->cs, 2), memory_order_release);
}

static int wait_chosen(struct sel *s)
{
    int r;
    while ((r = atomic_load_explicit(&s->chosen, memory_order_acquire)) == -2)
        sched_yield();
    return r;
}

/* After the cancel the other case is withdrawn: an item sent to beta stays
 * there (cap 1), and the select's cancel answers the same again. */
static void check_beta_withdrawn(struct sel *s)
{
    long v = 9, got = 0;
    CHECK_EQ(ferry_try_send(s->btx, &v, 1), 1);
    CHECK_EQ(ferry_try_recv(s->brx, &got, 1), 1);
    CHECK_EQ(got, 9);
    CHECK_EQ(ferry_select_cancel(s->cs, 2), 0);
}

static void *send_alpha(void *arg)
{
    struct sel *s = arg;
    long v = 5;
    CHECK_EQ(ferry_send(s->atx, &v, 1), 1);
    return NULL;
}

FERRY_TEST(cancel_from_waker_on_the_completing_thread)
{
    struct sel s;
    sel_open(&s, 1);
    sel_arm(&s);
    CHECK_EQ(ferry_select_start(s.cs, 2, (ferry_waker){cancel_wake, &s}), -EINPROGRESS);
    pthread_t t;
    pthread_create(&t, NULL, send_alpha, &s); /* completes case 0; the waker runs there */
    CHECK_EQ(wait_chosen(&s), 0);
    pthread_join(t, NULL);
    CHECK_EQ(s.cs[0].result, 1);
    CHECK_EQ(s.out[0], 5);
    check_beta_withdrawn(&s);
    sel_close(&s);
}

FERRY_TEST(cancel_from_waker_on_the_starting_thread)
{
    struct sel s;
    sel_open(&s, 1);
    sel_arm(&s);
    CHECK_EQ(ferry_select_start(s.cs, 2, (ferry_waker){cancel_wake, &s}), -EINPROGRESS);
    long v = 6;
    CHECK_EQ(ferry_send(s.atx, &v, 1), 1); /* the waker runs inside this send */
    CHECK_EQ(atomic_load(&s.chosen), 0);
    CHECK_EQ(s.cs[0].result, 1);
    CHECK_EQ(s.out[0], 6);
    check_beta_withdrawn(&s);
    sel_close(&s);
}

/* The waker cancels, then starts the select again on the same cases: after
 * the cancel they are the caller's. Each round is completed by a send on
 * alpha or beta, the waker nested in it. */
static void cancel_then_restart_wake(void *ctx)
{
    struct sel *s = ctx;
    int r = ferry_select_cancel(s->cs, 2);
    CHECK(r == 0 || r == 1);
    CHECK_EQ(s->cs[r].result, 1);
    atomic_store(&s->chosen, r);
    if (s->rounds-- > 0) {
        sel_arm(s);
        CHECK_EQ(ferry_select_start(s->cs, 2, (ferry_waker){cancel_then_restart_wake, s}), -EINPROGRESS);
    }
}

FERRY_TEST(waker_cancels_then_reuses_the_cases)
{
    struct sel s;
    sel_open(&s, 0);
    s.rounds = 20;
    sel_arm(&s);
    CHECK_EQ(ferry_select_start(s.cs, 2, (ferry_waker){cancel_then_restart_wake, &s}), -EINPROGRESS);
    for (long i = 0; i <= 20; i++) {
        atomic_store(&s.chosen, -2);
        CHECK_EQ(ferry_try_send(i % 2 ? s.btx : s.atx, &i, 1), 1); /* a rendezvous: only a linked case takes it */
        CHECK_EQ(atomic_load(&s.chosen), (int)(i % 2));
        CHECK_EQ(s.out[i % 2], i);
    }
    CHECK_EQ(ferry_select_cancel(s.cs, 2), 0); /* the last round, finished by its waker */
    long v = 1;
    CHECK_EQ(ferry_try_send(s.atx, &v, 1), -EAGAIN); /* nothing left linked */
    CHECK_EQ(ferry_try_send(s.btx, &v, 1), -EAGAIN);
    sel_close(&s);
}

/* The waker cancels, then frees the cases (heap): the round that called it
 * touches them no more (AddressSanitizer, ThreadSanitizer). */
struct heap_sel {
    ferry_select_case cs[2];
    long out[2];
    FERRY_ATOMIC(int) *done;
};

static void cancel_and_free_wake(void *ctx)
{
    struct heap_sel *h = ctx;
    FERRY_ATOMIC(int) *done = h->done;
    int r = ferry_select_cancel(h->cs, 2);
    CHECK_EQ(r, 1);
    CHECK_EQ(h->out[1], 8);
    free(h);
    atomic_store(done, 1);
}

static void *send_beta(void *arg)
{
    long v = 8;
    CHECK_EQ(ferry_send(arg, &v, 1), 1);
    return NULL;
}

FERRY_TEST(waker_cancels_then_frees_the_cases)
{
    struct sel s;
    sel_open(&s, 0);
    FERRY_ATOMIC(int) done = 0;
    struct heap_sel *h = calloc(1, sizeof *h);
    CHECK(h != NULL);
    h->done = &done;
    h->cs[0] = recv_case(s.arx, &h->out[0]);
    h->cs[1] = recv_case(s.brx, &h->out[1]);
    CHECK_EQ(ferry_select_start(h->cs, 2, (ferry_waker){cancel_and_free_wake, h}), -EINPROGRESS);
    pthread_t t;
    pthread_create(&t, NULL, send_beta, s.btx);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&done), 1);
    long v = 1;
    CHECK_EQ(ferry_try_send(s.atx, &v, 1), -EAGAIN); /* case 0 was withdrawn */
    sel_close(&s);
}

/* The hand-over of select.h for a waker that may run before the start has
 * returned: the starter after the start's return, the waker when called,
 * each add 1 (acq_rel: whoever comes second sees the other's writes to the
 * cases); the second cancels. A sender thread offers values 0, 1, 2, ...
 * to a rendezvous channel with try sends in a loop; a select of many
 * receive cases on that channel takes each: the value goes the moment the
 * start links its first case, while it is still linking the others, so the
 * waker runs sometimes before, sometimes after the start returned. Each
 * value arrives once, in order, through the one case chosen. */
#define HANDOVER_ROUNDS 1000
#define HANDOVER_CASES 64
struct handover {
    ferry_select_case cs[HANDOVER_CASES];
    long out[HANDOVER_CASES];
    ferry_tx *tx;
    ferry_rx *rx;
    FERRY_ATOMIC(int) arrivals;
    FERRY_ATOMIC(int) chosen; /* -2: not finished; the cancel's answer */
};

static void handover_finish(struct handover *h)
{
    /* Release: for the loop's acquire load of `chosen`. */
    atomic_store_explicit(&h->chosen, ferry_select_cancel(h->cs, HANDOVER_CASES), memory_order_release);
}

static void handover_wake(void *ctx)
{
    struct handover *h = ctx;
    if (atomic_fetch_add_explicit(&h->arrivals, 1, memory_order_acq_rel) == 1)
        handover_finish(h); /* the start has returned */
}

static void *handover_sender(void *arg)
{
    struct handover *h = arg;
    for (long i = 0; i < HANDOVER_ROUNDS; i++) {
        ssize_t r;
        for (unsigned spins = 0; (r = ferry_try_send(h->tx, &i, 1)) == -EAGAIN;)
            if (++spins % 1024 == 0)
                sched_yield(); /* a CPU for the starter, where there are few */
        CHECK_EQ(r, 1);
    }
    return NULL;
}

FERRY_TEST(waker_and_starter_hand_over_the_cancel)
{
    struct handover h;
    memset(&h, 0, sizeof h);
    open_cap(0, &h.tx, &h.rx);
    pthread_t t;
    pthread_create(&t, NULL, handover_sender, &h);
    for (long i = 0; i < HANDOVER_ROUNDS; i++) {
        for (int k = 0; k < HANDOVER_CASES; k++)
            h.cs[k] = recv_case(h.rx, &h.out[k]);
        atomic_store(&h.arrivals, 0);
        atomic_store(&h.chosen, -2);
        int r = ferry_select_start(h.cs, HANDOVER_CASES, (ferry_waker){handover_wake, &h});
        if (r < 0) {
            CHECK_EQ(r, -EINPROGRESS);
            if (atomic_fetch_add_explicit(&h.arrivals, 1, memory_order_acq_rel) == 1)
                handover_finish(&h); /* the waker has run (or is running) */
            while ((r = atomic_load_explicit(&h.chosen, memory_order_acquire)) == -2)
                sched_yield();
        }
        CHECK(r >= 0 && r < HANDOVER_CASES);
        CHECK_EQ(h.cs[r].result, 1);
        CHECK_EQ(h.out[r], i);
        for (int k = 0; k < HANDOVER_CASES; k++)
            CHECK(k == r || h.cs[k].result == 0); /* not written: recv_case zeroed it */
    }
    pthread_join(t, NULL);
    release_chan(h.tx, h.rx);
}
