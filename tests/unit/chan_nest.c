/* SPDX-License-Identifier: MIT */
/* Wakers that nest (ferry/op.h, "Wakers nest"): a channel call made inside
 * a waker runs the wakers of the ops it completes before it returns, on the
 * same stack, up to 32 rounds deep; deeper, their wakers
 * run after the thread's outermost waker returns, so that chains of any
 * length run in bounded stack. */
#include <errno.h>
#include <ferry/op.h>
#include <ferry/select.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan_test.h"

/* The depth op.h documents. */
#define NEST_MAX 32

/* Run fn(arg) on a thread with a small stack: a chain that nested one
 * level a hop would overflow it within a few hundred hops. */
#define SMALL_STACK (256 * 1024)
static void on_small_stack(void *(*fn)(void *), void *arg)
{
    pthread_attr_t a;
    pthread_t t;
    CHECK_EQ(pthread_attr_init(&a), 0);
    CHECK_EQ(pthread_attr_setstacksize(&a, SMALL_STACK), 0);
    CHECK_EQ(pthread_create(&t, &a, fn, arg), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&a);
}

/* ---- one channel: each waker restarts its receive and sends the next --- */

#define CHAIN_HOPS 100000
struct chain {
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_op op;
    long in;
    long next;  /* the value the next hop must bring */
    long hops;  /* where the chain stops */
    int depth, max_depth;
    long wakes;
    bool bad;
    /* at this waker depth, after the send: check that the op it completed
     * waits, and cancel it (0: never) */
    int cancel_at;
    long cancel_from; /* ... once the value sent is past this */
    ssize_t cancelled;
};

static void chain_wake(void *ctx)
{
    struct chain *ch = ctx;
    ch->wakes++;
    if (ferry_op_result(&ch->op) != 1 || ch->in != ch->next)
        ch->bad = true;
    if (++ch->depth > ch->max_depth)
        ch->max_depth = ch->depth;
    long v = ++ch->next;
    if (v <= ch->hops) {
        if (ferry_recv_start(ch->rx, &ch->op, &ch->in, 1, (ferry_waker){chain_wake, ch}) != -EINPROGRESS)
            ch->bad = true;
        else if (ferry_send(ch->tx, &v, 1) != 1)
            ch->bad = true;
        else if (ch->depth == ch->cancel_at && v > ch->cancel_from) {
            /* The op this send completed waits for its waker (its round
             * was past the depth); a cancel takes the completion over. */
            if (ferry_op_result(&ch->op) != -EINPROGRESS)
                ch->bad = true;
            ch->cancelled = ferry_op_cancel(&ch->op);
            ch->hops = v; /* the chain ends with this value */
        }
    }
    ch->depth--;
}

static void chain_run(struct chain *ch, const struct chan_kind *k)
{
    open_chan_kind(k, &ch->tx, &ch->rx);
    ch->next = 1;
    CHECK_EQ(ferry_recv_start(ch->rx, &ch->op, &ch->in, 1, (ferry_waker){chain_wake, ch}), -EINPROGRESS);
    long first = 1;
    CHECK_EQ(ferry_send(ch->tx, &first, 1), 1);
}

static void *chain_thread(void *arg)
{
    struct chain *ch = arg;
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        memset(ch, 0, sizeof *ch);
        ch->hops = CHAIN_HOPS;
        chain_run(ch, &chan_kinds[k]);
        CHECK_MSG(!ch->bad, "%s: a hop saw the wrong value or result", chan_kinds[k].name);
        CHECK_EQ(ch->next, CHAIN_HOPS + 1);
        CHECK_EQ(ch->wakes, CHAIN_HOPS);
        /* Shallow chains nest as before; deeper ones no further. */
        CHECK_EQ(ch->max_depth, NEST_MAX);
        CHECK_EQ(ch->depth, 0);
        CHECK_EQ(ferry_op_result(&ch->op), 1); /* the last hop's, complete */
        long rest;
        CHECK_EQ(ferry_try_recv(ch->rx, &rest, 1), -EAGAIN);
        ferry_tx_release(ch->tx);
        ferry_rx_release(ch->rx);
    }
    return NULL;
}

FERRY_TEST(a_chain_on_one_channel_runs_in_bounded_stack)
{
    struct chain ch;
    on_small_stack(chain_thread, &ch);
}

/* A chain shorter than the depth nests all the way, as it always did: each
 * waker runs inside the call that completed its op. */
