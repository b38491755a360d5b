/* SPDX-License-Identifier: MIT */
/* ferry/rcu_sync.h as a hostile caller uses it: calls on an rs that was
 * never set up (zero-filled) or already finished are -EINVAL (they locked
 * a destroyed -- or never initialized -- mutex), fini twice included; a
 * finished rs can be set up again; so are calls on memory filled with a
 * byte pattern. */
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

/* Before the fix enter called through the garbage ops pointer (a crash),
 * and exit decremented a garbage count and returned 0. */
FERRY_TEST(rcu_sync_garbage_filled_is_einval)
{
    static const unsigned char patterns[] = { 0xa5, 0xff, 0x01 };
    for (unsigned i = 0; i < sizeof patterns; i++) {
        ferry_rcu_sync rs;
        memset(&rs, patterns[i], sizeof rs);
        CHECK_EQ(ferry_rcu_sync_enter(&rs), -EINVAL);
        CHECK_EQ(ferry_rcu_sync_exit(&rs), -EINVAL);
        CHECK_EQ(ferry_rcu_sync_fini(&rs), -EINVAL);
        CHECK_EQ(ferry_rcu_sync_init(&rs), 0);   /* then it is set up as usual */
        CHECK_EQ(ferry_rcu_sync_enter(&rs), 0);
        CHECK_EQ(ferry_rcu_sync_exit(&rs), 0);
        CHECK_EQ(ferry_rcu_sync_fini(&rs), 0);
    }
}
