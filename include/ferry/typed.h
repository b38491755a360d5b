/* SPDX-License-Identifier: MIT */
/* ferry/typed.h: type-safe channels of one item type.
 *
 * A ferry channel moves items of elem_size bytes through void pointers, so
 * the compiler cannot tell a channel of `struct job *` from one of `int`.
 * FERRY_CHAN_TYPED(name, T) defines, for one item type T, handle types and
 * static inline wrappers whose parameters say T (in the manner of Concurrency
 * Kit's CK_RING_PROTOTYPE):
 *
 *   FERRY_CHAN_TYPED(jobq, struct job *);
 *
 *   jobq_tx *tx; jobq_rx *rx;
 *   ferry_chan_config cfg = { .capacity = 256 };   // elem_size: set for you
 *   jobq_open(&cfg, &tx, &rx);
 *   struct job *j = make_job();
 *   jobq_send(tx, &j, 1);                          // a `struct job *const *`
 *   int x = 1;
 *   jobq_send(tx, &x, 1);                          // does not compile
 *
 * Passing the wrong item type, or a handle of another typed channel (or a
 * plain ferry_tx *), is a constraint violation in C: an error with
 * -pedantic-errors or -Werror (and by default from GCC 14 on; a warning
 * before). The wrappers add nothing at run time: name_tx and name_rx are
 * incomplete struct types whose pointers are the channel's ferry_tx and
 * ferry_rx handles (name_tx_handle / name_rx_handle give them back, for
 * ferry_chan_stats and the like). Every wrapper has the contract of the
 * function it wraps (ferry/chan.h, ferry/op.h, ferry/select.h), including
 * the NULL policy.
 *
 * Defined for a name (all static inline):
 *   name_item                                  T, as a typedef
 *   name_tx, name_rx                           the handle types
 *   name_open(cfg, name_tx **, name_rx **)     ferry_chan_open with
 *                                              elem_size = sizeof(name##_item)
 *                                              (cfg->elem_size must be 0 or
 *                                              sizeof(name##_item), else -EINVAL)
 *   name_tx_clone, name_rx_clone, name_tx_release, name_rx_release,
 *   name_tx_close, name_tx_handle, name_rx_handle
 *   name_send, name_try_send, name_send_until, name_send_prio,
 *   name_send_prio_until (const name##_item *items, size_t n, ...)
 *   name_recv, name_try_recv, name_recv_until (name##_item *out, size_t max, ...)
 *   name_recv_start, name_send_start, name_send_prio_start (async, ferry_op)
 *   name_select_recv(ferry_select_case *, name_rx *, name##_item *out, size_t max)
 *   name_select_send(ferry_select_case *, name_tx *, const name##_item *items, size_t n,
 *                    unsigned prio)     fill one select case: the whole
 *                                       case, as a designated initializer
 *                                       does (the rest zero: a case never
 *                                       started, whatever it held); a NULL
 *                                       case pointer: nothing. Not for a
 *                                       case of a select in flight.
 */
#ifndef FERRY_TYPED_H
#define FERRY_TYPED_H

#include <ferry/chan.h>
#include <ferry/op.h>
#include <ferry/select.h>
#include <string.h>

FERRY_EXTERN_C_BEGIN

/* The generated functions: static inline, and not warned about when a file
 * uses only some of them (clang warns about unused static inline functions
 * defined in the main file, where the macro expands). */
#define FERRY__TYPED_FN static inline __attribute__((unused))

