/* SPDX-License-Identifier: MIT */
/* ferry-dupes: the types the pipeline stages share.
 *
 *   walkers --entries--> grouper --jobs--> readers --results--> matcher
 *      ^  \                 |  \______________________________^   |  \
 *      '--dirs              |           (known hashes, links)     |   '--jobs (full hashes)
 *                           '------------rows------> writer <-----'
 *
 * Ownership of a node passes along the channels: a walker creates it and
 * sends it to the grouper; the grouper sends it (as a job) to one reader or
 * (with hashes known from the index) straight to the matcher; the reader
 * writes its hashes and sends it to the matcher; the matcher may send it to a
 * reader once more for the full hash. Each field below says who may write it
 * and when; every hand-over goes through a channel, which orders the writes
 * before the reads of the next owner. Index rows are copies (struct row), so
 * the writer never reads a node's mutable fields.
 */
#ifndef FERRY_DUPES_H
#define FERRY_DUPES_H

#include <ferry/chan.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"
#include "dirset.h"
#include "table.h"

#define DUPES_NAME "ferry-dupes"

/* The partial hash covers the first and the last BLK bytes of a file. A file
 * of at most 2 * BLK bytes is read whole by the partial step, and its full
 * hash is that hash: it is never read twice. */
#define BLK (16u * 1024u)
#define PARTIAL_LEN 16 /* bytes of a partial hash (truncated)   */
#define HASH_MAX 32    /* bytes of the longest full hash        */

enum hash_kind { HASH_XXH3 = 1, HASH_BLAKE2B = 2 };
enum format { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_FDUPES };

struct options {
    char **paths;
    int npaths;
    char *db;            /* NULL with --no-db */
    size_t db_keep;      /* the default index: its directories after this
                            many bytes are made when missing; 0: --db     */
    enum format format;
    enum hash_kind hash;
    uint64_t min_size;
    bool empty, hardlinks, verify, one_fs, quiet, stats;
    int progress;        /* -1: when stderr is a terminal; 0 off; 1 on */
    unsigned threads;    /* readers */
    unsigned walkers;
};

/* One PATH argument. */
struct root {
    const char *arg;     /* as given, trailing slashes removed ("/" kept) */
    size_t arglen;
    char *abs;           /* realpath: the prefix of the paths in the index */
    size_t abslen;
    int fd;              /* the directory the walk is relative to (O_PATH) */
    bool shares_fd;      /* fd is an earlier root's (the same directory)     */
    dev_t dev;
    bool is_file;        /* arg is a file: fd is its parent, base its name */
    const char *base;
    uint64_t ino;        /* a directory's inode (dev above): overlap.h */
    bool deferred;       /* inside another PATH that spells it first: walked
                            only where no walk covered it (overlap.h)         */
    bool forced;         /* deferred, walked at the end: never skipped at its
                            top (set before its record is queued)             */
    atomic_bool covered; /* deferred: a walk that spells it first listed it
                            (relaxed: read after pending_dirs reached 0)      */
};

/* A directory. Created by the walker that lists its parent; dev and ino are
 * written by the walker that opens it, before it records the directory in
 * dirs_seen (other walkers read them there, under the shard's mutex) and
 * before it sends any child on. */
struct dir {
    struct dir *parent;  /* NULL: the root's own directory */
    struct root *root;
    uint64_t dev, ino;
    uint32_t depth;
    uint32_t namelen;
    char name[];
};

/* grouper's flags (g_flags) */
enum {
    G_IN_INDEX = 1,      /* the index has a row for this inode               */
    G_ROW_CURRENT = 2,   /* ... and it describes this file as it is now      */
    G_ACTIVE = 4,        /* sent on to be hashed (its size is not unique)    */
    G_RENAMED = 8,       /* current row, but under another path              */
    G_ALIAS = 16,        /* a link node: a directory entry already seen under
                            another spelling (PATHs "t" and "./t"), not a
                            further hard link                                */
    G_LINKS = 32,        /* set by the walker: the file has several names
                            (st_nlink > 1), so its path in the index says
                            nothing of a rename (group.c, check_index)       */
};
/* have: which hashes are valid */
enum { HAVE_PARTIAL = 1, HAVE_FULL = 2 };
/* matcher's state (m_state) */
enum { M_NONE, M_PARTIAL, M_FULL_WAIT, M_FULL };

