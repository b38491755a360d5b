/* SPDX-License-Identifier: MIT */
/* The directories the walk has listed, by (dev, inode), shared by every
 * walker: a directory reached by a second route (a bind mount of it
 * elsewhere in the tree, or of one of its ancestors inside it: a loop) is
 * found here in one lookup, however deep the tree is.
 *
 * Sharded: 16 open-addressing tables (table.h), each under its own mutex,
 * picked by the top bits of the hash, so walkers that record directories at
 * the same time rarely wait for each other. A table keeps only pointers to
 * the directory records (struct dir, which hold dev and inode already): 8
 * bytes a slot, 3/8 to 3/4 full, so 11 to 21 bytes per directory (twice
 * that, for one shard, while that shard grows).
 *
 * Beside it, the loops reported, by the directory entry that makes each
 * one (its parent's dev and inode, and its name): a loop below a directory
 * that two routes list (a bind mount of it elsewhere, listed again because
 * its spelling sorts first) is reached by both, and is one loop. Loops are
 * rare: one table under one mutex. */
#ifndef FERRY_DUPES_DIRSET_H
#define FERRY_DUPES_DIRSET_H

#include "table.h"

#include <pthread.h>
#include <stddef.h>

struct dir;

#define DIRSET_SHARDS 16

struct dirset {
    struct dirset_shard {
        pthread_mutex_t lock;
        struct table t;           /* struct dir *, by (dev, ino) */
    } shard[DIRSET_SHARDS];
    pthread_mutex_t loops_lock;
    struct table loops;           /* struct dir *, by (parent's dev and ino, name) */
};

/* An empty set. Not thread-safe (before the walkers start). */
void dirset_init(struct dirset *s);
/* Free the tables (not the records). After the walkers ended. */
void dirset_free(struct dirset *s);

/* Record dir (its dev and ino set, immutable from now on) unless a
 * directory with its dev and inode is recorded: 0 when it was recorded now,
 * 1 when one was already (*first: that record, which stays valid as long
 * as the walkers' arenas), -ENOMEM when the set could not grow (nothing
 * recorded). Safe from any thread; takes a mutex; may allocate (a shard's
 * table doubles). */
int dirset_add(struct dirset *s, const struct dir *dir, const struct dir **first);

/* Record the loop that dir (a directory that is one of its own ancestors,
 * its parent's dev and ino set) makes, unless a loop through the same
 * directory entry is recorded: 0 when it was recorded now, 1 when it was
 * already (reached by another route), -ENOMEM when the table could not
 * grow (nothing recorded). Safe from any thread; takes a mutex. */
int dirset_add_loop(struct dirset *s, const struct dir *dir);

/* Directories recorded, and the bytes the tables take (--stats). Safe
 * from any thread (takes each shard's mutex in turn). */
size_t dirset_len(struct dirset *s);
size_t dirset_bytes(struct dirset *s);

#endif
