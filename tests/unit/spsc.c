/* SPDX-License-Identifier: MIT */
/* ferry/spsc.h: argument checks, FIFO, partial batches, wrap-around. */
#include <ferry/spsc.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "test.h"

FERRY_TEST(init_rejects_bad_arguments)
{
    ferry_spsc q;
    uint64_t buf[8];
    CHECK_EQ(ferry_spsc_init(NULL, buf, 8, 8), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, NULL, 8, 8), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 0, 8), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 0), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 3), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 6), -EINVAL);
    CHECK_EQ(ferry_spsc_init(&q, buf, SIZE_MAX / 2, 4), -EINVAL);   /* overflow */
    CHECK_EQ(ferry_spsc_buffer_size(8, 6), 0);
    CHECK_EQ(ferry_spsc_buffer_size(24, 16), 24 * 16);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 8), 0);
    CHECK_EQ(ferry_spsc_init(&q, buf, 8, 1), 0);
    CHECK_EQ(ferry_spsc_capacity(&q), 1);
}

FERRY_TEST(layout_separates_sides)
{
    /* Producer and consumer indices are two cache lines apart. */
    CHECK(offsetof(ferry_spsc, tail) - offsetof(ferry_spsc, head) >= 2 * FERRY_CACHELINE);
    CHECK(offsetof(ferry_spsc, p_tail_cache) < FERRY_CACHELINE);
    CHECK(offsetof(ferry_spsc, c_head_cache) - offsetof(ferry_spsc, tail) < FERRY_CACHELINE);
}

FERRY_TEST(push_pop_fifo)
{
    ferry_spsc q;
    uint64_t buf[8], out[8];
    ferry_spsc_init(&q, buf, sizeof buf[0], 8);
    CHECK_EQ(ferry_spsc_pop(&q, out, 8), 0);
    for (uint64_t i = 0; i < 5; i++)
        CHECK_EQ(ferry_spsc_push(&q, &i, 1), 1);
    CHECK_EQ(ferry_spsc_size(&q), 5);
    CHECK_EQ(ferry_spsc_free(&q), 3);
    CHECK_EQ(ferry_spsc_pop(&q, out, 2), 2);
    CHECK_EQ(out[0], 0);
    CHECK_EQ(out[1], 1);
    CHECK_EQ(ferry_spsc_pop(&q, out, 8), 3);
    CHECK_EQ(out[0], 2);
    CHECK_EQ(out[2], 4);
    CHECK_EQ(ferry_spsc_pop(&q, out, 8), 0);
    CHECK_EQ(ferry_spsc_size(&q), 0);
}

FERRY_TEST(push_stops_when_full)
{
    ferry_spsc q;
    uint32_t buf[4], in[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, out[10];
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    CHECK_EQ(ferry_spsc_push(&q, in, 10), 4);
    CHECK_EQ(ferry_spsc_push(&q, in, 1), 0);
    CHECK_EQ(ferry_spsc_push(&q, in, 0), 0);
    CHECK_EQ(ferry_spsc_free(&q), 0);
    CHECK_EQ(ferry_spsc_pop(&q, out, 0), 0);
    CHECK_EQ(ferry_spsc_pop(&q, out, 1), 1);
    CHECK_EQ(out[0], 1);
    CHECK_EQ(ferry_spsc_push(&q, in + 4, 6), 1);
    CHECK_EQ(ferry_spsc_pop(&q, out, 10), 4);
    CHECK_EQ(out[0], 2);
    CHECK_EQ(out[3], 5);
}

/* Odd element sizes, batches that wrap at every offset. */
FERRY_TEST(wraparound_batches)
{
    enum { ES = 24, CAP = 16 };
    ferry_spsc q;
    char buf[ES * CAP];
    ferry_spsc_init(&q, buf, ES, CAP);
    char in[ES * CAP], out[ES * CAP];
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t)(round * 7 % CAP) + 1;
        for (size_t i = 0; i < n; i++) {
            memset(in + i * ES, 0, ES);
            uint64_t v = next_in + i;
            memcpy(in + i * ES, &v, sizeof v);
            memcpy(in + i * ES + 16, &v, sizeof v);
        }
        size_t pushed = ferry_spsc_push(&q, in, n);
        next_in += pushed;
        size_t m = ferry_spsc_pop(&q, out, (size_t)(round * 5 % CAP) + 1);
        for (size_t i = 0; i < m; i++) {
            uint64_t a, b;
            memcpy(&a, out + i * ES, sizeof a);
            memcpy(&b, out + i * ES + 16, sizeof b);
            CHECK_EQ(a, next_out);
            CHECK_EQ(b, next_out);
            next_out++;
        }
    }
    CHECK(next_out > 1000);
    CHECK_EQ(ferry_spsc_size(&q), next_in - next_out);
}

FERRY_TEST(peek_consume)
{
    ferry_spsc q;
    uint16_t buf[4];
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    CHECK(ferry_spsc_peek(&q) == NULL);
    uint16_t v[3] = {7, 8, 9};
    ferry_spsc_push(&q, v, 3);
    uint16_t *p = ferry_spsc_peek(&q);
    CHECK(p != NULL);
    CHECK_EQ(*p, 7);
    CHECK_EQ(ferry_spsc_consume(&q, 1), 1);
    CHECK_EQ(*(uint16_t *)ferry_spsc_peek(&q), 8);
    CHECK_EQ(ferry_spsc_consume(&q, 5), 2);   /* clamped */
    CHECK(ferry_spsc_peek(&q) == NULL);
}