FERRY_TEST(a_short_chain_nests_inside_the_calls)
{
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        struct chain ch;
        memset(&ch, 0, sizeof ch);
        ch.hops = NEST_MAX;
        chain_run(&ch, &chan_kinds[k]);
        CHECK(!ch.bad);
        CHECK_EQ(ch.next, NEST_MAX + 1);
        CHECK_EQ(ch.max_depth, NEST_MAX); /* one waker inside the other */
        ferry_tx_release(ch.tx);
        ferry_rx_release(ch.rx);
    }
}

/* An op whose waker waits (its round was past the depth) can be cancelled
 * before the waker runs, like any completed op whose waker has not been
 * called: the cancel returns what it received, and the waker never runs. */
FERRY_TEST(an_op_whose_waker_waits_can_be_cancelled)
{
    /* The waker depth cycles 1..NEST_MAX; the waker at NEST_MAX receives
     * k * NEST_MAX and its send, of k * NEST_MAX + 1, completes an op whose
     * waker waits. Cancel the first such op, or one after several carriers
     * have come and gone. */
    long froms[] = {0, 2 * NEST_MAX, 7 * NEST_MAX};
    long cancelled_values[] = {NEST_MAX + 1, 2 * NEST_MAX + 1, 7 * NEST_MAX + 1};
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        for (size_t f = 0; f < sizeof froms / sizeof froms[0]; f++) {
            struct chain ch;
            memset(&ch, 0, sizeof ch);
            ch.hops = CHAIN_HOPS;
            ch.cancel_at = NEST_MAX;
            ch.cancel_from = froms[f];
            chain_run(&ch, &chan_kinds[k]);
            long v = cancelled_values[f]; /* the value whose op was cancelled */
            CHECK(!ch.bad);
            CHECK_EQ(ch.hops, v);
            CHECK_EQ(ch.cancelled, 1);    /* it had received its item */
            CHECK_EQ(ch.in, v);           /* which is the value sent */
            CHECK_EQ(ch.wakes, v - 1);    /* its waker never ran */
            CHECK_EQ(ch.next, v);
            CHECK_EQ(ferry_op_cancel(&ch.op), 1); /* again: the same */
            long rest;
            CHECK_EQ(ferry_try_recv(ch.rx, &rest, 1), -EAGAIN);
            ferry_tx_release(ch.tx);
            ferry_rx_release(ch.rx);
        }
    }
}

/* ---- two actors on two channels: the ping-pong that overflowed -------- */

#define PINGPONG_HOPS 200000
struct actor {
    ferry_rx *rx;    /* its inbox */
    ferry_tx *peer;  /* the other's inbox */
    ferry_op op;
    long in;
    long seen;       /* values received */
    long parity;     /* of the values it receives */
    long *left;      /* hops still to make, shared */
    bool bad;
};

static void actor_wake(void *ctx)
{
    struct actor *a = ctx;
    /* a receives 0, 2, 4, ...; b 1, 3, 5, ... */
    if (ferry_op_result(&a->op) != 1 || a->in != 2 * a->seen + a->parity)
        a->bad = true;
    long v = a->in;
    a->seen++;
    if (*a->left <= 0)
        return;
    (*a->left)--;
    if (ferry_recv_start(a->rx, &a->op, &a->in, 1, (ferry_waker){actor_wake, a}) != -EINPROGRESS)
        a->bad = true;
    long w = v + 1;
    if (ferry_send(a->peer, &w, 1) != 1)
        a->bad = true;
}

struct pingpong {
    size_t cap;
    long total;
};

static void *pingpong_thread(void *arg)
{
    struct pingpong *pp = arg;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = pp->cap, .name = "pingpong"};
    ferry_tx *ta, *tb;
    ferry_rx *ra, *rb;
    CHECK_EQ(ferry_chan_open(&cfg, &ta, &ra), 0);
    CHECK_EQ(ferry_chan_open(&cfg, &tb, &rb), 0);
    long left = PINGPONG_HOPS;
    struct actor a = {.rx = ra, .peer = tb, .left = &left};
    struct actor b = {.rx = rb, .peer = ta, .left = &left, .parity = 1};
    CHECK_EQ(ferry_recv_start(ra, &a.op, &a.in, 1, (ferry_waker){actor_wake, &a}), -EINPROGRESS);
    CHECK_EQ(ferry_recv_start(rb, &b.op, &b.in, 1, (ferry_waker){actor_wake, &b}), -EINPROGRESS);
    long first = 0;
    CHECK_EQ(ferry_send(ta, &first, 1), 1);
    CHECK(!a.bad && !b.bad);
    CHECK_EQ(left, 0);
    /* Every hop's value is one more than the last: the final one is the
     * number of hops, and the two actors saw them all between them. */
    CHECK_EQ(a.seen + b.seen, PINGPONG_HOPS + 1);
    struct actor *last = a.seen > b.seen ? &a : &b;
    CHECK_EQ(last->in, PINGPONG_HOPS);
    pp->total = a.seen + b.seen;
    ferry_tx_release(ta);
    ferry_rx_release(ra);
    ferry_tx_release(tb);
    ferry_rx_release(rb);
    return NULL;
}

