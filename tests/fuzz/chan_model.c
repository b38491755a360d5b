/* SPDX-License-Identifier: MIT */
/* The fuzzer's reference model of one channel: see chan_model.h. */
#include "chan_model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void model_open(struct model *m, size_t elem, size_t cap, unsigned levels, size_t budget, bool weigh, bool drop)
{
    memset(m, 0, sizeof *m);
    m->elem = elem;
    m->cap = cap;
    m->levels = levels ? levels : 1;
    m->budget = budget;
    m->weigh = weigh;
    m->drop = drop;
    /* ferry_chan_open's choice for the fuzzer's sizes (every ring fits,
     * every item is under the block list's limit). */
    m->lockfree = m->levels == 1 && budget == 0 && cap >= 1;
    m->tx_refs = m->rx_refs = 1;
    m->next_id = 1;
}

size_t model_ids_left(const struct model *m) { return MODEL_MAX_IDS + 1 - m->next_id; }

uint32_t model_new_id(struct model *m, size_t w)
{
    if (m->next_id > MODEL_MAX_IDS)
        abort(); /* the fuzzer checks model_ids_left first */
    uint32_t id = m->next_id++;
    m->w[id] = m->weigh ? w : m->elem;
    return id;
}

/* Does an item of weight w go into a buffer holding count items of total
 * weight `weight`? */
static bool fits(const struct model *m, size_t count, size_t weight, size_t w)
{
    if (count >= m->cap)
        return false;
    if (m->budget == 0 || count == 0)
        return true;
    return w <= m->budget && weight <= m->budget - w;
}

static bool ready(const struct model *m) { return !m->closed && m->rx_refs > 0; }

bool model_send_would_block(const struct model *m, const uint32_t *ids, size_t n)
{
    if (n == 0 || !ready(m))
        return false;
    if (m->nsend > 0)
        return true;
    size_t i = 0;
    for (size_t r = 0; r < m->nrecv && i < n; r++)
        i += n - i < m->recvq[r]->n ? n - i : m->recvq[r]->n;
    size_t count = m->count, weight = m->weight;
    for (; i < n; i++) {
        if (!fits(m, count, weight, m->w[ids[i]]))
            return true;
        count++;
        weight += m->budget ? m->w[ids[i]] : 0;
    }
    return false;
}

bool model_recv_would_block(const struct model *m)
{
    return m->count == 0 && m->nsend == 0 && !m->closed && m->tx_refs > 0;
}

/* ------------------------------------------------------------------------ */

static void unlink_op(struct model_op **q, size_t *len, struct model_op *op)
{
    for (size_t i = 0; i < *len; i++) {
        if (q[i] == op) {
            memmove(&q[i], &q[i + 1], (*len - i - 1) * sizeof *q);
            (*len)--;
            return;
        }
    }
    abort(); /* model bug: the op was not linked */
}

static void link_op(struct model *m, struct model_op *op)
{
    op->state = MS_LINKED;
    op->seq = m->link_seq++;
    if (op->kind == MK_SEND) {
        m->sendq[m->nsend++] = op;
        m->sends_blocked++;
    } else {
        m->recvq[m->nrecv++] = op;
        m->recvs_blocked++;
    }
}

/* A send op finished: its items not moved go back to the caller. */
static void return_rest(struct model *m, struct model_op *op)
{
    if (op->kind == MK_SEND)
        for (size_t i = op->done; i < op->n; i++)
            m->fate[op->ids[i]] = F_RETURNED;
}

/* A linked op completes with `result` (and its waker is due). */
static void complete(struct model *m, struct model_op *op, ssize_t result)
{
    if (op->kind == MK_SEND)
        unlink_op(m->sendq, &m->nsend, op);
    else
        unlink_op(m->recvq, &m->nrecv, op);
    op->state = MS_DONE;
    op->result = result;
    op->exp_wakes++;
    m->wakeups++;
    return_rest(m, op);
}

static void complete_all(struct model *m, struct model_op **q, size_t *len, ssize_t result)
{
    while (*len > 0) {
        struct model_op *op = q[0];
        complete(m, op, op->kind == MK_SEND && op->done > 0 ? (ssize_t)op->done : result);
    }
}

/* Move the op's next items into the buffer while they fit. */
static void buffer_put(struct model *m, struct model_op *op)
{
    struct model_fifo *f = &m->lvl[op->prio];
    while (op->done < op->n) {
        uint32_t id = op->ids[op->done];
        if (!fits(m, m->count, m->weight, m->w[id]))
            return;
        f->ids[f->tail++] = id;
        m->count++;
        m->weight += m->budget ? m->w[id] : 0;
        m->fate[id] = F_BUFFERED;
        m->path[id] = P_BUFFERED;
        m->items_sent++;
        op->done++;
    }
}

/* Move buffered items into op, highest level first, up to max in all.
 * Returns the level of the last item taken (UINT_MAX: none). */
static unsigned buffer_take(struct model *m, struct model_op *op, size_t max)
{
    unsigned last = UINT_MAX;
    for (unsigned l = m->levels; l-- > 0 && op->done < max;) {
        struct model_fifo *f = &m->lvl[l];
        while (op->done < max && f->head < f->tail) {
            last = l;
            uint32_t id = f->ids[f->head++];
            op->ids[op->done++] = id;
            m->fate[id] = F_RECEIVED;
            m->count--;
            m->weight -= m->budget ? m->w[id] : 0;
            m->items_received++;
        }
    }
    return last;
}

