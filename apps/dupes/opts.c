/* SPDX-License-Identifier: MIT */
/* Command line (opts.h). */
#include "opts.h"

#include "escape.h"
#include "msg.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FERRY_VERSION
#define FERRY_VERSION "unknown"
#endif


static const char usage[] =
    "Usage: " DUPES_NAME " [OPTION]... PATH...\n"
    "Find the files with identical contents under the PATHs (directories or files)\n"
    "and print them in groups, largest files first. Symlinks are never followed;\n"
    "FIFOs, sockets and devices are never opened. An index of every file's size,\n"
    "times and hashes makes the next run read only what changed.\n"
    "\n"
    "  -f, --format FMT        text (default), json, csv or fdupes\n"
    "      --db FILE           the index (default $XDG_CACHE_HOME/ferry-dupes/index.db,\n"
    "                          or ~/.cache/ferry-dupes/index.db)\n"
    "      --no-db             no index: store nothing, reuse nothing\n"
    "  -m, --min-size N        ignore files smaller than N bytes (default 1;\n"
    "                          suffixes k, M, G, T: powers of 1024)\n"
    "      --empty             report empty files too\n"
    "  -H, --hardlinks         report the paths of one file (hard links) as duplicates;\n"
    "                          by default each file (device, inode) counts once\n"
    "      --verify            compare every group byte by byte before reporting it\n"
    "      --hash ALGO         xxh3 (XXH3-128, default) or blake2b (BLAKE2b-256)\n"
    "  -j, --threads N         reader threads (default 16, at most 1024)\n"
    "      --walkers N         directory walker threads (default 4, at most 1024)\n"
    "  -x, --one-file-system   stay on the file system of each PATH\n"
    "  -q, --quiet             no progress line, no summary (warnings still)\n"
    "      --progress          draw the progress line even if stderr is not a terminal\n"
    "      --no-progress       never draw it\n"
    "      --stats             per-stage times, bytes read and channel statistics\n"
    "  -h, --help              this text\n"
    "  -V, --version           the version\n"
    "\n"
    "Exit status: 0 when the scan completed (files that could not be read are\n"
    "reported on stderr and counted in the summary), 2 on bad usage or a fatal\n"
    "error (such as an unusable index), 130 when interrupted (Ctrl-C: the groups\n"
    "found so far are printed, marked partial; a second Ctrl-C exits at once).\n";

enum { O_DB = 256, O_NO_DB, O_EMPTY, O_VERIFY, O_HASH, O_WALKERS, O_PROGRESS,
       O_NO_PROGRESS, O_STATS };

static const struct option longopts[] = {
    { "format", required_argument, NULL, 'f' },
    { "db", required_argument, NULL, O_DB },
    { "no-db", no_argument, NULL, O_NO_DB },
    { "min-size", required_argument, NULL, 'm' },
    { "empty", no_argument, NULL, O_EMPTY },
    { "hardlinks", no_argument, NULL, 'H' },
    { "verify", no_argument, NULL, O_VERIFY },
    { "hash", required_argument, NULL, O_HASH },
    { "threads", required_argument, NULL, 'j' },
    { "walkers", required_argument, NULL, O_WALKERS },
    { "one-file-system", no_argument, NULL, 'x' },
    { "quiet", no_argument, NULL, 'q' },
    { "progress", no_argument, NULL, O_PROGRESS },
    { "no-progress", no_argument, NULL, O_NO_PROGRESS },
    { "stats", no_argument, NULL, O_STATS },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

int parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -1;
    }
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_count(const char *s, unsigned *out)
{
    uint64_t v;
    if (parse_size(s, &v) != 0 || strpbrk(s, "kKmMgGtT") || v < 1 || v > 1024)
        return -1;
    *out = (unsigned)v;
    return 0;
}

char *default_db_path(size_t *keep)
{
    const char *base = getenv("XDG_CACHE_HOME");
    const char *tail = "/ferry-dupes/index.db";
    bool home_based = !base || base[0] != '/'; /* unset or relative: ignored, as the spec says */
    if (home_based) {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home) {
            errno = ENOENT;
            return NULL;
        }
        base = home;
        tail = "/.cache/ferry-dupes/index.db";
    }
    /* Without the base's trailing slashes ("/" is then empty: the tail
     * starts at the root), so that the path and its messages show no "//". */
    size_t len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        len--;
    /* $XDG_CACHE_HOME is made if missing (the user named a cache); a home
     * that does not exist is not made. */
    *keep = home_based && len > 0 ? len : 1;
    size_t n = len + strlen(tail) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%.*s%s", (int)len, base, tail);
    return p;
}

/* The exit status after --help or --version: 0, or 2 after a message when
 * standard output could not take the text (a full disk, closed). */
static int flushed(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    msg("cannot write the output: %s", strerror(errno));
    return 2;
}

