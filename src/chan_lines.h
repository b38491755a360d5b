/* SPDX-License-Identifier: MIT */
/* One line a handoff: the shape of an inline layout, where each cache line
 * holds a group of slots -- their one-byte states first, then their items
 * -- so that publishing an item and the check that sees it touch one line,
 * not a line of states and a line of items. The bounded ring
 * (chan_lfring.h, "Layout") and the block list's inline blocks
 * (chan_lflist.h, "Layout") both use it; docs/performance.md, "One line a
 * handoff" and "The bounded ring inline", measures why.
 *
 * A line of `grp` slots: grp state bytes, rounded up to 8 or 16 (`hdr`)
 * so that the items after them stay aligned (below), then grp items. grp is the
 * largest that fits 64 bytes: 32 one-byte items, 7 of 8 bytes, 1 of 29 to
 * 56; items over FERRY__LINES_MAX_ELEM bytes do not fit a line.
 *
 * Slot i lies in line i / grp, found without a division: i * mul >>
 * FERRY__LINES_MUL_SHIFT with mul = ceil(2^SHIFT / grp). That is exact for
 * every i below 2^28 (the ring's largest capacity): with e = mul * grp -
 * 2^SHIFT <= grp - 1 <= 31, the result is floor(i / grp) whenever i * e <
 * 2^SHIFT, and 31 * 2^28 < 2^34. Tests check it for every group size.
 *
 * Nothing here touches shared memory.
 */
#ifndef FERRY_SRC_CHAN_LINES_H
#define FERRY_SRC_CHAN_LINES_H

#include <ferry/common.h>

#include <stddef.h>
#include <stdint.h>

#define FERRY__LINES_MAX_ELEM ((size_t)FERRY_CACHELINE - 8)
#define FERRY__LINES_MUL_SHIFT 34

/* Slots a line for items of e bytes (1 <= e <= MAX_ELEM), as a constant
 * expression: the most over the header sizes h = 8, 16, 24, 32 of
 * min((64 - h) / e, h) -- as many items as fit after h bytes, and no more
 * bytes than h holds. The items' offset: the header, grp rounded up to 8,
 * or to 16 for items of a multiple of 16 bytes, so that every item keeps
 * the alignment it has in a packed array, up to 16 (a drop callback may
 * read a 16-byte item as __int128 or an SSE vector). That never costs a
 * slot: grp is the same with a header of 16 for those sizes (3 of 16
 * bytes, one of 32 or 48). */
#define FERRY__LINES_AT_(e, h) ((FERRY_CACHELINE - (h)) / (e) < (h) ? (FERRY_CACHELINE - (h)) / (e) : (size_t)(h))
#define FERRY__LINES_MAX_(a, b) ((a) > (b) ? (a) : (b))
#define FERRY__LINES_GRP(e)                                                                                           \
    FERRY__LINES_MAX_(FERRY__LINES_MAX_(FERRY__LINES_AT_(e, 8), FERRY__LINES_AT_(e, 16)),                            \
                      FERRY__LINES_MAX_(FERRY__LINES_AT_(e, 24), FERRY__LINES_AT_(e, 32)))
#define FERRY__LINES_HDR_UNIT_(e) ((e) % 16 == 0 ? (size_t)16 : (size_t)8)
#define FERRY__LINES_HDR(e)                                                                                           \
    ((FERRY__LINES_GRP(e) + FERRY__LINES_HDR_UNIT_(e) - 1) / FERRY__LINES_HDR_UNIT_(e) * FERRY__LINES_HDR_UNIT_(e))

/* The group shape for items of elem bytes: slots a line (0: the items do
 * not fit a line), and *hdr (the items' offset in a line) and *mul (the
 * reciprocal) when they do. */
static inline size_t ferry__lines_shape(size_t elem, size_t *hdr, uint64_t *mul)
{
    size_t grp = elem >= 1 && elem <= FERRY__LINES_MAX_ELEM ? FERRY__LINES_GRP(elem) : 0;
    if (grp > 0) {
        *hdr = FERRY__LINES_HDR(elem);
        *mul = ((uint64_t)1 << FERRY__LINES_MUL_SHIFT) / grp + (((uint64_t)1 << FERRY__LINES_MUL_SHIFT) % grp != 0);
    }
    return grp;
}

/* The line of slot i (i < 2^28): i / grp, for mul = ceil(2^SHIFT / grp). */
static inline size_t ferry__lines_div(uint64_t mul, size_t i)
{
    return (size_t)(((uint64_t)i * mul) >> FERRY__LINES_MUL_SHIFT);
}

#endif /* FERRY_SRC_CHAN_LINES_H */
