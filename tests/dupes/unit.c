/* SPDX-License-Identifier: MIT */
/* Unit tests of ferry-dupes' pieces: escaping, sizes, byte totals, the hash
 * table, the arena, paths (including opening paths longer than PATH_MAX without
 * following symlinks), the order of the printed groups and the set of
 * directories listed (several threads at once), which file times are
 * racily clean. The program as a
 * whole is tested by dupes_test.py. */
#include "test.h"

#include "arena.h"
#include "dirset.h"
#include "dupes.h"
#include "escape.h"
#include "opts.h"
#include "overlap.h"
#include "path.h"
#include "read.h"
#include "report.h"
#include "satcount.h"
#include "stats.h"
#include "table.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef void (*esc_fn)(FILE *, const char *, size_t);

/* Escape n bytes with fn; compare with want. */
static void check_esc(esc_fn fn, const char *in, size_t n, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    CHECK(f);
    fn(f, in, n);
    fclose(f);
    CHECK_MSG(len == strlen(want) && memcmp(out, want, len) == 0, "escaped %zu bytes to '%.*s', want '%s'",
              n, (int)len, out, want);
    free(out);
}
#define ESC(fn, lit, want) check_esc(fn, lit, sizeof(lit) - 1, want)

FERRY_TEST(utf8_sequences_per_unicode_table_3_7)
{
    static const struct { const char *s; size_t n, want; } cases[] = {
        { "a", 1, 1 },              { "\x7f", 1, 1 },
        { "\xc3\xa9", 2, 2 },       { "\xc2\x80", 2, 2 },
        { "\xc1\xbf", 2, 0 },       /* overlong */
        { "\xc0\xaf", 2, 0 },       /* overlong '/' */
        { "\xe2\x82\xac", 3, 3 },   { "\xe0\xa0\x80", 3, 3 },
        { "\xe0\x9f\xbf", 3, 0 },   /* overlong */
        { "\xed\x9f\xbf", 3, 3 },   { "\xed\xa0\x80", 3, 0 }, /* surrogate */
        { "\xf0\x9f\x98\x80", 4, 4 }, { "\xf0\x8f\xbf\xbf", 4, 0 }, /* overlong */
        { "\xf4\x8f\xbf\xbf", 4, 4 }, { "\xf4\x90\x80\x80", 4, 0 }, /* > U+10FFFF */
        { "\xf5\x80\x80\x80", 4, 0 }, { "\x80", 1, 0 }, { "\xff", 1, 0 },
        { "\xe2\x82", 2, 0 },       /* truncated */
        { "\xe2\x28\xa1", 3, 0 },   /* bad continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_MSG(utf8_seq_len((const unsigned char *)cases[i].s, cases[i].n) == cases[i].want,
                  "case %zu", i);
}

FERRY_TEST(json_escapes_controls_quotes_and_bad_bytes)
{
    ESC(esc_json, "plain/path.txt", "plain/path.txt");
    ESC(esc_json, "a\"b\\c", "a\\\"b\\\\c");
    ESC(esc_json, "\n\t\r\b\f", "\\n\\t\\r\\b\\f");
    ESC(esc_json, "\x01\x1f", "\\u0001\\u001f");
    ESC(esc_json, "\x7f", "\x7f");
    ESC(esc_json, "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
    ESC(esc_json, "x\xffy", "x\\udcffy");
    ESC(esc_json, "\xe2\x82", "\\udce2\\udc82");          /* truncated: bytewise */
    ESC(esc_json, "\xe2\xc3\xa9", "\\udce2\xc3\xa9");     /* the good part survives */
    ESC(esc_json, "\xed\xa0\x80", "\\udced\\udca0\\udc80"); /* an encoded surrogate */
    ESC(esc_json, "", "");
}

FERRY_TEST(csv_quotes_only_when_needed)
{
    ESC(esc_csv, "plain", "plain");
    ESC(esc_csv, "with space", "with space");
    ESC(esc_csv, "a,b", "\"a,b\"");
    ESC(esc_csv, "say \"hi\"", "\"say \"\"hi\"\"\"");
    ESC(esc_csv, "\"", "\"\"\"\"");
    ESC(esc_csv, "line\nbreak", "\"line\nbreak\"");
    ESC(esc_csv, "cr\r", "\"cr\r\"");
    ESC(esc_csv, "\xff", "\xff");
}

FERRY_TEST(text_is_unambiguous_and_terminal_safe)
{
    ESC(esc_text, "plain caf\xc3\xa9", "plain caf\xc3\xa9");
    ESC(esc_text, "a\\b", "a\\\\b");
    ESC(esc_text, "a\nb\tc\rd", "a\\nb\\tc\\rd");
    ESC(esc_text, "\x1b[31m", "\\x1b[31m");
    ESC(esc_text, "\x7f", "\\x7f");
    ESC(esc_text, "\xc2\x9b", "\\xc2\\x9b"); /* C1 CSI */
    ESC(esc_text, "\xff", "\\xff");
}

FERRY_TEST(sizes_parse_with_binary_suffixes)
{
    uint64_t v;
    CHECK(parse_size("0", &v) == 0 && v == 0);
    CHECK(parse_size("123", &v) == 0 && v == 123);
    CHECK(parse_size("4k", &v) == 0 && v == 4096);
    CHECK(parse_size("4K", &v) == 0 && v == 4096);
    CHECK(parse_size("3M", &v) == 0 && v == 3ull << 20);
    CHECK(parse_size("2G", &v) == 0 && v == 2ull << 30);
    CHECK(parse_size("1T", &v) == 0 && v == 1ull << 40);
    CHECK(parse_size("18446744073709551615", &v) == 0 && v == UINT64_MAX);
    const char *bad[] = { "", "abc", "-1", "+1", " 1", "1 ", "1KB", "1x", "18446744073709551616",
                          "16777216T", "k", NULL };
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(parse_size(bad[i], &v) == -1, "'%s' accepted", bad[i]);
    CHECK(parse_size(NULL, &v) == -1);
}

FERRY_TEST(empty_and_min_size_eligibility)
{
    struct options o = { .min_size = 1 };
    CHECK(!size_eligible(&o, 0) && size_eligible(&o, 1));
    o.empty = true;
    CHECK(size_eligible(&o, 0));
    o.min_size = 100;
    CHECK(size_eligible(&o, 0) && !size_eligible(&o, 99) && size_eligible(&o, 100));
    o.empty = false;
    o.min_size = 0;
    CHECK(!size_eligible(&o, 0) && size_eligible(&o, 1));
}

struct kv {
    uint64_t key;
    int value;
};

static uint64_t kv_hash(const void *e) { return hash_mix(((const struct kv *)e)->key); }
static bool kv_eq(const void *e, const void *k) { return ((const struct kv *)e)->key == *(const uint64_t *)k; }
/* A hash that puts everything in one probe chain. */
static uint64_t kv_bad_hash(const void *e) { (void)e; return 7; }

FERRY_TEST(table_finds_every_entry_through_growth)
{
    for (int bad = 0; bad < 2; bad++) {
        struct table t = { 0 };
        size_t n = bad ? 2000 : 100000;
        struct kv *kv = calloc(n, sizeof *kv);
        CHECK(kv);
        for (size_t i = 0; i < n; i++) {
            kv[i] = (struct kv){ .key = i * 2654435761u, .value = (int)i };
            uint64_t h = bad ? 7 : hash_mix(kv[i].key);
            CHECK(!table_find(&t, h, kv_eq, &kv[i].key));
            CHECK(table_add(&t, h, &kv[i], bad ? kv_bad_hash : kv_hash) == 0);
        }
        CHECK_EQ(t.len, n);
        CHECK((t.mask + 1) * 3 >= t.len * 4); /* at most 3/4 full */
        for (size_t i = 0; i < n; i++) {
            uint64_t h = bad ? 7 : hash_mix(kv[i].key);
            struct kv *e = table_find(&t, h, kv_eq, &kv[i].key);
            CHECK(e == &kv[i]);
        }
        uint64_t absent = 1;
        CHECK(!table_find(&t, bad ? 7 : hash_mix(absent), kv_eq, &absent));
        size_t seen = 0;
        for (size_t i = 0; i < table_slots(&t); i++)
            seen += t.slot[i] != NULL;
        CHECK_EQ(seen, n);
        table_free(&t);
        CHECK(table_slots(&t) == 0 && !table_find(&t, 1, kv_eq, &absent));
        free(kv);
    }
}

/* The set of directories listed, hit by several walkers at once: each
 * (dev, inode) is recorded by exactly one of the threads that add it, the
 * others are given that record, and every key is found at the end. */
#define DS_THREADS 4
#define DS_KEYS 20000 /* each thread adds every key, in its own order */

struct ds_arg {
    struct dirset *set;
    struct dir *dirs;  /* this thread's records: one per key */
    int self;
    size_t recorded, again, wrong;
};

static void *ds_thread(void *p)
{
    struct ds_arg *a = p;
    for (size_t j = 0; j < DS_KEYS; j++) {
        /* each thread its own order: some race for the same key, some not */
        size_t i = a->self % 2 ? DS_KEYS - 1 - j : (j * 7919) % DS_KEYS;
        const struct dir *first = NULL;
        int r = dirset_add(a->set, &a->dirs[i], &first);
        if (r == 0)
            a->recorded++;
        else if (r == 1 && first != &a->dirs[i] && first->dev == a->dirs[i].dev &&
                 first->ino == a->dirs[i].ino)
            a->again++;
        else
            a->wrong++;
    }
    return NULL;
}

FERRY_TEST(dir_set_records_each_directory_once_across_threads)
{
    static struct dirset set;
    dirset_init(&set);
    struct ds_arg args[DS_THREADS];
    pthread_t th[DS_THREADS];
    for (int t = 0; t < DS_THREADS; t++) {
        struct dir *d = calloc(DS_KEYS, sizeof *d);
        CHECK(d);
        for (size_t i = 0; i < DS_KEYS; i++) {
            d[i].dev = i % 3;     /* the same inode number on several devices */
            d[i].ino = i / 3 + 2;
        }
        args[t] = (struct ds_arg){ .set = &set, .dirs = d, .self = t };
    }
    for (int t = 0; t < DS_THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, ds_thread, &args[t]) == 0);
    size_t recorded = 0;
    for (int t = 0; t < DS_THREADS; t++) {
        CHECK(pthread_join(th[t], NULL) == 0);
        CHECK_EQ(args[t].wrong, 0);
        CHECK_EQ(args[t].recorded + args[t].again, (size_t)DS_KEYS);
        recorded += args[t].recorded;
    }
    CHECK_EQ(recorded, (size_t)DS_KEYS);
    CHECK_EQ(dirset_len(&set), (size_t)DS_KEYS);
    /* at most 3/4 full: at least 4/3 of a slot, 8 bytes each, per directory */
    CHECK(dirset_bytes(&set) * 3 >= (size_t)DS_KEYS * 4 * sizeof(void *));
    /* every key is there: a fresh record of it is given the one recorded */
    for (size_t i = 0; i < DS_KEYS; i++) {
        struct dir probe = { .dev = i % 3, .ino = i / 3 + 2 };
        const struct dir *first = NULL;
        CHECK(dirset_add(&set, &probe, &first) == 1);
        CHECK(first && first->dev == probe.dev && first->ino == probe.ino);
    }
    dirset_free(&set);
    for (int t = 0; t < DS_THREADS; t++)
        free(args[t].dirs);
}

