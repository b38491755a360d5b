/* SPDX-License-Identifier: MIT */
/* ferry/select.h: every rule of the contract, on every kind of channel
 * (docs/chan.md, "Select"). */
#include <errno.h>
#include <fcntl.h>
#include <ferry/deadline.h>
#include <ferry/select.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan_test.h"

void ferry__select_seed(uint64_t seed); /* src/select.c, for reproducible orders */

#define SENTINEL (-77L)

/* The kinds of channel a case can be on. */
/* UNBOUNDED is a plain unbounded channel: the lock-free block list;
 * UNBOUNDED_LOCKED one with two levels: the locked rings. */
enum kind { RENDEZVOUS, CAP1, LOCKFREE, LOCKED, UNBOUNDED, UNBOUNDED_LOCKED, PRIO, BUDGET, NKINDS };
static const char *const kind_name[NKINDS] = {"rendezvous", "cap1",       "lockfree",   "locked",
                                              "unbounded",  "unbounded-locked", "priorities", "budget"};

static void open_kind(enum kind k, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 8, .name = kind_name[k]};
    switch (k) {
    case RENDEZVOUS: cfg.capacity = 0; break;
    case CAP1: cfg.capacity = 1; break;
    case LOCKFREE: break;
    /* Too large for the lock-free ring (2^28 items), and a ring of longs
     * within PTRDIFF_MAX bytes on i386 too. */
    case LOCKED: cfg.capacity = ((size_t)1 << 28) + 1; break;
    case UNBOUNDED: cfg.capacity = FERRY_UNBOUNDED; break;
    case UNBOUNDED_LOCKED: cfg.capacity = FERRY_UNBOUNDED; cfg.levels = 2; break;
    case PRIO: cfg.levels = 3; break;
    case BUDGET: cfg.budget = 3 * sizeof(long); break; /* three items */
    default: CHECK(0);
    }
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

static void close_chan(ferry_tx *tx, ferry_rx *rx)
{
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

static void fill(long *buf, size_t n, long v)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = v;
}

static void check_untouched(const long *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(buf[i], SENTINEL);
}

static ferry_select_case recv_case(ferry_rx *rx, long *buf, size_t n)
{
    ferry_select_case c;
    memset(&c, 0, sizeof c);
    c.op = FERRY_SELECT_RECV;
    c.rx = rx;
    c.buf = buf;
    c.n = n;
    c.result = SENTINEL;
    return c;
}

static ferry_select_case send_case(ferry_tx *tx, long *buf, size_t n, unsigned prio)
{
    ferry_select_case c;
    memset(&c, 0, sizeof c);
    c.op = FERRY_SELECT_SEND;
    c.tx = tx;
    c.buf = buf;
    c.n = n;
    c.prio = prio;
    c.result = SENTINEL;
    return c;
}

static FERRY_ATOMIC(int) wakes;
static void count_wake(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&wakes, 1);
}
static const ferry_waker W = {count_wake, NULL};

/* ------------------------------------------------------------------------ */
/* Ready cases: each kind, each direction                                    */

/* A receive case on each kind of channel with items (a rendezvous channel:
 * a pending async send), among a NULL case and an empty channel: chosen,
 * result as ferry_try_recv, the other buffers untouched. */
FERRY_TEST(select_recv_ready_on_every_kind)
{
    for (int k = 0; k < NKINDS; k++) {
        ferry_tx *tx, *etx;
        ferry_rx *rx, *erx;
        open_kind((enum kind)k, &tx, &rx);
        open_kind(LOCKFREE, &etx, &erx);
        long in[3] = {1, 2, 3};
        ferry_op sop;
        atomic_store(&wakes, 0);
        bool pending = k == RENDEZVOUS || k == CAP1; /* the three items do not fit: an async send holds them */
        if (pending)
            CHECK_EQ(ferry_send_start(tx, &sop, in, 3, W), -EINPROGRESS);
        else
            CHECK_EQ(ferry_send(tx, in, 3), 3);
        long a[4], b[4], c[4];
        fill(a, 4, SENTINEL);
        fill(b, 4, SENTINEL);
        fill(c, 4, SENTINEL);
        ferry_select_case cs[3] = {recv_case(NULL, a, 4), recv_case(erx, b, 4), recv_case(rx, c, 2)};
        CHECK_EQ(ferry_try_select(cs, 3), 2);
        CHECK_EQ(cs[2].result, 2);
        CHECK_EQ(c[0], 1);
        CHECK_EQ(c[1], 2);
        CHECK_EQ(c[2], SENTINEL);
        check_untouched(a, 4);
        check_untouched(b, 4);
        CHECK_EQ(cs[0].result, SENTINEL);
        CHECK_EQ(cs[1].result, SENTINEL);
        CHECK_EQ(stats(etx).items_received, 0);
        /* The blocking forms too. */
        CHECK_EQ(ferry_select(cs, 3), 2);
        CHECK_EQ(cs[2].result, 1);
        CHECK_EQ(c[0], 3);
        if (pending) {
            CHECK_EQ(ferry_op_result(&sop), 3);
            CHECK_EQ(atomic_load(&wakes), 1);
        }
        struct timespec past = ferry_test_deadline_ms(-1);
        CHECK_EQ(ferry_select_until(cs, 3, &past), -ETIMEDOUT); /* drained: the try call, then -ETIMEDOUT */
        check_untouched(b, 4);
        close_chan(tx, rx);
        close_chan(etx, erx);
    }
}

/* A send case on each kind of channel with room (a rendezvous channel: a
 * pending async receive): chosen, result = items taken, the rest stay with
 * the caller; a send case on a full channel beside it moves nothing. */
