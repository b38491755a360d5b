/* SPDX-License-Identifier: MIT */
/* Wakers past the nesting depth (ferry/op.h, "Wakers nest") at the edges:
 * an async select whose waker restarts it, an op restarted on another
 * channel inside its own waker, a thread cancelled and a process forked
 * inside a waker at the depth, and blocking waiters timing out while wakers
 * at the depth complete them. The ops whose wakers wait in a carrier of
 * the thread's outermost round must each be woken exactly once (or taken
 * over by a cancel), with their items, whatever happens meanwhile. */
#include <errno.h>
#include <ferry/deadline.h>
#include <ferry/op.h>
#include <ferry/select.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan_test.h"

#define NEST_MAX 32 /* op.h, "Wakers nest" */

static void on_small_stack(void *(*fn)(void *), void *arg)
{
    pthread_attr_t a;
    pthread_t t;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setstacksize(&a, 256 * 1024), 0);
    CHECK_EQ(pthread_create(&t, &a, fn, arg), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&a);
}

/* ---- an async select whose waker ends it, restarts it and sends -------- */

/* Two channels; the select receives from either. Value v goes to channel
 * v % 2, so the chosen case says which hop it is. */
#define SEL_HOPS 50000
struct selchain {
    ferry_tx *tx[2];
    ferry_rx *rx[2];
    ferry_select_case cs[2];
    long in[2];
    long next, hops;
    int depth, max_depth;
    long wakes;
    long cancel_from; /* at the depth, once past this value: end it there (0: never) */
    int cancelled;    /* the index the cancel at the depth returned */
    bool bad;
};

static void sel_wake(void *ctx);

static bool sel_start(struct selchain *s)
{
    for (int i = 0; i < 2; i++)
        s->cs[i] = (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = s->rx[i], .buf = &s->in[i], .n = 1};
    return ferry_select_start(s->cs, 2, (ferry_waker){sel_wake, s}) == -EINPROGRESS;
}

static void sel_wake(void *ctx)
{
    struct selchain *s = ctx;
    s->wakes++;
    if (++s->depth > s->max_depth)
        s->max_depth = s->depth;
    /* The select's own waker: its cancel does not wait for it. */
    int idx = ferry_select_cancel(s->cs, 2);
    if (idx != (int)(s->next % 2) || s->cs[idx].result != 1 || s->in[idx] != s->next)
        s->bad = true;
    long v = ++s->next;
    if (v <= s->hops) {
        if (!sel_start(s) || ferry_send(s->tx[v % 2], &v, 1) != 1)
            s->bad = true;
        else if (s->cancel_from > 0 && s->depth == NEST_MAX && v > s->cancel_from) {
            /* The case this send completed waits in a carrier: the
             * select's cancel takes it over. */
            s->cancelled = ferry_select_cancel(s->cs, 2);
            s->hops = v;
        }
    }
    s->depth--;
}

static void sel_run(struct selchain *s, const struct chan_kind *k, long hops, long cancel_from)
{
    memset(s, 0, sizeof *s);
    s->hops = hops;
    s->cancel_from = cancel_from;
    s->cancelled = -1;
    for (int i = 0; i < 2; i++)
        open_chan_kind(k, &s->tx[i], &s->rx[i]);
    CHECK(sel_start(s));
    long first = 0;
    CHECK_EQ(ferry_send(s->tx[0], &first, 1), 1);
}

static void sel_close(struct selchain *s)
{
    for (int i = 0; i < 2; i++) {
        long rest;
        CHECK_EQ(ferry_try_recv(s->rx[i], &rest, 1), -EAGAIN);
        ferry_tx_release(s->tx[i]);
        ferry_rx_release(s->rx[i]);
    }
}

static void *sel_thread(void *arg)
{
    struct selchain *s = arg;
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        sel_run(s, &chan_kinds[k], SEL_HOPS, 0);
        CHECK_MSG(!s->bad, "%s: a hop chose the wrong case or value", chan_kinds[k].name);
        CHECK_EQ(s->next, SEL_HOPS + 1);
        CHECK_EQ(s->wakes, SEL_HOPS + 1);
        CHECK_EQ(s->max_depth, NEST_MAX);
        CHECK_EQ(s->depth, 0);
        sel_close(s);
    }
    return NULL;
}

