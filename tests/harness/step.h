/* SPDX-License-Identifier: MIT */
/* For tests of a two-sided structure (spsc, llq, seqlock) with the other
 * side acting between ANY two instructions of a call, deterministically:
 * the calling thread single-steps (x86's trap flag) and a SIGTRAP handler,
 * after the call's k-th instruction, runs the other side's code to
 * completion. Looping k from 1 until the call finishes first visits every
 * interleaving point; the torture tests reach them only by chance.
 *
 * The other side runs on the same thread, in the handler: this checks the
 * compiled order of a call's accesses and every branch its interleavings
 * take, not the hardware's ordering (the torture tests and ThreadSanitizer
 * cover that). x86 (64- and 32-bit) only, and not under ThreadSanitizer,
 * which would step through its own runtime and be re-entered by the
 * handler: FERRY_TEST_CAN_STEP says whether the build can. One program
 * per include. */
#ifndef FERRY_TEST_STEP_H
#define FERRY_TEST_STEP_H

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <ucontext.h>

#include "test.h"

#if defined(__SANITIZE_THREAD__)
#define FERRY__STEP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FERRY__STEP_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define FERRY__STEP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FERRY__STEP_ASAN 1
#endif
#endif

#if (defined(__x86_64__) || defined(__i386__)) && !defined(FERRY__STEP_TSAN)
#define FERRY_TEST_CAN_STEP 1
/* Each stepped instruction is a signal, and a visit of every k costs the
 * square of a call's length: AddressSanitizer's checks make a call with a
 * memcpy ten times longer (842 instructions for a 3-item ring push), a
 * hundred times slower to visit. Tests of such calls run only where this
 * is defined. */
#ifndef FERRY__STEP_ASAN
#define FERRY_TEST_CAN_STEP_LONG_CALLS 1
#endif

static volatile sig_atomic_t step_on, step_count, step_at, step_fired;
static void (*step_other)(void);

static void step_on_trap(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = (ucontext_t *)ucv;
    step_count = step_count + 1;
    if (step_on && step_count == step_at) {
        step_fired = 1;
        step_other();
    }
    if (!step_on || step_fired)   /* done, or nothing more to do: stop stepping */
        uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;   /* the trap flag */
}

/* Run body() one instruction at a time, and other() once after body's
 * k-th instruction. Returns whether other() ran (false: body finished
 * within k instructions, and the caller's loop over k is done). */
__attribute__((noinline, unused)) static bool step_run(void (*body)(void), void (*other)(void), int k)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = step_on_trap;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGTRAP, &sa, NULL), 0);
    step_count = 0;
    step_at = k;
    step_fired = 0;
    step_other = other;
    step_on = 1;
#if defined(__x86_64__)
    /* (below the red zone, which this function's frame may use) */
    __asm__ volatile("sub $128, %%rsp\n\tpushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\tadd $128, %%rsp"
                     ::: "memory", "cc");
#else
    __asm__ volatile("pushfl\n\torl $0x100, (%%esp)\n\tpopfl" ::: "memory", "cc");
#endif
    body();
    step_on = 0;
    return step_fired;
}
#endif

#endif /* FERRY_TEST_STEP_H */
