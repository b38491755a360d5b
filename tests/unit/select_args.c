/* SPDX-License-Identifier: MIT */
/* ferry/select.h as a hostile caller uses it: cases in flight started or
 * selected again, cancels that name a different number of cases, huge
 * counts, the wrong handle for the op, one channel in several cases,
 * released handles, channels of different element sizes, extreme
 * deadlines. (tests/unit/select.c has the contract's ordinary cases.) */
#include <errno.h>
#include <ferry/deadline.h>
#include <ferry/select.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "chan_test.h"

#define SENTINEL (-77L)

static FERRY_ATOMIC(int) wakes;
static void count_wake(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&wakes, 1);
}
static const ferry_waker W = {count_wake, NULL};

static void open_cap(size_t capacity, size_t elem_size, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = elem_size, .capacity = capacity};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

static void close_chan(ferry_tx *tx, ferry_rx *rx)
{
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

static ferry_select_case mk_case(int op, ferry_tx *tx, ferry_rx *rx, void *buf, size_t n)
{
    ferry_select_case c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.tx = tx;
    c.rx = rx;
    c.buf = buf;
    c.n = n;
    c.result = SENTINEL;
    return c;
}

/* A thread that sends one item after the caller is waiting. */
struct later {
    ferry_tx *tx;
    long v;
    ssize_t r;
};

static void *send_later(void *arg)
{
    struct later *l = arg;
    ferry_test_sleep_ms(20);
    l->r = ferry_send(l->tx, &l->v, 1);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* A select in flight                                                        */

/* A select started again while it is pending, by any form, is -EINVAL and
 * changes nothing: the first select still completes (one wake) and its
 * cancel reports it. Before the fix the second start reset the claim word
 * and the case states of linked ops (the cancel then left them linked in
 * the channel, pointing at the caller's stack), or recorded -EINVAL as the
 * select's result. */
FERRY_TEST(select_start_while_pending_is_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(0, sizeof(long), &tx, &rx);
    long out = SENTINEL, out2 = SENTINEL;
    ferry_select_case cs[2] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1),
                               mk_case(FERRY_SELECT_RECV, NULL, NULL, &out2, 1)};
    atomic_store(&wakes, 0);
    CHECK_EQ(ferry_select_start(cs, 2, W), -EINPROGRESS);
    CHECK_EQ(ferry_select_start(cs, 2, W), -EINVAL);
    ferry_waker none = {NULL, NULL};
    CHECK_EQ(ferry_select_start(cs, 2, none), -EINVAL);   /* failing for another reason too */
    CHECK_EQ(ferry_select_start(cs, 1, W), -EINVAL);      /* a prefix of the same cases */
    CHECK_EQ(ferry_try_select(cs, 2), -EINVAL);
    struct timespec past = ferry_deadline_in_ms(-1);
    CHECK_EQ(ferry_select_until(cs, 2, &past), -EINVAL);
    CHECK_EQ(stats(rx).recvs_blocked, 1);
    /* The first select is still linked and completes. */
    long v = 42;
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    CHECK_EQ(atomic_load(&wakes), 1);
    CHECK_EQ(ferry_select_cancel(cs, 2), 0);
    CHECK_EQ(cs[0].result, 1);
    CHECK_EQ(out, 42);
    CHECK_EQ(out2, SENTINEL);
    /* Finished: the cases may be used again. */
    CHECK_EQ(ferry_try_select(cs, 2), -EAGAIN);
    close_chan(tx, rx);
}

/* A blocking select on cases that an async select holds is refused too. */
FERRY_TEST(select_blocking_on_pending_cases_is_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(0, sizeof(long), &tx, &rx);
    long out = SENTINEL;
    ferry_select_case cs[1] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1)};
    atomic_store(&wakes, 0);
    CHECK_EQ(ferry_select_start(cs, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_select(cs, 1), -EINVAL);
    CHECK_EQ(ferry_select_cancel(cs, 1), -ECANCELED);
    CHECK_EQ(stats(rx).recvs_blocked, 1);
    CHECK_EQ(ferry_try_send(tx, &out, 1), -EAGAIN); /* nothing left linked */
    CHECK_EQ(atomic_load(&wakes), 0);
    close_chan(tx, rx);
}

