/* SPDX-License-Identifier: MIT */
/* Select torture (ferry/select.h).
 *
 * One channel of every kind -- rendezvous, capacity 1, the lock-free ring,
 * a large locked bounded channel, unbounded, three priority levels, a
 * weight budget. Plain producers each send unique items to one channel (at
 * one level), in random batches. Plain receivers each drain one channel.
 * Selectors run select after select over random sets of receive cases and
 * one send case of their own unique items (random channel, level, count),
 * with every form of select: blocking, try, until with short deadlines,
 * and async (started, then waited for or cancelled at a random moment
 * while producers and receivers race it). After every select a selector
 * checks that:
 *  - exactly the returned case has a result; every other receive case's
 *    buffer is untouched (every slot still holds the sentinel), and so are
 *    the slots of the chosen one past its count;
 *  - a timeout, -EAGAIN or -ECANCELED touched nothing at all;
 *  - a chosen send case's count is the prefix of its offered items that
 *    left (the rest are offered again later).
 * At the end (all sending done, then every channel closed; selectors drain
 * until they have seen every channel closed): every item, plain or a
 * selector's, was received exactly once -- a case that moved items without
 * being chosen would lose them (never received) or duplicate them (sent
 * again) -- and per receiver, a plain producer's items came in order.
 *
 * select_async_cancel_races_completion: async selects cancelled at once or
 * after a yield or two while producers and plain receivers race them (see
 * its comment). */
#include <errno.h>
#include <ferry/select.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define SENTINEL UINT64_MAX
#define MAXN 4

/* UNBOUNDED: the lock-free block list; UNBOUNDED_LOCKED (two levels, all
 * sends at level 0): the locked rings. */
enum kind { RENDEZVOUS, CAP1, LOCKFREE, LOCKED, UNBOUNDED, UNBOUNDED_LOCKED, PRIO, BUDGET, NKINDS };
#define PRIO_LEVELS 3

static size_t weigh(const void *item, void *ctx)
{
    (void)ctx;
    uint64_t v;
    memcpy(&v, item, sizeof v);
    return 1 + (size_t)(v & 3);
}

enum { PRODUCERS = NKINDS, SELECTORS = 3, RECEIVERS = NKINDS };
#define NPROD (PRODUCERS + SELECTORS) /* item owners: plain producers, then selectors */

static struct {
    ferry_tx *tx[NKINDS];
    ferry_rx *rx[NKINDS];
    size_t per;                 /* items per plain producer */
    size_t sper;                /* items per selector */
    FERRY_ATOMIC(uint8_t) *seen; /* NPROD x max(per, sper) */
    size_t stride;
    FERRY_ATOMIC(int) sending;  /* producers and selectors still sending */
    FERRY_ATOMIC(uint64_t) received;
    FERRY_ATOMIC(uint64_t) chosen[5]; /* select outcomes: recv, send, closed, none, async cancelled */
} T;

static uint64_t item(int owner, size_t seq) { return (uint64_t)owner << 32 | seq; }

/* Record a received item: exactly once; in order per plain producer for
 * this receiver (last[] is the receiver's own). */
static void got(uint64_t v, size_t *last)
{
    int owner = (int)(v >> 32);
    size_t seq = (size_t)(v & 0xffffffffu);
    CHECK_MSG(owner < NPROD && seq < (owner < PRODUCERS ? T.per : T.sper), "garbage item %#llx",
              (unsigned long long)v);
    uint8_t was = atomic_fetch_add_explicit(&T.seen[(size_t)owner * T.stride + seq], 1, memory_order_relaxed);
    CHECK_MSG(was == 0, "item (%d, %zu) received twice", owner, seq);
    if (owner < PRODUCERS) {
        CHECK_MSG(last[owner] == SIZE_MAX || last[owner] < seq, "producer %d: %zu after %zu", owner, seq, last[owner]);
        last[owner] = seq;
    }
    atomic_fetch_add_explicit(&T.received, 1, memory_order_relaxed);
}

