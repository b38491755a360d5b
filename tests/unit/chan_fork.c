/* SPDX-License-Identifier: MIT */
/* A channel across fork() (docs/chan.md, "fork()"): the child gets a copy
 * of the channel as it was -- its buffered items, the forking thread's own
 * pending async ops -- and none of the calls that other threads were
 * blocked in (blocking sends and receives, blocking selects): those
 * threads do not exist in the child. Before the fix the child's items went
 * to the blocked receivers of the parent's threads (a try_send said 1, and
 * nothing was ever received), and a blocked sender's items came out of the
 * child's receives while the child's own sends queued behind it.
 *
 * Every case forks; the child runs under an alarm, so that a hang is a
 * failure rather than a test timeout, and exits 0 when its checks pass. */
#include <errno.h>
#include <ferry/op.h>
#include <ferry/select.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan_test.h"

static const struct chan_kind *kind; /* the case's kind, for the child */
static ferry_tx *tx;
static ferry_rx *rx;

static void open_kind(const struct chan_kind *k)
{
    kind = k;
    open_chan_kind(k, &tx, &rx);
}

static void close_kind(void)
{
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* Fork; the child runs fn under an alarm and exits 0 when it returns (a
 * failed CHECK exits 1, a hang dies of SIGALRM). */
static void in_child(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(20);
        fn();
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the child failed (%s %d)", kind->name,
              WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* The child's own traffic: what it sends it receives, exactly, and a
 * rendezvous channel has no receiver there. */
static void child_round_trip(void)
{
    long v[2] = {101, 102}, out[4] = {0};
    ssize_t want = kind->cap == 0 ? -EAGAIN : kind->cap == 1 ? 1 : 2;
    CHECK_EQ(ferry_try_send(tx, v, 2), want);
    if (want < 0)
        return;
    CHECK_EQ(ferry_try_recv(rx, out, 4), want);
    CHECK_EQ(out[0], 101);
    if (want == 2)
        CHECK_EQ(out[1], 102);
    CHECK_EQ(ferry_try_recv(rx, out, 4), -EAGAIN);
}

/* ---- a receiver blocked in the parent ---- */

struct blocked {
    pthread_t t;
    ssize_t r;
    long buf[8];
    int how; /* 0: ferry_recv, 1: ferry_recv_until, 2: ferry_select */
};

static void *blocked_recv(void *arg)
{
    struct blocked *b = arg;
    if (b->how == 0) {
        b->r = ferry_recv(rx, b->buf, 8);
    } else if (b->how == 1) {
        struct timespec dl = ferry_deadline_in_ms(60000);
        b->r = ferry_recv_until(rx, b->buf, 8, &dl);
    } else {
        ferry_select_case cs[1] = {{.op = FERRY_SELECT_RECV, .rx = rx, .buf = b->buf, .n = 8}};
        int i = ferry_select(cs, 1);
        b->r = i == 0 ? cs[0].result : i;
    }
    return NULL;
}

static void child_with_blocked_receiver(void)
{
    child_round_trip();
    /* Twice: the first call dropped the receivers that do not exist here. */
    child_round_trip();
    CHECK_EQ(stats(rx).len, 0);
}

FERRY_TEST(fork_child_has_no_blocked_receivers)
{
    for (int how = 0; how < 3; how++) {
        for (size_t i = 0; i < CHAN_NKINDS; i++) {
            open_kind(&chan_kinds[i]);
            struct blocked b = {.how = how};
            pthread_create(&b.t, NULL, blocked_recv, &b);
            wait_blocked(rx, 1, 0);
            in_child(child_with_blocked_receiver);
            /* The parent's receiver is still there, and gets the parent's item. */
            long v = 7;
            CHECK_EQ(ferry_send(tx, &v, 1), 1);
            pthread_join(b.t, NULL);
            CHECK_EQ(b.r, 1);
            CHECK_EQ(b.buf[0], 7);
            close_kind();
        }
    }
}

/* ---- a sender blocked in the parent ---- */

static long held = 555; /* what the blocked sender holds */

static void *blocked_send(void *arg)
{
    struct blocked *b = arg;
    b->r = ferry_send(tx, &held, 1);
    return NULL;
}

static size_t fill(void)
{
    size_t n = kind->cap == FERRY_UNBOUNDED ? 0 : kind->cap;
    for (size_t i = 0; i < n; i++) {
        long v = (long)i;
        CHECK_EQ(ferry_try_send(tx, &v, 1), 1);
    }
    return n;
}

static void child_with_blocked_sender(void)
{
    /* The buffered items, and not the blocked sender's. */
    size_t n = kind->cap;
    long out[8];
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(ferry_try_recv(rx, out, 1), 1);
        CHECK_EQ(out[0], (long)i);
    }
    CHECK_EQ(ferry_try_recv(rx, out, 1), -EAGAIN);
    /* The child's sends go first: nobody is queued before them here. */
    child_round_trip();
}

FERRY_TEST(fork_child_has_no_blocked_senders)
{
    for (size_t i = 0; i < CHAN_NKINDS; i++) {
        if (chan_kinds[i].cap == FERRY_UNBOUNDED)
            continue; /* a send never blocks there */
        open_kind(&chan_kinds[i]);
        size_t n = fill();
        struct blocked b = {0};
        pthread_create(&b.t, NULL, blocked_send, &b);
        wait_blocked(tx, 0, 1);
        in_child(child_with_blocked_sender);
        /* The parent has every item: the buffered ones, then the held one. */
        long out[8];
        for (size_t k = 0; k < n; k++) {
            CHECK_EQ(ferry_recv(rx, out, 1), 1);
            CHECK_EQ(out[0], (long)k);
        }
        CHECK_EQ(ferry_recv(rx, out, 1), 1);
        CHECK_EQ(out[0], held);
        pthread_join(b.t, NULL);
        CHECK_EQ(b.r, 1);
        close_kind();
    }
}

/* ---- the forking thread's own async op stays pending in the child ---- */

static int woken;
static void count_wake(void *ctx)
{
    (void)ctx;
    woken++;
}

static ferry_op op;
static long op_buf[4];

static void child_completes_own_op(void)
{
    long v = 77;
    CHECK_EQ(ferry_op_result(&op), -EINPROGRESS);
    CHECK_EQ(ferry_send_until(tx, &v, 1, NULL), 1);
    CHECK_EQ(woken, 1);
    CHECK_EQ(ferry_op_result(&op), 1);
    CHECK_EQ(op_buf[0], 77);
}

FERRY_TEST(fork_child_keeps_own_pending_async_op)
{
    for (size_t i = 0; i < CHAN_NKINDS; i++) {
        open_kind(&chan_kinds[i]);
        ferry_waker w = {count_wake, NULL};
        woken = 0;
        CHECK_EQ(ferry_recv_start(rx, &op, op_buf, 4, w), -EINPROGRESS);
        in_child(child_completes_own_op);
        CHECK_EQ(woken, 0);
        CHECK_EQ(ferry_op_cancel(&op), 0);
        close_kind();
    }
}
