/* SPDX-License-Identifier: MIT */
/* ferry/rculist.h: the RCU list updates keep the list well formed, readers
 * see entries in order, a removed node still leads readers on, and the
 * traversal is checked to run in a read-side section. */
#include <ferry/rculist.h>
#include <ferry/rcu_qsbr.h>

#include <string.h>

#include "test.h"

struct item {
    int v;
    ferry_list node;
};

static int collect(ferry_list *head, int *out)
{
    int n = 0;
    ferry_rcu_read_lock();
    ferry_list_for_each_entry_rcu(it, head, struct item, node)
        out[n++] = it->v;
    ferry_rcu_read_unlock();
    return n;
}

FERRY_TEST(add_del_replace)
{
    ferry_rcu_register_thread();
    ferry_list head;
    memset(&head, 0, sizeof head);   /* zero-filled head is valid */
    int out[8];
    CHECK_EQ(collect(&head, out), 0);
    struct item a = { 1, { 0 } }, b = { 2, { 0 } }, c = { 3, { 0 } }, d = { 4, { 0 } };
    ferry_list_add_tail_rcu(&head, &b.node);
    ferry_list_add_rcu(&head, &a.node);
    ferry_list_add_tail_rcu(&head, &c.node);
    CHECK_EQ(collect(&head, out), 3);
    CHECK_EQ(out[0], 1);
    CHECK_EQ(out[1], 2);
    CHECK_EQ(out[2], 3);
    CHECK_EQ(ferry_list_count(&head), 3);

    ferry_list_replace_rcu(&b.node, &d.node);
    CHECK_EQ(collect(&head, out), 3);
    CHECK_EQ(out[1], 4);
    /* a reader standing on the replaced node still reaches the rest */
    CHECK_PTR_EQ(b.node.next, &c.node);

    ferry_list_del_rcu(&a.node);
    CHECK_PTR_EQ(a.node.next, &d.node);   /* next kept for readers */
    CHECK_EQ(collect(&head, out), 2);
    CHECK_EQ(out[0], 4);
    CHECK_EQ(out[1], 3);
    ferry_list_del_rcu(&d.node);
    ferry_list_del_rcu(&c.node);
    CHECK_EQ(collect(&head, out), 0);
    CHECK(ferry_list_empty(&head));
    ferry_rcu_unregister_thread();
}

FERRY_TEST(qsbr_reader_traverses)
{
    ferry_qsbr_register_thread();
    ferry_list head = FERRY_LIST_INIT(head);
    struct item a = { 7, { 0 } };
    ferry_list_add_rcu(&head, &a.node);
    int n = 0;
    ferry_qsbr_read_lock();
    ferry_list_for_each_entry_rcu(it, &head, struct item, node)
        n += it->v;
    ferry_qsbr_read_unlock();
    CHECK_EQ(n, 7);
    ferry_qsbr_unregister_thread();
}

FERRY_DEBUG_DEATH_TEST(traversal_outside_read_section_aborts, "ferry_rcu_dereference outside a read-side section")
{
    ferry_list head = FERRY_LIST_INIT(head);
    struct item a = { 7, { 0 } };
    ferry_list_add_rcu(&head, &a.node);
    int n = 0;
    ferry_list_for_each_entry_rcu(it, &head, struct item, node)
        n += it->v;
    CHECK_EQ(n, 7);
}

/* Adding a node that is already linked next to where it goes would link it
 * to itself, and readers would go round it forever: the debug check
 * ferry_list_add makes (list.h) holds for the _rcu adds too. */
FERRY_DEBUG_DEATH_TEST(add_rcu_twice_aborts, "inserted twice")
{
    ferry_list head = FERRY_LIST_INIT(head);
    struct item a = { 1, { 0 } };
    ferry_list_add_rcu(&head, &a.node);
    ferry_list_add_rcu(&head, &a.node);
}

FERRY_DEBUG_DEATH_TEST(add_tail_rcu_twice_aborts, "inserted twice")
{
    ferry_list head = FERRY_LIST_INIT(head);
    struct item a = { 1, { 0 } };
    ferry_list_add_tail_rcu(&head, &a.node);
    ferry_list_add_tail_rcu(&head, &a.node);
}

/* Replacing a node by itself (debug: aborts; the poisoning of the old node
 * used to hit the live one). */
FERRY_DEBUG_DEATH_TEST(replace_rcu_by_itself_aborts, "replaced by itself")
{
    ferry_list head = FERRY_LIST_INIT(head);
    struct item a = { 1, { 0 } }, b = { 2, { 0 } };
    ferry_list_add_tail_rcu(&head, &a.node);
    ferry_list_add_tail_rcu(&head, &b.node);
    ferry_list_replace_rcu(&a.node, &a.node);
    ferry_list_del_rcu(&b.node);
    ferry_list_del_rcu(&a.node);
}
