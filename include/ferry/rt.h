/* SPDX-License-Identifier: MIT */
/* ferry/rt.h: marks for a thread's real-time sections.
 *
 * A real-time thread (an audio callback, a control loop) must finish its work
 * before a deadline, so inside its real-time section it must not allocate,
 * free, lock, sleep, do I/O or wait on a futex: each of those can block for an
 * unbounded time. ferry_rt_enter() / ferry_rt_exit() bracket such a section:
 *
 *     for (;;) {
 *         wait_for_period();         // sleeping is fine here
 *         ferry_rt_enter();
 *         process(block);            // nothing here may block or allocate
 *         ferry_rt_exit();
 *     }
 *
 * The marks cost a call and a thread-local increment. They do nothing else
 * unless one of the checkers is present:
 *
 * - libferry-rtcheck.so (tools/rtcheck), loaded with LD_PRELOAD, interposes
 *   the malloc family, free, pthread mutex/cond/rwlock waits and condition
 *   signals (not unlocks, nor sem_post: they never wait) (also the
 *   clock forms), spin locks, semaphores, C11 mtx/cnd/thrd waits,
 *   pthread_once and call_once whose routine has not run yet, sleeps,
 *   waits for a child process or a signal, file and socket I/O (read/write/open/close, pread, readv,
 *   select, send/recv, fsync, ...), poll/epoll_wait, syscall(SYS_futex),
 *   pthread_join, pthread_exit, fork/vfork, dlopen/dlclose,
 *   mmap/munmap/brk/sbrk, stdio (printf, fputs, fwrite, fread,
 *   fgets, fscanf, the _unlocked and wide forms, and the __overflow and
 *   __uflow that inline putc_unlocked and getc_unlocked call when the
 *   buffer is full or empty; fopen, fclose, fseek, ftell, flockfile,
 *   feof, ...) and
 *   syslog, also in the forms that
 *   _FORTIFY_SOURCE, 64-bit file
 *   offsets and (on 32-bit targets) 64-bit time rename them to, and aborts with "ferry-rtcheck: <call> in real-time
 *   section" and a backtrace when the calling thread is inside a section.
 *   ferry's own calls that may block (blocking sends, receives and selects,
 *   condition waits, RCU grace periods and barriers) are reported too,
 *   whether or not they would wait; the inline ferry_mutex_lock only when
 *   it waits.
 *   See docs/rt.md.
 * - When ferry is built with -DFERRY_RTSAN=ON (clang >= 19 and its
 *   libclang_rt.rtsan runtime), the marks also call
 *   __rtsan_realtime_enter() / __rtsan_realtime_exit(), so clang's
 *   RealtimeSanitizer checks the same sections.
 */
#ifndef FERRY_RT_H
#define FERRY_RT_H

#include <ferry/common.h>

FERRY_EXTERN_C_BEGIN

/* Enter a real-time section on the calling thread. Sections nest: the thread
 * is real-time until the matching number of ferry_rt_exit() calls. Nesting
 * deeper than 2^32 - 1 levels is misuse and aborts with a message.
 * Never blocks, never allocates, makes no system call; async-signal-safe. */
void ferry_rt_enter(void);

/* Leave the innermost real-time section of the calling thread. Calling it
 * outside any section is misuse and aborts with a message.
 * Never blocks, never allocates. */
void ferry_rt_exit(void);

/* Whether the calling thread is inside a real-time section. */
bool ferry_rt_active(void);

/* Nesting depth of the calling thread's real-time sections (0 = none). */
unsigned ferry_rt_depth(void);

FERRY_EXTERN_C_END

#endif /* FERRY_RT_H */
