/* SPDX-License-Identifier: MIT */
/* The baseline queue of bench/chan: see chan_baseline.h. */
#include "chan_baseline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_queue {
    pthread_mutex_t m;
    pthread_cond_t not_empty, not_full;
    uint64_t *buf;
    size_t cap;   /* items; SIZE_MAX unbounded; 0 rendezvous */
    size_t slots; /* ring size (1 for rendezvous) */
    size_t head, len;
    uint64_t put_seq, take_seq; /* rendezvous: items deposited / taken */
};

bl_queue *bl_open(size_t capacity)
{
    bl_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->cap = capacity;
    q->slots = capacity == 0 ? 1 : capacity == SIZE_MAX ? 64 : capacity;
    q->buf = malloc(q->slots * sizeof *q->buf);
    if (!q->buf) {
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->m, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return q;
}

void bl_free(bl_queue *q)
{
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->m);
    free(q->buf);
    free(q);
}

/* Under the lock: double the ring, unwrapping the live items to the front. */
static void grow(bl_queue *q)
{
    size_t ns = q->slots * 2;
    uint64_t *nb = malloc(ns * sizeof *nb);
    if (!nb) {
        fprintf(stderr, "baseline: out of memory\n");
        abort();
    }
    size_t first = q->slots - q->head < q->len ? q->slots - q->head : q->len;
    memcpy(nb, q->buf + q->head, first * sizeof *nb);
    memcpy(nb + first, q->buf, (q->len - first) * sizeof *nb);
    free(q->buf);
    q->buf = nb;
    q->slots = ns;
    q->head = 0;
}

void bl_send(bl_queue *q, uint64_t item)
{
    pthread_mutex_lock(&q->m);
    if (q->cap == 0) {
        /* Rendezvous: wait for the slot, deposit, wait until taken. */
        while (q->len)
            pthread_cond_wait(&q->not_full, &q->m);
        q->buf[0] = item;
        q->len = 1;
        uint64_t mine = ++q->put_seq;
        pthread_cond_signal(&q->not_empty);
        while (q->take_seq < mine)
            pthread_cond_wait(&q->not_full, &q->m);
        pthread_mutex_unlock(&q->m);
        return;
    }
    if (q->cap == SIZE_MAX) {
        if (q->len == q->slots)
            grow(q);
    } else {
        while (q->len == q->slots)
            pthread_cond_wait(&q->not_full, &q->m);
    }
    size_t tail = q->head + q->len;
    if (tail >= q->slots)
        tail -= q->slots;
    q->buf[tail] = item;
    q->len++;
    pthread_mutex_unlock(&q->m);
    pthread_cond_signal(&q->not_empty);
}

uint64_t bl_recv(bl_queue *q)
{
    pthread_mutex_lock(&q->m);
    while (q->len == 0)
        pthread_cond_wait(&q->not_empty, &q->m);
    uint64_t v = q->buf[q->head];
    if (++q->head == q->slots)
        q->head = 0;
    q->len--;
    if (q->cap == 0) {
        /* The depositor and the next senders all wait on not_full. */
        q->take_seq++;
        pthread_mutex_unlock(&q->m);
        pthread_cond_broadcast(&q->not_full);
        return v;
    }
    pthread_mutex_unlock(&q->m);
    if (q->cap != SIZE_MAX)
        pthread_cond_signal(&q->not_full);
    return v;
}

void bl_send_n(bl_queue *q, const uint64_t *items, size_t n)
{
    if (q->cap == 0 || n == 1) {
        for (size_t i = 0; i < n; i++)
            bl_send(q, items[i]);
        return;
    }
    pthread_mutex_lock(&q->m);
    while (n > 0) {
        if (q->cap == SIZE_MAX) {
            while (q->slots - q->len < n)
                grow(q);
        } else {
            while (q->len == q->slots)
                pthread_cond_wait(&q->not_full, &q->m);
        }
        size_t k = q->slots - q->len < n ? q->slots - q->len : n;
        for (size_t i = 0; i < k; i++) {
            size_t tail = q->head + q->len;
            if (tail >= q->slots)
                tail -= q->slots;
            q->buf[tail] = items[i];
            q->len++;
        }
        items += k;
        n -= k;
        if (k == 1)
            pthread_cond_signal(&q->not_empty);
        else
            pthread_cond_broadcast(&q->not_empty);
    }
    pthread_mutex_unlock(&q->m);
}

size_t bl_recv_n(bl_queue *q, uint64_t *out, size_t max)
{
    if (q->cap == 0 || max == 1) {
        out[0] = bl_recv(q);
        return 1;
    }
    pthread_mutex_lock(&q->m);
    while (q->len == 0)
        pthread_cond_wait(&q->not_empty, &q->m);
    size_t k = q->len < max ? q->len : max;
    for (size_t i = 0; i < k; i++) {
        out[i] = q->buf[q->head];
        if (++q->head == q->slots)
            q->head = 0;
    }
    q->len -= k;
    pthread_mutex_unlock(&q->m);
    if (q->cap != SIZE_MAX) {
        if (k == 1)
            pthread_cond_signal(&q->not_full);
        else
            pthread_cond_broadcast(&q->not_full);
    }
    return k;
}