FERRY_TEST(a_pingpong_between_two_channels_runs_in_bounded_stack)
{
    size_t caps[] = {0, 1, 16, FERRY_UNBOUNDED};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        struct pingpong pp = {.cap = caps[i]};
        on_small_stack(pingpong_thread, &pp);
        CHECK_EQ(pp.total, PINGPONG_HOPS + 1);
    }
}

/* ---- chains that do something at the depth ---------------------------- */

/* One hop of a chain that stops at the depth: count the waker, and below
 * the depth restart the receive (waker w) and send the next value. True at
 * the depth, where the caller does what its test is about. */
static bool descend(struct chain *ch, ferry_waker w)
{
    ch->wakes++;
    if (++ch->depth > ch->max_depth)
        ch->max_depth = ch->depth;
    if (ch->depth >= NEST_MAX)
        return true;
    CHECK_EQ(ferry_recv_start(ch->rx, &ch->op, &ch->in, 1, w), -EINPROGRESS);
    long v = ch->depth;
    CHECK_EQ(ferry_send(ch->tx, &v, 1), 1);
    return false;
}

/* ---- the channel of a waiting waker may lose its last handle ---------- */

/* At the depth, a waker completes a receive on channel X and then releases
 * both of X's handles: X's memory must live until that receive's waker has
 * run and its round has left X (ASan: a use after free otherwise). */
struct release_case {
    struct chain ch;
    ferry_tx *xtx;
    ferry_rx *xrx;
    ferry_op xop;
    long xin;
    int xwakes;
};

static void x_wake(void *ctx)
{
    struct release_case *rc = ctx;
    rc->xwakes++;
    CHECK_EQ(ferry_op_result(&rc->xop), 1);
    CHECK_EQ(rc->xin, 77);
}

static void release_wake(void *ctx)
{
    struct release_case *rc = ctx;
    if (descend(&rc->ch, (ferry_waker){release_wake, rc})) {
        long x = 77;
        CHECK_EQ(ferry_send(rc->xtx, &x, 1), 1);
        CHECK_EQ(rc->xwakes, 0); /* waits for the outermost waker */
        ferry_tx_release(rc->xtx);
        ferry_rx_release(rc->xrx);
    }
    rc->ch.depth--;
}

FERRY_TEST(a_waiting_waker_keeps_its_channel_alive)
{
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        struct release_case rc;
        memset(&rc, 0, sizeof rc);
        open_chan_kind(&chan_kinds[k], &rc.ch.tx, &rc.ch.rx);
        open_chan_kind(&chan_kinds[k], &rc.xtx, &rc.xrx);
        CHECK_EQ(ferry_recv_start(rc.xrx, &rc.xop, &rc.xin, 1, (ferry_waker){x_wake, &rc}), -EINPROGRESS);
        CHECK_EQ(ferry_recv_start(rc.ch.rx, &rc.ch.op, &rc.ch.in, 1, (ferry_waker){release_wake, &rc}),
                 -EINPROGRESS);
        long first = 0;
        CHECK_EQ(ferry_send(rc.ch.tx, &first, 1), 1);
        CHECK_EQ(rc.ch.max_depth, NEST_MAX);
        CHECK_EQ(rc.xwakes, 1);
        CHECK_EQ(ferry_op_result(&rc.xop), 1);
        ferry_tx_release(rc.ch.tx);
        ferry_rx_release(rc.ch.rx);
    }
}

/* ---- wakers on many channels at the depth ----------------------------- */

/* At the depth, one waker completes receives on more channels than the
 * outermost round has carriers for: every waker still runs exactly once,
 * and the chain's values all arrive. */
