/* SPDX-License-Identifier: MIT */
/* Random sequences of channel calls on one thread, checked against the
 * channel's promises (docs/chan.md, "The contract"; "Priorities and weight
 * budgets"; ferry/select.h). Each run draws a shape -- rendezvous,
 * capacities 1 to 16, unbounded; 1 to 8 levels; no budget, a count budget
 * or a weighed one, weights 0 to 10 -- and makes 3000 calls from four
 * producers, three receivers and a selector: async sends at random levels
 * that stay pending, complete or are cancelled part way; sends with a past
 * deadline; try receives; async receives that stay pending, complete or
 * are cancelled; selects of a receive and a send (a fifth producer's
 * items) on the channel, tried or started and cancelled; in a quarter of
 * the runs a close, and in a quarter the last receiver's release, at a
 * random step. A producer sends its next batch once the last one is over,
 * from the next sequence number. Checked throughout: every item received
 * or dropped at most once, per producer and level in sequence order, each
 * received batch highest level first; the buffer within its capacity and
 * its budget (but for one oversize item alone), its statistics agreeing
 * (items sent less received are those buffered, no weight when empty); after a close, sends get
 * -EPIPE and receives 0 once drained. At the end: exactly the items the
 * sends counted were received or dropped. Wakers record what their receive
 * got as they run, in the order ops complete. Deterministic: the seeds are
 * fixed. */
#include <errno.h>
#include <ferry/op.h>
#include <ferry/select.h>
#include <stdint.h>
#include <string.h>

#include "chan_test.h"

#define P 4      /* producers; the selector sends as producer P */
#define R 3      /* async receivers */
#define BATCH 8  /* most items a call */
#define SEQS 24000
#define STEPS 3000

static uint64_t rng;
static unsigned pick(unsigned m)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % m);
}

/* An item: producer << 40 | level << 32 | sequence number. */
static uint64_t item(int p, unsigned lvl, long seq) { return (uint64_t)p << 40 | (uint64_t)lvl << 32 | (uint64_t)seq; }
static int item_p(uint64_t v) { return (int)(v >> 40); }
static unsigned item_lvl(uint64_t v) { return (unsigned)(v >> 32) & 0xff; }
static long item_seq(uint64_t v) { return (long)(v & 0xffffffffu); }

static struct {
    unsigned levels;
    unsigned char sent[P + 1][SEQS];  /* counted as sent by its send's result */
    unsigned char taken[P + 1][SEQS]; /* 1 received, 2 dropped */
    long last[P + 1][FERRY_MAX_LEVELS];
} m;

static size_t weigh(const void *it, void *ctx)
{
    (void)ctx;
    uint64_t v;
    memcpy(&v, it, sizeof v);
    return (size_t)(v * 7 % 11); /* 0..10, a pure function of the item */
}

static void drop(void *it, void *ctx)
{
    (void)ctx;
    uint64_t v;
    memcpy(&v, it, sizeof v);
    CHECK(item_p(v) <= P && item_seq(v) < SEQS);
    CHECK_MSG(m.taken[item_p(v)][item_seq(v)] == 0, "item %#llx dropped after it was taken", (unsigned long long)v);
    m.taken[item_p(v)][item_seq(v)] = 2;
}

static void received(const uint64_t *b, ssize_t k)
{
    for (ssize_t i = 0; i < k; i++) {
        int p = item_p(b[i]);
        unsigned lvl = item_lvl(b[i]);
        long seq = item_seq(b[i]);
        CHECK_MSG(p <= P && lvl < m.levels && seq < SEQS, "garbage item %#llx", (unsigned long long)b[i]);
        CHECK_MSG(m.taken[p][seq] == 0, "item %#llx twice", (unsigned long long)b[i]);
        m.taken[p][seq] = 1;
        CHECK_MSG(m.last[p][lvl] < seq, "producer %d level %u: %ld after %ld", p, lvl, seq, m.last[p][lvl]);
        m.last[p][lvl] = seq;
        CHECK_MSG(i == 0 || lvl <= item_lvl(b[i - 1]), "level %u after level %u in one batch", lvl,
                  item_lvl(b[i - 1]));
    }
}

struct producer {
    ferry_op op;
    uint64_t items[BATCH];
    size_t n;
    long first, next; /* this batch's first sequence number; the next batch's */
    bool pending;
};

struct receiver {
    ferry_op op;
    uint64_t out[BATCH];
    bool pending, woken;
};

static void nop_wake(void *ctx) { (void)ctx; }

/* A receive's waker: what it got, in the order receives complete (the op
 * is complete when its waker runs). */
static void receiver_woken(void *ctx)
{
    struct receiver *r = ctx;
    r->woken = true;
    ssize_t k = ferry_op_result(&r->op);
    CHECK(k != -EINPROGRESS);
    if (k > 0)
        received(r->out, k);
}