/* A cancel must name the cases its start named: a cancel with fewer (or
 * more) is -EINVAL and changes nothing; the right one then withdraws every
 * case. Before the fix a cancel of fewer cases left the rest linked (and
 * the select marked finished), so a later send completed an op on a dead
 * stack frame. */
FERRY_TEST(select_cancel_with_other_count_is_einval)
{
    ferry_tx *tx[3];
    ferry_rx *rx[3];
    long out[3] = {SENTINEL, SENTINEL, SENTINEL};
    ferry_select_case cs[4];
    for (int i = 0; i < 3; i++) {
        open_cap(0, sizeof(long), &tx[i], &rx[i]);
        cs[i] = mk_case(FERRY_SELECT_RECV, NULL, rx[i], &out[i], 1);
    }
    cs[3] = mk_case(FERRY_SELECT_RECV, NULL, NULL, &out[0], 1);
    atomic_store(&wakes, 0);
    CHECK_EQ(ferry_select_start(cs, 3, W), -EINPROGRESS);
    CHECK_EQ(ferry_select_cancel(cs, 1), -EINVAL);
    CHECK_EQ(ferry_select_cancel(cs, 2), -EINVAL);
    CHECK_EQ(ferry_select_cancel(cs, 4), -EINVAL);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(stats(rx[i]).recvs_blocked, 1);
    CHECK_EQ(ferry_select_cancel(cs, 3), -ECANCELED);
    CHECK_EQ(ferry_select_cancel(cs, 3), -ECANCELED);
    for (int i = 0; i < 3; i++) {
        long v = i;
        CHECK_EQ(ferry_try_send(tx[i], &v, 1), -EAGAIN); /* nothing left linked */
        CHECK_EQ(out[i], SENTINEL);
        close_chan(tx[i], rx[i]);
    }
    CHECK_EQ(atomic_load(&wakes), 0);
}

/* A finished select has nothing linked: its cancel returns its result
 * whatever count it names (only case 0 is read). */
FERRY_TEST(select_cancel_of_finished_select_any_count)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    long v = 7, out = SENTINEL;
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    ferry_select_case cs[2] = {mk_case(FERRY_SELECT_RECV, NULL, NULL, &out, 1),
                               mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1)};
    CHECK_EQ(ferry_select_start(cs, 2, W), 1);
    CHECK_EQ(ferry_select_cancel(cs, 2), 1);
    CHECK_EQ(ferry_select_cancel(cs, 1), 1);
    CHECK_EQ(ferry_select_cancel(cs, 2), 1);
    CHECK_EQ(out, 7);
    close_chan(tx, rx);
}

/* Cancel twice, cancel of zero-filled cases, of a select never started. */
FERRY_TEST(select_cancel_twice_and_never_started)
{
    ferry_select_case zero[3];
    memset(zero, 0, sizeof zero);
    for (size_t n = 0; n <= 3; n++)
        CHECK_EQ(ferry_select_cancel(zero, n), -EINVAL);
    CHECK_EQ(ferry_select_cancel(zero, SIZE_MAX), -EINVAL);
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(0, sizeof(long), &tx, &rx);
    long out = SENTINEL;
    ferry_select_case cs[1] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1)};
    CHECK_EQ(ferry_select_cancel(cs, 1), -EINVAL); /* set up but never started */
    CHECK_EQ(ferry_select_start(cs, 1, W), -EINPROGRESS);
    CHECK_EQ(ferry_select_cancel(cs, 1), -ECANCELED);
    CHECK_EQ(ferry_select_cancel(cs, 1), -ECANCELED);
    CHECK_EQ(ferry_select_cancel(cs, 1), -ECANCELED);
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* Counts                                                                    */

/* ncases above INT_MAX (SIZE_MAX, INT_MAX + 1, UINT32_MAX + 1) is -EINVAL
 * for every form before a case is read; the cases keep their state. */
