/* SPDX-License-Identifier: MIT */
/* liburcu's generic names (mapped to the flavor by the header included
 * before this one) for bench/rcu_impl.h. */
#define B_HEAD struct rcu_head
#define B_REG rcu_register_thread
#define B_UNREG rcu_unregister_thread
#define B_LOCK rcu_read_lock
#define B_UNLOCK rcu_read_unlock
#define B_DEREF rcu_dereference
#define B_XCHG(pp, v) rcu_xchg_pointer(pp, v)
#define B_SYNC synchronize_rcu
#define B_CALL call_rcu
#define B_BARRIER rcu_barrier
#define B_CPU_WORKERS() create_all_cpu_call_rcu_data(0)
