/* SPDX-License-Identifier: MIT */
/* The directories listed, by (dev, inode) (dirset.h). */
#include "dirset.h"

#include "dupes.h"

#include <string.h>

/* dirset_add picks a shard by the hash's top 4 bits. */
_Static_assert(DIRSET_SHARDS == 16, "a shard per value of the hash's top 4 bits");

static uint64_t dir_key_hash(const void *e)
{
    const struct dir *d = e;
    return hash_mix2(d->dev, d->ino);
}

static bool same_dir(const void *e, const void *key)
{
    const struct dir *a = e, *b = key;
    return a->dev == b->dev && a->ino == b->ino;
}

/* A loop's directory entry: its parent (dev, ino) and its name. */
static uint64_t loop_key_hash(const void *e)
{
    const struct dir *d = e;
    uint64_t h = hash_mix2(d->parent->dev, d->parent->ino);
    for (uint32_t i = 0; i < d->namelen; i++)
        h = hash_mix2(h, (unsigned char)d->name[i]);
    return h;
}

static bool same_loop(const void *e, const void *key)
{
    const struct dir *a = e, *b = key;
    return a->parent->dev == b->parent->dev && a->parent->ino == b->parent->ino &&
           a->namelen == b->namelen && !memcmp(a->name, b->name, a->namelen);
}

void dirset_init(struct dirset *s)
{
    pthread_mutex_init(&s->loops_lock, NULL);
    s->loops = (struct table){ 0 };
    for (int i = 0; i < DIRSET_SHARDS; i++) {
        pthread_mutex_init(&s->shard[i].lock, NULL);
        s->shard[i].t = (struct table){ 0 };
    }
}

void dirset_free(struct dirset *s)
{
    table_free(&s->loops);
    pthread_mutex_destroy(&s->loops_lock);
    for (int i = 0; i < DIRSET_SHARDS; i++) {
        table_free(&s->shard[i].t);
        pthread_mutex_destroy(&s->shard[i].lock);
    }
}

int dirset_add(struct dirset *s, const struct dir *dir, const struct dir **first)
{
    uint64_t h = dir_key_hash(dir);
    /* The top 4 bits pick the shard; the table uses the low bits. */
    struct dirset_shard *sh = &s->shard[h >> 60];
    pthread_mutex_lock(&sh->lock);
    int err;
    const struct dir *old = table_find_or_add(&sh->t, h, (void *)dir, same_dir, dir_key_hash, &err);
    pthread_mutex_unlock(&sh->lock);
    if (old)
        *first = old;
    return old ? 1 : err;
}

int dirset_add_loop(struct dirset *s, const struct dir *dir)
{
    uint64_t h = loop_key_hash(dir);
    pthread_mutex_lock(&s->loops_lock);
    int err;
    const struct dir *old = table_find_or_add(&s->loops, h, (void *)dir, same_loop, loop_key_hash, &err);
    pthread_mutex_unlock(&s->loops_lock);
    return old ? 1 : err;
}

size_t dirset_len(struct dirset *s)
{
    size_t n = 0;
    for (int i = 0; i < DIRSET_SHARDS; i++) {
        pthread_mutex_lock(&s->shard[i].lock);
        n += s->shard[i].t.len;
        pthread_mutex_unlock(&s->shard[i].lock);
    }
    return n;
}

size_t dirset_bytes(struct dirset *s)
{
    size_t n = 0;
    for (int i = 0; i < DIRSET_SHARDS; i++) {
        pthread_mutex_lock(&s->shard[i].lock);
        n += table_slots(&s->shard[i].t) * sizeof(void *);
        pthread_mutex_unlock(&s->shard[i].lock);
    }
    return n;
}
