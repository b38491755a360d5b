/* SPDX-License-Identifier: MIT */
/* ferry/rculist.h, hlist half: the _rcu updates keep the list well formed,
 * readers see entries in order, a removed or replaced node still leads
 * readers on, and traversal is checked to run in a read-side section. */
#include <ferry/rculist.h>
#include <ferry/rcu_qsbr.h>

#include <string.h>

#include "test.h"

struct item {
    int v;
    ferry_hlist_node node;
};

static int collect(ferry_hlist_head *head, int *out)
{
    int n = 0;
    ferry_rcu_read_lock();
    ferry_hlist_for_each_entry_rcu(it, head, struct item, node)
        out[n++] = it->v;
    ferry_rcu_read_unlock();
    return n;
}

#define CHECK_ORDER(head, ...)                                         \
    do {                                                               \
        int want_[] = { __VA_ARGS__ }, got_[16];                       \
        int n_ = collect((head), got_);                                \
        CHECK_EQ(n_, (int)(sizeof want_ / sizeof *want_));             \
        for (int i_ = 0; i_ < n_; i_++)                                \
            CHECK_EQ(got_[i_], want_[i_]);                             \
    } while (0)

FERRY_TEST(add_del_replace_rcu)
{
    ferry_rcu_register_thread();
    ferry_hlist_head head;
    memset(&head, 0, sizeof head);
    int out[8];
    CHECK_EQ(collect(&head, out), 0);
    struct item a = { 1, { 0 } }, b = { 2, { 0 } }, c = { 3, { 0 } }, d = { 4, { 0 } }, e = { 5, { 0 } };
    ferry_hlist_add_head_rcu(&head, &c.node);
    ferry_hlist_add_head_rcu(&head, &a.node);
    ferry_hlist_add_behind_rcu(&b.node, &a.node);
    ferry_hlist_add_behind_rcu(&e.node, &c.node);
    ferry_hlist_add_before_rcu(&d.node, &e.node);
    CHECK_ORDER(&head, 1, 2, 3, 4, 5);
    CHECK_EQ(ferry_hlist_count(&head), 5);

    /* replace: readers standing on the old node still reach the rest */
    struct item b2 = { 20, { 0 } };
    ferry_hlist_replace_rcu(&b.node, &b2.node);
    CHECK_ORDER(&head, 1, 20, 3, 4, 5);
    CHECK_PTR_EQ(b.node.next, &c.node);

    /* del keeps next for readers; del_init marks the node unhashed */
    ferry_hlist_del_rcu(&a.node);
    CHECK_PTR_EQ(a.node.next, &b2.node);
    CHECK_ORDER(&head, 20, 3, 4, 5);
    ferry_hlist_del_init_rcu(&e.node);
    CHECK(ferry_hlist_unhashed(&e.node));
    CHECK_ORDER(&head, 20, 3, 4);
    ferry_hlist_del_rcu(&c.node);
    CHECK_PTR_EQ(c.node.next, &d.node);
    CHECK_ORDER(&head, 20, 4);
    ferry_hlist_replace_rcu(&b2.node, &b.node);   /* replace the first */
    CHECK_ORDER(&head, 2, 4);
    ferry_hlist_del_rcu(&b.node);
    ferry_hlist_del_rcu(&d.node);
    CHECK(ferry_hlist_empty(&head));
    /* e (del_init) may go back after a grace period */
    ferry_rcu_synchronize();
    ferry_hlist_add_head_rcu(&head, &e.node);
    CHECK_ORDER(&head, 5);
    int n = 0;
    ferry_rcu_read_lock();
    ferry_hlist_for_each_rcu(pos, &head)
        n += ferry_hlist_entry(pos, struct item, node)->v;
    ferry_rcu_read_unlock();
    CHECK_EQ(n, 5);
    ferry_rcu_unregister_thread();
}

FERRY_TEST(qsbr_reader_traverses)
{
    ferry_qsbr_register_thread();
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 7, { 0 } }, b = { 8, { 0 } };
    ferry_hlist_add_head_rcu(&head, &a.node);
    ferry_hlist_add_head_rcu(&head, &b.node);
    int n = 0;
    ferry_qsbr_read_lock();
    ferry_hlist_for_each_entry_rcu(it, &head, struct item, node)
        n = n * 10 + it->v;
    ferry_qsbr_read_unlock();
    CHECK_EQ(n, 87);
    ferry_qsbr_unregister_thread();
}

FERRY_DEATH_TEST(del_rcu_unlinked_aborts, "is not on a list")
{
    struct item a;
    memset(&a, 0, sizeof a);
    ferry_hlist_del_rcu(&a.node);
}

FERRY_DEBUG_DEATH_TEST(del_rcu_twice_aborts, "deleted twice")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head_rcu(&head, &a.node);
    ferry_hlist_del_rcu(&a.node);
    ferry_hlist_del_rcu(&a.node);
}

FERRY_DEBUG_DEATH_TEST(hlist_traversal_outside_read_section_aborts,
                       "ferry_rcu_dereference outside a read-side section")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 7, { 0 } };
    ferry_hlist_add_head_rcu(&head, &a.node);
    int n = 0;
    ferry_hlist_for_each_entry_rcu(it, &head, struct item, node)
        n += it->v;
    CHECK_EQ(n, 7);
}

/* Adding the first node again, or a node before / behind itself, would link
 * it to itself and readers would go round it forever (debug check). */
FERRY_DEBUG_DEATH_TEST(add_head_rcu_twice_aborts, "inserted twice")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head_rcu(&head, &a.node);
    ferry_hlist_add_head_rcu(&head, &a.node);
}

FERRY_DEBUG_DEATH_TEST(add_behind_rcu_itself_aborts, "inserted twice")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head_rcu(&head, &a.node);
    ferry_hlist_add_behind_rcu(&a.node, &a.node);
}

/* Replacing a node by itself (debug: aborts; the poisoning of the old node
 * used to hit the live one, and its delete then took it for deleted). */
FERRY_DEBUG_DEATH_TEST(replace_rcu_by_itself_aborts, "replaced by itself")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head_rcu(&head, &a.node);
    ferry_hlist_replace_rcu(&a.node, &a.node);
    ferry_hlist_del_rcu(&a.node);
}
