/* SPDX-License-Identifier: MIT */
/* liburcu urcu-memb (membarrier flavor) peer for bench/rcu.c. */
#define _LGPL_SOURCE
#define RCU_MEMB
#include <urcu.h>

#define IMPL(x) urcu_memb_bench_##x
#include "peers/rcu_liburcu_names.h"
#include "rcu_impl.h"

IMPL_TABLE(rcu_bench_urcu_memb, "liburcu-memb");
