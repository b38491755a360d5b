/* SPDX-License-Identifier: MIT */
/* ferry-dupes: find duplicate files. main() sets up the roots, the index,
 * the channels and the stage threads, then waits (polling the SIGINT pipe
 * and the matcher's "done" pipe, and redrawing the progress line) until the
 * pipeline has drained, and prints the groups. See dupes.h for the
 * pipeline and docs/dupes.md for the whole story. */
#include "debug.h"
#include "dupes.h"
#include "escape.h"
#include "index.h"
#include "fdlimit.h"
#include "msg.h"
#include "opts.h"
#include "output.h"
#include "overlap.h"
#include "progress.h"
#include "read.h"
#include "report.h"
#include "roots.h"
#include "signals.h"
#include "stats.h"
#include "threads.h"
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOBS_BUDGET (64u << 20) /* bytes of hash jobs queued for the readers */

enum { CH_DIRS, CH_ENTRIES, CH_JOBS, CH_RESULTS, CH_ROWS };

static size_t weigh_job(const void *item, void *ctx)
{
    (void)ctx;
    const struct job *j = item;
    return (size_t)job_bytes(j->node, j->kind);
}

/* mkdir -p of the directory that holds path (for the default index), but
 * only of the directories after its first keep bytes. 0, or -1 after a
 * message naming the directory that could not be made. */
static int make_parent_dirs(const char *path, size_t keep)
{
    char *p = strdup(path);
    int ret = 0;
    if (!p || keep >= strlen(p)) {
        free(p);
        return 0; /* (out of memory: SQLite's open will say what is wrong) */
    }
    for (char *s = p + keep + 1; *s && !ret; s++) /* (p[keep] ends what must exist) */
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                int err = errno;
                char *shown = esc_text_dup(path), *p_shown = esc_text_dup(p);
                msg("index %s: cannot create the directory %s: %s", shown ? shown : path,
                    p_shown ? p_shown : p, strerror(err));
                free(shown);
                free(p_shown);
                ret = -1;
            }
            *s = '/';
        }
    free(p);
    return ret;
}

/* Remember where the index lives, so that the walk passes it by: where
 * SQLite put it, that is, a symlink --db resolved (its WAL lies beside the
 * file the link points to). d->db_real holds the resolved path. */
static void skip_own_files(struct dupes *d, const char *db)
{
    d->db_real = realpath(db, NULL);
    const char *real = d->db_real ? d->db_real : db;
    const char *slash = strrchr(real, '/');
    char *dir = slash ? strndup(real, slash == real ? 1 : (size_t)(slash - real)) : strdup(".");
    struct stat st;
    if (dir && stat(dir, &st) == 0) {
        d->db_dir_dev = st.st_dev;
        d->db_dir_ino = st.st_ino;
        d->db_base = slash ? slash + 1 : real;
    }
    free(dir);
}

static int open_channels(struct dupes *d)
{
    struct {
        ferry_chan_config cfg;
        ferry_tx **tx;
        ferry_rx **rx;
    } ch[] = {
        [CH_DIRS] = { { .elem_size = sizeof(struct dir *), .capacity = FERRY_UNBOUNDED,
                        .levels = walk_dir_levels(), .name = "dirs" }, &d->dirs_tx, &d->dirs_rx },
        [CH_ENTRIES] = { { .elem_size = sizeof(struct node *), .capacity = 16384, .name = "entries" },
                         &d->entries_tx, &d->entries_rx },
        [CH_JOBS] = { { .elem_size = sizeof(struct job), .capacity = 65536, .levels = 3,
                        .budget = JOBS_BUDGET, .weigh = weigh_job, .name = "jobs" },
                      &d->jobs_tx, &d->jobs_rx },
        [CH_RESULTS] = { { .elem_size = sizeof(struct result), .capacity = FERRY_UNBOUNDED,
                           .name = "results" }, &d->results_tx, &d->results_rx },
        [CH_ROWS] = { { .elem_size = sizeof(struct row), .capacity = 16384, .name = "rows" },
                      &d->rows_tx, &d->rows_rx },
    };
    for (int i = 0; i < 5; i++) {
        if (i == CH_ROWS && !d->index)
            continue;
        int r = ferry_chan_open(&ch[i].cfg, ch[i].tx, ch[i].rx);
        if (r) {
            msg("cannot create the %s channel: %s", ch[i].cfg.name, strerror(-r));
            return -1;
        }
        d->stat_rx[i] = ferry_rx_clone(*ch[i].rx);
    }
    return 0;
}

/* Wait for the pipeline; the first stop signal stops it (it then drains).
 * The pipe wake_fd carries 'I' from the signal handler and 'D' from the
 * matcher when it is done. A signal seen only with (or after) the 'D',
 * or once the matcher had every result (d->scan_end), stops nothing: every
 * stage had finished its work, the results are complete. d->cut_short: a
 * signal stopped the stages before that. */
