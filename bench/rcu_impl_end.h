/* SPDX-License-Identifier: MIT */
/* After an instance of bench/rcu_impl.h in bench/rcu.c: forget the names
 * that differ between ferry's flavors, so that the next instance can define
 * its own. */
#undef IMPL
#undef B_REG
#undef B_UNREG
#undef B_LOCK
#undef B_UNLOCK
#undef B_SYNC
#undef B_CALL
#undef B_BARRIER
#undef B_CPU_WORKERS
#undef IMPL_IS_QSBR
#undef IMPL_TABLE
