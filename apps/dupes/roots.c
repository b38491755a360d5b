/* SPDX-License-Identifier: MIT */
/* PATH arguments (roots.h). */
#include "roots.h"

#include "fdlimit.h"
#include "index.h"
#include "msg.h"
#include "path.h"
#include "table.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory every open below r is relative to: r->abs itself, or a
 * file's parent ("/" for a file in /). */
static size_t dir_len(const struct root *r)
{
    if (!r->is_file)
        return r->abslen;
    size_t n = (size_t)(strrchr(r->abs, '/') - r->abs);
    return n ? n : 1;
}

static uint64_t root_dir_hash(const void *e)
{
    const struct root *r = e;
    return index_path_hash(r->abs, dir_len(r));
}

static bool same_root_dir(const void *e, const void *key)
{
    const struct root *a = e, *b = key;
    size_t n = dir_len(a);
    return n == dir_len(b) && memcmp(a->abs, b->abs, n) == 0;
}

static uint64_t root_arg_hash(const void *e)
{
    const struct root *r = e;
    return index_path_hash(r->arg, r->arglen);
}

static bool same_root_arg(const void *e, const void *key)
{
    const struct root *a = e, *b = key;
    return a->arglen == b->arglen && memcmp(a->arg, b->arg, a->arglen) == 0;
}

/* stat(2) of a PATH of any length (stat fails with ENAMETOOLONG from
 * PATH_MAX bytes on). 0, or -1 with errno set. */
static int stat_any(const char *arg, size_t len, struct stat *st)
{
    if (stat(arg, st) == 0)
        return 0;
    if (errno != ENAMETOOLONG)
        return -1;
    int fd = path_open_follow(AT_FDCWD, arg, len, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        errno = -fd;
        return -1;
    }
    int ret = fstat(fd, st);
    int err = errno;
    close(fd);
    errno = err;
    return ret;
}

/* realpath(3) where it fails with ENAMETOOLONG: the PATH, or the resolved
 * name of the directory it lies in, is PATH_MAX bytes or longer (a PATH
 * deep in a tree, or "." there). The directory is opened a piece at a
 * time and named by getcwd(3) from inside it (glibc's works at any
 * length; the threads have not started, and the old working directory is
 * restored). A file PATH that is itself a symlink is not resolved here.
 * Returns a malloc'd name, or NULL with errno set. */
static char *realpath_long(const char *arg, size_t len, bool is_dir)
{
    const char *slash = is_dir ? NULL : memrchr(arg, '/', len);
    const char *base = is_dir ? NULL : slash ? slash + 1 : arg;
    size_t dlen = is_dir ? len : slash ? (slash == arg ? 1 : (size_t)(slash - arg)) : 0;
    char *dname = strndup(dlen ? arg : ".", dlen ? dlen : 1); /* (path_open wants it ended) */
    int dir = dname ? path_open_follow(AT_FDCWD, dname, strlen(dname), O_PATH | O_DIRECTORY | O_CLOEXEC)
                    : -ENOMEM;
    free(dname);
    int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), err = ENAMETOOLONG;
    char *cwd = NULL, *abs = NULL;
    struct stat st;
    if (dir < 0 || here < 0)
        err = dir < 0 ? -dir : errno;
    else if (base && fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        err = ENAMETOOLONG;
    else if (fchdir(dir) != 0)
        err = errno;
    else {
        cwd = getcwd(NULL, 0);
        err = errno;
        if (fchdir(here) != 0) { /* (a relative --db would now go astray) */
            err = errno;
            free(cwd);
            cwd = NULL;
        }
    }
    if (cwd && base && asprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", base) < 0) {
        abs = NULL;
        err = ENOMEM;
    } else if (cwd && !base) {
        abs = cwd;
        cwd = NULL;
    }
    free(cwd);
    if (dir >= 0)
        close(dir);
    if (here >= 0)
        close(here);
    errno = abs ? 0 : err;
    return abs;
}

