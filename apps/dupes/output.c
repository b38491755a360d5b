/* SPDX-License-Identifier: MIT */
/* Output formats (output.h).
 *
 * text    for people: a header per group ("3 files, 1234 bytes each"),
 *         then its paths indented, escaped for the terminal (escape.h);
 *         groups separated by a blank line. An interrupted run starts with
 *         "# partial results: interrupted".
 * json    [{"size": N, "hash": "HEX", "files": ["PATH", ...]}, ...] with
 *         one group per line; paths in JSON with surrogateescape for bytes
 *         that are not UTF-8. An interrupted run adds "partial": true to
 *         every group.
 * csv     RFC 4180: a header line, then group,size,hash,path per file.
 * fdupes  fdupes' format: paths as they are, one per line, each group
 *         followed by a blank line. */
#include "output.h"

#include "escape.h"
#include "hash.h"

#include <errno.h>

static void hex(FILE *f, const uint8_t *h, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        putc(digits[h[i] >> 4], f);
        putc(digits[h[i] & 15], f);
    }
}

static void text(FILE *f, const struct report *r, enum hash_kind kind)
{
    if (r->partial)
        fputs("# partial results: interrupted\n\n", f);
    for (size_t i = 0; i < r->n; i++) {
        const struct group *g = &r->g[i];
        if (i)
            putc('\n', f);
        fprintf(f, "%zu files, %llu bytes each (%s ", g->n, (unsigned long long)g->size,
                hash_name(kind));
        hex(f, g->hash, full_hash_len(kind));
        fputs(")\n", f);
        for (size_t j = 0; j < g->n; j++) {
            fputs("  ", f);
            esc_text(f, g->m[j].path, g->m[j].len);
            putc('\n', f);
        }
    }
}

static void json(FILE *f, const struct report *r, enum hash_kind kind)
{
    fputs("[", f);
    for (size_t i = 0; i < r->n; i++) {
        const struct group *g = &r->g[i];
        fprintf(f, "%s\n{\"size\": %llu, \"hash\": \"", i ? "," : "", (unsigned long long)g->size);
        hex(f, g->hash, full_hash_len(kind));
        fputs("\", ", f);
        if (r->partial)
            fputs("\"partial\": true, ", f);
        fputs("\"files\": [", f);
        for (size_t j = 0; j < g->n; j++) {
            fputs(j ? ", \"" : "\"", f);
            esc_json(f, g->m[j].path, g->m[j].len);
            putc('"', f);
        }
        fputs("]}", f);
    }
    fputs(r->n ? "\n]\n" : "]\n", f);
}

static void csv(FILE *f, const struct report *r, enum hash_kind kind)
{
    fputs("group,size,hash,path\r\n", f);
    for (size_t i = 0; i < r->n; i++) {
        const struct group *g = &r->g[i];
        for (size_t j = 0; j < g->n; j++) {
            fprintf(f, "%zu,%llu,", i + 1, (unsigned long long)g->size);
            hex(f, g->hash, full_hash_len(kind));
            putc(',', f);
            esc_csv(f, g->m[j].path, g->m[j].len);
            fputs("\r\n", f);
        }
    }
}

static void fdupes(FILE *f, const struct report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct group *g = &r->g[i];
        for (size_t j = 0; j < g->n; j++) {
            fwrite(g->m[j].path, 1, g->m[j].len, f);
            putc('\n', f);
        }
        putc('\n', f);
    }
}

int output_report(FILE *f, const struct report *r, enum format fmt, enum hash_kind kind)
{
    errno = 0;
    switch (fmt) {
    case FMT_TEXT: text(f, r, kind); break;
    case FMT_JSON: json(f, r, kind); break;
    case FMT_CSV: csv(f, r, kind); break;
    case FMT_FDUPES: fdupes(f, r); break;
    }
    /* A write that failed on the way set the stream's error flag (and
     * errno, which nothing since has touched); the flush catches the rest. */
    int err = fflush(f) == 0 ? 0 : errno;
    if (!err && ferror(f))
        err = errno ? errno : EIO;
    return err;
}