/* A regular file (an inode, found at its first path). */
struct node {
    /* Written by the walker, then read-only. */
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    int64_t btime_ns;    /* birth time; 0: the file system keeps none      */
    struct dir *dir;
    uint32_t uid;
    uint32_t namelen;
    /* Grouper's, until the end of the run. */
    struct node *links;  /* further paths of this inode (hard links): nodes   */
    uint32_t g_paths;    /* paths seen so far                                 */
    uint8_t g_flags;
    /* The current owner's (grouper, then reader, then matcher). */
    uint8_t have;
    bool indexed;        /* its partial hash is the index's, not read this run
                            (set by the grouper, cleared by hash_partial)  */
    bool racy;           /* its last read began in the clock tick of its
                            ctime, or before it (read_racy): a change right
                            after it could leave its stat as it was, so its
                            index row keeps no hashes (row_of_node)        */
    uint8_t partial[PARTIAL_LEN];
    uint8_t full[HASH_MAX];
    /* Matcher's. */
    uint8_t m_state;
    uint32_t m_links;    /* extra paths the matcher knows of (--hardlinks)    */
    union {
        struct pgroup *pg;   /* M_PARTIAL: its partial group                  */
        struct node *next;   /* M_FULL: next in its full group                */
    } m;
    char name[];
};

enum job_kind { JOB_PARTIAL, JOB_FULL };
struct job {
    struct node *node;
    uint32_t kind;
    uint32_t links;      /* extra paths known when it was sent (--hardlinks)  */
};

enum res_kind { RES_PARTIAL, RES_FULL, RES_LINK, RES_END };
/* ST_STALE: a full read found the partial hash from the index wrong for the
 * file as it is (its row was stale): not grouped, its row written without
 * hashes. */
enum res_status { ST_OK, ST_UNREADABLE, ST_VANISHED, ST_CHANGED, ST_DROPPED, ST_STALE };
struct result {
    struct node *node;
    uint8_t kind, status;
    bool known;          /* hashes from the index, nothing was read           */
    uint32_t links;
    uint64_t count;      /* RES_END: the results the grouper announced        */
};

enum row_kind { ROW_PUT, ROW_DELETE };
struct row {
    uint8_t kind, have;
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns, btime_ns;
    const struct node *node;  /* ROW_PUT: its path (immutable fields only)   */
    uint8_t partial[PARTIAL_LEN];
    uint8_t full[HASH_MAX];
};

/* Counters the progress line reads while the stages run (relaxed atomics:
 * each is a statistic on its own, nothing is ordered by them). */
struct counters {
    atomic_uint_fast64_t files, bytes;          /* regular files found (paths), their bytes */
    atomic_uint_fast64_t aliases, alias_bytes;  /* ... of them found again (group.c): an entry
                                                   two routes listed, counted once (files_found) */
    atomic_uint_fast64_t dirs;                  /* directories listed, dirs_relisted twice */
    atomic_uint_fast64_t dir_path_opens;        /* directories opened by their whole path */
    atomic_uint_fast64_t dirs_again;            /* reached by a further route, not listed again */
    atomic_uint_fast64_t dirs_relisted;         /* ... listed again: that route sorts first */
    atomic_uint_fast64_t dir_loops;             /* ... inside themselves: loops, skipped */
    atomic_uint_fast64_t ancestor_steps;        /* ancestors looked at to tell a loop */
    atomic_uint_fast64_t hashed, bytes_read;    /* files hashed; bytes read by the readers */
    atomic_uint_fast64_t partial_reads, full_reads;
    atomic_uint_fast64_t to_read;               /* bytes sent to the readers */
    atomic_uint_fast64_t unreadable, vanished, changed;
    atomic_uint_fast64_t rows;                  /* index rows committed */
    atomic_bool walk_done;
};

