/* SPDX-License-Identifier: MIT */
/* Ctrl-C, and the signals that ask a program to stop: SIGINT, SIGTERM and
 * SIGHUP are handled alike. The handler only counts and writes a byte to a
 * pipe that the main thread polls (the pipe also carries the matcher's
 * "done"); the first signal stops the run gracefully (what was hashed is
 * committed, the groups found so far are printed, marked partial); a
 * second one, of any of the three, ends the process at once with
 * _exit(128 + the first signal's number): the index stays sound, SQLite's
 * WAL rolls back the open transaction. */
#ifndef FERRY_DUPES_SIGNALS_H
#define FERRY_DUPES_SIGNALS_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

/* The signal that gets a reader out of a read(2) that blocks (a file on a
 * stalled FUSE or NFS mount, /proc/kmsg): its handler does nothing and is
 * installed without SA_RESTART, so the read fails with EINTR. SIGURG:
 * ignored by default, and nothing we use sends it (no sockets). */
#define SIG_KICK SIGURG

/* Install the handlers (not for a signal that is ignored when the program
 * starts: nohup's SIGHUP stays ignored); returns the pipe's read end, or
 * -1. Call before
 * starting threads, with signals_block() around the thread creation so
 * that only the main thread takes the signals. Also ignores SIGXFSZ, so
 * that a file size limit makes writes fail (EFBIG) instead of killing us,
 * and installs SIG_KICK's handler, blocked in the calling thread (and in
 * the threads it starts). */
int signals_install(void);
/* The pipe's write end: a thread writes 'D' to wake main when the pipeline
 * is done (the handler writes 'I'). */
int signals_wake_fd(void);
/* Block the three signals in the calling thread (threads created now
 * inherit it); signals_unblock undoes it. */
void signals_block(void);
void signals_unblock(void);
/* Whether the stop signals' handler restarts the system call it
 * interrupted (SA_RESTART; on by default). Off while --verify reads in
 * the main thread, so that a read that blocks fails with EINTR at the
 * first signal (read_at gives up); on again before the index is written. */
void signals_restart(bool on);
/* Take SIG_KICK in the calling thread (a reader: its reads can be
 * interrupted). */
void signals_allow_kick(void);
/* Interrupt what thread t (not yet joined) is blocked in, if it takes
 * SIG_KICK. */
void signals_kick(pthread_t t);
/* Stop signals received so far. */
int signals_count(void);
/* 128 + the first stop signal's number (130 for SIGINT, 143 for SIGTERM,
 * 129 for SIGHUP): the exit status of a stopped run. */
int signals_exit_status(void);
/* Close the pipe (at the end of main). */
void signals_close(void);

#endif
