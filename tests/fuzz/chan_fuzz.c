/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the public channel API (chan.h, op.h).
 *
 * Each input opens one channel (its kind from the first bytes: rendezvous,
 * capacity 1, N, unbounded, priority levels, a budget with and without a
 * weigh function, a large ring; with or without a drop callback) and then
 * runs, on one thread, the sequence of calls its remaining bytes spell: the
 * blocking, try, timed and async sends and receives, ferry_op_result,
 * ferry_op_cancel, clone / release / close of both handles, statistics, and
 * odd arguments (NULL handles and buffers, zero counts, huge counts, levels
 * out of range, past and malformed deadlines, bad configurations). Wake
 * callbacks record themselves and may free their op, cancel it, or make a
 * further call into the channel (nested up to two deep), which may be
 * ferry_op_cancel or ferry_op_result of an op whose start is running it
 * (op.h: -EINPROGRESS when the start completes that op at once).
 *
 * Every result is checked against the reference model (chan_model.h): the
 * exact return value, the exact items (ids in order) each receive gets, the
 * handle counts and statistics, that a waker runs exactly once for an op
 * that returned -EINPROGRESS and completed, never for one that completed at
 * once or was cancelled, and that every item ends received exactly once,
 * dropped exactly once (drop callback), or counted back to its sender. A
 * blocking call is made only when the model says it will not wait. At the
 * end of each input every handle is released, so that the leak check sees
 * the channel freed.
 *
 * The argument policy is checked too: NULL deadlines mean none, malformed
 * ones are -EINVAL before anything happens, counts whose bytes exceed
 * PTRDIFF_MAX are -EINVAL, a rejected start leaves its op answering
 * -EINVAL, a zero-filled op is "never started".
 *
 * FUZZ_TRACE=1 in the environment prints each step.
 */
#include <ferry/chan.h>
#include <ferry/op.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan_model.h"

/* ------------------------------------------------------------------------ */
/* Input                                                                     */

static const uint8_t *in_p;
static size_t in_n;

static unsigned in_u8(void)
{
    if (in_n == 0)
        return 0;
    in_n--;
    return *in_p++;
}

/* ------------------------------------------------------------------------ */
/* Failure reports: the last steps, then the mismatch                        */

#define TRACE_LINES 48
static char trace_buf[TRACE_LINES][192];
static unsigned trace_pos;
static bool trace_echo;
static int depth; /* 0: a top-level call; > 0: inside a wake callback */

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
    char *line = trace_buf[trace_pos++ % TRACE_LINES];
    int k = snprintf(line, sizeof trace_buf[0], "%*s", 2 * depth, "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof trace_buf[0] - (size_t)k, fmt, ap);
    va_end(ap);
    if (trace_echo)
        fprintf(stderr, "step: %s\n", line);
}

