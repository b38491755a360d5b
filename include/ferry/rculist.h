/* SPDX-License-Identifier: MIT */
/* ferry/rculist.h: RCU-protected traversal of ferry/list.h lists.
 *
 * Updaters (serialized among themselves by the caller, e.g. with a mutex)
 * change the list with the functions below; readers traverse it inside a
 * read-side section (of either flavor) with ferry_list_for_each_entry_rcu,
 * concurrently with the updates. Readers follow only `next` pointers, which
 * updaters publish with release stores and readers load with
 * ferry_rcu_dereference; `prev` is updater-only.
 *
 * A node removed with ferry_list_del_rcu or replaced with
 * ferry_list_replace_rcu keeps its `next` pointer so that readers standing
 * on it can move on; it may be freed (or reused) only after a grace period
 * (ferry_rcu_synchronize / ferry_rcu_call, or the qsbr equivalents).
 * Updaters may traverse with the plain ferry_list_for_each_entry under their
 * lock. A zero-filled head is a valid empty list here too.
 *
 * The second half of the file does the same for ferry/hlist.h's lists
 * (one-pointer heads): ferry_hlist_add_head_rcu, _add_before_rcu,
 * _add_behind_rcu, _del_rcu, _del_init_rcu, _replace_rcu and
 * ferry_hlist_for_each_entry_rcu.
 *
 * Debug checks (FERRY_DEBUG) as for the plain lists, among them adding a
 * node where it already is (next to itself: readers would go round it
 * forever) and replacing a node by itself, which abort naming the node.
 *
 * Nothing here blocks or allocates. Headers compile as C and C++.
 */
#ifndef FERRY_RCULIST_H
#define FERRY_RCULIST_H

#include <ferry/hlist.h>
#include <ferry/list.h>
#include <ferry/rcu.h>

FERRY_EXTERN_C_BEGIN

/* Make a zero-filled head self-linked, publishing with a release store
 * (readers may be looking at it). Updaters only. */
static inline void ferry__list_touch_rcu(ferry_list *head)
{
    if (FERRY_UNLIKELY(head->next == FERRY__NULLPTR)) {
        head->prev = head;
        ferry_rcu_assign_pointer(head->next, head);
    }
}

static inline void ferry__list_insert_rcu(ferry_list *node, ferry_list *prev, ferry_list *next)
{
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(prev->next != next || next->prev != prev))
        ferry__die("rcu list corrupted while inserting node %p between %p and %p",
                   FERRY__SCAST(void *, node), FERRY__SCAST(void *, prev), FERRY__SCAST(void *, next));
    /* Linked next to itself, readers would go round it forever. */
    if (FERRY_UNLIKELY(node == prev || node == next))
        ferry__die("rcu list node %p inserted twice", FERRY__SCAST(void *, node));
#endif
    node->next = next;
    node->prev = prev;
    next->prev = node;
    /* Release: readers that reach node see it (and the object around it)
     * initialized; pairs with ferry_rcu_dereference in the traversal. */
    ferry_rcu_assign_pointer(prev->next, node);
}

/* Insert node right after head (stack order). Updaters only. */
static inline void ferry_list_add_rcu(ferry_list *head, ferry_list *node)
{
    ferry__list_touch_rcu(head);
    ferry__list_insert_rcu(node, head, head->next);
}

/* Insert node right before head, i.e. at the tail. Updaters only. */
static inline void ferry_list_add_tail_rcu(ferry_list *head, ferry_list *node)
{
    ferry__list_touch_rcu(head);
    ferry__list_insert_rcu(node, head->prev, head);
}

/* Unlink node. Its next pointer stays valid for readers standing on it;
 * debug builds poison only prev. Free it after a grace period. */
static inline void ferry_list_del_rcu(ferry_list *node)
{
    ferry__list_check_linked(node);
    ferry_list *next = node->next, *prev = node->prev;
    next->prev = prev;
    /* Release, so that a reader reaching next through this store also
     * synchronizes with next's initialization (a relaxed store would break
     * the chain from next's original publication). */
    ferry_rcu_assign_pointer(prev->next, next);
#ifdef FERRY_DEBUG
    node->prev = FERRY_LIST_POISON_PREV;
#endif
}

/* Replace old (linked) by node at the same position, atomically for
 * readers: each sees either old or node. Free old after a grace period.
 * FERRY_DEBUG: a node replaced by itself aborts. */
static inline void ferry_list_replace_rcu(ferry_list *old, ferry_list *node)
{
    ferry__list_check_linked(old);
    ferry__list_check_replace(old, node);
    node->next = old->next;
    node->prev = old->prev;
    /* Release publishes node's contents; pairs with the readers' dereference. */
    ferry_rcu_assign_pointer(node->prev->next, node);
    node->next->prev = node;
#ifdef FERRY_DEBUG
    old->prev = FERRY_LIST_POISON_PREV;
#endif
}

/* First node for a reader, given head's dereferenced next: head itself when
 * the list is empty or the head is zero-filled. */
static inline ferry_list *ferry__list_first_rcu(ferry_list *first, ferry_list *head)
{
    return first ? first : head;
}

/* Traverse inside a read-side section: pos is a `type *` declared by the
 * macro. May run concurrently with the update functions above; each entry
 * reached stays valid until the section ends. Do not use `prev`. */