FERRY_TEST(select_send_ready_on_every_kind)
{
    for (int k = 0; k < NKINDS; k++) {
        ferry_tx *tx, *ftx;
        ferry_rx *rx, *frx;
        open_kind((enum kind)k, &tx, &rx);
        open_kind(CAP1, &ftx, &frx);
        long one = 100;
        CHECK_EQ(ferry_send(ftx, &one, 1), 1); /* full */
        long out[8];
        fill(out, 8, SENTINEL);
        ferry_op rop;
        atomic_store(&wakes, 0);
        if (k == RENDEZVOUS)
            CHECK_EQ(ferry_recv_start(rx, &rop, out, 2, W), -EINPROGRESS);
        long in[5] = {1, 2, 3, 4, 5}, full_in[2] = {7, 8};
        ferry_select_case cs[3] = {send_case(ftx, full_in, 2, 0), send_case(NULL, in, 5, 0),
                                   send_case(tx, in, 5, k == PRIO ? 2 : 0)};
        CHECK_EQ(ferry_try_select(cs, 3), 2);
        ssize_t want = k == RENDEZVOUS ? 2 : k == CAP1 ? 1 : k == BUDGET ? 3 : 5;
        CHECK_EQ(cs[2].result, want);
        CHECK_EQ(cs[0].result, SENTINEL);
        CHECK_EQ(cs[1].result, SENTINEL);
        for (int i = 0; i < 5; i++)
            CHECK_EQ(in[i], i + 1); /* the offered items stay the caller's */
        CHECK_EQ(stats(ftx).len, 1);
        if (k == RENDEZVOUS) {
            CHECK_EQ(ferry_op_result(&rop), 2);
            CHECK_EQ(atomic_load(&wakes), 1);
        } else {
            CHECK_EQ(ferry_try_recv(rx, out, 8), want);
        }
        CHECK_EQ(out[0], 1);
        CHECK_EQ(out[want - 1], want);
        CHECK_EQ(out[want], SENTINEL);
        close_chan(tx, rx);
        close_chan(ftx, frx);
    }
}

/* Nothing ready: -EAGAIN from the try form (-ETIMEDOUT from a past
 * deadline), nothing moved, no buffer touched, nothing left linked. Send
 * cases on full channels of every bounded kind, receive cases on empty
 * channels of every kind. */
FERRY_TEST(select_try_nothing_ready)
{
    ferry_tx *tx[2 * NKINDS];
    ferry_rx *rx[2 * NKINDS];
    ferry_select_case cs[2 * NKINDS];
    long bufs[2 * NKINDS][4];
    for (int k = 0; k < NKINDS; k++) {
        int s = 2 * k, r = 2 * k + 1;
        open_kind((enum kind)k, &tx[s], &rx[s]);
        open_kind((enum kind)k, &tx[r], &rx[r]);
        long v = 1;
        bool never_full = k == UNBOUNDED || k == UNBOUNDED_LOCKED || k == LOCKED;
        if (!never_full)
            while (ferry_try_send(tx[s], &v, 1) == 1)
                ;
        fill(bufs[s], 4, SENTINEL);
        fill(bufs[r], 4, SENTINEL);
        cs[s] = send_case(never_full ? NULL : tx[s], bufs[s], 4, 0);
        cs[r] = recv_case(rx[r], bufs[r], 4);
    }
    CHECK_EQ(ferry_try_select(cs, 2 * NKINDS), -EAGAIN);
    struct timespec past = ferry_test_deadline_ms(-5);
    CHECK_EQ(ferry_select_until(cs, 2 * NKINDS, &past), -ETIMEDOUT);
    for (int i = 0; i < 2 * NKINDS; i++) {
        CHECK_EQ(cs[i].result, SENTINEL);
        check_untouched(bufs[i], 4);
        struct ferry_chan_stats st = stats(rx[i]);
        CHECK_EQ(st.items_received, 0);
        CHECK_EQ(st.recvs_blocked, 0); /* never linked */
        CHECK_EQ(st.sends_blocked, 0);
        close_chan(tx[i], rx[i]);
    }
}

/* Closed channels are ready: a receive case on a closed, drained channel
 * gives 0; a send case on a closed channel, or one whose receivers are
 * gone, gives -EPIPE. The blocking form returns at once. */
FERRY_TEST(select_closed_channels_are_ready)
{
    for (int k = 0; k < NKINDS; k++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_kind((enum kind)k, &tx, &rx);
        long buf[2];
        fill(buf, 2, SENTINEL);
        ferry_tx_close(tx);
        ferry_select_case cs[2] = {recv_case(NULL, buf, 2), recv_case(rx, buf, 2)};
        CHECK_EQ(ferry_select(cs, 2), 1);
        CHECK_EQ(cs[1].result, 0);
        check_untouched(buf, 2);
        cs[1] = send_case(tx, buf, 2, 0);
        CHECK_EQ(ferry_try_select(cs, 2), 1);
        CHECK_EQ(cs[1].result, -EPIPE);
        close_chan(tx, rx);

        open_kind((enum kind)k, &tx, &rx);
        ferry_rx_release(rx); /* no receiver left */
        cs[1] = send_case(tx, buf, 2, 0);
        CHECK_EQ(ferry_select(cs, 2), 1);
        CHECK_EQ(cs[1].result, -EPIPE);
        ferry_tx_release(tx);
    }
}

/* A closed channel with items left: a receive case drains them first. */
FERRY_TEST(select_closed_channel_drains_first)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_kind(LOCKFREE, &tx, &rx);
    long in[3] = {1, 2, 3}, out[8];
    CHECK_EQ(ferry_send(tx, in, 3), 3);
    ferry_tx_close(tx);
    ferry_select_case cs[1] = {recv_case(rx, out, 8)};
    CHECK_EQ(ferry_select(cs, 1), 0);
    CHECK_EQ(cs[0].result, 3);
    CHECK_EQ(ferry_select(cs, 1), 0);
    CHECK_EQ(cs[0].result, 0);
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* NULL cases, no cases, bad arguments                                       */

FERRY_TEST(select_null_handles_are_never_ready)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_kind(UNBOUNDED, &tx, &rx);
    long in[64], out[2];
    for (int i = 0; i < 64; i++)
        in[i] = i;
    CHECK_EQ(ferry_send(tx, in, 64), 64);
    /* NULL cases with garbage elsewhere: only op is looked at. */
    ferry_select_case cs[3] = {recv_case(NULL, NULL, 0), recv_case(rx, out, 1), send_case(NULL, NULL, 0, 99)};
    for (int i = 0; i < 64; i++) {
        CHECK_EQ(ferry_select(cs, 3), 1);
        CHECK_EQ(cs[1].result, 1);
        CHECK_EQ(out[0], i);
    }
    CHECK_EQ(cs[0].result, SENTINEL);
    CHECK_EQ(cs[2].result, SENTINEL);
    close_chan(tx, rx);
}

