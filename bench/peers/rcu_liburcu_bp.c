/* SPDX-License-Identifier: MIT */
/* liburcu urcu-bp ("bulletproof": no registration) peer for bench/rcu.c. */
#define _LGPL_SOURCE
#include <urcu-bp.h>

#define IMPL(x) urcu_bp_bench_##x
#include "peers/rcu_liburcu_names.h"
#include "rcu_impl.h"

IMPL_TABLE(rcu_bench_urcu_bp, "liburcu-bp");
