/* SPDX-License-Identifier: MIT */
/* ferry/chan.h: the contract of docs/chan.md, one behaviour per case. */
#include <errno.h>
#include <ferry/chan.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan_test.h"

static void open_chan(size_t cap, ferry_tx **tx, ferry_rx **rx)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .name = "test"};
    CHECK_EQ(ferry_chan_open(&cfg, tx, rx), 0);
}

static void close_chan(ferry_tx *tx, ferry_rx *rx)
{
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

FERRY_TEST(open_rejects_bad_arguments)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = 8, .capacity = 4};
    CHECK_EQ(ferry_chan_open(NULL, &tx, &rx), -EINVAL);
    CHECK_EQ(ferry_chan_open(&cfg, NULL, &rx), -EINVAL);
    CHECK_EQ(ferry_chan_open(&cfg, &tx, NULL), -EINVAL);
    cfg.elem_size = 0;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
    cfg.elem_size = 1 << 20;
    cfg.capacity = SIZE_MAX / 2; /* capacity * elem_size overflows */
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
    cfg.elem_size = 8;
    cfg.capacity = 4;
    cfg.levels = FERRY_MAX_LEVELS + 1;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
    cfg.levels = FERRY_MAX_LEVELS;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    close_chan(tx, rx);
}

FERRY_TEST(calls_reject_bad_arguments)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, &tx, &rx);
    long v[2];
    CHECK_EQ(ferry_send(NULL, v, 1), -EINVAL);
    CHECK_EQ(ferry_send(tx, NULL, 1), -EINVAL);
    CHECK_EQ(ferry_send(tx, v, 0), 0);
    CHECK_EQ(ferry_recv(NULL, v, 1), -EINVAL);
    CHECK_EQ(ferry_recv(rx, NULL, 1), -EINVAL);
    CHECK_EQ(ferry_recv(rx, v, 0), -EINVAL); /* max == 0 */
    CHECK_EQ(ferry_try_recv(rx, v, 0), -EINVAL);
    /* A NULL deadline means none (docs/chan.md, "Arguments"): these are the
     * plain calls, and an item is there to take. */
    CHECK_EQ(ferry_send_until(tx, v, 1, NULL), 1);
    CHECK_EQ(ferry_recv_until(rx, v, 1, NULL), 1);
    CHECK_EQ(ferry_send_prio(tx, v, 1, 1), -EINVAL); /* no levels: only 0 */
    CHECK_EQ(ferry_chan_stats(NULL, NULL), -EINVAL);
    long not_a_handle[4] = {0};
    struct ferry_chan_stats st;
    CHECK_EQ(ferry_chan_stats(not_a_handle, &st), -EINVAL);
    close_chan(tx, rx);
}

FERRY_TEST(send_recv_fifo_batches)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(100, &tx, &rx);
    long in[10], out[10];
    for (int i = 0; i < 10; i++)
        in[i] = i + 1;
    CHECK_EQ(ferry_send(tx, in, 4), 4);
    CHECK_EQ(ferry_send(tx, in + 4, 6), 6);
    CHECK_EQ(ferry_recv(rx, out, 3), 3); /* at most max */
    CHECK_EQ(ferry_recv(rx, out + 3, 100), 7);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(out[i], i + 1);
    struct ferry_chan_stats st = stats(rx);
    CHECK_EQ(st.items_sent, 10);
    CHECK_EQ(st.batches_sent, 2);
    CHECK_EQ(st.items_received, 10);
    CHECK_EQ(st.batches_received, 2);
    CHECK_EQ(st.len, 0);
    close_chan(tx, rx);
}

FERRY_TEST(try_send_full_is_eagain_and_partial)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(3, &tx, &rx);
    long in[5] = {1, 2, 3, 4, 5}, out[5];
    CHECK_EQ(ferry_try_send(tx, in, 5), 3); /* as many as fit */
    CHECK_EQ(ferry_try_send(tx, in, 1), -EAGAIN);
    CHECK_EQ(ferry_recv(rx, out, 5), 3);
    CHECK_EQ(out[2], 3);
    CHECK_EQ(ferry_try_recv(rx, out, 5), -EAGAIN);
    close_chan(tx, rx);
}