/* Every handle NULL: the blocking form cannot ever return, so it is
 * -EINVAL; try: -EAGAIN; until: sleeps to the deadline, -ETIMEDOUT. */
FERRY_TEST(select_all_null_cases)
{
    long buf[1];
    ferry_select_case cs[2] = {recv_case(NULL, buf, 1), send_case(NULL, buf, 1, 0)};
    CHECK_EQ(ferry_select(cs, 2), -EINVAL);
    CHECK_EQ(ferry_select_until(cs, 2, NULL), -EINVAL);
    CHECK_EQ(ferry_try_select(cs, 2), -EAGAIN);
    struct timespec t0 = ferry_test_now(), dl = ferry_test_deadline_ms(30);
    CHECK_EQ(ferry_select_until(cs, 2, &dl), -ETIMEDOUT);
    long long waited = ferry_test_ns_between(dl, ferry_test_now());
    CHECK_MSG(waited >= 0, "returned %lld ns before the deadline", -waited);
    CHECK(waited < FERRY_TEST_LATE_NS);
    CHECK(ferry_test_ns_between(t0, ferry_test_now()) >= 30000000);
    struct timespec past = ferry_test_deadline_ms(-1);
    CHECK_EQ(ferry_select_until(cs, 2, &past), -ETIMEDOUT);
}

/* ncases == 0: -EINVAL for the blocking form; try -EAGAIN; until sleeps to
 * its deadline. cases NULL with ncases > 0: -EINVAL everywhere. */
FERRY_TEST(select_no_cases)
{
    ferry_select_case cs[1];
    memset(cs, 0, sizeof cs);
    CHECK_EQ(ferry_select(cs, 0), -EINVAL);
    CHECK_EQ(ferry_select(NULL, 0), -EINVAL);
    CHECK_EQ(ferry_try_select(NULL, 0), -EAGAIN);
    CHECK_EQ(ferry_try_select(cs, 0), -EAGAIN);
    CHECK_EQ(ferry_select_until(cs, 0, NULL), -EINVAL);
    struct timespec dl = ferry_test_deadline_ms(10);
    CHECK_EQ(ferry_select_until(NULL, 0, &dl), -ETIMEDOUT);
    CHECK(ferry_test_ns_between(dl, ferry_test_now()) >= 0);
    CHECK_EQ(ferry_select(NULL, 1), -EINVAL);
    CHECK_EQ(ferry_try_select(NULL, 1), -EINVAL);
    CHECK_EQ(ferry_select_until(NULL, 1, &dl), -EINVAL);
    CHECK_EQ(ferry_select_start(NULL, 1, W), -EINVAL);
    CHECK_EQ(ferry_select_start(cs, 0, W), -EINVAL);
    CHECK_EQ(ferry_select_cancel(NULL, 1), -EINVAL);
    CHECK_EQ(ferry_select_cancel(cs, 0), -EINVAL);
}

/* Every malformed case is -EINVAL before anything happens: a ready case
 * in the same select moves nothing. */
FERRY_TEST(select_bad_arguments_are_einval_before_anything)
{
    ferry_tx *tx, *ptx;
    ferry_rx *rx, *prx;
    open_kind(LOCKFREE, &tx, &rx);
    open_kind(PRIO, &ptx, &prx);
    long v = 5, out[2];
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    fill(out, 2, SENTINEL);
    ferry_select_case bad[] = {
        recv_case(rx, NULL, 1),                    /* NULL buffer */
        recv_case(rx, out, 0),                     /* no room */
        recv_case(rx, out, (size_t)PTRDIFF_MAX),   /* larger than any buffer */
        send_case(ptx, out, 1, 3),                 /* level out of range */
        send_case(tx, out, 0, 0),                  /* nothing offered */
        send_case(tx, NULL, 1, 0),                 /* NULL items */
        send_case(tx, out, 1, 1),                  /* level on a one-level channel */
    };
    size_t nbad = sizeof bad / sizeof bad[0];
    for (size_t i = 0; i < nbad + 2; i++) {
        ferry_select_case cs[2] = {recv_case(rx, out, 1), recv_case(rx, out, 1)};
        if (i < nbad)
            cs[1] = bad[i];
        else
            cs[1].op = i == nbad ? 0 : 3; /* neither RECV nor SEND */
        if (i == nbad + 1)
            cs[1].rx = NULL; /* a NULL case's op is checked too */
        CHECK_EQ(ferry_try_select(cs, 2), -EINVAL);
        CHECK_EQ(ferry_select(cs, 2), -EINVAL);
        struct timespec dl = ferry_test_deadline_ms(10);
        CHECK_EQ(ferry_select_until(cs, 2, &dl), -EINVAL);
        CHECK_EQ(ferry_select_start(cs, 2, W), -EINVAL);
        CHECK_EQ(ferry_select_cancel(cs, 2), -EINVAL); /* a failed start is finished with its result */
        CHECK_EQ(cs[0].result, SENTINEL);
        check_untouched(out, 2);
        CHECK_EQ(stats(rx).len, 1);
    }
    /* Bad deadlines, with a ready case. */
    ferry_select_case cs[1] = {recv_case(rx, out, 1)};
    struct timespec bad_dl[] = {{0, -1}, {0, 1000000000L}, {-1, -5}};
    for (size_t i = 0; i < sizeof bad_dl / sizeof bad_dl[0]; i++) {
        CHECK_EQ(ferry_select_until(cs, 1, &bad_dl[i]), -EINVAL);
        CHECK_EQ(stats(rx).len, 1);
        check_untouched(out, 2);
    }
    /* A waker without a function. */
    ferry_waker none = {NULL, NULL};
    CHECK_EQ(ferry_select_start(cs, 1, none), -EINVAL);
    CHECK_EQ(stats(rx).len, 1);
    /* ncases above INT_MAX: rejected before any case is read. */
    CHECK_EQ(ferry_try_select(cs, (size_t)INT_MAX + 1), -EINVAL);
    CHECK_EQ(ferry_select_cancel(cs, (size_t)INT_MAX + 1), -EINVAL);
    close_chan(tx, rx);
    close_chan(ptx, prx);
}

