/* SPDX-License-Identifier: MIT */
/* The content hashes: XXH3-128 (libxxhash, the default) or BLAKE2b-256
 * (libb2, --hash blake2b). Digests are written in canonical byte order, so
 * the hex in the output is what `xxhsum -H2` and `b2sum -l 256` print. */
#ifndef FERRY_DUPES_HASH_H
#define FERRY_DUPES_HASH_H

#include "dupes.h"

#include <blake2.h>
#include <xxhash.h>

struct hasher {
    enum hash_kind kind;
    XXH3_state_t *x;
    blake2b_state b;
};

/* 0 or -ENOMEM. One hasher per thread. */
int hasher_init(struct hasher *h, enum hash_kind kind);
void hasher_fini(struct hasher *h);
void hasher_reset(struct hasher *h);
void hasher_update(struct hasher *h, const void *p, size_t n);
/* full_hash_len(kind) bytes into out; the rest of out's HASH_MAX bytes are 0. */
void hasher_digest(struct hasher *h, uint8_t out[HASH_MAX]);

const char *hash_name(enum hash_kind kind);

#endif
