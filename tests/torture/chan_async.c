/* SPDX-License-Identifier: MIT */
/* Async torture.
 *
 * cancel_then_free_races_completion: a receiver starts an op whose waker
 * context is a fresh heap object, then cancels it and frees the context at
 * once, over and over, while a sender keeps completing ops. A waker that ran
 * after cancel returned would touch freed memory (ASan) or see the context
 * marked cancelled (all builds). Every item sent is received by some op or
 * reported by a cancel's return value.
 *
 * mixed_*: async senders and receivers (executor threads juggling several
 * ops, cancelling some at random) with blocking senders and receivers on one
 * channel; every item exactly once, per-producer order per consumer, every
 * pending op woken exactly once, never after a cancel. */
#include <errno.h>
#include <ferry/op.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* ---- cancel vs completion --------------------------------------------- */

struct wctx {
    FERRY_ATOMIC(int) woken;
    FERRY_ATOMIC(int) cancelled;
    long pad[4];
};

static void ctx_wake(void *p)
{
    struct wctx *c = p;
    CHECK_MSG(atomic_load(&c->cancelled) == 0, "waker ran after ferry_op_cancel returned");
    atomic_fetch_add(&c->woken, 1);
}

struct race {
    ferry_tx *tx;
    ferry_rx *rx;
    size_t items;
    FERRY_ATOMIC(size_t) sent;
};

static void *race_sender(void *arg)
{
    struct race *r = arg;
    size_t next = 0;
    while (next < r->items) {
        long v[3] = {(long)next, (long)next + 1, (long)next + 2};
        size_t n = r->items - next < 3 ? r->items - next : 3;
        ssize_t k = ferry_try_send(r->tx, v, n);
        if (k == -EAGAIN) {
            sched_yield();
            continue;
        }
        CHECK(k > 0);
        next += (size_t)k;
    }
    ferry_tx_release(r->tx);
    return NULL;
}

static void cancel_race(size_t cap)
{
    struct race r = {.items = ferry_test_scaled(100000)};
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap};
    CHECK_EQ(ferry_chan_open(&cfg, &r.tx, &r.rx), 0);
    uint8_t *seen = calloc(r.items, 1);
    pthread_t t;
    pthread_create(&t, NULL, race_sender, &r);
    size_t got = 0;
    uint64_t rnd = 7;
    for (;;) {
        struct wctx *ctx = calloc(1, sizeof *ctx);
        ferry_op *op = malloc(sizeof *op); /* on the heap: ASan sees use after free */
        long *out = malloc(4 * sizeof *out);
        ferry_waker w = {ctx_wake, ctx};
        ssize_t res = ferry_recv_start(r.rx, op, out, 4, w);
        if (res == -EINPROGRESS) {
            for (uint64_t spin = ferry_test_rand(&rnd) % 64; spin > 0; spin--)
                __asm__ __volatile__("" ::: "memory");
            res = ferry_op_cancel(op);
            atomic_store(&ctx->cancelled, 1);
            /* Withdrawn (never woken), or completed (with items, or 0 at close): woken once
             * before cancel returned, or not at all if the cancel caught the
             * completion before its waker ran (it then returns the result). */
            int woken = atomic_load(&ctx->woken);
            CHECK_MSG(woken <= 1, "res %zd woken %d", res, woken);
        } else {
            CHECK_EQ(atomic_load(&ctx->woken), 0);
        }
        CHECK(res >= 0); /* 0: cancelled with nothing, or closed and drained */
        for (ssize_t i = 0; i < res; i++) {
            CHECK(out[i] >= 0 && (size_t)out[i] < r.items);
            CHECK_MSG(seen[out[i]] == 0, "item %ld twice", out[i]);
            seen[out[i]] = 1;
        }
        got += (size_t)res;
        free(ctx); /* right after cancel: no waker may run from here on */
        free(op);
        free(out);
        if (got == r.items)
            break;
    }
    pthread_join(t, NULL);
    long tail;
    CHECK_EQ(ferry_recv(r.rx, &tail, 1), 0);
    ferry_rx_release(r.rx);
    free(seen);
}

FERRY_TEST(cancel_then_free_races_completion) { cancel_race(16); }
FERRY_TEST(cancel_then_free_races_completion_rendezvous) { cancel_race(0); }

/* ---- mixed blocking and async, random cancellation --------------------- */

#define SLOTS 4
#define REC_RING 8

struct rec {                  /* one per started op (ring per slot) */
    FERRY_ATOMIC(int) woken;
    FERRY_ATOMIC(int) cancelled;
};

struct mix {
    ferry_tx *tx;
    ferry_rx *rx;
    int P;                    /* producer ids: blocking ones first, then async slots */
    size_t per;
    FERRY_ATOMIC(uint8_t) *seen;
    FERRY_ATOMIC(size_t) received;
};

