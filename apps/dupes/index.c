/* SPDX-License-Identifier: MIT */
/* The SQLite index (index.h) and its writer thread: rows arrive in batches
 * on the rows channel; each batch (filled up to ROWS_PER_TX, waiting at most
 * FILL_MS for stragglers) is one transaction. Measured on /usr (163k rows,
 * warm cache): 512-row transactions cost 1.8 s of writer CPU, 4096-row ones
 * with a 32 MiB page cache 1.2 s (of which the path index is 0.5 s). */
#include "index.h"

#include "debug.h"
#include "escape.h"
#include "msg.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define ROWS_PER_TX 4096
#define FILL_MS 250
#define CACHE_KIB 32768 /* SQLite's page cache (its default is 2 MiB) */
#define FERRY_STR2(x) #x
#define FERRY_STR(x) FERRY_STR2(x)

struct index {
    sqlite3 *db;
    char *path;
    char *shown;         /* path escaped for messages (esc_text) */
    enum hash_kind kind;
    sqlite3_stmt *put, *del;
    char *wal;           /* SQLite's WAL file beside it, and its (dev, inode) */
    dev_t wal_dev;
    ino_t wal_ino;
    bool failed;
    bool moved;          /* the file is no longer at its name (said once)    */
    bool busy;           /* SQLITE_BUSY was met (report), opening it        */
    bool busy_quiet;     /* ... and not said: the open is tried again       */
};

static const char schema[] =
    "CREATE TABLE files ("
    " dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
    " path BLOB NOT NULL,"
    " algo INTEGER NOT NULL,"      /* 1 xxh3-128, 2 blake2b-256 */
    " partial BLOB, full BLOB,"
    " btime_ns INTEGER,"           /* NULL or 0: unknown */
    " PRIMARY KEY (dev, ino)) WITHOUT ROWID;"
    "CREATE INDEX files_path ON files(path);";

/* The user-facing reason for an SQLite failure. */
static const char *reason(sqlite3 *db, int rc, char *buf, size_t len)
{
    int sys = db ? sqlite3_system_errno(db) : 0;
    switch (rc & 0xff) {
    case SQLITE_CANTOPEN:
        snprintf(buf, len, "cannot open%s%s", sys ? ": " : "", sys ? strerror(sys) : "");
        return buf;
    case SQLITE_READONLY:
        return "read-only (the file or its directory is not writable)";
    case SQLITE_NOTADB:
        return "not an SQLite database (corrupt, or another kind of file)";
    case SQLITE_CORRUPT:
        return "the database is corrupt (move it away; the next run builds a new index)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "locked by another process (another ferry-dupes using this index?)";
    case SQLITE_FULL:
        return "disk full";
    case SQLITE_IOERR:
        snprintf(buf, len, "I/O error%s%s", sys ? ": " : "", sys ? strerror(sys) : "");
        return buf;
    default:
        snprintf(buf, len, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return buf;
    }
}

/* The longest index path SQLite's unix VFS opens: its 512-byte names must
 * hold the path and the "-journal" suffix of its journal. */
#define SQLITE_PATH_MAX (512 - 8)

/* Why path cannot be opened for writing, in words, or NULL if that is not
 * it: SQLite's own errno comes from its last attempt (a read-only retry,
 * often ENOENT), not from the real obstacle. */
static const char *why_cannot_open(const char *path, char *buf, size_t len)
{
    if (faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0) {
        if (faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) == 0)
            return NULL;
        snprintf(buf, len, "cannot open it for writing: %s", strerror(errno));
        return buf;
    }
    char *dir = strdup(path);
    if (!dir)
        return NULL;
    char *slash = strrchr(dir, '/');
    const char *d = slash == dir ? "/" : slash ? (*slash = 0, dir) : ".";
    char *real = NULL;
    size_t full = 0; /* the name SQLite makes of path: symlinks resolved */
    char *d_shown = NULL;
    struct stat st;
    int err = 0;
    if (stat(d, &st) == 0 && !S_ISDIR(st.st_mode))
        err = ENOTDIR; /* (access(2) says EACCES: a file lacks the x bit) */
    else if (faccessat(AT_FDCWD, d, W_OK | X_OK, AT_EACCESS) != 0)
        err = errno;
    if (err) {
        d_shown = esc_text_dup(d);
        snprintf(buf, len, "cannot create it: %s: %s", d_shown ? d_shown : d, strerror(err));
    }
    else if ((real = realpath(d, NULL)) &&
             (full = strlen(real) + 1 + strlen(slash ? path + (slash - dir) + 1 : path)) > SQLITE_PATH_MAX)
        snprintf(buf, len, "its path is too long for SQLite (%zu bytes with symlinks resolved; "
                 "SQLite takes at most %d)", full, SQLITE_PATH_MAX);
    else
        buf = NULL;
    free(real);
    free(d_shown);
    free(dir);
    return buf;
}