__attribute__((noreturn, format(printf, 3, 4))) static void fail(const char *file, int line, const char *fmt, ...)
{
    fprintf(stderr, "chan_fuzz: mismatch with the model; last steps:\n");
    unsigned first = trace_pos > TRACE_LINES ? trace_pos - TRACE_LINES : 0;
    for (unsigned i = first; i < trace_pos; i++)
        fprintf(stderr, "  %s\n", trace_buf[i % TRACE_LINES]);
    fprintf(stderr, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

#define CHECK(cond, ...)                                                                                       \
    do {                                                                                                       \
        if (!(cond))                                                                                           \
            fail(__FILE__, __LINE__, __VA_ARGS__);                                                             \
    } while (0)
#define CHECK_EQ(got, want, what)                                                                              \
    do {                                                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);                                               \
        CHECK(g_ == w_, "%s: got %lld, expected %lld", what, g_, w_);                                          \
    } while (0)

/* ------------------------------------------------------------------------ */
/* The channel under test and the fuzzer's own bookkeeping                   */

enum side { TX, RX };

struct slot {
    ferry_op *op; /* NULL: no op memory */
    char *buf;    /* the op's items (send) or out (receive) */
    struct model_op m;
    bool started; /* m describes the op (a start was made on it) */
    bool failed;  /* its start was rejected (-EINVAL): m.result holds it */
    bool at_once; /* its start completed it (no waker; the op outlives the channel) */
    bool op_busy; /* a start or cancel of it is in progress (a waker runs inside it) */
    bool in_start;   /* that is its start: a waker may cancel it or ask its result */
    ssize_t start_r; /* what that start will return (the model's answer) */
    enum side side;
    int wakes;  /* waker calls seen since the start */
    int action; /* what its waker does besides recording */
};

static struct model M;
static ferry_tx *tx;
static ferry_rx *rx;
static size_t busy[2]; /* calls in flight (outer frames) holding a handle of a side */
static struct slot slots[MODEL_MAX_OPS];
static uint8_t weigh_calls[MODEL_MAX_IDS + 1];
static uint8_t seen[MODEL_MAX_IDS + 1]; /* received (checked) or dropped */
static uint8_t drop_due[MODEL_MAX_IDS + 1];
static int in_call; /* real calls in progress */

static size_t refs(enum side s) { return s == TX ? M.tx_refs : M.rx_refs; }

/* A count no buffer can hold (count * elem_size > PTRDIFF_MAX): -EINVAL by
 * the argument policy. */
static bool count_absurd(size_t n) { return n > (size_t)PTRDIFF_MAX / M.elem; }
static bool chan_live(void) { return M.tx_refs + M.rx_refs > 0; }

/* Items: the id in the first 4 bytes, the rest a pattern of the id. */
static void put_item(char *p, uint32_t id)
{
    memcpy(p, &id, sizeof id);
    for (size_t j = sizeof id; j < M.elem; j++)
        p[j] = (char)(id * 7u + j);
}

static uint32_t item_id(const char *p)
{
    uint32_t id;
    memcpy(&id, p, sizeof id);
    CHECK(id >= 1 && id < M.next_id, "item with id %u: never sent", id);
    for (size_t j = sizeof id; j < M.elem; j++)
        CHECK(p[j] == (char)(id * 7u + j), "item %u: byte %zu corrupted", id, j);
    return id;
}

/* A receive got items `buf[0..k)`: they must be the model's, in order, each
 * seen for the first time. */
static void check_received(const char *buf, const struct model_op *mo, size_t k, const char *what)
{
    CHECK_EQ(k, mo->done, what);
    for (size_t i = 0; i < k; i++) {
        uint32_t id = item_id(buf + i * M.elem);
        CHECK(id == mo->ids[i], "%s: item %zu is id %u, expected id %u", what, i, id, mo->ids[i]);
        CHECK(!seen[id], "%s: id %u received twice", what, id);
        seen[id] = 1;
    }
}

static size_t weigh_cb(const void *item, void *ctx)
{
    CHECK(ctx == &M, "weigh: wrong context");
    CHECK(in_call > 0, "weigh called outside a channel call");
    uint32_t id = item_id(item);
    CHECK(++weigh_calls[id] == 1, "item %u weighed twice", id);
    return M.w[id];
}

static void drop_cb(void *item, void *ctx)
{
    CHECK(ctx == &M, "drop: wrong context");
    CHECK(in_call > 0, "drop called outside a channel call");
    uint32_t id = item_id(item);
    CHECK(drop_due[id], "item %u dropped but not buffered (or dropped twice)", id);
    drop_due[id] = 0;
    CHECK(!seen[id], "item %u dropped after it was received", id);
    seen[id] = 1;
}

/* ------------------------------------------------------------------------ */
/* Argument pickers                                                          */

/* A count: mostly small, sometimes large, sometimes absurd. */
static size_t pick_count(void)
{
    unsigned b = in_u8();
    if (b < 200)
        return b % 9;
    if (b < 240)
        return 9 + (b - 200) * 5;
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX / 2 + 1, (size_t)1 << 40, 1000000};
    return huge[b % 4];
}

static unsigned pick_prio(void)
{
    unsigned b = in_u8();
    if (b < 224)
        return b % M.levels;
    return b & 1 ? M.levels + (b & 6) : UINT_MAX;
}

enum dl { DL_NULL, DL_PAST, DL_FUTURE, DL_BAD };

static enum dl pick_deadline(struct timespec *ts)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    switch (in_u8() % 10) {
    case 0:
        return DL_NULL;
    case 1:
        *ts = (struct timespec){0, 0};
        return DL_PAST;
    case 2:
        *ts = (struct timespec){now.tv_sec - 1, now.tv_nsec};
        return DL_PAST;
    case 3:
        *ts = (struct timespec){now.tv_sec, 0};
        return DL_PAST;
    case 4:
        *ts = (struct timespec){now.tv_sec + 3600, 0};
        return DL_FUTURE;
    case 5:
        *ts = (struct timespec){LONG_MAX / 2, 999999999};
        return DL_FUTURE;
    case 6:
        *ts = (struct timespec){now.tv_sec + 3600, -1};
        return DL_BAD;
    case 7:
        *ts = (struct timespec){now.tv_sec + 3600, 1000000000};
        return DL_BAD;
    case 8:
        *ts = (struct timespec){0, -5};
        return DL_BAD;
    default:
        *ts = (struct timespec){LONG_MAX, LONG_MAX};
        return DL_BAD;
    }
}

/* New items for a send (weights spread over 0 .. budget + 1, so that some
 * are heavier than the whole budget). */
static void new_items(uint32_t *ids, size_t n, unsigned wb)
{
    for (size_t i = 0; i < n; i++)
        ids[i] = model_new_id(&M, M.budget ? (wb + 3 * i) % (M.budget + 2) : 0);
}

