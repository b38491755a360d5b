/* SPDX-License-Identifier: MIT */
/* ferry/typed.h: the typed wrappers do what the functions they wrap do
 * (that the wrong type does not compile is tests/typed/compile_fail.sh). */
#include <errno.h>
#include <ferry/typed.h>
#include <string.h>

#include "test.h"

struct job {
    int id;
};

FERRY_CHAN_TYPED(jobq, struct job *);

struct point {
    double x, y;
};
FERRY_CHAN_TYPED(pointq, struct point);

static void count_wake(void *ctx) { ++*(int *)ctx; }

FERRY_TEST(typed_open_checks_the_item_size)
{
    jobq_tx *tx = NULL;
    jobq_rx *rx = NULL;
    /* Not sizeof(struct job *) on any target (sizeof(int) is on i386). */
    ferry_chan_config cfg = {.elem_size = sizeof(struct job *) + 1, .capacity = 4};
    CHECK_EQ(jobq_open(&cfg, &tx, &rx), -EINVAL);
    CHECK_EQ(jobq_open(NULL, &tx, &rx), -EINVAL);
    CHECK_EQ(jobq_open(&cfg, NULL, &rx), -EINVAL);
    cfg.elem_size = 0; /* set for you */
    CHECK_EQ(jobq_open(&cfg, &tx, &rx), 0);
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(jobq_tx_handle(tx), &st), 0);
    CHECK_EQ(st.elem_size, sizeof(struct job *));
    jobq_tx_release(tx);
    jobq_rx_release(rx);
    cfg.elem_size = sizeof(struct job *); /* or said explicitly */
    CHECK_EQ(jobq_open(&cfg, &tx, &rx), 0);
    jobq_tx_release(tx);
    jobq_rx_release(rx);
}

FERRY_TEST(typed_calls_move_items)
{
    pointq_tx *tx;
    pointq_rx *rx;
    ferry_chan_config cfg = {.capacity = 8, .levels = 2};
    CHECK_EQ(pointq_open(&cfg, &tx, &rx), 0);
    pointq_tx *tx2 = pointq_tx_clone(tx);
    pointq_rx *rx2 = pointq_rx_clone(rx);
    CHECK_PTR_EQ(tx2, tx);
    struct point in[3] = {{1, 2}, {3, 4}, {5, 6}}, out[4];
    CHECK_EQ(pointq_send(tx, in, 1), 1);
    CHECK_EQ(pointq_try_send(tx, in + 1, 1), 1);
    struct timespec dl = ferry_deadline_in_ms(1000);
    CHECK_EQ(pointq_send_until(tx, in + 2, 1, &dl), 1);
    CHECK_EQ(pointq_send_prio(tx, in + 2, 1, 1), 1);
    CHECK_EQ(pointq_send_prio_until(tx, in, 1, 1, &dl), 1);
    CHECK_EQ(pointq_recv(rx, out, 2), 2); /* level 1 first */
    CHECK(out[0].x == 5 && out[1].x == 1);
    CHECK_EQ(pointq_try_recv(rx2, out, 4), 3);
    CHECK(out[0].y == 2 && out[2].y == 6);
    struct timespec past = {0, 0};
    CHECK_EQ(pointq_recv_until(rx, out, 1, &past), -ETIMEDOUT); /* empty */
    int wakes = 0;
    ferry_waker w = {count_wake, &wakes};
    ferry_op rop, op;
    CHECK_EQ(pointq_recv_start(rx, &rop, out, 4, w), -EINPROGRESS);
    CHECK_EQ(pointq_send_start(tx, &op, in, 2, w), 2); /* straight into the pending receive */
    CHECK_EQ(wakes, 1);
    CHECK_EQ(ferry_op_result(&rop), 2);
    CHECK(out[1].x == 3);
    ferry_op sop;
    CHECK_EQ(pointq_send_prio_start(tx, &sop, in, 1, 1, w), 1);
    pointq_tx_close(tx);
    CHECK_EQ(pointq_recv(rx, out, 4), 1);
    CHECK_EQ(pointq_recv(rx, out, 4), 0);
    CHECK_EQ(pointq_send(tx2, in, 1), -EPIPE);
    pointq_tx_release(tx);
    pointq_tx_release(tx2);
    pointq_rx_release(rx);
    pointq_rx_release(rx2);
}

FERRY_TEST(typed_select_cases)
{
    jobq_tx *tx[2];
    jobq_rx *rx[2];
    ferry_chan_config cfg = {.capacity = 4};
    for (int i = 0; i < 2; i++)
        CHECK_EQ(jobq_open(&cfg, &tx[i], &rx[i]), 0);
    struct job a = {1}, b = {2};
    struct job *pa = &a, *pb = &b, *out[2] = {NULL, NULL};
    ferry_select_case cs[2];
    memset(cs, 0, sizeof cs);
    jobq_select_send(&cs[0], tx[0], &pa, 1, 0);
    jobq_select_recv(&cs[1], rx[1], out, 2);
    CHECK_EQ(ferry_select(cs, 2), 0); /* room on 0; nothing on 1 */
    CHECK_EQ(cs[0].result, 1);
    CHECK_EQ(jobq_send(tx[1], &pb, 1), 1);
    jobq_select_send(&cs[0], NULL, &pa, 1, 0); /* a NULL typed handle: never ready */
    CHECK_EQ(ferry_select(cs, 2), 1);
    CHECK_EQ(cs[1].result, 1);
    CHECK_PTR_EQ(out[0], &b);
    CHECK_EQ(jobq_recv(rx[0], out, 2), 1);
    CHECK_PTR_EQ(out[0], &a);
    for (int i = 0; i < 2; i++) {
        jobq_tx_release(tx[i]);
        jobq_rx_release(rx[i]);
    }
}

