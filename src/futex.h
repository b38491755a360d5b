/* SPDX-License-Identifier: MIT */
/* Internal futex wrapper (Linux). Private futexes on a 32-bit word.
 *
 * ferry__futex_wait(word, expected, deadline):
 *   sleeps while *word == expected, until woken, or until the absolute
 *   CLOCK_MONOTONIC deadline (NULL: no deadline). Returns 0 when woken (or
 *   spuriously), -EAGAIN if *word != expected on entry, -ETIMEDOUT at the
 *   deadline (at once for a deadline with a negative tv_sec, which the
 *   kernel would refuse), -EINTR on a signal, -EINVAL without sleeping if
 *   deadline->tv_nsec is outside [0, 1e9). Callers always re-check their
 *   condition.
 * ferry__futex_wake(word, n): wakes up to n sleepers (INT_MAX: all); returns
 *   how many were woken. Waking an address whose memory has since been reused
 *   is harmless to the kernel; the only effect is a spurious wakeup elsewhere,
 *   which every waiter tolerates.
 * ferry__futex_requeue(from, n_wake, to, n_move): wake n_wake on from, move up
 *   to n_move of the rest to sleep on to (used by condition variables).
 */
#ifndef FERRY_SRC_FUTEX_H
#define FERRY_SRC_FUTEX_H

#include <ferry/common.h>
#include <time.h>

#include "platform.h"

int ferry__futex_wait(FERRY_ATOMIC(uint32_t) *word, uint32_t expected,
                      const struct timespec *deadline);
int ferry__futex_wake(FERRY_ATOMIC(uint32_t) *word, int n);
int ferry__futex_requeue(FERRY_ATOMIC(uint32_t) *from, int n_wake,
                         FERRY_ATOMIC(uint32_t) *to, int n_move);

/* The deadline helpers (ferry__now, ferry__deadline_passed, ...) are in
 * platform.h. */

#endif