/* Define the typed handles name_tx / name_rx and the static inline
 * wrappers listed above for channels of items of type T (T must be a
 * complete object type; write it as a typedef name if it is an array or
 * function pointer type). Use it once per name, at file scope, in a header
 * shared by the code that uses the channel.
 *
 * Item types: items are copied byte by byte (memcpy), so T must be
 * trivially copyable in C++ terms; a struct with padding is fine (its
 * members arrive, its padding bytes are whatever the sender's held). T
 * itself must not be const- or volatile-qualified: a receive writes into
 * name_item *out, so `const int` does not compile (-Werror, and in C++)
 * -- a pointer to const, such as `const char *`, is a plain T. An array
 * type works (typedef int quad[4]; one item is four ints), but C before
 * C23 sees `quad *` and `const quad *` as pointers to differently
 * qualified arrays: with -pedantic, sending from a plain `quad *` warns
 * unless it is cast to `const quad *` (or the array is wrapped in a
 * struct). Every wrapper is a function: each argument is evaluated once.
 *
 * T is the rest of the macro's arguments, so a type spelled with a comma
 * needs no typedef: FERRY_CHAN_TYPED(pairq, struct { int a, b; }), and in
 * C++ FERRY_CHAN_TYPED(arrq, std::array<int, 3>). */
