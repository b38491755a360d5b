/* liburcu urcu-qsbr peer for bench/rcu.c. */
#define _LGPL_SOURCE
#include <urcu-qsbr.h>

#define IMPL(x) urcu_qsbr_bench_##x
#define B_HEAD struct rcu_head
#define B_REG rcu_register_thread
#define B_UNREG rcu_unregister_thread
#define B_LOCK rcu_read_lock
#define B_UNLOCK rcu_read_unlock
#define B_DEREF rcu_dereference
#define B_SYNC synchronize_rcu
#define B_CALL call_rcu
#define B_BARRIER rcu_barrier
#define B_QSBR 1
#define B_QS rcu_quiescent_state
#define B_OFFLINE rcu_thread_offline
#define B_ONLINE rcu_thread_online
#include "rcu_impl.h"

IMPL_TABLE(rcu_bench_urcu_qsbr, "liburcu-qsbr");
