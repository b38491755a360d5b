/* SPDX-License-Identifier: MIT */
/* Writing file names, which are any bytes but '/' and NUL, into text, JSON
 * and CSV so that nothing is lost and nothing breaks the format. */
#ifndef FERRY_DUPES_ESCAPE_H
#define FERRY_DUPES_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Length (1-4) of the well-formed UTF-8 sequence at p (n bytes available),
 * or 0 if p does not start one (Unicode table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF). n must be >= 1. */
size_t utf8_seq_len(const unsigned char *p, size_t n);

/* JSON string contents (without the quotes): '"', '\' and control
 * characters escaped, well-formed UTF-8 as is, and every other byte B as
 * \udcBB -- the "surrogateescape" convention, so the bytes can be recovered
 * (Python: s.encode("utf-8", "surrogateescape")). */
void esc_json(FILE *f, const char *s, size_t n);

/* One CSV field (RFC 4180): quoted, with '"' doubled, when it holds a comma,
 * a quote, CR or LF; the bytes otherwise as they are. */
void esc_csv(FILE *f, const char *s, size_t n);

/* For people (text output and messages): well-formed printable UTF-8 as is;
 * '\' as "\\"; TAB, LF, CR as \t \n \r; other control characters (C0, DEL,
 * C1) and bytes that are not UTF-8 as \xHH. Unambiguous, and safe on a
 * terminal. */
void esc_text(FILE *f, const char *s, size_t n);

/* esc_text() of the string s into a new string (free it), for messages
 * that name an argument; NULL when memory is exhausted. */
char *esc_text_dup(const char *s);

#endif