FERRY_TEST(select_huge_ncases_is_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    long v = 1, out = SENTINEL;
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    ferry_select_case cs[1] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1)};
    const size_t huge[] = {SIZE_MAX, (size_t)INT_MAX + 1, (size_t)UINT32_MAX + 1, (size_t)UINT32_MAX + 2};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        if (huge[i] <= (size_t)INT_MAX)
            continue; /* UINT32_MAX + 1 and + 2 wrap to 0 and 1 where size_t is 32 bits */
        struct timespec dl = ferry_deadline_in_ms(10);
        CHECK_EQ(ferry_select(cs, huge[i]), -EINVAL);
        CHECK_EQ(ferry_try_select(cs, huge[i]), -EINVAL);
        CHECK_EQ(ferry_select_until(cs, huge[i], &dl), -EINVAL);
        CHECK_EQ(ferry_select_until(cs, huge[i], NULL), -EINVAL);
        CHECK_EQ(ferry_select_start(cs, huge[i], W), -EINVAL);
        CHECK_EQ(ferry_select_cancel(cs, huge[i]), -EINVAL);
        CHECK_EQ(ferry_select(NULL, huge[i]), -EINVAL);
        CHECK_EQ(ferry_select_start(NULL, huge[i], W), -EINVAL);
        CHECK_EQ(ferry_select_cancel(NULL, huge[i]), -EINVAL);
    }
    CHECK_EQ(out, SENTINEL);
    CHECK_EQ(stats(rx).len, 1);
    CHECK_EQ(ferry_select_cancel(cs, 1), -EINVAL); /* never started */
    CHECK_EQ(ferry_try_select(cs, 1), 0);
    CHECK_EQ(out, 1);
    close_chan(tx, rx);
}

/* Many cases (more than fit in any small table) work: 5000 NULL cases and
 * one live one, in each position class. */
FERRY_TEST(select_many_cases)
{
    enum { N = 5000 };
    static ferry_select_case cs[N];
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    long out = SENTINEL;
    const size_t where[] = {0, 1, N / 2, N - 1};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        for (size_t i = 0; i < N; i++)
            cs[i] = mk_case(FERRY_SELECT_RECV, NULL, NULL, &out, 1);
        cs[where[w]].rx = rx;
        CHECK_EQ(ferry_try_select(cs, N), -EAGAIN);
        long v = (long)w;
        CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
        CHECK_EQ(ferry_select(cs, N), (long long)where[w]);
        CHECK_EQ(out, (long)w);
        /* and pending, then completed by a sender */
        atomic_store(&wakes, 0);
        CHECK_EQ(ferry_select_start(cs, N, W), -EINPROGRESS);
        CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
        CHECK_EQ(atomic_load(&wakes), 1);
        CHECK_EQ(ferry_select_cancel(cs, N), (long long)where[w]);
    }
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* Odd cases                                                                 */

/* A case whose op names the other handle: a RECV case with only tx set (or
 * a SEND case with only rx) is a NULL case, never ready, and the handle it
 * does not use is not touched; a case with both set uses the one its op
 * names. */
FERRY_TEST(select_wrong_handle_for_op_is_never_ready)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    long v = 3, out = SENTINEL, in = 9;
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    ferry_select_case cs[2] = {mk_case(FERRY_SELECT_RECV, tx, NULL, &out, 1),
                               mk_case(FERRY_SELECT_SEND, NULL, rx, &in, 1)};
    CHECK_EQ(ferry_try_select(cs, 2), -EAGAIN);
    struct timespec dl = ferry_deadline_in_ms(10);
    CHECK_EQ(ferry_select_until(cs, 2, &dl), -ETIMEDOUT);
    CHECK_EQ(ferry_select(cs, 2), -EINVAL); /* every case is a NULL case */
    CHECK_EQ(stats(rx).len, 1);
    CHECK_EQ(out, SENTINEL);
    /* Both handles set: the op decides. */
    ferry_select_case both[1] = {mk_case(FERRY_SELECT_RECV, tx, rx, &out, 1)};
    CHECK_EQ(ferry_select(both, 1), 0);
    CHECK_EQ(out, 3);
    both[0].op = FERRY_SELECT_SEND;
    both[0].buf = &in;
    CHECK_EQ(ferry_select(both, 1), 0);
    CHECK_EQ(both[0].result, 1);
    CHECK_EQ(ferry_try_recv(rx, &out, 1), 1);
    CHECK_EQ(out, 9);
    close_chan(tx, rx);
}

