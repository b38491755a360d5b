/* SPDX-License-Identifier: MIT */
// moodycamel::ConcurrentQueue (Debian libconcurrentqueue-dev) as a peer. Unbounded.
//  - bench/chan links ferry_peer_moodycamel: bulk calls with producer/consumer
//    tokens, the queue's fastest path, consumers polling (try_dequeue_bulk).
//  - Built with FERRY_PEER_MAIN it is the peer suite's moodycamel binary (the
//    workload of chan_peer.h): BlockingConcurrentQueue, consumers block;
//    batch 1 uses enqueue / wait_dequeue, larger batches enqueue_bulk /
//    wait_dequeue_bulk, all with tokens. The queue has no close: each
//    consumer takes its quota N/C.
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

extern "C" double ferry_peer_moodycamel(int producers, int consumers, size_t n, size_t batch);

// Seconds to move n items from `producers` threads (n / producers each) to
// `consumers` threads (n / consumers each), `batch` items per call.
extern "C" double ferry_peer_moodycamel(int producers, int consumers, size_t n, size_t batch)
{
    moodycamel::ConcurrentQueue<uint64_t> q;
    std::atomic<int> ready(0);
    std::atomic<bool> go(false);
    std::atomic<uint64_t> total(0);
    std::vector<std::thread> ths;
    for (int p = 0; p < producers; p++)
        ths.emplace_back([&, p] {
            moodycamel::ProducerToken tok(q);
            std::vector<uint64_t> buf(batch);
            size_t count = n / (size_t)producers;
            uint64_t base = (uint64_t)p * count;
            ready++;
            while (!go.load(std::memory_order_acquire))
                std::this_thread::yield();
            for (size_t i = 0; i < count;) {
                size_t k = count - i < batch ? count - i : batch;
                for (size_t j = 0; j < k; j++)
                    buf[j] = base + i + j + 1;
                while (!q.enqueue_bulk(tok, buf.data(), k))
                    std::this_thread::yield();
                i += k;
            }
        });
    for (int c = 0; c < consumers; c++)
        ths.emplace_back([&] {
            moodycamel::ConsumerToken tok(q);
            std::vector<uint64_t> buf(batch);
            size_t count = n / (size_t)consumers;
            uint64_t sum = 0;
            ready++;
            while (!go.load(std::memory_order_acquire))
                std::this_thread::yield();
            for (size_t i = 0; i < count;) {
                size_t want = count - i < batch ? count - i : batch;
                size_t got = q.try_dequeue_bulk(tok, buf.data(), want);
                if (got == 0) {
                    std::this_thread::yield(); // 2 cores, up to 8 threads: let producers run
                    continue;
                }
                for (size_t j = 0; j < got; j++)
                    sum += buf[j];
                i += got;
            }
            total += sum;
        });
    while (ready.load() != producers + consumers)
        std::this_thread::yield();
    auto t0 = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    for (auto &t : ths)
        t.join();
    auto t1 = std::chrono::steady_clock::now();
    if (total.load() != (uint64_t)n * (n + 1) / 2) {
        std::fprintf(stderr, "moodycamel peer: checksum mismatch\n");
        std::abort();
    }
    return std::chrono::duration<double>(t1 - t0).count();
}

#ifdef FERRY_PEER_MAIN
#include "chan_peer.h"

namespace {

void mc_produce(void *ctx, int, uint64_t first, uint64_t count, size_t batch)
{
    auto &q = *static_cast<moodycamel::BlockingConcurrentQueue<uint64_t> *>(ctx);
    moodycamel::ProducerToken tok(q);
    uint64_t buf[PEER_MAX_BATCH];
    for (uint64_t i = 0; i < count;) {
        size_t k = count - i < batch ? (size_t)(count - i) : batch;
        bool ok;
        if (k == 1) {
            ok = q.enqueue(tok, first + i);
        } else {
            for (size_t j = 0; j < k; j++)
                buf[j] = first + i + j;
            ok = q.enqueue_bulk(tok, buf, k);
        }
        if (!ok) {
            std::fprintf(stderr, "chan_moodycamel: out of memory\n");
            std::exit(1);
        }
        i += k;
    }
}

void mc_consume(void *ctx, int, size_t batch, uint64_t quota, uint64_t *count, uint64_t *sum)
{
    auto &q = *static_cast<moodycamel::BlockingConcurrentQueue<uint64_t> *>(ctx);
    moodycamel::ConsumerToken tok(q);
    uint64_t buf[PEER_MAX_BATCH], s = 0;
    for (uint64_t i = 0; i < quota;) {
        size_t want = quota - i < batch ? (size_t)(quota - i) : batch;
        if (batch == 1) {
            q.wait_dequeue(tok, buf[0]);
            s += buf[0];
            i++;
            continue;
        }
        size_t got = q.wait_dequeue_bulk(tok, buf, want);
        for (size_t j = 0; j < got; j++)
            s += buf[j];
        i += got;
    }
    *count = quota;
    *sum = s;
}

} // namespace

int main(int argc, char **argv)
{
    struct peer_args a;
    peer_parse(argc, argv, &a);
    moodycamel::BlockingConcurrentQueue<uint64_t> q;
    struct peer_ops ops = {&q, mc_produce, mc_consume, nullptr};
    return peer_run("moodycamel", &a, &ops);
}
#endif