FERRY_TEST(an_async_select_chain_runs_in_bounded_stack)
{
    struct selchain s;
    on_small_stack(sel_thread, &s);
}

FERRY_TEST(an_async_select_whose_waker_waits_can_be_cancelled)
{
    long froms[] = {1, 3 * NEST_MAX};
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        for (size_t f = 0; f < sizeof froms / sizeof froms[0]; f++) {
            struct selchain s;
            sel_run(&s, &chan_kinds[k], SEL_HOPS, froms[f]);
            CHECK(!s.bad);
            long v = s.hops; /* the value whose case was taken over */
            CHECK(v > froms[f] && v < SEL_HOPS);
            CHECK_EQ(s.cancelled, (int)(v % 2));
            CHECK_EQ(s.cs[v % 2].result, 1);
            CHECK_EQ(s.in[v % 2], v);
            CHECK_EQ(s.wakes, v); /* values 0 .. v-1 woke; v's waker never ran */
            CHECK_EQ(ferry_select_cancel(s.cs, 2), (int)(v % 2)); /* again: the same */
            sel_close(&s);
        }
    }
}

/* ---- an op restarted on another channel inside its own waker ----------- */

/* At the depth, the chain's op (its waker running) is restarted as a
 * receive on channel Y with another waker, and the chain's waker sends to
 * Y: the op is complete again, in Y's carrier, while its first waker still
 * runs. Then either that waker cancels it (taken over: the second waker
 * never runs) or it leaves it (the second waker runs once, after the
 * outermost waker returned). */
struct hop {
    ferry_tx *tx, *ytx;
    ferry_rx *rx, *yrx;
    ferry_op op;
    long in;
    int depth;
    long wakes, ywakes;
    bool cancel;
    ssize_t cancelled;
    bool bad;
};

static void y_wake(void *ctx)
{
    struct hop *h = ctx;
    h->ywakes++;
    if (h->depth != 0 || ferry_op_result(&h->op) != 1 || h->in != 1000)
        h->bad = true;
    /* Its own op, its waker running in a carrier: at once, the same. */
    if (ferry_op_cancel(&h->op) != 1)
        h->bad = true;
}

static void hop_wake(void *ctx)
{
    struct hop *h = ctx;
    h->wakes++;
    h->depth++;
    if (ferry_op_result(&h->op) != 1 || h->in != h->depth - 1)
        h->bad = true;
    if (h->depth < NEST_MAX) {
        long v = h->depth;
        if (ferry_recv_start(h->rx, &h->op, &h->in, 1, (ferry_waker){hop_wake, h}) != -EINPROGRESS ||
            ferry_send(h->tx, &v, 1) != 1)
            h->bad = true;
    } else {
        long y = 1000;
        if (ferry_recv_start(h->yrx, &h->op, &h->in, 1, (ferry_waker){y_wake, h}) != -EINPROGRESS ||
            ferry_send(h->ytx, &y, 1) != 1)
            h->bad = true;
        if (ferry_op_result(&h->op) != -EINPROGRESS || h->ywakes != 0)
            h->bad = true; /* complete, its waker waiting */
        if (h->cancel)
            h->cancelled = ferry_op_cancel(&h->op);
    }
    h->depth--;
}

FERRY_TEST(an_op_restarted_on_another_channel_at_the_depth)
{
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        for (int cancel = 0; cancel < 2; cancel++) {
            struct hop h;
            memset(&h, 0, sizeof h);
            h.cancel = cancel;
            open_chan_kind(&chan_kinds[k], &h.tx, &h.rx);
            open_chan_kind(&chan_kinds[k], &h.ytx, &h.yrx);
            CHECK_EQ(ferry_recv_start(h.rx, &h.op, &h.in, 1, (ferry_waker){hop_wake, &h}), -EINPROGRESS);
            long first = 0;
            CHECK_EQ(ferry_send(h.tx, &first, 1), 1);
            CHECK_MSG(!h.bad, "%s cancel %d", chan_kinds[k].name, cancel);
            CHECK_EQ(h.wakes, NEST_MAX);
            CHECK_EQ(h.ywakes, cancel ? 0 : 1);
            if (cancel)
                CHECK_EQ(h.cancelled, 1);
            CHECK_EQ(ferry_op_result(&h.op), 1);
            CHECK_EQ(h.in, 1000);
            CHECK_EQ(ferry_op_cancel(&h.op), 1);
            long rest;
            CHECK_EQ(ferry_try_recv(h.yrx, &rest, 1), -EAGAIN);
            CHECK_EQ(ferry_try_recv(h.rx, &rest, 1), -EAGAIN);
            ferry_tx_release(h.tx);
            ferry_rx_release(h.rx);
            ferry_tx_release(h.ytx);
            ferry_rx_release(h.yrx);
        }
    }
}

