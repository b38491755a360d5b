/* SPDX-License-Identifier: MIT */
/* ferry/list.h: every operation, zero-filled heads, moving an empty head,
 * and the misuse checks. */
#include <ferry/list.h>
#include <string.h>

#include "test.h"

typedef struct item {
    int v;
    ferry_list node;
} item;

static void fill(ferry_list *head, item *items, int n)
{
    for (int i = 0; i < n; i++) {
        items[i].v = i;
        ferry_list_add_tail(head, &items[i].node);
    }
}

static void check_order(const ferry_list *head, const int *want, int n)
{
    int i = 0;
    ferry_list_for_each_entry(it, head, item, node) {
        CHECK(i < n);
        CHECK_EQ(it->v, want[i]);
        i++;
    }
    CHECK_EQ(i, n);
    CHECK_EQ(ferry_list_count(head), n);
    /* Backwards too: prev pointers are consistent. */
    if (n > 0) {
        const ferry_list *p = head->prev;
        for (int j = n - 1; j >= 0; j--, p = p->prev)
            CHECK_EQ(ferry_list_entry(p, item, node)->v, want[j]);
        CHECK_PTR_EQ(p, head);
    }
}

FERRY_TEST(zero_filled_head_is_empty)
{
    ferry_list head;
    memset(&head, 0, sizeof head);
    CHECK(ferry_list_empty(&head));
    CHECK_EQ(ferry_list_count(&head), 0);
    CHECK(ferry_list_first(&head) == NULL);
    CHECK(ferry_list_last(&head) == NULL);
    CHECK(ferry_list_pop(&head) == NULL);
    int visited = 0;
    ferry_list_for_each(p, &head) visited++;
    ferry_list_for_each_safe(p, &head) visited++;
    ferry_list_for_each_entry(it, &head, item, node) visited++;
    CHECK_EQ(visited, 0);
    /* Reading it did not write it. */
    CHECK(head.next == NULL && head.prev == NULL);
}

FERRY_TEST(zero_filled_head_moves_until_first_use)
{
    struct holder { int x; ferry_list head; } a = {0}, b;
    memcpy(&b, &a, sizeof a);   /* moved while empty and unused */
    memset(&a, 0xff, sizeof a); /* the old place is garbage now */
    item it[3];
    fill(&b.head, it, 3);       /* first use self-links at the new place */
    int want[] = {0, 1, 2};
    check_order(&b.head, want, 3);
    CHECK_PTR_EQ(it[0].node.prev, &b.head);
    CHECK_PTR_EQ(it[2].node.next, &b.head);
}

FERRY_TEST(static_initializer)
{
    static ferry_list head = FERRY_LIST_INIT(head);
    CHECK(ferry_list_empty(&head));
    item it;
    it.v = 7;
    ferry_list_add(&head, &it.node);
    CHECK_EQ(ferry_list_count(&head), 1);
    ferry_list_del(&it.node);
    CHECK(ferry_list_empty(&head));
}

FERRY_TEST(add_is_lifo_add_tail_is_fifo)
{
    ferry_list a = {0}, b = {0};
    item x[4], y[4];
    for (int i = 0; i < 4; i++) {
        x[i].v = y[i].v = i;
        ferry_list_add(&a, &x[i].node);
        ferry_list_add_tail(&b, &y[i].node);
    }
    int lifo[] = {3, 2, 1, 0}, fifo[] = {0, 1, 2, 3};
    check_order(&a, lifo, 4);
    check_order(&b, fifo, 4);
    CHECK_PTR_EQ(ferry_list_first(&b), &y[0].node);
    CHECK_PTR_EQ(ferry_list_last(&b), &y[3].node);
}

FERRY_TEST(del_middle_head_tail)
{
    ferry_list h = {0};
    item it[5];
    fill(&h, it, 5);
    ferry_list_del(&it[2].node);
    int w1[] = {0, 1, 3, 4};
    check_order(&h, w1, 4);
    ferry_list_del(&it[0].node);
    ferry_list_del(&it[4].node);
    int w2[] = {1, 3};
    check_order(&h, w2, 2);
    ferry_list_del(&it[1].node);
    ferry_list_del(&it[3].node);
    CHECK(ferry_list_empty(&h));
}

FERRY_TEST(del_init_leaves_node_reusable)
{
    ferry_list h = {0};
    item it[2];
    fill(&h, it, 2);
    ferry_list_del_init(&it[0].node);
    CHECK(!ferry_list_linked(&it[0].node));
    CHECK(ferry_list_empty(&it[0].node));
    ferry_list_del_init(&it[0].node); /* deleting a self-linked node is a no-op */
    int w[] = {1};
    check_order(&h, w, 1);
    ferry_list_add_tail(&h, &it[0].node);
    int w2[] = {1, 0};
    check_order(&h, w2, 2);
}

/* ferry_list_linked in each state list.h names: a zero-filled node, a
 * self-linked one, a linked one (first, middle, last, and alone), one
 * removed by del_init or by pop, and (debug builds, where it is poisoned)
 * one removed by del. A head is not "linked", whether empty or not. */