/* Producer p's next batch: 1 to BATCH items at a random level, from
 * sequence number *next on. False: its numbers are used up. */
static bool next_batch(int p, long *next, long *first, size_t *n, uint64_t *items, unsigned *lvl)
{
    if (*next + BATCH >= SEQS)
        return false;
    *lvl = pick(m.levels);
    *n = 1 + pick(BATCH);
    *first = *next;
    for (size_t i = 0; i < *n; i++)
        items[i] = item(p, *lvl, (*next)++);
    return true;
}

/* Producer p's send of n items from sequence number first counted k. */
static void counted_items(int p, long first, size_t n, ssize_t k)
{
    CHECK_MSG(k <= (ssize_t)n, "a send of %zu counted %zd", n, k);
    for (ssize_t i = 0; i < k; i++)
        m.sent[p][first + i] = 1;
}

static void counted(struct producer *q, int p, ssize_t k) { counted_items(p, q->first, q->n, k); }

/* A select of a receive (case 0) and a send (case 1) on the channel. */
struct selector {
    ferry_select_case cs[2];
    uint64_t out[BATCH], items[BATCH];
    long first, next;
    size_t n;
    bool pending;
};

/* The select is over: case i (or -ECANCELED, -EAGAIN: nothing moved). */
static void select_over(struct selector *s, int i)
{
    if (i == 0 && s->cs[0].result > 0)
        received(s->out, s->cs[0].result);
    else if (i == 1)
        counted_items(P, s->first, s->n, s->cs[1].result > 0 ? s->cs[1].result : 0);
    else
        CHECK_MSG(i == 0 || i == -ECANCELED || i == -EAGAIN, "select: %d", i);
    s->pending = false;
}

/* Its waker: a later call completed a case (the start has returned): end
 * the select here, so that a receive is recorded in completion order. */
static void selector_woken(void *ctx)
{
    struct selector *s = ctx;
    select_over(s, ferry_select_cancel(s->cs, 2));
}

static void select_step(struct selector *s, ferry_tx *tx, ferry_rx *rx)
{
    if (s->pending) {
        if (pick(2))
            select_over(s, ferry_select_cancel(s->cs, 2));
        return;
    }
    unsigned lvl;
    if (!next_batch(P, &s->next, &s->first, &s->n, s->items, &lvl))
        return;
    memset(s->cs, 0, sizeof s->cs);
    s->cs[0] = (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = rx, .buf = s->out, .n = 1 + pick(BATCH)};
    s->cs[1] = (ferry_select_case){.op = FERRY_SELECT_SEND, .prio = lvl, .tx = tx, .buf = s->items, .n = s->n};
    s->pending = true;
    int i = pick(2) ? ferry_try_select(s->cs, 2) : ferry_select_start(s->cs, 2, (ferry_waker){selector_woken, s});
    if (i != -EINPROGRESS)
        select_over(s, i);
}

