/* SPDX-License-Identifier: MIT */
/* A channel whose last handles go, from two threads, while a waker of it
 * waits in a carrier (ferry/op.h, "Wakers nest"; src/chan_op.c W5).
 *
 * A releaser thread keeps opening a fresh channel X, starting an async
 * receive on it (a heap op and a heap waker context), and handing X's send
 * handle to a chain thread; then, after a random spin, it releases X's
 * receive handle without cancelling the receive. The chain thread runs
 * waker chains; a waker at the nesting depth takes the handed send handle,
 * tries one send (which completes the receive: its waker waits in a
 * carrier of the chain thread's outermost round) and releases the handle.
 * So X loses its last handle on either thread, before, during or after the
 * completion, while the receive's waker waits or runs. Checked: the waker
 * runs exactly once (the releaser waits for it: it must run while the
 * chain goes on), with the item or -EPIPE, and nothing touches X's memory
 * after it is freed (ASan). */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define NEST_MAX 32 /* op.h, "Wakers nest" */

struct xctx {
    ferry_op op;
    long in;
    FERRY_ATOMIC(int) woken;
};

static void x_wake(void *p)
{
    struct xctx *x = p;
    ssize_t r = ferry_op_result(&x->op);
    CHECK_MSG(r == 1 || r == -EPIPE, "result %zd", r);
    if (r == 1)
        CHECK_EQ(x->in, 42);
    /* Release: the releaser's acquire load frees x after this. */
    CHECK_MSG(atomic_fetch_add_explicit(&x->woken, 1, memory_order_release) == 0, "waker ran twice");
}

struct shared {
    FERRY_ATOMIC(ferry_tx *) mailbox; /* X's send handle, handed over */
    FERRY_ATOMIC(int) stop;
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_op op;
    long in, next;
    int depth;
    long sent, taken;
    bool bad;
};

static void chain_wake(void *p)
{
    struct shared *s = p;
    s->depth++;
    if (ferry_op_result(&s->op) != 1 || s->in != s->next)
        s->bad = true;
    if (s->depth == NEST_MAX) {
        /* Acquire: pairs with the releaser's release store of the handle. */
        ferry_tx *xtx = atomic_exchange_explicit(&s->mailbox, NULL, memory_order_acquire);
        if (xtx) {
            s->taken++;
            long v = 42;
            ssize_t r = ferry_try_send(xtx, &v, 1);
            if (r == 1)
                s->sent++;
            else if (r != -EAGAIN && r != -EPIPE)
                s->bad = true;
            ferry_tx_release(xtx);
        }
    }
    long v = ++s->next;
    if (!atomic_load_explicit(&s->stop, memory_order_relaxed) && v % 4000 != 0 &&
        (ferry_recv_start(s->rx, &s->op, &s->in, 1, (ferry_waker){chain_wake, s}) != -EINPROGRESS ||
         ferry_send(s->tx, &v, 1) != 1))
        s->bad = true;
    s->depth--;
}

static void *chainer(void *arg)
{
    struct shared *s = arg;
    /* Relaxed: a stop flag; the join publishes the rest. */
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        s->next++;
        CHECK_EQ(ferry_recv_start(s->rx, &s->op, &s->in, 1, (ferry_waker){chain_wake, s}), -EINPROGRESS);
        long first = s->next;
        CHECK_EQ(ferry_send(s->tx, &first, 1), 1);
        CHECK(!s->bad);
        CHECK_EQ(s->depth, 0);
    }
    return NULL;
}

static void release_race(size_t chain_cap, size_t x_cap)
{
    struct shared s;
    memset(&s, 0, sizeof s);
    ferry_chan_config cc = {.elem_size = sizeof(long), .capacity = chain_cap, .name = "chain"};
    CHECK_EQ(ferry_chan_open(&cc, &s.tx, &s.rx), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, chainer, &s), 0);
    uint64_t rnd = 7;
    size_t rounds = ferry_test_scaled(3000);
    long items = 0, pipes = 0;
    for (size_t i = 0; i < rounds; i++) {
        ferry_chan_config xc = {.elem_size = sizeof(long), .capacity = x_cap, .name = "x"};
        ferry_tx *xtx;
        ferry_rx *xrx;
        CHECK_EQ(ferry_chan_open(&xc, &xtx, &xrx), 0);
        struct xctx *x = calloc(1, sizeof *x); /* on the heap: ASan sees a use after free */
        CHECK(x != NULL);
        CHECK_EQ(ferry_recv_start(xrx, &x->op, &x->in, 1, (ferry_waker){x_wake, x}), -EINPROGRESS);
        /* Release: pairs with the chain's acquire exchange. */
        atomic_store_explicit(&s.mailbox, xtx, memory_order_release);
        uint64_t r = ferry_test_rand(&rnd);
        if (r % 4 == 0)
            sched_yield();
        for (uint64_t spin = (r >> 2) % 4096; spin > 0; spin--)
            __asm__ __volatile__("" ::: "memory");
        ferry_rx_release(xrx); /* the receive, if still pending, ends with -EPIPE here */
        /* Not taken yet: take it back and release it here. */
        ferry_tx *back = atomic_exchange_explicit(&s.mailbox, NULL, memory_order_acquire);
        if (back)
            ferry_tx_release(back);
        /* The waker runs once, whichever thread completed the receive. */
        for (unsigned spins = 0; atomic_load_explicit(&x->woken, memory_order_acquire) == 0; spins++)
            if (spins > 64)
                sched_yield();
        ssize_t res = ferry_op_result(&x->op);
        CHECK(res == 1 || res == -EPIPE);
        if (res == 1)
            items++;
        else
            pipes++;
        free(x);
    }
    atomic_store_explicit(&s.stop, 1, memory_order_relaxed);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(!s.bad);
    /* A send into a buffer may be dropped by the receiving side's release
     * before it reaches the receive (the receive then ends with -EPIPE);
     * a rendezvous send is the receive's item. */
    CHECK_EQ(items + pipes, (long)rounds);
    CHECK(items <= s.sent);
    if (x_cap == 0)
        CHECK_EQ(s.sent, items);
    CHECK(s.taken <= (long)rounds);
    ferry_tx_release(s.tx);
    ferry_rx_release(s.rx);
}

FERRY_TEST(a_carried_wakers_channel_loses_its_last_handles_rendezvous) { release_race(0, 0); }
FERRY_TEST(a_carried_wakers_channel_loses_its_last_handles_buffered) { release_race(4, 1); }
FERRY_TEST(a_carried_wakers_channel_loses_its_last_handles_unbounded) { release_race(FERRY_UNBOUNDED, FERRY_UNBOUNDED); }