/* ------------------------------------------------------------------------ */
/* Waiting                                                                   */

struct later {
    ferry_tx *tx;
    ferry_rx *rx;
    long v;     /* send_later: the item; recv_later: the first item received */
    size_t n;   /* recv_later: most to take */
    ssize_t r;  /* the call's result */
};

static void *send_later(void *arg)
{
    struct later *l = arg;
    l->r = ferry_send(l->tx, &l->v, 1);
    return NULL;
}

static void *recv_later(void *arg)
{
    struct later *l = arg;
    long out[8];
    CHECK(l->n <= 8);
    l->r = ferry_recv(l->rx, out, l->n);
    l->v = out[0];
    return NULL;
}

/* The blocking select waits: a receive case pairs with a sender that comes
 * later, on every kind of channel; the other case stays untouched and
 * unlinked afterwards. */
FERRY_TEST(select_recv_waits_for_a_later_sender)
{
    for (int k = 0; k < NKINDS; k++) {
        ferry_tx *tx, *etx;
        ferry_rx *rx, *erx;
        open_kind((enum kind)k, &tx, &rx);
        open_kind(RENDEZVOUS, &etx, &erx);
        long a[2], b[2];
        fill(a, 2, SENTINEL);
        fill(b, 2, SENTINEL);
        ferry_select_case cs[2] = {recv_case(erx, a, 2), recv_case(rx, b, 2)};
        struct later l = {.tx = tx, .v = 40 + k};
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, send_later, &l), 0);
        CHECK_EQ(ferry_select(cs, 2), 1);
        CHECK_EQ(pthread_join(th, NULL), 0);
        CHECK_EQ(l.r, 1);
        CHECK_EQ(cs[1].result, 1);
        CHECK_EQ(b[0], 40 + k);
        CHECK_EQ(b[1], SENTINEL);
        check_untouched(a, 2);
        long v = 1;
        CHECK_EQ(ferry_try_send(etx, &v, 1), -EAGAIN); /* the other case was withdrawn */
        close_chan(tx, rx);
        close_chan(etx, erx);
    }
}

/* A send case waits for room or a receiver: on a rendezvous channel until a
 * receiver comes (which takes up to its max; the rest stay with the
 * caller); on a full channel until a receive frees room. Every item is
 * accounted for: the receiver's plus what is left buffered is the fill
 * plus the case's result. */
FERRY_TEST(select_send_waits_for_a_later_receiver)
{
    for (int k = 0; k < NKINDS; k++) {
        if (k == UNBOUNDED || k == UNBOUNDED_LOCKED || k == LOCKED)
            continue; /* never full */
        ferry_tx *tx, *etx;
        ferry_rx *rx, *erx;
        open_kind((enum kind)k, &tx, &rx);
        open_kind(RENDEZVOUS, &etx, &erx);
        long fillv = 9;
        ssize_t filled = 0;
        while (ferry_try_send(tx, &fillv, 1) == 1)
            filled++;
        long in[3] = {1, 2, 3}, other[1] = {SENTINEL};
        ferry_select_case cs[2] = {send_case(etx, other, 1, 0), send_case(tx, in, 3, 0)};
        struct later l = {.rx = rx, .n = 2};
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, recv_later, &l), 0);
        CHECK_EQ(ferry_select(cs, 2), 1);
        CHECK_EQ(pthread_join(th, NULL), 0);
        CHECK(cs[1].result >= 1 && cs[1].result <= 2);
        CHECK(l.r >= 1 && l.r <= 2);
        CHECK_EQ(l.v, k == RENDEZVOUS ? 1 : 9);
        long rest[16];
        ssize_t left = ferry_try_recv(rx, rest, 16);
        if (left == -EAGAIN)
            left = 0;
        CHECK_EQ(l.r + left, filled + cs[1].result);
        CHECK_EQ(in[0], 1); /* offered items are never modified */
        CHECK_EQ(cs[0].result, SENTINEL);
        long v;
        CHECK_EQ(ferry_try_recv(erx, &v, 1), -EAGAIN); /* the other case was withdrawn */
        close_chan(tx, rx);
        close_chan(etx, erx);
    }
}

/* A blocking select is woken by a close (closed is ready). */
static void *close_later(void *arg)
{
    ferry_test_sleep_ms(10);
    ferry_tx_close((ferry_tx *)arg);
    return NULL;
}

FERRY_TEST(select_woken_by_close)
{
    ferry_tx *tx, *etx;
    ferry_rx *rx, *erx;
    open_kind(RENDEZVOUS, &tx, &rx);
    open_kind(LOCKFREE, &etx, &erx);
    long a[1], b[1] = {SENTINEL};
    ferry_select_case cs[2] = {recv_case(rx, a, 1), recv_case(erx, b, 1)};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, close_later, tx), 0);
    CHECK_EQ(ferry_select(cs, 2), 0);
    CHECK_EQ(cs[0].result, 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    long sv = 3;
    cs[0] = send_case(tx, &sv, 1, 0); /* a send case to it: -EPIPE */
    CHECK_EQ(ferry_select(cs, 2), 0);
    CHECK_EQ(cs[0].result, -EPIPE);
    check_untouched(b, 1);
    close_chan(tx, rx);
    close_chan(etx, erx);
}

/* select_until: -ETIMEDOUT at the deadline, nothing moved, every case
 * withdrawn (a later send is not swallowed by a stale case). */
