/* SPDX-License-Identifier: MIT */
/* ferry_lfht torture against the library as built: see rcuhash_torture.h
 * for the workload and what it checks. */
#include "rcuhash_torture.h"

FERRY_TEST(memb_auto_resize_and_resizer)
{
    run(&memb, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING, 1, 0, true, 25000);
}

FERRY_TEST(memb_chain_resize_and_resizer)
{
    run(&memb, FERRY_LFHT_AUTO_RESIZE, 1, 0, true, 25000);
}

FERRY_TEST(memb_long_chains_fixed_size)
{
    /* 16 buckets for ~1500 nodes: long runs, many collisions. */
    run(&memb, FERRY_LFHT_ACCOUNTING, 16, 16, false, 25000);
}

FERRY_TEST(qsbr_auto_resize_and_resizer)
{
    run(&qsbr, FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING, 1, 0, true, 25000);
}
