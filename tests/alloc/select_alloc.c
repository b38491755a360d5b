/* SPDX-License-Identifier: MIT */
/* Select allocates nothing (include/ferry/select.h: its storage lives in
 * the cases).
 *
 * malloc, calloc, realloc and free are interposed (this program defines
 * them) and counted while armed. A selector runs every form of select --
 * blocking, try, until with short deadlines, async started and then waited
 * for or cancelled -- over receive cases on a rendezvous, a bounded and an
 * unbounded channel (and a priority channel, and a budgeted one) fed by a
 * producer thread, plus a send case to a bounded channel drained by a
 * consumer thread. After a warm-up (the unbounded channel's storage grows
 * to the backlog the producer allows), the measured phase must allocate and
 * free nothing, and it must have waited (sleeps counted in the channels'
 * statistics). Not built under sanitizers (they own malloc). */
#include <errno.h>
#include <ferry/select.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "counting_malloc.h"
#include "test.h"

enum { IN = 5 }; /* rendezvous, bounded, unbounded, levels, budget */

static struct {
    ferry_tx *tx[IN], *out_tx;
    ferry_rx *rx[IN], *out_rx;
    FERRY_ATOMIC(long) go;   /* items the producer may send in all */
    FERRY_ATOMIC(int) flag;  /* the async select's waker */
} S;

static void *producer(void *arg)
{
    (void)arg;
    long sent = 0, v = 0;
    for (;;) {
        long go = atomic_load(&S.go);
        if (go < 0)
            return NULL;
        if (sent == go) {
            sched_yield();
            continue;
        }
        int k = (int)(sent % IN);
        if (k == 2) { /* unbounded: keep the backlog under what the warm-up grew */
            struct ferry_chan_stats st;
            while (ferry_chan_stats(S.tx[2], &st) == 0 && st.len > 256)
                sched_yield();
        }
        CHECK_EQ(ferry_send_prio(S.tx[k], &v, 1, k == 3 ? (unsigned)(sent % 4) : 0), 1);
        sent++;
    }
}

static void *consumer(void *arg)
{
    (void)arg;
    long buf[8];
    while (ferry_recv(S.out_rx, buf, 8) > 0)
        ;
    return NULL;
}

static void wake_flag(void *ctx)
{
    (void)ctx;
    atomic_store(&S.flag, 1);
}

/* Receive `items` items through selects of every form. */
static void select_phase(long items)
{
    long got = 0, bufs[IN][4], offer[2] = {1, 2};
    ferry_select_case cs[IN + 1];
    for (int i = 0; i < IN; i++)
        cs[i] = (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = S.rx[i], .buf = bufs[i], .n = 4};
    cs[IN] = (ferry_select_case){.op = FERRY_SELECT_SEND, .tx = S.out_tx, .buf = offer, .n = 2};
    atomic_fetch_add(&S.go, items);
    for (long round = 0; got < items; round++) {
        int i;
        switch (round % 4) {
        case 0:
            i = ferry_select(cs, IN + 1);
            break;
        case 1: {
            struct timespec dl = ferry_deadline_in(200000); /* 0.2 ms */
            i = ferry_select_until(cs, IN + 1, &dl);
            break;
        }
        case 2:
            i = ferry_try_select(cs, IN + 1);
            break;
        default:
            atomic_store(&S.flag, 0);
            i = ferry_select_start(cs, IN + 1, (ferry_waker){wake_flag, NULL});
            if (i == -EINPROGRESS) {
                for (int t = 0; t < (int)(round % 16) && !atomic_load(&S.flag); t++)
                    sched_yield();
                i = ferry_select_cancel(cs, IN + 1);
            }
            break;
        }
        if (i >= 0 && i < IN) {
            CHECK(cs[i].result > 0);
            got += cs[i].result;
        } else if (i == IN) {
            CHECK(cs[i].result > 0);
        } else {
            CHECK(i == -ETIMEDOUT || i == -EAGAIN || i == -ECANCELED);
        }
    }
}

static uint64_t waits(void)
{
    uint64_t n = 0;
    struct ferry_chan_stats st;
    for (int i = 0; i < IN; i++) {
        CHECK_EQ(ferry_chan_stats(S.rx[i], &st), 0);
        n += st.recvs_blocked;
    }
    return n;
}

FERRY_TEST(select_no_allocation)
{
    ferry_chan_config cfg[IN] = {
        {.elem_size = sizeof(long), .capacity = 0},
        {.elem_size = sizeof(long), .capacity = 4},
        {.elem_size = sizeof(long), .capacity = FERRY_UNBOUNDED},
        {.elem_size = sizeof(long), .capacity = 16, .levels = 4},
        {.elem_size = sizeof(long), .capacity = 16, .budget = 4 * sizeof(long)},
    };
    for (int i = 0; i < IN; i++)
        CHECK_EQ(ferry_chan_open(&cfg[i], &S.tx[i], &S.rx[i]), 0);
    ferry_chan_config oc = {.elem_size = sizeof(long), .capacity = 4};
    CHECK_EQ(ferry_chan_open(&oc, &S.out_tx, &S.out_rx), 0);
    /* The unbounded channel's storage for the largest backlog allowed. */
    long fill[512] = {0}, drain[512];
    CHECK_EQ(ferry_send(S.tx[2], fill, 512), 512);
    CHECK_EQ(ferry_recv(S.rx[2], drain, 512), 512);
    pthread_t p, c;
    CHECK_EQ(pthread_create(&p, NULL, producer, NULL), 0);
    CHECK_EQ(pthread_create(&c, NULL, consumer, NULL), 0);
    select_phase(20000); /* warm-up */
    uint64_t before = waits();
    atomic_store(&calls, 0);
    atomic_store(&armed, 1);
    select_phase((long)ferry_test_scaled(200000));
    atomic_store(&armed, 0);
    CHECK_MSG(atomic_load(&calls) == 0, "%ld allocator calls in steady state", atomic_load(&calls));
    CHECK_MSG(waits() > before, "the measured selects never waited");
    atomic_store(&S.go, -1);
    CHECK_EQ(pthread_join(p, NULL), 0);
    ferry_tx_release(S.out_tx);
    CHECK_EQ(pthread_join(c, NULL), 0);
    ferry_rx_release(S.out_rx);
    for (int i = 0; i < IN; i++) {
        ferry_tx_release(S.tx[i]);
        ferry_rx_release(S.rx[i]);
    }
}