static void rec_wake(void *p)
{
    struct rec *rc = p;
    CHECK_MSG(atomic_load(&rc->cancelled) == 0, "waker ran after cancel returned");
    CHECK_MSG(atomic_fetch_add(&rc->woken, 1) == 0, "waker ran twice");
}

static uint64_t item(int p, size_t seq) { return (uint64_t)p << 32 | seq; }

static void account(struct mix *m, size_t *last, const uint64_t *v, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++) {
        int p = (int)(v[i] >> 32);
        size_t seq = (size_t)(v[i] & 0xffffffffu);
        CHECK(p < m->P && seq < m->per);
        CHECK_MSG(atomic_fetch_add(&m->seen[(size_t)p * m->per + seq], 1) == 0, "item (%d,%zu) twice", p, seq);
        CHECK_MSG(last[p] == SIZE_MAX || last[p] < seq, "out of order");
        last[p] = seq;
    }
    atomic_fetch_add(&m->received, (size_t)n);
}

struct slot {
    ferry_op op;
    bool busy;
    uint64_t buf[16];
    size_t n;             /* send: items in this op */
    size_t seq;           /* send: next sequence number of this slot's producer */
    int pid;              /* send: producer id */
    size_t *last;         /* recv: per-producer last seq for this slot (a consumer) */
    struct rec recs[REC_RING];
    unsigned nrec;
    bool finished;
};

static struct rec *new_rec(struct slot *s)
{
    struct rec *rc = &s->recs[s->nrec++ % REC_RING];
    atomic_store(&rc->woken, 0);
    atomic_store(&rc->cancelled, 0);
    return rc;
}

/* Wait (briefly) for the waker of a completed op to have run exactly once. */
static void expect_woken(struct rec *rc)
{
    while (atomic_load(&rc->woken) == 0)
        sched_yield();
}

static void *async_receiver(void *arg)
{
    struct mix *m = arg;
    struct slot *s = calloc(SLOTS, sizeof *s);
    uint64_t rnd = (uint64_t)(uintptr_t)s;
    for (int i = 0; i < SLOTS; i++) {
        s[i].last = malloc((size_t)m->P * sizeof(size_t));
        for (int p = 0; p < m->P; p++)
            s[i].last[p] = SIZE_MAX;
    }
    int open_slots = SLOTS;
    while (open_slots > 0) {
        for (int i = 0; i < SLOTS; i++) {
            struct slot *sl = &s[i];
            if (sl->finished)
                continue;
            ssize_t r;
            struct rec *rc = &sl->recs[(sl->nrec - 1) % REC_RING];
            if (!sl->busy) {
                rc = new_rec(sl);
                size_t max = 1 + ferry_test_rand(&rnd) % 16;
                r = ferry_recv_start(m->rx, &sl->op, sl->buf, max, (ferry_waker){rec_wake, rc});
                if (r == -EINPROGRESS) {
                    sl->busy = true;
                    continue;
                }
                CHECK_EQ(atomic_load(&rc->woken), 0);
            } else if (ferry_test_rand(&rnd) % 8 == 0) {
                r = ferry_op_cancel(&sl->op);
                atomic_store(&rc->cancelled, 1);
                CHECK(atomic_load(&rc->woken) <= 1);
                sl->busy = false;
            } else if ((r = ferry_op_result(&sl->op)) != -EINPROGRESS) {
                expect_woken(rc);
                sl->busy = false;
            } else {
                sched_yield();
                continue;
            }
            CHECK(r >= 0);
            account(m, sl->last, sl->buf, r);
            if (r == 0 && atomic_load(&rc->cancelled) == 0) {
                sl->finished = true; /* closed and drained */
                open_slots--;
            }
        }
    }
    for (int i = 0; i < SLOTS; i++)
        free(s[i].last);
    free(s);
    ferry_rx_release(m->rx);
    return NULL;
}