static char *items_buffer(const uint32_t *ids, size_t n)
{
    char *buf = malloc((n ? n : 1) * M.elem);
    for (size_t i = 0; i < n; i++)
        put_item(buf + i * M.elem, ids[i]);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Checks after each top-level call                                          */

static bool wake_pending(const struct slot *s) { return s->started && s->wakes < s->m.exp_wakes; }

/* May a call use this slot's op now? Not while a cancel of it is still
 * running; while its start is, only ferry_op_result and ferry_op_cancel
 * from a waker that start runs (op.h). */
static bool usable(const struct slot *s) { return s->op && s->started && (!s->op_busy || s->in_start); }

/* The op's start is running and completes it at once: it is not the op's
 * result yet (op.h: the start returns it), so ferry_op_result and
 * ferry_op_cancel say -EINPROGRESS and change nothing. */
static bool started_at_once_in_progress(const struct slot *s) { return s->in_start && s->start_r != -EINPROGRESS; }

/* Bracket a start: s's op belongs to it, wakers may cancel it. */
static void start_begins(struct slot *s, ssize_t want)
{
    s->op_busy = s->in_start = true;
    s->start_r = want;
}

static void start_ends(struct slot *s) { s->op_busy = s->in_start = false; }

static void check_slots(void)
{
    for (int i = 0; i < MODEL_MAX_OPS; i++) {
        struct slot *s = &slots[i];
        if (!s->started)
            continue;
        CHECK(s->wakes == s->m.exp_wakes, "op %d: waker called %d times, expected %d", i, s->wakes,
              s->m.exp_wakes);
        if (s->op)
            CHECK_EQ(ferry_op_result(s->op), s->m.state == MS_LINKED ? -EINPROGRESS : s->m.result,
                     "ferry_op_result");
    }
}

static void check_stats(void)
{
    const void *h = M.tx_refs ? (const void *)tx : (const void *)rx;
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(h, &st), 0, "ferry_chan_stats");
    CHECK_EQ(st.len, M.count, "stats.len");
    CHECK_EQ(st.weight, M.weight, "stats.weight");
    CHECK_EQ(st.senders, M.tx_refs, "stats.senders");
    CHECK_EQ(st.receivers, M.rx_refs, "stats.receivers");
    CHECK_EQ(st.closed, M.closed, "stats.closed");
    CHECK_EQ(st.items_sent, M.items_sent, "stats.items_sent");
    CHECK_EQ(st.items_received, M.items_received, "stats.items_received");
    CHECK_EQ(st.handoffs, M.handoffs, "stats.handoffs");
    CHECK_EQ(st.sends_blocked, M.sends_blocked, "stats.sends_blocked");
    CHECK_EQ(st.recvs_blocked, M.recvs_blocked, "stats.recvs_blocked");
    CHECK_EQ(st.wakeups, M.wakeups, "stats.wakeups");
    CHECK_EQ(st.elem_size, M.elem, "stats.elem_size");
    CHECK_EQ(st.capacity, M.cap, "stats.capacity");
    CHECK_EQ(st.levels, M.levels, "stats.levels");
}

