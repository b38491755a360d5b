/* SPDX-License-Identifier: MIT */
/* ferry/hlist.h: intrusive doubly linked list with a one-pointer head.
 *
 * For hash tables with many buckets, where a two-pointer ferry_list head per
 * bucket would double the table (the kernel's and liburcu's hlist). The
 * head holds only `first`; each node holds `next` and `pprev`, the address
 * of the pointer that points at it (the head's `first` or the previous
 * node's `next`), so a node is unlinked in O(1) without knowing its head.
 * The list is NULL-terminated, not circular; there is no O(1) tail.
 *
 * Zero-filled memory is a valid empty head and a valid unlinked
 * ("unhashed") node: pprev == NULL means unlinked. After ferry_hlist_del()
 * debug builds (FERRY_DEBUG) poison the node; deleting a node that is not
 * linked aborts with a message (always when it was never linked or was
 * removed with _del_init; with FERRY_DEBUG also when it was poisoned).
 * With FERRY_DEBUG, adding a node where it already is (again at the front,
 * before or behind itself) aborts too: it would be linked to itself.
 * Recover the element with ferry_hlist_entry() (= ferry_container_of).
 *
 * Concurrency: none; callers serialize. For RCU readers see the _rcu
 * functions in ferry/rculist.h. Nothing here blocks or allocates. The calls
 * are inline and do not check for NULL (ferry_hlist_entry_safe aside):
 * heads and nodes must exist.
 */
#ifndef FERRY_HLIST_H
#define FERRY_HLIST_H

#include <ferry/list.h>

FERRY_EXTERN_C_BEGIN

/* The node embedded in each element of an hlist. Zero-filled, it is
 * unlinked (ferry_hlist_unhashed). */
typedef struct ferry_hlist_node {
    struct ferry_hlist_node *next;
    struct ferry_hlist_node **pprev;   /* NULL: not on a list */
} ferry_hlist_node;

/* An hlist's head: one pointer, so that a hash table's buckets stay
 * small. Zero-filled (or FERRY_HLIST_HEAD_INIT), it is empty. */
typedef struct ferry_hlist_head {
    ferry_hlist_node *first;
} ferry_hlist_head;

/* The struct of type `type` whose ferry_hlist_node field `member` is node. */
#define ferry_hlist_entry(node, type, member) ferry_container_of(node, type, member)

/* Static initializer of a head ({0} is the same). */
#define FERRY_HLIST_HEAD_INIT { FERRY__NULLPTR }

/* Poison written into deleted nodes in debug builds (faults if followed). */
#define FERRY_HLIST_POISON_NEXT FERRY__RCAST(ferry_hlist_node *, FERRY__SCAST(uintptr_t, 0xdead000000000200ull))
#define FERRY_HLIST_POISON_PPREV FERRY__RCAST(ferry_hlist_node **, FERRY__SCAST(uintptr_t, 0xdead000000000222ull))

/* Make head an empty list (as FERRY_HLIST_HEAD_INIT or zero-filling does). */
static inline void ferry_hlist_head_init(ferry_hlist_head *head)
{
    head->first = FERRY__NULLPTR;
}

/* Make node unlinked (as zero-filling does). */
static inline void ferry_hlist_node_init(ferry_hlist_node *node)
{
    node->next = FERRY__NULLPTR;
    node->pprev = FERRY__NULLPTR;
}

/* True when the list has no node. */
static inline bool ferry_hlist_empty(const ferry_hlist_head *head)
{
    return head->first == FERRY__NULLPTR;
}

/* True if node is on no list (never linked, or removed with _del_init).
 * A node removed with ferry_hlist_del reads as linked in every build (its
 * pprev is left as it was, or poisoned in debug builds); do not ask. */
static inline bool ferry_hlist_unhashed(const ferry_hlist_node *node)
{
    return node->pprev == FERRY__NULLPTR;
}

/* Abort unless node is linked (the checks list.h makes for ferry_list). */
static inline void ferry__hlist_check_linked(const ferry_hlist_node *node)
{
    if (FERRY_UNLIKELY(node->pprev == FERRY__NULLPTR))
        ferry__die("hlist node %p deleted but it is not on a list", FERRY__SCAST(const void *, node));
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(node->pprev == FERRY_HLIST_POISON_PPREV))
        ferry__die("hlist node %p deleted twice (it is poisoned)", FERRY__SCAST(const void *, node));
    if (FERRY_UNLIKELY(*node->pprev != node))
        ferry__die("hlist corrupted: the pointer before node %p does not point to it",
                   FERRY__SCAST(const void *, node));
#endif
}

/* FERRY_DEBUG: abort when node would be linked to itself (added again
 * where it already is), which would send a traversal round it forever
 * (the plain and the RCU adds). */
static inline void ferry__hlist_check_self(bool self, const ferry_hlist_node *node)
{
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(self))
        ferry__die("hlist node %p inserted twice", FERRY__SCAST(const void *, node));
#else
    (void)self, (void)node;
#endif
}

/* FERRY_DEBUG: abort when a node would replace itself
 * (ferry_hlist_replace_rcu: the poisoning of the old node would hit the
 * live one). */
