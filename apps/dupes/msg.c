/* SPDX-License-Identifier: MIT */
/* Messages on stderr (msg.h). */
#include "msg.h"

#include "dupes.h"
#include "escape.h"
#include "path.h"
#include "signals.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool line_shown; /* a progress line is on the terminal (under lock) */
static _Thread_local sigset_t held; /* the mask before lock_out() */

/* Take the lock, and hold off SIG_KICK while we write: a reader kicked out
 * of a write blocked on a full pipe would lose the rest of its message. */
static void lock_out(void)
{
    sigset_t k;
    sigemptyset(&k);
    sigaddset(&k, SIG_KICK);
    pthread_sigmask(SIG_BLOCK, &k, &held);
    pthread_mutex_lock(&lock);
}

static void unlock_out(void)
{
    pthread_mutex_unlock(&lock);
    pthread_sigmask(SIG_SETMASK, &held, NULL);
}

static void begin(void)
{
    lock_out();
    if (line_shown) {
        fputs("\r\033[K", stderr);
        line_shown = false;
    }
    fputs(DUPES_NAME ": ", stderr);
}

static void end(const char *fmt, va_list ap)
{
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    unlock_out();
}

void msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    begin();
    end(fmt, ap);
    va_end(ap);
}

static void vmsg_path(const char *path, size_t len, const char *fmt, va_list ap)
{
    begin();
    esc_text(stderr, path ? path : "?", path ? len : 1);
    fputs(": ", stderr);
    end(fmt, ap);
}

void msg_path(const char *path, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg_path(path, len, fmt, ap);
    va_end(ap);
}

void msg_node(const struct node *n, const char *fmt, ...)
{
    struct buf b = { 0 };
    size_t len = 0;
    const char *p = node_out_path(n, &b, &len);
    va_list ap;
    va_start(ap, fmt);
    vmsg_path(p, len, fmt, ap);
    va_end(ap);
    buf_free(&b);
}

void msg_dir(const struct dir *d, const char *fmt, ...)
{
    struct buf b = { 0 };
    size_t len = 0;
    const char *p = dir_out_path(d, &b, &len);
    va_list ap;
    va_start(ap, fmt);
    vmsg_path(p, len, fmt, ap);
    va_end(ap);
    buf_free(&b);
}

void msg_progress(const char *line)
{
    lock_out();
    if (line) {
        fprintf(stderr, "\r%s\033[K", line);
        line_shown = true;
    } else if (line_shown) {
        fputs("\r\033[K", stderr);
        line_shown = false;
    }
    fflush(stderr);
    unlock_out();
}
