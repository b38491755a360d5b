/* SPDX-License-Identifier: MIT */
/* Bounded wait-free SPSC ring (ferry/spsc.h): set-up. The hot paths are
 * static inline in the header. */
#include <ferry/spsc.h>

#include <errno.h>

size_t ferry_spsc_buffer_size(size_t elem_size, size_t capacity)
{
    if (elem_size == 0 || capacity == 0 || (capacity & (capacity - 1)) != 0)
        return 0;
    if (capacity > SIZE_MAX / elem_size)
        return 0;
    return elem_size * capacity;
}

int ferry_spsc_init(ferry_spsc *q, void *buf, size_t elem_size, size_t capacity)
{
    if (!q || !buf || ferry_spsc_buffer_size(elem_size, capacity) == 0)
        return -EINVAL;
    memset(q, 0, sizeof *q);
    atomic_store_explicit(&q->head, 0, memory_order_relaxed);
    atomic_store_explicit(&q->tail, 0, memory_order_relaxed);
    q->p_tail_cache = 0;
    q->c_head_cache = 0;
    q->p_buf = q->c_buf = (char *)buf;
    q->p_mask = q->c_mask = capacity - 1;
    q->p_esize = q->c_esize = elem_size;
    return 0;
}
