/* SPDX-License-Identifier: MIT */
/* Lock-free resizable RCU hash table (ferry/rcuhash.h).
 *
 * ------------------------------------------------------------------------
 * 1. Structure
 *
 * Every node of the table, user nodes and bucket nodes alike, is on ONE
 * singly linked list, sorted by key = the node's hash with its bits
 * reversed (Shalev and Shavit's split-ordered list; liburcu's cds_lfht and
 * the kernel's rhashtable taught us the RCU side). Bucket j of a table of
 * 2^k buckets is a node with key reverse(j); since reverse() puts the low
 * bits of the hash first, every node whose hash has low bits j sits between
 * bucket j and the next bucket node in list order. Among equal keys the
 * bucket node comes first, then user nodes in insertion order (add) or with
 * the newest unique one first (add_unique). A lookup for hash h starts at
 * bucket h & (size - 1) and walks until the key exceeds reverse(h).
 *
 * Doubling the table inserts bucket node j + 2^k after bucket j's run of
 * smaller keys: nothing moves, so readers and updaters go on meanwhile, and
 * a walker that read the old size simply starts at the parent bucket and
 * walks over the new bucket node. Halving removes buckets [2^(k-1), 2^k)
 * from the list. Bucket nodes live in one array per order (tbl[o] holds
 * buckets [2^(o-1), 2^o), tbl[0] bucket 0) so that a doubling allocates
 * one new array and never moves an old one.
 *
 * Every node's `next` word carries two flags in its low bits, about the
 * node that holds the word:
 *   REMOVED  the node is logically deleted; its next word never changes
 *            again ("frozen") and no node is ever linked after it;
 *   BUCKET   the node is a bucket node (set at creation, never changes).
 *
 * ------------------------------------------------------------------------
 * 2. Invariants
 *
 *  I1  The nodes reachable from bucket 0 through unmarked next words are
 *      sorted by (key, bucket first). Every link is written by a CAS on an
 *      unmarked word (insert, unlink) or by the CAS that marks it.
 *  I2  A marked word never changes (every CAS expects an unmarked value).
 *  I3  A node leaves the list only after it is marked, by a CAS on the
 *      unmarked word of its predecessor that swings it to the marked
 *      node's successor ("unlink"). Hence an unmarked node is on the list.
 *  I4  Bucket 0 is never marked. For size = the published bucket count,
 *      the buckets [0, size) are on the list except while a halving that
 *      published size marks and unlinks [size, 2 size).
 *  I5  Memory of an unlinked node is reused only after a grace period:
 *      the caller frees user nodes through RCU after del/replace; the
 *      table frees a halved bucket array through the flavor's call; and
 *      bucket arrays of the first min_nr_alloc_buckets buckets, which are
 *      never freed, are never removed either (size >= that minimum).
 *
 * ------------------------------------------------------------------------
 * 3. Readers (lookup, next_duplicate, first, next, count_nodes)
 *
 * A reader in a read-side section follows next words and skips nodes that
 * are marked or are buckets. It never writes, so it is wait-free: every
 * step moves to a larger key or ends (the list has no cycle by I1, and a
 * marked node's frozen successor has a larger key than the node).
 *
 * Memory safety: a reader reaches a node either from an unmarked word (the
 * node was linked when it was read, so its reclamation needs a grace
 * period that starts later, I5) or from the frozen word of a marked node M
 * that it stands on. M's frozen successor S can be unlinked only after M
 * is: S's predecessor on the list is M as long as M is linked, and M's word
 * cannot change (I2). The reader reached M while M was linked, so before
 * S's unlink, so S's grace period waits for the reader too. A bucket array
 * read through a stale (larger) size is valid for the same reason: the
 * halving published the smaller size before it unlinked anything, and the
 * array is freed a grace period after the unlinks; a reader that saw the
 * old size began before that grace period.
 *
 * Results: an unmarked node whose key matches was on the list when its word
 * was read (I3): the lookup returns a node that was present at a moment
 * during the call. Starting at a bucket that a halving is removing (stale
 * size) cannot hide a node that was added before the lookup began: a node
 * can be linked into the removed bucket's range only after the bucket's
 * mark was seen (a CAS after a marked word fails), and the halving stored
 * the smaller size before marking, so whoever is ordered after that add
 * also reads the smaller size.
 *
 * ------------------------------------------------------------------------
 * 4. Updaters (add, add_unique, add_replace, replace, del)
 *
 * An updater walks like a reader but keeps (prev, cur) = (last unmarked node
 * passed, the value read from its word). Meeting a marked node it helps: it
 * unlinks it with a CAS on prev's word (I3) and goes on from prev (prev is
 * still linked while its word is unmarked). It commits with one CAS on
 * prev's word; the CAS fails if anything was linked after prev, or prev
 * was marked, since the walk read it; it then continues from prev's new
 * word, or restarts from the bucket if prev is marked now. The walk runs in
 * a read-side section, so no node it holds is reused (no ABA: a CAS that
 * succeeds on an address finds the same node there, I5).
 *
 * Start bucket: an updater must not start from a bucket that a halving is
 * removing (its CAS on a marked word would fail forever, or worse, relink
 * after a marked node). It reads the bucket's word first; marked means a
 * halving published a smaller size before marking (release, the marking
 * RMW); the reader of the mark (acquire) reloads the size and gets the
 * smaller one. So no grace period is needed between publishing a smaller
 * size and removing buckets, unlike liburcu's shrink.
 *
 * add: inserts after the run of equal keys. add_unique / add_replace: at
 * the head of the run of equal keys, after scanning the run for an
 * unmarked matching node (found: add_unique returns it; add_replace
 * replaces it). A node with the same key added meanwhile by either of them
 * would be at the head too, so it changes prev's word and the CAS fails;
 * the retry scans it. Hence no duplicates among nodes they add.
 *
 * replace(old, new): one CAS on old's unmarked word sets it to (new |
 * REMOVED), with new's word = old's successor. Before the CAS a reader at
 * old's position sees old (and not new: new is reachable only through
 * old's word); after it, it skips old and sees new. Never both, never
 * neither. The CAS decides ownership: of racing replace/del on old exactly
 * one CAS marks it. Then the replacer unlinks old (below).
 *
 * del(node): a CAS marks node's word (the winner owns the node, others get
 * -ENOENT), then it walks the chain from the start bucket up to the end of
 * node's run of keys, unlinking every marked node met, restarting until
 * one pass meets none. A pass that passes node's key without meeting node
 * proves node unlinked: each link it read was an unmarked word of a linked
 * node (I3), sorted (I1); node can never be linked again (I2). So when del
 * returns, node is unreachable from the list, and after a grace period no
 * reader holds it: the caller may free it.
 *
 * Lock-freedom: a CAS fails only because another one succeeded.
 *
 * ------------------------------------------------------------------------
 * 5. Resizing
 *
 * One resize at a time (resize_lock), one doubling or halving per step,
 * each step publishing the size it reached. The target size is
 * ht->target; automatic resizes queue resize_cb with the flavor's call
 * (it runs on the callback thread, a registered reader), explicit ones run
 * in the caller. Neither waits for a grace period, so a resize never blocks
 * on readers and the callback thread never blocks on itself.
 *
 * Doubling 2^k -> 2^(k+1): allocate tbl[k+1] (failure: stop, size stays,
 * -ENOMEM), insert each new bucket j with the updaters' insert from its
 * parent bucket j - 2^k (bucket mode: before equal keys), then publish
 * tbl[k+1] and the size (release; lookups load the size with acquire and
 * the array pointer with acquire, so they see linked buckets).
 *
 * Halving 2^(k+1) -> 2^k: publish the size (release), then for each bucket
 * j in [2^k, 2^(k+1)) mark its word (seq_cst RMW: release for the size, see
 * section 4) and unlink it with the deleters' walk from its parent. Then
 * queue the array's free with the flavor's call: it runs after a grace
 * period, when no reader can stand on those buckets (I5). tbl[k+1] is left
 * pointing at the freed array: only readers that saw the old size use it,
 * and they finish before the free. The next doubling stores a new array.
 *
 * Long resizes leave the read-side section every RESIZE_CHUNK buckets (and
 * announce a quiescent state, for QSBR): the resizer holds no reference
 * across chunks (the arrays are its own, parent buckets are not removed
 * while it holds resize_lock), so grace periods need not wait for it.
 *
 * Automatic policy (FERRY_LFHT_AUTO_RESIZE): with FERRY_LFHT_ACCOUNTING,
 * each CPU counts adds and dels in its own cache lines; at 1, 2, 4, ...,
 * COMMIT and then every COMMIT operations of a counter, and when an add
 * walked past CHAIN_HINT nodes of distinct hashes, the counters are summed:
 * more than 2 nodes per bucket grows to the next power of two >= the
 * count, fewer than 1 per 8 buckets shrinks to it (never below
 * min_nr_alloc_buckets). Without ACCOUNTING only chain length is known: an
 * add that walked past CHAIN_GROW nodes of distinct hashes grows the table
 * by the next power of two of that count. (Equal hashes are not counted:
 * no size splits them.) While a resize is queued, requests only raise the
 * target; resize_cb sums the counters again when it runs (retarget).
 *
 * Helping: the queued resize waits for a grace period, which a long
 * read-side section (or a QSBR thread that announces no quiescent state)
 * holds up. When an add walks past CHAIN_HELP nodes of distinct hashes,
 * the updater grows the table itself (help_grow): under a trylock of
 * resize_lock, inside its own read-side section, without leaving it
 * between chunks. Growing needs no grace period, so this is safe anywhere
 * an add is; shrinking is left to the callback.
 *
 * ------------------------------------------------------------------------
 * 6. Ordering guarantees (those of cds_lfht)
 *
 * Reads: lookup, next_duplicate, first, next, a failed add_unique. Writes:
 * add, add_unique that adds, add_replace, replace, del that succeeds.
 *  - A read ordered after a write (happens-before) sees it or a later
 *    write; a write ordered after a read is not seen by it. Concurrent
 *    ones may or may not be seen.
 *  - Writes commit with a seq_cst RMW: a full barrier before and after.
 *  - A grace period after a del/replace: later reads do not see the node.
 *  - add_unique/add_replace never make two nodes of one key present.
 * Loads of next words are acquire (ferry_rcu_dereference's order): the
 * CAS that linked a node published its contents (release half of seq_cst).
 */
