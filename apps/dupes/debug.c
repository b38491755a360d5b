/* SPDX-License-Identifier: MIT */
/* Test hooks (debug.h). */
#include "debug.h"

#include "msg.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct debug debug = { .read_log = -1 };

/* Events counted per stage (relaxed: only the K-th matters, and exactly one
 * thread sees it). */
static atomic_uint_fast64_t counts[DBG_STAGES];
/* Events counted per fault site (relaxed, as counts). */
static atomic_uint_fast64_t site_counts[FAIL_SITES];

/* The block hook's pipe: its write end stays open and silent, so that a
 * read of it blocks. */
static int block_pipe[2] = { -1, -1 };

/* "NAME:K" with NAME one of names[1..]: its index and K, or 0. */
static int parse_at(const char *s, const char *const *names, int nnames, uint64_t *at)
{
    const char *colon = strchr(s, ':');
    if (!colon)
        return 0;
    char *end;
    errno = 0;
    unsigned long long k = strtoull(colon + 1, &end, 10);
    if (*end || k == 0 || errno == ERANGE || colon[1] < '0' || colon[1] > '9') /* (2^64: not K) */
        return 0;
    size_t n = (size_t)(colon - s);
    for (int i = 1; i < nnames; i++)
        if (strlen(names[i]) == n && !strncmp(s, names[i], n)) {
            *at = k;
            return i;
        }
    return 0;
}

int debug_init(void)
{
    static const char *const stages[DBG_STAGES] = { "", "walk", "hash", "row", "matched", "done" };
    static const char *const sites[FAIL_SITES] = { "", "dir", "thread", "send", "open", "dirset", "loops",
                                                          "read", "again", "block" };
    const char *s = getenv("FERRY_DUPES_DEBUG_SIGINT");
    if (s && *s && (!(debug.sigint_stage = parse_at(s, stages, DBG_STAGES, &debug.sigint_at)) ||
                    (debug.sigint_stage >= DBG_MATCHED && debug.sigint_at != 1))) { /* (once a run) */
        msg("FERRY_DUPES_DEBUG_SIGINT=%s: want walk:K, hash:K, row:K, matched:1 or done:1", s);
        return -1;
    }
    s = getenv("FERRY_DUPES_DEBUG_FAIL");
    if (s && *s && !(debug.fail_site = parse_at(s, sites, FAIL_SITES, &debug.fail_at))) {
        msg("FERRY_DUPES_DEBUG_FAIL=%s: want dir:K, thread:K, send:K, open:K, dirset:K, loops:K, "
            "read:K, again:K or block:K", s);
        return -1;
    }
    if (debug.fail_site == FAIL_BLOCK && pipe2(block_pipe, O_CLOEXEC) != 0) {
        msg("FERRY_DUPES_DEBUG_FAIL=%s: cannot create a pipe: %s", s, strerror(errno));
        return -1;
    }
    s = getenv("FERRY_DUPES_DEBUG_BEFORE_OPEN");
    debug.before_open = s && *s ? s : NULL;
    s = getenv("FERRY_DUPES_DEBUG_AFTER_READ");
    debug.after_read = s && *s ? s : NULL;
    s = getenv("FERRY_DUPES_DEBUG_BEFORE_OPENDIR");
    debug.before_opendir = s && *s ? s : NULL;
    s = getenv("FERRY_DUPES_DEBUG_JOURNAL");
    if (s && *s && strspn(s, "abcdefghijklmnopqrstuvwxyz") != strlen(s)) {
        msg("FERRY_DUPES_DEBUG_JOURNAL=%s: want a journal mode (delete, memory, off...)", s);
        return -1;
    }
    debug.journal = s && *s ? s : NULL;
    s = getenv("FERRY_DUPES_DEBUG_READ_LOG");
    if (s && *s) {
        debug.read_log = open(s, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (debug.read_log < 0) {
            msg("FERRY_DUPES_DEBUG_READ_LOG=%s: cannot open", s);
            return -1;
        }
    }
    s = getenv("FERRY_DUPES_DEBUG_CLOCK");
    if (s && *s) {
        char *end;
        errno = 0;
        long long ns = strtoll(s, &end, 10);
        if (*end || ns <= 0 || errno == ERANGE || s[0] < '0' || s[0] > '9') {
            msg("FERRY_DUPES_DEBUG_CLOCK=%s: want nanoseconds since 1970 (1 to 2^63 - 1)", s);
            return -1;
        }
        debug.clock_ns = ns;
    }
    s = getenv("FERRY_DUPES_DEBUG_WEAK_HASH");
    debug.weak_hash = s && *s && strcmp(s, "0") != 0;
    s = getenv("FERRY_DUPES_DEBUG_SHORT_READS");
    debug.short_reads = s && *s && strcmp(s, "0") != 0;
    return 0;
}

void debug_fini(void)
{
    for (int i = 0; i < 2; i++)
        if (block_pipe[i] >= 0)
            close(block_pipe[i]);
    block_pipe[0] = block_pipe[1] = -1;
    if (debug.read_log >= 0)
        close(debug.read_log);
    debug.read_log = -1;
}

void debug_count(enum debug_stage s, uint64_t n)
{
    if (s != debug.sigint_stage || n == 0)
        return;
    uint64_t before = atomic_fetch_add_explicit(&counts[s], n, memory_order_relaxed);
    if (before < debug.sigint_at && before + n >= debug.sigint_at) {
        kill(getpid(), SIGINT); /* to the process: main takes it */
        /* The interrupt is to come at this point of the run: wait (up to
         * 10 s) until main has taken it, or the run could finish first.
         * ThreadSanitizer defers signals and now and then loses one (no
         * handler ran in 10 s): send it again after a second without one.
         * (A signal still pending is not queued twice.) */
        for (int i = 1; i <= 10000 && signals_count() == 0; i++) {
            usleep(1000);
            if (i % 1000 == 0 && signals_count() == 0)
                kill(getpid(), SIGINT);
        }
    }
}

bool debug_fail(enum debug_site s)
{
    if (s != debug.fail_site)
        return false;
    return atomic_fetch_add_explicit(&site_counts[s], 1, memory_order_relaxed) + 1 == debug.fail_at;
}

ssize_t debug_block(void)
{
    char c;
    return read(block_pipe[0], &c, 1);
}

void debug_hook(const char *cmd, const char *path)
{
    char *argv[] = { "sh", "-c", (char *)cmd, "sh", (char *)path, NULL };
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
        return;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}

void debug_log_read(char kind, const char *path, size_t len)
{
    if (debug.read_log < 0)
        return;
    char head[2] = { kind, ' ' };
    struct iovec iov[3] = { { head, 2 }, { (void *)path, len }, { "", 1 } };
    /* O_APPEND: each line lands whole (a file system write of a few KiB). */
    if (writev(debug.read_log, iov, 3) < 0)
        return;
}
