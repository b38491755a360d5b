/* SPDX-License-Identifier: MIT */
/* Command line of ferry-dupes. */
#ifndef FERRY_DUPES_OPTS_H
#define FERRY_DUPES_OPTS_H

#include "dupes.h"

/* Parse argv into o. Returns -1 to go on, or an exit status: 0 after
 * --help / --version, 2 after a message about bad usage. o->db is
 * allocated (the default location unless --db or --no-db). */
int opts_parse(struct options *o, int argc, char **argv);
void opts_free(struct options *o);

/* "123", "4k", "1M", "2G", "1T" (binary units) into *out: 0, or -1. */
int parse_size(const char *s, uint64_t *out);

/* The default index: $XDG_CACHE_HOME/ferry-dupes/index.db, else
 * ~/.cache/ferry-dupes/index.db, without a doubled slash where the
 * variable ends in one (allocated; NULL with errno ENOENT if there is no
 * home, ENOMEM).
 * *keep: the length of its leading part that must exist already (the
 * directories after it are made when missing: all of them below "/" for
 * $XDG_CACHE_HOME, .cache and ferry-dupes in a home). */
char *default_db_path(size_t *keep);

#endif
