/* dir_walker: a directory walker feeding hash workers, bounded by the size of
 * what is pending ("at most 20 MB of paths, however long they are"), with
 * folders a user asked for first at a higher priority level.
 *
 *   dir_walker [ROOT [URGENT_SUBDIR...]]     (default ROOT: /usr/include)
 *
 * The walker sends each file path (a heap string) into a channel with
 * levels = 2 and budget = 20 MB, weighed by strlen + 1: it blocks while 20 MB
 * of paths are queued, whatever their lengths. Paths under an urgent folder
 * go at level 1, so workers take them before the backlog. Workers receive in
 * batches of 64, hash the files (FNV-1a over contents), and free the paths.
 * If the workers went away early, the channel's drop callback would free the
 * paths still queued: nothing leaks either way.
 *
 * The program checks itself: every path the walker sent is hashed exactly
 * once (counts and a checksum of the path lengths agree), and exits 0. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ferry/chan.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WORKERS 3
#define BATCH 64

static size_t path_weight(const void *item, void *ctx)
{
    (void)ctx;
    return strlen(*(char *const *)item) + 1;
}

static void path_drop(void *item, void *ctx)
{
    (void)ctx;
    free(*(char **)item);
}

struct totals {
    pthread_mutex_t lock;
    size_t files, bytes, name_sum, urgent_first;
    uint64_t hash;
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
    char *paths[BATCH];
    size_t files = 0, bytes = 0, name_sum = 0;
    uint64_t hash = 0;
    ssize_t n;
    while ((n = ferry_recv(w->rx, paths, BATCH)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            hash ^= fnv1a_file(paths[i], &bytes);
            name_sum += strlen(paths[i]);
            files++;
            free(paths[i]);
        }
    }
    pthread_mutex_lock(&w->t->lock);
    w->t->files += files;
    w->t->bytes += bytes;
    w->t->name_sum += name_sum;
    w->t->hash ^= hash;
    pthread_mutex_unlock(&w->t->lock);
    ferry_rx_release(w->rx);
    return NULL;
}

struct walk {
    ferry_tx *tx;
    size_t sent, name_sum;
    char **urgent;
    int nurgent;
};

static unsigned level_of(const struct walk *wk, const char *path)
{
    for (int i = 0; i < wk->nurgent; i++)
        if (strncmp(path, wk->urgent[i], strlen(wk->urgent[i])) == 0)
            return 1;
    return 0;
}

static int walk(struct walk *wk, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* unreadable: skip */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *path = malloc(len);
        if (!path) {
            closedir(d);
            return -ENOMEM;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0) {
            free(path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int r = walk(wk, path);
            free(path);
            if (r < 0) {
                closedir(d);
                return r;
            }
        } else if (S_ISREG(st.st_mode)) {
            size_t name_len = strlen(path);
            /* Blocks while 20 MB of paths are pending. */
            ssize_t r = ferry_send_prio(wk->tx, &path, 1, level_of(wk, path));
            if (r != 1) {
                free(path);
                closedir(d);
                return (int)r;
            }
            wk->sent++;
            wk->name_sum += name_len;
        } else {
            free(path);
        }
    }
    closedir(d);
    return 0;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "/usr/include";
    ferry_chan_config cfg = {
        .elem_size = sizeof(char *),
        .capacity = FERRY_UNBOUNDED, /* bounded by weight, not by count */
        .levels = 2,
        .budget = 20u << 20, /* 20 MB of path bytes */
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
    struct totals t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.rx = i == 0 ? rx : ferry_rx_clone(rx), .t = &t};
        pthread_create(&w[i].thread, NULL, work, &w[i]);
    }
    struct walk wk = {.tx = tx, .urgent = argv + 2, .nurgent = argc > 2 ? argc - 2 : 0};
    r = walk(&wk, root);
    struct ferry_chan_stats st;
    ferry_chan_stats(tx, &st);
    ferry_tx_release(tx); /* workers drain, then see 0 */
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i].thread, NULL);
    if (r < 0) {
        fprintf(stderr, "walk: %s\n", strerror(-r));
        return 1;
    }
    printf("%zu files (%zu bytes) hashed by %d workers: %016llx\n", t.files, t.bytes, WORKERS,
           (unsigned long long)t.hash);
    printf("channel: %llu sends, %llu receive batches (%.1f paths per batch), %llu sender waits\n",
           (unsigned long long)st.batches_sent, (unsigned long long)st.batches_received,
           st.batches_received ? (double)st.items_received / (double)st.batches_received : 0.0,
           (unsigned long long)st.sends_blocked);
    if (t.files != wk.sent || t.name_sum != wk.name_sum) {
        fprintf(stderr, "MISMATCH: sent %zu paths, hashed %zu\n", wk.sent, t.files);
        return 1;
    }
    return 0;
}