/* Bad op values, including the ones a (unsigned) subtraction could wrap
 * into range, with NULL and live handles. */
FERRY_TEST(select_bad_op_values_are_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    long v = 3, out = SENTINEL;
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    const int bad[] = {0, 3, -1, INT_MIN, INT_MAX, FERRY_SELECT_RECV | FERRY_SELECT_SEND};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int live = 0; live < 2; live++) {
            ferry_select_case cs[2] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1),
                                       mk_case(bad[i], live ? tx : NULL, live ? rx : NULL, &out, 1)};
            CHECK_EQ(ferry_try_select(cs, 2), -EINVAL);
            CHECK_EQ(ferry_select(cs, 2), -EINVAL);
            CHECK_EQ(ferry_select_start(cs, 2, W), -EINVAL);
            CHECK_EQ(ferry_select_cancel(cs, 2), -EINVAL);
            CHECK_EQ(stats(rx).len, 1);
        }
    }
    CHECK_EQ(out, SENTINEL);
    close_chan(tx, rx);
}

/* One channel in several cases of one select: two receive cases on one
 * rendezvous channel take one item between them (exactly one case), and
 * so do two send cases for one receiver. */
FERRY_TEST(select_same_channel_twice)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(0, sizeof(long), &tx, &rx);
    long out[2] = {SENTINEL, SENTINEL};
    for (int round = 0; round < 20; round++) {
        ferry_select_case cs[2] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out[0], 1),
                                   mk_case(FERRY_SELECT_RECV, NULL, rx, &out[1], 1)};
        struct later l = {.tx = tx, .v = round};
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, send_later, &l), 0);
        int i = ferry_select(cs, 2);
        CHECK_EQ(pthread_join(th, NULL), 0);
        CHECK(i == 0 || i == 1);
        CHECK_EQ(l.r, 1);
        CHECK_EQ(cs[i].result, 1);
        CHECK_EQ(out[i], round);
        CHECK_EQ(cs[1 - i].result, SENTINEL);
        CHECK_EQ(out[1 - i], SENTINEL);
        out[i] = SENTINEL;
    }
    /* Two send cases, one receive that takes up to 2: one item only. */
    long in[2] = {100, 200};
    ferry_select_case sc[2] = {mk_case(FERRY_SELECT_SEND, tx, NULL, &in[0], 1),
                               mk_case(FERRY_SELECT_SEND, tx, NULL, &in[1], 1)};
    atomic_store(&wakes, 0);
    CHECK_EQ(ferry_select_start(sc, 2, W), -EINPROGRESS);
    long got[2] = {SENTINEL, SENTINEL};
    CHECK_EQ(ferry_try_recv(rx, got, 2), 1);
    CHECK_EQ(atomic_load(&wakes), 1);
    int i = ferry_select_cancel(sc, 2);
    CHECK(i == 0 || i == 1);
    CHECK_EQ(got[0], in[i]);
    CHECK_EQ(got[1], SENTINEL);
    CHECK_EQ(ferry_try_recv(rx, got, 2), -EAGAIN);
    close_chan(tx, rx);
}

/* Cases on channels of different element sizes: each case's count is
 * checked against its own channel (n * elem_size above PTRDIFF_MAX is
 * -EINVAL for the wide channel even when it would fit the narrow one), and
 * each moves whole items of its own size. */
