/* SPDX-License-Identifier: MIT */
/* ferry-dupes: find duplicate files. main() sets up the roots, the index,
 * the channels and the stage threads, then waits (polling the SIGINT pipe
 * and the matcher's "done" pipe, and redrawing the progress line) until the
 * pipeline has drained, and prints the groups. See dupes.h for the
 * pipeline and docs/dupes.md for the whole story. */
#include "debug.h"
#include "dupes.h"
#include "index.h"
#include "msg.h"
#include "opts.h"
#include "output.h"
#include "progress.h"
#include "read.h"
#include "report.h"
#include "roots.h"
#include "signals.h"
#include "stats.h"
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
                msg("index %s: cannot create the directory %s: %s", path, p, strerror(errno));
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

struct threads {
    pthread_t *walkers, *readers, grouper, matcher, writer;
    struct walker_arg *wargs;
    unsigned nwalkers, nreaders;
    bool writer_started;
};

static int start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int r = pthread_create(t, NULL, fn, arg);
    if (r)
        msg("cannot start a thread: %s", strerror(r));
    return r;
}

/* Start every stage; each thread gets clones of the handles it releases. */
static int start_threads(struct dupes *d, struct threads *t)
{
    const struct options *o = d->opt;
    t->nwalkers = o->walkers;
    t->nreaders = o->threads;
    t->walkers = calloc(t->nwalkers, sizeof *t->walkers);
    t->readers = calloc(t->nreaders, sizeof *t->readers);
    t->wargs = calloc(t->nwalkers, sizeof *t->wargs);
    d->arenas = calloc(t->nwalkers, sizeof *d->arenas);
    d->nwalkers = t->nwalkers;
    if (!t->walkers || !t->readers || !t->wargs || !d->arenas) {
        msg("out of memory");
        return -1;
    }
    /* The roots' directories start the walk (their records come from the
     * first walker's arena, before it runs). */
    atomic_store_explicit(&d->pending_dirs, (size_t)d->nroots, memory_order_relaxed);
    for (int i = 0; i < d->nroots; i++) {
        struct dir *top = walk_root_dir(d, &d->roots[i], &d->arenas[0]);
        if (!top || ferry_send(d->dirs_tx, &top, 1) != 1) {
            msg("out of memory");
            return -1;
        }
    }
    signals_block();
    int err = 0;
    if (d->index) {
        ferry_rx_clone(d->rows_rx);
        err = start(&t->writer, writer_main, d);
        t->writer_started = !err;
    }
    for (unsigned i = 0; i < t->nreaders && !err; i++) {
        ferry_rx_clone(d->jobs_rx);
        ferry_tx_clone(d->results_tx);
        err = start(&t->readers[i], reader_main, d);
    }
    if (!err) {
        ferry_rx_clone(d->results_rx);
        ferry_tx_clone(d->jobs_tx);
        if (d->rows_tx)
            ferry_tx_clone(d->rows_tx);
        err = start(&t->matcher, matcher_main, d);
    }
    if (!err) {
        ferry_rx_clone(d->entries_rx);
        ferry_tx_clone(d->jobs_tx);
        ferry_tx_clone(d->results_tx);
        if (d->rows_tx)
            ferry_tx_clone(d->rows_tx);
        err = start(&t->grouper, grouper_main, d);
    }
    for (unsigned i = 0; i < t->nwalkers && !err; i++) {
        t->wargs[i] = (struct walker_arg){ .d = d, .arena = &d->arenas[i] };
        ferry_rx_clone(d->dirs_rx);
        ferry_tx_clone(d->dirs_tx);
        ferry_tx_clone(d->entries_tx);
        err = start(&t->walkers[i], walker_main, &t->wargs[i]);
    }
    signals_unblock();
    if (err) /* threads already started would wait forever: nothing sane to do */
        abort();
    /* main's own handles: only dirs_tx stays (to close the queue on Ctrl-C) */
    ferry_rx_release(d->dirs_rx);
    ferry_tx_release(d->entries_tx);
    ferry_rx_release(d->entries_rx);
    ferry_tx_release(d->jobs_tx);
    ferry_rx_release(d->jobs_rx);
    ferry_tx_release(d->results_tx);
    ferry_rx_release(d->results_rx);
    if (d->rows_tx) {
        ferry_tx_release(d->rows_tx);
        ferry_rx_release(d->rows_rx);
    }
    return 0;
}