FERRY_TEST(recv_after_last_sender_drains_then_zero)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(8, &tx, &rx);
    ferry_tx *tx2 = ferry_tx_clone(tx);
    CHECK_PTR_EQ(tx2, tx);
    long in[3] = {7, 8, 9}, out[8];
    CHECK_EQ(ferry_send(tx, in, 3), 3);
    ferry_tx_release(tx);
    CHECK_EQ(ferry_try_send(tx2, in, 1), 1); /* one sender remains */
    ferry_tx_release(tx2);
    CHECK_EQ(ferry_recv(rx, out, 2), 2);
    CHECK_EQ(ferry_recv(rx, out, 8), 2);
    CHECK_EQ(out[1], 7);
    CHECK_EQ(ferry_recv(rx, out, 8), 0);
    CHECK_EQ(ferry_try_recv(rx, out, 8), 0);
    struct timespec dl = ferry_test_deadline_ms(10);
    CHECK_EQ(ferry_recv_until(rx, out, 8, &dl), 0);
    CHECK(stats(rx).closed);
    ferry_rx_release(rx);
}

static long dropped_sum;
static int dropped_n;
static void drop_long(void *item, void *ctx)
{
    CHECK_PTR_EQ(ctx, &dropped_sum);
    dropped_sum += *(long *)item;
    dropped_n++;
}

FERRY_TEST(last_receiver_gone_drops_buffered_and_epipe)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 8, .drop = drop_long, .drop_ctx = &dropped_sum};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long in[4] = {1, 2, 3, 4};
    CHECK_EQ(ferry_send(tx, in, 4), 4);
    ferry_rx *rx2 = ferry_rx_clone(rx);
    ferry_rx_release(rx);
    CHECK_EQ(dropped_n, 0); /* a receiver remains */
    ferry_rx_release(rx2);
    CHECK_EQ(dropped_n, 4);
    CHECK_EQ(dropped_sum, 10);
    CHECK_EQ(ferry_send(tx, in, 1), -EPIPE);
    CHECK_EQ(ferry_try_send(tx, in, 1), -EPIPE);
    ferry_tx_release(tx);
}

FERRY_TEST(tx_close_closes_for_everyone)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(8, &tx, &rx);
    ferry_tx *tx2 = ferry_tx_clone(tx);
    long v = 5, out;
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    ferry_tx_close(tx);
    ferry_tx_close(tx); /* idempotent */
    CHECK_EQ(ferry_send(tx2, &v, 1), -EPIPE);
    CHECK_EQ(ferry_recv(rx, &out, 1), 1);
    CHECK_EQ(ferry_recv(rx, &out, 1), 0);
    ferry_tx_release(tx);
    ferry_tx_release(tx2);
    ferry_rx_release(rx);
}

struct thr {
    ferry_tx *tx;
    ferry_rx *rx;
    long *buf;
    size_t n;
    ssize_t r;
    long delay_ms;
    pthread_t t;
};

static void *recv_thread(void *arg)
{
    struct thr *t = arg;
    ferry_test_sleep_ms(t->delay_ms);
    t->r = ferry_recv(t->rx, t->buf, t->n);
    return NULL;
}

static void *send_thread(void *arg)
{
    struct thr *t = arg;
    ferry_test_sleep_ms(t->delay_ms);
    t->r = ferry_send(t->tx, t->buf, t->n);
    return NULL;
}

/* A receiver that waits gets a sender's items copied into its buffer, up
 * to its max, and the rest is buffered. On the locked path (levels = 2)
 * the sender copies them straight over (a direct handoff); on the
 * lock-free path they go through the ring and the sender's settle copies
 * them over (docs/chan.md). */
static void blocked_receiver_gets_items(unsigned levels)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 16, .levels = levels};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long out[4] = {0};
    struct thr t = {.rx = rx, .buf = out, .n = 4};
    pthread_create(&t.t, NULL, recv_thread, &t);
    wait_blocked(rx, 1, 0);
    long in[6] = {1, 2, 3, 4, 5, 6};
    CHECK_EQ(ferry_send(tx, in, 6), 6);
    pthread_join(t.t, NULL);
    CHECK_EQ(t.r, 4); /* up to its max, copied straight into its buffer */
    CHECK_EQ(out[0], 1);
    CHECK_EQ(out[3], 4);
    struct ferry_chan_stats st = stats(tx);
    CHECK_EQ(st.handoffs, levels > 1 ? 4 : 0);
    CHECK_EQ(st.len, 2); /* the rest is buffered */
    CHECK_EQ(st.items_received, 4);
    close_chan(tx, rx);
}