#define FAN 9
struct fan_case {
    struct chain ch;
    ferry_tx *tx[FAN];
    ferry_rx *rx[FAN];
    ferry_op op[FAN];
    long in[FAN];
    int wakes[FAN];
};

static void fan_leaf_wake(void *ctx)
{
    int *w = ctx;
    (*w)++;
}

static void fan_wake(void *ctx)
{
    struct fan_case *fc = ctx;
    if (descend(&fc->ch, (ferry_waker){fan_wake, fc})) {
        for (int i = 0; i < FAN; i++) {
            long x = 100 + i;
            CHECK_EQ(ferry_send(fc->tx[i], &x, 1), 1);
        }
    }
    fc->ch.depth--;
}

FERRY_TEST(a_waker_at_the_depth_completing_ops_on_many_channels)
{
    struct fan_case fc;
    memset(&fc, 0, sizeof fc);
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 0, .name = "fan"};
    CHECK_EQ(ferry_chan_open(&cfg, &fc.ch.tx, &fc.ch.rx), 0);
    for (int i = 0; i < FAN; i++) {
        CHECK_EQ(ferry_chan_open(&cfg, &fc.tx[i], &fc.rx[i]), 0);
        CHECK_EQ(ferry_recv_start(fc.rx[i], &fc.op[i], &fc.in[i], 1, (ferry_waker){fan_leaf_wake, &fc.wakes[i]}),
                 -EINPROGRESS);
    }
    CHECK_EQ(ferry_recv_start(fc.ch.rx, &fc.ch.op, &fc.ch.in, 1, (ferry_waker){fan_wake, &fc}), -EINPROGRESS);
    long first = 0;
    CHECK_EQ(ferry_send(fc.ch.tx, &first, 1), 1);
    for (int i = 0; i < FAN; i++) {
        CHECK_EQ(fc.wakes[i], 1);
        CHECK_EQ(ferry_op_result(&fc.op[i]), 1);
        CHECK_EQ(fc.in[i], 100 + i);
        ferry_tx_release(fc.tx[i]);
        ferry_rx_release(fc.rx[i]);
    }
    CHECK_EQ(fc.ch.wakes, NEST_MAX);
    ferry_tx_release(fc.ch.tx);
    ferry_rx_release(fc.ch.rx);
}

/* ---- a blocking select is woken at once at any depth ------------------ */

/* A thread sleeping in ferry_select is woken by the call that completes its
 * case, also at the depth: the waker that sent to it can wait for its
 * answer (it would wait for ever if the select's wake-up waited for the
 * outermost waker to return). */
struct select_case {
    struct chain ch;
    ferry_tx *stx;
    ferry_rx *srx;
    FERRY_ATOMIC(int) got;
    long sin;
    bool timed_out;
};

static void *selector(void *arg)
{
    struct select_case *sc = arg;
    ferry_select_case c[1] = {{.op = FERRY_SELECT_RECV, .rx = sc->srx, .buf = &sc->sin, .n = 1}};
    CHECK_EQ(ferry_select(c, 1), 0);
    CHECK_EQ(c[0].result, 1);
    atomic_store(&sc->got, 1);
    return NULL;
}

static void select_wake(void *ctx)
{
    struct select_case *sc = ctx;
    if (descend(&sc->ch, (ferry_waker){select_wake, sc})) {
        long x = 5;
        CHECK_EQ(ferry_send(sc->stx, &x, 1), 1);
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!atomic_load(&sc->got)) {
            sched_yield();
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > 30) {
                sc->timed_out = true;
                break;
            }
        }
    }
    sc->ch.depth--;
}

FERRY_TEST(a_blocking_select_is_woken_at_any_depth)
{
    struct select_case sc;
    memset(&sc, 0, sizeof sc);
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 0, .name = "sel"};
    CHECK_EQ(ferry_chan_open(&cfg, &sc.ch.tx, &sc.ch.rx), 0);
    CHECK_EQ(ferry_chan_open(&cfg, &sc.stx, &sc.srx), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, selector, &sc), 0);
    wait_blocked(sc.srx, 1, 0); /* the selector sleeps */
    CHECK_EQ(ferry_recv_start(sc.ch.rx, &sc.ch.op, &sc.ch.in, 1, (ferry_waker){select_wake, &sc}), -EINPROGRESS);
    long first = 0;
    CHECK_EQ(ferry_send(sc.ch.tx, &first, 1), 1);
    CHECK_MSG(!sc.timed_out, "the selector was not woken while the waker at the depth waited for it");
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(sc.sin, 5);
    ferry_tx_release(sc.ch.tx);
    ferry_rx_release(sc.ch.rx);
    ferry_tx_release(sc.stx);
    ferry_rx_release(sc.srx);
}

