/* SPDX-License-Identifier: MIT */
// Boost.Lockfree's spsc_queue (run-time capacity) on bench/rt's workload,
// with its batch push(const T *, n) and pop(T *, n).
#include <boost/lockfree/spsc_queue.hpp>
#include <pthread.h>
#include <vector>

#include "rt_peers.h"

namespace {
struct boost_ctx {
    boost::lockfree::spsc_queue<uint64_t> q;
    size_t n, batch;
    explicit boost_ctx(size_t cap) : q(cap), n(0), batch(0) {}
};

void *boost_producer(void *arg)
{
    boost_ctx *c = static_cast<boost_ctx *>(arg);
    rt_pin(1);
    std::vector<uint64_t> items(c->batch);
    uint64_t v = 1;
    unsigned spins = 0;
    if (c->batch == 1) {   // one at a time: the single-item push
        while (v <= c->n) {
            if (c->q.push(v)) {
                v++;
                spins = 0;
            } else {
                rt_backoff(&spins);
            }
        }
    }
    while (v <= c->n) {
        size_t k = c->batch;
        if (k > c->n - v + 1)
            k = c->n - v + 1;
        for (size_t i = 0; i < k; i++)
            items[i] = v + i;
        for (size_t done = 0; done < k;) {
            size_t m = c->q.push(items.data() + done, k - done);
            if (m == 0) {
                rt_backoff(&spins);
            } else {
                spins = 0;
                done += m;
            }
        }
        v += k;
    }
    return nullptr;
}
}  // namespace

extern "C" double rt_peer_boost_spsc(size_t n, size_t batch, size_t cap)
{
    boost_ctx c(cap);
    c.n = n;
    c.batch = batch;
    std::vector<uint64_t> out(batch);
    rt_pin(0);
    double t0 = rt_now();
    pthread_t t;
    pthread_create(&t, nullptr, boost_producer, &c);
    uint64_t sum = 0;
    size_t got = 0;
    unsigned spins = 0;
    while (got < n) {
        size_t k;
        if (batch == 1)   // the single-item pop
            k = c.q.pop(out[0]) ? 1 : 0;
        else
            k = c.q.pop(out.data(), batch);
        if (k == 0) {
            rt_backoff(&spins);
            continue;
        }
        spins = 0;
        for (size_t i = 0; i < k; i++)
            sum += out[i];
        got += k;
    }
    pthread_join(t, nullptr);
    double dt = rt_now() - t0;
    return sum == rt_expected_sum(n) ? dt : -1;
}
