/* SPDX-License-Identifier: MIT */
/* The output formats: text, json, csv, fdupes. */
#ifndef FERRY_DUPES_OUTPUT_H
#define FERRY_DUPES_OUTPUT_H

#include "report.h"

#include <stdio.h>

/* Print r in format fmt and flush f; hash_kind names the hash. 0, or the
 * errno of a write that failed (a full disk, a closed pipe with SIGPIPE
 * ignored, a standard output that was closed). */
int output_report(FILE *f, const struct report *r, enum format fmt, enum hash_kind kind);

#endif
