/* SPDX-License-Identifier: MIT */
/* ferry/typed.h with NULL and zero arguments: each wrapper returns what the
 * call it wraps returns for the same arguments (the NULL policy included),
 * and the select-case fillers neither crash on a NULL case nor leave stale
 * private state in the case they fill. */
#include <errno.h>
#include <ferry/typed.h>
#include <string.h>

#include "test.h"

FERRY_CHAN_TYPED(numq, long);

static void nop_wake(void *ctx) { (void)ctx; }

FERRY_TEST(typed_null_and_zero_arguments_as_the_wrapped_calls)
{
    ferry_chan_config cfg = {.capacity = 4};
    numq_tx *tx;
    numq_rx *rx;
    CHECK_EQ(numq_open(NULL, &tx, &rx), -EINVAL);
    CHECK_EQ(numq_open(&cfg, NULL, &rx), -EINVAL);
    CHECK_EQ(numq_open(&cfg, &tx, NULL), -EINVAL);
    CHECK_EQ(numq_open(&cfg, &tx, &rx), 0);
    ferry_tx *t = numq_tx_handle(tx);
    ferry_rx *r = numq_rx_handle(rx);
    CHECK(numq_tx_handle(NULL) == NULL);
    CHECK(numq_rx_handle(NULL) == NULL);
    CHECK(numq_tx_clone(NULL) == NULL);
    CHECK(numq_rx_clone(NULL) == NULL);
    numq_tx_release(NULL);
    numq_rx_release(NULL);
    numq_tx_close(NULL);
    struct timespec dl = {0, 0}, bad = {0, -1};
    ferry_op op;
    ferry_waker w = {nop_wake, NULL};
    long v = 1, out[2];
    /* handle NULL, buffer NULL with n > 0, n == 0, bad deadline, NULL deadline on a ready channel */
    for (int k = 0; k < 2; k++) {
        numq_tx *h = k ? tx : NULL;
        ferry_tx *fh = k ? t : NULL;
        CHECK_EQ(numq_try_send(h, NULL, 1), ferry_try_send(fh, NULL, 1));
        CHECK_EQ(numq_send(h, NULL, 1), ferry_send(fh, NULL, 1));
        CHECK_EQ(numq_send_until(h, &v, 1, &bad), ferry_send_until(fh, &v, 1, &bad));
        CHECK_EQ(numq_send_prio(h, &v, 1, 5), ferry_send_prio(fh, &v, 1, 5));
        CHECK_EQ(numq_send_prio_until(h, NULL, 1, 0, &dl), ferry_send_prio_until(fh, NULL, 1, 0, &dl));
        CHECK_EQ(numq_send_start(h, NULL, &v, 1, w), ferry_send_start(fh, NULL, &v, 1, w));
        CHECK_EQ(numq_send_prio_start(h, &op, &v, 1, 9, w), ferry_send_prio_start(fh, &op, &v, 1, 9, w));
        numq_rx *g = k ? rx : NULL;
        ferry_rx *fg = k ? r : NULL;
        CHECK_EQ(numq_try_recv(g, out, 0), ferry_try_recv(fg, out, 0));
        CHECK_EQ(numq_recv(g, NULL, 1), ferry_recv(fg, NULL, 1));
        CHECK_EQ(numq_recv_until(g, out, 1, &bad), ferry_recv_until(fg, out, 1, &bad));
        CHECK_EQ(numq_recv_start(g, &op, out, 0, w), ferry_recv_start(fg, &op, out, 0, w));
    }
    CHECK_EQ(numq_try_send(tx, NULL, 1), -EINVAL);
    CHECK_EQ(numq_try_recv(rx, out, 0), -EINVAL);
    /* n == 0 with a NULL buffer: as the plain call, whatever it is */
    CHECK_EQ(numq_try_send(tx, NULL, 0), ferry_try_send(t, NULL, 0));
    /* A past and a NULL deadline: as the plain calls. */
    CHECK_EQ(numq_send_until(tx, &v, 1, &dl), 1);
    CHECK_EQ(numq_recv_until(rx, out, 2, NULL), 1);
    CHECK_EQ(out[0], 1);
    CHECK_EQ(numq_recv_until(rx, out, 2, &dl), ferry_recv_until(r, out, 2, &dl));
    numq_tx_release(tx);
    numq_rx_release(rx);
}

/* The fillers: a NULL case is ignored (it crashed); the filled case is
 * zero beyond its public fields, so a case array on the stack that held
 * anything is a never-started select once filled (it kept the old private
 * state: a cancel then reported a select that never ran). */
FERRY_TEST(typed_select_fillers_null_and_stale_cases)
{
    ferry_chan_config cfg = {.capacity = 4};
    numq_tx *tx;
    numq_rx *rx;
    CHECK_EQ(numq_open(&cfg, &tx, &rx), 0);
    long v = 3, out = 0;
    numq_select_recv(NULL, rx, &out, 1);
    numq_select_send(NULL, tx, &v, 1, 0);
    ferry_select_case cs[2];
    memset(cs, 0xa5, sizeof cs); /* stale bytes */
    numq_select_send(&cs[0], tx, &v, 1, 0);
    numq_select_recv(&cs[1], rx, &out, 1);
    CHECK_EQ(cs[0].prio, 0);
    CHECK(cs[0].rx == NULL);
    CHECK(cs[1].tx == NULL);
    CHECK_EQ(ferry_select_cancel(cs, 2), -EINVAL); /* never started */
    CHECK_EQ(ferry_select(cs, 2), 0);               /* room: the send */
    CHECK_EQ(cs[0].result, 1);
    CHECK_EQ(ferry_select_cancel(cs, 2), 0);         /* finished: its result */
    numq_select_recv(&cs[0], NULL, &out, 1);        /* refilled: never started again */
    CHECK_EQ(ferry_select_cancel(cs, 2), -EINVAL);
    CHECK_EQ(ferry_select(cs, 2), 1);
    CHECK_EQ(out, 3);
    numq_tx_release(tx);
    numq_rx_release(rx);
}
