/* SPDX-License-Identifier: MIT */
/* The PATH arguments: each resolved once (symlinks in the argument itself
 * are followed, as find -H does; nothing below it ever is) and opened as
 * the directory every later open is relative to. A PATH may be longer
 * than PATH_MAX, or lie deeper than that. */
#ifndef FERRY_DUPES_ROOTS_H
#define FERRY_DUPES_ROOTS_H

#include "dupes.h"

/* Fill d->roots from d->opt->paths. 0, or -1 after a message (a PATH that
 * does not exist, or is neither a directory nor a regular file). */
int roots_open(struct dupes *d);
void roots_close(struct dupes *d);

#endif
