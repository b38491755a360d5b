/* SPDX-License-Identifier: MIT */
/* ferry_chan_stats: the counters kept under the lock, plus what the data
 * path counts itself (chan_lf.c counts fast-path traffic by ring positions
 * and per-side counters). No atomics here; the path's stats hook cites its
 * own rules. */
#include "chan_op.h"

#include <errno.h>

int ferry_chan_stats(const void *handle, struct ferry_chan_stats *out)
{
    if (!handle || !out)
        return -EINVAL;
    const struct ferry_tx *h = (const struct ferry_tx *)handle; /* same layout as ferry_rx */
    if (h->magic != FERRY__TX_MAGIC && h->magic != FERRY__RX_MAGIC)
        return -EINVAL;
    struct ferry_chan *c = h->chan;
    ferry__callback_check(c, "handle");
    ferry__chan_lock(c);
    *out = c->st;
    out->name = c->name;
    out->elem_size = c->elem;
    out->capacity = c->cap;
    out->budget = c->budget;
    out->levels = c->levels;
    c->path->stats(c, out);
    out->senders = c->tx_refs;
    out->receivers = c->rx_refs;
    out->closed = c->closed || c->tx_refs == 0;
    ferry__chan_unlock(c);
    return 0;
}