static inline void ferry__hlist_check_replace(const ferry_hlist_node *old, const ferry_hlist_node *node)
{
#ifdef FERRY_DEBUG
    if (FERRY_UNLIKELY(old == node))
        ferry__die("hlist node %p replaced by itself", FERRY__SCAST(const void *, node));
#else
    (void)old, (void)node;
#endif
}

/* Insert node at the front of head's list. */
static inline void ferry_hlist_add_head(ferry_hlist_head *head, ferry_hlist_node *node)
{
    ferry_hlist_node *first = head->first;
    ferry__hlist_check_self(node == first, node);
    node->next = first;
    if (first)
        first->pprev = &node->next;
    head->first = node;
    node->pprev = &head->first;
}

/* Insert node right before `next`, which is linked. */
static inline void ferry_hlist_add_before(ferry_hlist_node *node, ferry_hlist_node *next)
{
    ferry__hlist_check_linked(next);
    ferry__hlist_check_self(node == next || next->pprev == &node->next, node);
    node->pprev = next->pprev;
    node->next = next;
    next->pprev = &node->next;
    *node->pprev = node;
}

/* Insert node right after `prev`, which is linked. */
static inline void ferry_hlist_add_behind(ferry_hlist_node *node, ferry_hlist_node *prev)
{
    ferry__hlist_check_linked(prev);
    ferry__hlist_check_self(node == prev || node == prev->next, node);
    node->next = prev->next;
    prev->next = node;
    node->pprev = &prev->next;
    if (node->next)
        node->next->pprev = &node->next;
}

static inline void ferry__hlist_unlink(ferry_hlist_node *node)
{
    ferry__hlist_check_linked(node);
    ferry_hlist_node *next = node->next;
    *node->pprev = next;
    if (next)
        next->pprev = node->pprev;
}

/* Unlink node. Debug builds poison it afterwards. */
static inline void ferry_hlist_del(ferry_hlist_node *node)
{
    ferry__hlist_unlink(node);
#ifdef FERRY_DEBUG
    node->next = FERRY_HLIST_POISON_NEXT;
    node->pprev = FERRY_HLIST_POISON_PPREV;
#endif
}

/* Unlink node and leave it unlinked (ferry_hlist_unhashed() is true). */
static inline void ferry_hlist_del_init(ferry_hlist_node *node)
{
    ferry__hlist_unlink(node);
    ferry_hlist_node_init(node);
}

/* Move the whole list from `from` to `to`; `from` is left empty. `to` is
 * meant to be empty: as the kernel's hlist_move_list, any nodes it held are
 * dropped from it without being unlinked (their pprev still points into
 * `to`), and from == to with nodes empties the list. */
static inline void ferry_hlist_move_list(ferry_hlist_head *from, ferry_hlist_head *to)
{
    to->first = from->first;
    if (to->first)
        to->first->pprev = &to->first;
    from->first = FERRY__NULLPTR;
}

/* Number of nodes (walks the list). */
static inline size_t ferry_hlist_count(const ferry_hlist_head *head)
{
    size_t n = 0;
    for (const ferry_hlist_node *p = head->first; p; p = p->next)
        n++;
    return n;
}

/* Iteration. pos is declared by the macro. The plain forms must not delete
 * the current node; the _safe forms may delete (only) the current one. */
#define ferry_hlist_for_each(pos, head) \
    for (ferry_hlist_node *pos = (head)->first; pos; pos = pos->next)
#define ferry_hlist_for_each_safe(pos, head)                                    \
    for (ferry_hlist_node *pos = (head)->first, *ferry__next_##pos = pos ? pos->next : FERRY__NULLPTR; \
         pos; pos = ferry__next_##pos, ferry__next_##pos = pos ? pos->next : FERRY__NULLPTR)

static inline void *ferry__hlist_entry_or_null(const ferry_hlist_node *node, size_t offset)
{
    return node ? FERRY__SCAST(void *, FERRY__RCAST(char *, FERRY__RCAST(uintptr_t, node)) - offset) : FERRY__NULLPTR;
}

/* Entry of a node pointer, or NULL for NULL (node is evaluated once). */
#define ferry_hlist_entry_safe(node, type, member) \
    FERRY__SCAST(type *, ferry__hlist_entry_or_null((node), offsetof(type, member)))

/* Iteration over the entries (pos points to the struct of type `type`
 * holding each node in field `member`); the _safe form may delete pos. */
#define ferry_hlist_for_each_entry(pos, head, type, member)                     \
    for (type *pos = ferry_hlist_entry_safe((head)->first, type, member); pos;  \
         pos = ferry_hlist_entry_safe(pos->member.next, type, member))
#define ferry_hlist_for_each_entry_safe(pos, head, type, member)                             \
    for (type *pos = ferry_hlist_entry_safe((head)->first, type, member),                    \
              *ferry__next_##pos = pos ? ferry_hlist_entry_safe(pos->member.next, type, member) \
                                       : FERRY__SCAST(type *, FERRY__NULLPTR);               \
         pos; pos = ferry__next_##pos,                                                       \
              ferry__next_##pos = pos ? ferry_hlist_entry_safe(pos->member.next, type, member) \
                                      : FERRY__SCAST(type *, FERRY__NULLPTR))

FERRY_EXTERN_C_END

#endif /* FERRY_HLIST_H */
