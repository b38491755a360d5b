/* SPDX-License-Identifier: MIT */
/* The peer suite's ferry select binary, the contract of select_go and
 * select_crossbeam:
 *
 *   select_ferry K CAP N
 *
 * K producers (1..64), each sending N/K 8-byte items, one per call, on its
 * own channel (capacity CAP, or "unbounded"); one consumer receives with
 * ferry_select over the K channels, one item per select, until it has all
 * N (a channel whose producer is done and that is drained -- its case
 * returns 0 -- leaves the select: its handle is set to NULL, as crossbeam's
 * consumer removes it). Producer p sends p*N/K + 1 .. (p+1)*N/K; the count
 * and the sum are checked. The clock runs from the first thread leaving the
 * start barrier to the last one done, each thread reading it itself
 * (bench/peers/chan_peer.h). PEER_PIN as in chan_peer.h ("one": every
 * thread on CPU 0; "split": producers on CPU 0, the consumer on CPU 1;
 * "alt": thread i on CPU i mod 2).
 *
 * With FERRY_PEER_STATS=1 in the environment the channels' statistics,
 * summed, go to stderr after the run.
 *
 * Output, one line on stdout:  RESULT <seconds> <items>
 * Exit status: 0; 2 bad arguments; 3 a wrong count or sum. */
#include <ferry/select.h>

#include "chan_peer.h"

#define MAX_K 64

static struct {
    int k;
    uint64_t n, share;
    ferry_tx *tx[MAX_K];
    ferry_rx *rx[MAX_K];
    pthread_barrier_t start;
    int pin;
    double t0[MAX_K + 1], t1[MAX_K + 1];
    uint64_t count, sum;
} B;

static void die(const char *what, long r)
{
    fprintf(stderr, "select_ferry: %s: %ld\n", what, r);
    exit(1);
}

static void pin_thread(int index, int producer)
{
    if (B.pin)
        peer_pin_to(B.pin == 1 ? 0 : B.pin == 2 ? !producer : index % 2);
}

static void *producer(void *arg)
{
    int p = (int)(intptr_t)arg;
    pin_thread(p, 1);
    pthread_barrier_wait(&B.start);
    B.t0[p] = peer_now();
    uint64_t first = (uint64_t)p * B.share + 1;
    for (uint64_t v = first; v < first + B.share; v++) {
        ssize_t r = ferry_send(B.tx[p], &v, 1);
        if (r != 1)
            die("ferry_send", (long)r);
    }
    ferry_tx_release(B.tx[p]); /* closes its channel: the consumer's case returns 0 once drained */
    B.t1[p] = peer_now();
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    pin_thread(B.k, 0);
    ferry_select_case cs[MAX_K];
    uint64_t v[MAX_K];
    for (int i = 0; i < B.k; i++)
        cs[i] = (ferry_select_case){.op = FERRY_SELECT_RECV, .rx = B.rx[i], .buf = &v[i], .n = 1};
    pthread_barrier_wait(&B.start);
    B.t0[B.k] = peer_now();
    uint64_t count = 0, sum = 0;
    while (count < B.n) {
        int i = ferry_select(cs, (size_t)B.k);
        if (i < 0)
            die("ferry_select", i);
        if (cs[i].result == 1) {
            count++;
            sum += v[i];
        } else if (cs[i].result == 0) {
            cs[i].rx = NULL; /* that producer is done and its channel drained */
        } else {
            die("select case", (long)cs[i].result);
        }
    }
    B.t1[B.k] = peer_now();
    B.count = count;
    B.sum = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t k, cap = 0, n;
    int unbounded = argc == 4 && !strcmp(argv[2], "unbounded");
    if (argc != 4 || peer_parse_u64(argv[1], 1, MAX_K, &k) ||
        (!unbounded && peer_parse_u64(argv[2], 1, (uint64_t)1 << 32, &cap)) ||
        peer_parse_u64(argv[3], 1, (uint64_t)1 << 40, &n) || n < k) {
        fprintf(stderr, "usage: %s K CAP N  (K 1..%d; CAP a capacity >= 1 or 'unbounded'; N >= K)\n", argv[0],
                MAX_K);
        return 2;
    }
    B.k = (int)k;
    B.share = n / k;
    B.n = B.share * k;
    B.pin = peer_pin_mode();
    ferry_chan_config cfg = {.elem_size = sizeof(uint64_t),
                             .capacity = unbounded ? FERRY_UNBOUNDED : (size_t)cap,
                             .name = "select"};
    for (int i = 0; i < B.k; i++) {
        int r = ferry_chan_open(&cfg, &B.tx[i], &B.rx[i]);
        if (r)
            die("ferry_chan_open", r);
    }
    if (pthread_barrier_init(&B.start, NULL, (unsigned)B.k + 2))
        die("pthread_barrier_init", 0);
    pthread_t th[MAX_K + 1];
    for (int i = 0; i <= B.k; i++)
        if (pthread_create(&th[i], NULL, i < B.k ? producer : consumer, (void *)(intptr_t)i))
            die("pthread_create", i);
    pthread_barrier_wait(&B.start);
    for (int i = 0; i <= B.k; i++)
        pthread_join(th[i], NULL);
    double t0 = B.t0[0], t1 = B.t1[0];
    for (int i = 1; i <= B.k; i++) {
        t0 = B.t0[i] < t0 ? B.t0[i] : t0;
        t1 = B.t1[i] > t1 ? B.t1[i] : t1;
    }
    const char *env = getenv("FERRY_PEER_STATS");
    if (env && *env == '1') {
        struct ferry_chan_stats st, sum = {0};
        for (int i = 0; i < B.k; i++) {
            ferry_chan_stats(B.rx[i], &st);
            sum.batches_received += st.batches_received;
            sum.sends_blocked += st.sends_blocked;
            sum.recvs_blocked += st.recvs_blocked;
            sum.handoffs += st.handoffs;
            sum.wakeups += st.wakeups;
        }
        fprintf(stderr, "STATS batches_received=%llu sends_blocked=%llu recvs_blocked=%llu handoffs=%llu wakeups=%llu\n",
                (unsigned long long)sum.batches_received, (unsigned long long)sum.sends_blocked,
                (unsigned long long)sum.recvs_blocked, (unsigned long long)sum.handoffs,
                (unsigned long long)sum.wakeups);
    }
    for (int i = 0; i < B.k; i++)
        ferry_rx_release(B.rx[i]);
    pthread_barrier_destroy(&B.start);
    uint64_t want = B.n % 2 ? (B.n + 1) / 2 * B.n : B.n / 2 * (B.n + 1);
    if (B.count != B.n || B.sum != want) {
        fprintf(stderr, "select_ferry: received %llu items summing to %llu, want %llu summing to %llu\n",
                (unsigned long long)B.count, (unsigned long long)B.sum, (unsigned long long)B.n,
                (unsigned long long)want);
        return 3;
    }
    printf("RESULT %.6f %llu\n", t1 - t0, (unsigned long long)B.n);
    return 0;
}