/* ---- a waiting waker is not held back by a chain that goes on --------- */

/* A chain that goes on for ever (here: until told to stop) runs in the
 * carriers of its thread's outermost round, one carrier after another.
 * Inside one of them, at the depth, a waker completes a receive on channel
 * X whose waker tells the chain to stop: that waker must run once the
 * carrier's ops of the moment have run -- within a few passes of the
 * depth -- not after the chain ends (it would never end). */
struct stop_case {
    struct chain ch;
    ferry_tx *xtx;
    ferry_rx *xrx;
    ferry_op xop;
    long xin;
    long sent_at;    /* the chain's value when X's item was sent */
    long stopped_at; /* ... and when X's waker ran */
    int passes;      /* of the depth so far */
};

static void stop_x_wake(void *ctx)
{
    struct stop_case *sc = ctx;
    CHECK_EQ(ferry_op_result(&sc->xop), 1);
    sc->stopped_at = sc->ch.next;
}

static void stop_wake(void *ctx)
{
    struct stop_case *sc = ctx;
    struct chain *ch = &sc->ch;
    ch->wakes++;
    if (ferry_op_result(&ch->op) != 1 || ch->in != ch->next)
        ch->bad = true;
    ch->depth++;
    /* The second pass: the chain runs in a carrier now. */
    if (ch->depth == NEST_MAX && ++sc->passes == 2) {
        long x = 1;
        CHECK_EQ(ferry_send(sc->xtx, &x, 1), 1);
        sc->sent_at = ch->next;
    }
    long v = ++ch->next;
    if (v <= ch->hops && sc->stopped_at == 0) {
        CHECK_EQ(ferry_recv_start(ch->rx, &ch->op, &ch->in, 1, (ferry_waker){stop_wake, sc}), -EINPROGRESS);
        CHECK_EQ(ferry_send(ch->tx, &v, 1), 1);
    }
    ch->depth--;
}

FERRY_TEST(a_waiting_waker_is_not_held_back_by_a_chain_that_goes_on)
{
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        struct stop_case sc;
        memset(&sc, 0, sizeof sc);
        sc.ch.hops = CHAIN_HOPS; /* "for ever" */
        open_chan_kind(&chan_kinds[k], &sc.ch.tx, &sc.ch.rx);
        open_chan_kind(&chan_kinds[k], &sc.xtx, &sc.xrx);
        CHECK_EQ(ferry_recv_start(sc.xrx, &sc.xop, &sc.xin, 1, (ferry_waker){stop_x_wake, &sc}), -EINPROGRESS);
        sc.ch.next = 1;
        CHECK_EQ(ferry_recv_start(sc.ch.rx, &sc.ch.op, &sc.ch.in, 1, (ferry_waker){stop_wake, &sc}),
                 -EINPROGRESS);
        long first = 1;
        CHECK_EQ(ferry_send(sc.ch.tx, &first, 1), 1);
        CHECK(!sc.ch.bad);
        CHECK_EQ(sc.sent_at, 2 * NEST_MAX);
        CHECK_MSG(sc.stopped_at > 0 && sc.stopped_at - sc.sent_at <= 2 * NEST_MAX,
                  "%s: X's waker ran %ld hops after its op completed (the chain ran on in its carrier)",
                  chan_kinds[k].name, sc.stopped_at - sc.sent_at);
        CHECK_EQ(sc.xin, 1);
        CHECK_EQ(ferry_op_result(&sc.ch.op), 1); /* the last hop's, complete */
        long rest;
        CHECK_EQ(ferry_try_recv(sc.ch.rx, &rest, 1), -EAGAIN);
        ferry_tx_release(sc.ch.tx);
        ferry_rx_release(sc.ch.rx);
        ferry_tx_release(sc.xtx);
        ferry_rx_release(sc.xrx);
    }
}

/* ---- a chain in a carrier beside three other channels' carriers ------- */

/* Each time the chain reaches the depth, its waker also completes a
 * receive on each of 3 other channels (their wakers restart them): with
 * the chain's own channel, every carrier of the outermost round is in use.
 * The chain must still go on in bounded stack -- its next hop waits in its
 * channel's carrier, the one running -- and each of those receives must be
 * woken before the chain comes back to the depth. */
