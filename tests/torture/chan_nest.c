/* SPDX-License-Identifier: MIT */
/* Wakers past the nesting depth (ferry/op.h, "Wakers nest") against
 * cancellers on another thread.
 *
 * A chain thread runs long waker chains (each waker restarts its receive
 * and sends the next value on the chain's channel); every waker also offers
 * near the depth sends a numbered item to a victim channel. A canceller
 * thread keeps starting async receives on the victim channel, each with a
 * fresh heap waker context, and cancels them after a random spin. The
 * receives that the chain completes at the depth wait in a carrier of the
 * chain thread's outermost round while the canceller takes them over, or
 * waits for their wakers. Checked: every item offered and accepted is
 * received exactly once (through a waker's op or a cancel's result), no
 * waker runs twice or after its cancel returned (ASan: the context is
 * freed right after), and every chain delivers every value in order. */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define NEST_MAX 32 /* op.h, "Wakers nest" */

struct victim_ctx {
    FERRY_ATOMIC(int) woken;
    FERRY_ATOMIC(int) cancelled;
};

static void victim_wake(void *p)
{
    struct victim_ctx *c = p;
    CHECK_MSG(atomic_load(&c->cancelled) == 0, "waker ran after ferry_op_cancel returned");
    CHECK_MSG(atomic_fetch_add(&c->woken, 1) == 0, "waker ran twice");
}

struct nest {
    ferry_tx *ctx_tx; /* the chain's channel */
    ferry_rx *ctx_rx;
    ferry_tx *vtx;    /* the victim channel */
    ferry_rx *vrx;
    ferry_op op;
    long in, next, hops;
    long offered;     /* next victim item number */
    int depth;        /* of the waker running now */
    uint64_t rnd;
    FERRY_ATOMIC(long) accepted;
    bool bad;
};

static void nest_wake(void *p)
{
    struct nest *n = p;
    n->depth++;
    if (ferry_op_result(&n->op) != 1 || n->in != n->next)
        n->bad = true;
    /* Near and at the depth (op.h: 32), hand the canceller an item: the
     * send completes its pending receive, whose waker then runs nested
     * (below the depth) or waits in a carrier (at it). */
    if (n->depth >= NEST_MAX - 2) {
        long item = n->offered++;
        if (ferry_send(n->vtx, &item, 1) != 1)
            n->bad = true;
        atomic_fetch_add(&n->accepted, 1);
        /* At the depth the receive's waker waits until this one returns:
         * hold that window open a while, for the canceller to hit it. */
        if (n->depth == NEST_MAX)
            for (uint64_t spin = ferry_test_rand(&n->rnd) % 8192; spin > 0; spin--)
                __asm__ __volatile__("" ::: "memory");
    }
    long v = ++n->next;
    if (v <= n->hops &&
        (ferry_recv_start(n->ctx_rx, &n->op, &n->in, 1, (ferry_waker){nest_wake, n}) != -EINPROGRESS ||
         ferry_send(n->ctx_tx, &v, 1) != 1))
        n->bad = true;
    n->depth--;
}

static void *chainer(void *arg)
{
    struct nest *n = arg;
    size_t chains = ferry_test_scaled(40);
    for (size_t k = 0; k < chains; k++) {
        n->next = 1;
        n->hops = 2000 + (long)(k % 7) * 37;
        CHECK_EQ(ferry_recv_start(n->ctx_rx, &n->op, &n->in, 1, (ferry_waker){nest_wake, n}), -EINPROGRESS);
        long first = 1;
        CHECK_EQ(ferry_send(n->ctx_tx, &first, 1), 1);
        CHECK(!n->bad);
        CHECK_EQ(n->next, n->hops + 1);
    }
    ferry_tx_release(n->vtx); /* the canceller drains, then sees the close */
    return NULL;
}

static void see(uint8_t *seen, size_t cap_items, long item, size_t *got)
{
    CHECK(item >= 0 && (size_t)item < cap_items);
    CHECK_MSG(seen[item] == 0, "item %ld twice", item);
    seen[item] = 1;
    (*got)++;
}

static void nest_race(size_t chain_cap, size_t victim_cap)
{
    struct nest n;
    memset(&n, 0, sizeof n);
    n.rnd = 5;
    ferry_chan_config cc = {.elem_size = sizeof(long), .capacity = chain_cap, .name = "chain"};
    ferry_chan_config vc = {.elem_size = sizeof(long), .capacity = victim_cap, .name = "victim"};
    CHECK_EQ(ferry_chan_open(&cc, &n.ctx_tx, &n.ctx_rx), 0);
    CHECK_EQ(ferry_chan_open(&vc, &n.vtx, &n.vrx), 0);
    size_t cap_items = 1u << 22;
    uint8_t *seen = calloc(cap_items, 1);
    CHECK(seen != NULL);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, chainer, &n), 0);
    uint64_t rnd = 11;
    size_t got = 0;
    for (;;) {
        struct victim_ctx *ctx = calloc(1, sizeof *ctx);
        ferry_op *op = malloc(sizeof *op); /* on the heap: ASan sees a use after free */
        long *out = malloc(sizeof *out);
        CHECK(ctx && op && out);
        ssize_t res = ferry_recv_start(n.vrx, op, out, 1, (ferry_waker){victim_wake, ctx});
        if (res == -EINPROGRESS) {
            uint64_t r = ferry_test_rand(&rnd);
            if (r % 8 == 0)
                sched_yield(); /* let the chain thread run into the depth */
            for (uint64_t spin = (r >> 3) % 2048; spin > 0; spin--)
                __asm__ __volatile__("" ::: "memory");
            res = ferry_op_cancel(op);
            atomic_store(&ctx->cancelled, 1);
            CHECK_MSG(atomic_load(&ctx->woken) <= 1, "res %zd", res);
        } else {
            CHECK_EQ(atomic_load(&ctx->woken), 0);
        }
        CHECK(res >= 0);
        if (res == 1)
            see(seen, cap_items, *out, &got);
        free(ctx); /* right after the cancel: no waker may run from here on */
        free(op);
        free(out);
        if (res == 0) {
            long probe;
            ssize_t p = ferry_try_recv(n.vrx, &probe, 1);
            if (p == 0)
                break; /* closed and drained */
            if (p == 1)
                see(seen, cap_items, probe, &got);
        }
    }
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ((long)got, atomic_load(&n.accepted));
    CHECK(got > 0);
    ferry_rx_release(n.vrx);
    ferry_tx_release(n.ctx_tx);
    ferry_rx_release(n.ctx_rx);
    free(seen);
}

FERRY_TEST(cancels_race_wakers_past_the_depth_rendezvous) { nest_race(0, 0); }
FERRY_TEST(cancels_race_wakers_past_the_depth_bounded) { nest_race(4, 0); }
FERRY_TEST(cancels_race_wakers_past_the_depth_unbounded_chain) { nest_race(FERRY_UNBOUNDED, 0); }
