/* The minimal perfect hash over a table's domain keys (PTHash-style hash and displace).
 *
 * The lookup side is yt_find() in runtime/table.h: a key hashes with yt_hash(name, len,
 * seed) to bucket yt_bucket(h, bucket_count); its bucket's displacement picks the slot
 * yt_slot(h, disp[b], slot_count); slots past key_count are sent back below it by
 * remap[]. phash_build() chooses seed, disp[] and remap[] so that every key gets its own
 * position in keys[0 .. key_count). */
#ifndef COMPILER_PHASH_H
#define COMPILER_PHASH_H

#include <stdint.h>

#include "table.h"

struct phash {
    uint64_t seed;
    uint32_t bucket_count, slot_count, key_count;
    uint16_t *disp;                 /* bucket_count displacements */
    uint32_t *remap;                /* slot_count - key_count entries, NULL when none */
    struct yt_key *keys;            /* key_count keys in position order, fp set */
};

/* Builds a minimal perfect hash over the keys in[0 .. count): off, len and site are used,
 * fp is ignored; names are blob[off .. off + len). Borrows blob and in; the names must be
 * distinct (the caller checks). On success returns 0 and fills *out, which the caller owns
 * and releases with phash_free(). On failure returns -1 with errno ENOMEM, or EINVAL when
 * no seed of the fixed sequence worked, two names are equal, or a len is 0 or above
 * YT_NAME_MAX + 1 (yt_find() could never find it); *out is left zeroed.
 *
 * Deterministic: the result depends only on the set of (name, site) pairs, never on the
 * order of in[]. count 0 gives bucket_count 1 (one zero displacement), slot_count 0 and no
 * keys; yt_find() answers YT_NONE without reading them. */
int phash_build(const char *blob, const struct yt_key *in, uint32_t count, struct phash *out);

/* Frees what phash_build() filled in and zeroes *p; accepts a zeroed struct or NULL. */
void phash_free(struct phash *p);

#endif