static void report(struct index *x, const char *doing, int rc)
{
    if ((rc & 0xff) == SQLITE_BUSY) {
        x->busy = true;
        if (x->busy_quiet)
            return;
    }
    char buf[512];
    const char *why = NULL;
    if ((rc & 0xff) == SQLITE_CANTOPEN)
        why = why_cannot_open(x->path, buf, sizeof buf);
    if (!why)
        why = reason(x->db, rc, buf, sizeof buf);
    msg("index %s: %s%s%s", x->shown, doing, doing[0] ? ": " : "", why);
}

static int exec(struct index *x, const char *sql, const char *doing)
{
    int rc = sqlite3_exec(x->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        report(x, doing, rc);
    return rc;
}

static int pragma_int(struct index *x, const char *sql, int64_t *out, const char *doing)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(x->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        report(x, doing, rc);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void index_free(struct index *x)
{
    sqlite3_finalize(x->put);
    sqlite3_finalize(x->del);
    sqlite3_close(x->db);
    free(x->wal);
    free(x->path);
    free(x->shown);
    free(x);
}

/* true after a message when the index file is no longer at its name
 * (deleted, with its directory or alone, renamed, or replaced): SQLite
 * writes on into the file it holds open, so what this run learned would
 * be lost (or land elsewhere) without a word. */
static bool moved(struct index *x, const char *doing)
{
    int m = 0;
    if (x->moved || sqlite3_file_control(x->db, "main", SQLITE_FCNTL_HAS_MOVED, &m) != SQLITE_OK || !m)
        return x->moved;
    msg("index %s: %s: it was deleted, moved or replaced during the run (what this run learned "
        "would be lost)", x->shown, doing);
    x->moved = true;
    return true;
}

/* Remember the WAL file SQLite made beside the index, to remove it should
 * the index move (drop_stale_wal). */
static void note_wal(struct index *x)
{
    const char *wal = sqlite3_filename_wal(sqlite3_db_filename(x->db, "main"));
    struct stat st;
    if (wal && wal[0] && stat(wal, &st) == 0 && (x->wal = strdup(wal))) {
        x->wal_dev = st.st_dev;
        x->wal_ino = st.st_ino;
    }
}

/* After a close that found the index moved: SQLite leaves the WAL where
 * it was, unapplied (it does not checkpoint a moved database). Whatever
 * file takes the index's name next -- another database put in its place,
 * or a new index -- would take those pages as its own; the WAL (still the
 * one SQLite made: same dev and inode) goes. */
static void drop_stale_wal(struct index *x)
{
    struct stat st;
    if (x->wal && stat(x->wal, &st) == 0 && st.st_dev == x->wal_dev && st.st_ino == x->wal_ino)
        unlink(x->wal);
}

enum { IDX_NEW, IDX_V1, IDX_OURS };

/* What the file is, from its header, reading only: IDX_NEW (empty: a new
 * index), IDX_V1 (ours, version 1: to upgrade), IDX_OURS, or -1 after a
 * message (another program's, another version's, damaged, unreadable; an
 * SQLite failure is reported as doing it). */
static int classify(struct index *x, const char *doing)
{
    int64_t app = 0, version = 0, tables = 0;
    if (pragma_int(x, "PRAGMA application_id", &app, doing) ||
        pragma_int(x, "PRAGMA user_version", &version, doing) ||
        pragma_int(x, "SELECT count(*) FROM sqlite_schema", &tables, doing))
        return -1;
    if (app == 0 && version == 0 && tables == 0)
        return IDX_NEW;
    if (app == INDEX_APPLICATION_ID && version == 1)
        return IDX_V1;
    if (app != INDEX_APPLICATION_ID) {
        msg("index %s: not a ferry-dupes index (an SQLite database of another program)", x->shown);
        return -1;
    }
    if (version != INDEX_SCHEMA_VERSION) {
        msg("index %s: made by another version of ferry-dupes (schema version %lld; this one "
            "reads version %d): move it away or pass another --db",
            x->shown, (long long)version, INDEX_SCHEMA_VERSION);
        return -1;
    }
    /* Our header on a file whose table of files is missing or not ours
     * (SQLite said "no such table: files" when the run began to write). */
    int64_t columns = 0;
    if (pragma_int(x, "SELECT count(*) FROM pragma_table_info('files') WHERE name IN ('dev', 'ino',"
                      " 'size', 'mtime_ns', 'ctime_ns', 'path', 'algo', 'partial', 'full', 'btime_ns')",
                   &columns, doing))
        return -1;
    if (columns != 10) {
        msg("index %s: damaged: a ferry-dupes header without the table of files it goes with (move "
            "it away; the next run builds a new index)", x->shown);
        return -1;
    }
    return IDX_OURS;
}

/* In the write transaction: check the header again; create the schema in
 * a new file, upgrade a version 1 index. 0 or -1. */
static int check_or_create(struct index *x)
{
    int kind = classify(x, "reading its header");
    if (kind == IDX_NEW) {
        char sql[sizeof schema + 128];
        snprintf(sql, sizeof sql, "%s PRAGMA application_id=%d; PRAGMA user_version=%d;", schema,
                 INDEX_APPLICATION_ID, INDEX_SCHEMA_VERSION);
        return exec(x, sql, "creating the index") == SQLITE_OK ? 0 : -1;
    }
    if (kind == IDX_V1) {
        /* Version 1 had no birth times: its rows get NULL (unknown), which
         * never passes for a rename where the file system keeps birth times
         * (group.c), so each renamed file is read once more. In the open
         * transaction: all of it or none. */
        char sql[128];
        snprintf(sql, sizeof sql, "ALTER TABLE files ADD COLUMN btime_ns INTEGER; PRAGMA user_version=%d;",
                 INDEX_SCHEMA_VERSION);
        return exec(x, sql, "upgrading the index") == SQLITE_OK ? 0 : -1;
    }
    return kind < 0 ? -1 : 0;
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" :
           S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a plain file";
}

/* The name of the pseudo file system (/proc, /sys and their kin) path lies
 * on, or NULL: its files are the kernel's, with sizes that say nothing, and
 * a read of some blocks for ever (/proc/kmsg), or takes what it reads away
 * from others (/proc/kmsg, tracefs's trace_pipe). */
static const char *pseudo_fs(const char *path)
{
    static const struct {
        unsigned long magic;
        const char *name;
    } fs[] = { { 0x9fa0, "proc" }, { 0x62656572, "sysfs" }, { 0x64626720, "debugfs" },
               { 0x74726163, "tracefs" }, { 0x73636673, "securityfs" }, { 0x27e0eb, "cgroup" },
               { 0x63677270, "cgroup2" }, { 0xcafe4a11, "bpf" }, { 0x6165676c, "pstore" },
               { 0xde5e81e4, "efivarfs" }, { 0x62656570, "configfs" } };
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        if ((unsigned long)sf.f_type == fs[i].magic)
            return fs[i].name;
    return NULL;
}

/* true after a message when the index (st: its stat) is the file that
 * standard output or standard error writes to. */
static bool same_as_output(const char *shown, const struct stat *st)
{
    struct stat out;
    for (int fd = 1; fd <= 2; fd++)
        if (fstat(fd, &out) == 0 && S_ISREG(out.st_mode) &&
            st->st_dev == out.st_dev && st->st_ino == out.st_ino) {
            msg("index %s: the file standard %s is written to", shown, fd == 1 ? "output" : "error");
            return true;
        }
    return false;
}

/* The name SQLite gives the index, which its WAL, journal and shm files are
 * named after: path with its symlinks resolved -- a dangling one too (a
 * new index through a symlink is made where it points). Allocated; NULL:
 * out of memory. */
static char *sqlite_base(const char *path)
{
    char *cur = strdup(path);
    for (int i = 0; cur && i < 40; i++) { /* (40: the kernel's own limit) */
        struct stat st;
        char target[PATH_MAX];
        ssize_t n;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode) ||
            (n = readlink(cur, target, sizeof target - 1)) <= 0)
            break;
        target[n] = 0;
        const char *slash = strrchr(cur, '/');
        char *next = NULL;
        if (target[0] == '/' || !slash)
            next = strdup(target);
        else if (asprintf(&next, "%.*s/%s", (int)(slash - cur), cur, target) < 0)
            next = NULL;
        free(cur);
        cur = next;
    }
    if (!cur)
        return NULL;
    char *real = realpath(cur, NULL); /* (the directories' symlinks) */
    if (real) {
        free(cur);
        return real;
    }
    const char *slash = strrchr(cur, '/');
    char *dir = slash == cur ? strdup("/") : slash ? strndup(cur, (size_t)(slash - cur)) : strdup(".");
    char *dir_real = dir ? realpath(dir, NULL) : NULL;
    char *full = NULL;
    if (dir_real && asprintf(&full, "%s%s%s", dir_real, strcmp(dir_real, "/") ? "/" : "",
                             slash ? slash + 1 : cur) < 0)
        full = NULL;
    free(dir);
    free(dir_real);
    if (full) {
        free(cur);
        return full;
    }
    return cur; /* (a directory that does not exist: SQLite's open fails) */
}

