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