FERRY_TEST(arena_aligns_and_keeps_everything)
{
    struct arena a = { 0 };
    char *prev[1000];
    for (int i = 0; i < 1000; i++) {
        size_t n = (size_t)(i % 37) + 1;
        prev[i] = arena_alloc(&a, n);
        CHECK(prev[i] && ((uintptr_t)prev[i] & 7) == 0);
        memset(prev[i], i & 0xff, n);
    }
    char *big = arena_alloc(&a, 3u << 20); /* larger than a chunk */
    CHECK(big);
    memset(big, 1, 3u << 20);
    char *after = arena_alloc(&a, 8); /* the current chunk goes on */
    CHECK(after);
    for (int i = 0; i < 1000; i++)
        CHECK(prev[i][0] == (char)(i & 0xff));
    CHECK(a.bytes >= (3u << 20));
    arena_free_all(&a);
    CHECK(a.bytes == 0 && !a.chunks);
}

/* A directory chain root/"sub"/"deeper" and a node "file" in it. */
struct chain {
    struct root root;
    struct dir *top, *sub, *deeper;
    struct node *n;
    struct arena a;
};

static struct dir *mkdirrec(struct arena *a, struct dir *parent, struct root *r, const char *name)
{
    size_t len = strlen(name);
    struct dir *d = arena_alloc(a, sizeof *d + len + 1);
    memset(d, 0, sizeof *d);
    d->parent = parent;
    d->root = r;
    d->namelen = (uint32_t)len;
    memcpy(d->name, name, len + 1);
    return d;
}