/* Move one item from a sender to a receiver directly. */
static void hand(struct model *m, struct model_op *s, struct model_op *r, enum model_path how)
{
    uint32_t id = s->ids[s->done++];
    r->ids[r->done++] = id;
    m->fate[id] = F_RECEIVED;
    m->path[id] = (uint8_t)how;
    m->items_sent++;
    m->items_received++;
    m->handoffs++;
}

/* Blocked senders refill the buffer, oldest first, none overtaken. */
static void refill(struct model *m)
{
    while (m->nsend > 0 && ready(m)) {
        struct model_op *s = m->sendq[0];
        buffer_put(m, s);
        if (s->done < s->n)
            return;
        complete(m, s, (ssize_t)s->n);
    }
}

ssize_t model_send(struct model *m, struct model_op *op, size_t n, unsigned prio, enum model_mode mode)
{
    op->kind = MK_SEND;
    op->state = MS_IDLE;
    op->prio = prio;
    op->n = n;
    op->done = 0;
    op->exp_wakes = 0;
    for (size_t i = 0; i < n; i++)
        m->fate[op->ids[i]] = F_SENDING;
    ssize_t r;
    if (!ready(m)) {
        r = -EPIPE;
    } else {
        if (m->nsend == 0 && m->nrecv > 0 && m->lockfree && mode != MM_ASYNC && m->cap - m->count >= n) {
            /* The fast path: into the buffer, then on to the receivers
             * (chan_lf.c lf_send, D2's settle). */
            buffer_put(m, op);
            while (m->nrecv > 0 && m->count > 0) {
                struct model_op *rop = m->recvq[0];
                buffer_take(m, rop, rop->n);
                complete(m, rop, (ssize_t)rop->done);
            }
        } else if (m->nsend == 0) {
            while (op->done < n && m->nrecv > 0) {
                struct model_op *rop = m->recvq[0];
                while (op->done < n && rop->done < rop->n)
                    hand(m, op, rop, P_HANDOFF);
                complete(m, rop, (ssize_t)rop->done);
            }
            buffer_put(m, op);
        }
        if (op->done == n)
            r = (ssize_t)n;
        else if (mode == MM_ASYNC) {
            link_op(m, op);
            return -EINPROGRESS;
        } else if (mode == MM_BLOCK)
            abort(); /* the fuzzer asked model_send_would_block first */
        else if (op->done > 0)
            r = (ssize_t)op->done;
        else
            r = mode == MM_TRY ? -EAGAIN : -ETIMEDOUT;
    }
    op->state = MS_DONE;
    op->result = r;
    return_rest(m, op);
    return r;
}

/* The blocked sender a receiver takes from next: highest level, then oldest. */
static struct model_op *next_sender(const struct model *m)
{
    struct model_op *best = NULL;
    for (size_t i = 0; i < m->nsend; i++)
        if (!best || m->sendq[i]->prio > best->prio)
            best = m->sendq[i];
    return best;
}

ssize_t model_recv(struct model *m, struct model_op *op, size_t max, enum model_mode mode)
{
    op->kind = MK_RECV;
    op->state = MS_IDLE;
    op->prio = 0;
    op->n = max;
    op->done = 0;
    op->exp_wakes = 0;
    /* One receive spans levels highest first: after the buffer's items,
     * blocked senders' only at levels up to the last one taken. */
    unsigned top = buffer_take(m, op, max);
    struct model_op *s;
    while (op->done < max && (s = next_sender(m)) != NULL && s->prio <= top) {
        while (op->done < max && s->done < s->n)
            hand(m, s, op, P_TAKEN);
        if (s->done == s->n)
            complete(m, s, (ssize_t)s->n);
    }
    ssize_t r;
    if (op->done > 0) {
        refill(m);
        r = (ssize_t)op->done;
    } else if (m->closed || m->tx_refs == 0) {
        r = 0;
    } else if (mode == MM_ASYNC) {
        link_op(m, op);
        return -EINPROGRESS;
    } else if (mode == MM_BLOCK) {
        abort(); /* the fuzzer asked model_recv_would_block first */
    } else {
        r = mode == MM_TRY ? -EAGAIN : -ETIMEDOUT;
    }
    op->state = MS_DONE;
    op->result = r;
    return r;
}

ssize_t model_cancel(struct model *m, struct model_op *op)
{
    if (op->state != MS_LINKED)
        return op->result;
    if (op->kind == MK_SEND)
        unlink_op(m->sendq, &m->nsend, op);
    else
        unlink_op(m->recvq, &m->nrecv, op);
    op->state = MS_DONE;
    op->result = (ssize_t)op->done;
    return_rest(m, op);
    if (op->kind == MK_SEND)
        refill(m);
    return op->result;
}

void model_tx_close(struct model *m)
{
    if (m->closed)
        return;
    m->closed = true;
    complete_all(m, m->recvq, &m->nrecv, 0);
    complete_all(m, m->sendq, &m->nsend, -EPIPE);
}

void model_tx_release(struct model *m)
{
    if (--m->tx_refs == 0)
        model_tx_close(m);
}

size_t model_rx_release(struct model *m, uint32_t *dropped)
{
    size_t nd = 0;
    if (--m->rx_refs > 0)
        return 0;
    for (unsigned l = 0; l < m->levels; l++) {
        struct model_fifo *f = &m->lvl[l];
        while (f->head < f->tail) {
            uint32_t id = f->ids[f->head++];
            m->fate[id] = m->drop ? F_DROPPED : F_DISCARDED;
            if (m->drop)
                dropped[nd++] = id;
        }
    }
    m->count = m->weight = 0;
    complete_all(m, m->sendq, &m->nsend, -EPIPE);
    complete_all(m, m->recvq, &m->nrecv, -EPIPE);
    return nd;
}
