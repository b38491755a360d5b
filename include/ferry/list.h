/* SPDX-License-Identifier: MIT */
/* ferry/list.h: circular doubly linked intrusive list.
 *
 * A ferry_list is both the head of a list and the node embedded in each
 * element (as in the Linux kernel's list.h). Recover the element from its node
 * with ferry_container_of() / ferry_list_entry().
 *
 * Zero-filled memory is a valid empty list: a head whose next pointer is NULL
 * is empty, and every function here treats it so. The first function that
 * links something into it makes it self-linked; until then an empty head may
 * be copied or moved freely (useful for structures embedded in others that are
 * set up with memset or = {0}). A non-empty list, or an empty list once used,
 * must not move: its neighbours point at it.
 *
 * A node that is on no list is "unlinked". After ferry_list_del() the node's
 * pointers are poisoned in debug builds (FERRY_DEBUG), and deleting or
 * re-deleting a poisoned or never-linked node aborts with a message, as
 * does (FERRY_DEBUG) replacing a node by itself. In release builds
 * ferry_list_del() does the minimum. ferry_list_del_init()
 * leaves the node as an empty self-linked list, safe to delete again.
 *
 * Concurrency: none. Callers serialize all access (for RCU traversal see
 * ferry/rculist.h). Nothing here blocks or allocates. The calls are inline
 * and do not check for NULL: heads and nodes must exist.
 */
#ifndef FERRY_LIST_H
#define FERRY_LIST_H

#include <ferry/common.h>

FERRY_EXTERN_C_BEGIN

/* A list's head, and the node embedded in each element: the same type.
 * Zero-filled, it is an empty head or an unlinked node. */
typedef struct ferry_list {
    struct ferry_list *next;
    struct ferry_list *prev;
} ferry_list;

/* Pointer to the struct of type `type` whose member `member` is at `ptr`. */
#define ferry_container_of(ptr, type, member) \
    FERRY__SCAST(type *, FERRY__SCAST(void *, FERRY__QCAST(char *, ptr) - offsetof(type, member)))
#define ferry_list_entry(node, type, member) ferry_container_of(node, type, member)

/* Static initializer for a head: FERRY_LIST_INIT(name) self-links it;
 * {0} (or zero-filled memory) is equally valid. */
#define FERRY_LIST_INIT(name) { &(name), &(name) }

/* Poison values written into deleted nodes in debug builds: non-NULL,
 * non-canonical addresses that fault if dereferenced. */
#define FERRY_LIST_POISON_NEXT FERRY__RCAST(ferry_list *, FERRY__SCAST(uintptr_t, 0xdead000000000100ull))
#define FERRY_LIST_POISON_PREV FERRY__RCAST(ferry_list *, FERRY__SCAST(uintptr_t, 0xdead000000000122ull))

/* Make `head` an empty, self-linked list (or an unlinked node). Needed only
 * for a head that is not zero-filled; never on a non-empty list. */
static inline void ferry_list_init(ferry_list *head)
{
    head->next = head;
    head->prev = head;
}

/* Make a zero-filled head self-linked (first use). */
static inline void ferry__list_touch(ferry_list *head)
{
    if (FERRY_UNLIKELY(head->next == FERRY__NULLPTR))
        ferry_list_init(head);
}

/* True if the list has no node (a zero-filled head is empty). */
static inline bool ferry_list_empty(const ferry_list *head)
{
    return head->next == FERRY__NULLPTR || head->next == head;
}

/* True if `node` is linked into some list (and is not a self-linked or
 * zero-filled head, nor a poisoned deleted node). Ask only about nodes that
 * were never linked or were removed with ferry_list_del_init() (or are
 * linked now): a node removed with ferry_list_del() or ferry_list_pop()
 * keeps its old pointers in release builds and reads as linked there (debug
 * builds poison it, and it reads as not linked). */
static inline bool ferry_list_linked(const ferry_list *node)
{
    return node->next != FERRY__NULLPTR && node->next != node && node->next != FERRY_LIST_POISON_NEXT;
}

static inline void ferry__list_insert(ferry_list *node, ferry_list *prev, ferry_list *next)
{
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(prev->next != next || next->prev != prev))
        ferry__die("list corrupted while inserting node %p between %p and %p",
                   FERRY__SCAST(void *, node), FERRY__SCAST(void *, prev), FERRY__SCAST(void *, next));
    if (FERRY_UNLIKELY(node == prev || node == next))
        ferry__die("list node %p inserted twice", FERRY__SCAST(void *, node));
#endif
    next->prev = node;
    node->next = next;
    node->prev = prev;
    prev->next = node;
}

/* Insert `node` right after `head` (stack order). */
static inline void ferry_list_add(ferry_list *head, ferry_list *node)
{
    ferry__list_touch(head);
    ferry__list_insert(node, head, head->next);
}

/* Insert `node` right before `head`, i.e. at the tail (queue order). */
static inline void ferry_list_add_tail(ferry_list *head, ferry_list *node)
{
    ferry__list_touch(head);
    ferry__list_insert(node, head->prev, head);
}

