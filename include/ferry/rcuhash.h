/* SPDX-License-Identifier: MIT */
/* ferry/rcuhash.h: lock-free resizable RCU hash table (ferry_lfht).
 *
 * The counterpart of liburcu's cds_lfht, operation for operation (docs/
 * rcuhash.md has the name mapping): a split-ordered list (all nodes in one
 * lock-free linked list sorted by bit-reversed hash) with an index of bucket
 * nodes into it that grows and shrinks while readers and updaters run.
 *
 * - Nodes are intrusive: embed a ferry_lfht_node in your object and recover
 *   the object with ferry_container_of(). The caller computes the hash and
 *   supplies a match function that compares a node's key with a key.
 * - Lookups and iteration run inside a read-side section of the table's RCU
 *   flavor (ferry_rcu_read_lock() for the default flavor, an online thread
 *   for QSBR) and are wait-free; a node they return stays valid until the
 *   section ends.
 * - Updates (add, add_unique, add_replace, replace, del) are lock-free and
 *   may run from any number of threads at once, also inside a read-side
 *   section, which they require: the calling thread must be registered with
 *   the flavor and hold its read lock (as liburcu requires). A node removed
 *   by del, replace or add_replace may be freed or reused only after a grace
 *   period (ferry_rcu_call, ferry_rcu_synchronize, ...).
 * - Nothing allocates except ferry_lfht_new and resizing, which allocates
 *   bucket tables and frees old ones through the flavor's call (after a grace
 *   period). Lookups never allocate, never block, never write shared memory.
 * - With FERRY_LFHT_AUTO_RESIZE the table grows when chains get long or the
 *   count says so, and shrinks when it empties, on the flavor's callback
 *   thread (queued with its call function; no thread of its own). Resizing
 *   never waits for a grace period and never blocks readers or updaters.
 *
 * Debug builds (FERRY_DEBUG) abort, naming the function, when a lookup,
 * iteration or update runs outside a read-side section of the table's
 * flavor.
 *
 * fork(): a fork waits for the resize steps in progress (a pthread_atfork
 * handler takes each live table's resize lock), so the child gets every
 * table between two steps, with no lock held, and may use, resize and
 * destroy it. Automatic resizing goes on in the child too: an automatic
 * resize whose callback was queued or running at the fork either runs in
 * the child or is queued again there by the next add or del that wants a
 * resize (never twice: with a user flavor that may or may not carry queued
 * callbacks into a child, the child queues a new head). docs/rcuhash.md,
 * "fork()".
 *
 * Ordering guarantees are liburcu's (src/rcuhash.c lists them): a lookup
 * ordered after an update sees it; an update that succeeds is a full memory
 * barrier before and after its commit; add_unique and add_replace never
 * create a duplicate key among nodes that only they add; a node replaced or
 * deleted is invisible to lookups that start after a grace period.
 *
 * Headers compile as C11 and C++11.
 */
#ifndef FERRY_RCUHASH_H
#define FERRY_RCUHASH_H

#include <ferry/rcu.h>

FERRY_EXTERN_C_BEGIN

/* A node. Embed it in your object; the fields are private. Needs no
 * initialization before an add. 8-byte aligned: the low bits of `next` are
 * flags. */
typedef struct ferry_lfht_node {
    FERRY_ATOMIC(uintptr_t) next;   /* successor | REMOVED | BUCKET */
    unsigned long reverse_hash;     /* the hash, bits reversed */
} __attribute__((aligned(8))) ferry_lfht_node;

/* A position in the table: the node found (NULL: none) and its successor
 * as read then (private). Filled by lookup, first, next, next_duplicate;
 * passed to replace. */
typedef struct ferry_lfht_iter {
    ferry_lfht_node *node;
    uintptr_t next;
} ferry_lfht_iter;

typedef struct ferry_lfht ferry_lfht;

/* Does node's key equal key? Nonzero for yes. Called inside the caller's
 * read-side section, on nodes with the same hash only; must not block on
 * other table operations. */
typedef int (*ferry_lfht_match_fn)(ferry_lfht_node *node, const void *key);