static int bad(const char *fmt, const char *arg)
{
    if (!arg)
        arg = "";
    char *shown = esc_text_dup(arg); /* (a value may hold a newline or escapes) */
    msg(fmt, shown ? shown : arg);
    free(shown);
    fprintf(stderr, "Try '" DUPES_NAME " --help'.\n");
    return 2;
}

/* The option getopt_long stopped at, as the user wrote it. getopt permutes
 * argv and keeps its place inside a cluster of short options to itself, so
 * the element at optind - 1 is the option only when it is a long one (or
 * the last of a cluster): a short option is named by its letter. */
static int bad_option(int c, int argc, char **argv)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    size_t n = strcspn(arg, "="); /* the long option, without its "=VALUE" */
    bool is_long = !strncmp(arg, "--", 2) && n > 2, given_value = false;
    for (const struct option *l = longopts; is_long && optopt && l->name; l++)
        if (l->val == optopt && !strncmp(l->name, arg + 2, n - 2)) /* (or an abbreviation) */
            given_value = arg[n] == '=';
    if (is_long && (c == ':' || optopt == 0 || optopt >= 256 || given_value)) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), arg);
        if (c == ':')
            return bad("option %s needs a value", name);
        if (optopt != 0) /* a known option given a value it does not take */
            return bad("option %s takes no value", name);
        int matches = 0; /* an abbreviation of two or more */
        for (const struct option *l = longopts; l->name; l++)
            matches += !strncmp(l->name, arg + 2, n - 2);
        return bad(matches > 1 ? "ambiguous option %s" : "unknown option %s", name);
    }
    char name[3] = { '-', (char)(optopt > 0 && optopt < 128 ? optopt : '?'), 0 };
    return bad(c == ':' ? "option %s needs a value" : "unknown option %s", name);
}

int opts_parse(struct options *o, int argc, char **argv)
{
    *o = (struct options){ .format = FMT_TEXT, .hash = HASH_XXH3, .min_size = 1, .progress = -1,
                           .threads = 16, .walkers = 4 };
    bool no_db = false;
    const char *db = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:m:Hj:xqhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "text")) o->format = FMT_TEXT;
            else if (!strcmp(optarg, "json")) o->format = FMT_JSON;
            else if (!strcmp(optarg, "csv")) o->format = FMT_CSV;
            else if (!strcmp(optarg, "fdupes")) o->format = FMT_FDUPES;
            else return bad("--format %s: want text, json, csv or fdupes", optarg);
            break;
        case O_DB: /* the last of --db and --no-db wins */
            if (!*optarg)
                return bad("--db: an empty file name%s", "");
            db = optarg;
            no_db = false;
            break;
        case O_NO_DB: no_db = true; break;
        case 'm':
            if (parse_size(optarg, &o->min_size) != 0)
                return bad("--min-size %s: want a number of bytes (suffixes k, M, G, T)", optarg);
            break;
        case O_EMPTY: o->empty = true; break;
        case 'H': o->hardlinks = true; break;
        case O_VERIFY: o->verify = true; break;
        case O_HASH:
            if (!strcmp(optarg, "xxh3")) o->hash = HASH_XXH3;
            else if (!strcmp(optarg, "blake2b")) o->hash = HASH_BLAKE2B;
            else return bad("--hash %s: want xxh3 or blake2b", optarg);
            break;
        case 'j':
            if (parse_count(optarg, &o->threads))
                return bad("--threads %s: want a whole number from 1 to 1024", optarg);
            break;
        case O_WALKERS:
            if (parse_count(optarg, &o->walkers))
                return bad("--walkers %s: want a whole number from 1 to 1024", optarg);
            break;
        case 'x': o->one_fs = true; break;
        case 'q': o->quiet = true; break;
        case O_PROGRESS: o->progress = 1; break;
        case O_NO_PROGRESS: o->progress = 0; break;
        case O_STATS: o->stats = true; break;
        case 'h': fputs(usage, stdout); return flushed();
        case 'V': printf(DUPES_NAME " %s\n", FERRY_VERSION); return flushed();
        case ':':
        default:
            return bad_option(c, argc, argv);
        }
    }
    if (optind >= argc)
        return bad("no PATH given%s", "");
    o->paths = argv + optind;
    o->npaths = argc - optind;
    if (!no_db) {
        o->db = db ? strdup(db) : default_db_path(&o->db_keep);
        if (!o->db) {
            if (db || errno == ENOMEM)
                msg("out of memory");
            else
                msg("no home directory for the default index: pass --db FILE or --no-db");
            return 2;
        }
    }
    return -1;
}

void opts_free(struct options *o)
{
    free(o->db);
    o->db = NULL;
}

bool size_eligible(const struct options *o, uint64_t size)
{
    return size == 0 ? o->empty : size >= o->min_size;
}
