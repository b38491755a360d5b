/* SPDX-License-Identifier: MIT */
/* What a stage does when a resource fails (dupes.h): out of memory is a
 * fatal error, said once; a send that loses items is one too. Nothing a
 * stage was handed may vanish while the run still ends with status 0. */
#include "debug.h"
#include "dupes.h"
#include "msg.h"

#include <errno.h>
#include <string.h>

void dupes_oom(struct dupes *d)
{
    /* Relaxed: only which thread prints the message matters. */
    if (!atomic_exchange_explicit(&d->oom_said, true, memory_order_relaxed))
        msg("out of memory");
    dupes_fail(d);
}

size_t stage_send(struct dupes *d, ferry_tx *tx, const void *items, size_t n, size_t elem,
                  unsigned prio)
{
    size_t done = 0;
    while (done < n) {
        /* A short count says nothing of why: the next call does. */
        ssize_t r = debug_fail(FAIL_SEND)
                        ? -ENOMEM
                        : ferry_send_prio(tx, (const char *)items + done * elem, n - done, prio);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == -ENOMEM)
            dupes_oom(d);
        else if (r != -EPIPE || !atomic_load_explicit(&d->stop, memory_order_relaxed)) {
            /* closed while the run goes on: a defect, never silent */
            msg("internal error: a send lost %zu items: %s", n - done, strerror((int)-r));
            dupes_fail(d);
        }
        break;
    }
    return done;
}

size_t send_counted(struct dupes *d, ferry_tx *tx, const void *items, size_t n, size_t elem,
                    unsigned prio)
{
    size_t sent = stage_send(d, tx, items, n, elem, prio);
    if (sent < n) /* the matcher would wait for ever: it drains and ends */
        ferry_tx_close(d->results_tx);
    return sent;
}
