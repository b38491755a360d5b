/* liburcu urcu-memb (membarrier flavor) peer for bench/rcu.c. */
#define _LGPL_SOURCE
#define RCU_MEMB
#include <urcu.h>

#define IMPL(x) urcu_memb_bench_##x
#define B_HEAD struct rcu_head
#define B_REG rcu_register_thread
#define B_UNREG rcu_unregister_thread
#define B_LOCK rcu_read_lock
#define B_UNLOCK rcu_read_unlock
#define B_DEREF rcu_dereference
#define B_SYNC synchronize_rcu
#define B_CALL call_rcu
#define B_BARRIER rcu_barrier
#include "rcu_impl.h"

IMPL_TABLE(rcu_bench_urcu_memb, "liburcu-memb");
