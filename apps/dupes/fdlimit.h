/* SPDX-License-Identifier: MIT */
/* The open-file limit. Every walker and every reader holds up to two
 * descriptors at a time (a directory or file, and a piece of a path longer
 * than PATH_MAX while it is opened), on top of what is open when the
 * threads start (the standard ones, pipes, the PATHs' directories, the
 * index). fit_open_files() raises the soft RLIMIT_NOFILE towards the hard
 * one as far as the run needs, and where even that is short uses fewer
 * threads (with a message) rather than failing opens in the middle of the
 * scan, which would leave files out of the groups. */
#ifndef FERRY_DUPES_FDLIMIT_H
#define FERRY_DUPES_FDLIMIT_H

#include "dupes.h"

#include <sys/resource.h>

/* Descriptors each walker or reader may hold at once. */
#define FDS_PER_THREAD 2
/* Descriptors kept in reserve (SQLite's files and the test hooks' log are
 * open already when the count is taken; this is for what opens for a
 * moment: a directory SQLite syncs, a temporary file). */
#define FDS_SPARE 2

/* Raise the soft limit (towards the hard one) so that n more descriptors
 * fit besides those open now: one per PATH directory, held for the whole
 * run, before any thread starts. Returns the soft limit now in force. */
rlim_t fdlimit_make_room(unsigned n);

/* Fit *walkers and *readers to the limit. 0, or -1 after a message: not
 * even one of each fits. */
int fit_open_files(unsigned *walkers, unsigned *readers);

#endif
