/* SPDX-License-Identifier: MIT */
/* The locked data path's buffer: one ring per priority level, a weight
 * budget (src/chan_buf.c). Everything here is under the channel's lock. */
#ifndef FERRY_SRC_CHAN_BUF_H
#define FERRY_SRC_CHAN_BUF_H

#include <ferry/common.h>

/* One ring per priority level. Slots are a power of two; `wt` (channels
 * with a weigh function only) holds each buffered item's weight, at the
 * same index. */
struct ferry__ring {
    char *buf;
    size_t *wt;
    size_t mask; /* slots - 1, or SIZE_MAX when no storage yet */
    size_t head;
    size_t len;
};

struct ferry__chan_buf {
    struct ferry__ring *rings; /* one per level */
    uint64_t nonempty;         /* bit per level with buffered items */
    size_t count;              /* items buffered, all levels */
    size_t weight;             /* their total weight (budgeted channels) */
    unsigned last_level;       /* the level of the last item taken (chan_move.c: a
                                * receive that goes on into blocked senders) */
};

#endif /* FERRY_SRC_CHAN_BUF_H */
