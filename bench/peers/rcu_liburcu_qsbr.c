/* SPDX-License-Identifier: MIT */
/* liburcu urcu-qsbr peer for bench/rcu.c. */
#define _LGPL_SOURCE
#include <urcu-qsbr.h>

#define IMPL(x) urcu_qsbr_bench_##x
#define B_QSBR 1
#define B_QS rcu_quiescent_state
#define B_OFFLINE rcu_thread_offline
#define B_ONLINE rcu_thread_online
#include "peers/rcu_liburcu_names.h"
#include "rcu_impl.h"

IMPL_TABLE(rcu_bench_urcu_qsbr, "liburcu-qsbr");