/* true after a message when SQLite's WAL, rollback journal or shm file
 * beside the index (base: sqlite_base) is there and is not a regular
 * file: a FIFO at INDEX-journal hung SQLite's open (a FIFO opened for
 * reading waits for a writer), one at INDEX-wal took the WAL's frames, and
 * a directory or a socket ended the run with "I/O error" or "cannot open".
 * So is a regular one with another name (a hard link): SQLite wrote its
 * WAL over the file the other name is (another user's, planted there).
 * lstat only: nothing is opened. */
static bool side_file_bad(const char *base, const char *shown)
{
    static const struct {
        const char *suffix, *what;
    } side[] = { { "-wal", "write-ahead log" }, { "-journal", "rollback journal" },
                 { "-shm", "WAL index" } };
    for (size_t i = 0; i < sizeof side / sizeof side[0]; i++) {
        char *name = NULL;
        struct stat st;
        if (asprintf(&name, "%s%s", base, side[i].suffix) < 0)
            return false; /* (out of memory: SQLite's open will say so) */
        bool there = lstat(name, &st) == 0;
        bool bad = there && (!S_ISREG(st.st_mode) || st.st_nlink > 1);
        char *name_shown = bad ? esc_text_dup(name) : NULL;
        if (bad && !S_ISREG(st.st_mode))
            msg("index %s: %s is %s, not a regular file (SQLite keeps the index's %s there): "
                "remove it", shown, name_shown ? name_shown : name,
                S_ISLNK(st.st_mode) ? "a symbolic link" : file_kind(st.st_mode), side[i].what);
        else if (bad) /* (SQLite writes its own header over what it takes for a stale one) */
            msg("index %s: %s has %ju names (hard links): SQLite would write the index's %s "
                "into that file, over what it holds: remove this name", shown,
                name_shown ? name_shown : name, (uintmax_t)st.st_nlink, side[i].what);
        free(name_shown);
        free(name);
        if (bad)
            return true;
    }
    return false;
}

