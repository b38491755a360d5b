/* SPDX-License-Identifier: MIT */
/* PATH arguments (roots.h). */
#include "roots.h"

#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_root(struct root *r, char *arg)
{
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/')
        len--;
    r->arg = arg;
    r->arglen = len;
    struct stat st;
    if (stat(arg, &st) != 0) {
        msg_path(arg, strlen(arg), "%s", strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        msg_path(arg, strlen(arg), "neither a directory nor a regular file");
        return -1;
    }
    r->abs = realpath(arg, NULL);
    if (!r->abs) {
        msg_path(arg, strlen(arg), "%s", strerror(errno));
        return -1;
    }
    r->abslen = strlen(r->abs);
    r->dev = st.st_dev;
    if (S_ISDIR(st.st_mode)) {
        r->fd = open(r->abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else { /* a file: its parent directory, and its name there */
        r->is_file = true;
        char *slash = strrchr(r->abs, '/');
        r->base = slash + 1;
        if (slash == r->abs)
            r->fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        else {
            *slash = 0;
            r->fd = open(r->abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
            *slash = '/';
        }
    }
    if (r->fd < 0) {
        msg_path(arg, strlen(arg), "%s", strerror(errno));
        return -1;
    }
    return 0;
}

int roots_open(struct dupes *d)
{
    const struct options *o = d->opt;
    d->roots = calloc((size_t)o->npaths, sizeof *d->roots);
    if (!d->roots) {
        msg("out of memory");
        return -1;
    }
    d->nroots = o->npaths;
    for (int i = 0; i < o->npaths; i++)
        d->roots[i].fd = -1;
    for (int i = 0; i < o->npaths; i++)
        if (open_root(&d->roots[i], o->paths[i]))
            return -1;
    return 0;
}

void roots_close(struct dupes *d)
{
    for (int i = 0; i < d->nroots; i++) {
        if (d->roots[i].fd >= 0)
            close(d->roots[i].fd);
        free(d->roots[i].abs);
    }
    free(d->roots);
    d->roots = NULL;
    d->nroots = 0;
}