/* Item types beyond a pointer and a plain struct (typed.h, "Item types"):
 * a struct with padding arrives member by member, an array typedef is one
 * item of several elements, a pointer to const is a plain T; and each
 * wrapper evaluates its arguments once (they are functions). */
struct padded {
    char c;
    double d;
    short s;
};
FERRY_CHAN_TYPED(padq, struct padded);
typedef int quad[4];
FERRY_CHAN_TYPED(quadq, quad);
FERRY_CHAN_TYPED(strq, const char *);

FERRY_TEST(typed_odd_item_types)
{
    ferry_chan_config cfg = {.capacity = 4};
    padq_tx *ptx;
    padq_rx *prx;
    CHECK_EQ(padq_open(&cfg, &ptx, &prx), 0);
    struct padded pin[2] = {{'a', 1.5, -3}, {'b', -2.25, 7}}, pout[2];
    memset(pout, 0, sizeof pout);
    CHECK_EQ(padq_send(ptx, pin, 2), 2);
    CHECK_EQ(padq_recv(prx, pout, 2), 2);
    CHECK(pout[0].c == 'a' && pout[0].d == 1.5 && pout[0].s == -3);
    CHECK(pout[1].c == 'b' && pout[1].d == -2.25 && pout[1].s == 7);
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(padq_tx_handle(ptx), &st), 0);
    CHECK_EQ(st.elem_size, sizeof(struct padded));
    padq_tx_release(ptx);
    padq_rx_release(prx);

    quadq_tx *qtx;
    quadq_rx *qrx;
    CHECK_EQ(quadq_open(&cfg, &qtx, &qrx), 0);
    quad qin[3] = {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}, qout[3];
    memset(qout, 0, sizeof qout);
    CHECK_EQ(quadq_send(qtx, (const quad *)qin, 3), 3);
    CHECK_EQ(quadq_recv(qrx, qout, 2), 2);
    CHECK(qout[0][0] == 1 && qout[0][3] == 4 && qout[1][0] == 5 && qout[1][3] == 8);
    ferry_select_case cs[1];
    quadq_select_recv(&cs[0], qrx, qout + 2, 1);
    CHECK_EQ(ferry_select(cs, 1), 0);
    CHECK_EQ(cs[0].result, 1);
    CHECK(qout[2][0] == 9 && qout[2][3] == 12);
    CHECK_EQ(ferry_chan_stats(quadq_rx_handle(qrx), &st), 0);
    CHECK_EQ(st.elem_size, 4 * sizeof(int));
    quadq_tx_release(qtx);
    quadq_rx_release(qrx);

    strq_tx *stx;
    strq_rx *srx;
    CHECK_EQ(strq_open(&cfg, &stx, &srx), 0);
    const char *words[2] = {"one", "two"}, *got[2] = {NULL, NULL};
    /* Arguments with side effects: each evaluated once. */
    int handles = 0, counts = 0;
    size_t k = 0;
    ssize_t r = strq_send((++handles, stx), &words[k++], (++counts, 1));
    CHECK_EQ(r, 1);
    CHECK_EQ(handles, 1);
    CHECK_EQ(counts, 1);
    CHECK_EQ(k, 1);
    r = strq_send(stx, &words[k++], 1);
    CHECK_EQ(r, 1);
    r = strq_recv((++handles, srx), got, (++counts, 2));
    CHECK_EQ(r, 2);
    CHECK_EQ(handles, 2);
    CHECK_EQ(counts, 2);
    CHECK(strcmp(got[0], "one") == 0 && strcmp(got[1], "two") == 0);
    strq_tx_release(stx);
    strq_rx_release(srx);
}

/* A type whose spelling has a comma in it (an unnamed struct with two
 * members in one declaration): the macro takes T as the rest of its
 * arguments, so the comma does not split it (a C++ template such as
 * std::array<int, 3> is the same case: tests/cxx/macros.cpp). Before, this
 * did not compile ("passed 3 arguments, but takes just 2"). */
FERRY_CHAN_TYPED(twoq, struct { int a, b; });

FERRY_TEST(typed_item_type_spelled_with_a_comma)
{
    ferry_chan_config cfg = {.capacity = 4};
    twoq_tx *tx;
    twoq_rx *rx;
    CHECK_EQ(twoq_open(&cfg, &tx, &rx), 0);
    twoq_item in[2] = {{1, 2}, {3, 4}}, out[2];
    memset(out, 0, sizeof out);
    CHECK_EQ(twoq_send(tx, in, 2), 2);
    /* A compound literal and a cast as arguments. */
    CHECK_EQ(twoq_send(tx, (const twoq_item[]){{5, 6}}, 1), 1);
    CHECK_EQ(twoq_recv(rx, out, 2), 2);
    CHECK(out[0].a == 1 && out[0].b == 2 && out[1].a == 3 && out[1].b == 4);
    CHECK_EQ(twoq_try_recv(rx, (twoq_item *)(void *)out, 1), 1);
    CHECK(out[0].a == 5 && out[0].b == 6);
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(twoq_tx_handle(tx), &st), 0);
    CHECK_EQ(st.elem_size, 2 * sizeof(int));
    twoq_tx_release(tx);
    twoq_rx_release(rx);
}