static unsigned levels_of(int k) { return k == PRIO ? PRIO_LEVELS : 1; }

/* ------------------------------------------------------------------------ */

static void *producer(void *arg)
{
    int p = (int)(intptr_t)arg;
    int k = p % NKINDS;
    unsigned level = (unsigned)p % levels_of(k);
    uint64_t rng = 0x1234567ull + (uint64_t)p;
    uint64_t buf[MAXN];
    for (size_t seq = 0; seq < T.per;) {
        size_t n = 1 + ferry_test_rand(&rng) % MAXN;
        if (n > T.per - seq)
            n = T.per - seq;
        for (size_t i = 0; i < n; i++)
            buf[i] = item(p, seq + i);
        ssize_t r = ferry_send_prio(T.tx[k], buf, n, level);
        CHECK_EQ(r, (ssize_t)n);
        seq += n;
    }
    atomic_fetch_sub(&T.sending, 1);
    return NULL;
}

static void *receiver(void *arg)
{
    int k = (int)(intptr_t)arg;
    size_t last[NPROD];
    for (int i = 0; i < NPROD; i++)
        last[i] = SIZE_MAX;
    uint64_t rng = 0x777ull + (uint64_t)k, buf[MAXN];
    for (;;) {
        size_t max = 1 + ferry_test_rand(&rng) % MAXN;
        ssize_t r = ferry_recv(T.rx[k], buf, max);
        CHECK(r >= 0);
        if (r == 0)
            return NULL;
        for (ssize_t i = 0; i < r; i++)
            got(buf[i], last);
    }
}

/* ------------------------------------------------------------------------ */
/* Selectors                                                                 */

struct selector {
    int id; /* owner number of its items: PRODUCERS + index */
    uint64_t rng;
    size_t sent;        /* its items that left (a prefix) */
    bool closed[NKINDS]; /* receive cases that returned 0 */
    int nclosed;
    size_t last[NPROD];
    uint64_t out[NKINDS][MAXN];
    uint64_t offer[MAXN];
    FERRY_ATOMIC(int) woken;
    FERRY_ATOMIC(int) cancelled; /* its last async select's cancel has returned */
};

static void sel_wake(void *ctx)
{
    struct selector *s = ctx;
    CHECK_MSG(atomic_load(&s->cancelled) == 0, "a select's waker ran after ferry_select_cancel returned");
    CHECK_EQ(atomic_fetch_add(&s->woken, 1), 0); /* one waker call per started select */
}

/* Build this round's cases: receive cases on a random set of channels not
 * yet seen closed (all of them once its sending is done), and while it has
 * items left, a send case of its next ones. Returns the count. */
static size_t build(struct selector *s, ferry_select_case *cs)
{
    size_t n = 0;
    bool sending = s->sent < T.sper;
    for (int k = 0; k < NKINDS; k++) {
        if (s->closed[k] || (sending && ferry_test_rand(&s->rng) % 2))
            continue;
        memset(&cs[n], 0, sizeof cs[n]);
        cs[n].op = FERRY_SELECT_RECV;
        cs[n].rx = T.rx[k];
        cs[n].buf = s->out[k];
        cs[n].n = 1 + ferry_test_rand(&s->rng) % MAXN;
        cs[n].result = (ssize_t)0x5eed;
        for (int i = 0; i < MAXN; i++)
            s->out[k][i] = SENTINEL;
        n++;
    }
    if (sending) {
        int k = (int)(ferry_test_rand(&s->rng) % NKINDS);
        size_t m = 1 + ferry_test_rand(&s->rng) % MAXN;
        if (m > T.sper - s->sent)
            m = T.sper - s->sent;
        for (size_t i = 0; i < m; i++)
            s->offer[i] = item(s->id, s->sent + i);
        memset(&cs[n], 0, sizeof cs[n]);
        cs[n].op = FERRY_SELECT_SEND;
        cs[n].tx = T.tx[k];
        cs[n].prio = (unsigned)(ferry_test_rand(&s->rng) % levels_of(k));
        cs[n].buf = s->offer;
        cs[n].n = m;
        cs[n].result = (ssize_t)0x5eed;
        n++;
    }
    /* A NULL case now and then: never chosen. */
    if (ferry_test_rand(&s->rng) % 4 == 0) {
        memset(&cs[n], 0, sizeof cs[n]);
        cs[n].op = FERRY_SELECT_RECV;
        cs[n].result = (ssize_t)0x5eed;
        n++;
    }
    return n;
}

