/* SPDX-License-Identifier: MIT */
/* PATHs that overlap ("a a/b", ". sub", "t ./t"): each directory is walked
 * once, under the spelling the report would show.
 *
 * A file reached from two PATHs is shown by its bytewise smallest path
 * (group.c, report.c), and below one directory that choice depends only on
 * how the directory itself is spelled, unless one spelling followed by "/"
 * begins the other. So where a directory PATH is met again inside another
 * PATH's walk (by dev and inode), the walk that spells it worse leaves it
 * to the other:
 *   - the PATH's own spelling sorts first (or is the same): the enclosing
 *     walk skips the directory, the PATH's own walk covers it;
 *   - the enclosing walk's spelling sorts first: the PATH is deferred (not
 *     queued at the start, found from the real paths before the walk), the
 *     enclosing walk covers it, and a deferred PATH that no walk covered
 *     (a directory between could not be read, -x, a stop) is walked when
 *     the rest of the walk is done.
 * Where the order depends on the names below, both walks happen as before
 * (the grouper merges what they find). */
#ifndef FERRY_DUPES_OVERLAP_H
#define FERRY_DUPES_OVERLAP_H

#include "dupes.h"
#include "path.h"

#include <stddef.h>
#include <sys/stat.h>

/* How the output paths below one directory compare when it is spelled a
 * or b (as PATHs are: no trailing "/" unless the whole is "/"): -1 when
 * every path spelled a sorts first, 1 when every one spelled b does, 0
 * when a and b are the same, SPELLING_MIXED when it depends on the name
 * below (a + "/" begins b, or b + "/" begins a). */
enum { SPELLING_MIXED = 2 };
int spelling_order(const char *a, size_t alen, const char *b, size_t blen);

/* Before the threads start: record each directory PATH's inode and decide
 * which PATHs are deferred. 0, or -1 after a message (out of memory). */
int overlap_init(struct dupes *d);
void overlap_free(struct dupes *d);

/* A walker has opened dir (st: its fstat) and is about to list it: true
 * when another PATH's walk covers it (skip it). Marks the deferred PATHs
 * that this walk covers. b: scratch space. Safe from any walker. */
bool overlap_skip(struct dupes *d, const struct dir *dir, const struct stat *st, struct buf *b);

/* The walk is otherwise done (pending_dirs reached 0): true once, for the
 * walker that is to queue the deferred PATHs that no walk covered
 * (overlap_uncovered); false when there are none to look at, or later. */
bool overlap_release(struct dupes *d);
static inline bool overlap_uncovered(struct root *r)
{
    return r->deferred && !atomic_load_explicit(&r->covered, memory_order_relaxed);
}

#endif
