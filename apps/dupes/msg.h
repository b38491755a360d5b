/* SPDX-License-Identifier: MIT */
/* Messages on stderr, from any thread: "ferry-dupes: PATH: what happened".
 * They erase the progress line first (progress.c redraws it). */
#ifndef FERRY_DUPES_MSG_H
#define FERRY_DUPES_MSG_H

#include <stdbool.h>
#include <stddef.h>

struct node;
struct dir;

/* "ferry-dupes: message" */
__attribute__((format(printf, 1, 2))) void msg(const char *fmt, ...);
/* "ferry-dupes: PATH: message" (PATH escaped for the terminal) */
__attribute__((format(printf, 3, 4))) void msg_path(const char *path, size_t len, const char *fmt, ...);
/* The same with the node's (or directory's) output path. */
__attribute__((format(printf, 2, 3))) void msg_node(const struct node *n, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void msg_dir(const struct dir *d, const char *fmt, ...);

/* The progress line, under the message lock: drawn (or erased, line NULL). */
void msg_progress(const char *line);

#endif
