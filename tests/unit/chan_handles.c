/* SPDX-License-Identifier: MIT */
/* A handle used after its side's last release, while the channel lives on
 * through the other side: every call through it aborts (ferry/chan.h,
 * ferry_tx_release); ferry_chan_stats says -EINVAL. Before the fix the handle kept
 * its live magic, so a send through a released sender returned -EPIPE and
 * a receive through a released receiver drained the channel. */
#include <errno.h>
#include <ferry/chan.h>

#include "chan_test.h"

static void open_chan(ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

FERRY_DEATH_TEST(send_after_last_tx_release_aborts,
                 "ferry_tx released more often than cloned, or used after its last release")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(&tx, &rx);
    ferry_tx *tx2 = ferry_tx_clone(tx);
    ferry_tx_release(tx);
    long v = 1;
    CHECK_EQ(ferry_try_send(tx2, &v, 1), 1); /* one clone still held: fine */
    ferry_tx_release(tx2);
    ferry_try_send(tx, &v, 1);
}

FERRY_DEATH_TEST(recv_after_last_rx_release_aborts,
                 "ferry_rx released more often than cloned, or used after its last release")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(&tx, &rx);
    long v = 1;
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    ferry_rx_release(rx);
    ferry_try_recv(rx, &v, 1);
}

FERRY_TEST(stats_of_a_released_side_is_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(&tx, &rx);
    ferry_tx_release(tx);
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(tx, &st), -EINVAL);
    CHECK_EQ(ferry_chan_stats(rx, &st), 0);
    CHECK_EQ(st.senders, 0);
    CHECK(st.closed);
    ferry_rx_release(rx);
}

/* The message names the channel (cfg.name), which lives on through the
 * other side. */
FERRY_DEATH_TEST(released_handle_message_names_the_channel,
                 ", channel jobs)")
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4, .name = "jobs"};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    ferry_tx_release(tx);
    ferry_tx_release(tx);
}

