/* SPDX-License-Identifier: MIT */
/* An open-addressing hash table of pointers (linear probing, power-of-two
 * size, at most 3/4 full). The caller hashes and compares; the table keeps
 * only the entry pointers, so it costs 8-16 bytes per entry. Not
 * thread-safe: each table belongs to one stage. */
#ifndef FERRY_DUPES_TABLE_H
#define FERRY_DUPES_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct table {
    void **slot;
    size_t mask;    /* slots - 1, or 0 before the first insert */
    size_t len;
};

typedef uint64_t (*table_hash_fn)(const void *entry);
typedef bool (*table_eq_fn)(const void *entry, const void *key);

/* The entry equal to key (h is key's hash), or NULL. */
void *table_find(const struct table *t, uint64_t h, table_eq_fn eq, const void *key);

/* Add an entry known to be absent (h its hash). rehash gives the hash of any
 * entry when the table grows. Returns 0 or -ENOMEM. */
int table_add(struct table *t, uint64_t h, void *entry, table_hash_fn rehash);

/* The entry equal to entry (h its hash) if there is one; else entry is
 * added and NULL returned, or, when the table could not grow, NULL with
 * *err = -ENOMEM (*err is 0 otherwise). One probe where table_find and
 * table_add take two. */
void *table_find_or_add(struct table *t, uint64_t h, void *entry, table_eq_fn eq,
                        table_hash_fn rehash, int *err);

/* Remove every entry (frees the slots, not the entries). */
void table_free(struct table *t);

/* Slots to visit with: for (i = 0; i < table_slots(t); i++) if (t->slot[i]) ... */
static inline size_t table_slots(const struct table *t) { return t->slot ? t->mask + 1 : 0; }

/* A 64-bit mix of x (the splitmix64 finalizer), and of two words. */
static inline uint64_t hash_mix(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
static inline uint64_t hash_mix2(uint64_t a, uint64_t b) { return hash_mix(a ^ hash_mix(b + 0x9e3779b97f4a7c15ull)); }

#endif
