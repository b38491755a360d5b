/* SPDX-License-Identifier: MIT */
/* Hostile arguments to every public channel function: NULL handles and
 * buffers, bad and NULL deadlines, sizes near SIZE_MAX (docs/chan.md,
 * "Arguments"). Each must get a clear result (-EINVAL, -ENOMEM, a no-op),
 * never a crash, and a rejected call must change nothing. */
#include <errno.h>
#include <ferry/op.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "chan_test.h"

static void never(void *ctx)
{
    (void)ctx;
    CHECK_MSG(0, "a waker ran for a call that was rejected");
}
static const ferry_waker W = {never, NULL};

/* ---- the NULL-handle policy ------------------------------------------ */

FERRY_TEST(null_handles_every_function)
{
    long v[2] = {1, 2};
    struct timespec dl = ferry_test_deadline_ms(10);
    ferry_op op;
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(long), .capacity = 4};
    struct ferry_chan_stats st;

    /* Results: -EINVAL, nothing done. */
    CHECK_EQ(ferry_chan_open(NULL, &tx, &rx), -EINVAL);
    CHECK_EQ(ferry_chan_open(&cfg, NULL, &rx), -EINVAL);
    CHECK_EQ(ferry_chan_open(&cfg, &tx, NULL), -EINVAL);
    CHECK_EQ(ferry_send(NULL, v, 1), -EINVAL);
    CHECK_EQ(ferry_try_send(NULL, v, 1), -EINVAL);
    CHECK_EQ(ferry_send_until(NULL, v, 1, &dl), -EINVAL);
    CHECK_EQ(ferry_send_prio(NULL, v, 1, 0), -EINVAL);
    CHECK_EQ(ferry_send_prio_until(NULL, v, 1, 0, &dl), -EINVAL);
    CHECK_EQ(ferry_recv(NULL, v, 1), -EINVAL);
    CHECK_EQ(ferry_try_recv(NULL, v, 1), -EINVAL);
    CHECK_EQ(ferry_recv_until(NULL, v, 1, &dl), -EINVAL);
    CHECK_EQ(ferry_chan_stats(NULL, &st), -EINVAL);
    CHECK_EQ(ferry_recv_start(NULL, &op, v, 1, W), -EINVAL);
    CHECK_EQ(ferry_op_result(&op), -EINVAL); /* the failed start left its result */
    CHECK_EQ(ferry_send_start(NULL, &op, v, 1, W), -EINVAL);
    CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
    CHECK_EQ(ferry_send_prio_start(NULL, &op, v, 1, 0, W), -EINVAL);
    CHECK_EQ(ferry_op_result(NULL), -EINVAL);
    CHECK_EQ(ferry_op_cancel(NULL), -EINVAL);

    /* Like free(NULL): no-ops. Clones of NULL are NULL. */
    ferry_tx_release(NULL);
    ferry_rx_release(NULL);
    ferry_tx_close(NULL);
    CHECK_PTR_EQ(ferry_tx_clone(NULL), NULL);
    CHECK_PTR_EQ(ferry_rx_clone(NULL), NULL);
}

