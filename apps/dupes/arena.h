/* SPDX-License-Identifier: MIT */
/* A bump allocator: many small records, all freed at once at the end.
 * Not thread-safe: one arena per thread that allocates. */
#ifndef FERRY_DUPES_ARENA_H
#define FERRY_DUPES_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena {
    struct arena_chunk *chunks;
    char *cur, *end;
    size_t bytes;             /* total allocated from the system */
};

/* n bytes aligned to 8, or NULL when memory is exhausted. */
void *arena_alloc(struct arena *a, size_t n);
/* Free every chunk; the arena is empty and reusable afterwards. */
void arena_free_all(struct arena *a);

#endif
