/* SPDX-License-Identifier: MIT */
/* Paths: built on demand from the directory chain (nothing stores a file's
 * whole path), and opened relative to the root's directory without
 * following symlinks and without a length limit. */
#ifndef FERRY_DUPES_PATH_H
#define FERRY_DUPES_PATH_H

#include <stdbool.h>
#include <stddef.h>

struct dir;
struct node;

/* A growable byte buffer; zero-initialize, free with buf_free. */
struct buf {
    char *p;
    size_t len, cap;
};
/* Room for n bytes (and a NUL); 0 or -ENOMEM. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const char *s, size_t n);
void buf_free(struct buf *b);

/* The path of d relative to its root's directory ("" for the root itself). */
const char *dir_rel_path(const struct dir *d, struct buf *b, size_t *len);
/* The path of a file relative to its root's directory: what readers open. */
const char *node_rel_path(const struct node *n, struct buf *b, size_t *len);
/* What the user sees: the PATH argument joined with the path below it. */
const char *node_out_path(const struct node *n, struct buf *b, size_t *len);
/* What the index stores: the root's real path joined with the path below it. */
const char *node_abs_path(const struct node *n, struct buf *b, size_t *len);
/* The same for a directory (messages). */
const char *dir_out_path(const struct dir *d, struct buf *b, size_t *len);

/* Do a and b name the same directory entry (the same name in the same
 * directory, by dev and inode), however their PATHs spell it? */
bool same_dir_entry(const struct node *a, const struct node *b);

/* Open rel (len bytes, any length) below dirfd with open(2) flags, never
 * following a symlink on the way (openat2 RESOLVE_NO_SYMLINKS; before Linux
 * 5.6 only the last component is protected, by O_NOFOLLOW). Paths of
 * PATH_MAX bytes or more are opened a piece at a time. rel "" opens dirfd's
 * directory itself. Returns an fd or -errno. */
int path_open(int dirfd, const char *rel, size_t len, int flags);

/* path_open(), but following symlinks (the PATH arguments, resolved once
 * as find -H does). */
int path_open_follow(int dirfd, const char *rel, size_t len, int flags);

#endif
