/* SPDX-License-Identifier: MIT */
/* For tests that send signals at waiting threads (tests/unit/chan_signals.c
 * and mutex_signals.c): a SIGUSR1 handler installed without SA_RESTART, so
 * that every sleep it interrupts ends with EINTR, and the count of signals
 * it handled. One program per include. */
#ifndef FERRY_TEST_SIGNAL_COUNT_H
#define FERRY_TEST_SIGNAL_COUNT_H

#include <signal.h>
#include <string.h>

#include "test.h"

/* Signals handled so far (relaxed: a count; the tests read it after the
 * threads that were signalled are joined, or only to see that it moves). */
static FERRY_ATOMIC(long) handled;

static void on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
}

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: interrupted sleeps end with EINTR */
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
}

#endif /* FERRY_TEST_SIGNAL_COUNT_H */