/* How the table uses an RCU flavor: read-side sections around resize work,
 * quiescent states between chunks of it (QSBR), call to defer resize work
 * and frees, barrier in destroy, and (FERRY_DEBUG) read_ongoing to check
 * that lookups and updates run inside a read-side section.
 * ferry_lfht_flavor_memb (ferry/rcu.h, the default) and
 * ferry_lfht_flavor_qsbr (ferry/rcu_qsbr.h) are provided; a user flavor
 * fills the same hooks (read_ongoing may be NULL: no check; every other hook
 * must be set, a flavor without quiescent states giving one that does
 * nothing). Across fork() the table needs nothing of a user flavor: the
 * callbacks its call queued may run in the child or be dropped there. */
typedef struct ferry_lfht_flavor {
    void (*read_lock)(void);
    void (*read_unlock)(void);
    void (*quiescent_state)(void);   /* may be a no-op */
    void (*call)(ferry_rcu_head *head, void (*fn)(ferry_rcu_head *head));
    void (*barrier)(void);
    bool (*read_ongoing)(void);
} ferry_lfht_flavor;

extern const ferry_lfht_flavor ferry_lfht_flavor_memb;
extern const ferry_lfht_flavor ferry_lfht_flavor_qsbr;

/* Creation flags. */
enum {
    FERRY_LFHT_AUTO_RESIZE = 1 << 0,   /* grow/shrink by itself */
    FERRY_LFHT_ACCOUNTING = 1 << 1,    /* per-CPU add/del counters:
                                          count_nodes' estimates, and
                                          count-driven resizing */
};

/* Does nothing (kept for symmetry with cds_lfht_node_init). */
static inline void ferry_lfht_node_init(ferry_lfht_node *node)
{
    (void)node;
}

/* Make a node that is in no table read as deleted
 * (ferry_lfht_is_node_deleted returns nonzero) until it is added. */
static inline void ferry_lfht_node_init_deleted(ferry_lfht_node *node)
{
    atomic_store_explicit(&node->next, FERRY__SCAST(uintptr_t, 1), memory_order_relaxed);
    node->reverse_hash = 0;
}

/* The node an iterator is at, or NULL at the end (or after a failed lookup). */
static inline ferry_lfht_node *ferry_lfht_iter_get_node(const ferry_lfht_iter *iter)
{
    return iter->node;
}

/* Create a table with the default RCU flavor (ferry/rcu.h).
 *   init_size  buckets to start with: a power of two >= 1
 *   min_nr_alloc_buckets  buckets allocated once and kept: a power of two
 *              >= 1; the table never has fewer buckets (raised to it)
 *   max_nr_buckets  the most buckets: a power of two, or 0 for no limit
 *              but memory (2^63 on 64-bit); init_size is lowered to it
 *   flags      FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING, or 0
 * Returns the table, or NULL with errno EINVAL (a size that is 0 or not a
 * power of two, max < min, unknown flags) or ENOMEM (also when the bucket
 * arrays would take more than a quarter of the physical memory: refused
 * up front, not left to the OOM killer). Allocates; any thread, registered
 * or not. */
ferry_lfht *ferry_lfht_new(unsigned long init_size, unsigned long min_nr_alloc_buckets,
                           unsigned long max_nr_buckets, int flags);

/* The same with the given flavor (NULL, or a hook other than read_ongoing
 * NULL: EINVAL). The flavor object must outlive the table. */
ferry_lfht *ferry_lfht_new_flavor(unsigned long init_size, unsigned long min_nr_alloc_buckets,
                                  unsigned long max_nr_buckets, int flags,
                                  const ferry_lfht_flavor *flavor);

/* Destroy an empty table. Returns 0, -EPERM if it still holds nodes (it is
 * left as it was, usable), -EINVAL for NULL. No other operation on the table
 * may run or start concurrently. Waits for a queued automatic resize (with
 * the flavor's barrier), so: not inside a read-side section and not from an
 * RCU callback. Frees memory. */
int ferry_lfht_destroy(ferry_lfht *ht);