FERRY_TEST(select_until_deadline_timed)
{
    ferry_tx *tx[NKINDS];
    ferry_rx *rx[NKINDS];
    ferry_select_case cs[NKINDS];
    long bufs[NKINDS][2];
    for (int k = 0; k < NKINDS; k++) {
        open_kind((enum kind)k, &tx[k], &rx[k]);
        fill(bufs[k], 2, SENTINEL);
        cs[k] = recv_case(rx[k], bufs[k], 2);
    }
    struct timespec dl = ferry_test_deadline_ms(40);
    CHECK_EQ(ferry_select_until(cs, NKINDS, &dl), -ETIMEDOUT);
    long long late = ferry_test_ns_between(dl, ferry_test_now());
    CHECK_MSG(late >= 0, "returned %lld ns early", -late);
    CHECK(late < FERRY_TEST_LATE_NS);
    for (int k = 0; k < NKINDS; k++) {
        CHECK_EQ(cs[k].result, SENTINEL);
        check_untouched(bufs[k], 2);
        long v = 1;
        if (k == RENDEZVOUS) {
            CHECK_EQ(ferry_try_send(tx[k], &v, 1), -EAGAIN); /* no receiver left linked */
        } else {
            CHECK_EQ(ferry_try_send(tx[k], &v, 1), 1);
            CHECK_EQ(stats(tx[k]).len, 1); /* buffered, not taken by a stale case */
        }
        close_chan(tx[k], rx[k]);
    }
}

/* A send case and a receive case of one select on one rendezvous channel
 * never pair with each other. */
FERRY_TEST(select_does_not_talk_to_itself)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_kind(RENDEZVOUS, &tx, &rx);
    long in = 5, out = SENTINEL;
    ferry_select_case cs[2] = {send_case(tx, &in, 1, 0), recv_case(rx, &out, 1)};
    CHECK_EQ(ferry_try_select(cs, 2), -EAGAIN);
    struct timespec dl = ferry_test_deadline_ms(20);
    CHECK_EQ(ferry_select_until(cs, 2, &dl), -ETIMEDOUT);
    CHECK_EQ(out, SENTINEL);
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* Two selects across each other                                             */

struct across {
    ferry_tx *tx[2];
    ferry_rx *rx[2];
    pthread_barrier_t bar;
    int rounds;
    int chose[2][2]; /* per side, per case: how often */
};

struct across_side {
    struct across *a;
    int side;
};

/* Side s sends on channel s and receives on channel 1 - s; the other side
 * does the mirror image. Each round both select; the pair must agree: side
 * 0's send on channel 0 with side 1's receive on channel 0, or side 1's
 * send on channel 1 with side 0's receive on channel 1. */
static long across_got[2][2];
static int across_idx[2];

static void *across_main(void *arg)
{
    struct across_side *sd = arg;
    struct across *a = sd->a;
    int s = sd->side;
    for (int r = 0; r < a->rounds; r++) {
        long in = (long)r * 2 + s, out = SENTINEL;
        ferry_select_case cs[2] = {send_case(a->tx[s], &in, 1, 0), recv_case(a->rx[1 - s], &out, 1)};
        pthread_barrier_wait(&a->bar);
        int i = ferry_select(cs, 2);
        CHECK(i == 0 || i == 1);
        CHECK_EQ(cs[i].result, 1);
        across_idx[s] = i;
        across_got[s][i] = i == 0 ? in : out;
        a->chose[s][i]++;
        pthread_barrier_wait(&a->bar);
        if (s == 0) {
            /* Side 0 sent iff side 1 received, and what arrived is what was sent. */
            CHECK_EQ(across_idx[0] == 0, across_idx[1] == 1);
            if (across_idx[0] == 0)
                CHECK_EQ(across_got[1][1], across_got[0][0]);
            else
                CHECK_EQ(across_got[0][1], across_got[1][0]);
        }
        pthread_barrier_wait(&a->bar);
    }
    return NULL;
}

FERRY_TEST(select_two_selects_across_rendezvous)
{
    struct across a = {.rounds = (int)ferry_test_scaled(2000)};
    for (int i = 0; i < 2; i++)
        open_kind(RENDEZVOUS, &a.tx[i], &a.rx[i]);
    pthread_barrier_init(&a.bar, NULL, 2);
    struct across_side sd[2] = {{&a, 0}, {&a, 1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, across_main, &sd[i]), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&a.bar);
    CHECK_EQ(a.chose[0][0] + a.chose[0][1], a.rounds);
    for (int i = 0; i < 2; i++)
        close_chan(a.tx[i], a.rx[i]);
}

/* ------------------------------------------------------------------------ */
/* Priorities and budgets                                                    */

/* A receive case takes the highest level first; a send case sends at its
 * level. */
FERRY_TEST(select_priorities)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_kind(PRIO, &tx, &rx);
    long lo = 1, mid = 2, hi = 3, out[3];
    CHECK_EQ(ferry_send_prio(tx, &lo, 1, 0), 1);
    ferry_select_case s[1] = {send_case(tx, &hi, 1, 2)};
    CHECK_EQ(ferry_select(s, 1), 0);
    CHECK_EQ(s[0].result, 1);
    s[0] = send_case(tx, &mid, 1, 1);
    CHECK_EQ(ferry_select(s, 1), 0);
    fill(out, 3, SENTINEL);
    ferry_select_case r[1] = {recv_case(rx, out, 2)};
    CHECK_EQ(ferry_select(r, 1), 0);
    CHECK_EQ(r[0].result, 2);
    CHECK_EQ(out[0], 3);
    CHECK_EQ(out[1], 2);
    CHECK_EQ(out[2], SENTINEL);
    CHECK_EQ(ferry_select(r, 1), 0);
    CHECK_EQ(out[0], 1);
    close_chan(tx, rx);
}

/* A budgeted channel: a send case completes with the items that fit, and
 * waits while none does. */
static size_t weight_is_value(const void *item, void *ctx)
{
    (void)ctx;
    return (size_t)*(const long *)item;
}

FERRY_TEST(select_budget)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 16, .budget = 10, .weigh = weight_is_value};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long in[4] = {4, 4, 4, 1};
    ferry_select_case s[1] = {send_case(tx, in, 4, 0)};
    CHECK_EQ(ferry_select(s, 1), 0);
    CHECK_EQ(s[0].result, 2); /* 4 + 4 fit, the third 4 does not */
    CHECK_EQ(ferry_try_select(s, 1), -EAGAIN);
    struct later l = {.rx = rx, .n = 1};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, recv_later, &l), 0);
    s[0] = send_case(tx, in + 2, 2, 0);
    CHECK_EQ(ferry_select(s, 1), 0); /* the receive frees 4: 4 + 4 + ... */
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK(s[0].result >= 1);
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* Fairness                                                                  */

