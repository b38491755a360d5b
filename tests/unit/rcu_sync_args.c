/* SPDX-License-Identifier: MIT */
/* ferry/rcu_sync.h as a hostile caller uses it: calls on an rs that was
 * never set up (zero-filled) or already finished are -EINVAL (they locked
 * a destroyed -- or never initialized -- mutex), fini twice included; a
 * finished rs can be set up again. */
#include <errno.h>
#include <ferry/rcu_sync.h>
#include <string.h>

#include "test.h"

FERRY_TEST(rcu_sync_zero_filled_and_finished_are_einval)
{
    ferry_rcu_sync rs;
    memset(&rs, 0, sizeof rs);
    CHECK_EQ(ferry_rcu_sync_enter(&rs), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_exit(&rs), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_init(&rs), 0);
    CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
    CHECK(!ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), -EINVAL);   /* twice */
    CHECK_EQ(ferry_rcu_sync_enter(&rs), -EINVAL);  /* after fini */
    CHECK_EQ(ferry_rcu_sync_exit(&rs), -EINVAL);
    CHECK_EQ(ferry_rcu_sync_init_qsbr(&rs), 0);    /* set up again */
    CHECK(ferry_rcu_sync_is_idle(&rs));
    CHECK_EQ(ferry_rcu_sync_exit(&rs), -EPERM);
    CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
}