static struct node *mknode(struct arena *a, struct dir *dir, const char *name)
{
    size_t len = strlen(name);
    struct node *n = arena_alloc(a, sizeof *n + len + 1);
    memset(n, 0, sizeof *n);
    n->dir = dir;
    n->namelen = (uint32_t)len;
    memcpy(n->name, name, len + 1);
    return n;
}

static void chain_init(struct chain *c, const char *arg, const char *abs)
{
    memset(c, 0, sizeof *c);
    c->root.arg = arg;
    c->root.arglen = strlen(arg);
    c->root.abs = (char *)abs;
    c->root.abslen = strlen(abs);
    c->top = mkdirrec(&c->a, NULL, &c->root, "");
    c->sub = mkdirrec(&c->a, c->top, &c->root, "sub");
    c->deeper = mkdirrec(&c->a, c->sub, &c->root, "deeper");
    c->n = mknode(&c->a, c->deeper, "file");
}

static void check_path(const char *got, size_t len, const char *want)
{
    CHECK_MSG(got && len == strlen(want) && memcmp(got, want, len) == 0, "path '%.*s', want '%s'",
              (int)len, got ? got : "", want);
}

FERRY_TEST(paths_join_the_argument_and_the_chain)
{
    struct chain c;
    struct buf b = { 0 };
    size_t len = 0;
    chain_init(&c, "tree", "/abs/tree");
    const char *p = node_out_path(c.n, &b, &len);
    check_path(p, len, "tree/sub/deeper/file");
    p = node_rel_path(c.n, &b, &len);
    check_path(p, len, "sub/deeper/file");
    p = node_abs_path(c.n, &b, &len);
    check_path(p, len, "/abs/tree/sub/deeper/file");
    p = dir_rel_path(c.top, &b, &len);
    check_path(p, len, "");
    p = dir_out_path(c.sub, &b, &len);
    check_path(p, len, "tree/sub");
    struct node *top = mknode(&c.a, c.top, "x");
    p = node_out_path(top, &b, &len);
    check_path(p, len, "tree/x");
    p = node_rel_path(top, &b, &len);
    check_path(p, len, "x");
    arena_free_all(&c.a);

    chain_init(&c, "/", "/"); /* the root directory: no doubled slash */
    p = node_out_path(c.n, &b, &len);
    check_path(p, len, "/sub/deeper/file");
    p = node_abs_path(c.n, &b, &len);
    check_path(p, len, "/sub/deeper/file");
    arena_free_all(&c.a);

    chain_init(&c, "some/file.txt", "/abs/some/file.txt"); /* a file PATH */
    c.root.is_file = true;
    c.root.base = "file.txt";
    struct node *f = mknode(&c.a, c.top, "file.txt");
    p = node_out_path(f, &b, &len);
    check_path(p, len, "some/file.txt");
    p = node_rel_path(f, &b, &len);
    check_path(p, len, "file.txt");
    p = node_abs_path(f, &b, &len);
    check_path(p, len, "/abs/some/file.txt");
    arena_free_all(&c.a);
    buf_free(&b);
}