FERRY_TEST(capacity_one)
{
    ferry_spsc q;
    uint64_t buf[1], v, out;
    ferry_spsc_init(&q, buf, 8, 1);
    for (v = 0; v < 100; v++) {
        CHECK_EQ(ferry_spsc_push(&q, &v, 1), 1);
        CHECK_EQ(ferry_spsc_push(&q, &v, 1), 0);
        CHECK_EQ(ferry_spsc_pop(&q, &out, 4), 1);
        CHECK_EQ(out, v);
    }
}

FERRY_TEST(push_pop_ptr)
{
    ferry_spsc q;
    void *buf[4];
    int objs[6];
    ferry_spsc_init(&q, buf, sizeof(void *), 4);
    void *out;
    CHECK(!ferry_spsc_pop_ptr(&q, &out));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++)
            CHECK(ferry_spsc_push_ptr(&q, &objs[i + round]));
        CHECK(!ferry_spsc_push_ptr(&q, &objs[5]));
        CHECK_EQ(ferry_spsc_size(&q), 4);
        for (int i = 0; i < 4; i++) {
            CHECK(ferry_spsc_pop_ptr(&q, &out));
            CHECK_PTR_EQ(out, &objs[i + round]);
        }
        CHECK(!ferry_spsc_pop_ptr(&q, &out));
    }
    /* Mixed with the copying calls: same items. */
    void *p = &objs[0];
    CHECK_EQ(ferry_spsc_push(&q, &p, 1), 1);
    CHECK(ferry_spsc_pop_ptr(&q, &out));
    CHECK_PTR_EQ(out, &objs[0]);
}

/* (2-byte items: no target has pointers of that size; 4 is one on i386.) */
FERRY_DEATH_TEST(push_ptr_on_wrong_item_size, "ferry_spsc_push_ptr on a ring of 2-byte items")
{
    ferry_spsc q;
    uint16_t buf[4];
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    ferry_spsc_push_ptr(&q, buf);
}

FERRY_DEATH_TEST(pop_ptr_on_wrong_item_size, "ferry_spsc_pop_ptr on a ring of 2-byte items")
{
    ferry_spsc q;
    uint16_t buf[4];
    void *out;
    ferry_spsc_init(&q, buf, sizeof buf[0], 4);
    ferry_spsc_pop_ptr(&q, &out);
}

/* ferry_spsc_size from a third context (spsc.h: any thread) stays within
 * the capacity. It reads tail, then head; when both sides move on between
 * those two loads, head - tail counted the old tail against the new head
 * (43209 items in a ring of 2 once, from a third thread, in a billion
 * reads). To land between the two loads every time, the reading thread
 * single-steps (x86's trap flag): after each instruction a SIGTRAP handler
 * plays both sides, popping the whole (full) ring and filling it again.
 * x86 only; not under ThreadSanitizer (it would step through its runtime,
 * and the handler re-enters it). */
#if defined(__SANITIZE_THREAD__)
#define SPSC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPSC_TSAN 1
#endif
#endif
#if (defined(__x86_64__) || defined(__i386__)) && !defined(SPSC_TSAN)
static ferry_spsc step_q;
static uint64_t step_buf[2];
static volatile sig_atomic_t stepping, steps;

static void step_cycle(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    if (!stepping) {
        uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;   /* stop stepping */
        return;
    }
    uint64_t v[2] = {1, 2};
    ferry_spsc_pop(&step_q, v, 2);
    ferry_spsc_push(&step_q, v, 2);
    steps = steps + 1;
}

/* The size of step_q, read one instruction at a time. */
__attribute__((noinline)) static size_t stepped_size(void)
{
    stepping = 1;
#if defined(__x86_64__)
    /* (below the red zone, which this function's frame may use) */
    __asm__ volatile("sub $128, %%rsp\n\tpushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\tadd $128, %%rsp"
                     ::: "memory", "cc");
#else
    __asm__ volatile("pushfl\n\torl $0x100, (%%esp)\n\tpopfl" ::: "memory", "cc");
#endif
    size_t n = ferry_spsc_size(&step_q);
    stepping = 0;
    return n;
}

FERRY_TEST(size_from_a_third_context_is_within_capacity)
{
    uint64_t v[2] = {1, 2};
    CHECK_EQ(ferry_spsc_init(&step_q, step_buf, sizeof step_buf[0], 2), 0);
    CHECK_EQ(ferry_spsc_push(&step_q, v, 2), 2);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = step_cycle;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGTRAP, &sa, NULL), 0);
    for (int i = 0; i < 100; i++) {
        size_t n = stepped_size();
        CHECK_EQ(n, 2);
    }
    CHECK(steps >= 200);   /* it did step: at least the two loads, each time */
    CHECK_EQ(ferry_spsc_size(&step_q), 2);
}
#endif
