/* SPDX-License-Identifier: MIT */
/* --verify: compare the files of every group byte by byte before it is
 * reported. */
#ifndef FERRY_DUPES_VERIFY_H
#define FERRY_DUPES_VERIFY_H

#include "report.h"

/* Replace r's groups by their byte-identical classes (files that differ
 * from the rest are reported apart; files that changed or vanished since
 * they were hashed are left out, with a message). Stops early, marking r
 * partial, when the run is interrupted. A group that splits had a stale
 * hash (or a collision): its files' hashes leave the index (d->index, when
 * there is one, still open), so that the next run reads them again rather
 * than trust it once more. 0, -ENOMEM, or -EIO after a message (the index
 * could not be written: index_forget). */
int verify_report(struct dupes *d, struct report *r);

#endif
