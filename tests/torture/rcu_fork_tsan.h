/* SPDX-License-Identifier: MIT */
/* Included once by each RCU test program that forks: its children start
 * threads (callback workers, readers), which ThreadSanitizer refuses after
 * a multi-threaded fork unless told otherwise. Also tells the program
 * whether it runs under ThreadSanitizer (RCU_FORK_TSAN). */
#ifndef FERRY_TESTS_RCU_FORK_TSAN_H
#define FERRY_TESTS_RCU_FORK_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define RCU_FORK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RCU_FORK_TSAN 1
#endif
#endif

#ifdef RCU_FORK_TSAN
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "die_after_fork=0";
}
#endif

#endif
