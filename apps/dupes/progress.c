/* SPDX-License-Identifier: MIT */
/* Progress line and summary (progress.h). */
#include "progress.h"

#include "msg.h"
#include "satcount.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void progress_init(struct progress *p, const struct options *o)
{
    *p = (struct progress){ 0 };
    p->on = o->progress == 1 || (o->progress == -1 && !o->quiet && isatty(2));
}

static uint64_t get(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

void progress_tick(struct progress *p, struct dupes *d)
{
    if (!p->on)
        return;
    int64_t now = now_ns();
    if (now - p->last_ns < 100000000) /* at most 10 redraws a second */
        return;
    uint64_t read = get(&d->c.bytes_read);
    if (p->last_ns) {
        double inst = (double)(read - p->last_read) * 1e9 / (double)(now - p->last_ns);
        p->rate = p->rate ? 0.7 * p->rate + 0.3 * inst : inst;
    }
    p->last_ns = now;
    p->last_read = read;
    char found[32], got[32], rate[48] = "", line[256];
    if (p->rate > 0) {
        rate[0] = ' ';
        rate[1] = '(';
        human_bytes((uint64_t)p->rate, rate + 2, sizeof rate - 6);
        strcat(rate, "/s)");
    }
    int n = snprintf(line, sizeof line, "found %llu files, %s | hashed %llu files, read %s%s",
                     (unsigned long long)files_found(d), human_bytes(bytes_found(d), found, sizeof found),
                     (unsigned long long)get(&d->c.hashed), human_bytes(read, got, sizeof got), rate);
    uint64_t todo = get(&d->c.to_read);
    if (atomic_load_explicit(&d->c.walk_done, memory_order_relaxed) && p->rate > 1 && todo > read &&
        n > 0 && (size_t)n < sizeof line) {
        uint64_t eta = (uint64_t)((double)(todo - read) / p->rate);
        snprintf(line + n, sizeof line - (size_t)n, " | ETA %llu:%02llu", (unsigned long long)(eta / 60),
                 (unsigned long long)(eta % 60));
    } else if (!atomic_load_explicit(&d->c.walk_done, memory_order_relaxed) && n > 0 &&
               (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, " | walking");
    msg_progress(line);
}

void progress_end(struct progress *p)
{
    if (p->on)
        msg_progress(NULL);
}

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

void summary_print(struct dupes *d, const struct report *r, int64_t end_ns, bool interrupted)
{
    uint64_t dup_files = 0, wasted = 0;
    for (size_t i = 0; i < r->n; i++) {
        dup_files += r->g[i].n - 1;
        wasted = sat_add(wasted, group_wasted(&r->g[i]));
    }
    char found[32], rd[32], w[32], extra[160] = "";
    uint64_t unreadable = get(&d->c.unreadable), changed = get(&d->c.changed),
             vanished = get(&d->c.vanished);
    int n = 0;
    if (unreadable)
        n += snprintf(extra + n, sizeof extra - (size_t)n, "; %llu unreadable", (unsigned long long)unreadable);
    if (changed && n >= 0 && (size_t)n < sizeof extra)
        n += snprintf(extra + n, sizeof extra - (size_t)n, "; %llu changed while scanned",
                      (unsigned long long)changed);
    if (vanished && n >= 0 && (size_t)n < sizeof extra)
        snprintf(extra + n, sizeof extra - (size_t)n, "; %llu vanished", (unsigned long long)vanished);
    uint64_t files = files_found(d);
    msg("%s%llu file%s (%s) in %.2f s; read %s; %zu group%s, %llu duplicate file%s, %s wasted%s",
        interrupted ? "interrupted (partial results): " : "", (unsigned long long)files, plural(files),
        human_bytes(bytes_found(d), found, sizeof found), (double)(end_ns - d->start_ns) / 1e9,
        human_bytes(get(&d->c.bytes_read), rd, sizeof rd), r->n, plural(r->n), (unsigned long long)dup_files,
        plural(dup_files), human_bytes(wasted, w, sizeof w), extra);
}
