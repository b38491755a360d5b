/* SPDX-License-Identifier: MIT */
/* The groups to print, built from the matcher's table once every stage has
 * ended: paths bytewise sorted within a group, groups by size (largest
 * first, then by their first path). */
#ifndef FERRY_DUPES_REPORT_H
#define FERRY_DUPES_REPORT_H

#include "dupes.h"

struct member {
    char *path;          /* output path (in the report's arena) */
    size_t len;
    struct node *node;
};

struct group {
    uint64_t size;
    uint8_t hash[HASH_MAX];
    struct member *m;
    size_t n;            /* paths */
    size_t inodes;
};

struct report {
    struct group *g;
    size_t n, cap;
    bool partial;        /* interrupted: groups found so far */
    struct arena paths;  /* every member's path, exactly sized */
};

/* 0 or -ENOMEM. */
int report_build(struct dupes *d, struct report *r);
/* Add g if it qualifies (two inodes, or two paths with --hardlinks), its
 * members sorted. Takes ownership of g's member array (its paths belong to
 * r->paths). */
int report_add(struct report *r, const struct options *o, struct group *g);
void report_sort(struct report *r);
void report_free(struct report *r);

/* Wasted bytes of a group: size x (inodes - 1), at most UINT64_MAX. */
uint64_t group_wasted(const struct group *g);

#endif