/* true after a message when standard output or error is redirected to a
 * file SQLite keeps beside the index, its WAL or its rollback journal
 * (SQLite names them after the index with its symlinks resolved): SQLite
 * writes its frames there and deletes the file when it closes the index,
 * before the groups are printed into it -- they were lost under exit
 * status 0. */
static bool output_beside(const char *base, const char *shown)
{
    static const char *const suffixes[] = { "-wal", "-journal" };
    bool found = false;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0] && !found; i++) {
        char *name = NULL;
        struct stat st, out;
        if (asprintf(&name, "%s%s", base, suffixes[i]) < 0)
            break;
        for (int fd = 1; fd <= 2 && !found && stat(name, &st) == 0; fd++)
            if (fstat(fd, &out) == 0 && S_ISREG(out.st_mode) && st.st_dev == out.st_dev &&
                st.st_ino == out.st_ino) {
                char *name_shown = esc_text_dup(name);
                msg("index %s: the file standard %s is written to is SQLite's %s beside it, %s", shown,
                    fd == 1 ? "output" : "error", i == 0 ? "WAL" : "journal", name_shown ? name_shown : name);
                free(name_shown);
                found = true;
            }
        free(name);
    }
    return found;
}

/* PRAGMA journal_mode=WAL, whose answer is the mode the database is in
 * after it: SQLite keeps the old one where it cannot have WAL (a VFS
 * without it, a file system that will not take the WAL file). A rollback
 * journal on disk (delete, truncate, persist) keeps the index as sound
 * through a crash or a second Ctrl-C, only slower: the run goes on, with a
 * note; any other mode (memory, off: a crash mid-transaction corrupts the
 * database) is refused. 0, or -1 after a message. */