/* ---- a chain with a victim op completed at each pass of the depth ------ */

/* The chain on channel C restarts its receive and sends the next value;
 * each waker at the depth also sends to channel X, completing X's receive
 * (its waker then waits in a carrier), after doing `at_depth`. */
struct victim_chain {
    ferry_tx *tx, *xtx;
    ferry_rx *rx, *xrx;
    ferry_op op, xop;
    long in, xin, next, hops;
    int depth;
    long xwakes, xsent;
    bool bad;
    void (*at_depth)(struct victim_chain *);
    pid_t child; /* the fork test: 0 in the child */
    bool returned;
};

static void xv_wake(void *ctx)
{
    struct victim_chain *vc = ctx;
    vc->xwakes++;
    if (vc->depth != 0 || ferry_op_result(&vc->xop) != 1 || vc->xin != vc->xwakes)
        vc->bad = true;
}

static void vc_wake(void *ctx)
{
    struct victim_chain *vc = ctx;
    vc->depth++;
    if (ferry_op_result(&vc->op) != 1 || vc->in != vc->next)
        vc->bad = true;
    if (vc->depth == NEST_MAX) {
        long x = ++vc->xsent;
        if (ferry_recv_start(vc->xrx, &vc->xop, &vc->xin, 1, (ferry_waker){xv_wake, vc}) != -EINPROGRESS ||
            ferry_send(vc->xtx, &x, 1) != 1 || vc->xwakes != x - 1)
            vc->bad = true;
        if (vc->at_depth)
            vc->at_depth(vc);
    }
    long v = ++vc->next;
    if (v <= vc->hops && (ferry_recv_start(vc->rx, &vc->op, &vc->in, 1, (ferry_waker){vc_wake, vc}) != -EINPROGRESS ||
                          ferry_send(vc->tx, &v, 1) != 1))
        vc->bad = true;
    vc->depth--;
}

static void vc_open(struct victim_chain *vc, const struct chan_kind *k, long hops)
{
    memset(vc, 0, sizeof *vc);
    vc->hops = hops;
    vc->child = -1;
    open_chan_kind(k, &vc->tx, &vc->rx);
    open_chan_kind(k, &vc->xtx, &vc->xrx);
}

/* The outermost call: the chain runs inside it. */
static void vc_run(struct victim_chain *vc)
{
    vc->next = 1;
    CHECK_EQ(ferry_recv_start(vc->rx, &vc->op, &vc->in, 1, (ferry_waker){vc_wake, vc}), -EINPROGRESS);
    long first = 1;
    CHECK_EQ(ferry_send(vc->tx, &first, 1), 1);
}

static void vc_check_and_close(struct victim_chain *vc)
{
    CHECK(!vc->bad);
    CHECK_EQ(vc->next, vc->hops + 1);
    CHECK_EQ(vc->depth, 0);
    /* Hops 1 .. hops: the depth is reached once every NEST_MAX hops. */
    CHECK_EQ(vc->xsent, vc->hops / NEST_MAX);
    CHECK_EQ(vc->xwakes, vc->xsent);
    CHECK_EQ(ferry_op_cancel(&vc->xop), 1);
    CHECK_EQ(ferry_op_cancel(&vc->op), 1);
    long rest;
    CHECK_EQ(ferry_try_recv(vc->rx, &rest, 1), -EAGAIN);
    CHECK_EQ(ferry_try_recv(vc->xrx, &rest, 1), -EAGAIN);
    ferry_tx_release(vc->tx);
    ferry_rx_release(vc->rx);
    ferry_tx_release(vc->xtx);
    ferry_rx_release(vc->xrx);
}

/* ---- thread cancellation requested inside a waker at the depth --------- */

/* The request acts only after the outermost call returned (op.h: wakers
 * run with cancellation held off): every waker -- those in carriers too --
 * has run by then, and no round of the dead thread is left registered (the
 * main thread's cancels below would wait on it, or read a dead stack). */
