/* SPDX-License-Identifier: MIT */
/* Test hooks, set only through environment variables (documented in
 * docs/dupes.md, "Testing"); all off unless set.
 *
 *   FERRY_DUPES_DEBUG_SIGINT=STAGE:K   send ourselves SIGINT when the K-th file
 *                                      is found (walk), hashed (hash) or its
 *                                      index row committed (row), (matched:1)
 *                                      when the matcher has every result,
 *                                      before it says "done", or (done:1)
 *                                      once the scan has ended, before the
 *                                      groups are built
 *   FERRY_DUPES_DEBUG_BEFORE_OPEN=CMD  run `sh -c CMD sh PATH` before a reader
 *   FERRY_DUPES_DEBUG_AFTER_READ=CMD     opens PATH / after it read it (before
 *                                      the re-stat), and wait for it
 *   FERRY_DUPES_DEBUG_BEFORE_OPENDIR=CMD  the same before a walker opens a
 *                                      directory (PATH: its output path)
 *   FERRY_DUPES_DEBUG_READ_LOG=FILE    append "P PATH\0" or "F PATH\0" for
 *                                      every partial / full read that completed
 *   FERRY_DUPES_DEBUG_WEAK_HASH=1      every hash is 0 (to test --verify)
 *   FERRY_DUPES_DEBUG_JOURNAL=MODE     the index asks SQLite for journal
 *                                      mode MODE, not WAL (as if SQLite
 *                                      had fallen back to it)
 *   FERRY_DUPES_DEBUG_CLOCK=NS         the time (ns since 1970) read_racy
 *                                      takes for "now" before each read
 *   FERRY_DUPES_DEBUG_SHORT_READS=1    every read of a file returns at most
 *                                      4097 bytes, and every fifth fails
 *                                      with EINTR (as on FUSE)
 *   FERRY_DUPES_DEBUG_FAIL=SITE:K      the K-th event of SITE fails as if out
 *                                      of memory: a walker's directory record
 *                                      (dir), a thread start (thread: EAGAIN)
 *                                      a stage's channel send (send: -ENOMEM)
 *                                      a file's open to read it (open: -ENOMEM)
 *                                      a directory's entry in the set of
 *                                      directories listed (dirset: -ENOMEM)
 *                                      or a loop's entry in the set of loops
 *                                      reported (loops: -ENOMEM); or, not for
 *                                      lack of memory, a read of a file by a
 *                                      reader or --verify (read: EIO, as a
 *                                      failing disk does), or such a read
 *                                      finds the file non-blocking and
 *                                      fails with EAGAIN (again: O_NONBLOCK
 *                                      set on it, as something else might),
 *                                      or such a read blocks until a signal
 *                                      interrupts it (block: a read(2) of a
 *                                      pipe no one writes, as a read of
 *                                      /proc/kmsg or of a stalled FUSE or
 *                                      NFS file does; SA_RESTART restarts
 *                                      it, as it would those)
 */
#ifndef FERRY_DUPES_DEBUG_H
#define FERRY_DUPES_DEBUG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum debug_stage { DBG_NONE, DBG_WALK, DBG_HASH, DBG_ROW, DBG_MATCHED, DBG_DONE, DBG_STAGES };
enum debug_site { FAIL_NONE, FAIL_DIR, FAIL_THREAD, FAIL_SEND, FAIL_OPEN, FAIL_DIRSET, FAIL_LOOPS, FAIL_READ,
                  FAIL_AGAIN, FAIL_BLOCK, FAIL_SITES };

struct debug {
    enum debug_stage sigint_stage;
    uint64_t sigint_at;
    const char *before_open, *after_read, *before_opendir;
    const char *journal;   /* NULL: WAL */
    int read_log;          /* fd, or -1 */
    bool weak_hash;
    int64_t clock_ns;      /* 0: the real clock */
    bool short_reads;
    enum debug_site fail_site;
    uint64_t fail_at;
};
extern struct debug debug;

/* Read the environment; 0, or -1 after a message about a bad value. */
int debug_init(void);
void debug_fini(void);

/* Count one event of a stage; sends SIGINT to the process at the K-th. */
void debug_count(enum debug_stage s, uint64_t n);

/* Count one event of a site: true for the one that is to fail (the K-th). */
bool debug_fail(enum debug_site s);

/* The block hook's read: blocks until a signal without SA_RESTART
 * interrupts it; then -1 with errno EINTR (or the pipe's error). */
ssize_t debug_block(void);

/* Run a hook command with the path as $1 and wait for it. */
void debug_hook(const char *cmd, const char *path);

/* Log a completed read. */
void debug_log_read(char kind, const char *path, size_t len);

#endif