static int set_wal(struct index *x)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", debug.journal ? debug.journal : "WAL");
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(x->db, sql, -1, &st, NULL);
    char mode[16] = "";
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *m = sqlite3_column_text(st, 0);
            snprintf(mode, sizeof mode, "%s", m ? (const char *)m : "");
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        report(x, "", rc);
        return -1;
    }
    if (!strcmp(mode, "wal"))
        return 0;
    if (!strcmp(mode, "delete") || !strcmp(mode, "truncate") || !strcmp(mode, "persist")) {
        msg("index %s: SQLite could not put it in WAL mode (it stays in %s mode): going on with a "
            "rollback journal beside it, as sound, only slower", x->shown, mode);
        return 0;
    }
    msg("index %s: SQLite could not put it in WAL mode, and its journal mode, \"%s\", would not keep "
        "it sound through a crash", x->shown, mode);
    return -1;
}

/* Tries to open the index while another run's locks refuse it (open_as),
 * and the most milliseconds between two. */
#define OPEN_TRIES 24
#define OPEN_WAIT_MS 16

/* Open x->db (name: the path as SQLite is to take it), read its header and
 * make it an index in WAL mode. 0, or -1 after a message (none for a
 * SQLITE_BUSY while x->busy_quiet: x->busy says it). */