static void *async_sender(void *arg)
{
    void **a = arg;
    struct mix *m = a[0];
    int first_pid = (int)(intptr_t)a[1];
    struct slot *s = calloc(SLOTS, sizeof *s);
    uint64_t rnd = (uint64_t)(uintptr_t)s;
    for (int i = 0; i < SLOTS; i++)
        s[i].pid = first_pid + i;
    int open_slots = SLOTS;
    while (open_slots > 0) {
        for (int i = 0; i < SLOTS; i++) {
            struct slot *sl = &s[i];
            if (sl->finished)
                continue;
            ssize_t r;
            struct rec *rc = &sl->recs[(sl->nrec - 1) % REC_RING];
            if (!sl->busy) {
                if (sl->seq == m->per) {
                    sl->finished = true;
                    open_slots--;
                    continue;
                }
                sl->n = 1 + ferry_test_rand(&rnd) % 16;
                if (sl->n > m->per - sl->seq)
                    sl->n = m->per - sl->seq;
                for (size_t k = 0; k < sl->n; k++)
                    sl->buf[k] = item(sl->pid, sl->seq + k);
                rc = new_rec(sl);
                r = ferry_send_start(m->tx, &sl->op, sl->buf, sl->n, (ferry_waker){rec_wake, rc});
                if (r == -EINPROGRESS) {
                    sl->busy = true;
                    continue;
                }
                CHECK_EQ(atomic_load(&rc->woken), 0);
            } else if (ferry_test_rand(&rnd) % 8 == 0) {
                r = ferry_op_cancel(&sl->op); /* what moved; the rest is sent again */
                atomic_store(&rc->cancelled, 1);
                sl->busy = false;
            } else if ((r = ferry_op_result(&sl->op)) != -EINPROGRESS) {
                expect_woken(rc);
                CHECK_EQ(r, (ssize_t)sl->n);
                sl->busy = false;
            } else {
                sched_yield();
                continue;
            }
            CHECK(r >= 0 && (size_t)r <= sl->n);
            sl->seq += (size_t)r;
        }
    }
    free(s);
    ferry_tx_release(m->tx);
    return NULL;
}

static void *blocking_sender(void *arg)
{
    void **a = arg;
    struct mix *m = a[0];
    int pid = (int)(intptr_t)a[1];
    uint64_t buf[7];
    for (size_t seq = 0; seq < m->per;) {
        size_t n = m->per - seq < 7 ? m->per - seq : 7;
        for (size_t k = 0; k < n; k++)
            buf[k] = item(pid, seq + k);
        CHECK_EQ(ferry_send(m->tx, buf, n), (ssize_t)n);
        seq += n;
    }
    ferry_tx_release(m->tx);
    return NULL;
}

static void *blocking_receiver(void *arg)
{
    struct mix *m = arg;
    size_t *last = malloc((size_t)m->P * sizeof *last);
    for (int p = 0; p < m->P; p++)
        last[p] = SIZE_MAX;
    uint64_t buf[5];
    ssize_t r;
    while ((r = ferry_recv(m->rx, buf, 5)) > 0)
        account(m, last, buf, r);
    CHECK_EQ(r, 0);
    free(last);
    ferry_rx_release(m->rx);
    return NULL;
}

/* bs/as: blocking / async senders (threads); br/ar: receivers. */
static void mixed(size_t cap, int bs, int as, int br, int ar)
{
    struct mix m = {.per = ferry_test_scaled(3000)};
    m.P = bs + as * SLOTS;
    m.seen = calloc((size_t)m.P * m.per, sizeof *m.seen);
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = cap};
    CHECK_EQ(ferry_chan_open(&cfg, &m.tx, &m.rx), 0);
    pthread_t t[32];
    void *args[32][2];
    int nt = 0, pid = 0;
    for (int i = 0; i < br; i++) {
        ferry_rx_clone(m.rx);
        pthread_create(&t[nt++], NULL, blocking_receiver, &m);
    }
    for (int i = 0; i < ar; i++) {
        ferry_rx_clone(m.rx);
        pthread_create(&t[nt++], NULL, async_receiver, &m);
    }
    for (int i = 0; i < bs; i++) {
        ferry_tx_clone(m.tx);
        args[nt][0] = &m;
        args[nt][1] = (void *)(intptr_t)pid++;
        pthread_create(&t[nt], NULL, blocking_sender, args[nt]);
        nt++;
    }
    for (int i = 0; i < as; i++) {
        ferry_tx_clone(m.tx);
        args[nt][0] = &m;
        args[nt][1] = (void *)(intptr_t)pid;
        pid += SLOTS;
        pthread_create(&t[nt], NULL, async_sender, args[nt]);
        nt++;
    }
    ferry_tx_release(m.tx); /* the threads hold the remaining references */
    ferry_rx *rx = ferry_rx_clone(m.rx);
    ferry_rx_release(m.rx);
    for (int i = 0; i < nt; i++)
        pthread_join(t[i], NULL);
    size_t all = (size_t)m.P * m.per;
    CHECK_EQ(atomic_load(&m.received), all);
    for (size_t i = 0; i < all; i++)
        CHECK_MSG(atomic_load(&m.seen[i]) == 1, "item %zu lost", i);
    ferry_rx_release(rx);
    free(m.seen);
}

FERRY_TEST(mixed_async_receivers_blocking_senders)
{
    mixed(8, 3, 0, 0, 2);
    mixed(0, 3, 0, 0, 2);
}

FERRY_TEST(mixed_async_senders_blocking_receivers)
{
    mixed(8, 0, 2, 3, 0);
    mixed(0, 0, 2, 3, 0);
}

FERRY_TEST(mixed_all_four)
{
    mixed(1, 2, 1, 1, 1);
    mixed(16, 2, 2, 2, 2);
    mixed(0, 1, 1, 1, 1);
    mixed(FERRY_UNBOUNDED, 2, 1, 1, 2);
}