static void after_call(void)
{
    if (depth > 0)
        return;
    check_slots();
    if (chan_live())
        check_stats();
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                     */

static void do_step(void);

/* Wake callback: exactly once per op that returned -EINPROGRESS and then
 * completed, during a call, after the model completed it. */
static void on_wake(void *ctx)
{
    struct slot *s = ctx;
    int i = (int)(s - slots);
    CHECK(in_call > 0, "op %d: waker called outside any channel call", i);
    CHECK(s->started && s->m.state == MS_DONE && s->wakes < s->m.exp_wakes,
          "op %d: waker called but the op is not due (state %d, wakes %d of %d)", i, (int)s->m.state, s->wakes,
          s->m.exp_wakes);
    s->wakes++;
    note("wake op %d (result %zd)", i, s->m.result);
    CHECK_EQ(ferry_op_result(s->op), s->m.result, "ferry_op_result in the waker");
    if (s->m.kind == MK_RECV && s->m.result > 0)
        check_received(s->buf, &s->m, (size_t)s->m.result, "woken receive");
    switch (s->action) {
    case 1: /* the op is complete: its memory may go */
        free(s->op);
        s->op = NULL;
        break;
    case 2: /* cancel its own, completed, op (while its side's handle is held) */
        if (refs(s->side) > 0)
            CHECK_EQ(ferry_op_cancel(s->op), s->m.result, "ferry_op_cancel of its own op in the waker");
        break;
    case 3: /* one more call into the channel */
        if (depth < 2 && in_n > 0) {
            depth++;
            do_step();
            depth--;
        }
        break;
    default:
        break;
    }
}

/* Bracket a real call: which side's handle it holds, for nested releases. */
#define REAL_CALL(side_busy, expr)                                                                             \
    ({                                                                                                         \
        int sb_ = (side_busy);                                                                                 \
        if (sb_ >= 0)                                                                                          \
            busy[sb_]++;                                                                                       \
        in_call++;                                                                                             \
        __typeof__(expr) r_ = (expr);                                                                          \
        in_call--;                                                                                             \
        if (sb_ >= 0)                                                                                          \
            busy[sb_]--;                                                                                       \
        r_;                                                                                                    \
    })

static const char *const send_names[] = {"send", "try_send", "send_until", "send_prio", "send_prio_until"};

static void do_send(int variant)
{
    size_t n = pick_count();
    unsigned prio = variant >= 3 ? pick_prio() : 0;
    struct timespec ts;
    enum dl dl = DL_NULL;
    if (variant == 2 || variant == 4)
        dl = pick_deadline(&ts);
    const struct timespec *dp = dl == DL_NULL ? NULL : &ts;
    unsigned odd = in_u8() % 16, wb = in_u8();
    ferry_tx *h = odd == 0 || M.tx_refs == 0 ? NULL : tx;
    bool null_items = odd == 1;

    ssize_t want;
    bool n0_or_einval = false;
    static struct model_op mo_stack[3];
    struct model_op *mo = &mo_stack[depth];
    char *buf = NULL;
    enum model_mode mode = variant == 1 ? MM_TRY : dl == DL_PAST ? MM_PAST : MM_BLOCK;
    if (!h || (null_items && n > 0) || prio >= M.levels || count_absurd(n)) {
        want = -EINVAL;
    } else if (dl == DL_BAD) {
        want = -EINVAL;
        n0_or_einval = n == 0;
    } else if (n == 0) {
        want = 0;
    } else if (n > model_ids_left(&M) && (M.closed || M.rx_refs == 0)) {
        want = -EPIPE; /* more items than there are ids, closed: nothing is read */
    } else {
        if (n > model_ids_left(&M))
            n = model_ids_left(&M);
        if (n == 0)
            return;
        new_items(mo->ids, n, wb);
        if (mode == MM_BLOCK && model_send_would_block(&M, mo->ids, n)) {
            note("%s(n=%zu): not made, it would block", send_names[variant], n);
            return;
        }
        buf = items_buffer(mo->ids, n);
        want = model_send(&M, mo, n, prio, mode);
    }
    const void *items = null_items ? NULL : buf ? buf : (const void *)&M; /* a valid, unread pointer */
    note("%s(%s, n=%zu, prio=%u, deadline=%d) -> expect %zd", send_names[variant], h ? "tx" : "NULL", n, prio,
         (int)dl, want);
    ssize_t r;
    int sb = h ? TX : -1;
    switch (variant) {
    case 0:
        r = REAL_CALL(sb, ferry_send(h, items, n));
        break;
    case 1:
        r = REAL_CALL(sb, ferry_try_send(h, items, n));
        break;
    case 2:
        r = REAL_CALL(sb, ferry_send_until(h, items, n, dp));
        break;
    case 3:
        r = REAL_CALL(sb, ferry_send_prio(h, items, n, prio));
        break;
    default:
        r = REAL_CALL(sb, ferry_send_prio_until(h, items, n, prio, dp));
        break;
    }
    if (n0_or_einval && r == 0)
        want = 0; /* n == 0 with a malformed deadline: either answer */
    CHECK_EQ(r, want, send_names[variant]);
    free(buf);
    after_call();
}

static const char *const recv_names[] = {"recv", "try_recv", "recv_until"};

static void do_recv(int variant)
{
    size_t max = pick_count();
    struct timespec ts;
    enum dl dl = variant == 2 ? pick_deadline(&ts) : DL_NULL;
    const struct timespec *dp = dl == DL_NULL ? NULL : &ts;
    unsigned odd = in_u8() % 16;
    ferry_rx *h = odd == 0 || M.rx_refs == 0 ? NULL : rx;
    bool null_out = odd == 1;

    ssize_t want;
    static struct model_op mo_stack[3];
    struct model_op *mo = &mo_stack[depth];
    enum model_mode mode = variant == 1 ? MM_TRY : dl == DL_PAST ? MM_PAST : MM_BLOCK;
    bool modelled = false;
    if (!h || null_out || max == 0 || count_absurd(max)) {
        want = -EINVAL;
    } else if (dl == DL_BAD) {
        want = -EINVAL;
    } else if (mode == MM_BLOCK && model_recv_would_block(&M)) {
        note("%s: not made, it would block", recv_names[variant]);
        return;
    } else {
        want = model_recv(&M, mo, max, mode);
        modelled = true;
    }
    size_t room = max < MODEL_MAX_IDS ? max : MODEL_MAX_IDS;
    char *out = null_out ? NULL : malloc((room ? room : 1) * M.elem);
    note("%s(%s, max=%zu, deadline=%d) -> expect %zd", recv_names[variant], h ? "rx" : "NULL", max, (int)dl, want);
    ssize_t r;
    int sb = h ? RX : -1;
    switch (variant) {
    case 0:
        r = REAL_CALL(sb, ferry_recv(h, out, max));
        break;
    case 1:
        r = REAL_CALL(sb, ferry_try_recv(h, out, max));
        break;
    default:
        r = REAL_CALL(sb, ferry_recv_until(h, out, max, dp));
        break;
    }
    CHECK_EQ(r, want, recv_names[variant]);
    if (modelled && r > 0)
        check_received(out, mo, (size_t)r, recv_names[variant]);
    free(out);
    after_call();
}

/* An op slot that a start may use: not linked, no wake due. */
static struct slot *free_slot(void)
{
    struct slot *s = &slots[in_u8() % MODEL_MAX_OPS];
    if ((s->started && s->m.state == MS_LINKED) || wake_pending(s) || s->op_busy)
        return NULL;
    return s;
}

/* Fresh op memory: zero-filled, or garbage (a start needs no initialization). */
static void slot_memory(struct slot *s, unsigned how)
{
    if (s->op)
        return;
    s->started = false;
    s->op = malloc(sizeof *s->op);
    memset(s->op, how & 1 ? 0xa5 : 0, sizeof *s->op);
}

/* A start was rejected with -EINVAL: the op must say so (policy: a failed
 * start leaves the op completed with its error). */
static void start_rejected(struct slot *s, enum side side)
{
    s->started = true;
    s->failed = true;
    s->side = side;
    s->wakes = 0;
    s->m.state = MS_DONE;
    s->m.result = -EINVAL;
    s->m.exp_wakes = 0;
    CHECK_EQ(ferry_op_result(s->op), -EINVAL, "ferry_op_result after a rejected start");
    CHECK_EQ(ferry_op_cancel(s->op), -EINVAL, "ferry_op_cancel after a rejected start");
}

static void do_recv_start(void)
{
    struct slot *s = free_slot();
    size_t max = pick_count();
    unsigned odd = in_u8(), action = in_u8() % 8;
    if (!s)
        return;
    if (odd % 16 == 3) {
        note("recv_start(NULL op) -> expect -EINVAL");
        char tmp[32];
        CHECK_EQ(ferry_recv_start(M.rx_refs ? rx : NULL, NULL, tmp, 1, (ferry_waker){on_wake, s}), -EINVAL,
                 "recv_start(NULL op)");
        return;
    }
    slot_memory(s, odd >> 4);
    ferry_rx *h = odd % 16 == 0 || M.rx_refs == 0 ? NULL : rx;
    size_t room = max < MODEL_MAX_IDS ? max : MODEL_MAX_IDS;
    free(s->buf);
    s->buf = odd % 16 == 1 ? NULL : malloc((room ? room : 1) * M.elem);
    ferry_waker w = {odd % 16 == 2 ? NULL : on_wake, s};
    int i = (int)(s - slots);
    if (!h || !s->buf || max == 0 || !w.wake || count_absurd(max)) {
        note("recv_start(op %d, max=%zu) -> expect -EINVAL", i, max);
        CHECK_EQ(REAL_CALL(-1, ferry_recv_start(h, s->op, s->buf, max, w)), -EINVAL, "recv_start");
        start_rejected(s, RX);
        after_call();
        return;
    }
    s->started = true;
    s->failed = false;
    s->at_once = false;
    s->side = RX;
    s->wakes = 0;
    s->action = action < 4 ? 0 : (int)action - 4 > 3 ? 3 : (int)action - 4;
    ssize_t want = model_recv(&M, &s->m, max, MM_ASYNC);
    note("recv_start(op %d, max=%zu, action %d) -> expect %zd", i, max, s->action, want);
    start_begins(s, want);
    ssize_t r = REAL_CALL(RX, ferry_recv_start(h, s->op, s->buf, max, w));
    start_ends(s);
    CHECK_EQ(r, want, "recv_start");
    s->at_once = r != -EINPROGRESS;
    if (r != -EINPROGRESS && s->op) {
        CHECK_EQ(ferry_op_result(s->op), r, "ferry_op_result after an immediate completion");
        if (r > 0)
            check_received(s->buf, &s->m, (size_t)r, "recv_start");
    }
    after_call();
}

static void do_send_start(bool with_prio)
{
    struct slot *s = free_slot();
    size_t n = pick_count();
    unsigned prio = with_prio ? pick_prio() : 0;
    unsigned odd = in_u8(), action = in_u8() % 8, wb = in_u8();
    if (!s)
        return;
    if (odd % 16 == 3) {
        note("send_start(NULL op) -> expect -EINVAL");
        CHECK_EQ(ferry_send_prio_start(M.tx_refs ? tx : NULL, NULL, &M, 1, 0, (ferry_waker){on_wake, s}), -EINVAL,
                 "send_start(NULL op)");
        return;
    }
    slot_memory(s, odd >> 4);
    ferry_tx *h = odd % 16 == 0 || M.tx_refs == 0 ? NULL : tx;
    bool null_items = odd % 16 == 1;
    ferry_waker w = {odd % 16 == 2 ? NULL : on_wake, s};
    int i = (int)(s - slots);
    free(s->buf);
    s->buf = NULL;
    if (!h || (null_items && n > 0) || !w.wake || prio >= M.levels || count_absurd(n)) {
        note("send_start(op %d, n=%zu, prio=%u) -> expect -EINVAL", i, n, prio);
        const void *items = null_items ? NULL : (const void *)&M;
        CHECK_EQ(REAL_CALL(-1, ferry_send_prio_start(h, s->op, items, n, prio, w)), -EINVAL, "send_start");
        start_rejected(s, TX);
        after_call();
        return;
    }
    /* More items than there are ids (from an unread pointer) only where
     * nothing is read: a closed channel. */
    bool absurd = n > model_ids_left(&M) && (M.closed || M.rx_refs == 0);
    if (!absurd && n > model_ids_left(&M))
        n = model_ids_left(&M);
    s->started = true;
    s->failed = false;
    s->at_once = false;
    s->side = TX;
    s->wakes = 0;
    s->action = action < 4 ? 0 : (int)action - 4 > 3 ? 3 : (int)action - 4;
    ssize_t want;
    if (n == 0 || absurd) {
        want = n == 0 ? 0 : -EPIPE;
        s->m.kind = MK_SEND;
        s->m.state = MS_DONE;
        s->m.result = want;
        s->m.exp_wakes = 0;
        s->m.n = s->m.done = 0;
    } else {
        new_items(s->m.ids, n, wb);
        s->buf = items_buffer(s->m.ids, n);
        want = model_send(&M, &s->m, n, prio, MM_ASYNC);
    }
    const void *items = s->buf ? s->buf : null_items ? NULL : (const void *)&M;
    note("send_start(op %d, n=%zu, prio=%u, action %d) -> expect %zd", i, n, prio, s->action, want);
    start_begins(s, want);
    ssize_t r = with_prio || prio != 0 ? REAL_CALL(TX, ferry_send_prio_start(h, s->op, items, n, prio, w))
                                       : REAL_CALL(TX, ferry_send_start(h, s->op, items, n, w));
    start_ends(s);
    CHECK_EQ(r, want, "send_start");
    s->at_once = r != -EINPROGRESS;
    if (r != -EINPROGRESS && s->op)
        CHECK_EQ(ferry_op_result(s->op), r, "ferry_op_result after an immediate completion");
    after_call();
}

static void do_result(void)
{
    struct slot *s = &slots[in_u8() % MODEL_MAX_OPS];
    if (!usable(s))
        return;
    ssize_t r = ferry_op_result(s->op);
    note("op_result(op %d) = %zd", (int)(s - slots), r);
    if (started_at_once_in_progress(s)) {
        CHECK_EQ(r, -EINPROGRESS, "ferry_op_result of an op whose start is running");
        return;
    }
    if (wake_pending(s) && r == -EINPROGRESS)
        return; /* completed in a round whose waker has not run yet */
    CHECK_EQ(r, s->m.state == MS_LINKED ? -EINPROGRESS : s->m.result, "ferry_op_result");
}

static void do_cancel(void)
{
    struct slot *s = &slots[in_u8() % MODEL_MAX_OPS];
    if (!usable(s))
        return;
    if (!s->failed && !s->at_once && refs(s->side) == 0)
        return; /* op.h: cancel while the handle the op was started on is held */
    int i = (int)(s - slots);
    bool pending_wake = wake_pending(s), at_once = started_at_once_in_progress(s);
    /* An op whose running start links it is withdrawn as any pending op. */
    ssize_t want = at_once ? -EINPROGRESS : model_cancel(&M, &s->m);
    note("op_cancel(op %d%s) -> expect %zd", i,
         at_once ? ", its start running" : pending_wake ? ", wake due" : "", want);
    /* While the cancel runs (its wakers too) the op is the cancel's alone. */
    bool was_busy = s->op_busy, was_in_start = s->in_start;
    s->op_busy = true;
    s->in_start = false;
    ssize_t r = REAL_CALL(s->failed ? -1 : (int)s->side, ferry_op_cancel(s->op));
    s->op_busy = was_busy;
    s->in_start = was_in_start;
    CHECK_EQ(r, want, "ferry_op_cancel");
    if (pending_wake) {
        s->m.exp_wakes = s->wakes; /* taken over: its waker will not run */
        if (s->m.kind == MK_RECV && want > 0)
            check_received(s->buf, &s->m, (size_t)want, "receive taken over by cancel");
    }
    if (s->op)
        CHECK_EQ(ferry_op_result(s->op), want, "ferry_op_result after cancel");
    after_call();
}

/* Free an op's memory (not while the channel may still use it). */
static void do_retire(void)
{
    struct slot *s = &slots[in_u8() % MODEL_MAX_OPS];
    if ((s->started && s->m.state == MS_LINKED) || wake_pending(s) || s->op_busy)
        return;
    note("retire op %d", (int)(s - slots));
    free(s->op);
    s->op = NULL;
}

static void do_clone(enum side side)
{
    if (refs(side) == 0) {
        CHECK(side == TX ? ferry_tx_clone(NULL) == NULL : ferry_rx_clone(NULL) == NULL, "clone(NULL) != NULL");
        return;
    }
    note("%s_clone", side == TX ? "tx" : "rx");
    if (side == TX) {
        CHECK(REAL_CALL(TX, ferry_tx_clone(tx)) == tx, "ferry_tx_clone returned another handle");
        M.tx_refs++;
    } else {
        CHECK(REAL_CALL(RX, ferry_rx_clone(rx)) == rx, "ferry_rx_clone returned another handle");
        M.rx_refs++;
    }
    after_call();
}

static uint32_t drop_list[MODEL_MAX_IDS];

static void do_release(enum side side)
{
    /* Not a handle that an outer call (this is a waker) is using. */
    if (refs(side) <= busy[side])
        return;
    note("%s_release (%zu left)", side == TX ? "tx" : "rx", refs(side) - 1);
    if (side == TX) {
        model_tx_release(&M);
        in_call++;
        ferry_tx_release(tx);
        in_call--;
    } else {
        size_t nd = model_rx_release(&M, drop_list);
        for (size_t i = 0; i < nd; i++)
            drop_due[drop_list[i]] = 1;
        in_call++;
        ferry_rx_release(rx);
        in_call--;
        for (size_t i = 0; i < nd; i++)
            CHECK(!drop_due[drop_list[i]], "buffered item %u not handed to drop", drop_list[i]);
    }
    after_call();
}

static void do_close(void)
{
    if (M.tx_refs == 0) {
        ferry_tx_close(NULL);
        return;
    }
    note("tx_close");
    model_tx_close(&M);
    in_call++;
    busy[TX]++;
    ferry_tx_close(tx);
    busy[TX]--;
    in_call--;
    after_call();
}

static void do_stats(void)
{
    if (!chan_live())
        return;
    note("stats");
    check_stats();
}

static size_t weigh_one(const void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    return 1;
}

/* Calls that must be rejected (or accepted harmlessly) whatever the state. */
static void do_odd(void)
{
    unsigned what = in_u8() % 12;
    note("odd call %u", what);
    ferry_chan_config cfg = {.elem_size = 8, .capacity = 4};
    ferry_tx *t = NULL;
    ferry_rx *r = NULL;
    struct ferry_chan_stats st;
    char buf[8];
    switch (what) {
    case 0:
        CHECK_EQ(ferry_send(NULL, buf, 1), -EINVAL, "ferry_send(NULL)");
        CHECK_EQ(ferry_recv(NULL, buf, 1), -EINVAL, "ferry_recv(NULL)");
        CHECK_EQ(ferry_try_send(NULL, buf, 1), -EINVAL, "ferry_try_send(NULL)");
        CHECK_EQ(ferry_try_recv(NULL, buf, 1), -EINVAL, "ferry_try_recv(NULL)");
        break;
    case 1:
        ferry_tx_release(NULL);
        ferry_rx_release(NULL);
        ferry_tx_close(NULL);
        CHECK(ferry_tx_clone(NULL) == NULL && ferry_rx_clone(NULL) == NULL, "clone(NULL) != NULL");
        break;
    case 2:
        CHECK_EQ(ferry_chan_stats(NULL, &st), -EINVAL, "ferry_chan_stats(NULL)");
        if (chan_live())
            CHECK_EQ(ferry_chan_stats(M.tx_refs ? (void *)tx : (void *)rx, NULL), -EINVAL,
                     "ferry_chan_stats(h, NULL)");
        memset(buf, 0, sizeof buf);
        CHECK_EQ(ferry_chan_stats(buf, &st), -EINVAL, "ferry_chan_stats(not a handle)");
        break;
    case 3:
        CHECK_EQ(ferry_op_cancel(NULL), -EINVAL, "ferry_op_cancel(NULL)");
        CHECK_EQ(ferry_op_result(NULL), -EINVAL, "ferry_op_result(NULL)");
        break;
    case 4: {
        /* A zero-filled op is "never started". */
        ferry_op *op = calloc(1, sizeof *op);
        CHECK_EQ(ferry_op_result(op), -EINVAL, "ferry_op_result(never started)");
        CHECK_EQ(ferry_op_cancel(op), -EINVAL, "ferry_op_cancel(never started)");
        free(op);
        break;
    }
    case 5:
        CHECK_EQ(ferry_chan_open(NULL, &t, &r), -EINVAL, "open(NULL config)");
        CHECK_EQ(ferry_chan_open(&cfg, NULL, &r), -EINVAL, "open(NULL tx)");
        CHECK_EQ(ferry_chan_open(&cfg, &t, NULL), -EINVAL, "open(NULL rx)");
        break;
    case 6:
        cfg.elem_size = 0;
        CHECK_EQ(ferry_chan_open(&cfg, &t, &r), -EINVAL, "open(elem_size 0)");
        cfg.elem_size = 8;
        cfg.levels = FERRY_MAX_LEVELS + 1 + in_u8();
        CHECK_EQ(ferry_chan_open(&cfg, &t, &r), -EINVAL, "open(levels > max)");
        cfg.levels = 0;
        cfg.weigh = weigh_one;
        CHECK_EQ(ferry_chan_open(&cfg, &t, &r), -EINVAL, "open(weigh without budget)");
        break;
    case 7:
        cfg.elem_size = 16;
        cfg.capacity = SIZE_MAX / 8;
        CHECK_EQ(ferry_chan_open(&cfg, &t, &r), -EINVAL, "open(capacity * elem_size overflows)");
        break;
    default: {
        /* Huge sizes: -EINVAL or -ENOMEM, or a channel (nothing allocated
         * up front); never a crash. */
        static const size_t elems[] = {SIZE_MAX - 3, SIZE_MAX, SIZE_MAX / 2 + 1, (size_t)1 << 40, SIZE_MAX - 1};
        static const size_t caps[] = {0, 1, 2, FERRY_UNBOUNDED, 3};
        unsigned b = in_u8();
        cfg.elem_size = elems[b % 5];
        cfg.capacity = caps[(b / 5) % 5];
        cfg.levels = b & 0x80 ? FERRY_MAX_LEVELS : 1;
        cfg.budget = b & 0x40 ? 100 : 0;
        int rc = ferry_chan_open(&cfg, &t, &r);
        CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "open(elem_size %zu, capacity %zu) = %d", cfg.elem_size,
              cfg.capacity, rc);
        if (rc == 0) {
            ferry_tx_release(t);
            ferry_rx_release(r);
        }
        break;
    }
    }
}

