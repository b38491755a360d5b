/* SPDX-License-Identifier: MIT */
/* SIGINT, SIGTERM and SIGHUP (signals.h). */
#include "signals.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
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

static bool handled[3]; /* stops[i]'s handler is ours (it was not ignored) */
static const int stops[] = { SIGINT, SIGTERM, SIGHUP };

/* Install on_stop for the stop signals not ignored at the start. */
static void install(bool restart)
{
    struct sigaction sa = { .sa_handler = on_stop, .sa_flags = restart ? SA_RESTART : 0 };
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) /* one handler at a time: the count is exact */
        sigaddset(&sa.sa_mask, stops[i]);
    for (int i = 0; i < 3; i++)
        if (handled[i])
            sigaction(stops[i], &sa, NULL);
}

/* The kick: it only interrupts the system call its thread is blocked in. */
static void on_kick(int sig)
{
    (void)sig;
}

int signals_install(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    pipe_r = p[0];
    pipe_w = p[1];
    for (int i = 0; i < 3; i++) {
        /* A signal ignored when we start stays ignored: nohup's SIGHUP, the
         * SIGINT of a background job started by a shell without job
         * control. */
        struct sigaction old;
        handled[i] = !(sigaction(stops[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN);
    }
    install(true);
    /* No SA_RESTART: a read(2) it interrupts fails with EINTR (a file
     * system that restarts or retries such a read -- FUSE, NFS -- is asked
     * to give up by each kick). Blocked in main from now on, so that only
     * the threads that ask for it (signals_allow_kick) ever take it: main's
     * own calls (the output's writes) are never interrupted. */
    struct sigaction kick = { .sa_handler = on_kick };
    sigemptyset(&kick.sa_mask);
    sigaction(SIG_KICK, &kick, NULL);
    sigset_t k;
    sigemptyset(&k);
    sigaddset(&k, SIG_KICK);
    pthread_sigmask(SIG_BLOCK, &k, NULL);
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

void signals_restart(bool on)
{
    install(on);
}

void signals_allow_kick(void)
{
    sigset_t k;
    sigemptyset(&k);
    sigaddset(&k, SIG_KICK);
    pthread_sigmask(SIG_UNBLOCK, &k, NULL);
}

void signals_kick(pthread_t t)
{
    pthread_kill(t, SIG_KICK); /* (ESRCH: it has ended, not yet joined) */
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