#define ferry_list_for_each_entry_rcu(pos, head, type, member)                    \
    for (type *pos = ferry_list_entry(                                            \
             ferry__list_first_rcu(ferry_rcu_dereference((head)->next), (head)),  \
             type, member);                                                      \
         &pos->member != (head);                                                 \
         pos = ferry_list_entry(ferry_rcu_dereference(pos->member.next), type, member))

/* ------------------------------------------------------------------------ */
/* hlist (ferry/hlist.h: one-pointer heads) with RCU readers.                 */
/*
 * The same contract as above: updaters serialize among themselves; readers
 * in a read-side section (either flavor) traverse with
 * ferry_hlist_for_each_entry_rcu concurrently with them, following only
 * `next` (and the head's `first`), published with release stores and read
 * with ferry_rcu_dereference; `pprev` is updater-only. A node removed with
 * ferry_hlist_del_rcu / _del_init_rcu or replaced with
 * ferry_hlist_replace_rcu keeps `next` for readers standing on it; free or
 * reuse it only after a grace period. Updaters may use ferry/hlist.h's plain
 * iteration under their lock.
 */

/* Insert node at the front of head's list. Updaters only. */
static inline void ferry_hlist_add_head_rcu(ferry_hlist_head *head, ferry_hlist_node *node)
{
    ferry_hlist_node *first = head->first;
    ferry__hlist_check_self(node == first, node);
    node->next = first;
    node->pprev = &head->first;
    if (first)
        first->pprev = &node->next;
    /* Release: readers that load node from first see it initialized;
     * pairs with ferry_rcu_dereference in the traversal. */
    ferry_rcu_assign_pointer(head->first, node);
}

/* Insert node right before `next` (linked). Updaters only. */
static inline void ferry_hlist_add_before_rcu(ferry_hlist_node *node, ferry_hlist_node *next)
{
    ferry__hlist_check_linked(next);
    ferry__hlist_check_self(node == next || next->pprev == &node->next, node);
    node->pprev = next->pprev;
    node->next = next;
    next->pprev = &node->next;
    /* Release: publishes node (pairs with the readers' dereference). */
    ferry_rcu_assign_pointer(*node->pprev, node);
}

/* Insert node right after `prev` (linked). Updaters only. */
static inline void ferry_hlist_add_behind_rcu(ferry_hlist_node *node, ferry_hlist_node *prev)
{
    ferry__hlist_check_linked(prev);
    ferry__hlist_check_self(node == prev || node == prev->next, node);
    node->next = prev->next;
    node->pprev = &prev->next;
    if (node->next)
        node->next->pprev = &node->next;
    /* Release: publishes node (pairs with the readers' dereference). */
    ferry_rcu_assign_pointer(prev->next, node);
}

static inline void ferry__hlist_unlink_rcu(ferry_hlist_node *node)
{
    ferry__hlist_check_linked(node);
    ferry_hlist_node *next = node->next;
    /* Release, so that a reader reaching next through this store also
     * synchronizes with next's initialization (pairs with the readers'
     * dereference). */
    ferry_rcu_assign_pointer(*node->pprev, next);
    if (next)
        next->pprev = node->pprev;
}

/* Unlink node; its next stays valid for readers standing on it (debug
 * builds poison only pprev). Free it after a grace period. */
static inline void ferry_hlist_del_rcu(ferry_hlist_node *node)
{
    ferry__hlist_unlink_rcu(node);
#ifdef FERRY_DEBUG
    node->pprev = FERRY_HLIST_POISON_PPREV;
#endif
}

/* Unlink node and mark it unhashed (pprev NULL; next kept for readers).
 * It may be added again only after a grace period. */
static inline void ferry_hlist_del_init_rcu(ferry_hlist_node *node)
{
    ferry__hlist_unlink_rcu(node);
    node->pprev = FERRY__NULLPTR;
}

/* Replace old (linked) by node at the same position, atomically for
 * readers: each sees old or node, never neither. Free old after a grace
 * period. FERRY_DEBUG: a node replaced by itself aborts. */
static inline void ferry_hlist_replace_rcu(ferry_hlist_node *old, ferry_hlist_node *node)
{
    ferry__hlist_check_linked(old);
    ferry__hlist_check_replace(old, node);
    ferry_hlist_node *next = old->next;
    node->next = next;
    node->pprev = old->pprev;
    /* Release publishes node's contents; pairs with the readers'
     * dereference. */
    ferry_rcu_assign_pointer(*node->pprev, node);
    if (next)
        next->pprev = &node->next;
#ifdef FERRY_DEBUG
    old->pprev = FERRY_HLIST_POISON_PPREV;
#endif
}

/* Entry for a dereferenced node pointer (evaluated once), NULL at the end. */
#define ferry__hlist_entry_rcu(node, type, member) ferry_hlist_entry_safe((node), type, member)

/* Traverse inside a read-side section: pos is a `type *` declared by the
 * macro. May run concurrently with the update functions above; each entry
 * reached stays valid until the section ends. Do not use `pprev`. */
#define ferry_hlist_for_each_entry_rcu(pos, head, type, member)                                \
    for (type *pos = ferry__hlist_entry_rcu(ferry_rcu_dereference((head)->first), type, member); \
         pos; pos = ferry__hlist_entry_rcu(ferry_rcu_dereference(pos->member.next), type, member))

/* The same over bare nodes. */
#define ferry_hlist_for_each_rcu(pos, head)                                            \
    for (ferry_hlist_node *pos = ferry_rcu_dereference((head)->first); pos;            \
         pos = ferry_rcu_dereference(pos->next))

FERRY_EXTERN_C_END

#endif /* FERRY_RCULIST_H */
