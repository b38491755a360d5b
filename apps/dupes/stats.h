/* SPDX-License-Identifier: MIT */
/* --stats: where the time went (per stage), what was read, and each
 * channel's statistics (ferry_chan_stats). Also the clocks the stages use. */
#ifndef FERRY_DUPES_STATS_H
#define FERRY_DUPES_STATS_H

#include "dupes.h"

#include <stdio.h>

void stats_print(FILE *f, struct dupes *d, int64_t end_ns);

/* What the walk found, each directory entry and directory once where two
 * routes listed it (a bind mount listed again, "t t/sub/.", a file PATH
 * inside a directory PATH): the regular files, their bytes (UINT64_MAX
 * where the total stopped there, satcount.h), the directories. While the
 * walk runs, a second route's files count until the grouper has seen
 * them. Safe from any thread (relaxed loads of struct counters). */
uint64_t files_found(struct dupes *d);
uint64_t bytes_found(struct dupes *d);
uint64_t dirs_found(struct dupes *d);

/* Human sizes: "1.5 GiB" (into buf); UINT64_MAX, where totals stop
 * (satcount.h), reads ">= 16.0 EiB". */
const char *human_bytes(uint64_t n, char *buf, size_t len);

#endif