/* One step: the next input byte says which. */
static void do_step(void)
{
    unsigned op = in_u8() % 22;
    switch (op) {
    case 0: case 1: case 2: case 3: case 4:
        do_send((int)op);
        break;
    case 5: case 6: case 7:
        do_recv((int)op - 5);
        break;
    case 8:
        do_recv_start();
        break;
    case 9:
    case 10:
        do_send_start(op == 10);
        break;
    case 11:
        do_result();
        break;
    case 12:
        do_cancel();
        break;
    case 13:
    case 14:
        do_clone(op == 13 ? TX : RX);
        break;
    case 15:
    case 16:
        do_release(op == 15 ? TX : RX);
        break;
    case 17:
        do_close();
        break;
    case 18:
        do_stats();
        break;
    case 19:
        do_odd();
        break;
    default:
        do_retire();
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* One input                                                                 */

static void open_channel(void)
{
    unsigned kind = in_u8() % 8, b1 = in_u8(), b2 = in_u8(), b3 = in_u8(), b4 = in_u8();
    static const size_t elems[] = {4, 5, 8, 13, 16, 24};
    static const unsigned many[] = {2, 3, 5, FERRY_MAX_LEVELS};
    ferry_chan_config cfg = {.elem_size = elems[b1 % 6]};
    bool drop = (b1 / 6) & 1;
    size_t n = 2 + b2 % 16;
    switch (kind) {
    case 0:
        cfg.capacity = 0;
        break;
    case 1:
        cfg.capacity = 1;
        break;
    case 2:
        cfg.capacity = n;
        break;
    case 3:
        cfg.capacity = FERRY_UNBOUNDED;
        break;
    case 4: {
        static const size_t caps[] = {0, 1, 0, FERRY_UNBOUNDED};
        cfg.levels = many[b3 % 4];
        cfg.capacity = (b3 / 4) % 4 == 2 ? n : caps[(b3 / 4) % 4];
        break;
    }
    case 5:
        cfg.budget = cfg.elem_size * (b4 % 7) + (b4 / 7) % cfg.elem_size;
        if (cfg.budget == 0)
            cfg.budget = 1;
        cfg.capacity = b3 & 1 ? FERRY_UNBOUNDED : n;
        cfg.levels = b3 & 2 ? many[(b3 / 4) % 4] : 0;
        break;
    case 6:
        cfg.budget = 1 + b4 % 24;
        cfg.weigh = weigh_cb;
        cfg.weigh_ctx = &M;
        cfg.capacity = b3 & 1 ? FERRY_UNBOUNDED : n;
        cfg.levels = b3 & 2 ? many[(b3 / 4) % 4] : 0;
        break;
    default:
        cfg.capacity = 70000;
        cfg.levels = b3 & 1 ? 2 : 0;
        break;
    }
    if (drop) {
        cfg.drop = drop_cb;
        cfg.drop_ctx = &M;
    }
    cfg.name = b1 & 0x80 ? "fuzz" : NULL;
    model_open(&M, cfg.elem_size, cfg.capacity, cfg.levels, cfg.budget, cfg.weigh != NULL, drop);
    note("open(kind %u, elem %zu, capacity %zu, levels %u, budget %zu%s%s)", kind, cfg.elem_size, cfg.capacity,
         cfg.levels, cfg.budget, cfg.weigh ? ", weigh" : "", drop ? ", drop" : "");
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0, "ferry_chan_open");
}

/* Release every handle (the order from the input's first byte), then check
 * that every item and every op ended as the contract says. */
static void close_all(bool rx_first)
{
    for (int k = 0; k < 2; k++) {
        enum side side = (k == 0) == rx_first ? RX : TX;
        while (refs(side) > 0)
            do_release(side);
    }
    for (int i = 0; i < MODEL_MAX_OPS; i++) {
        struct slot *s = &slots[i];
        if (s->started) {
            CHECK(s->m.state == MS_DONE, "op %d still linked after every handle was released", i);
            CHECK(s->wakes == s->m.exp_wakes, "op %d: waker called %d times, expected %d", i, s->wakes,
                  s->m.exp_wakes);
        }
        free(s->op);
        free(s->buf);
    }
    memset(slots, 0, sizeof slots);
    for (uint32_t id = 1; id < M.next_id; id++) {
        uint8_t f = M.fate[id];
        CHECK(f != F_SENDING && f != F_BUFFERED, "item %u: still in the channel at the end (fate %u)", id, f);
        CHECK(seen[id] == (f == F_RECEIVED || f == F_DROPPED), "item %u: fate %u, seen %u", id, f, seen[id]);
        if (M.weigh && M.path[id] == P_BUFFERED)
            CHECK_EQ(weigh_calls[id], 1, "weigh calls of a buffered item");
        if (M.weigh && M.path[id] == P_HANDOFF)
            CHECK_EQ(weigh_calls[id], 0, "weigh calls of an item handed to a waiting receiver");
    }
    memset(weigh_calls, 0, sizeof weigh_calls);
    memset(seen, 0, sizeof seen);
    memset(drop_due, 0, sizeof drop_due);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *t = getenv("FUZZ_TRACE");
    trace_echo = t && *t && *t != '0';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_p = data;
    in_n = size;
    trace_pos = 0;
    bool rx_first = size > 0 && (data[0] & 0x80);
    open_channel();
    after_call();
    while (in_n > 0)
        do_step();
    close_all(rx_first);
    return 0;
}

/* Absurd sizes must come back as -ENOMEM, so malloc must be allowed to fail
 * under ASan rather than abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