static inline void ferry__list_check_linked(const ferry_list *node)
{
    if (FERRY_UNLIKELY(node->next == FERRY__NULLPTR || node->prev == FERRY__NULLPTR))
        ferry__die("list node %p deleted but it was never linked", FERRY__SCAST(const void *, node));
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(node->next == FERRY_LIST_POISON_NEXT || node->prev == FERRY_LIST_POISON_PREV))
        ferry__die("list node %p deleted twice (it is poisoned)", FERRY__SCAST(const void *, node));
    if (FERRY_UNLIKELY(node->next->prev != node || node->prev->next != node))
        ferry__die("list corrupted: neighbours of node %p do not point back to it", FERRY__SCAST(const void *, node));
#endif
}

/* Unlink `node` from its list. Debug builds poison it afterwards. */
static inline void ferry_list_del(ferry_list *node)
{
    ferry__list_check_linked(node);
    node->next->prev = node->prev;
    node->prev->next = node->next;
#ifdef FERRY_DEBUG
    node->next = FERRY_LIST_POISON_NEXT;
    node->prev = FERRY_LIST_POISON_PREV;
#endif
}

/* Unlink `node` and leave it self-linked (an empty list; deleting it again
 * is a no-op). */
static inline void ferry_list_del_init(ferry_list *node)
{
    ferry__list_check_linked(node);
    node->next->prev = node->prev;
    node->prev->next = node->next;
    ferry_list_init(node);
}

/* FERRY_DEBUG: abort when a node would replace itself (the poisoning of
 * the old node would then hit the live one). Plain and RCU replace. */
static inline void ferry__list_check_replace(const ferry_list *old, const ferry_list *node)
{
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(old == node))
        ferry__die("list node %p replaced by itself", FERRY__SCAST(const void *, node));
#else
    (void)old, (void)node;
#endif
}

/* Replace `old` (linked) by `node` in the same position. FERRY_DEBUG: a
 * node replaced by itself aborts. */
static inline void ferry_list_replace(ferry_list *old, ferry_list *node)
{
    ferry__list_check_linked(old);
    ferry__list_check_replace(old, node);
    node->next = old->next;
    node->next->prev = node;
    node->prev = old->prev;
    node->prev->next = node;
#ifdef FERRY_DEBUG
    old->next = FERRY_LIST_POISON_NEXT;
    old->prev = FERRY_LIST_POISON_PREV;
#endif
}

/* First / last node, or NULL if the list is empty. */
static inline ferry_list *ferry_list_first(const ferry_list *head)
{
    return ferry_list_empty(head) ? FERRY__NULLPTR : head->next;
}
static inline ferry_list *ferry_list_last(const ferry_list *head)
{
    return ferry_list_empty(head) ? FERRY__NULLPTR : head->prev;
}

/* Unlink and return the first node, or NULL if empty. */
static inline ferry_list *ferry_list_pop(ferry_list *head)
{
    ferry_list *n = ferry_list_first(head);
    if (n)
        ferry_list_del(n);
    return n;
}

/* Move `node` from its list to the tail of `head`. */
static inline void ferry_list_move_tail(ferry_list *head, ferry_list *node)
{
    ferry_list_del(node);
    ferry_list_add_tail(head, node);
}

/* Move every node of `from` to the tail of `to`, in order; `from` is left
 * empty (self-linked). A list spliced onto itself (to == from) stays as it
 * is. */
static inline void ferry_list_splice_tail(ferry_list *to, ferry_list *from)
{
    if (ferry_list_empty(from) || to == from)
        return;
    ferry__list_touch(to);
    ferry_list *first = from->next, *last = from->prev, *at = to->prev;
    at->next = first;
    first->prev = at;
    last->next = to;
    to->prev = last;
    ferry_list_init(from);
}

/* Number of nodes (walks the list). */
static inline size_t ferry_list_count(const ferry_list *head)
{
    size_t n = 0;
    if (ferry_list_empty(head))
        return 0;
    for (const ferry_list *p = head->next; p != head; p = p->next)
        n++;
    return n;
}

/* Iteration. The plain forms must not delete the current node; the _safe
 * forms may delete (only) the current node. All handle zero-filled heads. */
#define ferry_list_for_each(pos, head) \
    for (ferry_list *pos = ferry_list_empty(head) ? (head) : (head)->next; \
         pos != (head); pos = pos->next)
#define ferry_list_for_each_safe(pos, head)                                   \
    for (ferry_list *pos = ferry_list_empty(head) ? (head) : (head)->next,    \
                    *ferry__next_##pos = pos->next;                           \
         pos != (head); pos = ferry__next_##pos, ferry__next_##pos = pos->next)
#define ferry_list_for_each_entry(pos, head, type, member)                     \
    for (type *pos = ferry_list_empty(head) ? FERRY__NULLPTR                   \
                         : ferry_list_entry((head)->next, type, member);       \
         pos != FERRY__NULLPTR && &pos->member != (head);                      \
         pos = ferry_list_entry(pos->member.next, type, member))

FERRY_EXTERN_C_END

#endif /* FERRY_LIST_H */
