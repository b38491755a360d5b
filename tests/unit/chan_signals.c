/* SPDX-License-Identifier: MIT */
/* Channel calls with signals arriving at the waiting threads all the time
 * (a handler installed without SA_RESTART, so every futex sleep ends with
 * EINTR): blocking, timed and select sends and receives never return
 * -EINTR or any other error for it, no item is lost or received twice, no
 * wakeup is lost, and a timed wait is not cut short (ferry/chan.h,
 * "Signals and cancellation"). On every kind of channel. */
#include <errno.h>
#include <ferry/select.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "chan_test.h"
#include "signal_count.h"

enum how { PLAIN, TIMED, SELECT };

typedef struct run {
    ferry_tx *tx;
    ferry_rx *rx;
    enum how how;
    long n;                 /* items 1 .. n are sent */
    long received, sum;     /* the consumer's */
    FERRY_ATOMIC(int) finished;
} run;

static ssize_t send_some(run *r, long *items, size_t k)
{
    if (r->how == PLAIN)
        return ferry_send(r->tx, items, k);
    if (r->how == TIMED) {
        struct timespec dl = ferry_deadline_in_ms(20000);
        return ferry_send_until(r->tx, items, k, &dl);
    }
    ferry_select_case cs[2] = {{.op = FERRY_SELECT_SEND, .tx = r->tx, .buf = items, .n = k},
                               {.op = FERRY_SELECT_RECV, .rx = NULL}};
    int i = ferry_select(cs, 2);
    CHECK_EQ(i, 0);
    return cs[0].result;
}

static ssize_t recv_some(run *r, long *out, size_t max)
{
    if (r->how == PLAIN)
        return ferry_recv(r->rx, out, max);
    if (r->how == TIMED) {
        struct timespec dl = ferry_deadline_in_ms(20000);
        return ferry_recv_until(r->rx, out, max, &dl);
    }
    ferry_select_case cs[2] = {{.op = FERRY_SELECT_SEND, .tx = NULL},
                               {.op = FERRY_SELECT_RECV, .rx = r->rx, .buf = out, .n = max}};
    int i = ferry_select(cs, 2);
    CHECK_EQ(i, 1);
    return cs[1].result;
}