static void cancel_self(struct victim_chain *vc)
{
    if (vc->xsent == 2) /* in the first carrier's chain, not the outermost round */
        pthread_cancel(pthread_self());
}

static void *cancelled_thread(void *arg)
{
    struct victim_chain *vc = arg;
    vc_run(vc);
    vc->returned = true;
    pthread_testcancel();
    vc->bad = true; /* not reached */
    return NULL;
}

FERRY_TEST(a_thread_cancelled_inside_a_waker_at_the_depth)
{
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        struct victim_chain vc;
        vc_open(&vc, &chan_kinds[k], 5 * NEST_MAX + 3);
        vc.at_depth = cancel_self;
        pthread_t t;
        void *ret;
        CHECK_EQ(pthread_create(&t, NULL, cancelled_thread, &vc), 0);
        CHECK_EQ(pthread_join(t, &ret), 0);
        CHECK(ret == PTHREAD_CANCELED);
        CHECK(vc.returned);
        vc_check_and_close(&vc);
    }
}

/* ---- fork inside a waker at the depth ----------------------------------- */

/* The child is a copy of the forking thread in the middle of its chain,
 * carriers and all: it finishes the chain, every waker running once. */
static void fork_here(struct victim_chain *vc)
{
    if (vc->xsent == 2 && vc->child == -1) {
        fflush(NULL);
        vc->child = fork();
        CHECK(vc->child >= 0);
        if (vc->child == 0)
            alarm(20);
    }
}

FERRY_TEST(fork_inside_a_waker_at_the_depth)
{
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        struct victim_chain vc;
        vc_open(&vc, &chan_kinds[k], 4 * NEST_MAX + 5);
        vc.at_depth = fork_here;
        vc_run(&vc);
        if (vc.child == 0) {
            bool ok = !vc.bad && vc.next == vc.hops + 1 && vc.xwakes == vc.xsent && vc.xsent == 4 &&
                      ferry_op_cancel(&vc.xop) == 1;
            _exit(ok ? 0 : 1);
        }
        int status;
        while (waitpid(vc.child, &status, 0) < 0)
            CHECK_EQ(errno, EINTR);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the child failed (%s %d)", chan_kinds[k].name,
                  WIFSIGNALED(status) ? "signal" : "exit status",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        vc_check_and_close(&vc);
    }
}

/* ---- blocking waiters that time out while wakers at the depth complete
 * them (chan_op.c W4) --------------------------------------------------- */

struct timing_out {
    struct victim_chain vc;
    ferry_tx *btx;
    ferry_rx *brx;
    FERRY_ATOMIC(int) stop;
    long sent, got;
};

static struct timing_out *tmo;

static void offer_blocking(struct victim_chain *vc)
{
    (void)vc;
    long v = tmo->sent + 1;
    if (ferry_try_send(tmo->btx, &v, 1) == 1)
        tmo->sent++;
}

static void *timing_out_receiver(void *arg)
{
    struct timing_out *t = arg;
    uint64_t rnd = 3;
    long last = 0;
    while (!atomic_load(&t->stop)) {
        struct timespec dl = ferry_deadline_in((int64_t)(ferry_test_rand(&rnd) % 20000));
        long v;
        ssize_t r = ferry_recv_until(t->brx, &v, 1, &dl);
        if (r == 1) {
            CHECK_EQ(v, last + 1);
            last = v;
            t->got++;
        } else {
            CHECK_EQ(r, -ETIMEDOUT);
        }
    }
    return NULL;
}

FERRY_TEST(blocking_waiters_time_out_while_wakers_at_the_depth_complete_them)
{
    static struct timing_out t;
    memset(&t, 0, sizeof t);
    tmo = &t;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 0, .name = "timing-out"};
    CHECK_EQ(ferry_chan_open(&cfg, &t.btx, &t.brx), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, timing_out_receiver, &t), 0);
    for (int round = 0; round < 20; round++) {
        vc_open(&t.vc, &chan_kinds[(size_t)round % CHAN_NKINDS], 200 * NEST_MAX);
        t.vc.at_depth = offer_blocking;
        vc_run(&t.vc);
        vc_check_and_close(&t.vc);
    }
    atomic_store(&t.stop, 1);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(t.got, t.sent);
    ferry_tx_release(t.btx);
    ferry_rx_release(t.brx);
}
