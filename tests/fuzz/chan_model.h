/* SPDX-License-Identifier: MIT */
/* The fuzzer's reference model of one channel (single-threaded).
 *
 * It says, from the contract in include/ferry/chan.h and op.h, what each
 * call must return and what it must do to every item and every pending op:
 * per-level FIFOs of items (tagged by id), capacity and budget accounting,
 * the open / closed state, the handle counts, and the queues of pending
 * async sends and receives with their expected completion. The fuzzer asks
 * the model first (it also tells whether a blocking call would block, so
 * that a single thread never makes one that would), then makes the real
 * call and compares.
 *
 * Rules the model follows, all from the headers:
 *  - a sender that finds receivers waiting hands its items to them, oldest
 *    receiver first, each up to its max, before anything is buffered (on
 *    the lock-free paths -- one level, no budget, capacity >= 1 -- a
 *    blocking, timed or try send whose items all fit goes through the
 *    buffer instead: the same items reach the same receivers, but they
 *    are not counted as handoffs);
 *  - a sender queued behind blocked senders moves nothing (no overtaking);
 *  - an item enters the buffer while count < capacity and, with a budget,
 *    while its weight fits (or the buffer is empty: an oversize item still
 *    goes in alone); the first item that does not fit stops the send;
 *  - a receiver takes buffered items, highest level first, FIFO within a
 *    level; then, the buffer empty, straight from blocked senders (highest
 *    level, then oldest); a receiver that got items moves blocked senders'
 *    items into the freed room, oldest sender first, stopping at the first
 *    item that does not fit;
 *  - closing completes waiting receivers with 0 and waiting senders with
 *    their count or -EPIPE; the last receiver's release hands the buffer to
 *    drop and completes senders the same way, waiting receivers with -EPIPE;
 *  - cancelling a linked op withdraws it (its count so far); cancelling a
 *    sender lets the ones behind it refill.
 */
#ifndef FERRY_FUZZ_CHAN_MODEL_H
#define FERRY_FUZZ_CHAN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Most items (ids 1..MODEL_MAX_IDS) one input may create. */
#define MODEL_MAX_IDS 2048
#define MODEL_MAX_LEVELS 64
#define MODEL_MAX_OPS 8

enum model_kind { MK_RECV = 1, MK_SEND = 2 };
enum model_state { MS_IDLE, MS_LINKED, MS_DONE };
/* How a call treats "nothing more can move now". */
enum model_mode {
    MM_TRY,   /* return what moved, or -EAGAIN                        */
    MM_PAST,  /* a deadline already past: what moved, or -ETIMEDOUT   */
    MM_BLOCK, /* the fuzzer guarantees (model_*_would_block) no wait  */
    MM_ASYNC, /* link the op, -EINPROGRESS                            */
};
/* Where an item is. */
enum model_fate { F_NONE, F_SENDING, F_BUFFERED, F_RECEIVED, F_DROPPED, F_DISCARDED, F_RETURNED };
/* How an item left its sender: into the buffer, to a waiting receiver, or
 * taken from the blocked sender by a receiver. */
enum model_path { P_NONE, P_BUFFERED, P_HANDOFF, P_TAKEN };

/* The model of one op: a blocking call's (on the stack) or an async slot's. */
struct model_op {
    enum model_kind kind;
    enum model_state state;
    unsigned prio;
    size_t n;    /* items to send, or max to receive */
    size_t done; /* moved so far */
    uint32_t ids[MODEL_MAX_IDS]; /* send: the items; receive: what it got, in order */
    ssize_t result;
    int exp_wakes; /* waker calls the contract demands so far */
    uint64_t seq;  /* link order */
};

struct model_fifo {
    uint32_t ids[MODEL_MAX_IDS]; /* every id enters a level at most once */
    size_t head, tail;
};

struct model {
    size_t cap, budget, elem;
    unsigned levels;
    bool weigh, drop;
    bool lockfree; /* a plain channel: the lock-free ring or block list */
    bool closed;
    size_t tx_refs, rx_refs;
    size_t count, weight;
    struct model_fifo lvl[MODEL_MAX_LEVELS];
    struct model_op *sendq[MODEL_MAX_OPS + 1], *recvq[MODEL_MAX_OPS + 1];
    size_t nsend, nrecv;
    uint64_t link_seq;
    /* Items: weight and fate per id; ids 1..next_id-1 exist. */
    uint32_t next_id;
    size_t w[MODEL_MAX_IDS + 1];
    uint8_t fate[MODEL_MAX_IDS + 1];
    uint8_t path[MODEL_MAX_IDS + 1];
    /* Statistics the channel must report (chan.h's struct ferry_chan_stats). */
    uint64_t items_sent, items_received, handoffs, sends_blocked, recvs_blocked, wakeups;
};

/* A fresh channel (one handle per side). levels 0 means 1. */
void model_open(struct model *m, size_t elem, size_t cap, unsigned levels, size_t budget, bool weigh, bool drop);

/* Ids still available for new items. */
size_t model_ids_left(const struct model *m);
/* Create an item of weight w (used with a budget; elem_size without weigh). */
uint32_t model_new_id(struct model *m, size_t w);

/* Would a blocking send of these n items / a blocking receive wait? */
bool model_send_would_block(const struct model *m, const uint32_t *ids, size_t n);
bool model_recv_would_block(const struct model *m);

/* The calls, after argument checks (the caller handles -EINVAL and n == 0).
 * op: the call's op model (blocking calls use one on the stack); for a send
 * op->ids[0..n) are the items. Returns what the call must return; ops that
 * complete get state MS_DONE, their result, and exp_wakes + 1 when they had
 * been linked. */
ssize_t model_send(struct model *m, struct model_op *op, size_t n, unsigned prio, enum model_mode mode);
ssize_t model_recv(struct model *m, struct model_op *op, size_t max, enum model_mode mode);
ssize_t model_cancel(struct model *m, struct model_op *op);
void model_tx_close(struct model *m);
void model_tx_release(struct model *m);
/* ids handed to drop are listed in dropped[] (count returned). */
size_t model_rx_release(struct model *m, uint32_t *dropped);

#endif