/* Per-stage times, for --stats. */
enum stage { STAGE_WALK, STAGE_GROUP, STAGE_READ, STAGE_MATCH, STAGE_WRITE, STAGE_COUNT };
struct stage_times {
    atomic_int_fast64_t end_ns[STAGE_COUNT];    /* when its last thread ended, from start */
    atomic_int_fast64_t cpu_ns[STAGE_COUNT];    /* CPU time of all its threads */
};

struct index;

struct dupes {
    const struct options *opt;
    struct root *roots;
    int nroots;
    struct root **root_dirs;      /* the directory PATHs by (dev, inode): overlap.h */
    size_t nroot_dirs;
    atomic_bool deferred_done;    /* the uncovered deferred PATHs were queued */
    int64_t start_ns;
    uid_t euid;                   /* O_NOATIME is allowed for root and the owner */

    /* Channels (names in --stats): dirs (walkers' shared queue, priority =
     * depth), entries (walkers -> grouper), jobs (-> readers; a byte budget,
     * three levels), results (-> matcher), rows (-> index writer). */
    ferry_tx *dirs_tx, *entries_tx, *jobs_tx, *results_tx, *rows_tx;
    ferry_rx *dirs_rx, *entries_rx, *jobs_rx, *results_rx, *rows_rx;
    /* Receivers main keeps until the end, for ferry_chan_stats. */
    ferry_rx *stat_rx[5];

    /* Directories queued or being read; the walker that takes it to 0
     * closes the dirs channel (acq_rel: a walker's increments for its
     * subdirectories happen before its decrement for their parent). */
    atomic_size_t pending_dirs;
    /* Set by the first SIGINT or by a fatal error: stages stop taking new
     * work and drain. Relaxed: a stage that sees it late only does a little
     * more work; the channels order everything else. */
    atomic_bool stop;
    /* Set with stop by a fatal error (out of memory, the index failed),
     * after its message: the run ends with exit status 2 (read by main
     * after joining every thread). */
    atomic_bool failed;
    atomic_bool oom_said;         /* "out of memory" was printed (dupes_oom) */
    atomic_bool walk_incomplete;  /* a directory was skipped, or a file could not be
                                     stat'ed: no index deletions */
    bool cut_short;               /* main's: a stop signal stopped the stages before
                                     the pipeline was done (the groups are partial) */
    /* Who came first: the matcher with every result (SCAN_COMPLETE), or
     * main stopping the stages on a signal (SCAN_STOPPED); each sets it
     * once, from SCAN_RUNNING, with a compare-and-swap (acq_rel, paired
     * with the other's): the loser's event changes nothing. A signal
     * once the results are complete stops nothing and marks nothing
     * partial; main stores stop only after it won. */
    atomic_int scan_end;

    struct index *index;          /* NULL with --no-db */
    /* The index's own files (NAME, NAME-wal, NAME-shm, NAME-journal in the
     * directory dev/ino) are skipped by the walk: they change while we run. */
    uint64_t db_dir_dev, db_dir_ino;
    const char *db_base;
    char *db_real;                /* the index's real path (db_base points into it) */
    bool index_unusable;          /* the grouper could not load it (message printed) */
    size_t inode_count;           /* distinct inodes found (grouper, at its end) */
    unsigned nwalkers;
    struct arena *arenas;         /* one per walker: every dir and node */
    /* Every directory listed, by (dev, inode): a directory reached again,
     * by a bind mount or a loop, is found there (walk.c). */
    struct dirset dirs_seen;

    /* The matcher's full groups (struct fgroup, from match_arena), read by
     * main after every thread ended. */
    struct table full_groups;
    struct arena match_arena;

    struct counters c;
    struct stage_times t;
    int wake_fd;                  /* main polls it: the matcher writes 'D' when done */
};

enum { SCAN_RUNNING, SCAN_COMPLETE, SCAN_STOPPED };