/* Chi-square statistic of counts against the uniform distribution. */
static double chi_square(const long *count, int k, long total)
{
    double e = (double)total / k, x = 0;
    for (int i = 0; i < k; i++)
        x += ((double)count[i] - e) * ((double)count[i] - e) / e;
    return x;
}

/* Among cases ready at once each is chosen with equal probability. The
 * order comes from a per-thread generator seeded here, so the test is
 * deterministic (it cannot flake); the bound is generous (chi-square with
 * 3 degrees of freedom: p = 1e-6 at 30.7) and the test fails for any order
 * that is not close to uniform -- a fixed order, or a random start, which
 * favours the case after an unready one. */
FERRY_TEST(select_fair_among_ready_cases)
{
    enum { K = 4, ROUNDS = 40000 };
    ferry_tx *tx[K];
    ferry_rx *rx[K];
    long out[K];
    ferry_select_case cs[K];
    static long items[ROUNDS];
    for (int i = 0; i < K; i++) {
        open_kind(UNBOUNDED, &tx[i], &rx[i]);
        CHECK_EQ(ferry_send(tx[i], items, ROUNDS), ROUNDS); /* never runs dry */
        cs[i] = recv_case(rx[i], &out[i], 1);
    }
    for (uint64_t seed = 1; seed <= 3; seed++) {
        ferry__select_seed(seed * 0x9e3779b97f4a7c15ull);
        long count[K] = {0};
        for (int r = 0; r < ROUNDS / 4; r++) {
            int i = ferry_try_select(cs, K);
            CHECK(i >= 0 && i < K);
            count[i]++;
        }
        double x = chi_square(count, K, ROUNDS / 4);
        CHECK_MSG(x < 30.7, "all ready: counts %ld %ld %ld %ld, chi-square %.1f", count[0], count[1], count[2],
                  count[3], x);
    }
    /* Two of four ready (cases 1 and 2 NULL): only 0 and 3, half each. A
     * random start over the cyclic order would give case 3 three quarters. */
    ferry_select_case sub[K];
    memcpy(sub, cs, sizeof sub);
    sub[1].rx = NULL;
    sub[2].rx = NULL;
    ferry__select_seed(42);
    long count[K] = {0};
    for (int r = 0; r < ROUNDS / 4; r++)
        count[ferry_try_select(sub, K)]++;
    CHECK_EQ(count[1] + count[2], 0);
    long two[2] = {count[0], count[3]};
    double x = chi_square(two, 2, ROUNDS / 4);
    CHECK_MSG(x < 24.0, "two ready: counts %ld %ld, chi-square %.1f", two[0], two[1], x); /* 1 dof, p = 1e-6 */
    for (int i = 0; i < K; i++)
        close_chan(tx[i], rx[i]);
}

/* Hundreds of cases, every one ready on every call: 128 receive cases that
 * all name one receiver handle and 128 send cases that all name its sender
 * handle, on one unbounded channel that never runs dry. No case starves and
 * the spread is a uniform one's (chi-square, 255 degrees of freedom: p =
 * 1e-6 at about 377; the seed is fixed, so it cannot flake). Every chosen
 * case moves exactly one item, and the channel holds what the counts say.
 * (Measured with 300 cases on 300 channels, 300,000 selects: each chosen
 * 902-1111 times, standard deviation 30-33 against a binomial's 31.6.) */
FERRY_TEST(select_fair_among_hundreds_of_ready_cases_on_one_handle)
{
    enum { K = 256 };
    const long rounds = (long)ferry_test_scaled(100000);
    ferry_tx *tx;
    ferry_rx *rx;
    open_kind(UNBOUNDED, &tx, &rx);
    long v = 7, out = 0;
    for (long i = 0; i < rounds; i++) /* never runs dry, even if only receives are chosen */
        CHECK_EQ(ferry_send(tx, &v, 1), 1);
    static ferry_select_case cs[K];
    for (int i = 0; i < K; i++)
        cs[i] = i % 2 ? send_case(tx, &v, 1, 0) : recv_case(rx, &out, 1);
    static long count[K];
    memset(count, 0, sizeof count);
    ferry__select_seed(0x5eed);
    long held = rounds;
    for (long r = 0; r < rounds; r++) {
        int i = ferry_try_select(cs, K);
        CHECK(i >= 0 && i < K);
        if (i < 0 || i >= K)
            break;
        CHECK_EQ(cs[i].result, 1);
        count[i]++;
        held += i % 2 ? 1 : -1;
    }
    long lo = rounds, hi = 0;
    for (int i = 0; i < K; i++) {
        lo = count[i] < lo ? count[i] : lo;
        hi = count[i] > hi ? count[i] : hi;
    }
    double x = chi_square(count, K, rounds);
    CHECK_MSG(lo > 0 && x < 380.0, "%d cases, %ld selects: chosen %ld..%ld times, chi-square %.1f", K, rounds, lo, hi,
              x);
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(tx, &st), 0);
    CHECK_EQ(st.len, (size_t)held);
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* Async select                                                              */

FERRY_TEST(select_start_completes_at_once)
{
    ferry_tx *tx, *etx;
    ferry_rx *rx, *erx;
    open_kind(LOCKFREE, &tx, &rx);
    open_kind(RENDEZVOUS, &etx, &erx);
    long v = 8, out = SENTINEL, other = SENTINEL;
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    ferry_select_case cs[2] = {recv_case(erx, &other, 1), recv_case(rx, &out, 1)};
    atomic_store(&wakes, 0);
    CHECK_EQ(ferry_select_start(cs, 2, W), 1);
    CHECK_EQ(cs[1].result, 1);
    CHECK_EQ(out, 8);
    CHECK_EQ(ferry_select_cancel(cs, 2), 1); /* its result again */
    CHECK_EQ(ferry_select_cancel(cs, 2), 1);
    CHECK_EQ(atomic_load(&wakes), 0);
    CHECK_EQ(other, SENTINEL);
    long x = 1;
    CHECK_EQ(ferry_try_send(etx, &x, 1), -EAGAIN); /* nothing left linked */
    close_chan(tx, rx);
    close_chan(etx, erx);
}