/* Find the first node with this hash whose key matches: iter->node is it,
 * or NULL. Inside a read-side section; wait-free; acts as
 * ferry_rcu_dereference for the node. A NULL ht or match sets iter->node to
 * NULL. */
void ferry_lfht_lookup(ferry_lfht *ht, unsigned long hash, ferry_lfht_match_fn match,
                       const void *key, ferry_lfht_iter *iter);

/* Move iter (from lookup or iteration) to the next node with the same key:
 * iter->node is it, or NULL. Inside the same read-side section as the call
 * that filled iter. */
void ferry_lfht_next_duplicate(ferry_lfht *ht, ferry_lfht_match_fn match, const void *key,
                               ferry_lfht_iter *iter);

/* First node of the table in its internal order (iter->node NULL when
 * empty), and the one after iter. Inside a read-side section. A traversal
 * sees each node present for the whole traversal exactly once, and may or
 * may not see nodes added or removed during it; updates may run meanwhile. */
void ferry_lfht_first(ferry_lfht *ht, ferry_lfht_iter *iter);
void ferry_lfht_next(ferry_lfht *ht, ferry_lfht_iter *iter);

/* Add node with this hash; duplicates of its key are allowed. Inside a
 * read-side section. Returns 0, or -EINVAL for NULL ht or node (nothing
 * done), or -EEXIST when node is in this table already under this hash
 * (nothing done). A node in a table under another hash, or in another
 * table, must not be added (undefined: the table's order breaks); nor may a
 * removed node before its grace period. Lock-free; never allocates (may
 * queue an automatic resize). */
int ferry_lfht_add(ferry_lfht *ht, unsigned long hash, ferry_lfht_node *node);

/* Add node unless a node with a matching key is present. Returns node when
 * it was added, else the node already present (node was not added and may
 * be freed or reused at once). Inside a read-side section. If only
 * add_unique and add_replace add a key, no two nodes with it are ever in the
 * table at once (and no traversal sees two). NULL ht, match or node: returns
 * NULL with errno EINVAL. node itself already in the table under this hash:
 * returns node (the node present), nothing changes. */
ferry_lfht_node *ferry_lfht_add_unique(ferry_lfht *ht, unsigned long hash, ferry_lfht_match_fn match,
                                       const void *key, ferry_lfht_node *node);

/* Add node, replacing the node with a matching key if one is present.
 * Returns the replaced node (free it after a grace period), or NULL when
 * none was present and node was added. Readers see either the old or the
 * new node, never neither, never both. Inside a read-side section. NULL ht,
 * match or node: returns NULL with errno EINVAL and adds nothing; so does
 * node itself already in the table under this hash (nothing to replace). */
ferry_lfht_node *ferry_lfht_add_replace(ferry_lfht *ht, unsigned long hash, ferry_lfht_match_fn match,
                                        const void *key, ferry_lfht_node *node);

/* Replace the node at old_iter (from a lookup in this read-side section) by
 * new_node, which must have the same hash and a key that matches. Returns
 * 0; -ENOENT when old_iter holds no node or the node was removed since;
 * -EINVAL when the hash or key differ, new_node is the old node, or an
 * argument is NULL. new_node must be in no table (undefined otherwise, as
 * for add). Free the old node after a grace period. Inside a read-side
 * section. */
int ferry_lfht_replace(ferry_lfht *ht, ferry_lfht_iter *old_iter, unsigned long hash,
                       ferry_lfht_match_fn match, const void *key, ferry_lfht_node *new_node);

/* Remove node (found in this read-side section). Returns 0 when this call
 * removed it (free it after a grace period), -ENOENT when node is NULL or
 * was already removed (by del, replace or add_replace), -EINVAL for a NULL
 * ht. When it returns 0 no lookup that starts after it finds node. Inside a
 * read-side section. The node must have been added to this table (or set up
 * with ferry_lfht_node_init_deleted: -ENOENT); a node never added, or in
 * another table, is undefined (not detected: it is marked removed). */
int ferry_lfht_del(ferry_lfht *ht, ferry_lfht_node *node);

/* Nonzero when node has been removed (or was set up with
 * ferry_lfht_node_init_deleted, or is NULL). Inside a read-side section
 * (the node's memory must be valid). No memory barrier. */