FERRY_TEST(blocked_receiver_gets_direct_handoff) { blocked_receiver_gets_items(2); }

FERRY_TEST(blocked_receiver_gets_items_through_the_ring) { blocked_receiver_gets_items(1); }

/* A batch that the lock-free ring cannot take whole, sent while a receiver
 * waits: the receiver still gets up to its max straight from the sender and
 * the rest fills the ring (once the ring took what fit and the receiver was
 * settled with that alone: 2 of its 4, and a try send of 6 sent 2). */
FERRY_TEST(blocked_receiver_gets_its_max_from_a_batch_the_ring_cannot_take)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, &tx, &rx);
    long out[4] = {0};
    struct thr t = {.rx = rx, .buf = out, .n = 4};
    pthread_create(&t.t, NULL, recv_thread, &t);
    wait_blocked(rx, 1, 0);
    long in[6] = {1, 2, 3, 4, 5, 6};
    CHECK_EQ(ferry_try_send(tx, in, 6), 6);
    pthread_join(t.t, NULL);
    CHECK_EQ(t.r, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(out[i], i + 1);
    struct ferry_chan_stats st = stats(tx);
    CHECK_EQ(st.handoffs, 4);
    CHECK_EQ(st.len, 2);
    close_chan(tx, rx);
}

FERRY_TEST(blocked_sender_items_moved_in_by_receiver)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, &tx, &rx);
    long in[5] = {1, 2, 3, 4, 5}, out[8];
    struct thr t = {.tx = tx, .buf = in, .n = 5};
    pthread_create(&t.t, NULL, send_thread, &t);
    wait_blocked(tx, 0, 1);
    /* Take one: the receiver moves the blocked sender's next item in. */
    CHECK_EQ(ferry_recv(rx, out, 1), 1);
    CHECK_EQ(stats(tx).len, 2);
    CHECK_EQ(ferry_recv(rx, out + 1, 8), 4); /* buffer (2), then straight from the sender */
    pthread_join(t.t, NULL);
    CHECK_EQ(t.r, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(out[i], i + 1);
    /* Each call counts once as a batch, though both receives began on the
     * fast path and went on under the lock (a blocked sender). */
    struct ferry_chan_stats st = stats(rx);
    CHECK_EQ(st.batches_sent, 1);
    CHECK_EQ(st.batches_received, 2);
    CHECK_EQ(st.items_received, 5);
    close_chan(tx, rx);
}

FERRY_TEST(precise_wakeups_one_item_wakes_one_receiver)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(16, &tx, &rx);
    enum { R = 4 };
    struct thr t[R];
    long out[R][4];
    for (int i = 0; i < R; i++) {
        t[i] = (struct thr){.rx = rx, .buf = out[i], .n = 4};
        pthread_create(&t[i].t, NULL, recv_thread, &t[i]);
    }
    wait_blocked(rx, R, 0);
    uint64_t before = stats(rx).wakeups;
    long v = 42;
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    ferry_test_sleep_ms(20);
    CHECK_EQ(stats(rx).wakeups - before, 1); /* one item, one receiver woken */
    long two[2] = {1, 2};
    CHECK_EQ(ferry_send(tx, two, 2), 2); /* the next receiver takes both */
    CHECK_EQ(stats(rx).wakeups - before, 2);
    ferry_tx_close(tx); /* the other two get 0 */
    int got = 0, zero = 0;
    for (int i = 0; i < R; i++) {
        pthread_join(t[i].t, NULL);
        if (t[i].r > 0)
            got += (int)t[i].r;
        else if (t[i].r == 0)
            zero++;
    }
    CHECK_EQ(got, 3);
    CHECK_EQ(zero, 2);
    close_chan(tx, rx);
}