/* Every path below a directory spelled a (and below it spelled b) with
 * the name x: which sorts first (memcmp, then the shorter)? */
static int below_cmp(const char *a, const char *b, const char *x)
{
    char pa[64], pb[64];
    snprintf(pa, sizeof pa, "%s%s%s", a, strcmp(a, "/") ? "/" : "", x);
    snprintf(pb, sizeof pb, "%s%s%s", b, strcmp(b, "/") ? "/" : "", x);
    int c = strcmp(pa, pb); /* (strcmp compares as unsigned char) */
    return c < 0 ? -1 : c > 0;
}

FERRY_TEST(spelling_order_decides_every_path_below_or_says_mixed)
{
    static const char *sp[] = { "t", "./t", "t/sub", "./t/sub", "t/sub/.", "/", "/t", "..", "../t",
                                "t-", "t0", "t/-", "\xff", "t/\xff", "a b" };
    static const char *names[] = { "a", "-", ".", "0", "z", "\x01", "\xff", "\xff\xff", "sub/c", "-x/y" };
    size_t nsp = sizeof sp / sizeof sp[0], nn = sizeof names / sizeof names[0];
    for (size_t i = 0; i < nsp; i++)
        for (size_t j = 0; j < nsp; j++) {
            int o = spelling_order(sp[i], strlen(sp[i]), sp[j], strlen(sp[j]));
            CHECK_MSG(spelling_order(sp[j], strlen(sp[j]), sp[i], strlen(sp[i])) ==
                          (o == SPELLING_MIXED ? o : -o), "'%s' '%s': not symmetric", sp[i], sp[j]);
            CHECK_MSG((o == 0) == (i == j), "'%s' '%s': %d", sp[i], sp[j], o);
            bool lower = false, higher = false;
            for (size_t k = 0; k < nn; k++) {
                int c = below_cmp(sp[i], sp[j], names[k]);
                lower |= c < 0;
                higher |= c > 0;
                if (o != SPELLING_MIXED)
                    CHECK_MSG(c == o, "'%s' '%s' below '%s': %d, said %d", sp[i], sp[j], names[k], c, o);
            }
            if (o == SPELLING_MIXED)
                CHECK_MSG(lower && higher, "'%s' '%s': said mixed, but one always sorts first", sp[i], sp[j]);
        }
    CHECK(spelling_order("t", 1, "t", 1) == 0);
    CHECK(spelling_order("t", 1, "t/sub", 5) == SPELLING_MIXED);
    CHECK(spelling_order("/", 1, "/t", 2) == SPELLING_MIXED);
    CHECK(spelling_order("./t", 3, "t", 1) == -1);
}

