/* SPDX-License-Identifier: MIT */
/* Escaping file names for the output formats (escape.h). */
#include "escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;      /* no overlongs */
        else if (c == 0xed)
            hi = 0x9f;      /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;      /* no overlongs */
        else if (c == 0xf4)
            hi = 0x8f;      /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

static const char hex[] = "0123456789abcdef";

/* Copy s to f: runs of bytes that keep() accepts (it returns the length of
 * the sequence at p, 0 to escape its first byte) go out as they are; every
 * other byte goes through esc(). */
static void escape_runs(FILE *f, const char *s, size_t n, size_t (*keep)(const unsigned char *, size_t),
                        void (*esc)(FILE *, unsigned))
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* bytes [i - run, i) go out as they are */
    while (i < n) {
        size_t len = keep(p + i, n - i);
        if (len) {
            i += len;
            run += len;
            continue;
        }
        fwrite(p + i - run, 1, run, f);
        run = 0;
        esc(f, p[i++]);
    }
    fwrite(p + i - run, 1, run, f);
}

static size_t json_keep(const unsigned char *p, size_t n)
{
    return p[0] >= 0x20 && p[0] != '"' && p[0] != '\\' ? utf8_seq_len(p, n) : 0;
}

static void json_esc(FILE *f, unsigned c)
{
    switch (c) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\b': fputs("\\b", f); break;
    case '\f': fputs("\\f", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
        fprintf(f, c < 0x20 ? "\\u00%c%c" : "\\udc%c%c", hex[c >> 4], hex[c & 15]);
    }
}

void esc_json(FILE *f, const char *s, size_t n)
{
    escape_runs(f, s, n, json_keep, json_esc);
}

void esc_csv(FILE *f, const char *s, size_t n)
{
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        fwrite(s, 1, n, f);
        return;
    }
    putc('"', f);
    size_t from = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            fwrite(s + from, 1, i + 1 - from, f); /* through the quote ... */
            from = i;                              /* ... which goes out again */
        }
    fwrite(s + from, 1, n - from, f);
    putc('"', f);
}

static size_t text_keep(const unsigned char *p, size_t n)
{
    if (p[0] < 0x20 || p[0] == 0x7f || p[0] == '\\')
        return 0;
    size_t len = utf8_seq_len(p, n);
    return len == 2 && p[0] == 0xc2 && p[1] < 0xa0 ? 0 : len; /* C1 controls: escaped */
}

static void text_esc(FILE *f, unsigned c)
{
    if (c == '\\')
        fputs("\\\\", f);
    else if (c == '\t')
        fputs("\\t", f);
    else if (c == '\n')
        fputs("\\n", f);
    else if (c == '\r')
        fputs("\\r", f);
    else
        fprintf(f, "\\x%c%c", hex[c >> 4], hex[c & 15]);
}

void esc_text(FILE *f, const char *s, size_t n)
{
    escape_runs(f, s, n, text_keep, text_esc);
}

char *esc_text_dup(const char *s)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    if (!f)
        return NULL;
    esc_text(f, s, strlen(s));
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
