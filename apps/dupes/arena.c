/* SPDX-License-Identifier: MIT */
/* Bump allocator (arena.h): 1 MiB chunks, larger requests get their own. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

#define CHUNK (1u << 20)

struct arena_chunk {
    struct arena_chunk *next;
    max_align_t align[];
};

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if ((size_t)(a->end - a->cur) < n) {
        size_t size = n > CHUNK / 4 ? n : CHUNK;
        struct arena_chunk *c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->next = a->chunks;
        a->chunks = c;
        a->bytes += sizeof *c + size;
        if (size != CHUNK) /* a big one: keep filling the current chunk */
            return (char *)c->align;
        a->cur = (char *)c->align;
        a->end = a->cur + size;
    }
    void *p = a->cur;
    a->cur += n;
    return p;
}

void arena_free_all(struct arena *a)
{
    struct arena_chunk *c = a->chunks;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->cur = a->end = NULL;
    a->bytes = 0;
}