FERRY_TEST(path_open_goes_beyond_path_max_and_never_through_symlinks)
{
    char tmpl[] = "/tmp/ferry-dupes-unit-XXXXXX";
    CHECK(mkdtemp(tmpl));
    int top = open(tmpl, O_PATH | O_DIRECTORY);
    CHECK(top >= 0);
    /* 30 levels of 200-byte names: 6000+ bytes */
    struct buf rel = { 0 };
    char name[201];
    memset(name, 'n', 200);
    name[200] = 0;
    int cur = dup(top);
    for (int i = 0; i < 30; i++) {
        name[0] = (char)('a' + i % 26);
        CHECK(mkdirat(cur, name, 0755) == 0);
        int next = openat(cur, name, O_PATH | O_DIRECTORY);
        CHECK(next >= 0);
        close(cur);
        cur = next;
        if (rel.len)
            buf_append(&rel, "/", 1);
        buf_append(&rel, name, 200);
    }
    int fd = openat(cur, "leaf", O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0 && write(fd, "leaf!", 5) == 5);
    close(fd);
    CHECK(symlinkat("leaf", cur, "link") == 0);
    close(cur);
    CHECK(rel.len > PATH_MAX);
    size_t dirlen = rel.len;
    buf_append(&rel, "/leaf", 5);
    fd = path_open(top, rel.p, rel.len, O_RDONLY);
    CHECK_MSG(fd >= 0, "path_open: %s", strerror(-fd));
    char got[8] = { 0 };
    CHECK(read(fd, got, sizeof got) == 5 && memcmp(got, "leaf!", 5) == 0);
    close(fd);
    fd = path_open(top, rel.p, dirlen, O_RDONLY | O_DIRECTORY); /* the directory itself */
    CHECK(fd >= 0);
    close(fd);
    rel.len = dirlen;
    buf_append(&rel, "/link", 5);
    CHECK_EQ(path_open(top, rel.p, rel.len, O_RDONLY), -ELOOP); /* a symlink at the end */
    /* a symlink on the way: top/"via" -> the first level */
    name[0] = 'a';
    CHECK(symlinkat(name, top, "via") == 0);
    struct buf via = { 0 };
    buf_append(&via, "via", 3);
    buf_append(&via, rel.p + 200, dirlen - 200);
    buf_append(&via, "/leaf", 5);
    CHECK_EQ(path_open(top, via.p, via.len, O_RDONLY), -ELOOP);
    CHECK_EQ(path_open(top, "via/x", 5, O_RDONLY), -ELOOP); /* short path too */
    CHECK_EQ(path_open(top, "missing", 7, O_RDONLY), -ENOENT);
    fd = path_open(top, "", 0, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    close(fd);
    close(top);
    buf_free(&rel);
    buf_free(&via);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    CHECK(system(cmd) == 0);
}

/* A group of n paths (in r's path arena), one node each. */
static struct group mkgroup(struct report *r, uint64_t size, const char **paths, size_t n,
                            struct node *nodes)
{
    struct group g = { .size = size, .n = n };
    g.m = calloc(n, sizeof *g.m);
    CHECK(g.m);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(paths[i]);
        g.m[i].path = arena_alloc(&r->paths, len + 1);
        CHECK(g.m[i].path);
        memcpy(g.m[i].path, paths[i], len + 1);
        g.m[i].len = len;
        g.m[i].node = &nodes[i];
    }
    return g;
}