static int chan_of(const ferry_select_case *c)
{
    for (int k = 0; k < NKINDS; k++)
        if (c->op == FERRY_SELECT_RECV ? c->rx == T.rx[k] : c->tx == T.tx[k])
            return k;
    return -1;
}

/* Check the outcome of one select (i: its return) and account for it. */
static void settle(struct selector *s, ferry_select_case *cs, size_t n, int i)
{
    for (size_t j = 0; j < n; j++) {
        const ferry_select_case *c = &cs[j];
        int k = chan_of(c);
        if ((int)j != i) {
            CHECK_MSG(c->result == (ssize_t)0x5eed, "case %zu not chosen (%d was) but has a result %zd", j, i,
                      c->result);
            if (c->op == FERRY_SELECT_RECV && k >= 0)
                for (int t = 0; t < MAXN; t++)
                    CHECK_MSG(s->out[k][t] == SENTINEL, "case %zu not chosen but its buffer was written", j);
            continue;
        }
        CHECK(k >= 0);
        if (c->op == FERRY_SELECT_RECV) {
            CHECK(c->result >= 0 && (size_t)c->result <= c->n);
            for (ssize_t t = 0; t < c->result; t++)
                got(s->out[k][t], s->last);
            for (size_t t = (size_t)c->result; t < MAXN; t++)
                CHECK_MSG(s->out[k][t] == SENTINEL, "a receive of %zd wrote slot %zu", c->result, t);
            if (c->result == 0) {
                s->closed[k] = true;
                s->nclosed++;
                atomic_fetch_add(&T.chosen[2], 1);
            } else {
                atomic_fetch_add(&T.chosen[0], 1);
            }
        } else {
            CHECK_MSG(c->result >= 1 && (size_t)c->result <= c->n, "send case result %zd", c->result);
            s->sent += (size_t)c->result;
            if (s->sent == T.sper)
                atomic_fetch_sub(&T.sending, 1);
            atomic_fetch_add(&T.chosen[1], 1);
        }
    }
}