static int open_db(struct index *x, const char *name)
{
    int rc = sqlite3_open_v2(name, &x->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        report(x, "", rc);
        return -1;
    }
    sqlite3_extended_result_codes(x->db, 1);
    if (sqlite3_db_readonly(x->db, "main") == 1) {
        report(x, "", SQLITE_READONLY);
        return -1;
    }
    /* Exclusive locking: the first write takes the lock and the connection
     * keeps it until closed, so a second process gets SQLITE_BUSY (and the
     * WAL index lives in heap memory, no -shm file). */
    /* The header is read before anything is written: WAL mode, once set,
     * stays in the file, and another program's database (or another
     * version's index) is refused as it was found. */
    if (exec(x, "PRAGMA locking_mode=EXCLUSIVE", "") || classify(x, "") < 0 ||
        set_wal(x) ||
        exec(x, "PRAGMA synchronous=NORMAL", "") ||
        exec(x, "PRAGMA cache_size=-" FERRY_STR(CACHE_KIB), "") ||
        exec(x, "BEGIN IMMEDIATE", ""))
        return -1;
    if (check_or_create(x) || exec(x, "COMMIT", "")) {
        sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* index_open(), with shown: path escaped for messages. */
static struct index *open_as(const char *path, const char *shown, enum hash_kind kind)
{
    /* SQLite would open a FIFO or a device and fail later (or hang, or
     * leave a journal beside it): only a regular file (or a symlink to one,
     * given on purpose) or a new one is an index. */
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        msg("index %s: not a regular file (%s)", shown, file_kind(st.st_mode));
        return NULL;
    }
    const char *pseudo = exists ? pseudo_fs(path) : NULL;
    if (pseudo) { /* (SQLite read its header: it said "not a database", or "cannot open") */
        msg("index %s: a file of the kernel's %s file system, not one to keep an index in", shown,
            pseudo);
        return NULL;
    }
    if (path[0] && path[strlen(path) - 1] == '/') { /* (SQLite made a file of "new/") */
        msg("index %s: not a regular file (the name of a directory)", shown);
        return NULL;
    }
    char *base = sqlite_base(path);
    if (!base) {
        msg("index %s: out of memory", shown);
        return NULL;
    }
    bool refused = (exists && same_as_output(shown, &st)) || output_beside(base, shown) ||
                   side_file_bad(base, shown);
    free(base);
    if (refused)
        return NULL; /* (the index written into the groups, or they deleted with its WAL; a
                      * FIFO that would hang SQLite's open) */
    if (exists && st.st_nlink > 1) {
        /* SQLite keeps the journal (WAL) beside the name it opened: two
         * runs through two names would each see only their own, which can
         * corrupt the database. */
        msg("index %s: the file has %ju names (hard links); a run through another name would not see "
            "this one's journal, which can corrupt it: give the index one name",
            shown, (uintmax_t)st.st_nlink);
        return NULL;
    }
    if (exists && st.st_size == 1) {
        /* SQLite's Unix layer reports a file of one byte as empty (a byte
         * it writes itself on some file systems), so it would make a new
         * database over it; no database is one byte long. */
        char why[64];
        msg("index %s: %s", shown, reason(NULL, SQLITE_NOTADB, why, sizeof why));
        return NULL;
    }
    /* SQLite reads ":memory:" as no file at all, and (built with URIs on,
     * as Debian's is) "file:NAME?mode=ro" as a URI: a relative name goes
     * to SQLite as "./NAME", which it takes as it is. */
    char *sqlite_name = NULL;
    if (path[0] != '/' && asprintf(&sqlite_name, "./%s", path) < 0)
        sqlite_name = NULL;
    if (path[0] != '/' && !sqlite_name) {
        msg("index %s: out of memory", shown);
        return NULL;
    }
    struct index *x = calloc(1, sizeof *x);
    if (!x || !(x->path = strdup(path)) || !(x->shown = strdup(shown))) {
        if (x)
            free(x->path);
        free(x);
        free(sqlite_name);
        msg("index %s: out of memory", shown);
        return NULL;
    }
    x->kind = kind;
    /* Two runs that start together each take SQLite's shared lock to read
     * the header and, in exclusive locking mode, keep it while they wait
     * for the exclusive one, which the other's shared lock refuses: both
     * met SQLITE_BUSY and stopped, "locked" (about one pair in 30). A busy
     * open lets go of every lock and is tried again after a random wait, so
     * one of them gets through; a run that holds the index (all its run)
     * still stops the other, after OPEN_TRIES tries. */
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    int r;
    for (int i = 1;; i++) {
        x->busy = false;
        x->busy_quiet = i < OPEN_TRIES;
        r = open_db(x, sqlite_name ? sqlite_name : path);
        if (r == 0 || !x->busy || !x->busy_quiet)
            break;
        sqlite3_close(x->db);
        x->db = NULL;
        struct timespec wait = { 0, (long)(1 + rand_r(&seed) % OPEN_WAIT_MS) * 1000000 };
        nanosleep(&wait, NULL);
    }
    x->busy_quiet = false;
    free(sqlite_name);
    if (r) {
        index_free(x);
        return NULL;
    }
    note_wal(x);
    int rc = sqlite3_prepare_v2(x->db,
                            "INSERT OR REPLACE INTO files(dev, ino, size, mtime_ns, ctime_ns, path,"
                            " algo, partial, full, btime_ns) VALUES(?,?,?,?,?,?,?,?,?,?)",
                            -1, &x->put, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(x->db, "DELETE FROM files WHERE dev=? AND ino=?", -1, &x->del, NULL);
    if (rc != SQLITE_OK) {
        report(x, "", rc);
        index_free(x);
        return NULL;
    }
    return x;
}

struct index *index_open(const char *path, enum hash_kind kind)
{
    char *shown = esc_text_dup(path);
    struct index *x = open_as(path, shown ? shown : path, kind);
    free(shown);
    return x;
}

uint64_t index_key_hash(uint64_t dev, uint64_t ino)
{
    return hash_mix2(dev, ino);
}

uint64_t index_entry_hash(const void *entry)
{
    const struct index_entry *e = entry;
    return index_key_hash(e->dev, e->ino);
}

uint64_t index_path_hash(const char *path, size_t len)
{
    return XXH3_64bits(path, len);
}

static bool same_key(const void *entry, const void *key)
{
    const struct index_entry *e = entry, *k = key;
    return e->dev == k->dev && e->ino == k->ino;
}

/* Load rows with lo <= path < hi, or path == exact. */
static int load_range(struct index *x, sqlite3_stmt *st, const char *lo, size_t lolen,
                      const char *hi, size_t hilen, struct table *t, struct arena *a)
{
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, lo, (int)lolen, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hi, (int)hilen, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct index_entry k = { .dev = (uint64_t)sqlite3_column_int64(st, 0),
                                 .ino = (uint64_t)sqlite3_column_int64(st, 1) };
        uint64_t h = index_key_hash(k.dev, k.ino);
        if (table_find(t, h, same_key, &k)) /* overlapping roots */
            continue;
        struct index_entry *e = arena_alloc(a, sizeof *e);
        if (!e) {
            msg("out of memory");
            return -1;
        }
        *e = k;
        e->size = (uint64_t)sqlite3_column_int64(st, 2);
        e->mtime_ns = sqlite3_column_int64(st, 3);
        e->ctime_ns = sqlite3_column_int64(st, 4);
        e->btime_ns = sqlite3_column_int64(st, 9); /* (NULL: 0) */
        e->path_hash = index_path_hash(sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5));
        e->have = 0;
        e->seen = false;
        if (sqlite3_column_int(st, 6) == (int)x->kind) {
            if (sqlite3_column_bytes(st, 7) == PARTIAL_LEN) {
                memcpy(e->partial, sqlite3_column_blob(st, 7), PARTIAL_LEN);
                e->have |= HAVE_PARTIAL;
            }
            size_t flen = full_hash_len(x->kind);
            if (sqlite3_column_bytes(st, 8) == (int)flen) {
                memset(e->full, 0, HASH_MAX);
                memcpy(e->full, sqlite3_column_blob(st, 8), flen);
                e->have |= HAVE_FULL;
            }
        }
        if (table_add(t, h, e, index_entry_hash)) {
            msg("out of memory");
            return -1;
        }
    }
    if (rc != SQLITE_DONE) {
        report(x, "reading it", rc);
        return -1;
    }
    return 0;
}