FERRY_TEST(rendezvous_completes_only_with_receiver)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(0, &tx, &rx);
    long v = 1, out[4];
    CHECK_EQ(ferry_try_send(tx, &v, 1), -EAGAIN); /* no receiver waiting */
    CHECK_EQ(ferry_try_recv(rx, out, 4), -EAGAIN);
    struct thr t = {.rx = rx, .buf = out, .n = 4};
    pthread_create(&t.t, NULL, recv_thread, &t);
    wait_blocked(rx, 1, 0);
    CHECK_EQ(ferry_try_send(tx, &v, 1), 1); /* a receiver is waiting: handed over */
    pthread_join(t.t, NULL);
    CHECK_EQ(t.r, 1);
    /* A blocking sender waits until a receiver takes its items. */
    long in[3] = {4, 5, 6};
    struct thr s = {.tx = tx, .buf = in, .n = 3};
    pthread_create(&s.t, NULL, send_thread, &s);
    wait_blocked(tx, 1, 1);
    CHECK_EQ(stats(tx).len, 0); /* nothing is buffered in a rendezvous channel */
    CHECK_EQ(ferry_recv(rx, out, 2), 2);
    CHECK_EQ(ferry_recv(rx, out + 2, 2), 1);
    pthread_join(s.t, NULL);
    CHECK_EQ(s.r, 3);
    CHECK_EQ(out[0], 4);
    CHECK_EQ(out[2], 6);
    close_chan(tx, rx);
}

FERRY_TEST(capacity_one)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    long v[2] = {1, 2}, out[2];
    CHECK_EQ(ferry_try_send(tx, v, 2), 1);
    CHECK_EQ(ferry_try_send(tx, v + 1, 1), -EAGAIN);
    CHECK_EQ(ferry_recv(rx, out, 2), 1);
    CHECK_EQ(ferry_try_send(tx, v + 1, 1), 1);
    CHECK_EQ(ferry_recv(rx, out, 2), 1);
    CHECK_EQ(out[0], 2);
    close_chan(tx, rx);
}

/* A receive on a plain unbounded channel takes up to max of what is
 * there, across the block list's block ends (a pop once stopped at its
 * block's end: 1023 of 3000). */
FERRY_TEST(unbounded_recv_takes_across_blocks)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(FERRY_UNBOUNDED, &tx, &rx);
    enum { N = 3000 };
    long *buf = malloc(N * sizeof *buf);
    for (long i = 0; i < N; i++)
        buf[i] = i;
    CHECK_EQ(ferry_send(tx, buf, N), N);
    memset(buf, 0, N * sizeof *buf);
    CHECK_EQ(ferry_recv(rx, buf, N + 1), N);
    for (long i = 0; i < N; i++)
        CHECK_EQ(buf[i], i);
    CHECK_EQ(ferry_send(tx, buf, 5), 5); /* then 5 more, across the next end */
    CHECK_EQ(ferry_try_recv(rx, buf, 4), 4);
    CHECK_EQ(ferry_try_recv(rx, buf, 4), 1);
    close_chan(tx, rx);
    free(buf);
}

FERRY_TEST(unbounded_grows_keeps_order)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(FERRY_UNBOUNDED, &tx, &rx);
    enum { N = 100000 };
    long *buf = malloc(N * sizeof *buf);
    for (long i = 0; i < N; i++)
        buf[i] = i;
    for (long i = 0; i < N; i += 1000)
        CHECK_EQ(ferry_try_send(tx, buf + i, 1000), 1000); /* never EAGAIN */
    CHECK_EQ(stats(tx).len, N);
    long next = 0, out[777];
    ssize_t r;
    ferry_tx_release(tx);
    while ((r = ferry_recv(rx, out, 777)) > 0)
        for (ssize_t i = 0; i < r; i++)
            CHECK_EQ(out[i], next++);
    CHECK_EQ(next, N);
    ferry_rx_release(rx);
    free(buf);
}

FERRY_TEST(send_until_timed_deadline_accuracy)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    long v[3] = {1, 2, 3};
    CHECK_EQ(ferry_send(tx, v, 1), 1);
    struct timespec start = ferry_test_now(), dl = ferry_test_deadline_ms(60);
    CHECK_EQ(ferry_send_until(tx, v, 1, &dl), -ETIMEDOUT);
    long long ns = ferry_test_ns_between(dl, ferry_test_now());
    CHECK_MSG(ns >= 0, "returned %lld ns before the deadline", -ns);
    CHECK_MSG(ns < FERRY_TEST_LATE_NS, "returned %lld ns after the deadline", ns);
    CHECK(ferry_test_ns_between(start, ferry_test_now()) >= 60000000LL);
    /* Partial progress is reported as a count. */
    long out;
    CHECK_EQ(ferry_recv(rx, &out, 1), 1);
    dl = ferry_test_deadline_ms(30);
    CHECK_EQ(ferry_send_until(tx, v, 3, &dl), 1);
    /* A deadline already past still makes the progress that needs no wait. */
    CHECK_EQ(ferry_recv(rx, &out, 1), 1);
    dl = ferry_test_deadline_ms(-10);
    CHECK_EQ(ferry_send_until(tx, v, 3, &dl), 1);
    CHECK_EQ(ferry_send_until(tx, v, 3, &dl), -ETIMEDOUT);
    close_chan(tx, rx);
}

