/* SPDX-License-Identifier: MIT */
/* ferry/list.h and ferry/waitlist.h: the documented misuse that aborts in
 * every build (the calls tests/unit/list.c and waitlist.c leave out), and
 * zero-filled lists, waiters and wakesets used without initialization. */
#include <ferry/list.h>
#include <ferry/waitlist.h>

#include <string.h>

#include "test.h"

FERRY_DEATH_TEST(del_init_never_linked_aborts, "deleted but it was never linked")
{
    ferry_list n;
    memset(&n, 0, sizeof n);
    ferry_list_del_init(&n);
}

FERRY_DEATH_TEST(replace_never_linked_aborts, "deleted but it was never linked")
{
    ferry_list old, node;
    memset(&old, 0, sizeof old);
    ferry_list_replace(&old, &node);
}

/* del_init leaves a self-linked node: deleting it again is a no-op. */
FERRY_TEST(del_init_twice_is_a_noop)
{
    ferry_list h = {0}, n;
    ferry_list_add_tail(&h, &n);
    ferry_list_del_init(&n);
    ferry_list_del_init(&n);
    ferry_list_del(&n);
    CHECK(ferry_list_empty(&h));
    CHECK(ferry_list_first(&h) == NULL);
    CHECK(ferry_list_last(&h) == NULL);
}

static int woken;
static void wake_count(ferry_waiter *w)
{
    (void)w;
    woken++;
}

FERRY_DEATH_TEST(move_unlinked_waiter_aborts, "give up a waiter that is not linked on it")
{
    static ferry_waitlist wl;
    static ferry_wakeset ws;
    ferry_waiter w;
    ferry_waiter_init(&w, wake_count);
    ferry_waitlist_move(&wl, &w, &ws);
}

FERRY_DEATH_TEST(move_waiter_of_other_list_aborts, "waitlist 'b'")
{
    ferry_waitlist a, b;
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    ferry_waiter w;
    ferry_waitlist_init(&a, "a");
    ferry_waitlist_init(&b, "b");
    ferry_waiter_init(&w, wake_count);
    ferry_waitlist_link(&a, &w);
    ferry_waitlist_move(&b, &w, &ws);
}

FERRY_DEATH_TEST(link_taken_waiter_aborts, "already linked")
{
    ferry_waitlist wl;
    ferry_wakeset ws = FERRY_WAKESET_INIT;
    ferry_waiter w;
    ferry_waitlist_init(&wl, "wl");
    ferry_waiter_init(&w, wake_count);
    ferry_waitlist_link(&wl, &w);
    CHECK_EQ(ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 1), 1);
    ferry_waitlist_link(&wl, &w); /* taken, not yet woken */
}

/* Zero-filled list, waiters and wakeset work without any init call; a take
 * of 0 takes nothing; unlinking an unlinked waiter is false. */
FERRY_TEST(zero_filled_waitlist_waiters_wakeset)
{
    static ferry_waitlist wl;
    static ferry_wakeset ws;
    static ferry_waiter w[3];
    for (int i = 0; i < 3; i++)
        w[i].wake = wake_count;
    CHECK(!ferry_waitlist_unlink(&wl, &w[0]));
    for (int i = 0; i < 3; i++)
        ferry_waitlist_link(&wl, &w[i]);
    CHECK_EQ(ferry_waitlist_len(&wl), 3);
    CHECK_EQ(ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, 0), 0);
    CHECK(ferry_waitlist_unlink(&wl, &w[1]));
    CHECK(!ferry_waitlist_unlink(&wl, &w[1]));
    CHECK_EQ(ferry_waitlist_take(&wl, FERRY_ROUND_ALL, &ws, SIZE_MAX), 2);
    CHECK(ferry_waitlist_empty(&wl));
    CHECK(!ferry_waitlist_unlink(&wl, &w[0])); /* taken: left alone */
    woken = 0;
    ferry_wakeset_wake(&ws);
    CHECK_EQ(woken, 2);
    for (int i = 0; i < 3; i++)
        ferry_waiter_fini(&w[i]);
    ferry_waitlist_fini(&wl);
}