int index_load(struct index *x, const struct root *roots, int nroots, struct table *t,
               struct arena *a)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(x->db,
                                "SELECT dev, ino, size, mtime_ns, ctime_ns, path, algo, partial, full,"
                                " btime_ns FROM files WHERE path >= ?1 AND path < ?2",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        report(x, "reading it", rc);
        return -1;
    }
    int ret = 0;
    for (int i = 0; i < nroots && !ret; i++) {
        const struct root *r = &roots[i];
        struct buf lo = { 0 }, hi = { 0 };
        if (r->is_file) { /* exactly its path: [abs, abs + "\0") */
            ret = buf_append(&lo, r->abs, r->abslen) || buf_append(&hi, r->abs, r->abslen) ||
                  buf_reserve(&hi, hi.len + 1);
            if (!ret)
                hi.p[hi.len++] = 0;
        } else { /* everything below it: [abs + "/", abs + "0") ('0' follows '/') */
            size_t n = r->abs[r->abslen - 1] == '/' ? r->abslen - 1 : r->abslen;
            ret = buf_append(&lo, r->abs, n) || buf_append(&lo, "/", 1) ||
                  buf_append(&hi, r->abs, n) || buf_append(&hi, "0", 1);
        }
        if (ret)
            msg("out of memory");
        else
            ret = load_range(x, st, lo.p, lo.len, hi.p, hi.len, t, a);
        buf_free(&lo);
        buf_free(&hi);
    }
    sqlite3_finalize(st);
    return ret ? -1 : 0;
}

void row_of_node(struct row *r, const struct node *n)
{
    memset(r, 0, sizeof *r);
    r->kind = ROW_PUT;
    r->dev = n->dev;
    r->ino = n->ino;
    r->size = n->size;
    r->mtime_ns = n->mtime_ns;
    r->ctime_ns = n->ctime_ns;
    r->btime_ns = n->btime_ns;
    r->node = n;
    r->have = n->racy ? 0 : n->have; /* (racily clean: no hashes to trust next run) */
    memcpy(r->partial, n->partial, PARTIAL_LEN);
    memcpy(r->full, n->full, HASH_MAX);
}

bool index_failed(const struct index *x)
{
    return x->failed;
}