FERRY_TEST(null_buffers_and_null_arguments_with_live_handles)
{
    for (size_t i = 0; i < CHAN_NKINDS; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_chan_kind(&chan_kinds[i], &tx, &rx);
        struct timespec dl = ferry_test_deadline_ms(10);
        ferry_op op;
        long v[2] = {0};
        /* NULL buffer with a non-zero count: -EINVAL; with zero: nothing to do. */
        CHECK_EQ(ferry_send(tx, NULL, 1), -EINVAL);
        CHECK_EQ(ferry_try_send(tx, NULL, 1), -EINVAL);
        CHECK_EQ(ferry_send_until(tx, NULL, 1, &dl), -EINVAL);
        CHECK_EQ(ferry_send_prio(tx, NULL, 1, 0), -EINVAL);
        CHECK_EQ(ferry_send_prio_until(tx, NULL, 1, 0, &dl), -EINVAL);
        CHECK_EQ(ferry_send(tx, NULL, 0), 0);
        CHECK_EQ(ferry_try_send(tx, NULL, 0), 0);
        CHECK_EQ(ferry_recv(rx, NULL, 1), -EINVAL);
        CHECK_EQ(ferry_try_recv(rx, NULL, 1), -EINVAL);
        CHECK_EQ(ferry_recv_until(rx, NULL, 1, &dl), -EINVAL);
        CHECK_EQ(ferry_recv(rx, v, 0), -EINVAL);
        CHECK_EQ(ferry_recv_start(rx, NULL, v, 1, W), -EINVAL);
        CHECK_EQ(ferry_recv_start(rx, &op, NULL, 1, W), -EINVAL);
        CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
        CHECK_EQ(ferry_send_start(tx, NULL, v, 1, W), -EINVAL);
        CHECK_EQ(ferry_send_start(tx, &op, NULL, 1, W), -EINVAL);
        CHECK_EQ(ferry_op_result(&op), -EINVAL);
        CHECK_EQ(ferry_send_start(tx, &op, NULL, 0, W), 0);
        CHECK_EQ(ferry_op_result(&op), 0);
        CHECK_EQ(ferry_op_cancel(&op), 0);
        CHECK_EQ(ferry_chan_stats(tx, NULL), -EINVAL);
        struct ferry_chan_stats st = stats(tx);
        CHECK_EQ(st.len, 0);
        CHECK_EQ(st.items_sent, 0);
        CHECK_EQ(st.sends_blocked, 0);
        CHECK_EQ(st.recvs_blocked, 0);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

/* ---- deadlines --------------------------------------------------------- */

static struct timespec bad_deadline(long nsec)
{
    struct timespec d = ferry_test_deadline_ms(10000); /* in the future */
    d.tv_nsec = nsec;
    return d;
}

/* A non-NULL deadline with tv_nsec out of range is -EINVAL before anything
 * happens: on every kind of channel, whether the call would wait (empty,
 * full) or could complete at once. Before the fix the waits died in the
 * futex system call while the op was linked. */
FERRY_TEST(bad_deadline_is_einval_before_anything_happens)
{
    static const long bad[] = {-1, 1000000000L, LONG_MIN, LONG_MAX};
    for (size_t i = 0; i < CHAN_NKINDS; i++) {
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            ferry_tx *tx;
            ferry_rx *rx;
            open_chan_kind(&chan_kinds[i], &tx, &rx);
            struct timespec dl = bad_deadline(bad[b]);
            long v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
            /* Would wait: nothing buffered / no receiver. */
            CHECK_EQ(ferry_recv_until(rx, out, 8, &dl), -EINVAL);
            if (chan_kinds[i].cap == 0) /* rendezvous: a send waits for a receiver */
                CHECK_EQ(ferry_send_until(tx, v, 1, &dl), -EINVAL);
            /* Fill what can be filled, then a send that would wait. */
            size_t cap = chan_kinds[i].cap;
            ssize_t k = cap == 0 || cap == FERRY_UNBOUNDED ? 0 : ferry_try_send(tx, v, 8);
            CHECK(k >= 0);
            CHECK_EQ(ferry_send_until(tx, v, 8, &dl), -EINVAL);
            CHECK_EQ(ferry_send_prio_until(tx, v, 8, 0, &dl), -EINVAL);
            struct ferry_chan_stats st = stats(tx);
            CHECK_EQ(st.len, (size_t)k);
            CHECK_EQ(st.sends_blocked, 0);
            CHECK_EQ(st.recvs_blocked, 0);
            /* Could complete at once: still rejected, nothing taken. */
            if (k > 0) {
                CHECK_EQ(ferry_recv_until(rx, out, 8, &dl), -EINVAL);
                CHECK_EQ(stats(rx).len, (size_t)k);
                CHECK_EQ(ferry_try_recv(rx, out, 8), k);
            }
            CHECK_EQ(stats(tx).items_received, (uint64_t)k);
            ferry_tx_release(tx);
            ferry_rx_release(rx);
        }
    }
}

/* NULL means "no deadline" in every *_until call, like the plain call. */
FERRY_TEST(null_deadline_means_none)
{
    for (size_t i = 0; i < CHAN_NKINDS; i++) {
        if (chan_kinds[i].cap == 0)
            continue; /* a plain send on a rendezvous channel would wait */
        ferry_tx *tx;
        ferry_rx *rx;
        open_chan_kind(&chan_kinds[i], &tx, &rx);
        long v[2] = {7, 8}, out[2];
        CHECK_EQ(ferry_send_until(tx, v, 1, NULL), 1);
        CHECK_EQ(ferry_recv_until(rx, out, 2, NULL), 1);
        CHECK_EQ(ferry_send_prio_until(tx, v + 1, 1, 0, NULL), 1);
        CHECK_EQ(ferry_recv_until(rx, out + 1, 1, NULL), 1);
        CHECK_EQ(out[0], 7);
        CHECK_EQ(out[1], 8);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

/* A deadline in the past is valid: the try call, then -ETIMEDOUT. So is
 * one with a negative tv_sec (long ago). */
FERRY_TEST(past_deadline_is_the_try_call)
{
    for (size_t i = 0; i < CHAN_NKINDS; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_chan_kind(&chan_kinds[i], &tx, &rx);
        struct timespec past = ferry_test_deadline_ms(-5), ancient = {-100, 5};
        long v = 3, out;
        CHECK_EQ(ferry_recv_until(rx, &out, 1, &past), -ETIMEDOUT);
        CHECK_EQ(ferry_recv_until(rx, &out, 1, &ancient), -ETIMEDOUT);
        ssize_t r = ferry_send_until(tx, &v, 1, &ancient);
        CHECK_EQ(r, chan_kinds[i].cap == 0 ? -ETIMEDOUT : 1);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

/* ---- sizes near SIZE_MAX ------------------------------------------------ */

/* Before the fix: SIGFPE (a size sum wrapped to zero in the lock-free
 * eligibility test). */
FERRY_TEST(huge_elem_size_is_einval_not_a_crash)
{
    ferry_tx *tx;
    ferry_rx *rx;
    static const size_t elems[] = {SIZE_MAX, SIZE_MAX - 3, SIZE_MAX - 4, SIZE_MAX / 2 + 1, (size_t)PTRDIFF_MAX + 1};
    static const size_t caps[] = {0, 1, 2, 4, 1000, FERRY_UNBOUNDED};
    for (size_t e = 0; e < sizeof elems / sizeof elems[0]; e++) {
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            ferry_chan_config cfg = {.elem_size = elems[e], .capacity = caps[c]};
            CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
            cfg.levels = 4;
            CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
        }
    }
}

FERRY_TEST(huge_capacity_times_elem_is_einval)
{
    ferry_tx *tx;
    ferry_rx *rx;
    static const size_t caps[] = {SIZE_MAX - 1, SIZE_MAX / 2, SIZE_MAX / 8 + 1, (size_t)PTRDIFF_MAX / 4 + 1};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        ferry_chan_config cfg = {.elem_size = 8, .capacity = caps[c]};
        CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
    }
}

/* Large but consistent configurations open; storage that cannot be had is
 * -ENOMEM at the send, with nothing lost. The sanitizers' malloc must say
 * so (return NULL) rather than abort on a request that large. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }

/* On a 32-bit target PTRDIFF_MAX / 2 bytes is 1 GiB, which malloc may well
 * give (a 32-bit process on a 64-bit kernel has 4 GiB): there the address
 * space is capped 256 MiB above its current size while the sends run.
 * Returns the limit to restore. */
static struct rlimit cap_small_address_space(void)
{
    struct rlimit old;
    CHECK_EQ(getrlimit(RLIMIT_AS, &old), 0);
    if (SIZE_MAX > 0xffffffffu)
        return old;   /* 2^62 bytes: no address space holds them */
    struct rlimit cap = {(rlim_t)(ferry_test_vm_bytes() + (256ull << 20)), old.rlim_max};
    CHECK_EQ(setrlimit(RLIMIT_AS, &cap), 0);
    return old;
}

FERRY_TEST(storage_that_cannot_grow_is_enomem)
{
    ferry_tx *tx;
    ferry_rx *rx;
    /* One item of PTRDIFF_MAX / 2 bytes: valid, but no such block can be
     * had (its ring is the one slot of the capacity). */
    struct rlimit old = cap_small_address_space();
    ferry_chan_config cfg = {.elem_size = (size_t)PTRDIFF_MAX / 2, .capacity = 1};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    char small[16] = {0};
    CHECK_EQ(ferry_try_send(tx, small, 1), -ENOMEM);
    CHECK_EQ(ferry_send(tx, small, 1), -ENOMEM);
    CHECK_EQ(stats(tx).len, 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    cfg.capacity = FERRY_UNBOUNDED;
    cfg.levels = 64;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    CHECK_EQ(ferry_send_prio(tx, small, 1, 63), -ENOMEM);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
    CHECK_EQ(setrlimit(RLIMIT_AS, &old), 0);
    /* A bounded capacity near SIZE_MAX with 1-byte items works as a big
     * bounded channel. */
    cfg = (ferry_chan_config){.elem_size = 1, .capacity = (size_t)PTRDIFF_MAX - 1};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    CHECK_EQ(ferry_send(tx, "abc", 3), 3);
    char out[4] = {0};
    CHECK_EQ(ferry_recv(rx, out, 4), 3);
    CHECK(memcmp(out, "abc", 3) == 0);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* A count whose byte size overflows cannot describe a real buffer:
 * -EINVAL, on every kind, before anything moves. (Before the fix such
 * sends tried to grow storage to match and got -ENOMEM, and such receives
 * were accepted.) */
FERRY_TEST(huge_counts_are_einval)
{
    for (size_t i = 0; i < CHAN_NKINDS; i++) {
        ferry_tx *tx;
        ferry_rx *rx;
        open_chan_kind(&chan_kinds[i], &tx, &rx);
        long v[4] = {1, 2, 3, 4}, out[4];
        ferry_op op;
        ssize_t k = chan_kinds[i].cap == 0 ? 0 : ferry_try_send(tx, v, 1);
        CHECK(k >= 0);
        static const size_t huge[] = {SIZE_MAX, SIZE_MAX / sizeof(long) + 1, (size_t)PTRDIFF_MAX / sizeof(long) + 1};
        for (size_t h = 0; h < sizeof huge / sizeof huge[0]; h++) {
            CHECK_EQ(ferry_send(tx, v, huge[h]), -EINVAL);
            CHECK_EQ(ferry_try_send(tx, v, huge[h]), -EINVAL);
            CHECK_EQ(ferry_send_prio(tx, v, huge[h], 0), -EINVAL);
            CHECK_EQ(ferry_send_start(tx, &op, v, huge[h], W), -EINVAL);
            CHECK_EQ(ferry_op_cancel(&op), -EINVAL);
            CHECK_EQ(ferry_recv(rx, out, huge[h]), -EINVAL);
            CHECK_EQ(ferry_try_recv(rx, out, huge[h]), -EINVAL);
            CHECK_EQ(ferry_recv_start(rx, &op, out, huge[h], W), -EINVAL);
        }
        CHECK_EQ(stats(tx).len, (size_t)k);
        if (k > 0)
            CHECK_EQ(ferry_try_recv(rx, out, 4), 1);
        ferry_tx_release(tx);
        ferry_rx_release(rx);
    }
}

FERRY_TEST(huge_levels_and_budgets)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = 8, .capacity = 4, .levels = UINT_MAX};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
    cfg.levels = FERRY_MAX_LEVELS + 1;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), -EINVAL);
    /* A budget of SIZE_MAX bounds nothing in practice but is valid. */
    cfg.levels = FERRY_MAX_LEVELS;
    cfg.budget = SIZE_MAX;
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    long v[4] = {1, 2, 3, 4};
    CHECK_EQ(ferry_send_prio(tx, v, 4, FERRY_MAX_LEVELS - 1), 4);
    CHECK_EQ(ferry_send_prio(tx, v, 1, UINT_MAX), -EINVAL);
    CHECK_EQ(stats(tx).weight, 4 * 8);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}

/* Weights near SIZE_MAX: the sums stay exact (an oversize item goes in
 * alone, when the channel is empty), never wrap. */
static size_t weigh_huge(const void *item, void *ctx)
{
    (void)ctx;
    return *(const size_t *)item;
}

FERRY_TEST(huge_weights_do_not_wrap)
{
    ferry_tx *tx;
    ferry_rx *rx;
    ferry_chan_config cfg = {.elem_size = sizeof(size_t), .capacity = 8, .budget = SIZE_MAX - 1,
                             .weigh = weigh_huge};
    CHECK_EQ(ferry_chan_open(&cfg, &tx, &rx), 0);
    size_t w[3] = {SIZE_MAX, SIZE_MAX - 1, 2};
    CHECK_EQ(ferry_try_send(tx, w, 3), 1); /* oversize alone on an empty channel */
    CHECK_EQ(ferry_try_send(tx, w + 1, 2), -EAGAIN);
    CHECK_EQ(stats(tx).weight, SIZE_MAX);
    size_t out[3];
    CHECK_EQ(ferry_try_recv(rx, out, 3), 1);
    CHECK_EQ(ferry_try_send(tx, w + 1, 2), 1); /* SIZE_MAX - 1 fits exactly; 2 more does not */
    CHECK_EQ(stats(tx).weight, SIZE_MAX - 1);
    CHECK_EQ(ferry_try_recv(rx, out, 3), 1);
    CHECK_EQ(out[0], SIZE_MAX - 1);
    ferry_tx_release(tx);
    ferry_rx_release(rx);
}