#include <ferry/list.h>
#include <ferry/rcuhash.h>
#include <ferry/rcu_qsbr.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "platform.h"
#include "rcu_common.h"
#include "rcuhash_internal.h"

#define REMOVED ((uintptr_t)1)
#define BUCKET ((uintptr_t)2)
#define FLAGS (REMOVED | BUCKET)

#define LONG_BITS ((unsigned)(sizeof(unsigned long) * CHAR_BIT))
#define MAX_ORDER (LONG_BITS - 1)              /* at most 2^MAX_ORDER buckets */

#define COMMIT 1024UL       /* counter checks: every COMMIT ops (and at 2^n) */
#define CHAIN_HINT 8u       /* ACCOUNTING: a walk this long triggers a count */
#define CHAIN_GROW 4u       /* no ACCOUNTING: a walk this long grows */
#define CHAIN_HELP 32u      /* a walk this long: the updater grows the table */
#define RESIZE_CHUNK 1024UL /* buckets per read-side section while resizing */
#define MAX_SLOTS 64u       /* per-CPU counter lines */

/* The head automatic resizes are queued with: the table's own, or, after a
 * fork child had to leave the table's head to the flavor (fork_child_one),
 * an allocated one. An allocated head given up in a later fork goes on the
 * table's given_up list, which destroy frees (the flavor may run it or drop
 * it; the table cannot tell which). */
struct resize_req {
    ferry_rcu_head rh;
    ferry_lfht *ht;
    struct resize_req *given_up_next;
};

/* One bucket array, freed through the flavor's call after a halving: put
 * on the resizer's `retired` list under resize_lock, handed to the call
 * once the lock is released (free_retired). */
struct bucket_block {
    ferry_rcu_head rh;
    struct bucket_block *retired_next;
    ferry_lfht_node b[];
};

/* Add/del counters of the threads running on one CPU. Two lines each: x86
 * prefetches lines in pairs, which would make neighbours share. */
struct count_slot {
    FERRY_ATOMIC(unsigned long) add;
    FERRY_ATOMIC(unsigned long) del;
} __attribute__((aligned(2 * FERRY_CACHELINE)));

struct ferry_lfht {
    /* Read by every operation; written only by the resizer. */
    FERRY_ATOMIC(unsigned long) size;              /* published bucket count */
    FERRY_ATOMIC(ferry_lfht_node *) tbl[LONG_BITS]; /* bucket arrays by order */
    int flags;
    unsigned min_order;                            /* log2(min_nr_alloc_buckets) */
    unsigned long max_size;
    const ferry_lfht_flavor *fl;
    struct count_slot *slots;                      /* NULL without ACCOUNTING */
    unsigned long slot_mask;

    /* Resize state, away from the read-mostly line. */
    pthread_mutex_t resize_lock __attribute__((aligned(FERRY_CACHELINE)));
    FERRY_ATOMIC(unsigned long) target;            /* size the resizer works toward */
    FERRY_ATOMIC(int) queued;                      /* resize_cb queued or running */
    FERRY_ATOMIC(int) ever_queued;                 /* destroy must run a barrier */
    FERRY_ATOMIC(int) destroying;
    /* Fork handling only (fork_child_one reads them in a child). */
    FERRY_ATOMIC(int) calling;                     /* queue_resize inside fl->call */
    FERRY_ATOMIC(int) cb_started;                  /* the last queued resize_cb began */
    struct resize_req *req;                        /* &own_req, or one a fork child made */
    struct resize_req own_req;
    struct resize_req *given_up;                   /* allocated heads given up */
    ferry_lfht_node *initial;                      /* buckets [0, min), one allocation */
    ferry_list live;                               /* in live_tables (fork handling) */
    FERRY_ATOMIC(unsigned long) stat_resizes;      /* steps done (tests) */
    FERRY_ATOMIC(unsigned long) stat_failures;     /* allocations failed */
};

/* Test hooks: tests/torture/rcuhash_windows.c compiles this file with
 * FERRY_LFHT_TEST_HOOKS and stalls threads at these points to widen the
 * races between them. Nothing in the library. */
enum {
    HOOK_START,     /* updater: between loading the size and its bucket's word */
    HOOK_LOOKUP,    /* reader: the same */
    HOOK_COMMIT,    /* updater: before the CAS that links a node */
    HOOK_UNLINK,    /* del, replace: after marking, before unlinking */
    HOOK_SHRINK,    /* halving: after publishing the size, between buckets */
    HOOK_GROW,      /* doubling: after linking, before publishing */
    HOOK_CALLBACK,  /* resize_cb: started, before anything else */
    HOOK_RESIZED,   /* resize_cb: a pass done, before it clears queued */
    HOOK_COUNT
};
#ifdef FERRY_LFHT_TEST_HOOKS
void ferry__lfht_test_hook(int point);
#define TEST_HOOK(p) ferry__lfht_test_hook(p)
#else
#define TEST_HOOK(p) ((void)0)
#endif

/* FERRY_DEBUG: abort unless the caller is in a read-side section. */
#ifdef FERRY_DEBUG
#define CHECK_READING(ht, what)                                                      \
    do {                                                                             \
        bool (*ferry__on)(void) = (ht)->fl->read_ongoing;                            \
        if (FERRY_UNLIKELY(ferry__on && !ferry__on()))                               \
            ferry__die("%s outside a read-side section of the table's RCU flavor", \
                       (what));                                                      \
    } while (0)
#else
#define CHECK_READING(ht, what) ((void)0)
#endif

/* ------------------------------------------------------------------------ */
/* Bits.                                                                     */

static inline unsigned long bit_reverse(unsigned long v)
{
#if ULONG_MAX > 0xffffffffUL
    v = __builtin_bswap64(v);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fUL) | ((v & 0x0f0f0f0f0f0f0f0fUL) << 4);
    v = ((v >> 2) & 0x3333333333333333UL) | ((v & 0x3333333333333333UL) << 2);
    v = ((v >> 1) & 0x5555555555555555UL) | ((v & 0x5555555555555555UL) << 1);
#else
    v = __builtin_bswap32(v);
    v = ((v >> 4) & 0x0f0f0f0fUL) | ((v & 0x0f0f0f0fUL) << 4);
    v = ((v >> 2) & 0x33333333UL) | ((v & 0x33333333UL) << 2);
    v = ((v >> 1) & 0x55555555UL) | ((v & 0x55555555UL) << 1);
#endif
    return v;
}

/* Position of the highest set bit, 1-based; 0 for 0. */
static inline unsigned fls_ulong(unsigned long v)
{
    return v ? LONG_BITS - (unsigned)__builtin_clzl(v) : 0;
}

/* log2 of the smallest power of two >= v (v >= 1). */
static inline unsigned order_of(unsigned long v)
{
    return fls_ulong(v - 1);
}

static inline bool is_pow2(unsigned long v)
{
    return v && !(v & (v - 1));
}

