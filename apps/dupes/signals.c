/* SPDX-License-Identifier: MIT */
/* SIGINT handling (signals.h). */
#include "signals.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int count; /* lock-free: safe in a handler */
static int pipe_w = -1;

static void on_sigint(int sig)
{
    (void)sig;
    /* Relaxed: the pipe write is what wakes main; count is read after it. */
    if (atomic_fetch_add_explicit(&count, 1, memory_order_relaxed) >= 1)
        _exit(130);
    char c = 'I';
    if (write(pipe_w, &c, 1) < 0) { /* full pipe: main is awake anyway */
    }
}

int signals_install(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    pipe_w = p[1];
    struct sigaction sa = { .sa_handler = on_sigint, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigemptyset(&ign.sa_mask);
    sigaction(SIGXFSZ, &ign, NULL);
    return p[0];
}

void signals_block(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

void signals_unblock(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

int signals_count(void)
{
    return atomic_load_explicit(&count, memory_order_relaxed);
}