FERRY_TEST(select_start_pending_then_completed)
{
    for (int k = 0; k < NKINDS; k++) {
        ferry_tx *tx, *etx;
        ferry_rx *rx, *erx;
        open_kind((enum kind)k, &tx, &rx);
        open_kind(RENDEZVOUS, &etx, &erx);
        long out[2], other[2];
        fill(out, 2, SENTINEL);
        fill(other, 2, SENTINEL);
        ferry_select_case cs[2] = {recv_case(erx, other, 2), recv_case(rx, out, 2)};
        atomic_store(&wakes, 0);
        CHECK_EQ(ferry_select_start(cs, 2, W), -EINPROGRESS);
        CHECK_EQ(atomic_load(&wakes), 0);
        long in[3] = {5, 6, 7};
        if (k == RENDEZVOUS)
            CHECK_EQ(ferry_try_send(tx, in, 3), 2);
        else
            CHECK_EQ(ferry_send(tx, in, 3), 3);
        CHECK_EQ(atomic_load(&wakes), 1);
        CHECK_EQ(ferry_select_cancel(cs, 2), 1);
        CHECK_EQ(cs[1].result, 2);
        CHECK_EQ(out[0], 5);
        CHECK_EQ(out[1], 6);
        check_untouched(other, 2);
        CHECK_EQ(cs[0].result, SENTINEL);
        long x = 1;
        CHECK_EQ(ferry_try_send(etx, &x, 1), -EAGAIN); /* the other case was withdrawn */
        CHECK_EQ(atomic_load(&wakes), 1);
        close_chan(tx, rx);
        close_chan(etx, erx);
    }
}

/* A send case of an async select, completed by a receiver that comes
 * later; and a select completed by a close. */
FERRY_TEST(select_start_send_and_close)
{
    ferry_tx *tx, *etx;
    ferry_rx *rx, *erx;
    open_kind(RENDEZVOUS, &tx, &rx);
    open_kind(CAP1, &etx, &erx);
    long in[3] = {1, 2, 3}, other = SENTINEL;
    ferry_select_case cs[2] = {send_case(tx, in, 3, 0), recv_case(erx, &other, 1)};
    atomic_store(&wakes, 0);
    CHECK_EQ(ferry_select_start(cs, 2, W), -EINPROGRESS);
    long out[2];
    CHECK_EQ(ferry_recv(rx, out, 2), 2);
    CHECK_EQ(atomic_load(&wakes), 1);
    CHECK_EQ(ferry_select_cancel(cs, 2), 0);
    CHECK_EQ(cs[0].result, 2);
    CHECK_EQ(out[1], 2);
    /* Closed: a receive case completes with 0. */
    CHECK_EQ(ferry_select_start(cs, 2, W), -EINPROGRESS);
    ferry_tx_close(etx);
    CHECK_EQ(atomic_load(&wakes), 2);
    CHECK_EQ(ferry_select_cancel(cs, 2), 1);
    CHECK_EQ(cs[1].result, 0);
    CHECK_EQ(other, SENTINEL);
    long x;
    CHECK_EQ(ferry_try_recv(rx, &x, 1), -EAGAIN); /* the send case was withdrawn */
    close_chan(tx, rx);
    close_chan(etx, erx);
}

/* Cancelled before anything completed: -ECANCELED, nothing moved, the
 * waker never called, nothing left linked. Zero-filled cases: -EINVAL.
 * Every handle NULL: pending until cancelled. */
FERRY_TEST(select_cancel_before_completion)
{
    ferry_tx *tx, *ftx;
    ferry_rx *rx, *frx;
    open_kind(RENDEZVOUS, &tx, &rx);
    open_kind(CAP1, &ftx, &frx);
    long v = 1;
    CHECK_EQ(ferry_send(ftx, &v, 1), 1);
    long out = SENTINEL, in = 2;
    ferry_select_case cs[2] = {recv_case(rx, &out, 1), send_case(ftx, &in, 1, 0)};
    atomic_store(&wakes, 0);
    CHECK_EQ(ferry_select_start(cs, 2, W), -EINPROGRESS);
    CHECK_EQ(ferry_select_cancel(cs, 2), -ECANCELED);
    CHECK_EQ(ferry_select_cancel(cs, 2), -ECANCELED);
    CHECK_EQ(atomic_load(&wakes), 0);
    CHECK_EQ(out, SENTINEL);
    CHECK_EQ(cs[0].result, SENTINEL);
    CHECK_EQ(ferry_try_send(tx, &v, 1), -EAGAIN);
    long got;
    CHECK_EQ(ferry_try_recv(frx, &got, 1), 1);
    CHECK_EQ(ferry_try_recv(frx, &got, 1), -EAGAIN); /* the send case's item never went in */

    ferry_select_case zero[2];
    memset(zero, 0, sizeof zero);
    CHECK_EQ(ferry_select_cancel(zero, 2), -EINVAL);

    ferry_select_case none[2] = {recv_case(NULL, &out, 1), send_case(NULL, &in, 1, 0)};
    CHECK_EQ(ferry_select_start(none, 2, W), -EINPROGRESS);
    CHECK_EQ(ferry_select_cancel(none, 2), -ECANCELED);
    CHECK_EQ(atomic_load(&wakes), 0);
    close_chan(tx, rx);
    close_chan(ftx, frx);
}

/* The cases can be used again and again: blocking, try and async selects in
 * turn on one array. */