#define SIDE 3
struct side_case {
    struct chain ch;
    ferry_tx *tx[SIDE];
    ferry_rx *rx[SIDE];
    ferry_op op[SIDE];
    long in[SIDE];
    long wakes[SIDE];
    long passes;
};

struct side_leaf {
    struct side_case *sc;
    int i;
};
static struct side_leaf side_leaves[SIDE];

static void side_leaf_wake(void *ctx)
{
    struct side_leaf *l = ctx;
    struct side_case *sc = l->sc;
    CHECK_EQ(ferry_op_result(&sc->op[l->i]), 1);
    CHECK_EQ(sc->in[l->i], sc->wakes[l->i]);
    sc->wakes[l->i]++;
    CHECK_EQ(ferry_recv_start(sc->rx[l->i], &sc->op[l->i], &sc->in[l->i], 1, (ferry_waker){side_leaf_wake, l}),
             -EINPROGRESS);
}

static void side_wake(void *ctx)
{
    struct side_case *sc = ctx;
    struct chain *ch = &sc->ch;
    ch->wakes++;
    if (ferry_op_result(&ch->op) != 1 || ch->in != ch->next)
        ch->bad = true;
    if (++ch->depth > ch->max_depth)
        ch->max_depth = ch->depth;
    if (ch->depth == NEST_MAX) {
        for (int i = 0; i < SIDE; i++) {
            CHECK_EQ(sc->wakes[i], sc->passes); /* the last pass's was woken */
            long x = sc->passes;
            CHECK_EQ(ferry_send(sc->tx[i], &x, 1), 1);
        }
        sc->passes++;
    }
    long v = ++ch->next;
    if (v <= ch->hops) {
        CHECK_EQ(ferry_recv_start(ch->rx, &ch->op, &ch->in, 1, (ferry_waker){side_wake, sc}), -EINPROGRESS);
        CHECK_EQ(ferry_send(ch->tx, &v, 1), 1);
    }
    ch->depth--;
}

static void *side_thread(void *arg)
{
    struct side_case *sc = arg;
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        memset(sc, 0, sizeof *sc);
        sc->ch.hops = CHAIN_HOPS;
        for (int i = 0; i < SIDE; i++) {
            open_chan_kind(&chan_kinds[k], &sc->tx[i], &sc->rx[i]);
            side_leaves[i] = (struct side_leaf){sc, i};
            CHECK_EQ(ferry_recv_start(sc->rx[i], &sc->op[i], &sc->in[i], 1,
                                      (ferry_waker){side_leaf_wake, &side_leaves[i]}),
                     -EINPROGRESS);
        }
        open_chan_kind(&chan_kinds[k], &sc->ch.tx, &sc->ch.rx);
        sc->ch.next = 1;
        CHECK_EQ(ferry_recv_start(sc->ch.rx, &sc->ch.op, &sc->ch.in, 1, (ferry_waker){side_wake, sc}),
                 -EINPROGRESS);
        long first = 1;
        CHECK_EQ(ferry_send(sc->ch.tx, &first, 1), 1);
        CHECK_MSG(!sc->ch.bad, "%s: a hop saw the wrong value or result", chan_kinds[k].name);
        CHECK_EQ(sc->ch.next, CHAIN_HOPS + 1);
        CHECK_EQ(sc->ch.wakes, CHAIN_HOPS);
        CHECK_MSG(sc->ch.max_depth == NEST_MAX, "%s: the chain nested %d deep", chan_kinds[k].name,
                  sc->ch.max_depth);
        CHECK_EQ(sc->passes, CHAIN_HOPS / NEST_MAX);
        for (int i = 0; i < SIDE; i++) {
            CHECK_EQ(sc->wakes[i], sc->passes);
            CHECK_EQ(ferry_op_cancel(&sc->op[i]), 0); /* pending again: withdrawn */
            ferry_tx_release(sc->tx[i]);
            ferry_rx_release(sc->rx[i]);
        }
        ferry_tx_release(sc->ch.tx);
        ferry_rx_release(sc->ch.rx);
    }
    return NULL;
}

FERRY_TEST(a_chain_in_a_carrier_beside_other_channels_carriers_stays_bounded)
{
    struct side_case sc;
    on_small_stack(side_thread, &sc);
}
