/* SPDX-License-Identifier: MIT */
/* The select hook of the op state machine (src/chan_op.h): ops that share
 * a claim word -- a select's cases -- of which at most one completes; the
 * others leave their channels' lists (LOST) having moved nothing, and
 * their cancel says so. And a send op that completes once `need` items
 * are taken (a select's send case). Driven through the internal starts
 * that a select would use. */
#include <errno.h>
#include <string.h>

#include "chan_op.h"
#include "chan_test.h"

static FERRY_ATOMIC(int) wakes;
static void count_wake(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&wakes, 1);
}
static const ferry_waker W = {count_wake, NULL};

struct two {
    ferry_tx *tx[2];
    ferry_rx *rx[2];
};

static void open_two(struct two *t, size_t cap)
{
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .name = "case"};
    for (int i = 0; i < 2; i++)
        CHECK_EQ(ferry_chan_open(&cfg, &t->tx[i], &t->rx[i]), 0);
    atomic_store(&wakes, 0);
}

static void close_two(struct two *t)
{
    for (int i = 0; i < 2; i++) {
        ferry_tx_release(t->tx[i]);
        ferry_rx_release(t->rx[i]);
    }
}

/* Two receive cases on two channels: the first item on either wins; the
 * other case is dropped from its channel when that channel gets an item,
 * which then stays buffered for others. */
