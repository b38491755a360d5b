/* SPDX-License-Identifier: MIT */
/* The output formats: text, json, csv, fdupes. */
#ifndef FERRY_DUPES_OUTPUT_H
#define FERRY_DUPES_OUTPUT_H

#include "report.h"

#include <stdio.h>

/* Print r in format fmt; hash_kind names the hash in text. */
void output_report(FILE *f, const struct report *r, enum format fmt, enum hash_kind kind);

#endif