FERRY_TEST(groups_sort_by_size_then_path_and_need_two_inodes)
{
    struct options o = { .min_size = 1 };
    struct node nodes[4];
    struct report r = { 0 };
    const char *a[] = { "z", "b\xff", "b" };
    const char *b[] = { "y", "x" };
    const char *c[] = { "a", "c" };
    struct group g = mkgroup(&r, 10, a, 3, nodes);
    CHECK(report_add(&r, &o, &g) == 0);
    g = mkgroup(&r, 1000, b, 2, nodes);
    CHECK(report_add(&r, &o, &g) == 0);
    g = mkgroup(&r, 10, c, 2, nodes);
    CHECK(report_add(&r, &o, &g) == 0);
    struct node same[2];
    g = mkgroup(&r, 10, c, 2, same); /* one inode, two paths */
    g.m[1].node = g.m[0].node;
    CHECK(report_add(&r, &o, &g) == 0); /* dropped: not --hardlinks */
    report_sort(&r);
    CHECK_EQ(r.n, 3);
    CHECK(r.g[0].size == 1000 && !strcmp(r.g[0].m[0].path, "x") && !strcmp(r.g[0].m[1].path, "y"));
    CHECK(r.g[1].size == 10 && !strcmp(r.g[1].m[0].path, "a"));
    CHECK(r.g[2].size == 10 && !strcmp(r.g[2].m[0].path, "b") && !strcmp(r.g[2].m[1].path, "b\xff") &&
          !strcmp(r.g[2].m[2].path, "z"));
    CHECK(group_wasted(&r.g[2]) == 20);
    o.hardlinks = true;
    g = mkgroup(&r, 10, c, 2, same);
    g.m[1].node = g.m[0].node;
    CHECK(report_add(&r, &o, &g) == 0);
    CHECK_EQ(r.n, 4);
    CHECK(group_wasted(&r.g[3]) == 0);
    report_free(&r);
}