static void wait_pipeline(struct dupes *d, struct threads *t, int wake_fd, struct progress *p)
{
    bool stopped = false, done = false;
    while (!done) {
        struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
        if (poll(&pfd, 1, 100) > 0 && (pfd.revents & POLLIN)) {
            char c[64];
            ssize_t n;
            while ((n = read(wake_fd, c, sizeof c)) > 0)
                done = done || memchr(c, 'D', (size_t)n) != NULL;
        }
        if (!stopped && !done &&
            (signals_count() > 0 || atomic_load_explicit(&d->stop, memory_order_relaxed))) {
            stopped = true;
            int running = SCAN_RUNNING;
            /* (pairs with the matcher's: it may have every result already,
             * its "done" not yet written; then this signal stops nothing) */
            if (atomic_compare_exchange_strong_explicit(&d->scan_end, &running, SCAN_STOPPED,
                                                        memory_order_acq_rel, memory_order_acquire)) {
                d->cut_short = signals_count() > 0; /* (else a fatal error: exit 2) */
                atomic_store_explicit(&d->stop, true, memory_order_relaxed);
                ferry_tx_close(d->dirs_tx); /* walkers blocked on the queue wake up */
            }
        }
        /* Readers blocked in a read give up (each tick: a kick that comes
         * just before the read is lost). */
        if (!done && atomic_load_explicit(&d->stop, memory_order_relaxed))
            threads_kick_readers(t);
        if (!done)
            progress_tick(p, d);
    }
}

static void cleanup(struct dupes *d)
{
    if (d->dirs_tx)
        ferry_tx_release(d->dirs_tx);
    for (int i = 0; i < 5; i++)
        if (d->stat_rx[i])
            ferry_rx_release(d->stat_rx[i]);
    table_free(&d->full_groups);
    arena_free_all(&d->match_arena);
    for (unsigned i = 0; d->arenas && i < d->nwalkers; i++)
        arena_free_all(&d->arenas[i]);
    free(d->arenas);
    free(d->db_real);
    overlap_free(d);
    dirset_free(&d->dirs_seen);
    roots_close(d);
}

/* A standard descriptor closed by whoever started us would be taken by the
 * next file we open, and output or messages would go there. Fill each with
 * /dev/null opened the wrong way round (stdout and stderr read-only), so
 * that a write to them fails and is reported, as one to a closed one would. */
static void reserve_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY); /* takes the lowest: fd */
}

/* The scan: the PATHs, the index, the channels and the stage threads, until
 * the pipeline has drained. 0, or 2 after a message (nothing to print). */
static int scan(struct dupes *d, struct options *o, int wake_fd)
{
    if (roots_open(d) || overlap_init(d))
        return 2;
    if (o->db) {
        if (o->db_keep && make_parent_dirs(o->db, o->db_keep))
            return 2;
        d->index = index_open(o->db, o->hash);
        if (!d->index)
            return 2;
        skip_own_files(d, o->db);
    }
    if (fit_open_files(&o->walkers, &o->threads) || open_channels(d))
        return 2;
    struct threads t;
    struct progress p;
    progress_init(&p, o);
    bool started = threads_start(d, &t) == 0;
    if (started)
        wait_pipeline(d, &t, wake_fd, &p);
    threads_join(&t, d); /* (a stage that did not start: the others drained) */
    progress_end(&p);
    debug_count(DBG_DONE, 1); /* (test hook: a signal once the scan is over) */
    bool fatal = !started || atomic_load_explicit(&d->failed, memory_order_relaxed) ||
                 d->index_unusable || (d->index && index_failed(d->index));
    return fatal ? 2 : 0;
}

/* The groups, verified with --verify (while the index is still open: the
 * hashes of a group that splits leave it). Partial when a signal cut the
 * scan short, or the verification: one that came after the scan stops
 * nothing, and the groups are whole. 0, or 2 after a message. */
static int build(struct dupes *d, const struct options *o, struct report *r)
{
    r->partial = d->cut_short;
    int err = report_build(d, r);
    if (!err && o->verify)
        err = verify_report(d, r); /* (a signal now: the groups verified so far) */
    if (err == -ENOMEM)
        dupes_oom(d); /* (said once: a read in verify_report may have said it) */
    return err ? 2 : 0;
}

/* The groups, the summary and --stats: the exit status. */
static int print(struct dupes *d, const struct options *o, struct report *r)
{
    int werr = output_report(stdout, r, o->format, o->hash);
    if (werr) {
        msg("cannot write the output: %s", strerror(werr));
        return 2;
    }
    int64_t end = now_ns();
    if (!o->quiet)
        summary_print(d, r, end, r->partial);
    if (o->stats)
        stats_print(stderr, d, end);
    return r->partial ? signals_exit_status() : 0;
}

int main(int argc, char **argv)
{
    reserve_std_fds();
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    struct options o;
    int status = opts_parse(&o, argc, argv);
    if (status >= 0)
        return status;
    int wake_fd = signals_install();
    if (wake_fd < 0) {
        msg("cannot create a pipe: %s", strerror(errno));
        opts_free(&o);
        return 2;
    }
    struct dupes d = { .opt = &o, .euid = geteuid(), .start_ns = now_ns(), .wake_fd = signals_wake_fd() };
    dirset_init(&d.dirs_seen);
    status = debug_init() ? 2 : scan(&d, &o, wake_fd);
    struct report r = { 0 };
    if (status == 0)
        status = build(&d, &o, &r);
    /* The index is closed before anything is printed: a SIGPIPE or a
     * second Ctrl-C while printing cannot touch it. */
    if (d.index && index_close(d.index))
        status = 2;
    d.index = NULL;
    if (status == 0)
        status = print(&d, &o, &r);
    report_free(&r);
    cleanup(&d);
    debug_fini();
    opts_free(&o);
    signals_close();
    return status;
}