static void *selector_main(void *arg)
{
    struct selector *s = arg;
    ferry_select_case cs[NKINDS + 2];
    for (int i = 0; i < NPROD; i++)
        s->last[i] = SIZE_MAX;
    while (s->nclosed < NKINDS) {
        size_t n = build(s, cs);
        int form = (int)(ferry_test_rand(&s->rng) % 8); /* 0 try, 1 until, 2-3 async, 4-7 blocking */
        int i;
        if (form == 0) {
            i = ferry_try_select(cs, n);
        } else if (form == 1) {
            struct timespec dl = ferry_test_deadline_ms((long)(ferry_test_rand(&s->rng) % 3));
            i = ferry_select_until(cs, n, &dl);
        } else if (form == 2 || form == 3) {
            /* Async: wait for the waker, or cancel at a random moment. */
            atomic_store(&s->woken, 0);
            atomic_store(&s->cancelled, 0);
            ferry_waker w = {sel_wake, s};
            i = ferry_select_start(cs, n, w);
            if (i == -EINPROGRESS) {
                /* A third cancel at once (racing the starts' completions),
                 * a third after a few yields, a third wait for the waker. */
                int how = (int)(ferry_test_rand(&s->rng) % 3);
                int spins = how == 0 ? 0 : (int)(ferry_test_rand(&s->rng) % 64);
                bool wait = how == 2;
                for (int t = 0; (wait || t < spins) && !atomic_load(&s->woken); t++)
                    sched_yield();
                bool was_woken = atomic_load(&s->woken) != 0;
                i = ferry_select_cancel(cs, n);
                CHECK_EQ(ferry_select_cancel(cs, n), i); /* the same answer again */
                if (was_woken)
                    CHECK(i >= 0); /* woken: a case completed */
                atomic_store(&s->cancelled, 1); /* from here the waker must not run (sel_wake checks) */
                if (i == -ECANCELED) {
                    CHECK_EQ(atomic_load(&s->woken), 0); /* nothing completed: never woken */
                    atomic_fetch_add(&T.chosen[4], 1);
                } /* else woken once, or the cancel took the completion over before its waker ran */
            } else {
                CHECK_EQ(atomic_load(&s->woken), 0); /* at once: never woken */
            }
        } else {
            i = ferry_select(cs, n);
            CHECK_MSG(i >= 0, "ferry_select returned %d", i);
        }
        if (i < 0) {
            CHECK_MSG(i == -EAGAIN || i == -ETIMEDOUT || i == -ECANCELED, "select returned %d", i);
            atomic_fetch_add(&T.chosen[3], 1);
            i = -1;
        }
        settle(s, cs, n, i);
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */

FERRY_TEST(select_torture_every_kind)
{
    T.per = ferry_test_scaled(3000);
    T.sper = ferry_test_scaled(3000);
    T.stride = T.per > T.sper ? T.per : T.sper;
    T.seen = calloc((size_t)NPROD * T.stride, 1);
    CHECK(T.seen != NULL);
    for (int k = 0; k < NKINDS; k++) {
        ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = 8, .name = "torture"};
        switch (k) {
        case RENDEZVOUS: cfg.capacity = 0; break;
        case CAP1: cfg.capacity = 1; break;
        case LOCKFREE: break;
        case LOCKED: cfg.capacity = (size_t)1 << 24; break; /* 128 MiB: past the lock-free ring (64 MiB) */
        case UNBOUNDED: cfg.capacity = FERRY_UNBOUNDED; break;
        case UNBOUNDED_LOCKED: cfg.capacity = FERRY_UNBOUNDED; cfg.levels = 2; break;
        case PRIO: cfg.levels = PRIO_LEVELS; break;
        case BUDGET: cfg.budget = 8; cfg.weigh = weigh; break;
        }
        CHECK_EQ(ferry_chan_open(&cfg, &T.tx[k], &T.rx[k]), 0);
    }
    atomic_store(&T.sending, PRODUCERS + SELECTORS);
    pthread_t prod[PRODUCERS], recv[RECEIVERS], sel[SELECTORS];
    static struct selector S[SELECTORS];
    for (int i = 0; i < SELECTORS; i++) {
        memset(&S[i], 0, sizeof S[i]);
        S[i].id = PRODUCERS + i;
        S[i].rng = 0xabcdefull * (uint64_t)(i + 1);
        CHECK_EQ(pthread_create(&sel[i], NULL, selector_main, &S[i]), 0);
    }
    for (int i = 0; i < RECEIVERS; i++)
        CHECK_EQ(pthread_create(&recv[i], NULL, receiver, (void *)(intptr_t)i), 0);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_create(&prod[i], NULL, producer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(pthread_join(prod[i], NULL), 0);
    while (atomic_load(&T.sending) > 0)
        ferry_test_sleep_ms(1);
    for (int k = 0; k < NKINDS; k++)
        ferry_tx_close(T.tx[k]);
    for (int i = 0; i < SELECTORS; i++)
        CHECK_EQ(pthread_join(sel[i], NULL), 0);
    for (int i = 0; i < RECEIVERS; i++)
        CHECK_EQ(pthread_join(recv[i], NULL), 0);
    size_t total = PRODUCERS * T.per + SELECTORS * T.sper;
    CHECK_EQ(atomic_load(&T.received), total);
    for (int o = 0; o < NPROD; o++)
        for (size_t q = 0; q < (o < PRODUCERS ? T.per : T.sper); q++)
            CHECK_MSG(atomic_load(&T.seen[(size_t)o * T.stride + q]) == 1, "item (%d, %zu) never received", o, q);
    fprintf(stderr, "%zu items; selects: %llu receives, %llu sends, %llu closed, %llu nothing, %llu async cancelled\n",
            total, (unsigned long long)atomic_load(&T.chosen[0]), (unsigned long long)atomic_load(&T.chosen[1]),
            (unsigned long long)atomic_load(&T.chosen[2]), (unsigned long long)atomic_load(&T.chosen[3]),
            (unsigned long long)atomic_load(&T.chosen[4]));
    /* Every kind of outcome happened (the test exercised what it claims). */
    CHECK(atomic_load(&T.chosen[0]) > 0);
    CHECK(atomic_load(&T.chosen[1]) > 0);
    CHECK_EQ(atomic_load(&T.chosen[2]), (uint64_t)SELECTORS * NKINDS);
    for (int k = 0; k < NKINDS; k++) {
        ferry_tx_release(T.tx[k]);
        ferry_rx_release(T.rx[k]);
    }
    free((void *)T.seen);
}

/* ------------------------------------------------------------------------ */
/* Async selects cancelled while completions race them                      */

/* One selector starts async selects over three receive cases (two
 * rendezvous channels, one of capacity 1) and a send case (capacity 1,
 * drained by a consumer), and cancels each at once or after a yield or two,
 * while producers send unique items into the three and plain receivers take
 * from them too. Every cancel races a completion. Checked: the waker runs
 * at most once per select and never after the cancel returned; a cancel
 * that says -ECANCELED had no waker and moved nothing; a chosen case's
 * items are accounted; every item is received exactly once in the end. */
enum { AR_IN = 3, AR_PRODUCERS = 3 };

static struct {
    ferry_tx *tx[AR_IN + 1];
    ferry_rx *rx[AR_IN + 1];
    size_t per;
    FERRY_ATOMIC(uint8_t) *seen;
    FERRY_ATOMIC(int) producing;
    FERRY_ATOMIC(int) woken, cancelled;
    FERRY_ATOMIC(uint64_t) received, sent_by_select, got_by_consumer;
} AR;

static void ar_got(uint64_t v)
{
    int p = (int)(v >> 32);
    size_t seq = (size_t)(v & 0xffffffffu);
    CHECK_MSG(p < AR_PRODUCERS && seq < AR.per, "garbage item %#llx", (unsigned long long)v);
    CHECK_MSG(atomic_fetch_add(&AR.seen[(size_t)p * AR.per + seq], 1) == 0, "item (%d, %zu) twice", p, seq);
    atomic_fetch_add(&AR.received, 1);
}

static void ar_wake(void *ctx)
{
    (void)ctx;
    CHECK_MSG(atomic_load(&AR.cancelled) == 0, "waker ran after ferry_select_cancel returned");
    CHECK_EQ(atomic_fetch_add(&AR.woken, 1), 0);
}

static void *ar_producer(void *arg)
{
    int p = (int)(intptr_t)arg;
    for (size_t seq = 0; seq < AR.per; seq++) {
        uint64_t v = item(p, seq);
        CHECK_EQ(ferry_send(AR.tx[p % AR_IN], &v, 1), 1);
    }
    atomic_fetch_sub(&AR.producing, 1);
    return NULL;
}

static void *ar_receiver(void *arg)
{
    int k = (int)(intptr_t)arg;
    uint64_t v[2];
    ssize_t r;
    while ((r = ferry_recv(AR.rx[k], v, 2)) > 0)
        for (ssize_t i = 0; i < r; i++)
            ar_got(v[i]);
    CHECK_EQ(r, 0);
    return NULL;
}

static void *ar_consumer(void *arg)
{
    (void)arg;
    uint64_t v[4];
    ssize_t r;
    while ((r = ferry_recv(AR.rx[AR_IN], v, 4)) > 0)
        atomic_fetch_add(&AR.got_by_consumer, (uint64_t)r);
    return NULL;
}

FERRY_TEST(select_async_cancel_races_completion)
{
    AR.per = ferry_test_scaled(10000);
    AR.seen = calloc((size_t)AR_PRODUCERS * AR.per, 1);
    CHECK(AR.seen != NULL);
    size_t caps[AR_IN + 1] = {0, 0, 1, 1};
    for (int k = 0; k <= AR_IN; k++) {
        ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = caps[k]};
        CHECK_EQ(ferry_chan_open(&cfg, &AR.tx[k], &AR.rx[k]), 0);
    }
    atomic_store(&AR.producing, AR_PRODUCERS);
    pthread_t prod[AR_PRODUCERS], recv[AR_IN], cons;
    for (int k = 0; k < AR_IN; k++)
        CHECK_EQ(pthread_create(&recv[k], NULL, ar_receiver, (void *)(intptr_t)k), 0);
    CHECK_EQ(pthread_create(&cons, NULL, ar_consumer, NULL), 0);
    for (int p = 0; p < AR_PRODUCERS; p++)
        CHECK_EQ(pthread_create(&prod[p], NULL, ar_producer, (void *)(intptr_t)p), 0);
    uint64_t out[AR_IN][2], offer[2] = {7, 7}, rng = 99;
    ferry_select_case cs[AR_IN + 1];
    long selects = 0, cancelled = 0;
    while (atomic_load(&AR.producing) > 0) {
        for (int k = 0; k < AR_IN; k++) {
            cs[k] = (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = AR.rx[k], .buf = out[k], .n = 2};
            out[k][0] = out[k][1] = SENTINEL;
        }
        cs[AR_IN] = (ferry_select_case){.op = FERRY_SELECT_SEND, .tx = AR.tx[AR_IN], .buf = offer, .n = 2};
        atomic_store(&AR.woken, 0);
        atomic_store(&AR.cancelled, 0);
        int i = ferry_select_start(cs, AR_IN + 1, (ferry_waker){ar_wake, NULL});
        if (i == -EINPROGRESS) {
            for (int t = (int)(ferry_test_rand(&rng) % 3); t > 0; t--)
                sched_yield();
            i = ferry_select_cancel(cs, AR_IN + 1);
            atomic_store(&AR.cancelled, 1);
            if (i == -ECANCELED) {
                CHECK_EQ(atomic_load(&AR.woken), 0);
                cancelled++;
            }
        }
        CHECK_MSG(i >= 0 || i == -ECANCELED, "select returned %d", i);
        for (int k = 0; k < AR_IN; k++) {
            if (k != i) {
                CHECK_MSG(out[k][0] == SENTINEL && out[k][1] == SENTINEL, "case %d written, %d chosen", k, i);
                continue;
            }
            CHECK(cs[k].result >= 1 && cs[k].result <= 2);
            for (ssize_t t = 0; t < cs[k].result; t++)
                ar_got(out[k][t]);
            if (cs[k].result == 1)
                CHECK(out[k][1] == SENTINEL);
        }
        if (i == AR_IN) {
            CHECK(cs[i].result >= 1 && cs[i].result <= 2);
            atomic_fetch_add(&AR.sent_by_select, (uint64_t)cs[i].result);
        }
        selects++;
    }
    for (int p = 0; p < AR_PRODUCERS; p++)
        CHECK_EQ(pthread_join(prod[p], NULL), 0);
    for (int k = 0; k <= AR_IN; k++)
        ferry_tx_close(AR.tx[k]);
    for (int k = 0; k < AR_IN; k++)
        CHECK_EQ(pthread_join(recv[k], NULL), 0);
    CHECK_EQ(pthread_join(cons, NULL), 0);
    CHECK_EQ(atomic_load(&AR.received), (uint64_t)AR_PRODUCERS * AR.per);
    CHECK_EQ(atomic_load(&AR.got_by_consumer), atomic_load(&AR.sent_by_select));
    fprintf(stderr, "%ld async selects, %ld cancelled before any case completed\n", selects, cancelled);
    for (int k = 0; k <= AR_IN; k++) {
        ferry_tx_release(AR.tx[k]);
        ferry_rx_release(AR.rx[k]);
    }
    free((void *)AR.seen);
}