static int put_row(struct index *x, const struct row *r, struct buf *path)
{
    sqlite3_stmt *st = x->put;
    size_t len = 0;
    const char *p = node_abs_path(r->node, path, &len);
    if (!p)
        return SQLITE_NOMEM;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->dev);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->ino);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->size);
    sqlite3_bind_int64(st, 4, r->mtime_ns);
    sqlite3_bind_int64(st, 5, r->ctime_ns);
    sqlite3_bind_blob(st, 6, p, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, (int)x->kind);
    if (r->have & HAVE_PARTIAL)
        sqlite3_bind_blob(st, 8, r->partial, PARTIAL_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    if (r->have & HAVE_FULL)
        sqlite3_bind_blob(st, 9, r->full, (int)full_hash_len(x->kind), SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 9);
    sqlite3_bind_int64(st, 10, r->btime_ns);
    return sqlite3_step(st);
}

static int delete_row(struct index *x, const struct row *r)
{
    sqlite3_stmt *st = x->del;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->dev);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->ino);
    return sqlite3_step(st);
}

/* One transaction. SQLITE_OK or the failing code (rolled back). */
static int write_batch(struct index *x, const struct row *rows, size_t n, struct buf *path)
{
    int rc = sqlite3_exec(x->db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        rc = rows[i].kind == ROW_PUT ? put_row(x, &rows[i], path) : delete_row(x, &rows[i]);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_reset(x->put);
        sqlite3_reset(x->del);
        if (!sqlite3_get_autocommit(x->db))
            sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static struct timespec deadline_ms(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += ms * 1000000;
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

void *writer_main(void *arg)
{
    struct dupes *d = arg;
    struct index *x = d->index;
    struct row *rows = malloc(ROWS_PER_TX * sizeof *rows);
    if (!rows) {
        msg("out of memory");
        x->failed = true;
        dupes_fail(d);
        while (ferry_recv(d->rows_rx, &(struct row){ 0 }, 1) > 0)
            ; /* drain: the run is stopping */
    }
    struct buf path = { 0 };
    ssize_t n;
    while (rows && (n = ferry_recv(d->rows_rx, rows, ROWS_PER_TX)) > 0) {
        /* Fill the transaction up, waiting a little for more rows. */
        struct timespec until = deadline_ms(FILL_MS);
        while (n < ROWS_PER_TX) {
            ssize_t m = ferry_recv_until(d->rows_rx, rows + n, (size_t)(ROWS_PER_TX - n), &until);
            if (m <= 0)
                break;
            n += m;
        }
        if (x->failed)
            continue; /* drain: the run is stopping */
        int rc = write_batch(x, rows, (size_t)n, &path);
        if (rc != SQLITE_OK || moved(x, "writing")) {
            if (rc != SQLITE_OK)
                report(x, "writing", rc);
            x->failed = true;
            dupes_fail(d);
            continue;
        }
        atomic_fetch_add_explicit(&d->c.rows, (uint64_t)n, memory_order_relaxed);
        debug_count(DBG_ROW, (uint64_t)n);
    }
    buf_free(&path);
    free(rows);
    ferry_rx_release(d->rows_rx);
    stage_thread_done(d, STAGE_WRITE);
    return NULL;
}

int index_forget(struct index *x, const struct node *const *nodes, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(x->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(x->db, "UPDATE files SET partial = NULL, full = NULL WHERE dev = ? AND ino = ?",
                                -1, &st, NULL);
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)nodes[i]->dev);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)nodes[i]->ino);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        report(x, "forgetting the hashes --verify found stale", rc);
        if (!sqlite3_get_autocommit(x->db))
            sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK || moved(x, "forgetting the hashes --verify found stale")) {
        x->failed = true;
        return -1;
    }
    return 0;
}

int index_close(struct index *x)
{
    int ret = 0;
    sqlite3_finalize(x->put);
    sqlite3_finalize(x->del);
    x->put = x->del = NULL;
    if ((!x->failed || x->moved) && moved(x, "closing")) /* (the last rows, or none at all) */
        ret = -1;
    int rc = sqlite3_close(x->db);
    if (rc != SQLITE_OK) {
        report(x, "closing", rc);
        ret = -1;
    }
    if (rc == SQLITE_OK && x->moved)
        drop_stale_wal(x);
    x->db = NULL;
    free(x->wal);
    free(x->path);
    free(x->shown);
    free(x);
    return ret;
}