static void join_threads(struct threads *t)
{
    for (unsigned i = 0; i < t->nwalkers; i++)
        pthread_join(t->walkers[i], NULL);
    pthread_join(t->grouper, NULL);
    for (unsigned i = 0; i < t->nreaders; i++)
        pthread_join(t->readers[i], NULL);
    pthread_join(t->matcher, NULL);
    if (t->writer_started)
        pthread_join(t->writer, NULL);
    free(t->walkers);
    free(t->readers);
    free(t->wargs);
}

/* Wait for the pipeline; the first SIGINT stops it (it then drains). */
static void wait_pipeline(struct dupes *d, int sig_fd, int done_fd, struct progress *p)
{
    bool stopped = false;
    for (;;) {
        struct pollfd fds[2] = { { .fd = sig_fd, .events = POLLIN }, { .fd = done_fd, .events = POLLIN } };
        int r = poll(fds, 2, 100);
        if (r > 0 && (fds[0].revents & POLLIN)) {
            char c;
            while (read(sig_fd, &c, 1) == 1)
                ;
        }
        if (!stopped && (signals_count() > 0 || atomic_load_explicit(&d->stop, memory_order_relaxed))) {
            stopped = true;
            atomic_store_explicit(&d->stop, true, memory_order_relaxed);
            ferry_tx_close(d->dirs_tx); /* walkers blocked on the queue wake up */
        }
        if (r > 0 && (fds[1].revents & POLLIN))
            return;
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

int main(int argc, char **argv)
{
    reserve_std_fds();
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    struct options o;
    int rc = opts_parse(&o, argc, argv);
    if (rc >= 0)
        return rc;
    if (debug_init()) {
        opts_free(&o);
        return 2;
    }
    struct dupes d = { .opt = &o, .euid = geteuid(), .start_ns = now_ns() };
    int sig_fd = signals_install(), wake[2] = { -1, -1 };
    if (sig_fd < 0 || pipe2(wake, O_CLOEXEC) != 0) {
        msg("cannot create a pipe: %s", strerror(errno));
        return 2;
    }
    d.wake_fd = wake[1];
    if (roots_open(&d)) {
        cleanup(&d);
        opts_free(&o);
        return 2;
    }
    if (o.db) {
        if (o.db_keep && make_parent_dirs(o.db, o.db_keep)) {
            cleanup(&d);
            opts_free(&o);
            return 2;
        }
        d.index = index_open(o.db, o.hash);
        if (!d.index) {
            cleanup(&d);
            opts_free(&o);
            return 2;
        }
        skip_own_files(&d, o.db);
    }
    struct threads t = { 0 };
    struct progress p;
    progress_init(&p, &o);
    if (open_channels(&d) || start_threads(&d, &t))
        return 2; /* before any thread: nothing to clean that exit does not */
    wait_pipeline(&d, sig_fd, wake[0], &p);
    join_threads(&t);
    progress_end(&p);
    bool interrupted = signals_count() > 0;
    bool fatal = d.index_unusable || (d.index && index_failed(d.index));
    if (d.index && index_close(d.index))
        fatal = true;
    if (fatal) {
        cleanup(&d);
        opts_free(&o);
        return 2;
    }
    struct report r = { .partial = interrupted };
    int err = report_build(&d, &r);
    if (!err && o.verify)
        err = verify_report(&d, &r);
    if (err) {
        msg("out of memory");
        report_free(&r);
        cleanup(&d);
        opts_free(&o);
        return 2;
    }
    interrupted = interrupted || r.partial;
    r.partial = interrupted;
    int werr = output_report(stdout, &r, o.format, o.hash);
    if (werr) {
        msg("cannot write the output: %s", strerror(werr));
        report_free(&r);
        cleanup(&d);
        opts_free(&o);
        return 2;
    }
    int64_t end = now_ns();
    if (!o.quiet)
        summary_print(&d, &r, end, interrupted);
    if (o.stats)
        stats_print(stderr, &d, end);
    report_free(&r);
    cleanup(&d);
    debug_fini();
    opts_free(&o);
    close(sig_fd);
    close(wake[0]);
    close(wake[1]);
    return interrupted ? 130 : 0;
}
