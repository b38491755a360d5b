/* SPDX-License-Identifier: MIT */
/* ferry__die_at: report misuse and abort (docs/design.md, "Principles"). */
#include <ferry/common.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt_block.h"

void ferry__die_at(const char *file, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Misuse inside a real-time section: the message, not the checker's
     * report of the fprintf below, is what the user must see. */
    ferry__rt_leave_all();
    /* One write, so that the line is not interleaved with other threads. */
    fprintf(stderr, "ferry: %s:%d: %s\n", file, line, msg);
    fflush(stderr);
    abort();
}
