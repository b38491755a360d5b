/* SPDX-License-Identifier: MIT */
/* The progress line (stderr, redrawn at most 10 times a second, only on a
 * terminal unless --progress) and the summary line at the end. */
#ifndef FERRY_DUPES_PROGRESS_H
#define FERRY_DUPES_PROGRESS_H

#include "report.h"

struct progress {
    bool on;
    int64_t last_ns;
    uint64_t last_read;
    double rate;         /* bytes/s, smoothed */
};

void progress_init(struct progress *p, const struct options *o);
/* Redraw if on (main calls it every 100 ms or so). */
void progress_tick(struct progress *p, struct dupes *d);
/* Erase the line. */
void progress_end(struct progress *p);

/* "ferry-dupes: N files (X) in T s; read Y; G groups, D duplicate files,
 * W wasted; ..." */
void summary_print(struct dupes *d, const struct report *r, int64_t end_ns, bool interrupted);

#endif
