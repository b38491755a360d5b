/* SPDX-License-Identifier: MIT */
/* One hash table implementation's workloads for bench/rcuhash.c, written
 * once and instantiated per implementation. The includer defines IMPL(x)
 * (a name prefix), H_NODE (node type), H_ITER (iterator type), H_TABLE, and
 * H_REG/H_UNREG/H_LOCK/H_UNLOCK/H_SYNC, H_NEW(), H_LOOKUP(t, hash, match,
 * key, iter), H_ITER_NODE(iter), H_ADD_UNIQUE(t, hash, match, key, node),
 * H_DEL(t, node), H_RESIZE(t, size), H_FIRST(t, iter), H_NEXT(t, iter),
 * H_DESTROY(t), then includes this file and uses IMPL_TABLE(var, name). */
#include <stdlib.h>

#include "peers/rcuhash_bench.h"

struct IMPL(item) {
    unsigned long key;
    H_NODE node;
};

#define IMPL_ITEM(n) ((struct IMPL(item) *)(void *)((char *)(n) - offsetof(struct IMPL(item), node)))

static int IMPL(match)(H_NODE *n, const void *key)
{
    return IMPL_ITEM(n)->key == *(const unsigned long *)key;
}

static void IMPL(reg)(void) { H_REG(); }
static void IMPL(unreg)(void) { H_UNREG(); }
static void *IMPL(create)(void) { return H_NEW(); }

static void *IMPL(alloc_pool)(size_t n)
{
    void *p = calloc(n ? n : 1, sizeof(struct IMPL(item)));
    if (!p)
        abort();
    return p;
}

static void IMPL(free_pool)(void *p) { free(p); }

static struct IMPL(item) *IMPL(take)(struct rcuhash_work *w)
{
    if (w->pool_used == w->pool_len)
        abort();   /* the driver sizes pools for the worst case */
    return &((struct IMPL(item) *)w->pool)[w->pool_used++];
}

static void IMPL(prefill)(void *t, struct rcuhash_work *w)
{
    H_TABLE *ht = t;
    H_LOCK();
    for (unsigned long k = 0; k < w->keys; k += 2) {
        struct IMPL(item) *it = IMPL(take)(w);
        it->key = k;
        H_ADD_UNIQUE(ht, rcuhash_bench_hash(k), IMPL(match), &it->key, &it->node);
    }
    H_UNLOCK();
    unsigned long size = 1;
    while (size < w->keys / 2)
        size *= 2;
    H_RESIZE(ht, size);
}

static void IMPL(work)(void *t, struct rcuhash_work *w)
{
    H_TABLE *ht = t;
    uint64_t x = w->seed | 1;
    unsigned long hits = 0, adds = 0, dels = 0;
    for (unsigned long i = 0; i < w->ops; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t r = x * 0x2545f4914f6cdd1dull;
        unsigned long key = (unsigned long)(r >> 20) % w->keys;
        unsigned long hash = rcuhash_bench_hash(key);
        H_ITER iter;
        H_LOCK();
        H_LOOKUP(ht, hash, IMPL(match), &key, &iter);
        H_NODE *n = H_ITER_NODE(&iter);
        if ((unsigned)(r % 100) < w->lookup_pct) {
            hits += n != NULL;
        } else if (n) {
            dels += H_DEL(ht, n) == 0;
        } else {
            struct IMPL(item) *it = IMPL(take)(w);
            it->key = key;
            if (H_ADD_UNIQUE(ht, hash, IMPL(match), &it->key, &it->node) == &it->node)
                adds++;
            else
                w->pool_used--;   /* not added: reuse it */
        }
        H_UNLOCK();
    }
    w->hits = hits;
    w->adds = adds;
    w->dels = dels;
}

static unsigned long IMPL(teardown)(void *t)
{
    H_TABLE *ht = t;
    unsigned long n = 0;
    H_ITER iter;
    H_LOCK();
    for (H_FIRST(ht, &iter); H_ITER_NODE(&iter); H_NEXT(ht, &iter))
        n += H_DEL(ht, H_ITER_NODE(&iter)) == 0;
    H_UNLOCK();
    H_SYNC();
    if (H_DESTROY(ht) != 0)
        abort();
    return n;
}

#define IMPL_TABLE(var, nm)                                                                  \
    const struct rcuhash_bench_impl var = {                                                  \
        nm, IMPL(reg), IMPL(unreg), IMPL(create), IMPL(alloc_pool), IMPL(free_pool),          \
        IMPL(prefill), IMPL(work), IMPL(teardown),                                            \
    }
