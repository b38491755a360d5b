/* SPDX-License-Identifier: MIT */
/* ferry's test harness.
 *
 * A test program holds cases:
 *
 *     FERRY_TEST(list_add_tail_keeps_order) { ... CHECK(...); ... }
 *     FERRY_DEATH_TEST(waitlist_fini_nonempty, "waitlist 'w' destroyed with 1 waiter") { ... }
 *
 * "<program> --list" prints every case the program holds, one per line, as
 * "<case> <kind>" (kind: plain, death or debug-death); CMake
 * (ferry_add_test_file) runs it after building the program and registers one
 * CTest test per case, run as "<program> <case>". A death test runs its body
 * in a child process and passes only if the child is killed by SIGABRT and
 * its stderr contains the expected message.
 *
 * CHECK* failures print the expression, the values, file and line, and exit
 * with status 1 (not abort, so a failing check is never mistaken for the
 * abort a death test waits for).
 */
#ifndef FERRY_TEST_H
#define FERRY_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef void (*ferry_test_fn)(void);
/* What --list calls a case: "plain", "death" or "debug-death". */
void ferry_test_register_kind(const char *name, ferry_test_fn fn, const char *death_msg, const char *kind);
/* A plain case (death_msg NULL) or a death test. */
void ferry_test_register(const char *name, ferry_test_fn fn, const char *death_msg);

#define FERRY__TEST_DEFINE(name, msg, kind)                                \
    static void name(void);                                                \
    __attribute__((constructor)) static void ferry__test_reg_##name(void)  \
    { ferry_test_register_kind(#name, name, msg, kind); }                  \
    static void name(void)

#define FERRY_TEST(name) FERRY__TEST_DEFINE(name, NULL, "plain")
#define FERRY_DEATH_TEST(name, msg) FERRY__TEST_DEFINE(name, msg, "death")

/* A death test for a check that exists only in debug builds (FERRY_DEBUG):
 * it exists in the program (and so is registered) only in such builds. */
#ifdef FERRY_DEBUG
#define FERRY_DEBUG_DEATH_TEST(name, msg) FERRY__TEST_DEFINE(name, msg, "debug-death")
#else
#define FERRY_DEBUG_DEATH_TEST(name, msg) __attribute__((unused)) static void name(void)
#endif

__attribute__((noreturn, format(printf, 3, 4)))
void ferry_test_fail(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                        \
    do { if (!(cond)) ferry_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)

#define CHECK_MSG(cond, ...)                                               \
    do { if (!(cond)) ferry_test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

#define CHECK_EQ(a, b)                                                     \
    do {                                                                   \
        long long ferry__a = (long long)(a), ferry__b = (long long)(b);    \
        if (ferry__a != ferry__b)                                          \
            ferry_test_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld", \
                            #a, #b, ferry__a, ferry__b);                   \
    } while (0)

#define CHECK_PTR_EQ(a, b)                                                 \
    do {                                                                   \
        const void *ferry__a = (a), *ferry__b = (b);                       \
        if (ferry__a != ferry__b)                                          \
            ferry_test_fail(__FILE__, __LINE__, "CHECK_PTR_EQ(%s, %s): %p != %p", \
                            #a, #b, ferry__a, ferry__b);                   \
    } while (0)

/* Multiplier for iteration counts of torture tests (FERRY_TEST_SCALE, set
 * lower in sanitizer builds). Returns at least 1 when multiplied by n >= 1. */
double ferry_test_scale(void);
size_t ferry_test_scaled(size_t n);

/* The process's address-space size in bytes (/proc/self/statm), read with
 * read(2) into the stack: nothing allocated or freed, so that a RLIMIT_AS
 * set from it has no slack (stdio's fclose frees a buffer, and malloc may
 * return that page to the system; it did on i386). */
unsigned long long ferry_test_vm_bytes(void);

/* Sleep for ms milliseconds. */
void ferry_test_sleep_ms(long ms);

/* CLOCK_MONOTONIC helpers. */
struct timespec ferry_test_now(void);
struct timespec ferry_test_deadline_ms(long ms);   /* now + ms */
long long ferry_test_ns_between(struct timespec a, struct timespec b); /* b - a */
/* How late a timed wait may return after its deadline and still pass. A timed
 * wait is never allowed to return early; "late" only proves the deadline was
 * honoured at all (a broken one waits for the next event, or forever). On a
 * shared 2-CPU machine under load a woken thread can wait 100+ ms for a CPU, so
 * the bound is generous. */
#define FERRY_TEST_LATE_NS (500ll * 1000 * 1000)

/* Deterministic per-thread random numbers (xorshift64*). */
static inline uint64_t ferry_test_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

#endif
