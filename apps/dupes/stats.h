/* SPDX-License-Identifier: MIT */
/* --stats: where the time went (per stage), what was read, and each
 * channel's statistics (ferry_chan_stats). Also the clocks the stages use. */
#ifndef FERRY_DUPES_STATS_H
#define FERRY_DUPES_STATS_H

#include "dupes.h"

#include <stdio.h>

void stats_print(FILE *f, struct dupes *d, int64_t end_ns);

/* Human sizes: "1.5 GiB" (into buf); UINT64_MAX, where totals stop
 * (satcount.h), reads ">= 16.0 EiB". */
const char *human_bytes(uint64_t n, char *buf, size_t len);

#endif