static void receive_cases(size_t cap)
{
    struct two t;
    open_two(&t, cap);
    FERRY_ATOMIC(uintptr_t) claim = 0;
    ferry_op op[2];
    long out[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        CHECK_EQ(ferry__recv_start_claimed(t.rx[i], &op[i], &out[i], 1, W, &claim), -EINPROGRESS);
    long a = 10, b = 20;
    if (cap == 0) {
        /* Rendezvous: the send completes only into the winning case. */
        CHECK_EQ(ferry_try_send(t.tx[0], &a, 1), 1);
        CHECK_EQ(ferry_try_send(t.tx[1], &b, 1), -EAGAIN); /* case 1 lost: no receiver */
    } else {
        CHECK_EQ(ferry_send(t.tx[0], &a, 1), 1);
        CHECK_EQ(ferry_send(t.tx[1], &b, 1), 1); /* buffered: case 1 lost */
        CHECK_EQ(stats(t.tx[1]).len, 1);
    }
    CHECK_EQ(atomic_load(&claim), (uintptr_t)&op[0]);
    CHECK_EQ(atomic_load(&wakes), 1);
    CHECK_EQ(ferry_op_result(&op[0]), 1);
    CHECK_EQ(out[0], 10);
    CHECK_EQ(ferry_op_result(&op[1]), -EINPROGRESS); /* lost, not complete */
    CHECK_EQ(ferry_op_cancel(&op[1]), 0);             /* it moved nothing */
    CHECK_EQ(ferry_op_result(&op[1]), 0);
    CHECK_EQ(out[1], 0);
    CHECK_EQ(ferry_op_cancel(&op[0]), 1);
    if (cap != 0) {
        long got;
        CHECK_EQ(ferry_try_recv(t.rx[1], &got, 1), 1); /* the item was not lost */
        CHECK_EQ(got, 20);
    }
    CHECK_EQ(atomic_load(&wakes), 1);
    close_two(&t);
}

FERRY_TEST(claim_receive_cases_lockfree) { receive_cases(4); }
/* (2^28 + 1 items: too large for the lock-free ring, the locked path; of
 * longs, within PTRDIFF_MAX bytes on i386 too.) */
#define LOCKED_CAP (((size_t)1 << 28) + 1)
FERRY_TEST(claim_receive_cases_locked) { receive_cases(LOCKED_CAP); }
FERRY_TEST(claim_receive_cases_block_list) { receive_cases(FERRY_UNBOUNDED); }
FERRY_TEST(claim_receive_cases_rendezvous) { receive_cases(0); }

/* Closing completes a case (closed channels are ready), and the claim
 * decides between two closes as between two items. */
FERRY_TEST(claim_close_completes_one_case)
{
    struct two t;
    open_two(&t, 4);
    FERRY_ATOMIC(uintptr_t) claim = 0;
    ferry_op op[2];
    long out[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(ferry__recv_start_claimed(t.rx[i], &op[i], &out[i], 1, W, &claim), -EINPROGRESS);
    ferry_tx_close(t.tx[1]);
    CHECK_EQ(ferry_op_result(&op[1]), 0); /* closed and drained */
    ferry_tx_close(t.tx[0]);
    CHECK_EQ(ferry_op_result(&op[0]), -EINPROGRESS);
    CHECK_EQ(ferry_op_cancel(&op[0]), 0);
    CHECK_EQ(atomic_load(&wakes), 1);
    close_two(&t);
}

/* Send cases on rendezvous channels: a receiver on either takes from the
 * winner; the loser is dropped by the next receiver that finds it. */
FERRY_TEST(claim_send_cases_rendezvous)
{
    struct two t;
    open_two(&t, 0);
    FERRY_ATOMIC(uintptr_t) claim = 0;
    ferry_op op[2];
    long in[2][3] = {{1, 2, 3}, {4, 5, 6}}, out[3];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(ferry__send_start_claimed(t.tx[i], &op[i], in[i], 3, 0, 1, W, &claim), -EINPROGRESS);
    CHECK_EQ(ferry_try_recv(t.rx[1], out, 2), 2); /* case 1 wins: need 1, takes 2 */
    CHECK_EQ(out[0], 4);
    CHECK_EQ(ferry_op_result(&op[1]), 2); /* complete once >= need taken; 6 stays with the caller */
    CHECK_EQ(ferry_try_recv(t.rx[0], out, 3), -EAGAIN); /* case 0 lost: nothing to take */
    CHECK_EQ(ferry_op_cancel(&op[0]), 0);
    CHECK_EQ(ferry_op_cancel(&op[1]), 2);
    CHECK_EQ(atomic_load(&wakes), 1);
    close_two(&t);
}

/* need: a send that completes once `need` items are taken, the rest
 * staying with the caller (refill moves what fits). */
FERRY_TEST(claim_send_need_completes_partially)
{
    for (int k = 0; k < 2; k++) {
        size_t cap = k ? 1000 : 2; /* lock-free ring / locked rings (budget) */
        ferry_tx *tx;
        ferry_rx *rx;
        ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = cap, .budget = k ? 2 * sizeof(long) : 0};
        CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
        long in[5] = {1, 2, 3, 4, 5}, out[5];
        CHECK_EQ(ferry_send(tx, in, 2), 2); /* full (cap 2, or a budget of two longs) */
        atomic_store(&wakes, 0);
        ferry_op op;
        CHECK_EQ(ferry__send_start_claimed(tx, &op, in + 2, 3, 0, 1, W, NULL), -EINPROGRESS);
        CHECK_EQ(ferry_try_recv(rx, out, 1), 1); /* room for one: item 3 goes in, enough */
        CHECK_EQ(ferry_op_result(&op), 1);
        CHECK_EQ(atomic_load(&wakes), 1);
        CHECK_EQ(ferry_try_recv(rx, out, 5), 2);
        CHECK_EQ(out[0], 2);
        CHECK_EQ(out[1], 3);
        CHECK_EQ(ferry_try_recv(rx, out, 5), -EAGAIN);
        ferry_op bad;
        CHECK_EQ(ferry__send_start_claimed(tx, &bad, in, 2, 0, 3, W, NULL), -EINVAL); /* need > n */
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

/* A claim commits the sibling cases, so it is taken only for a move that
 * happens: a send case whose weighed item does not fit the room a receive
 * freed stays unclaimed, and a receive case on another channel can still
 * win. */
static size_t weight_is_value(const void *item, void *ctx)
{
    (void)ctx;
    return (size_t)*(const long *)item;
}

FERRY_TEST(claim_not_taken_for_a_send_that_does_not_fit)
{
    ferry_tx *tx, *ty;
    ferry_rx *rx, *ry;
    ferry_chan_config cx = {.elem_size = sizeof(long), .capacity = 8, .budget = 20, .weigh = weight_is_value};
    ferry_chan_config cy = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&cx, &tx, &rx), 0);
    CHECK_EQ(ferry_chan_open(&cy, &ty, &ry), 0);
    long fill[2] = {4, 15}, heavy = 10, small = 7, out;
    CHECK_EQ(ferry_send(tx, fill, 2), 2);
    atomic_store(&wakes, 0);
    FERRY_ATOMIC(uintptr_t) claim = 0;
    ferry_op s, r;
    CHECK_EQ(ferry__send_start_claimed(tx, &s, &heavy, 1, 0, 1, W, &claim), -EINPROGRESS);
    CHECK_EQ(ferry__recv_start_claimed(ry, &r, &out, 1, W, &claim), -EINPROGRESS);
    CHECK_EQ(ferry_try_recv(rx, &out, 1), 1); /* frees 4: 15 + 10 > 20, no room for the case */
    CHECK_EQ(atomic_load(&claim), 0);
    CHECK_EQ(ferry_send(ty, &small, 1), 1); /* the receive case wins */
    CHECK_EQ(atomic_load(&claim), (uintptr_t)&r);
    CHECK_EQ(ferry_op_result(&r), 1);
    CHECK_EQ(out, 7);
    CHECK_EQ(ferry_op_cancel(&s), 0); /* still linked: withdrawn, nothing moved */
    CHECK_EQ(ferry_op_cancel(&r), 1);
    CHECK_EQ(atomic_load(&wakes), 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    ferry_tx_release(ty);
    ferry_rx_release(ry);
}

/* The start of a claimed op claims it too, before it moves anything: a
 * select case being started finds a sibling that already won (on another
 * thread, in a real select) and moves nothing, links nothing. Regression:
 * the start used to take buffered items without claiming. */
FERRY_TEST(claim_start_loses_to_a_sibling_that_won)
{
    static const size_t caps[] = {4, LOCKED_CAP, FERRY_UNBOUNDED}; /* ring, locked, block list */
    for (int k = 0; k < 3; k++) {
        struct two t;
        open_two(&t, caps[k]);
        FERRY_ATOMIC(uintptr_t) claim = 0;
        ferry_op op[2];
        long out[2] = {0, 0}, a = 10, b = 20;
        CHECK_EQ(ferry__recv_start_claimed(t.rx[0], &op[0], &out[0], 1, W, &claim), -EINPROGRESS);
        CHECK_EQ(ferry_send(t.tx[0], &a, 1), 1); /* op[0] wins */
        CHECK_EQ(ferry_send(t.tx[1], &b, 1), 1);
        CHECK_EQ(ferry__recv_start_claimed(t.rx[1], &op[1], &out[1], 1, W, &claim), FERRY__CLAIM_LOST);
        CHECK_EQ(out[1], 0);
        CHECK_EQ(stats(t.tx[1]).len, 1); /* the item stayed */
        CHECK_EQ(ferry_op_cancel(&op[1]), FERRY__CLAIM_LOST); /* finished at its start */
        long in[2] = {1, 2};
        CHECK_EQ(ferry__send_start_claimed(t.tx[1], &op[1], in, 2, 0, 1, W, &claim), FERRY__CLAIM_LOST);
        CHECK_EQ(stats(t.tx[1]).len, 1);
        ferry_tx_close(t.tx[1]);
        CHECK_EQ(ferry__send_start_claimed(t.tx[1], &op[1], in, 2, 0, 1, W, &claim), FERRY__CLAIM_LOST);
        CHECK_EQ(ferry_op_cancel(&op[0]), 1);
        CHECK_EQ(out[0], 10);
        close_two(&t);
    }
}

/* A start that can complete at once wins the claim; closed channels are
 * ready (receive 0, send -EPIPE) and claim too. */
static void start_wins_at_once(size_t cap)
{
    struct two t;
    open_two(&t, cap);
    long a = 10, out = 0;
    ferry_op op;
    FERRY_ATOMIC(uintptr_t) claim = 0;
    CHECK_EQ(ferry_send(t.tx[0], &a, 1), 1);
    CHECK_EQ(ferry__recv_start_claimed(t.rx[0], &op, &out, 1, W, &claim), 1);
    CHECK_EQ(atomic_load(&claim), (uintptr_t)&op);
    CHECK_EQ(out, 10);
    ferry_tx_close(t.tx[0]);
    atomic_store(&claim, 0);
    CHECK_EQ(ferry__recv_start_claimed(t.rx[0], &op, &out, 1, W, &claim), 0);
    CHECK_EQ(atomic_load(&claim), (uintptr_t)&op);
    atomic_store(&claim, 0);
    CHECK_EQ(ferry__send_start_claimed(t.tx[0], &op, &a, 1, 0, 1, W, &claim), -EPIPE);
    CHECK_EQ(atomic_load(&claim), (uintptr_t)&op);
    atomic_store(&claim, 0);
    CHECK_EQ(ferry__send_start_claimed(t.tx[1], &op, &a, 1, 0, 1, W, &claim), 1); /* room */
    CHECK_EQ(atomic_load(&claim), (uintptr_t)&op);
    CHECK_EQ(atomic_load(&wakes), 0);
    close_two(&t);
}

FERRY_TEST(claim_start_wins_at_once) { start_wins_at_once(4); }
FERRY_TEST(claim_start_wins_at_once_block_list) { start_wins_at_once(FERRY_UNBOUNDED); }

/* One select's send and receive cases on one rendezvous channel never pair
 * with each other (and do not knock each other out). */
FERRY_TEST(claim_siblings_never_pair)
{
    struct two t;
    open_two(&t, 0);
    FERRY_ATOMIC(uintptr_t) claim = 0;
    ferry_op r, s;
    long out = 0, in = 5;
    CHECK_EQ(ferry__recv_start_claimed(t.rx[0], &r, &out, 1, W, &claim), -EINPROGRESS);
    CHECK_EQ(ferry__send_start_claimed(t.tx[0], &s, &in, 1, 0, 1, W, &claim), -EINPROGRESS);
    CHECK_EQ(atomic_load(&claim), 0);
    long got = 0;
    CHECK_EQ(ferry_try_recv(t.rx[0], &got, 1), 1); /* an outsider pairs with the send case */
    CHECK_EQ(got, 5);
    CHECK_EQ(atomic_load(&claim), (uintptr_t)&s);
    CHECK_EQ(ferry_op_cancel(&r), 0);
    CHECK_EQ(ferry_op_cancel(&s), 1);
    CHECK_EQ(out, 0);
    close_two(&t);
}

/* Two selects, each with one case linked on a rendezvous channel: the
 * start of a case of the other pairs with it, taking both claims. When one
 * select has already won elsewhere, its linked case is dropped and the
 * other's start moves nothing through it; when the starting select's own
 * sibling won, its start moves nothing and the other's case stays linked,
 * unclaimed. */
FERRY_TEST(claim_pairs_between_two_selects)
{
    struct two t;
    open_two(&t, 0);
    long v = 7, out = 0;
    /* Both undecided: they pair. */
    FERRY_ATOMIC(uintptr_t) c1 = 0, c2 = 0;
    ferry_op s1, r2;
    CHECK_EQ(ferry__send_start_claimed(t.tx[0], &s1, &v, 1, 0, 1, W, &c1), -EINPROGRESS);
    CHECK_EQ(ferry__recv_start_claimed(t.rx[0], &r2, &out, 1, W, &c2), 1);
    CHECK_EQ(out, 7);
    CHECK_EQ(atomic_load(&c1), (uintptr_t)&s1);
    CHECK_EQ(atomic_load(&c2), (uintptr_t)&r2);
    CHECK_EQ(ferry_op_cancel(&s1), 1);
    CHECK_EQ(atomic_load(&wakes), 1);

    /* Select 1 won elsewhere: its case on channel 0 is dropped. */
    atomic_store(&c1, 0);
    atomic_store(&c2, 0);
    ferry_op a1, b1;
    long got1 = 0, in1 = 1;
    CHECK_EQ(ferry__send_start_claimed(t.tx[0], &a1, &in1, 1, 0, 1, W, &c1), -EINPROGRESS);
    CHECK_EQ(ferry__recv_start_claimed(t.rx[1], &b1, &got1, 1, W, &c1), -EINPROGRESS);
    long x = 9;
    CHECK_EQ(ferry_send(t.tx[1], &x, 1), 1); /* b1 wins */
    out = 0;
    CHECK_EQ(ferry__recv_start_claimed(t.rx[0], &r2, &out, 1, W, &c2), -EINPROGRESS);
    CHECK_EQ(out, 0);
    CHECK_EQ(atomic_load(&c2), 0);
    CHECK_EQ(ferry_op_cancel(&a1), 0);
    CHECK_EQ(ferry_op_cancel(&b1), 1);
    CHECK_EQ(got1, 9);
    CHECK_EQ(ferry_op_cancel(&r2), 0);

    /* The starting select's own sibling won: nothing moves, the other
     * select's case stays linked and unclaimed. */
    atomic_store(&c1, 0);
    atomic_store(&c2, 0);
    ferry_op p2, q2;
    long gp = 0;
    CHECK_EQ(ferry__send_start_claimed(t.tx[0], &a1, &in1, 1, 0, 1, W, &c1), -EINPROGRESS);
    CHECK_EQ(ferry__recv_start_claimed(t.rx[1], &p2, &gp, 1, W, &c2), -EINPROGRESS);
    CHECK_EQ(ferry_send(t.tx[1], &x, 1), 1); /* p2 wins */
    out = 0;
    CHECK_EQ(ferry__recv_start_claimed(t.rx[0], &q2, &out, 1, W, &c2), FERRY__CLAIM_LOST);
    CHECK_EQ(out, 0);
    CHECK_EQ(atomic_load(&c1), 0);
    long got = 0;
    CHECK_EQ(ferry_try_recv(t.rx[0], &got, 1), 1); /* a1 is still there */
    CHECK_EQ(got, 1);
    CHECK_EQ(ferry_op_cancel(&a1), 1);
    CHECK_EQ(ferry_op_cancel(&p2), 1);
    close_two(&t);
}