FERRY_TEST(recv_until_timed_deadline_accuracy)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(4, &tx, &rx);
    long out[4];
    struct timespec dl = ferry_test_deadline_ms(60);
    CHECK_EQ(ferry_recv_until(rx, out, 4, &dl), -ETIMEDOUT);
    long long ns = ferry_test_ns_between(dl, ferry_test_now());
    CHECK_MSG(ns >= 0, "returned %lld ns before the deadline", -ns);
    CHECK_MSG(ns < FERRY_TEST_LATE_NS, "returned %lld ns after the deadline", ns);
    /* The timed-out receiver left nothing behind: an item sent now stays. */
    long v = 3;
    CHECK_EQ(ferry_send(tx, &v, 1), 1);
    CHECK_EQ(stats(tx).len, 1);
    dl = ferry_test_deadline_ms(1000);
    CHECK_EQ(ferry_recv_until(rx, out, 4, &dl), 1);
    close_chan(tx, rx);
}

FERRY_TEST(blocked_sender_gets_epipe_or_count_when_receivers_go)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, &tx, &rx);
    long in[5] = {1, 2, 3, 4, 5};
    struct thr t = {.tx = tx, .buf = in, .n = 5};
    pthread_create(&t.t, NULL, send_thread, &t);
    wait_blocked(tx, 0, 1);
    ferry_rx_release(rx);
    pthread_join(t.t, NULL);
    CHECK_EQ(t.r, 2); /* two were sent (and then dropped) before it closed */
    struct thr t2 = {.tx = tx, .buf = in, .n = 5};
    pthread_create(&t2.t, NULL, send_thread, &t2);
    pthread_join(t2.t, NULL);
    CHECK_EQ(t2.r, -EPIPE);
    ferry_tx_release(tx);
}

FERRY_TEST(blocked_receiver_gets_zero_when_senders_go)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(2, &tx, &rx);
    long out[2];
    struct thr t = {.rx = rx, .buf = out, .n = 2};
    pthread_create(&t.t, NULL, recv_thread, &t);
    wait_blocked(rx, 1, 0);
    ferry_tx_release(tx);
    pthread_join(t.t, NULL);
    CHECK_EQ(t.r, 0);
    ferry_rx_release(rx);
}

FERRY_TEST(stats_from_either_handle)
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(10, &tx, &rx);
    long v[3] = {0};
    ferry_send(tx, v, 3);
    struct ferry_chan_stats a = stats(tx), b = stats(rx);
    CHECK_EQ(a.len, 3);
    CHECK_EQ(b.len, 3);
    CHECK_EQ(a.capacity, 10);
    CHECK_EQ(a.elem_size, sizeof(long));
    CHECK(strcmp(a.name, "test") == 0);
    CHECK_EQ(a.senders, 1);
    CHECK_EQ(b.receivers, 1);
    close_chan(tx, rx);
}

FERRY_DEATH_TEST(tx_release_more_than_cloned_aborts, "ferry_tx released more often than cloned")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    ferry_tx_release(tx);
    ferry_tx_release(tx); /* the receiver keeps the channel alive: detected */
}

FERRY_DEATH_TEST(rx_release_more_than_cloned_aborts, "ferry_rx released more often than cloned")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    ferry_rx *rx2 = ferry_rx_clone(rx);
    ferry_rx_release(rx);
    ferry_rx_release(rx2);
    ferry_rx_release(rx);
}

FERRY_DEATH_TEST(wrong_handle_kind_aborts, "is not a live ferry_tx (magic")
{
    ferry_tx *tx;
    ferry_rx *rx;
    open_chan(1, &tx, &rx);
    long v = 0;
    ferry_send((ferry_tx *)(void *)rx, &v, 1);
}
