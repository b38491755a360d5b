/* SPDX-License-Identifier: MIT */
/* The workload interface of bench/rcu.c: one table per RCU implementation
 * (ferry's two flavors in bench/rcu.c, liburcu's urcu-memb and urcu-qsbr in
 * bench/peers/rcu_liburcu_*.c), each compiled in its own translation unit
 * with its read side inlined. */
#ifndef FERRY_BENCH_RCU_H
#define FERRY_BENCH_RCU_H

#include <stdatomic.h>
#include <stdbool.h>

struct rcu_bench_impl {
    const char *name;
    bool qsbr;
    void (*reg)(void);
    void (*unreg)(void);
    /* n read sections, each dereferencing a shared pointer; QSBR
     * implementations announce a quiescent state every 256 sections.
     * Returns a checksum. */
    unsigned long (*read_loop)(unsigned long n);
    /* Read sections until *stop; returns how many. */
    unsigned long (*read_until)(atomic_int *stop);
    void (*sync)(void);
    /* Queue n callbacks (the implementation owns the heads). */
    void (*call_n)(unsigned long n);
    void (*barrier)(void);
    void (*offline)(void);
    void (*online)(void);
};

extern const struct rcu_bench_impl rcu_bench_urcu_memb, rcu_bench_urcu_qsbr;

#endif
