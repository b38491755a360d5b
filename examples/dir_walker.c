/* SPDX-License-Identifier: MIT */
/* dir_walker: a directory walker feeding hash workers, bounded by the size of
 * what is pending ("at most B bytes of paths, however long they are"), with
 * folders a user asked for first at a higher priority level.
 *
 *   dir_walker [--budget BYTES] [ROOT [URGENT_SUBDIR...]]
 *       ROOT defaults to /usr/include; BYTES to 65536 (small, so that the
 *       budget binds on a tree that size; an indexer would allow megabytes)
 *
 *   cc -std=c11 dir_walker.c $(pkg-config --cflags --libs ferry)
 *
 * The walker sends each file (a heap-allocated path with its send order)
 * into a channel with levels = 2 and a budget of BYTES, weighed by the
 * path's length + 1: it blocks while BYTES of paths are queued, whatever
 * their lengths. Paths under an urgent folder go at level 1, so workers take
 * them before the backlog. Workers receive in batches of 64, hash the files
 * (FNV-1a over contents), and free the paths. If the workers went away
 * early, the channel's drop callback would free the paths still queued:
 * nothing leaks either way.
 *
 * Once the workers are done it prints what the channel did: how often the
 * walker waited for the budget and the most path bytes it saw pending (never
 * more than the budget), how far urgent paths jumped ahead of the order they
 * were sent in, and the channel's statistics.
 *
 * The program checks itself and exits 0 only if every path the walker sent
 * was hashed exactly once (counts and a checksum of the path lengths agree),
 * the channel received everything and holds nothing, and the pending bytes
 * it saw never exceeded the budget. */
/* POSIX, beyond ISO C: lstat, O_CLOEXEC, dirent. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ferry/chan.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WORKERS 3
#define BATCH 64
#define LEVELS 2
#define SAMPLE_EVERY 16 /* sends between two looks at the pending weight */

/* One item: the channel carries pointers to these. */
struct pending {
    uint64_t seq;   /* position in the walker's sending order */
    unsigned level; /* 1: under an urgent folder */
    char path[];
};

static size_t path_weight(const void *item, void *ctx)
{
    (void)ctx;
    return strlen((*(struct pending *const *)item)->path) + 1;
}

static void path_drop(void *item, void *ctx)
{
    (void)ctx;
    free(*(struct pending **)item);
}

/* Receive order, shared by the workers: each batch takes the next positions. */
static atomic_uint_least64_t received;

struct totals {
    pthread_mutex_t lock;
    size_t files, bytes, name_sum;
    uint64_t hash;
    size_t per_level[LEVELS];
    long long advance[LEVELS]; /* sum of (receive position - send position), negated */
};

struct worker {
    ferry_rx *rx;
    struct totals *t;
    pthread_t thread;
};

static uint64_t fnv1a_file(const char *path, size_t *bytes)
{
    uint64_t h = 1469598103934665603ull;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return h;
    unsigned char buf[16384];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            h = (h ^ buf[i]) * 1099511628211ull;
        *bytes += (size_t)n;
    }
    close(fd);
    return h;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct pending *batch[BATCH];
    struct totals mine = {.files = 0};
    ssize_t n;
    while ((n = ferry_recv(w->rx, batch, BATCH)) > 0) {
        /* Relaxed: only a position counter; the channel orders the items. */
        uint64_t at = atomic_fetch_add_explicit(&received, (uint64_t)n, memory_order_relaxed);
        for (ssize_t i = 0; i < n; i++) {
            struct pending *p = batch[i];
            mine.hash ^= fnv1a_file(p->path, &mine.bytes);
            mine.name_sum += strlen(p->path);
            mine.files++;
            mine.per_level[p->level]++;
            mine.advance[p->level] += (long long)p->seq - (long long)(at + (uint64_t)i);
            free(p);
        }
    }
    pthread_mutex_lock(&w->t->lock);
    w->t->files += mine.files;
    w->t->bytes += mine.bytes;
    w->t->name_sum += mine.name_sum;
    w->t->hash ^= mine.hash;
    for (int l = 0; l < LEVELS; l++) {
        w->t->per_level[l] += mine.per_level[l];
        w->t->advance[l] += mine.advance[l];
    }
    pthread_mutex_unlock(&w->t->lock);
    ferry_rx_release(w->rx);
    return NULL;
}

struct walk {
    ferry_tx *tx;
    size_t budget;
    size_t sent, name_sum, urgent;
    size_t max_weight;  /* most pending path bytes seen (sampled) */
    bool over_budget;   /* more than the budget pending (and more than one item) */
    char **urgent_dirs;
    int nurgent;
};

static unsigned level_of(const struct walk *wk, const char *path)
{
    for (int i = 0; i < wk->nurgent; i++) {
        size_t len = strlen(wk->urgent_dirs[i]);
        if (strncmp(path, wk->urgent_dirs[i], len) == 0 && (path[len] == '/' || path[len] == 0))
            return 1;
    }
    return 0;
}

/* Look at what is pending now: never more weight than the budget, unless a
 * single item heavier than the budget (which an empty channel accepts). */
static void sample(struct walk *wk)
{
    struct ferry_chan_stats st;
    if (ferry_chan_stats(wk->tx, &st) != 0)
        return;
    if (st.weight > wk->max_weight)
        wk->max_weight = st.weight;
    if (st.weight > wk->budget && st.len > 1)
        wk->over_budget = true;
}

