/* SPDX-License-Identifier: MIT */
/* SIGINT, SIGTERM and SIGHUP (signals.h). */
#include "signals.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int count; /* stop signals so far; lock-free: safe in a handler */
static atomic_int first; /* the first one's number */
static int pipe_r = -1, pipe_w = -1;

static void on_stop(int sig)
{
    int none = 0;
    /* Relaxed: the pipe write is what wakes main; it reads these after. */
    atomic_compare_exchange_strong_explicit(&first, &none, sig, memory_order_relaxed,
                                            memory_order_relaxed);
    if (atomic_fetch_add_explicit(&count, 1, memory_order_relaxed) >= 1)
        _exit(128 + atomic_load_explicit(&first, memory_order_relaxed));
    char c = 'I';
    if (write(pipe_w, &c, 1) < 0) { /* full pipe: main is awake anyway */
    }
}

int signals_install(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    pipe_r = p[0];
    pipe_w = p[1];
    struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT); /* one handler at a time: the count is exact */
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
    for (int i = 0; i < 3; i++) {
        /* A signal ignored when we start stays ignored: nohup's SIGHUP, the
         * SIGINT of a background job started by a shell without job
         * control. */
        struct sigaction old;
        if (sigaction(stops[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(stops[i], &sa, NULL);
    }
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigemptyset(&ign.sa_mask);
    sigaction(SIGXFSZ, &ign, NULL);
    return pipe_r;
}

int signals_wake_fd(void)
{
    return pipe_w;
}

static void mask(int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGHUP);
    pthread_sigmask(how, &s, NULL);
}

void signals_block(void)
{
    mask(SIG_BLOCK);
}

void signals_unblock(void)
{
    mask(SIG_UNBLOCK);
}

int signals_count(void)
{
    return atomic_load_explicit(&count, memory_order_relaxed);
}

int signals_exit_status(void)
{
    int sig = atomic_load_explicit(&first, memory_order_relaxed);
    return 128 + (sig ? sig : SIGINT);
}

void signals_close(void)
{
    close(pipe_r);
    close(pipe_w);
    pipe_r = pipe_w = -1;
}