FERRY_TEST(select_mixed_element_sizes)
{
    ferry_tx *ctx, *btx;
    ferry_rx *crx, *brx;
    open_cap(4, 1, &ctx, &crx);
    open_cap(4, 64, &btx, &brx);
    char big[64], bigout[64], c = 'x', cout[2] = {'.', '.'};
    memset(big, 0xab, sizeof big);
    memset(bigout, 0, sizeof bigout);
    CHECK_EQ(ferry_try_send(btx, big, 1), 1);
    ferry_select_case cs[2] = {mk_case(FERRY_SELECT_RECV, NULL, crx, cout, 2),
                               mk_case(FERRY_SELECT_RECV, NULL, brx, bigout, 1)};
    CHECK_EQ(ferry_select(cs, 2), 1);
    CHECK_EQ(memcmp(big, bigout, sizeof big), 0);
    CHECK_EQ(cout[0], '.');
    /* A count fine for 1-byte items, too large for 64-byte ones. */
    cs[0].n = (size_t)PTRDIFF_MAX / 2;
    cs[1].n = (size_t)PTRDIFF_MAX / 2;
    CHECK_EQ(ferry_try_send(ctx, &c, 1), 1);
    CHECK_EQ(ferry_try_select(cs, 2), -EINVAL);
    CHECK_EQ(cout[0], '.');
    cs[1].n = 1;
    CHECK_EQ(ferry_try_select(cs, 2), 0);
    CHECK_EQ(cs[0].result, 1);
    CHECK_EQ(cout[0], 'x');
    CHECK_EQ(cout[1], '.');
    close_chan(ctx, crx);
    close_chan(btx, brx);
}

/* Closed channels: a send case gets -EPIPE (nothing taken from buf), a
 * receive case 0 once drained; after the receivers are gone a send case is
 * -EPIPE at once too. */
FERRY_TEST(select_on_closed_channels)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(0, sizeof(long), &tx, &rx);
    ferry_tx_close(tx);
    long in = 5, out = SENTINEL;
    ferry_select_case s[1] = {mk_case(FERRY_SELECT_SEND, tx, NULL, &in, 1)};
    CHECK_EQ(ferry_select(s, 1), 0);
    CHECK_EQ(s[0].result, -EPIPE);
    ferry_select_case r[1] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1)};
    CHECK_EQ(ferry_select_start(r, 1, W), 0);
    CHECK_EQ(r[0].result, 0);
    CHECK_EQ(ferry_select_cancel(r, 1), 0);
    CHECK_EQ(out, SENTINEL);
    close_chan(tx, rx);

    open_cap(4, sizeof(long), &tx, &rx);
    ferry_rx_release(rx);
    s[0] = mk_case(FERRY_SELECT_SEND, tx, NULL, &in, 1);
    CHECK_EQ(ferry_try_select(s, 1), 0);
    CHECK_EQ(s[0].result, -EPIPE);
    ferry_tx_release(tx);
}

/* ------------------------------------------------------------------------ */
/* Deadlines                                                                 */

/* The extremes: the latest representable time waits for a sender (it is
 * no deadline, not a timeout, not an error); the earliest is a past
 * deadline (try, then -ETIMEDOUT); tv_nsec just outside [0, 1e9) is
 * -EINVAL with a ready case untouched. */
