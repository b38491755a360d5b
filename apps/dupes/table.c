/* SPDX-License-Identifier: MIT */
/* Open-addressing pointer table (table.h). */
#include "table.h"

#include <errno.h>
#include <stdlib.h>

void *table_find(const struct table *t, uint64_t h, table_eq_fn eq, const void *key)
{
    if (!t->slot)
        return NULL;
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        void *e = t->slot[i];
        if (!e)
            return NULL;
        if (eq(e, key))
            return e;
    }
}

static void place(void **slot, size_t mask, uint64_t h, void *e)
{
    size_t i = h & mask;
    while (slot[i])
        i = (i + 1) & mask;
    slot[i] = e;
}

static int grow(struct table *t, table_hash_fn rehash)
{
    size_t n = t->slot ? (t->mask + 1) * 2 : 64;
    void **slot = calloc(n, sizeof *slot);
    if (!slot)
        return -ENOMEM;
    for (size_t i = 0; i < table_slots(t); i++)
        if (t->slot[i])
            place(slot, n - 1, rehash(t->slot[i]), t->slot[i]);
    free(t->slot);
    t->slot = slot;
    t->mask = n - 1;
    return 0;
}

int table_add(struct table *t, uint64_t h, void *entry, table_hash_fn rehash)
{
    if (!t->slot || (t->len + 1) * 4 > (t->mask + 1) * 3) {
        int r = grow(t, rehash);
        if (r)
            return r;
    }
    place(t->slot, t->mask, h, entry);
    t->len++;
    return 0;
}

void *table_find_or_add(struct table *t, uint64_t h, void *entry, table_eq_fn eq,
                        table_hash_fn rehash, int *err)
{
    /* (grown first, even when entry is there: the probe below then ends
     * at an empty slot either way) */
    *err = (!t->slot || (t->len + 1) * 4 > (t->mask + 1) * 3) ? grow(t, rehash) : 0;
    if (*err)
        return NULL;
    size_t i = h & t->mask;
    for (; t->slot[i]; i = (i + 1) & t->mask)
        if (eq(t->slot[i], entry))
            return t->slot[i];
    t->slot[i] = entry;
    t->len++;
    return NULL;
}

void table_free(struct table *t)
{
    free(t->slot);
    t->slot = NULL;
    t->mask = t->len = 0;
}