/* A full group (matcher's table): the nodes with one size and full hash. */
struct fgroup {
    uint64_t size;
    uint8_t hash[HASH_MAX];
    struct node *first;
    uint32_t count;
};

/* stage entry points (each runs as one or more threads) */
void *walker_main(void *arg);      /* arg: struct walker_arg */
void *grouper_main(void *arg);     /* arg: struct dupes */
void *reader_main(void *arg);      /* arg: a struct reader (reader_new), freed at the end */
void *matcher_main(void *arg);     /* arg: struct dupes */
void *writer_main(void *arg);      /* arg: struct dupes */

struct walker_arg {
    struct dupes *d;
    struct arena *arena;
    struct walker *w;  /* its state (walker_new), freed by the thread */
};
struct walker;
struct reader;
/* A walker's / reader's state, allocated before its thread starts (so that
 * a lack of memory is a thread that could not start, not a failed run);
 * NULL when out of memory. The _free functions are for a thread that did
 * not start. */
struct walker *walker_new(struct dupes *d, struct arena *a);
void walker_free(struct walker *w);
struct reader *reader_new(struct dupes *d);
void reader_free(struct reader *r);

/* Start of every directory walk: one record per PATH argument. */
struct dir *walk_root_dir(struct dupes *d, struct root *r, struct arena *a);
/* Priority levels of the dirs channel. */
unsigned walk_dir_levels(void);
/* Each stage thread is given clones of the handles it uses and releases
 * them when it ends (walkers: dirs tx+rx, entries tx; grouper: entries rx,
 * jobs, results and rows tx; readers: jobs rx, results tx; matcher:
 * results rx, jobs and rows tx; writer: rows rx). */

/* Time: CLOCK_MONOTONIC in ns; the calling thread's CPU time in ns. */
int64_t now_ns(void);
int64_t thread_cpu_ns(void);
/* Record that a thread of stage s ended (its CPU time, and now). */
void stage_thread_done(struct dupes *d, enum stage s);

/* A time (seconds and nanoseconds) as nanoseconds since the epoch, as the
 * nodes and the index keep it: exact from 1677 to 2262; outside, modulo 2^64
 * (computed unsigned: a file dated 2300, which ext4, XFS and tmpfs allow, is
 * no overflow), so only times 584 years apart with the same fraction of a
 * second look the same. */
static inline int64_t time_ns(int64_t sec, long nsec)
{
    return (int64_t)((uint64_t)sec * 1000000000u + (uint64_t)(int64_t)nsec);
}

/* A fatal error, its message printed: every stage stops; exit status 2. */
static inline void dupes_fail(struct dupes *d)
{
    atomic_store_explicit(&d->failed, true, memory_order_relaxed);
    atomic_store_explicit(&d->stop, true, memory_order_relaxed);
}

/* Out of memory: "out of memory" (once per run), then dupes_fail. */
void dupes_oom(struct dupes *d);

/* Send all n items (elem bytes each) at level prio: the count sent. Fewer
 * than n only when the channel closed in a stop (d->stop set) or after a
 * fatal error this call reported (-ENOMEM: dupes_oom; anything else: a
 * message and dupes_fail). A caller whose lost items someone counts on
 * (a result, a job) must make sure that one stops waiting. Blocks as
 * ferry_send_prio. */
size_t stage_send(struct dupes *d, ferry_tx *tx, const void *items, size_t n, size_t elem,
                  unsigned prio);
/* stage_send of items the matcher counts on (results; jobs, each of which
 * becomes a result): when some are lost, the results channel is closed for
 * every sender, so that the matcher drains and ends instead of waiting for
 * ever. For the grouper and the readers (they hold a results sender). */
size_t send_counted(struct dupes *d, ferry_tx *tx, const void *items, size_t n, size_t elem,
                    unsigned prio);

bool size_eligible(const struct options *o, uint64_t size);
size_t full_hash_len(enum hash_kind k);

#endif /* FERRY_DUPES_H */
