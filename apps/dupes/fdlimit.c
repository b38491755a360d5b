/* SPDX-License-Identifier: MIT */
/* The open-file limit (fdlimit.h). */
#include "fdlimit.h"

#include "msg.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>

/* Descriptors open now: /proc/self/fd lists them (less its own); without
 * /proc, probe each below the limit (nothing can be open above it). */
static unsigned open_now(rlim_t limit)
{
    unsigned n = 0;
    DIR *dir = opendir("/proc/self/fd");
    if (dir) {
        for (struct dirent *e; (e = readdir(dir));)
            n += e->d_name[0] != '.';
        closedir(dir);
        return n ? n - 1 : 0;
    }
    for (rlim_t fd = 0; fd < limit && fd < (1u << 20); fd++)
        n += fcntl((int)fd, F_GETFD) >= 0;
    return n;
}

rlim_t fdlimit_make_room(unsigned n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return RLIM_INFINITY;
    rlim_t need = open_now(rl.rlim_cur) + FDS_SPARE + n;
    if (need > rl.rlim_cur && rl.rlim_max > rl.rlim_cur) {
        struct rlimit up = { .rlim_cur = need < rl.rlim_max ? need : rl.rlim_max, .rlim_max = rl.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = up.rlim_cur;
    }
    return rl.rlim_cur;
}

int fit_open_files(unsigned *walkers, unsigned *readers)
{
    rlim_t limit = fdlimit_make_room(FDS_PER_THREAD * (*walkers + *readers));
    if (limit == RLIM_INFINITY)
        return 0;
    rlim_t used = open_now(limit) + FDS_SPARE;
    if (used + (rlim_t)FDS_PER_THREAD * (*walkers + *readers) <= limit)
        return 0;
    rlim_t room = limit > used ? (limit - used) / FDS_PER_THREAD : 0;
    if (room < 2) {
        msg("the open-file limit (ulimit -n) is %llu: this run needs at least %llu",
            (unsigned long long)limit, (unsigned long long)(used + 2 * FDS_PER_THREAD));
        return -1;
    }
    unsigned w = *walkers, r = *readers;
    while (w + r > room) { /* take from the larger pool */
        if (r >= w)
            r--;
        else
            w--;
    }
    msg("the open-file limit (ulimit -n) is %llu: using %u walker thread%s and %u reader thread%s",
        (unsigned long long)limit, w, w == 1 ? "" : "s", r, r == 1 ? "" : "s");
    *walkers = w;
    *readers = r;
    return 0;
}