FERRY_TEST(linked_in_each_state)
{
    ferry_list h = {0};
    item it[3];
    memset(it, 0, sizeof it);
    CHECK(!ferry_list_linked(&it[0].node));   /* zero-filled */
    CHECK(!ferry_list_linked(&h));
    ferry_list_init(&it[0].node);
    CHECK(!ferry_list_linked(&it[0].node));   /* self-linked */
    ferry_list_add_tail(&h, &it[0].node);
    CHECK(ferry_list_linked(&it[0].node));    /* alone */
    ferry_list_add_tail(&h, &it[1].node);
    ferry_list_add_tail(&h, &it[2].node);
    for (int i = 0; i < 3; i++)
        CHECK(ferry_list_linked(&it[i].node));
    ferry_list_del_init(&it[1].node);
    CHECK(!ferry_list_linked(&it[1].node));
    CHECK_PTR_EQ(ferry_list_pop(&h), &it[0].node);
#ifdef FERRY_DEBUG
    CHECK(!ferry_list_linked(&it[0].node));   /* poisoned */
#endif
    ferry_list_del(&it[2].node);
#ifdef FERRY_DEBUG
    CHECK(!ferry_list_linked(&it[2].node));
#endif
    CHECK(ferry_list_empty(&h));
    CHECK(!ferry_list_linked(&h));
}

FERRY_TEST(pop_returns_first)
{
    ferry_list h = {0};
    item it[3];
    fill(&h, it, 3);
    for (int i = 0; i < 3; i++) {
        ferry_list *n = ferry_list_pop(&h);
        CHECK(n != NULL);
        CHECK_EQ(ferry_list_entry(n, item, node)->v, i);
    }
    CHECK(ferry_list_pop(&h) == NULL);
}

FERRY_TEST(replace_keeps_position)
{
    ferry_list h = {0};
    item it[3], r = {.v = 9};
    fill(&h, it, 3);
    ferry_list_replace(&it[1].node, &r.node);
    int w[] = {0, 9, 2};
    check_order(&h, w, 3);
}

FERRY_TEST(move_tail_and_splice)
{
    ferry_list a = {0}, b = {0};
    item x[3], y[2];
    fill(&a, x, 3);
    fill(&b, y, 2);
    y[0].v = 10;
    y[1].v = 11;
    ferry_list_move_tail(&a, &x[0].node);
    int w1[] = {1, 2, 0};
    check_order(&a, w1, 3);
    ferry_list_splice_tail(&a, &b);
    int w2[] = {1, 2, 0, 10, 11};
    check_order(&a, w2, 5);
    CHECK(ferry_list_empty(&b));
    ferry_list_splice_tail(&a, &b); /* splicing an empty list changes nothing */
    check_order(&a, w2, 5);
    ferry_list c = {0};               /* into a zero-filled head */
    ferry_list_splice_tail(&c, &a);
    check_order(&c, w2, 5);
    CHECK(ferry_list_empty(&a));
}

/* Splicing a list onto its own tail leaves it as it was (every node, in
 * order); it used to empty the head and leave the nodes in a headless,
 * half-linked ring. An empty or zero-filled list onto itself too. */
FERRY_TEST(splice_onto_itself_keeps_the_list)
{
    ferry_list h = {0};
    item it[3];
    ferry_list_splice_tail(&h, &h);
    CHECK(ferry_list_empty(&h));
    fill(&h, it, 3);
    ferry_list_splice_tail(&h, &h);
    int w[] = {0, 1, 2};
    check_order(&h, w, 3);
    ferry_list_del(&it[1].node);
    int w2[] = {0, 2};
    check_order(&h, w2, 2);
}

FERRY_TEST(for_each_safe_may_delete_current)
{
    ferry_list h = {0};
    item it[6];
    fill(&h, it, 6);
    ferry_list_for_each_safe(p, &h) {
        if (ferry_list_entry(p, item, node)->v % 2 == 0)
            ferry_list_del(p);
    }
    int w[] = {1, 3, 5};
    check_order(&h, w, 3);
}

FERRY_TEST(container_of_recovers_struct)
{
    item it = {.v = 42};
    ferry_list *n = &it.node;
    CHECK_PTR_EQ(ferry_container_of(n, item, node), &it);
}

FERRY_DEATH_TEST(del_never_linked_aborts, "deleted but it was never linked")
{
    item it;
    memset(&it, 0, sizeof it);
    ferry_list_del(&it.node);
}

FERRY_DEBUG_DEATH_TEST(del_twice_aborts, "deleted twice (it is poisoned)")
{
    ferry_list h = {0};
    item it[2];
    fill(&h, it, 2);
    ferry_list_del(&it[0].node);
    CHECK(it[0].node.next == FERRY_LIST_POISON_NEXT);
    ferry_list_del(&it[0].node);
}

FERRY_DEBUG_DEATH_TEST(corrupted_neighbours_abort, "do not point back")
{
    ferry_list h = {0};
    item it[3];
    fill(&h, it, 3);
    it[2].node.prev = &h; /* corrupt */
    ferry_list_del(&it[1].node);
}

FERRY_DEBUG_DEATH_TEST(insert_twice_aborts, "inserted twice")
{
    ferry_list h = {0};
    item it;
    ferry_list_add_tail(&h, &it.node);
    ferry_list_add_tail(&h, &it.node);
}

/* Replacing a node by itself: release builds leave the list as it was, but
 * the debug poisoning of the old node hit the live one, and the next walk
 * followed the poison. FERRY_DEBUG aborts at the replace instead. */
FERRY_DEBUG_DEATH_TEST(replace_by_itself_aborts, "replaced by itself")
{
    ferry_list h = {0};
    item it[3];
    fill(&h, it, 3);
    ferry_list_replace(&it[1].node, &it[1].node);
    CHECK_EQ(ferry_list_count(&h), 3);
}