/* Byte totals stop at UINT64_MAX instead of wrapping (satcount.h): two
 * sparse files near 2^63 bytes each, or one such file in a group of three,
 * must not print as a small number. */
FERRY_TEST(byte_totals_stop_at_the_top_instead_of_wrapping)
{
    const uint64_t big = (uint64_t)1 << 63;
    CHECK(sat_add(big, big - 1) == UINT64_MAX);
    CHECK(sat_add(big, big) == UINT64_MAX);
    CHECK(sat_add(UINT64_MAX, 1) == UINT64_MAX);
    CHECK(sat_add(5, 7) == 12);
    CHECK(sat_mul(big, 2) == UINT64_MAX);
    CHECK(sat_mul(big - 1, 2) == UINT64_MAX - 1);
    CHECK(sat_mul(0, UINT64_MAX) == 0);

    atomic_uint_fast64_t c = UINT64_MAX - 3;
    sat_add_atomic(&c, 2);
    CHECK(atomic_load(&c) == UINT64_MAX - 1);
    sat_add_atomic(&c, big);
    CHECK(atomic_load(&c) == UINT64_MAX);
    sat_add_atomic(&c, 1);
    CHECK(atomic_load(&c) == UINT64_MAX);

    struct group g = { .size = big + 5, .inodes = 3 }; /* 2 x (2^63 + 5) wraps to 10 */
    CHECK(group_wasted(&g) == UINT64_MAX);
    g.inodes = 2;
    CHECK(group_wasted(&g) == big + 5);

    char buf[32];
    CHECK_MSG(!strcmp(human_bytes(UINT64_MAX, buf, sizeof buf), ">= 16.0 EiB"), "%s", buf);
    CHECK_MSG(!strcmp(human_bytes(big, buf, sizeof buf), "8.00 EiB"), "%s", buf);
    CHECK_MSG(!strcmp(human_bytes((uint64_t)3 << 50, buf, sizeof buf), "3.00 PiB"), "%s", buf);
    CHECK_MSG(!strcmp(human_bytes(1023, buf, sizeof buf), "1023 B"), "%s", buf);
    CHECK_MSG(!strcmp(human_bytes(1536, buf, sizeof buf), "1.50 KiB"), "%s", buf);
}

/* A time not older than the tick of "now" (at its own granularity) is
 * racily clean: a write now could leave it as it is. */
FERRY_TEST(racily_clean_times_are_those_of_the_current_tick)
{
    const int64_t s = 1000000000;
    const int64_t now = 1700000005 * s + 300000000; /* xx5.3 s, an odd second */
    CHECK(time_racy(now, now));                 /* this very moment */
    CHECK(time_racy(now + 3600 * s, now));      /* later (the clock went back, or set) */
    CHECK(time_racy(now - 12345, now) == false); /* a nanosecond-stamped moment before */
    CHECK(!time_racy(now - 1, now));
    CHECK(time_racy(1700000005 * s, now));      /* whole seconds: this second */
    CHECK(time_racy(1700000004 * s, now));      /* whole even seconds (FAT): these two */
    CHECK(!time_racy(1700000003 * s, now));     /* an odd second before: 1 s granularity */
    CHECK(!time_racy(1700000002 * s, now));     /* the even seconds before */
    CHECK(time_racy(now - now % 10000000, now));     /* this 10 ms (exFAT) */
    CHECK(!time_racy(now - 10000000, now));
    CHECK(time_racy(now - 50, now) == false);   /* 100 ns granularity: the tick before */
    CHECK(time_racy(now - now % 100, now));
    CHECK(!time_racy(0, now));                  /* 1970 */
    CHECK(!time_racy(-5 * s, now));             /* before 1970, or past 2262 (wrapped) */
    CHECK(!time_racy(INT64_MIN, now));
    CHECK(time_racy(INT64_MAX, now));           /* 2262 */
    CHECK(time_racy(now - 1, 0));               /* no clock: everything */
}
