/* SPDX-License-Identifier: MIT */
/* Internal: introspection of a ferry_lfht for the tests (not API). */
#ifndef FERRY_SRC_RCUHASH_INTERNAL_H
#define FERRY_SRC_RCUHASH_INTERNAL_H

#include <ferry/rcuhash.h>

struct ferry__lfht_stats {
    unsigned long size;       /* published bucket count */
    unsigned long target;     /* size the resizer works toward */
    unsigned long resizes;    /* doublings and halvings done */
    unsigned long failures;   /* bucket arrays that could not be allocated */
    int queued;               /* an automatic resize is queued or running */
};

void ferry__lfht_stats(ferry_lfht *ht, struct ferry__lfht_stats *st);

#endif