FERRY_TEST(select_extreme_deadlines)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(0, sizeof(long), &tx, &rx);
    long out = SENTINEL;
    ferry_select_case cs[1] = {mk_case(FERRY_SELECT_RECV, NULL, rx, &out, 1)};
    struct timespec far = ferry_deadline_in(INT64_MAX);
    struct later l = {.tx = tx, .v = 11};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, send_later, &l), 0);
    CHECK_EQ(ferry_select_until(cs, 1, &far), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(out, 11);
    /* The very last time_t second: still no timeout, no overflow. */
    struct timespec last = {(time_t)((((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1)), 999999999L};
    l.v = 12;
    CHECK_EQ(pthread_create(&th, NULL, send_later, &l), 0);
    CHECK_EQ(ferry_select_until(cs, 1, &last), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(out, 12);
    struct timespec early = ferry_deadline_in(INT64_MIN);
    CHECK_EQ(ferry_select_until(cs, 1, &early), -ETIMEDOUT);
    struct timespec neg_sec = {-1, 0};
    CHECK_EQ(ferry_select_until(cs, 1, &neg_sec), -ETIMEDOUT);
    ferry_select_case none[1] = {mk_case(FERRY_SELECT_RECV, NULL, NULL, &out, 1)};
    CHECK_EQ(ferry_select_until(none, 1, &early), -ETIMEDOUT);
    CHECK_EQ(ferry_select_until(NULL, 0, &early), -ETIMEDOUT);
    struct timespec bad[] = {{0, -1}, {0, 1000000000L}, {far.tv_sec, LONG_MAX}, {0, LONG_MIN}};
    long v = 4;
    ferry_op op;
    CHECK_EQ(ferry_send_start(tx, &op, &v, 1, W), -EINPROGRESS); /* cs[0] is ready now */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(ferry_select_until(cs, 1, &bad[i]), -EINVAL);
        CHECK_EQ(ferry_select_until(none, 1, &bad[i]), -EINVAL);
        CHECK_EQ(ferry_select_until(NULL, 0, &bad[i]), -EINVAL);
    }
    CHECK_EQ(ferry_op_result(&op), -EINPROGRESS);
    CHECK_EQ(ferry_select_until(cs, 1, NULL), 0);
    CHECK_EQ(out, 4);
    CHECK_EQ(ferry_op_cancel(&op), 1);
    close_chan(tx, rx);
}

/* ------------------------------------------------------------------------ */
/* Misuse that aborts                                                        */

/* A released handle in a case aborts, as every channel call does (the
 * channel is still alive through its other side, so this is detected). */
FERRY_DEATH_TEST(select_released_tx_aborts, "ferry_tx released more often than cloned, or used after its last release")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    ferry_tx *stale = tx;
    ferry_tx_release(tx);
    long in = 1;
    ferry_select_case cs[1] = {mk_case(FERRY_SELECT_SEND, stale, NULL, &in, 1)};
    ferry_try_select(cs, 1);
}

FERRY_DEATH_TEST(select_released_rx_aborts, "ferry_rx released more often than cloned, or used after its last release")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    ferry_rx *stale = rx;
    ferry_rx_release(rx);
    long out;
    ferry_select_case cs[1] = {mk_case(FERRY_SELECT_RECV, NULL, stale, &out, 1)};
    ferry_select_start(cs, 1, W);
}

/* A receiver passed as the sender of a SEND case (a cast) aborts. */
FERRY_DEATH_TEST(select_rx_as_tx_aborts, "is not a live ferry_tx")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_cap(4, sizeof(long), &tx, &rx);
    long in = 1;
    ferry_select_case cs[1] = {mk_case(FERRY_SELECT_SEND, (ferry_tx *)(void *)rx, NULL, &in, 1)};
    ferry_select(cs, 1);
}

/* The cases of an async select in flight are linked by their addresses
 * (select.h: untouched until the cancel). Cancelling a copy of them aborts
 * with what went wrong; it used to unlink the originals through the copy's
 * links (a corrupt wait queue in release builds). */
FERRY_DEATH_TEST(select_cancel_of_copied_cases_aborts, "was moved or copied while pending")
{
    ferry_tx *tx[2];
    ferry_rx *rx[2];
    open_cap(0, sizeof(long), &tx[0], &rx[0]);
    open_cap(0, sizeof(long), &tx[1], &rx[1]);
    long a, b;
    ferry_select_case cs[2] = {mk_case(FERRY_SELECT_RECV, NULL, rx[0], &a, 1),
                               mk_case(FERRY_SELECT_RECV, NULL, rx[1], &b, 1)};
    ferry_select_case copy[2];
    CHECK_EQ(ferry_select_start(cs, 2, W), -EINPROGRESS);
    memcpy(copy, cs, sizeof cs);
    ferry_select_cancel(copy, 2);
}
