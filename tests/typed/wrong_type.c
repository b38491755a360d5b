/* SPDX-License-Identifier: MIT */
/* FERRY_CHAN_TYPED's promise, as compiler input (tests/typed/compile_fail.sh):
 * built with -DCASE=0 it must compile; with each CASE=1.. (one misuse each)
 * it must not. The misuses: an int sent on a `struct job *` channel, an int
 * received into, the handle of another typed channel, a plain ferry handle,
 * the wrong item type for a select case, a value instead of a pointer. */
#include <ferry/typed.h>

struct job;
struct other;
FERRY_CHAN_TYPED(jobq, struct job *);
FERRY_CHAN_TYPED(numq, int);

int probe(jobq_tx *tx, jobq_rx *rx, numq_tx *ntx, ferry_tx *plain, struct job *j, ferry_select_case *c);

int probe(jobq_tx *tx, jobq_rx *rx, numq_tx *ntx, ferry_tx *plain, struct job *j, ferry_select_case *c)
{
    int x = 1;
    struct job *out[4];
    (void)tx, (void)rx, (void)ntx, (void)plain, (void)j, (void)c, (void)x, (void)out;
#if CASE == 0
    /* Right: each of these compiles. */
    ssize_t r = jobq_send(tx, &j, 1) + jobq_recv(rx, out, 4) + numq_send(ntx, &x, 1);
    jobq_select_recv(c, rx, out, 4);
    jobq_select_send(c, tx, &j, 1, 0);
    return (int)r + (ferry_send(jobq_tx_handle(tx), &j, 1) > 0);
#elif CASE == 1
    return (int)jobq_send(tx, &x, 1);            /* an int on a struct job * channel */
#elif CASE == 2
    int in[4];
    return (int)jobq_recv(rx, in, 4);            /* receive into ints */
#elif CASE == 3
    return (int)jobq_send(ntx, &j, 1);          /* another typed channel's handle */
#elif CASE == 4
    return (int)jobq_send(plain, &j, 1);         /* a plain ferry_tx */
#elif CASE == 5
    struct other *o = 0;
    jobq_select_send(c, tx, &o, 1, 0);           /* the wrong item type in a select case */
    return 0;
#elif CASE == 6
    return (int)jobq_send(tx, j, 1);             /* the item, not a pointer to it */
#else
#error "unknown CASE"
#endif
}