/* Can a table have this many buckets? Its bucket arrays take about
 * buckets * 16 bytes; more than a quarter of the physical memory is
 * refused (-ENOMEM) up front: with overcommit, trying would end in the OOM
 * killer, not in a failed malloc. Called only when sizes are chosen. */
static bool affordable(unsigned long buckets)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return buckets <= SIZE_MAX / 4 / sizeof(ferry_lfht_node);
    unsigned long limit = (unsigned long)pages / 4;
    limit = limit > ULONG_MAX / (unsigned long)page ? ULONG_MAX : limit * (unsigned long)page;
    return buckets <= limit / sizeof(ferry_lfht_node);
}

static inline ferry_lfht_node *ptr_of(uintptr_t w)
{
    return (ferry_lfht_node *)(w & ~FLAGS);
}

/* ------------------------------------------------------------------------ */
/* Buckets.                                                                  */

/* Bucket i, for i < a size this thread loaded with acquire. The array
 * pointer is loaded with acquire too: pairs with the release store in
 * grow_one, so the buckets it holds are seen linked even when the array is
 * newer than the size loaded (a stale-size reader during a regrow). */
static inline ferry_lfht_node *bucket_at(ferry_lfht *ht, unsigned long i)
{
    unsigned o = fls_ulong(i);
    ferry_lfht_node *t = atomic_load_explicit(&ht->tbl[o], memory_order_acquire);
    return &t[i - ((1UL << o) >> 1)];
}

/* The published size. Acquire pairs with the release stores of the
 * resizer (grow_one: the new buckets are linked; shrink_one: orders the
 * size before the marks, see start_bucket). */
static inline unsigned long load_size(ferry_lfht *ht)
{
    return atomic_load_explicit(&ht->size, memory_order_acquire);
}

/* Start of an updater's walk for hash: an unmarked bucket and the word read
 * from it. A marked bucket is being removed by a halving that stored the
 * smaller size before marking it; the acquire load of the mark pairs with
 * the marking RMW, so the reloaded size is the smaller one (or later). */