static void *producer(void *arg)
{
    run *r = arg;
    for (long next = 1; next <= r->n;) {
        long items[3];
        size_t k = 0;
        while (k < 3 && next + (long)k <= r->n) {
            items[k] = next + (long)k;
            k++;
        }
        ssize_t s = send_some(r, items, k);
        CHECK_MSG(s >= 1 && (size_t)s <= k, "send returned %zd under signals", s);
        next += s;
    }
    /* On a loaded machine both threads may be done before the first
     * signal: the close waits for a few, which then hit the consumer
     * while it waits for the close. */
    while (atomic_load_explicit(&handled, memory_order_relaxed) < 4)
        sched_yield();
    ferry_tx_close(r->tx);
    atomic_fetch_add(&r->finished, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    run *r = arg;
    long out[2];
    for (;;) {
        ssize_t k = recv_some(r, out, 2);
        if (k == 0)
            break;
        CHECK_MSG(k >= 1 && k <= 2, "receive returned %zd under signals", k);
        for (ssize_t i = 0; i < k; i++) {
            CHECK_EQ(out[i], r->received + 1); /* in order, none lost or repeated */
            r->received++;
            r->sum += out[i];
        }
    }
    atomic_fetch_add(&r->finished, 1);
    return NULL;
}

static void storm(enum how how)
{
    install_handler();
    for (size_t k = 0; k < CHAN_NKINDS; k++) {
        run r = {.how = how, .n = (long)ferry_test_scaled(3000)};
        open_chan_kind(&chan_kinds[k], &r.tx, &r.rx);
        atomic_store(&handled, 0);
        pthread_t p, c;
        CHECK_EQ(pthread_create(&c, NULL, consumer, &r), 0);
        CHECK_EQ(pthread_create(&p, NULL, producer, &r), 0);
        struct timespec gap = {0, 30000};
        /* Until both are done (a finished thread's id must not be signalled
         * after it is joined). */
        while (atomic_load(&r.finished) < 2) {
            pthread_kill(p, SIGUSR1);
            pthread_kill(c, SIGUSR1);
            nanosleep(&gap, NULL);
        }
        CHECK_EQ(pthread_join(p, NULL), 0);
        CHECK_EQ(pthread_join(c, NULL), 0);
        CHECK_MSG(r.received == r.n, "%s: %ld of %ld received", chan_kinds[k].name, r.received, r.n);
        CHECK_EQ(r.sum, r.n * (r.n + 1) / 2);
        CHECK(atomic_load(&handled) >= 4);
        struct ferry_chan_stats st = stats(r.tx);
        CHECK_EQ(st.len, 0);
        CHECK_EQ(st.items_received, (uint64_t)r.n);
        ferry_tx_release(r.tx);
        ferry_rx_release(r.rx);
    }
}

FERRY_TEST(signals_do_not_interrupt_blocking_calls) { storm(PLAIN); }
FERRY_TEST(signals_do_not_interrupt_timed_calls) { storm(TIMED); }
FERRY_TEST(signals_do_not_interrupt_select) { storm(SELECT); }

/* Timed calls that nothing completes, under signals: -ETIMEDOUT, never
 * before the deadline. */
typedef struct timed {
    ferry_tx *tx;
    ferry_rx *rx;
    ssize_t recv_r, send_r;
    int select_r;
    long long recv_early, send_early, select_early; /* ns before the deadline it returned */
    FERRY_ATOMIC(int) finished;
} timed;

static void *timed_waiter(void *arg)
{
    timed *t = arg;
    long v = 1, out;
    struct timespec dl = ferry_deadline_in_ms(60);
    t->recv_r = ferry_recv_until(t->rx, &out, 1, &dl);
    t->recv_early = ferry_test_ns_between(ferry_test_now(), dl);
    dl = ferry_deadline_in_ms(60);
    t->send_r = ferry_send_until(t->tx, &v, 1, &dl); /* rendezvous: nobody receives */
    t->send_early = ferry_test_ns_between(ferry_test_now(), dl);
    ferry_select_case cs[1] = {{.op = FERRY_SELECT_RECV, .rx = t->rx, .buf = &out, .n = 1}};
    dl = ferry_deadline_in_ms(60);
    t->select_r = ferry_select_until(cs, 1, &dl);
    t->select_early = ferry_test_ns_between(ferry_test_now(), dl);
    atomic_store(&t->finished, 1);
    return NULL;
}

FERRY_TEST(signals_do_not_cut_timed_calls_short)
{
    install_handler();
    timed t = {0};
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 0};
    CHECK_EQ(ferry_chan_open(&cfg, &t.tx, &t.rx), 0);
    atomic_store(&handled, 0);
    pthread_t w;
    CHECK_EQ(pthread_create(&w, NULL, timed_waiter, &t), 0);
    struct timespec gap = {0, 100000};
    while (!atomic_load(&t.finished)) {
        pthread_kill(w, SIGUSR1);
        nanosleep(&gap, NULL);
    }
    CHECK_EQ(pthread_join(w, NULL), 0);
    CHECK(atomic_load(&handled) > 0);
    CHECK_EQ(t.recv_r, -ETIMEDOUT);
    CHECK_EQ(t.send_r, -ETIMEDOUT);
    CHECK_EQ(t.select_r, -ETIMEDOUT);
    CHECK_MSG(t.recv_early <= 0 && t.send_early <= 0 && t.select_early <= 0,
              "returned before the deadline: %lld, %lld, %lld ns", t.recv_early, t.send_early, t.select_early);
    CHECK_EQ(stats(t.tx).len, 0);
    ferry_tx_release(t.tx);
    ferry_rx_release(t.rx);
}
