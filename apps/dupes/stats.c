/* SPDX-License-Identifier: MIT */
/* Stage clocks and --stats (stats.h). */
#include "stats.h"

#include <time.h>

int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int64_t thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void stage_thread_done(struct dupes *d, enum stage s)
{
    /* Relaxed: read by main after joining every thread. */
    atomic_fetch_add_explicit(&d->t.cpu_ns[s], thread_cpu_ns(), memory_order_relaxed);
    int_fast64_t end = now_ns() - d->start_ns;
    int_fast64_t old = atomic_load_explicit(&d->t.end_ns[s], memory_order_relaxed);
    while (old < end && !atomic_compare_exchange_weak_explicit(&d->t.end_ns[s], &old, end,
                                                               memory_order_relaxed,
                                                               memory_order_relaxed))
        ;
}

const char *human_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    if (n == UINT64_MAX) { /* a total that stopped there (satcount.h) */
        snprintf(buf, len, ">= 16.0 EiB");
        return buf;
    }
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, len, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, unit[u]);
    return buf;
}

static uint64_t get(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* a - b, or 0 (a counter subtracted may run ahead of the other) */
static uint64_t less(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

uint64_t files_found(struct dupes *d)
{
    return less(get(&d->c.files), get(&d->c.aliases));
}

uint64_t bytes_found(struct dupes *d)
{
    uint64_t b = get(&d->c.bytes);
    return b == UINT64_MAX ? b : less(b, get(&d->c.alias_bytes)); /* (stopped: unknown) */
}

uint64_t dirs_found(struct dupes *d)
{
    return less(get(&d->c.dirs), get(&d->c.dirs_relisted));
}

void stats_print(FILE *f, struct dupes *d, int64_t end_ns)
{
    static const char *names[STAGE_COUNT] = { "walk", "group", "read+hash", "match", "index write" };
    static const char *threads[STAGE_COUNT] = { "walkers", "1 thread", "readers", "1 thread", "1 thread" };
    char a[32], b[32];
    fprintf(f, "--- stats (ferry-dupes --stats)\n");
    fprintf(f, "total           %8.3f s wall\n", (double)(end_ns - d->start_ns) / 1e9);
    fprintf(f, "stage           ends at    cpu\n");
    for (int s = 0; s < STAGE_COUNT; s++) {
        int64_t end = atomic_load_explicit(&d->t.end_ns[s], memory_order_relaxed);
        int64_t cpu = atomic_load_explicit(&d->t.cpu_ns[s], memory_order_relaxed);
        if (!end && !cpu)
            continue;
        fprintf(f, "%-15s %8.3f s %7.3f s  (%s)\n", names[s], (double)end / 1e9, (double)cpu / 1e9,
                threads[s]);
    }
    struct counters *c = &d->c;
    fprintf(f, "files           %llu paths, %zu inodes, %llu directories, %s\n",
            (unsigned long long)files_found(d), d->inode_count, (unsigned long long)dirs_found(d),
            human_bytes(bytes_found(d), a, sizeof a));
    fprintf(f, "path opens      %llu of the directories (the others from their parent's descriptor)\n",
            (unsigned long long)get(&c->dir_path_opens));
    fprintf(f, "dir set         %zu directories (%zu B); %llu reached again: %llu not listed again, "
               "%llu listed again (a spelling that sorts first), %llu loops (%llu ancestors looked at)\n",
            dirset_len(&d->dirs_seen), dirset_bytes(&d->dirs_seen),
            (unsigned long long)(get(&c->dirs_again) + get(&c->dirs_relisted) + get(&c->dir_loops)),
            (unsigned long long)get(&c->dirs_again), (unsigned long long)get(&c->dirs_relisted),
            (unsigned long long)get(&c->dir_loops), (unsigned long long)get(&c->ancestor_steps));
    fprintf(f, "bytes read      %llu (%s): %llu partial reads, %llu full reads\n",
            (unsigned long long)get(&c->bytes_read), human_bytes(get(&c->bytes_read), b, sizeof b),
            (unsigned long long)get(&c->partial_reads), (unsigned long long)get(&c->full_reads));
    fprintf(f, "index rows      %llu written\n", (unsigned long long)get(&c->rows));
    fprintf(f, "channel   items sent  batches  avg  recv batches  avg  sends blocked  recvs blocked  handoffs  wakeups\n");
    for (int i = 0; i < 5; i++) {
        struct ferry_chan_stats s;
        if (!d->stat_rx[i] || ferry_chan_stats(d->stat_rx[i], &s) != 0)
            continue;
        fprintf(f, "%-9s %10llu %8llu %5.1f %12llu %5.1f %14llu %14llu %9llu %8llu\n",
                s.name ? s.name : "?", (unsigned long long)s.items_sent,
                (unsigned long long)s.batches_sent,
                s.batches_sent ? (double)s.items_sent / (double)s.batches_sent : 0.0,
                (unsigned long long)s.batches_received,
                s.batches_received ? (double)s.items_received / (double)s.batches_received : 0.0,
                (unsigned long long)s.sends_blocked, (unsigned long long)s.recvs_blocked,
                (unsigned long long)s.handoffs, (unsigned long long)s.wakeups);
    }
}
