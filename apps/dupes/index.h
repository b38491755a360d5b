/* SPDX-License-Identifier: MIT */
/* The index: an SQLite database (WAL) of every regular file seen, keyed by
 * (dev, inode), with size, mtime_ns, ctime_ns, btime_ns, the path and the
 * partial and full hashes where computed. Schema version in PRAGMA user_version, owner in
 * PRAGMA application_id. One process at a time: the database is held in
 * exclusive locking mode for the whole run. */
#ifndef FERRY_DUPES_INDEX_H
#define FERRY_DUPES_INDEX_H

#include "dupes.h"

#define INDEX_SCHEMA_VERSION 2
#define INDEX_APPLICATION_ID 0x46447570 /* "FDup" */

/* A row loaded for this run's roots. */
struct index_entry {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    int64_t btime_ns;          /* 0: unknown (no birth time, or a version 1 row) */
    uint64_t path_hash;        /* index_path_hash of its path */
    uint8_t have;              /* HAVE_PARTIAL | HAVE_FULL, for this run's hash */
    bool seen;                 /* found by this run's walk */
    uint8_t partial[PARTIAL_LEN];
    uint8_t full[HASH_MAX];
};

/* Open or create the index and lock it. On failure prints
 * "ferry-dupes: index PATH: what is wrong" and returns NULL. */
struct index *index_open(const char *path, enum hash_kind kind);

/* Load the rows whose paths lie under the roots into t (keyed by
 * index_key_hash; entries allocated from a). 0, or -1 after a message. */
int index_load(struct index *x, const struct root *roots, int nroots, struct table *t,
               struct arena *a);

uint64_t index_key_hash(uint64_t dev, uint64_t ino);
uint64_t index_entry_hash(const void *entry);   /* table_hash_fn */
uint64_t index_path_hash(const char *path, size_t len);

/* An index row (ROW_PUT) describing n as it is now: its stat, its path (by
 * reference: immutable) and a copy of the hashes it has -- none when n was
 * read racily clean (read_racy): the next run reads it again. */
void row_of_node(struct row *r, const struct node *n);

/* The index's rows written so far, and whether a write failed (the message
 * is printed; the index is sound: the failed transaction was rolled back). */
bool index_failed(const struct index *x);

/* After the writer ended: the rows of nodes (dev, inode) keep no hashes
 * (--verify found them stale), in one transaction, so that the next run
 * reads those files again. 0, or -1 after a message (the index marked
 * failed; nothing changed). */
int index_forget(struct index *x, const struct node *const *nodes, size_t n);

/* Close it (the last checkpoint folds the WAL in). 0, or -1 after a message. */
int index_close(struct index *x);

#endif