FERRY_TEST(select_cases_reused)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_kind(LOCKFREE, &tx, &rx);
    long out, in;
    ferry_select_case cs[2] = {recv_case(rx, &out, 1), send_case(tx, &in, 1, 0)};
    for (long i = 0; i < 200; i++) {
        in = i;
        cs[0].rx = NULL; /* send only */
        CHECK_EQ(ferry_select(cs, 2), 1);
        cs[0].rx = rx;
        cs[1].tx = NULL; /* receive only */
        if (i % 2)
            CHECK_EQ(ferry_select_start(cs, 2, W), 0);
        else
            CHECK_EQ(ferry_try_select(cs, 2), 0);
        CHECK_EQ(out, i);
        cs[1].tx = tx;
    }
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* fork() from a signal handler during the wait                              */

/* A thread that waits in a blocking select (or a blocking receive) and
 * whose signal handler forks: in the child that thread exists -- it is the
 * thread that forked -- and its wait goes on. The child's send (from the
 * handler, which interrupted the futex sleep, no lock held) reaches it, and
 * the wait returns that item. Before the fix the fork handling dropped the
 * wait as another thread's: the select aborted at its deadline ("case 0
 * moved -115 items without being chosen"), and a ferry_recv_until slept
 * past its deadline for ever. The parent's wait is unaffected. */

/* ThreadSanitizer cannot start a thread in the child of a multi-threaded
 * fork: the child's send from a thread is left out there. */
#if defined(__SANITIZE_THREAD__)
#define SELECT_FORK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SELECT_FORK_TSAN 1
#endif
#endif
#ifdef SELECT_FORK_TSAN
#define FORK_SEND_WAYS 1
#else
#define FORK_SEND_WAYS 2
#endif

static ferry_tx *fork_tx;
static FERRY_ATOMIC(int) fork_child = -1; /* the pid fork() returned (lock-free: a handler's) */
static FERRY_ATOMIC(int) child_sends_from_thread; /* the child's send: 0 from the handler, 1 from a new thread */
static const long CHILD_ITEM = 4242, PARENT_ITEM = 77;

/* The child's send from a thread it creates: the fork handling then runs
 * in that thread (the first to take the channel's lock), which must still
 * keep the forking thread's wait. */
static void *child_send(void *arg)
{
    (void)arg;
    long v = CHILD_ITEM;
    if (ferry_try_send(fork_tx, &v, 1) != 1)
        _exit(3);
    return NULL;
}

static void fork_in_handler(int sig)
{
    (void)sig;
    if (atomic_load(&fork_child) != -1)
        return;
    int saved = errno;
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20); /* a hang is the child's failure, not the test's timeout */
        /* The waiting thread holds no lock: it sleeps in its futex (and
         * no other thread exists in the child to hold malloc's). */
        pthread_t t;
        if (atomic_load(&child_sends_from_thread)) {
            if (pthread_create(&t, NULL, child_send, NULL) != 0)
                _exit(4);
        } else {
            child_send(NULL);
        }
    }
    atomic_store(&fork_child, (int)pid);
    errno = saved;
}

/* Is thread tid of this process asleep ('S' in /proc)? Plain read(2): no
 * allocation, since the other thread may fork at any moment. */
static bool task_sleeps(pid_t tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* "tid (comm) S ..." */
    return p && p[1] == ' ' && p[2] == 'S';
}

struct kicker {
    pthread_t waiter;
    FERRY_ATOMIC(pid_t) tid; /* the waiter's, once it is about to wait */
};

/* Signal the waiter once it sleeps in its wait; once its handler has
 * forked, end the parent's wait with an item. */
static void *kick_asleep(void *arg)
{
    struct kicker *k = (struct kicker *)arg;
    pid_t tid;
    while ((tid = atomic_load(&k->tid)) == 0)
        usleep(100);
    while (!task_sleeps(tid))
        usleep(100);
    CHECK_EQ(pthread_kill(k->waiter, SIGUSR1), 0);
    while (atomic_load(&fork_child) == -1)
        usleep(100);
    long v = PARENT_ITEM;
    CHECK_EQ(ferry_send(fork_tx, &v, 1), 1);
    return NULL;
}

FERRY_TEST(select_fork_in_a_signal_handler_keeps_the_wait)
{
    static const enum kind kinds[] = {RENDEZVOUS, LOCKFREE, LOCKED, UNBOUNDED};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fork_in_handler;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, &old), 0);
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++) {
        /* 0: ferry_select_until, 1: ferry_recv_until; 2, 3: the same with
         * the child's send from a thread it creates. */
        for (int how = 0; how < 2 * FORK_SEND_WAYS; how++) {
            atomic_store(&child_sends_from_thread, how >= 2);
            ferry_rx *rx;
            open_kind(kinds[ki], &fork_tx, &rx);
            atomic_store(&fork_child, -1);
            struct kicker k = {.waiter = pthread_self(), .tid = 0};
            pthread_t th;
            CHECK_EQ(pthread_create(&th, NULL, kick_asleep, &k), 0);
            fflush(NULL);
            long out = SENTINEL;
            ferry_select_case cs[2] = {recv_case(rx, &out, 1), recv_case(NULL, NULL, 0)};
            struct timespec dl = ferry_deadline_in_ms(10000);
            atomic_store(&k.tid, (pid_t)syscall(SYS_gettid));
            ssize_t r;
            if (how % 2 == 0) {
                int i = ferry_select_until(cs, 2, &dl);
                r = i == 0 ? cs[0].result : i;
            } else {
                r = ferry_recv_until(rx, &out, 1, &dl);
            }
            pid_t child = (pid_t)atomic_load(&fork_child);
            if (child == 0) /* the child: its own wait got its own item */
                _exit(r == 1 && out == CHILD_ITEM ? 0 : 1);
            CHECK_EQ(pthread_join(th, NULL), 0);
            CHECK_EQ(r, 1);
            CHECK_EQ(out, PARENT_ITEM);
            CHECK(child > 0);
            int status;
            while (waitpid(child, &status, 0) < 0)
                CHECK_EQ(errno, EINTR);
            CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s, %s, send from the %s: the child failed (%s %d)",
                      kind_name[kinds[ki]], how % 2 ? "recv_until" : "select_until", how >= 2 ? "thread" : "handler",
                      WIFSIGNALED(status) ? "signal" : "exit status",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            close_chan(fork_tx, rx);
        }
    }
    CHECK_EQ(sigaction(SIGUSR1, &old, NULL), 0);
}