static void one_run(int run)
{
    static const size_t caps[] = {0, 1, 2, 3, 5, 16, FERRY_UNBOUNDED};
    static const unsigned levels[] = {1, 2, 3, 8};
    static const size_t budgets[] = {0, 0, 1, 7, 30};
    rng = 0x9e3779b97f4a7c15ull * (uint64_t)(run + 1);
    memset(&m, 0, sizeof m);
    for (int p = 0; p <= P; p++)
        for (int l = 0; l < FERRY_MAX_LEVELS; l++)
            m.last[p][l] = -1;
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t), .capacity = caps[pick(7)], .levels = levels[pick(4)],
                             .budget = budgets[pick(5)], .drop = drop};
    if (cfg.budget && pick(2))
        cfg.weigh = weigh;
    m.levels = cfg.levels;
    ferry_tx *tx;
    ferry_rx *rx;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    static struct producer pr[P];
    static struct receiver rc[R];
    static struct selector sel;
    memset(pr, 0, sizeof pr);
    memset(rc, 0, sizeof rc);
    memset(&sel, 0, sizeof sel);
    int close_at = pick(4) == 0 ? (int)pick(STEPS) : -1, gone_at = pick(4) == 0 ? (int)pick(STEPS) : -1;
    bool closed = false, gone = false;
    for (int step = 0; step < STEPS; step++) {
        if (step == close_at) {
            ferry_tx_close(tx);
            closed = true;
        }
        if (step == gone_at) {
            ferry_rx_release(rx);
            gone = true;
        }
        unsigned what = pick(11);
        if (gone)
            what = 0; /* sends only */
        if (what == 10) {
            select_step(&sel, tx, rx);
        } else if (what < 4) {
            int p = (int)pick(P);
            struct producer *q = &pr[p];
            if (q->pending) {
                ssize_t r = pick(3) == 0 ? ferry_op_cancel(&q->op) : ferry_op_result(&q->op);
                if (r == -EINPROGRESS)
                    continue;
                CHECK_MSG(r >= 0 || r == -EPIPE, "a send op's result %zd", r);
                counted(q, p, r);
                q->pending = false;
                continue;
            }
            unsigned lvl;
            if (!next_batch(p, &q->next, &q->first, &q->n, q->items, &lvl))
                continue;
            ssize_t r;
            if (pick(2)) {
                r = ferry_send_prio_start(tx, &q->op, q->items, q->n, lvl, (ferry_waker){nop_wake, NULL});
                if (r == -EINPROGRESS) {
                    CHECK(!closed && !gone);
                    q->pending = true;
                    continue;
                }
            } else {
                struct timespec past = {0, 0};
                r = ferry_send_prio_until(tx, q->items, q->n, lvl, &past);
                if (r == -ETIMEDOUT)
                    r = 0;
            }
            CHECK_MSG(r >= 0 || r == -EPIPE, "send: %zd", r);
            CHECK_MSG(!(closed || gone) || r == -EPIPE, "send after the close: %zd", r);
            counted(q, p, r);
        } else if (what < 7) {
            uint64_t b[BATCH];
            ssize_t r = ferry_try_recv(rx, b, 1 + pick(BATCH));
            if (r > 0)
                received(b, r);
            else
                CHECK_MSG(r == -EAGAIN || (r == 0 && closed), "try_recv: %zd", r);
        } else {
            struct receiver *q = &rc[pick(R)];
            if (q->pending) {
                ssize_t r = pick(3) == 0 ? ferry_op_cancel(&q->op) : ferry_op_result(&q->op);
                if (r == -EINPROGRESS)
                    continue;
                if (r > 0 && !q->woken)
                    received(q->out, r); /* the cancel took the completion over: no waker */
                q->pending = false;
                continue;
            }
            q->woken = false;
            ssize_t r = ferry_recv_start(rx, &q->op, q->out, 1 + pick(BATCH), (ferry_waker){receiver_woken, q});
            if (r == -EINPROGRESS)
                q->pending = true;
            else if (r > 0)
                received(q->out, r);
            else
                CHECK_MSG(r == 0 && closed, "recv_start: %zd", r);
        }
        struct ferry_chan_stats st = stats(tx);
        CHECK_MSG(cfg.capacity == FERRY_UNBOUNDED || st.len <= cfg.capacity, "%zu items, capacity %zu", st.len,
                  cfg.capacity);
        CHECK_MSG(cfg.budget == 0 || st.weight <= cfg.budget || st.len == 1, "weight %zu of %zu items, budget %zu",
                  st.weight, st.len, cfg.budget);
        CHECK_MSG(!gone || st.len == 0, "%zu items left after the last receiver", st.len);
        CHECK_MSG(st.len != 0 || st.weight == 0, "weight %zu with nothing buffered", st.weight);
        CHECK_MSG(gone || st.items_sent - st.items_received == st.len, "%llu items sent, %llu received, %zu buffered",
                  (unsigned long long)st.items_sent, (unsigned long long)st.items_received, st.len);
    }
    /* Close; pending sends are over (a count or -EPIPE); drain; pending
     * receives are over (items, 0, or -EPIPE once the receivers left). */
    if (sel.pending)
        select_over(&sel, ferry_select_cancel(sel.cs, 2));
    ferry_tx_close(tx);
    for (int p = 0; p < P; p++) {
        if (!pr[p].pending)
            continue;
        ssize_t r = ferry_op_result(&pr[p].op);
        CHECK_MSG(r >= 0 || r == -EPIPE, "a send op after the close: %zd", r);
        counted(&pr[p], p, r);
    }
    if (!gone) {
        uint64_t b[BATCH];
        ssize_t r;
        while ((r = ferry_try_recv(rx, b, BATCH)) > 0)
            received(b, r);
        CHECK_EQ(r, 0);
    }
    for (int i = 0; i < R; i++) {
        if (!rc[i].pending)
            continue;
        ssize_t r = ferry_op_result(&rc[i].op); /* items: its waker recorded them */
        CHECK_MSG((r >= 0 && (r == 0 || rc[i].woken)) || (gone && r == -EPIPE), "a receive op after the close: %zd", r);
    }
    if (!gone)
        ferry_rx_release(rx); /* drained: nothing to drop */
    ferry_tx_release(tx);
    for (int p = 0; p <= P; p++)
        for (long s = 0; s < (p < P ? pr[p].next : sel.next); s++)
            CHECK_MSG(m.sent[p][s] == (m.taken[p][s] != 0),
                      "run %d (capacity %zu, %u levels, budget %zu%s): producer %d item %ld counted %d, taken %d",
                      run, cfg.capacity, m.levels, cfg.budget, cfg.weigh ? " weighed" : "", p, s, m.sent[p][s],
                      m.taken[p][s]);
}

FERRY_TEST(random_calls_keep_every_promise)
{
    for (int run = 0; run < (int)ferry_test_scaled(1000); run++)
        one_run(run);
}