static int send_path(struct walk *wk, const char *path)
{
    size_t len = strlen(path);
    struct pending *p = malloc(sizeof *p + len + 1);
    if (!p)
        return -ENOMEM;
    unsigned level = level_of(wk, path);
    p->seq = wk->sent;
    p->level = level;
    memcpy(p->path, path, len + 1);
    /* Blocks while the budget's worth of paths is pending. Once sent, p
     * belongs to the worker that receives it. */
    ssize_t r = ferry_send_prio(wk->tx, &p, 1, level);
    if (r != 1) {
        free(p);
        return r < 0 ? (int)r : -EPIPE;
    }
    wk->sent++;
    wk->name_sum += len;
    wk->urgent += level;
    if (wk->sent % SAMPLE_EVERY == 0)
        sample(wk);
    return 0;
}

static int walk(struct walk *wk, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* unreadable: skip */
    struct dirent *e;
    int r = 0;
    while (r == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *path = malloc(len);
        if (!path) {
            r = -ENOMEM;
            break;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                r = walk(wk, path);
            else if (S_ISREG(st.st_mode))
                r = send_path(wk, path);
        }
        free(path);
    }
    closedir(d);
    return r;
}

int main(int argc, char **argv)
{
    size_t budget = 64u << 10;
    int a = 1;
    if (a + 1 < argc && strcmp(argv[a], "--budget") == 0) {
        char *end;
        unsigned long long b = strtoull(argv[a + 1], &end, 10);
        if (*end || b == 0) {
            fprintf(stderr, "dir_walker: --budget wants a positive number of bytes\n");
            return 2;
        }
        budget = (size_t)b;
        a += 2;
    }
    const char *root = a < argc ? argv[a] : "/usr/include";
    ferry_chan_config cfg = {
        .elem_size = sizeof(struct pending *),
        .capacity = FERRY_UNBOUNDED, /* bounded by weight, not by count */
        .levels = LEVELS,
        .budget = budget, /* path bytes pending */
        .weigh = path_weight,
        .drop = path_drop,
        .name = "paths",
    };
    ferry_tx *tx;
    ferry_rx *rx;
    int r = ferry_chan_open(&cfg, &tx, &rx);
    if (r != 0) {
        fprintf(stderr, "ferry_chan_open: %s\n", strerror(-r));
        return 1;
    }
    /* Kept until the workers are done, to read the channel's statistics
     * then; it never receives (the channel is freed when it is released). */
    ferry_rx *observer = ferry_rx_clone(rx);
    struct totals t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.rx = i == 0 ? rx : ferry_rx_clone(rx), .t = &t};
        pthread_create(&w[i].thread, NULL, work, &w[i]);
    }
    struct walk wk = {.tx = tx, .budget = budget, .urgent_dirs = argv + a + 1,
                      .nurgent = argc > a + 1 ? argc - a - 1 : 0};
    r = walk(&wk, root);
    ferry_tx_release(tx); /* workers drain, then see 0 */
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i].thread, NULL);
    struct ferry_chan_stats st;
    int sr = ferry_chan_stats(observer, &st);
    ferry_rx_release(observer);
    if (r < 0) {
        fprintf(stderr, "walk: %s\n", strerror(-r));
        return 1;
    }
    if (sr != 0) {
        fprintf(stderr, "ferry_chan_stats: %s\n", strerror(-sr));
        return 1;
    }

    printf("%zu files (%zu bytes) hashed by %d workers: %016llx\n", t.files, t.bytes, WORKERS,
           (unsigned long long)t.hash);
    printf("budget: %zu bytes of paths; the walker waited %llu times for room; "
           "at most %zu bytes were pending (sampled every %d sends)\n",
           budget, (unsigned long long)st.sends_blocked, wk.max_weight, SAMPLE_EVERY);
    if (t.per_level[1])
        printf("urgent: %zu paths at level 1 were received on average %.1f places ahead of the "
               "order they were sent in (the other %zu paths: %.1f)\n",
               t.per_level[1], (double)t.advance[1] / (double)t.per_level[1], t.per_level[0],
               t.per_level[0] ? (double)t.advance[0] / (double)t.per_level[0] : 0.0);
    else
        printf("urgent: no paths under an urgent folder (give folders under ROOT after it)\n");
    printf("channel: %llu sends, %llu receive batches (%.1f paths per batch), %llu handed over directly\n",
           (unsigned long long)st.batches_sent, (unsigned long long)st.batches_received,
           st.batches_received ? (double)st.items_received / (double)st.batches_received : 0.0,
           (unsigned long long)st.handoffs);

    int ok = 1;
    if (t.files != wk.sent || t.name_sum != wk.name_sum || t.per_level[1] != wk.urgent) {
        fprintf(stderr, "MISMATCH: sent %zu paths (%zu urgent), hashed %zu (%zu urgent)\n", wk.sent, wk.urgent,
                t.files, t.per_level[1]);
        ok = 0;
    }
    if (st.items_sent != wk.sent || st.items_received != wk.sent || st.len != 0 || st.weight != 0) {
        fprintf(stderr, "MISMATCH: the channel took %llu and gave %llu of %zu paths, %zu still buffered\n",
                (unsigned long long)st.items_sent, (unsigned long long)st.items_received, wk.sent, st.len);
        ok = 0;
    }
    if (wk.over_budget) {
        fprintf(stderr, "BUDGET: more than %zu bytes of paths were pending\n", budget);
        ok = 0;
    }
    return ok ? 0 : 1;
}
