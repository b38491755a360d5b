/* SPDX-License-Identifier: MIT */
/* ferry/hlist.h: one-pointer-head lists keep their order and links through
 * every operation; misuse aborts. */
#include <ferry/hlist.h>

#include <string.h>

#include "test.h"

struct item {
    int v;
    ferry_hlist_node node;
};

/* The values in order, and check every pprev points at its pointer. */
static int collect(ferry_hlist_head *head, int *out)
{
    int n = 0;
    ferry_hlist_node **pp = &head->first;
    ferry_hlist_for_each(pos, head) {
        CHECK_PTR_EQ(pos->pprev, pp);
        pp = &pos->next;
        out[n++] = ferry_hlist_entry(pos, struct item, node)->v;
    }
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

FERRY_TEST(zero_filled_head_and_node_are_valid)
{
    ferry_hlist_head head;
    memset(&head, 0, sizeof head);
    struct item a;
    memset(&a, 0, sizeof a);
    CHECK(ferry_hlist_empty(&head));
    CHECK(ferry_hlist_unhashed(&a.node));
    CHECK_EQ(ferry_hlist_count(&head), 0);
    ferry_hlist_head h2 = FERRY_HLIST_HEAD_INIT;
    CHECK(ferry_hlist_empty(&h2));
    ferry_hlist_head_init(&h2);
    CHECK(ferry_hlist_empty(&h2));
}

FERRY_TEST(add_head_before_behind_keep_order)
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } }, b = { 2, { 0 } }, c = { 3, { 0 } }, d = { 4, { 0 } }, e = { 5, { 0 } };
    ferry_hlist_add_head(&head, &c.node);
    ferry_hlist_add_head(&head, &a.node);
    CHECK_ORDER(&head, 1, 3);
    ferry_hlist_add_behind(&b.node, &a.node);
    CHECK_ORDER(&head, 1, 2, 3);
    ferry_hlist_add_behind(&e.node, &c.node);   /* at the end */
    CHECK_ORDER(&head, 1, 2, 3, 5);
    ferry_hlist_add_before(&d.node, &e.node);
    CHECK_ORDER(&head, 1, 2, 3, 4, 5);
    struct item z = { 0, { 0 } };
    ferry_hlist_add_before(&z.node, &a.node);  /* before the first */
    CHECK_ORDER(&head, 0, 1, 2, 3, 4, 5);
    CHECK_EQ(ferry_hlist_count(&head), 6);
    CHECK(!ferry_hlist_unhashed(&z.node));
}

FERRY_TEST(del_first_middle_last)
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item it[5];
    for (int i = 4; i >= 0; i--) {
        it[i].v = i;
        ferry_hlist_add_head(&head, &it[i].node);
    }
    ferry_hlist_del(&it[0].node);
    CHECK_ORDER(&head, 1, 2, 3, 4);
    ferry_hlist_del(&it[2].node);
    CHECK_ORDER(&head, 1, 3, 4);
    ferry_hlist_del_init(&it[4].node);
    CHECK(ferry_hlist_unhashed(&it[4].node));
    CHECK_ORDER(&head, 1, 3);
    ferry_hlist_del(&it[1].node);
    ferry_hlist_del(&it[3].node);
    CHECK(ferry_hlist_empty(&head));
    /* A node removed with del_init may be added again. */
    ferry_hlist_add_head(&head, &it[4].node);
    CHECK_ORDER(&head, 4);
}

FERRY_TEST(safe_iteration_may_delete_current)
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item it[6];
    for (int i = 5; i >= 0; i--) {
        it[i].v = i;
        ferry_hlist_add_head(&head, &it[i].node);
    }
    ferry_hlist_for_each_safe(pos, &head)
        if (ferry_hlist_entry(pos, struct item, node)->v % 2)
            ferry_hlist_del(pos);
    CHECK_ORDER(&head, 0, 2, 4);
    ferry_hlist_for_each_entry_safe(x, &head, struct item, node)
        if (x->v == 2)
            ferry_hlist_del_init(&x->node);
    CHECK_ORDER(&head, 0, 4);
    int sum = 0;
    ferry_hlist_for_each_entry(x, &head, struct item, node)
        sum += x->v;
    CHECK_EQ(sum, 4);
    ferry_hlist_head empty = FERRY_HLIST_HEAD_INIT;
    ferry_hlist_for_each_entry_safe(x, &empty, struct item, node)
        CHECK(x == NULL);   /* never runs */
}