int ferry_lfht_is_node_deleted(const ferry_lfht_node *node);

/* Count the nodes by traversing the table (*count), and sample the
 * ACCOUNTING counters before and after (*split_count_before/after; 0 without
 * FERRY_LFHT_ACCOUNTING). Any of the three pointers may be NULL. Inside a
 * read-side section. Returns 0, or -EINVAL for a NULL ht. */
int ferry_lfht_count_nodes(ferry_lfht *ht, long *split_count_before, unsigned long *count,
                           long *split_count_after);

/* Resize to new_size buckets, rounded up to a power of two and clamped to
 * [min_nr_alloc_buckets, max_nr_buckets]. Runs in the caller, one doubling
 * or halving at a time, while lookups and updates go on. Returns 0; -EINVAL
 * for NULL ht or new_size 0; -ENOMEM when a bucket table could not be
 * allocated (the table keeps the size reached, consistent and usable) or
 * the size would take more than a quarter of the physical memory (refused
 * before anything changes); -EPERM when the calling thread is not
 * registered with the table's flavor (checked for the built-in flavors:
 * its sections would not hold grace periods up; nothing changes). The
 * calling thread must be registered with the flavor and not inside a
 * read-side section; a QSBR caller announces quiescent states, and one that
 * is offline is put online for the resize's work and back offline before
 * the return. May block behind another resize; allocates. */
int ferry_lfht_resize(ferry_lfht *ht, unsigned long new_size);

/* Iteration over all nodes / over the nodes matching key, inside a
 * read-side section; updates may run meanwhile (also on the current node).
 * node: a ferry_lfht_node * variable; pos: a pointer to the containing type
 * (member names the embedded node). */
#define ferry_lfht_for_each(ht, iter, node)                                       \
    for (ferry_lfht_first((ht), (iter)), (node) = ferry_lfht_iter_get_node(iter); \
         (node) != FERRY__NULLPTR;                                                \
         ferry_lfht_next((ht), (iter)), (node) = ferry_lfht_iter_get_node(iter))
#define ferry_lfht_for_each_duplicate(ht, hash, match, key, iter, node)                        \
    for (ferry_lfht_lookup((ht), (hash), (match), (key), (iter)),                             \
         (node) = ferry_lfht_iter_get_node(iter);                                             \
         (node) != FERRY__NULLPTR;                                                            \
         ferry_lfht_next_duplicate((ht), (match), (key), (iter)),                             \
         (node) = ferry_lfht_iter_get_node(iter))

/* Entry of a node, or NULL for a NULL node. */
#define ferry__lfht_entry(node, type, member) \
    ((node) ? ferry_container_of((node), type, member) : FERRY__SCAST(type *, FERRY__NULLPTR))

/* As ferry_lfht_for_each / _for_each_duplicate, with pos a pointer to the
 * struct that holds each node in its field `member`. */
#define ferry_lfht_for_each_entry(ht, iter, pos, member)                                       \
    for (ferry_lfht_first((ht), (iter)),                                                       \
         (pos) = ferry__lfht_entry(ferry_lfht_iter_get_node(iter), __typeof__(*(pos)), member); \
         (pos) != FERRY__NULLPTR;                                                              \
         ferry_lfht_next((ht), (iter)),                                                        \
         (pos) = ferry__lfht_entry(ferry_lfht_iter_get_node(iter), __typeof__(*(pos)), member))
#define ferry_lfht_for_each_entry_duplicate(ht, hash, match, key, iter, pos, member)           \
    for (ferry_lfht_lookup((ht), (hash), (match), (key), (iter)),                              \
         (pos) = ferry__lfht_entry(ferry_lfht_iter_get_node(iter), __typeof__(*(pos)), member); \
         (pos) != FERRY__NULLPTR;                                                              \
         ferry_lfht_next_duplicate((ht), (match), (key), (iter)),                              \
         (pos) = ferry__lfht_entry(ferry_lfht_iter_get_node(iter), __typeof__(*(pos)), member))

FERRY_EXTERN_C_END

#endif /* FERRY_RCUHASH_H */