#define FERRY_CHAN_TYPED(name, ...)                                                                        \
    typedef __VA_ARGS__ name##_item; /* T; `const name##_item *` is a pointer to const T, whatever T is */ \
    typedef struct name##_tx name##_tx;                                                                    \
    typedef struct name##_rx name##_rx;                                                                    \
    FERRY__TYPED_FN ferry_tx *name##_tx_handle(name##_tx *tx)                                              \
    {                                                                                                      \
        return FERRY__SCAST(ferry_tx *, FERRY__SCAST(void *, tx));                                         \
    }                                                                                                      \
    FERRY__TYPED_FN ferry_rx *name##_rx_handle(name##_rx *rx)                                              \
    {                                                                                                      \
        return FERRY__SCAST(ferry_rx *, FERRY__SCAST(void *, rx));                                         \
    }                                                                                                      \
    FERRY__TYPED_FN int name##_open(const ferry_chan_config *cfg, name##_tx **tx, name##_rx **rx)            \
    {                                                                                                      \
        if (!cfg || !tx || !rx || (cfg->elem_size != 0 && cfg->elem_size != sizeof(name##_item)))                    \
            return -EINVAL;                                                                                \
        ferry_chan_config c = *cfg;                                                                        \
        c.elem_size = sizeof(name##_item);                                                                           \
        ferry_tx *t;                                                                                       \
        ferry_rx *r;                                                                                       \
        int e = ferry_chan_open(&c, &t, &r);                                                               \
        if (e == 0) {                                                                                      \
            *tx = FERRY__SCAST(name##_tx *, FERRY__SCAST(void *, t));                                      \
            *rx = FERRY__SCAST(name##_rx *, FERRY__SCAST(void *, r));                                      \
        }                                                                                                  \
        return e;                                                                                          \
    }                                                                                                      \
    FERRY__TYPED_FN name##_tx *name##_tx_clone(name##_tx *tx)                                                \
    {                                                                                                      \
        return FERRY__SCAST(name##_tx *, FERRY__SCAST(void *, ferry_tx_clone(name##_tx_handle(tx))));      \
    }                                                                                                      \
    FERRY__TYPED_FN name##_rx *name##_rx_clone(name##_rx *rx)                                                \
    {                                                                                                      \
        return FERRY__SCAST(name##_rx *, FERRY__SCAST(void *, ferry_rx_clone(name##_rx_handle(rx))));      \
    }                                                                                                      \
    FERRY__TYPED_FN void name##_tx_release(name##_tx *tx) { ferry_tx_release(name##_tx_handle(tx)); }        \
    FERRY__TYPED_FN void name##_rx_release(name##_rx *rx) { ferry_rx_release(name##_rx_handle(rx)); }        \
    FERRY__TYPED_FN void name##_tx_close(name##_tx *tx) { ferry_tx_close(name##_tx_handle(tx)); }            \
    FERRY__TYPED_FN ssize_t name##_send(name##_tx *tx, const name##_item *items, size_t n)                             \
    {                                                                                                      \
        return ferry_send(name##_tx_handle(tx), items, n);                                                 \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_try_send(name##_tx *tx, const name##_item *items, size_t n)                         \
    {                                                                                                      \
        return ferry_try_send(name##_tx_handle(tx), items, n);                                             \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_send_until(name##_tx *tx, const name##_item *items, size_t n,                       \
                                            const struct timespec *deadline)                               \
    {                                                                                                      \
        return ferry_send_until(name##_tx_handle(tx), items, n, deadline);                                 \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_send_prio(name##_tx *tx, const name##_item *items, size_t n, unsigned prio)         \
    {                                                                                                      \
        return ferry_send_prio(name##_tx_handle(tx), items, n, prio);                                      \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_send_prio_until(name##_tx *tx, const name##_item *items, size_t n, unsigned prio,   \
                                                 const struct timespec *deadline)                          \
    {                                                                                                      \
        return ferry_send_prio_until(name##_tx_handle(tx), items, n, prio, deadline);                      \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_recv(name##_rx *rx, name##_item *out, size_t max)                                   \
    {                                                                                                      \
        return ferry_recv(name##_rx_handle(rx), out, max);                                                 \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_try_recv(name##_rx *rx, name##_item *out, size_t max)                               \
    {                                                                                                      \
        return ferry_try_recv(name##_rx_handle(rx), out, max);                                             \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_recv_until(name##_rx *rx, name##_item *out, size_t max,                             \
                                            const struct timespec *deadline)                               \
    {                                                                                                      \
        return ferry_recv_until(name##_rx_handle(rx), out, max, deadline);                                 \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_recv_start(name##_rx *rx, ferry_op *op, name##_item *out, size_t max, ferry_waker w) \
    {                                                                                                      \
        return ferry_recv_start(name##_rx_handle(rx), op, out, max, w);                                    \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_send_start(name##_tx *tx, ferry_op *op, const name##_item *items, size_t n,         \
                                            ferry_waker w)                                                 \
    {                                                                                                      \
        return ferry_send_start(name##_tx_handle(tx), op, items, n, w);                                    \
    }                                                                                                      \
    FERRY__TYPED_FN ssize_t name##_send_prio_start(name##_tx *tx, ferry_op *op, const name##_item *items, size_t n,    \
                                                 unsigned prio, ferry_waker w)                             \
    {                                                                                                      \
        return ferry_send_prio_start(name##_tx_handle(tx), op, items, n, prio, w);                         \
    }                                                                                                      \
    FERRY__TYPED_FN void name##_select_recv(ferry_select_case *c, name##_rx *rx, name##_item *out, size_t max)         \
    {                                                                                                      \
        if (!c)                                                                                            \
            return;                                                                                        \
        memset(FERRY__SCAST(void *, c), 0, sizeof *c); /* the cast: no g++ -Wclass-memaccess (atomics) */ \
        c->op = FERRY_SELECT_RECV;                                                                         \
        c->rx = name##_rx_handle(rx);                                                                      \
        c->buf = FERRY__SCAST(void *, out);                                                                \
        c->n = max;                                                                                        \
    }                                                                                                      \
    FERRY__TYPED_FN void name##_select_send(ferry_select_case *c, name##_tx *tx, const name##_item *items, size_t n,   \
                                          unsigned prio)                                                   \
    {                                                                                                      \
        if (!c)                                                                                            \
            return;                                                                                        \
        memset(FERRY__SCAST(void *, c), 0, sizeof *c); /* the cast: no g++ -Wclass-memaccess (atomics) */ \
        c->op = FERRY_SELECT_SEND;                                                                         \
        c->prio = prio;                                                                                    \
        c->tx = name##_tx_handle(tx);                                                                      \
        c->buf = FERRY__RCAST(void *, FERRY__RCAST(uintptr_t, items));                                     \
        c->n = n;                                                                                          \
    }                                                                                                      \
    typedef name##_item name##_item /* a repeat of the first typedef: swallows the ';' after the macro */

FERRY_EXTERN_C_END

#endif /* FERRY_TYPED_H */
