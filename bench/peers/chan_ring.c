/* SPDX-License-Identifier: MIT */
/* The peer suite's baseline binary: the workload of chan_peer.h on the
 * pthread mutex + two condvars ring of bench/chan_baseline.c (bounded, or
 * unbounded: a ring that doubles). Batches use its batch calls (one lock
 * acquisition per batch). No close: each consumer takes its quota N/C. */
#include "../chan_baseline.h"
#include "chan_peer.h"

static void produce(void *ctx, int p, uint64_t first, uint64_t count, size_t batch)
{
    (void)p;
    bl_queue *q = (bl_queue *)ctx;
    uint64_t buf[PEER_MAX_BATCH];
    for (uint64_t i = 0; i < count;) {
        size_t k = count - i < batch ? (size_t)(count - i) : batch;
        if (k == 1) {
            bl_send(q, first + i);
        } else {
            for (size_t j = 0; j < k; j++)
                buf[j] = first + i + j;
            bl_send_n(q, buf, k);
        }
        i += k;
    }
}

static void consume(void *ctx, int c, size_t batch, uint64_t quota, uint64_t *count, uint64_t *sum)
{
    (void)c;
    bl_queue *q = (bl_queue *)ctx;
    uint64_t buf[PEER_MAX_BATCH], s = 0;
    for (uint64_t i = 0; i < quota;) {
        size_t want = quota - i < batch ? (size_t)(quota - i) : batch;
        if (want == 1) {
            s += bl_recv(q);
            i++;
            continue;
        }
        size_t k = bl_recv_n(q, buf, want);
        for (size_t j = 0; j < k; j++)
            s += buf[j];
        i += k;
    }
    *count = quota;
    *sum = s;
}

int main(int argc, char **argv)
{
    struct peer_args a;
    peer_parse(argc, argv, &a);
    bl_queue *q = bl_open(a.unbounded ? SIZE_MAX : a.cap);
    if (!q) {
        fprintf(stderr, "chan_ring: out of memory\n");
        return 1;
    }
    struct peer_ops ops = {q, produce, consume, NULL};
    int rc = peer_run("ring", &a, &ops);
    bl_free(q);
    return rc;
}
