/* SPDX-License-Identifier: MIT */
/* Ctrl-C. The handler only counts and writes a byte to a pipe that the main
 * thread polls; the second SIGINT ends the process at once (_exit(130)):
 * the index stays sound, SQLite's WAL rolls back the open transaction. */
#ifndef FERRY_DUPES_SIGNALS_H
#define FERRY_DUPES_SIGNALS_H

/* Install the handler; returns the pipe's read end, or -1. Call before
 * starting threads, with signals_block() around the thread creation so
 * that only the main thread takes SIGINT. Also ignores SIGXFSZ, so that a
 * file size limit makes writes fail (EFBIG) instead of killing us. */
int signals_install(void);
/* Block SIGINT in the calling thread (threads created now inherit it);
 * signals_unblock undoes it. */
void signals_block(void);
void signals_unblock(void);
/* SIGINTs received so far. */
int signals_count(void);

#endif