FERRY_TEST(move_list_fixes_the_first_pprev)
{
    ferry_hlist_head from = FERRY_HLIST_HEAD_INIT, to = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } }, b = { 2, { 0 } };
    ferry_hlist_add_head(&from, &b.node);
    ferry_hlist_add_head(&from, &a.node);
    ferry_hlist_move_list(&from, &to);
    CHECK(ferry_hlist_empty(&from));
    CHECK_ORDER(&to, 1, 2);
    ferry_hlist_del(&a.node);   /* pprev must point into `to` now */
    CHECK_ORDER(&to, 2);
    ferry_hlist_move_list(&from, &to);   /* empty into non-empty: empties it */
    CHECK(ferry_hlist_empty(&to));
}

FERRY_TEST(entry_safe_is_null_for_null)
{
    ferry_hlist_node *none = NULL;
    CHECK(ferry_hlist_entry_safe(none, struct item, node) == NULL);
    struct item a = { 7, { 0 } };
    ferry_hlist_node *n = &a.node;
    CHECK(ferry_hlist_entry_safe(n, struct item, node) == &a);
}

FERRY_DEATH_TEST(del_never_linked_aborts, "is not on a list")
{
    struct item a;
    memset(&a, 0, sizeof a);
    ferry_hlist_del(&a.node);
}

FERRY_DEATH_TEST(del_after_del_init_aborts, "is not on a list")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head(&head, &a.node);
    ferry_hlist_del_init(&a.node);
    ferry_hlist_del(&a.node);
}

FERRY_DEATH_TEST(add_before_unlinked_aborts, "is not on a list")
{
    struct item a = { 1, { 0 } }, b = { 2, { 0 } };
    ferry_hlist_add_before(&a.node, &b.node);
}

/* The same for add_behind next to a node on no list, and for del_init of
 * a node on no list (hlist.h: deleting a node that is not linked aborts). */
FERRY_DEATH_TEST(add_behind_unlinked_aborts, "is not on a list")
{
    struct item a = { 1, { 0 } }, b = { 2, { 0 } };
    ferry_hlist_add_behind(&a.node, &b.node);
}

FERRY_DEATH_TEST(del_init_never_linked_aborts, "is not on a list")
{
    struct item a = { 1, { 0 } };
    ferry_hlist_del_init(&a.node);
}

FERRY_DEBUG_DEATH_TEST(del_twice_aborts, "deleted twice")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head(&head, &a.node);
    ferry_hlist_del(&a.node);
    ferry_hlist_del(&a.node);
}

/* Adding the first node again, or a node before / behind itself, links it
 * to itself: a traversal would go round it forever (debug check). */
FERRY_DEBUG_DEATH_TEST(add_head_twice_aborts, "inserted twice")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head(&head, &a.node);
    ferry_hlist_add_head(&head, &a.node);
}

FERRY_DEBUG_DEATH_TEST(add_before_itself_aborts, "inserted twice")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } }, b = { 2, { 0 } };
    ferry_hlist_add_head(&head, &b.node);
    ferry_hlist_add_before(&a.node, &b.node);
    ferry_hlist_add_before(&a.node, &b.node); /* a is already right before b */
}

FERRY_DEBUG_DEATH_TEST(add_behind_itself_aborts, "inserted twice")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } };
    ferry_hlist_add_head(&head, &a.node);
    ferry_hlist_add_behind(&a.node, &a.node);
}

FERRY_DEBUG_DEATH_TEST(corrupted_link_aborts, "does not point to it")
{
    ferry_hlist_head head = FERRY_HLIST_HEAD_INIT;
    struct item a = { 1, { 0 } }, b = { 2, { 0 } };
    ferry_hlist_add_head(&head, &a.node);
    ferry_hlist_add_head(&head, &b.node);
    head.first = &a.node;   /* b's pprev now points at a stale pointer */
    ferry_hlist_del(&b.node);
}