static inline ferry_lfht_node *start_bucket(ferry_lfht *ht, unsigned long hash, uintptr_t *word)
{
    for (;;) {
        unsigned long size = load_size(ht);
        TEST_HOOK(HOOK_START);
        ferry_lfht_node *b = bucket_at(ht, hash & (size - 1));
        /* Acquire: pairs with the CAS that linked b's successor. */
        uintptr_t w = atomic_load_explicit(&b->next, memory_order_acquire);
        if (FERRY_LIKELY(!(w & REMOVED))) {
            *word = w;
            return b;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Counting and automatic resizing.                                          */

/* The counter slot of the calling thread: its CPU (glibc reads it from
 * rseq: one thread-local load), so threads running at once rarely share a
 * line; a thread-derived number when the CPU is unknown. */
static inline unsigned thread_slot(void)
{
    int cpu = sched_getcpu();
    if (FERRY_LIKELY(cpu >= 0))
        return (unsigned)cpu;
    static FERRY_TLS char anchor;
    return (unsigned)((uintptr_t)&anchor >> 12);
}

static long count_sum(ferry_lfht *ht)
{
    long n = 0;
    for (unsigned long i = 0; i <= ht->slot_mask; i++) {
        /* Relaxed: an estimate; the counters are monotonic. */
        n += (long)atomic_load_explicit(&ht->slots[i].add, memory_order_relaxed);
        n -= (long)atomic_load_explicit(&ht->slots[i].del, memory_order_relaxed);
    }
    return n;
}

static void resize_cb(ferry_rcu_head *h);
static int do_resize(ferry_lfht *ht, bool in_section, struct bucket_block **retired);

/* Make sure resize_cb runs (once) after target changed. seq_cst exchange:
 * Dekker pair with resize_cb, which clears queued and then reloads target;
 * we changed target (seq_cst) and then set queued. One of the two sees the
 * other's store, so no target is left unserved. */
static void queue_resize(ferry_lfht *ht)
{
    /* Relaxed: destroy runs with no update in flight (the caller's
     * promise); this only keeps a stray request from queueing. */
    if (atomic_load_explicit(&ht->destroying, memory_order_relaxed))
        return;
    /* A seq_cst load suffices for the Dekker pair and keeps the line
     * shared while a resize is queued. */
    if (atomic_load_explicit(&ht->queued, memory_order_seq_cst))
        return;
    if (atomic_exchange_explicit(&ht->queued, 1, memory_order_seq_cst) == 0) {
        /* Relaxed (calling, cb_started): only a fork child reads them, in
         * fork's copy of memory, which respects this thread's program
         * order; the opaque call keeps the compiler from moving them
         * across it. */
        atomic_store_explicit(&ht->calling, 1, memory_order_relaxed);
        atomic_store_explicit(&ht->cb_started, 0, memory_order_relaxed);
        /* Relaxed: destroy reads it after the table is quiescent. */
        atomic_store_explicit(&ht->ever_queued, 1, memory_order_relaxed);
        ht->fl->call(&ht->req->rh, resize_cb);
        atomic_store_explicit(&ht->calling, 0, memory_order_relaxed);
    }
}

static void request_grow(ferry_lfht *ht, unsigned long want)
{
    if (want > ht->max_size)
        want = ht->max_size;
    /* Relaxed: the CAS below validates it. */
    unsigned long t = atomic_load_explicit(&ht->target, memory_order_relaxed);
    /* seq_cst: see queue_resize. A larger target stays (grows win). */
    while (t < want && !atomic_compare_exchange_weak_explicit(&ht->target, &t, want, memory_order_seq_cst,
                                                              memory_order_relaxed))
        ;
    if (t < want || load_size(ht) < want)
        queue_resize(ht);
}

static void request_shrink(ferry_lfht *ht, unsigned long size, unsigned long want)
{
    unsigned long min = 1UL << ht->min_order;
    if (want < min)
        want = min;
    if (want >= size)
        return;
    unsigned long t = size;
    /* Only when no other resize is pending (target == size); seq_cst: see
     * queue_resize. */
    if (atomic_compare_exchange_strong_explicit(&ht->target, &t, want, memory_order_seq_cst,
                                                memory_order_relaxed))
        queue_resize(ht);
}

/* Decide from the counters (ACCOUNTING and AUTO_RESIZE). */
static void check_count(ferry_lfht *ht, unsigned long size)
{
    /* Relaxed: a queued resize will re-read everything it needs. */
    if (atomic_load_explicit(&ht->queued, memory_order_relaxed))
        return;
    long n = count_sum(ht);
    if (n < 0)
        n = 0;
    unsigned long un = (unsigned long)n;
    if (un > 2 * size)
        request_grow(ht, 1UL << order_of(un));
    else if (un < size / 8)
        request_shrink(ht, size, un ? 1UL << order_of(un) : 1);
}

/* The queued resize is late (its grace period has not ended: a long
 * read-side section, a QSBR thread that does not announce quiescent
 * states) and chains are long: the updater grows the table itself, inside
 * its read-side section (growing needs no grace period), unless another
 * resize is running. Shrinking stays with the callback. */
static void help_grow(ferry_lfht *ht, unsigned long size, unsigned chain)
{
    if (ht->slots) {
        long n = count_sum(ht);
        if (n < 0 || (unsigned long)n <= 2 * size)
            return;   /* not crowded: equal hashes, which growing cannot split */
        request_grow(ht, 1UL << order_of((unsigned long)n));
    } else {
        unsigned g = order_of(chain);
        request_grow(ht, g >= LONG_BITS || (size << g) >> g != size ? ht->max_size : size << g);
    }
    if (pthread_mutex_trylock(&ht->resize_lock) == 0) {
        do_resize(ht, true, NULL);   /* grows only: retires nothing */
        pthread_mutex_unlock(&ht->resize_lock);
    }
}

/* After an add walked past `chain` user nodes (of distinct hashes). */
static void check_chain(ferry_lfht *ht, unsigned long size, unsigned chain)
{
    if (!(ht->flags & FERRY_LFHT_AUTO_RESIZE))
        return;
    if (FERRY_UNLIKELY(chain >= CHAIN_HELP)) {
        help_grow(ht, size, chain);
    } else if (ht->slots) {
        if (chain >= CHAIN_HINT)
            check_count(ht, size);
    } else if (chain >= CHAIN_GROW &&
               /* Relaxed: a hint (queue_resize decides with seq_cst). */
               !atomic_load_explicit(&ht->queued, memory_order_relaxed)) {
        unsigned g = order_of(chain);
        request_grow(ht, g >= LONG_BITS || (size << g) >> g != size ? ht->max_size : size << g);
    }
}

static void count_op(ferry_lfht *ht, bool add, unsigned long size)
{
    if (!ht->slots)
        return;
    struct count_slot *s = &ht->slots[thread_slot() & ht->slot_mask];
    /* Relaxed: the counters are estimates; the RMW keeps them exact when
     * threads share a slot. */
    unsigned long c = atomic_fetch_add_explicit(add ? &s->add : &s->del, 1, memory_order_relaxed) + 1;
    if ((ht->flags & FERRY_LFHT_AUTO_RESIZE) && ((c & (COMMIT - 1)) == 0 || (c & (c - 1)) == 0))
        check_count(ht, size);
}

/* ------------------------------------------------------------------------ */
/* The walk shared by the updaters.                                          */

enum insert_mode { INSERT_DUP, INSERT_UNIQUE, INSERT_BUCKET };

/* prev's word was read as *cur, pointing at a node whose word nw is
 * marked: unlink that node by swinging prev's word to its frozen successor
 * (keeping prev's own BUCKET flag). seq_cst CAS: release pairs with walkers'
 * acquire loads of prev's word; on failure *cur gets the current word
 * (acquire: pairs with the CAS that stored it). Returns false when prev is
 * marked now (the caller restarts from its bucket); else the caller goes on
 * from prev with *cur. */
static inline bool unlink_next(ferry_lfht_node *prev, uintptr_t *cur, uintptr_t nw)
{
    uintptr_t want = (nw & ~FLAGS) | (*cur & BUCKET);
    if (atomic_compare_exchange_strong_explicit(&prev->next, cur, want, memory_order_seq_cst,
                                                memory_order_acquire))
        *cur = want;
    return !(*cur & REMOVED);
}

/* First unmarked node at or after `w` (a word value) with key == rev whose
 * word is not a bucket's and whose key matches; NULL if the run of key rev
 * ends first. *nextw gets the found node's word. */
static ferry_lfht_node *scan_run(uintptr_t w, unsigned long rev, ferry_lfht_match_fn match,
                                 const void *key, uintptr_t *nextw)
{
    for (ferry_lfht_node *n = ptr_of(w); n && n->reverse_hash <= rev; n = ptr_of(w)) {
        /* Acquire: pairs with the CAS that linked n's successor. */
        w = atomic_load_explicit(&n->next, memory_order_acquire);
        if (n->reverse_hash == rev && !(w & FLAGS) && match(n, key)) {
            *nextw = w;
            return n;
        }
    }
    return NULL;
}

/* Is node linked in the run of key rev that starts at `w` (a word value)? */
static bool in_run(uintptr_t w, unsigned long rev, const ferry_lfht_node *node)
{
    for (ferry_lfht_node *n = ptr_of(w); n && n->reverse_hash <= rev; n = ptr_of(w)) {
        if (n == node)
            return true;
        /* Acquire: pairs with the CAS that linked n's successor. */
        w = atomic_load_explicit(&n->next, memory_order_acquire);
    }
    return false;
}

/* Insert node (reverse_hash set) for hash. INSERT_UNIQUE: unless a node
 * matching key is present; then returns it (and its word in *found_next)
 * without inserting. Returns node when inserted; NULL, inserting nothing,
 * when the walk meets node itself (added twice under one hash: linking it
 * again would make a cycle). *chain: user nodes walked
 * in the last pass. Caller is in a read-side section. */
static ferry_lfht_node *insert(ferry_lfht *ht, unsigned long hash, ferry_lfht_node *node,
                               enum insert_mode mode, ferry_lfht_match_fn match, const void *key,
                               uintptr_t *found_next, unsigned *chain)
{
    const unsigned long rev = node->reverse_hash;
restart:;
    uintptr_t cur;
    ferry_lfht_node *prev = start_bucket(ht, hash, &cur);
    unsigned walked = 0;
    unsigned long last_rev = rev;   /* != any key passed: they are < rev */
    for (;;) {
        ferry_lfht_node *n = ptr_of(cur);
        if (!n || n->reverse_hash > rev || (mode == INSERT_BUCKET && n->reverse_hash == rev))
            goto commit;
        /* Acquire: pairs with the CAS that linked n's successor. */
        uintptr_t nw = atomic_load_explicit(&n->next, memory_order_acquire);
        if (nw & REMOVED) {
            if (!unlink_next(prev, &cur, nw))
                goto restart;
            continue;
        }
        if (FERRY_UNLIKELY(n == node))
            return NULL;   /* node is in the table already, under this hash */
        if (mode == INSERT_UNIQUE && n->reverse_hash == rev && !(nw & BUCKET)) {
            /* n heads the run of equal keys (buckets come first). */
            ferry_lfht_node *dup = scan_run(cur, rev, match, key, found_next);
            if (dup) {
                *chain = walked;
                return dup;
            }
            if (FERRY_UNLIKELY(in_run(cur, rev, node)))
                return NULL;   /* node is in the run, but does not match key */
            goto commit;   /* as the new head of the run */
        }
        if (!(nw & BUCKET) && n->reverse_hash != last_rev) {
            walked++;   /* distinct hashes only: growing cannot split equal ones */
            last_rev = n->reverse_hash;
        }
        prev = n;
        cur = nw;
        continue;
    commit:
        TEST_HOOK(HOOK_COMMIT);
        /* Relaxed: node is not reachable yet; the CAS below publishes it. */
        atomic_store_explicit(&node->next, (cur & ~FLAGS) | (mode == INSERT_BUCKET ? BUCKET : 0),
                              memory_order_relaxed);
        /* seq_cst CAS: release publishes node (its word above and the
         * caller's initialization of the object) to walkers' acquire loads
         * of prev's word; the full barrier is the commit point of the add. */
        if (atomic_compare_exchange_strong_explicit(&prev->next, &cur, (uintptr_t)node | (cur & BUCKET),
                                                    memory_order_seq_cst, memory_order_acquire)) {
            *chain = walked;
            return node;
        }
        if (cur & REMOVED)
            goto restart;
        /* prev is still linked; continue from its new word. */
    }
}

/* Unlink every marked node from the start of hash's chain through the end
 * of the run of key rev, until one pass meets none (see section 4, del).
 * Caller is in a read-side section. */
static void unlink_marked(ferry_lfht *ht, unsigned long hash, unsigned long rev)
{
restart:;
    uintptr_t cur;
    ferry_lfht_node *prev = start_bucket(ht, hash, &cur);
    for (;;) {
        ferry_lfht_node *n = ptr_of(cur);
        if (!n || n->reverse_hash > rev)
            return;
        /* Acquire: pairs with the CAS that linked n's successor. */
        uintptr_t nw = atomic_load_explicit(&n->next, memory_order_acquire);
        if (nw & REMOVED) {
            if (!unlink_next(prev, &cur, nw))
                goto restart;
            continue;
        }
        prev = n;
        cur = nw;
    }
}

/* Mark old (word old_next, unmarked) as replaced by new: one CAS sets old's
 * word to new | REMOVED with new's word = old's successor. Retries while
 * only old's successor changes. 0, or -ENOENT when old is marked. */
static int replace_node(ferry_lfht *ht, ferry_lfht_node *old, uintptr_t old_next, ferry_lfht_node *new_node)
{
    for (;;) {
        if (old_next & REMOVED)
            return -ENOENT;
        /* Relaxed: new_node is not reachable yet; the CAS publishes it. */
        atomic_store_explicit(&new_node->next, old_next, memory_order_relaxed);
        /* seq_cst: release publishes new_node (walkers reach it through
         * old's word with an acquire load); the full barrier is the commit
         * point. Failure: acquire, old's word changed (a node linked after
         * old, its successor unlinked, or old marked). */
        if (atomic_compare_exchange_strong_explicit(&old->next, &old_next,
                                                    (uintptr_t)new_node | REMOVED,
                                                    memory_order_seq_cst, memory_order_acquire))
            break;
    }
    TEST_HOOK(HOOK_UNLINK);
    unlink_marked(ht, bit_reverse(old->reverse_hash), old->reverse_hash);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Readers.                                                                  */

void ferry_lfht_lookup(ferry_lfht *ht, unsigned long hash, ferry_lfht_match_fn match, const void *key,
                       ferry_lfht_iter *iter)
{
    if (FERRY_UNLIKELY(!iter))
        return;
    iter->node = NULL;
    iter->next = 0;
    if (FERRY_UNLIKELY(!ht || !match))
        return;
    CHECK_READING(ht, "ferry_lfht_lookup");
    const unsigned long rev = bit_reverse(hash);
    unsigned long size = load_size(ht);
    TEST_HOOK(HOOK_LOOKUP);
    ferry_lfht_node *b = bucket_at(ht, hash & (size - 1));
    /* Acquire (here and below): pairs with the CAS that linked each node,
     * which published its contents. */
    ferry_lfht_node *n = ptr_of(atomic_load_explicit(&b->next, memory_order_acquire));
    while (n && n->reverse_hash <= rev) {
        uintptr_t w = atomic_load_explicit(&n->next, memory_order_acquire);
        if (n->reverse_hash == rev && !(w & FLAGS) && match(n, key)) {
            iter->node = n;
            iter->next = w;
            return;
        }
        n = ptr_of(w);
    }
}

void ferry_lfht_next_duplicate(ferry_lfht *ht, ferry_lfht_match_fn match, const void *key,
                               ferry_lfht_iter *iter)
{
    if (FERRY_UNLIKELY(!iter))
        return;
    if (FERRY_UNLIKELY(!ht || !match || !iter->node)) {
        iter->node = NULL;
        return;
    }
    CHECK_READING(ht, "ferry_lfht_next_duplicate");
    uintptr_t w = 0;
    ferry_lfht_node *n = scan_run(iter->next, iter->node->reverse_hash, match, key, &w);
    iter->node = n;
    iter->next = n ? w : 0;
}

void ferry_lfht_next(ferry_lfht *ht, ferry_lfht_iter *iter)
{
    if (FERRY_UNLIKELY(!iter))
        return;
    if (FERRY_UNLIKELY(!ht)) {
        iter->node = NULL;
        return;
    }
    CHECK_READING(ht, "ferry_lfht_next");
    for (ferry_lfht_node *n = ptr_of(iter->next); n; ) {
        /* Acquire: pairs with the CAS that linked n's successor. */
        uintptr_t w = atomic_load_explicit(&n->next, memory_order_acquire);
        if (!(w & FLAGS)) {
            iter->node = n;
            iter->next = w;
            return;
        }
        n = ptr_of(w);
    }
    iter->node = NULL;
    iter->next = 0;
}

void ferry_lfht_first(ferry_lfht *ht, ferry_lfht_iter *iter)
{
    if (FERRY_UNLIKELY(!iter))
        return;
    if (FERRY_UNLIKELY(!ht)) {
        iter->node = NULL;
        return;
    }
    CHECK_READING(ht, "ferry_lfht_first");
    /* Bucket 0 is never removed (I4). Acquire: pairs with the CAS that
     * linked its successor. */
    iter->next = atomic_load_explicit(&bucket_at(ht, 0)->next, memory_order_acquire);
    ferry_lfht_next(ht, iter);
}

int ferry_lfht_is_node_deleted(const ferry_lfht_node *node)
{
    /* Relaxed: no ordering promised (as cds_lfht_is_node_deleted). */
    return node ? (int)(atomic_load_explicit(&node->next, memory_order_relaxed) & REMOVED) : 1;
}

int ferry_lfht_count_nodes(ferry_lfht *ht, long *split_count_before, unsigned long *count,
                           long *split_count_after)
{
    if (!ht)
        return -EINVAL;
    CHECK_READING(ht, "ferry_lfht_count_nodes");
    if (split_count_before)
        *split_count_before = ht->slots ? count_sum(ht) : 0;
    unsigned long c = 0;
    ferry_lfht_node *n = bucket_at(ht, 0);
    while (n) {
        /* Acquire: pairs with the CAS that linked n's successor. */
        uintptr_t w = atomic_load_explicit(&n->next, memory_order_acquire);
        if (!(w & FLAGS))
            c++;
        n = ptr_of(w);
    }
    if (count)
        *count = c;
    if (split_count_after)
        *split_count_after = ht->slots ? count_sum(ht) : 0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Updaters.                                                                 */

/* A node was added after a walk past `chain` user nodes. */
static void added(ferry_lfht *ht, unsigned long size, unsigned chain)
{
    check_chain(ht, size, chain);
    count_op(ht, true, size);
}

int ferry_lfht_add(ferry_lfht *ht, unsigned long hash, ferry_lfht_node *node)
{
    if (FERRY_UNLIKELY(!ht || !node))
        return -EINVAL;
    CHECK_READING(ht, "ferry_lfht_add");
    node->reverse_hash = bit_reverse(hash);
    unsigned long size = load_size(ht);
    unsigned chain;
    if (FERRY_UNLIKELY(!insert(ht, hash, node, INSERT_DUP, NULL, NULL, NULL, &chain)))
        return -EEXIST;
    added(ht, size, chain);
    return 0;
}

/* Validate add_unique / add_replace arguments (errno EINVAL if bad). */
static bool unique_args_ok(ferry_lfht *ht, ferry_lfht_match_fn match, ferry_lfht_node *node)
{
    if (FERRY_LIKELY(ht && match && node))
        return true;
    errno = EINVAL;
    return false;
}

/* add_unique's body: returns node (added) or the matching node present,
 * whose word the scan read is stored in *w. */
/* *w is the found node's word, or REMOVED (never a found word: scan_run
 * returns unmarked nodes only) when node was inserted -- so that node
 * itself, already in the table with a matching key, reads as found, not as
 * added. */
static ferry_lfht_node *add_unique_at(ferry_lfht *ht, unsigned long hash, ferry_lfht_match_fn match,
                                      const void *key, ferry_lfht_node *node, uintptr_t *w)
{
    unsigned long size = load_size(ht);
    unsigned chain;
    *w = REMOVED;
    ferry_lfht_node *r = insert(ht, hash, node, INSERT_UNIQUE, match, key, w, &chain);
    if (!r) {   /* node itself is in the table: found, whatever match says */
        *w = 0;
        return node;
    }
    if (r == node && (*w & REMOVED))
        added(ht, size, chain);
    return r;
}

ferry_lfht_node *ferry_lfht_add_unique(ferry_lfht *ht, unsigned long hash, ferry_lfht_match_fn match,
                                       const void *key, ferry_lfht_node *node)
{
    if (!unique_args_ok(ht, match, node))
        return NULL;
    CHECK_READING(ht, "ferry_lfht_add_unique");
    node->reverse_hash = bit_reverse(hash);
    uintptr_t w;
    return add_unique_at(ht, hash, match, key, node, &w);
}

ferry_lfht_node *ferry_lfht_add_replace(ferry_lfht *ht, unsigned long hash, ferry_lfht_match_fn match,
                                        const void *key, ferry_lfht_node *node)
{
    if (!unique_args_ok(ht, match, node))
        return NULL;
    CHECK_READING(ht, "ferry_lfht_add_replace");
    node->reverse_hash = bit_reverse(hash);
    for (;;) {
        uintptr_t w;
        ferry_lfht_node *r = add_unique_at(ht, hash, match, key, node, &w);
        if (r == node) {
            if (!(w & REMOVED))
                errno = EINVAL;   /* node itself was the match: nothing to replace */
            return NULL;
        }
        if (replace_node(ht, r, w, node) == 0)
            return r;
        /* r was removed between the scan and the replace: try again. */
    }
}

int ferry_lfht_replace(ferry_lfht *ht, ferry_lfht_iter *old_iter, unsigned long hash,
                       ferry_lfht_match_fn match, const void *key, ferry_lfht_node *new_node)
{
    if (FERRY_UNLIKELY(!ht || !old_iter || !match || !new_node))
        return -EINVAL;
    CHECK_READING(ht, "ferry_lfht_replace");
    ferry_lfht_node *old = old_iter->node;
    if (!old)
        return -ENOENT;
    if (FERRY_UNLIKELY(old == new_node))
        return -EINVAL;
    unsigned long rev = bit_reverse(hash);
    if (old->reverse_hash != rev || !match(old, key))
        return -EINVAL;
    new_node->reverse_hash = rev;
    return replace_node(ht, old, old_iter->next, new_node);
}

int ferry_lfht_del(ferry_lfht *ht, ferry_lfht_node *node)
{
    if (FERRY_UNLIKELY(!ht))
        return -EINVAL;
    CHECK_READING(ht, "ferry_lfht_del");
    if (!node)
        return -ENOENT;
    /* Relaxed: the CAS below validates it. */
    uintptr_t w = atomic_load_explicit(&node->next, memory_order_relaxed);
    do {
        if (w & REMOVED)
            return -ENOENT;
        /* seq_cst: the commit point (full barrier, as cds_lfht_del); only
         * one marking CAS on a word succeeds, which decides ownership. */
    } while (!atomic_compare_exchange_weak_explicit(&node->next, &w, w | REMOVED, memory_order_seq_cst,
                                                    memory_order_relaxed));
    unsigned long size = load_size(ht);
    TEST_HOOK(HOOK_UNLINK);
    unlink_marked(ht, bit_reverse(node->reverse_hash), node->reverse_hash);
    count_op(ht, false, size);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Resizing (resize_lock held).                                              */

static void chunk_break(const ferry_lfht_flavor *fl, unsigned long i)
{
    if ((i & (RESIZE_CHUNK - 1)) == RESIZE_CHUNK - 1) {
        fl->read_unlock();
        fl->quiescent_state();
        fl->read_lock();
    }
}

/* 2^k -> 2^(k+1), with fl's read-side sections. Returns 0 or -ENOMEM
 * (nothing changed). */
static int grow_one(ferry_lfht *ht, unsigned long size, const ferry_lfht_flavor *fl)
{
    unsigned o = order_of(size) + 1;
    struct bucket_block *blk = NULL;
    if (size <= (SIZE_MAX - sizeof *blk) / sizeof(ferry_lfht_node) && affordable(2 * size))
        blk = malloc(sizeof *blk + size * sizeof(ferry_lfht_node));
    if (!blk) {
        /* Relaxed: a statistic (tests read it when quiescent). */
        atomic_fetch_add_explicit(&ht->stat_failures, 1, memory_order_relaxed);
        return -ENOMEM;
    }
    fl->read_lock();
    for (unsigned long i = 0; i < size; i++) {
        ferry_lfht_node *b = &blk->b[i];
        b->reverse_hash = bit_reverse(size + i);
        unsigned chain;
        /* The walk starts at bucket i (size not yet published). */
        insert(ht, size + i, b, INSERT_BUCKET, NULL, NULL, NULL, &chain);
        chunk_break(fl, i);
    }
    fl->read_unlock();
    TEST_HOOK(HOOK_GROW);
    /* Release (both): pairs with the acquire loads in bucket_at and
     * load_size; the new buckets are linked before either is seen. */
    atomic_store_explicit(&ht->tbl[o], blk->b, memory_order_release);
    atomic_store_explicit(&ht->size, 2 * size, memory_order_release);
    return 0;
}

static void free_block(ferry_rcu_head *h)
{
    free(ferry_container_of(h, struct bucket_block, rh));
}

/* 2^(k+1) -> 2^k. Never fails. The old array goes on *retired. */
static void shrink_one(ferry_lfht *ht, unsigned long size, struct bucket_block **retired)
{
    unsigned long half = size / 2;
    unsigned o = order_of(size);
    /* Relaxed: only the resizer (us, resize_lock held) writes tbl. */
    ferry_lfht_node *arr = atomic_load_explicit(&ht->tbl[o], memory_order_relaxed);
    /* Release: ordered before the marks below (each a seq_cst RMW), which
     * updaters read with acquire before reloading the size (start_bucket). */
    atomic_store_explicit(&ht->size, half, memory_order_release);
    ht->fl->read_lock();
    for (unsigned long i = 0; i < half; i++) {
        TEST_HOOK(HOOK_SHRINK);
        ferry_lfht_node *b = &arr[i];
        /* seq_cst RMW: release for the size store above; pairs with the
         * acquire loads of updaters (start_bucket, insert, unlink_marked). */
        atomic_fetch_or_explicit(&b->next, REMOVED, memory_order_seq_cst);
        unlink_marked(ht, half + i, b->reverse_hash);
        chunk_break(ht->fl, i);
    }
    ht->fl->read_unlock();
    /* Free after a grace period (readers may still stand on the buckets),
     * but not from here: see free_retired. */
    struct bucket_block *blk = ferry_container_of((void *)arr, struct bucket_block, b);
    blk->retired_next = *retired;
    *retired = blk;
}

/* The arrays that halvings retired, to the flavor's call, which frees each
 * after a grace period. Called once resize_lock is released: the call may
 * take a lock of the flavor's -- ferry's takes its worker lock to start
 * the callback thread -- and a fork can come with that lock held by the
 * forking thread (explicit ferry_rcu_before_fork, then fork(), whose
 * prepare handler takes every resize_lock): a call made under resize_lock
 * would wait for the forking thread, which waits for resize_lock. */
static void free_retired(ferry_lfht *ht, struct bucket_block *retired)
{
    while (retired) {
        struct bucket_block *next = retired->retired_next;
        ht->fl->call(&retired->rh, free_block);
        retired = next;
    }
}

/* Work toward target, one step at a time. 0 or -ENOMEM. in_section: an
 * updater helping from inside its read-side section (help_grow): grow
 * only, without leaving the section between chunks (retired may be NULL
 * then). Halvings put their old arrays on *retired, for free_retired
 * after resize_lock is released. */
static const ferry_lfht_flavor no_sections;

static int do_resize(ferry_lfht *ht, bool in_section, struct bucket_block **retired)
{
    int rc = 0;
    /* Relaxed: destroy sets it and then waits for us with a barrier; an
     * early exit is an optimization. */
    while (!atomic_load_explicit(&ht->destroying, memory_order_relaxed)) {
        /* seq_cst: see queue_resize. The size is ours (relaxed). */
        unsigned long t = atomic_load_explicit(&ht->target, memory_order_seq_cst);
        unsigned long s = atomic_load_explicit(&ht->size, memory_order_relaxed);
        if (t == s)
            break;
        if (t > s) {
            rc = grow_one(ht, s, in_section ? &no_sections : ht->fl);
            if (rc < 0) {
                /* Give up on this target; a later request may retry. */
                atomic_compare_exchange_strong_explicit(&ht->target, &t, s, memory_order_seq_cst,
                                                        memory_order_relaxed);
                break;
            }
        } else if (in_section) {
            break;
        } else {
            shrink_one(ht, s, retired);
        }
        /* Relaxed: a statistic. */
        atomic_fetch_add_explicit(&ht->stat_resizes, 1, memory_order_relaxed);
    }
    return rc;
}

/* ACCOUNTING: the target from the counters as they are now (requests
 * skip counting while a resize is queued, so the one queued may be stale
 * when it runs). resize_lock held. */
static void retarget(ferry_lfht *ht)
{
    unsigned long size = atomic_load_explicit(&ht->size, memory_order_relaxed);
    long n = count_sum(ht);
    unsigned long un = n > 0 ? (unsigned long)n : 0, want = un ? 1UL << order_of(un) : 1;
    unsigned long min = 1UL << ht->min_order;
    if (want > ht->max_size)
        want = ht->max_size;
    if (want < min)
        want = min;
    if ((un > 2 * size && want > size) || (un < size / 8 && want < size))
        /* seq_cst: see queue_resize. */
        atomic_store_explicit(&ht->target, want, memory_order_seq_cst);
}

static void resize_cb(ferry_rcu_head *h)
{
    struct resize_req *rq = ferry_container_of(h, struct resize_req, rh);
    ferry_lfht *ht = rq->ht;
    /* ht->req changes only in a fork child with no other thread (before
     * its callback threads restart), so a plain read. */
    if (FERRY_UNLIKELY(rq != ht->req)) {
        /* A head a fork child gave up on (fork_child_one), which this
         * flavor carried into the child after all: the table has queued
         * its new head meanwhile, or will. Nothing to do: an allocated one
         * is on the given_up list, which destroy frees (a later fork child
         * may have put it there after this callback was queued, so it
         * cannot be freed here without freeing it twice). */
        return;
    }
    /* Relaxed: see queue_resize. */
    atomic_store_explicit(&ht->cb_started, 1, memory_order_relaxed);
    TEST_HOOK(HOOK_CALLBACK);
    for (;;) {
        struct bucket_block *retired = NULL;
        pthread_mutex_lock(&ht->resize_lock);
        if (ht->slots)
            retarget(ht);
        int rc = do_resize(ht, false, &retired);
        pthread_mutex_unlock(&ht->resize_lock);
        free_retired(ht, retired);
        TEST_HOOK(HOOK_RESIZED);
        /* seq_cst: Dekker with queue_resize (see there): the store of
         * queued, then the load of target. destroying and size: relaxed,
         * they only decide whether to go round again. */
        atomic_store_explicit(&ht->queued, 0, memory_order_seq_cst);
        if (atomic_load_explicit(&ht->destroying, memory_order_relaxed))
            return;
        /* ACCOUNTING: updates that came while this resize was queued did
         * not count (check_count skips while queued is set), and if they
         * all came before the store above, none will ask again: the table
         * would keep the size of the count when this pass began. So take
         * the count once more, now. (Relaxed counters: an update whose
         * count this misses sees queued clear and asks itself, but for a
         * store-buffer race of the two, which the table's next update
         * settles.) Not after a failed allocation: do_resize gave that
         * target up, and a later request may retry (going round again here
         * would retry for as long as allocations fail). */
        if (ht->slots && rc == 0) {
            pthread_mutex_lock(&ht->resize_lock);
            retarget(ht);
            pthread_mutex_unlock(&ht->resize_lock);
        }
        if (atomic_load_explicit(&ht->target, memory_order_seq_cst) ==
                atomic_load_explicit(&ht->size, memory_order_relaxed))
            return;
        /* seq_cst: Dekker with queue_resize, as above. */
        if (atomic_exchange_explicit(&ht->queued, 1, memory_order_seq_cst))
            return;   /* someone queued us again */
    }
}

/* A resize's read-side sections and quiescent states are the caller's: with
 * the built-in flavors, check what the caller must be (a resize is rare, so
 * the check costs nothing that matters). An unregistered thread's sections
 * are not seen by grace periods (the resize could walk freed nodes), and a
 * QSBR quiescent state in an offline or unregistered thread puts it online
 * (grace periods would then wait for a thread that believes it is offline).
 * Returns 0, -EPERM; *go_online: a registered QSBR caller that is offline,
 * which the resize puts online for its work and back offline after. */
static int resize_caller_ok(const ferry_lfht *ht, bool *go_online)
{
    *go_online = false;
    if (ht->fl == &ferry_lfht_flavor_memb)
        return ferry__rcu_reader.registered ? 0 : -EPERM;
    if (ht->fl == &ferry_lfht_flavor_qsbr) {
        if (!ferry__qsbr_reader.registered)
            return -EPERM;
        *go_online = !ferry_qsbr_read_ongoing();
    }
    return 0;
}

int ferry_lfht_resize(ferry_lfht *ht, unsigned long new_size)
{
    if (!ht || new_size == 0)
        return -EINVAL;
    bool go_online;
    int ok = resize_caller_ok(ht, &go_online);
    if (ok != 0)
        return ok;
    unsigned long min = 1UL << ht->min_order;
    if (new_size > ht->max_size)
        new_size = ht->max_size;
    new_size = 1UL << order_of(new_size);
    if (new_size < min)
        new_size = min;
    if (!affordable(new_size))
        return -ENOMEM;   /* before anything changes */
    struct bucket_block *retired = NULL;
    pthread_mutex_lock(&ht->resize_lock);
    /* seq_cst: see queue_resize. */
    atomic_store_explicit(&ht->target, new_size, memory_order_seq_cst);
    if (go_online)   /* only while working: not while waiting for the lock */
        ferry_qsbr_thread_online();
    int rc = do_resize(ht, false, &retired);
    if (go_online)
        ferry_qsbr_thread_offline();
    pthread_mutex_unlock(&ht->resize_lock);
    free_retired(ht, retired);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Creation and destruction.                                                 */

static void memb_read_lock(void) { ferry_rcu_read_lock(); }
static void memb_read_unlock(void) { ferry_rcu_read_unlock(); }
static void memb_nothing(void) {}
static void memb_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_rcu_call(h, fn); }
static void memb_barrier(void) { ferry_rcu_barrier(); }
static void qsbr_read_lock(void) { ferry_qsbr_read_lock(); }
static void qsbr_read_unlock(void) { ferry_qsbr_read_unlock(); }
static void qsbr_quiescent(void) { ferry_qsbr_quiescent_state(); }
static void qsbr_call(ferry_rcu_head *h, void (*fn)(ferry_rcu_head *)) { ferry_qsbr_call(h, fn); }
static void qsbr_barrier(void) { ferry_qsbr_barrier(); }

static bool memb_ongoing(void) { return ferry_rcu_read_ongoing(); }
static bool qsbr_ongoing(void) { return ferry_qsbr_read_ongoing(); }
static bool always(void) { return true; }

const ferry_lfht_flavor ferry_lfht_flavor_memb = {
    memb_read_lock, memb_read_unlock, memb_nothing, memb_call, memb_barrier, memb_ongoing,
};
const ferry_lfht_flavor ferry_lfht_flavor_qsbr = {
    qsbr_read_lock, qsbr_read_unlock, qsbr_quiescent, qsbr_call, qsbr_barrier, qsbr_ongoing,
};
/* For the growth inside ferry_lfht_new: no other thread knows the table
 * yet, so no read-side section is needed (nor possible: the creating thread
 * need not be registered). */
static const ferry_lfht_flavor no_sections = {
    memb_nothing, memb_nothing, memb_nothing, memb_call, memb_barrier, always,
};

/* fork(): the child has only the forking thread, so a resize_lock that
 * another thread held at the fork would stay locked there for ever (every
 * resize in the child hangs), over a table left half way through a
 * doubling or halving. So the prepare handler takes the resize_lock of
 * every live table, waiting for the resize steps in progress to end (they
 * wait for nobody: no grace period, no other thread, no lock of RCU's --
 * a halving hands its old array to the flavor's call only after releasing
 * resize_lock, see free_retired, so RCU's locks may already be held by the
 * forking thread, as they are after an explicit ferry_rcu_before_fork),
 * and both after-fork handlers release them: each table crosses the fork
 * between two steps. A resizer that had released resize_lock but not yet
 * handed the arrays it retired to the call does so in the parent only: a
 * child does not free them (the parent does).
 * Registered at the first table's creation, after RCU's own handlers
 * (registered at load time), so this prepare runs before RCU's: a resize
 * being waited for may still queue callbacks.
 *
 * The automatic resize queued at the fork (queued set). Its callback may
 * run in the child, or never:
 *  - ferry's flavors (memb, qsbr) run in the child every callback that was
 *    queued and had not started at the fork; one that had started (it was
 *    running on the callback thread) does not run there. The head says
 *    which (ferry__rcu_head_pending), read before the child's callback
 *    threads restart: RCU's child handler calls fork_child_tables first.
 *  - A flavor of the user's (ferry_lfht_new_flavor) may carry its queued
 *    callbacks into the child or drop them; the table cannot tell. One
 *    that had started (cb_started) is lost, as above.
 *  - A call under way in another thread at the fork (calling) may or may
 *    not have queued the head.
 * Lost: the head is free (the flavor handed it to resize_cb, or was never
 * given it); the child clears queued and the target, and the next add or
 * del that wants a resize queues it again. Unknown: the head may still be
 * queued, so queueing it again could link it twice; the child gives it up
 * (resize_cb run with it does nothing, see there) and queues an allocated
 * head from then on. An allocated head given up in turn (a fork of the
 * child) goes on the table's given_up list, freed by destroy after the
 * flavor's barrier: it may still run, or never. Will run in the child:
 * left alone. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static ferry_list live_tables;   /* zero-filled: empty */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* This thread's fork: 1 from our prepare handler until the child's tables
 * are seen to (fork_child_tables), 0 otherwise. */
static FERRY_TLS int fork_phase;

static void fork_prepare(void)
{
    pthread_mutex_lock(&live_lock);
    ferry_list_for_each(p, &live_tables)
        pthread_mutex_lock(&ferry_container_of(p, ferry_lfht, live)->resize_lock);
    fork_phase = 1;
}

static void fork_unlock(void)
{
    ferry_list_for_each(p, &live_tables)
        pthread_mutex_unlock(&ferry_container_of(p, ferry_lfht, live)->resize_lock);
    pthread_mutex_unlock(&live_lock);
    fork_phase = 0;
}

/* In a child: the resize queued at the fork (see above). Relaxed loads and
 * stores: the child's only thread, on fork's copy of memory. */
static void fork_child_one(ferry_lfht *ht)
{
    if (!atomic_load_explicit(&ht->queued, memory_order_relaxed))
        return;
    bool give_up;   /* the head may still be queued */
    if (atomic_load_explicit(&ht->calling, memory_order_relaxed))
        give_up = true;
    else if (ht->fl == &ferry_lfht_flavor_memb || ht->fl == &ferry_lfht_flavor_qsbr) {
        if (ferry__rcu_head_pending(&ht->req->rh))
            return;   /* runs in the child */
        give_up = false;
    } else {
        give_up = !atomic_load_explicit(&ht->cb_started, memory_order_relaxed);
    }
    if (give_up) {
        struct resize_req *rq = calloc(1, sizeof *rq);
        if (!rq)
            return;   /* this table resizes only when asked to, in this child */
        rq->ht = ht;
        if (ht->req != &ht->own_req) {
            /* Allocated by an earlier fork child: freed by destroy. */
            ht->req->given_up_next = ht->given_up;
            ht->given_up = ht->req;
        }
        ht->req = rq;   /* the old head, if it ever runs, does nothing */
    }
    atomic_store_explicit(&ht->calling, 0, memory_order_relaxed);
    atomic_store_explicit(&ht->target, atomic_load_explicit(&ht->size, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&ht->queued, 0, memory_order_relaxed);
}

/* In the child, once: from RCU's child handler before its callback threads
 * restart, or from ours if RCU's is put off (explicit, nested
 * ferry_rcu_before_fork: no callback thread restarts before ours either).
 * Not for a fork whose prepare handler was not ours (_Fork with explicit
 * RCU calls): live_lock is not held and nothing was waited for. */
static void fork_child_tables(void)
{
    if (fork_phase != 1)
        return;
    fork_phase = 2;
    ferry_list_for_each(p, &live_tables)
        fork_child_one(ferry_container_of(p, ferry_lfht, live));
}

static void fork_child(void)
{
    fork_child_tables();
    fork_unlock();
}

static void fork_register(void)
{
    ferry__rcu_set_fork_child_hook(fork_child_tables);
    if (pthread_atfork(fork_prepare, fork_unlock, fork_child) != 0)
        ferry__die("pthread_atfork failed: hash tables would not survive fork");
}

static void live_add(ferry_lfht *ht)
{
    pthread_once(&fork_once, fork_register);
    pthread_mutex_lock(&live_lock);
    ferry_list_add_tail(&live_tables, &ht->live);
    pthread_mutex_unlock(&live_lock);
}

static void live_del(ferry_lfht *ht)
{
    pthread_mutex_lock(&live_lock);
    ferry_list_del(&ht->live);
    pthread_mutex_unlock(&live_lock);
}

static unsigned long slot_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    unsigned long s = n > 0 ? (unsigned long)n : 1;
    if (s > MAX_SLOTS)
        s = MAX_SLOTS;
    return 1UL << order_of(s);
}

static void free_tables(ferry_lfht *ht)
{
    /* Relaxed (both): no other thread uses the table any more. */
    unsigned long size = atomic_load_explicit(&ht->size, memory_order_relaxed);
    for (unsigned o = ht->min_order + 1; size && o <= order_of(size); o++) {
        ferry_lfht_node *arr = atomic_load_explicit(&ht->tbl[o], memory_order_relaxed);
        free(ferry_container_of((void *)arr, struct bucket_block, b));
    }
    if (ht->req != &ht->own_req)
        free(ht->req);   /* made by a fork child */
    for (struct resize_req *rq = ht->given_up, *next; rq; rq = next) {
        next = rq->given_up_next;
        free(rq);
    }
    free(ht->initial);
    free(ht->slots);
    pthread_mutex_destroy(&ht->resize_lock);
    free(ht);
}

ferry_lfht *ferry_lfht_new_flavor(unsigned long init_size, unsigned long min_nr_alloc_buckets,
                                  unsigned long max_nr_buckets, int flags, const ferry_lfht_flavor *flavor)
{
    /* Every hook but read_ongoing is called (a NULL one would crash the
     * first resize, perhaps on the callback thread, or destroy). */
    if (!flavor || !flavor->read_lock || !flavor->read_unlock || !flavor->quiescent_state ||
        !flavor->call || !flavor->barrier || !is_pow2(init_size) || !is_pow2(min_nr_alloc_buckets) ||
        (max_nr_buckets && !is_pow2(max_nr_buckets)) ||
        (flags & ~(FERRY_LFHT_AUTO_RESIZE | FERRY_LFHT_ACCOUNTING)) ||
        min_nr_alloc_buckets > (1UL << MAX_ORDER)) {
        errno = EINVAL;
        return NULL;
    }
    if (!max_nr_buckets)
        max_nr_buckets = 1UL << MAX_ORDER;
    if (max_nr_buckets < min_nr_alloc_buckets) {
        errno = EINVAL;
        return NULL;
    }
    if (init_size > max_nr_buckets)
        init_size = max_nr_buckets;
    if (init_size < min_nr_alloc_buckets)
        init_size = min_nr_alloc_buckets;
    if (!affordable(init_size)) {
        errno = ENOMEM;
        return NULL;
    }

    ferry_lfht *ht = calloc(1, sizeof *ht);
    if (!ht)
        return NULL;
    ht->flags = flags;
    ht->min_order = order_of(min_nr_alloc_buckets);
    ht->max_size = max_nr_buckets;
    ht->fl = flavor;
    ht->own_req.ht = ht;
    ht->req = &ht->own_req;
    pthread_mutex_init(&ht->resize_lock, NULL);
    if (flags & FERRY_LFHT_ACCOUNTING) {
        unsigned long n = slot_count();
        ht->slots = aligned_alloc(_Alignof(struct count_slot), n * sizeof *ht->slots);
        if (!ht->slots)
            goto fail;
        for (unsigned long i = 0; i < n; i++) {
            atomic_init(&ht->slots[i].add, 0);
            atomic_init(&ht->slots[i].del, 0);
        }
        ht->slot_mask = n - 1;
    }
    if (min_nr_alloc_buckets > SIZE_MAX / sizeof(ferry_lfht_node))
        goto fail;
    ht->initial = malloc(min_nr_alloc_buckets * sizeof(ferry_lfht_node));
    if (!ht->initial)
        goto fail;
    /* Buckets [0, min): linked in key order, no concurrency yet. */
    ferry_lfht_node *first = &ht->initial[0];
    first->reverse_hash = 0;
    atomic_init(&first->next, BUCKET);
    atomic_init(&ht->tbl[0], first);
    for (unsigned o = 1; o <= ht->min_order; o++) {
        unsigned long len = 1UL << (o - 1);
        atomic_init(&ht->tbl[o], &ht->initial[len]);
        for (unsigned long i = 0; i < len; i++) {
            /* Bucket len + i follows bucket i directly: nothing else has a
             * key between them yet. */
            ferry_lfht_node *b = &ht->initial[len + i], *p = &ht->initial[i];
            b->reverse_hash = bit_reverse(len + i);
            atomic_init(&b->next, atomic_load_explicit(&p->next, memory_order_relaxed));
            atomic_store_explicit(&p->next, (uintptr_t)b | BUCKET, memory_order_relaxed);
        }
    }
    atomic_init(&ht->size, min_nr_alloc_buckets);
    atomic_init(&ht->target, min_nr_alloc_buckets);
    for (unsigned long s = min_nr_alloc_buckets; s < init_size; s *= 2)
        if (grow_one(ht, s, &no_sections) < 0)
            goto fail;
    /* Relaxed: the table is not shared yet. */
    atomic_store_explicit(&ht->target, init_size, memory_order_relaxed);
    live_add(ht);
    return ht;
fail:
    free_tables(ht);
    errno = ENOMEM;
    return NULL;
}

ferry_lfht *ferry_lfht_new(unsigned long init_size, unsigned long min_nr_alloc_buckets,
                           unsigned long max_nr_buckets, int flags)
{
    return ferry_lfht_new_flavor(init_size, min_nr_alloc_buckets, max_nr_buckets, flags,
                                 &ferry_lfht_flavor_memb);
}

int ferry_lfht_destroy(ferry_lfht *ht)
{
    if (!ht)
        return -EINVAL;
    /* Stop automatic resizes (seq_cst: read by a running resize_cb, which
     * stops early), then wait for a queued one to finish. ever_queued was
     * stored by updaters that finished before this call (the caller's
     * promise): relaxed. */
    atomic_store_explicit(&ht->destroying, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&ht->ever_queued, memory_order_relaxed))
        ht->fl->barrier();
    /* No concurrency from here (the caller's promise): relaxed loads. */
    ferry_lfht_node *n = bucket_at(ht, 0);
    while (n) {
        uintptr_t w = atomic_load_explicit(&n->next, memory_order_relaxed);
        if (!(w & BUCKET)) {
            /* The table stays usable: automatic resizes may queue again. */
            atomic_store_explicit(&ht->destroying, 0, memory_order_seq_cst);
            return -EPERM;
        }
        n = ptr_of(w);
    }
    live_del(ht);
    free_tables(ht);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Internal (tests).                                                         */

/* Relaxed loads: statistics for tests, read when the table is quiet. */
void ferry__lfht_stats(ferry_lfht *ht, struct ferry__lfht_stats *st)
{
    st->size = load_size(ht);
    st->target = atomic_load_explicit(&ht->target, memory_order_relaxed);
    st->resizes = atomic_load_explicit(&ht->stat_resizes, memory_order_relaxed);
    st->failures = atomic_load_explicit(&ht->stat_failures, memory_order_relaxed);
    st->queued = atomic_load_explicit(&ht->queued, memory_order_relaxed);
}
