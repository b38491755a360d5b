/* SPDX-License-Identifier: MIT */
/* bench/rt peers: each runs the same SPSC workload as bench/rt.c's ferry
 * case (n 8-byte items, producer thread to consumer thread, batches of
 * `batch`, ring of `cap` slots) and returns the seconds it took, or a
 * negative value when the consumer's checksum is wrong. */
#ifndef FERRY_BENCH_RT_PEERS_H
#define FERRY_BENCH_RT_PEERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

double rt_peer_ck_ring(size_t n, size_t batch, size_t cap);
double rt_peer_boost_spsc(size_t n, size_t batch, size_t cap);

/* Shared by all implementations (bench/rt.c). */
double rt_now(void);
void rt_backoff(unsigned *spins);     /* pause, then sched_yield */
uint64_t rt_expected_sum(size_t n);   /* sum of 1..n */
/* Pin the calling thread: role 0 = consumer (CPU 0), 1 = producer (CPU 1),
 * when the machine has two CPUs or more and pinning is on (--no-pin). */
void rt_pin(int role);

#ifdef __cplusplus
}
#endif

#endif
