/* SPDX-License-Identifier: MIT */
/* liburcu's cds_lfht (urcu-memb flavor) peer for bench/rcuhash.c. */
#define _LGPL_SOURCE
#define RCU_MEMB
#include <urcu.h>
#include <urcu/rculfhash.h>

#define IMPL(x) urcu_lfht_bench_##x
#define H_TABLE struct cds_lfht
#define H_NODE struct cds_lfht_node
#define H_ITER struct cds_lfht_iter
#define H_REG rcu_register_thread
#define H_UNREG rcu_unregister_thread
#define H_LOCK rcu_read_lock
#define H_UNLOCK rcu_read_unlock
#define H_SYNC synchronize_rcu
#define H_NEW() cds_lfht_new(1, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL)
#define H_LOOKUP cds_lfht_lookup
#define H_ITER_NODE cds_lfht_iter_get_node
#define H_ADD_UNIQUE cds_lfht_add_unique
#define H_DEL cds_lfht_del
#define H_RESIZE cds_lfht_resize
#define H_FIRST cds_lfht_first
#define H_NEXT cds_lfht_next
#define H_DESTROY(t) cds_lfht_destroy((t), NULL)
#include "rcuhash_impl.h"

IMPL_TABLE(rcuhash_bench_urcu, "liburcu-cds_lfht");
