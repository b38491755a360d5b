/* SPDX-License-Identifier: MIT */
/* The peer suite's ferry binary: the workload of chan_peer.h on a ferry
 * channel, bounded (CAP) or unbounded. Each producer sends with its own
 * clone of the sender and releases it when done (the last release closes);
 * each consumer receives with its own clone of the receiver until the
 * channel is closed and drained. With FERRY_PEER_STATS=1 in the environment
 * the channel's statistics (ferry_chan_stats) go to stderr after the run. */
#include <ferry/chan.h>

#include "chan_peer.h"

struct ferry_peer {
    ferry_tx *tx[PEER_MAX_THREADS];
    ferry_rx *rx[PEER_MAX_THREADS];
};

static void die(const char *what, long r)
{
    fprintf(stderr, "chan_ferry: %s: %ld\n", what, r);
    exit(1);
}

static void produce(void *ctx, int p, uint64_t first, uint64_t count, size_t batch)
{
    struct ferry_peer *f = (struct ferry_peer *)ctx;
    uint64_t buf[PEER_MAX_BATCH];
    for (uint64_t i = 0; i < count;) {
        size_t k = count - i < batch ? (size_t)(count - i) : batch;
        for (size_t j = 0; j < k; j++)
            buf[j] = first + i + j;
        ssize_t r = ferry_send(f->tx[p], buf, k);
        if (r != (ssize_t)k)
            die("ferry_send", (long)r);
        i += k;
    }
    ferry_tx_release(f->tx[p]);
}

static void consume(void *ctx, int c, size_t batch, uint64_t quota, uint64_t *count, uint64_t *sum)
{
    (void)quota; /* the channel closes */
    struct ferry_peer *f = (struct ferry_peer *)ctx;
    uint64_t buf[PEER_MAX_BATCH], n = 0, s = 0;
    ssize_t r;
    while ((r = ferry_recv(f->rx[c], buf, batch)) > 0) {
        for (ssize_t j = 0; j < r; j++)
            s += buf[j];
        n += (uint64_t)r;
    }
    if (r < 0)
        die("ferry_recv", (long)r);
    *count = n;
    *sum = s;
    ferry_rx_release(f->rx[c]);
}

int main(int argc, char **argv)
{
    struct peer_args a;
    peer_parse(argc, argv, &a);
    static struct ferry_peer f;
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t),
                             .capacity = a.unbounded ? FERRY_UNBOUNDED : a.cap,
                             .name = "peers"};
    int r = ferry_chan_open(&cfg, &tx, &rx);
    if (r)
        die("ferry_chan_open", r);
    f.tx[0] = tx;
    for (int i = 1; i < a.producers; i++)
        f.tx[i] = ferry_tx_clone(tx);
    for (int i = 0; i < a.consumers; i++)
        f.rx[i] = ferry_rx_clone(rx); /* rx itself stays here, for the statistics */
    struct peer_ops ops = {&f, produce, consume, NULL};
    int rc = peer_run(a.unbounded ? "ferry-unbounded" : "ferry", &a, &ops);
    const char *env = getenv("FERRY_PEER_STATS");
    struct ferry_chan_stats st;
    if (env && *env == '1' && ferry_chan_stats(rx, &st) == 0)
        fprintf(stderr,
                "STATS items=%llu batches_sent=%llu batches_received=%llu sends_blocked=%llu "
                "recvs_blocked=%llu handoffs=%llu wakeups=%llu\n",
                (unsigned long long)st.items_sent, (unsigned long long)st.batches_sent,
                (unsigned long long)st.batches_received, (unsigned long long)st.sends_blocked,
                (unsigned long long)st.recvs_blocked, (unsigned long long)st.handoffs,
                (unsigned long long)st.wakeups);
    ferry_rx_release(rx);
    return rc;
}