/* Resolve r's PATH; its directory's descriptor comes from open_dir(). */
static int resolve_root(struct root *r, char *arg)
{
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/')
        len--;
    r->arg = arg;
    r->arglen = len;
    struct stat st;
    if (!*arg) { /* (stat says ENOENT: the message would name nothing) */
        msg("an empty PATH (\"\"): %s", strerror(ENOENT));
        return -1;
    }
    if (stat_any(arg, strlen(arg), &st) != 0) {
        msg_path(arg, strlen(arg), "%s", strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        msg_path(arg, strlen(arg), "neither a directory nor a regular file");
        return -1;
    }
    r->abs = realpath(arg, NULL);
    if (!r->abs && errno == ENAMETOOLONG)
        r->abs = realpath_long(arg, len, S_ISDIR(st.st_mode));
    if (!r->abs) {
        msg_path(arg, strlen(arg), "%s", strerror(errno));
        return -1;
    }
    r->abslen = strlen(r->abs);
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    if (S_ISREG(st.st_mode)) { /* a file: its parent directory, and its name there */
        r->is_file = true;
        r->base = strrchr(r->abs, '/') + 1;
    }
    return 0;
}

/* Can the directory at fd (O_PATH) be listed? 0 or an errno value. */
static int dir_readable(int fd)
{
    int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        return errno;
    close(d);
    return 0;
}

/* The message when the PATHs' directories (ndirs: each directory PATH,
 * and each directory that holds file PATHs) do not fit the open-file limit
 * (roots_open made what room it could). */
static void too_many_dirs(size_t ndirs)
{
    struct rlimit rl = { 0 };
    getrlimit(RLIMIT_NOFILE, &rl);
    msg("the open-file limit (ulimit -n) is %llu: too low for the PATHs' %zu director%s (a "
        "directory PATH, or one that holds file PATHs, holds a descriptor for the whole run)",
        (unsigned long long)rl.rlim_cur, ndirs, ndirs == 1 ? "y" : "ies");
}

/* Open r's directory, or share the descriptor of an earlier PATH in the
 * same directory: `ferry-dupes $(find ...)` may name thousands of files
 * of a few directories, and a descriptor each would exhaust the limit. */
static int open_dir(struct root *r, struct table *dirs, size_t ndirs)
{
    uint64_t h = root_dir_hash(r);
    const struct root *same = table_find(dirs, h, same_root_dir, r);
    if (same) {
        r->fd = same->fd;
        r->shares_fd = true;
        return 0;
    }
    char *dir = strndup(r->abs, dir_len(r));
    r->fd = dir ? path_open_follow(AT_FDCWD, dir, strlen(dir), O_PATH | O_DIRECTORY | O_CLOEXEC) : -ENOMEM;
    int err = -r->fd;
    free(dir);
    if (r->fd < 0)
        r->fd = -1;
    if (r->fd < 0 && err == EMFILE) {
        too_many_dirs(ndirs);
        return -1;
    }
    if (r->fd < 0) {
        msg_path(r->arg, strlen(r->arg), "%s", strerror(err));
        return -1;
    }
    if (!r->is_file && (err = dir_readable(r->fd)) != 0) {
        /* A directory PATH that cannot be listed is an operand that cannot
         * be scanned, as one that does not exist (exit 2, nothing scanned),
         * not a directory met on the way (warned and counted). */
        if (err == EMFILE)
            too_many_dirs(ndirs);
        else
            msg_path(r->arg, strlen(r->arg), "cannot open directory: %s", strerror(err));
        close(r->fd);
        r->fd = -1;
        return -1;
    }
    if (table_add(dirs, h, r, root_dir_hash)) {
        msg("out of memory");
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
    struct table dirs = { 0 }, args = { 0 };
    int ret = 0, n = 0;
    for (int i = 0; i < o->npaths && !ret; i++) {
        struct root *r = &d->roots[n];
        if (resolve_root(r, o->paths[i])) {
            ret = -1;
            break;
        }
        /* The same PATH again ("t t/"): one walk, not one per copy (5,000
         * copies of a tree took 70 s). Other spellings are walked, since
         * each entry is shown by its smallest one. */
        uint64_t h = root_arg_hash(r);
        if (table_find(&args, h, same_root_arg, r)) {
            free(r->abs);
            *r = (struct root){ .fd = -1 };
            continue;
        }
        if (table_add(&args, h, r, root_arg_hash)) {
            msg("out of memory");
            ret = -1;
        } else
            n++;
    }
    /* The descriptors the PATHs hold: one a directory (the message names
     * how many, not how many PATHs: `ferry-dupes $(find ...)`). */
    size_t ndirs = 0;
    for (int i = 0; i < n && !ret; i++) {
        uint64_t h = root_dir_hash(&d->roots[i]);
        if (table_find(&dirs, h, same_root_dir, &d->roots[i]))
            continue;
        if (table_add(&dirs, h, &d->roots[i], root_dir_hash)) {
            msg("out of memory");
            ret = -1;
        }
        ndirs++;
    }
    table_free(&dirs);
    dirs = (struct table){ 0 };
    if (!ret)
        fdlimit_make_room((unsigned)ndirs + 1); /* (and one to test that a directory lists) */
    for (int i = 0; i < n && !ret; i++)
        ret = open_dir(&d->roots[i], &dirs, ndirs);
    if (!ret)
        d->nroots = n; /* (after an error every slot is closed) */
    table_free(&dirs);
    table_free(&args);
    return ret;
}

void roots_close(struct dupes *d)
{
    for (int i = 0; i < d->nroots; i++) {
        if (d->roots[i].fd >= 0 && !d->roots[i].shares_fd)
            close(d->roots[i].fd);
        free(d->roots[i].abs);
    }
    free(d->roots);
    d->roots = NULL;
    d->nroots = 0;
}
