/* Hash and displace, PTHash style (Pibiri and Trani, SIGIR 2021), over a uniform bucket
 * map.
 *
 * Keys fall into about count / 3.5 buckets by the high half of their hash. Buckets
 * are placed largest first into slot_count ~= count / 0.99 slots: each takes the smallest
 * 16-bit displacement that sends all its keys to free, distinct slots. Big buckets go
 * first while the table is empty; the many single-key buckets fill the last free slots,
 * where one key needs about slot_count / free tries. The few keys that land at or past
 * count are moved into the holes left below count through remap[], so keys[] has no
 * empty entry (minimal).
 *
 * Order independence: keys are grouped by bucket with a counting sort and ordered by hash
 * inside a bucket; buckets go by size, then by index; displacements and the remap walk
 * go in increasing order. No step looks at the order of the input, and two keys with the
 * same 64-bit hash make the seed fail, so the result is a function of the set of keys. */
#include "phash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PH_SEED0 0x7377697463687964ull     /* first seed: "switchyd" */
#define PH_SEED_STEP 0x9e3779b97f4a7c15ull /* next seed: plus the golden ratio, as splitmix64 */
#define PH_SEED_TRIES 64
#define PH_DISP_MAX 65535u
/* 3.5 keys per bucket and one spare slot per 99 keys (load ~0.99). Measured at 1M / 10M
 * keys: 3.5 builds in 0.22 s / 2.7 s, largest displacement 4647 / 6481; 5 keys per
 * bucket already needs displacements near 65535, 6 fails every seed. */
#define PH_LAMBDA10 35u                     /* keys per bucket, in tenths */
#define PH_SPARE 99u

struct item {
    uint64_t h;
    uint32_t key;                           /* index into in[] */
    uint32_t slot;
};

struct work {
    const char *blob;
    const struct yt_key *in;
    uint32_t n, bucket_count, slot_count;
    uint64_t *hash;                         /* n, in input order */
    struct item *items;                     /* n, grouped by bucket, by hash inside one */
    uint32_t *start;                        /* bucket_count + 1: bucket b is items[start[b] ..) */
    uint32_t *order;                        /* bucket_count: placement order */
    uint32_t *size_count;                   /* n + 2: buckets per size, for the order */
    uint64_t *taken;                        /* slot bitmap */
    uint16_t *disp;
};

static int
cmp_item_hash(const void *a, const void *b)
{
    uint64_t x = ((const struct item *)a)->h, y = ((const struct item *)b)->h;

    return (x > y) - (x < y);
}

static void
sort_bucket(struct item *it, uint32_t count)
{
    if (count > 16) {
        qsort(it, count, sizeof(*it), cmp_item_hash);
        return;
    }
    for (uint32_t i = 1; i < count; i++) {
        struct item x = it[i];
        uint32_t j = i;

        for (; j > 0 && it[j - 1].h > x.h; j--)
            it[j] = it[j - 1];
        it[j] = x;
    }
}

static bool
same_name(const struct work *w, uint32_t a, uint32_t b)
{
    const struct yt_key *x = &w->in[a], *y = &w->in[b];

    return x->len == y->len && memcmp(w->blob + x->off, w->blob + y->off, x->len) == 0;
}

/* Hashes every key under seed, groups the items by bucket and orders the buckets for
 * placement. Returns 0, 1 when two keys share a hash (try another seed), or -1 with
 * EINVAL when they share a name. */
static int
distribute(struct work *w, uint64_t seed)
{
    uint32_t *start = w->start, bc = w->bucket_count, max_size = 0;

    memset(start, 0, ((size_t)bc + 1) * sizeof(*start));
    for (uint32_t i = 0; i < w->n; i++) {
        uint64_t h = yt_hash(w->blob + w->in[i].off, w->in[i].len, seed);

        w->hash[i] = h;
        start[yt_bucket(h, bc) + 1]++;
    }
    for (uint32_t b = 0; b < bc; b++)
        start[b + 1] += start[b];
    /* order[] serves as the fill cursor per bucket here; it is rebuilt below. */
    memcpy(w->order, start, (size_t)bc * sizeof(*start));
    for (uint32_t i = 0; i < w->n; i++) {
        uint64_t h = w->hash[i];
        struct item *it = &w->items[w->order[yt_bucket(h, bc)]++];

        it->h = h;
        it->key = i;
    }
    for (uint32_t b = 0; b < bc; b++) {
        struct item *it = &w->items[start[b]];
        uint32_t size = start[b + 1] - start[b];

        sort_bucket(it, size);
        for (uint32_t k = 1; k < size; k++) {
            if (it[k].h != it[k - 1].h)
                continue;
            if (same_name(w, it[k].key, it[k - 1].key)) {
                errno = EINVAL;
                return -1;
            }
            return 1;
        }
        if (size > max_size)
            max_size = size;
    }
    /* Counting sort of the buckets by size, largest first, by index within a size. */
    memset(w->size_count, 0, ((size_t)max_size + 2) * sizeof(*w->size_count));
    for (uint32_t b = 0; b < bc; b++)
        w->size_count[max_size - (start[b + 1] - start[b]) + 1]++;
    for (uint32_t s = 0; s <= max_size; s++)
        w->size_count[s + 1] += w->size_count[s];
    for (uint32_t b = 0; b < bc; b++)
        w->order[w->size_count[max_size - (start[b + 1] - start[b])]++] = b;
    return 0;
}

static bool
is_taken(const uint64_t *taken, uint32_t slot)
{
    return (taken[slot >> 6] >> (slot & 63)) & 1;
}

/* Finds the smallest displacement that puts every key of the bucket in a free slot of its
 * own, and takes those slots. Returns false when none of the 65536 does. */
static bool
place_bucket(struct work *w, struct item *it, uint32_t size, uint16_t *disp)
{
    for (uint32_t d = 0; d <= PH_DISP_MAX; d++) {
        uint32_t k;

        for (k = 0; k < size; k++) {
            uint32_t slot = yt_slot(it[k].h, (uint16_t)d, w->slot_count);
            uint32_t j;

            if (is_taken(w->taken, slot))
                break;
            for (j = 0; j < k && it[j].slot != slot; j++)
                ;
            if (j < k)
                break;
            it[k].slot = slot;
        }
        if (k == size) {
            for (k = 0; k < size; k++)
                w->taken[it[k].slot >> 6] |= 1ull << (it[k].slot & 63);
            *disp = (uint16_t)d;
            return true;
        }
    }
    return false;
}

/* Places all buckets under the current distribution. Returns false if one cannot be. */
static bool
place_all(struct work *w)
{
    memset(w->taken, 0, (((size_t)w->slot_count + 63) / 64) * sizeof(*w->taken));
    for (uint32_t i = 0; i < w->bucket_count; i++) {
        uint32_t b = w->order[i], size = w->start[b + 1] - w->start[b];

        if (size == 0) {
            /* Sizes are in decreasing order: the rest are empty too. */
            for (; i < w->bucket_count; i++)
                w->disp[w->order[i]] = 0;
            break;
        }
        if (!place_bucket(w, &w->items[w->start[b]], size, &w->disp[b]))
            return false;
    }
    return true;
}

/* Sends every key at a slot >= n to a free slot below n, both walked in increasing
 * order, and writes the keys in position order. Slots >= n without a key map to 0: a
 * probe there finds a key whose fingerprint or name differs. */
static void
finish(struct work *w, struct phash *out)
{
    uint32_t n = w->n, hole = 0;

    for (uint32_t s = n; s < w->slot_count; s++) {
        if (!is_taken(w->taken, s)) {
            out->remap[s - n] = 0;
            continue;
        }
        while (is_taken(w->taken, hole))
            hole++;
        out->remap[s - n] = hole++;
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct item *it = &w->items[i];
        const struct yt_key *src = &w->in[it->key];
        uint32_t pos = it->slot < n ? it->slot : out->remap[it->slot - n];

        out->keys[pos] = (struct yt_key){
            .off = src->off, .site = src->site, .len = src->len, .fp = yt_fp(it->h),
        };
    }
}

static void
work_free(struct work *w)
{
    free(w->hash);
    free(w->items);
    free(w->start);
    free(w->order);
    free(w->size_count);
    free(w->taken);
}

int
phash_build(const char *blob, const struct yt_key *in, uint32_t count, struct phash *out)
{
    struct work w = { .blob = blob, .in = in, .n = count };
    uint64_t seed = PH_SEED0;
    int rc = -1, err = EINVAL;

    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < count; i++) {
        /* yt_find() could never find these: refuse them rather than build a dead entry. */
        if (in[i].len == 0 || in[i].len > YT_NAME_MAX + 1) {
            errno = EINVAL;
            return -1;
        }
    }
    w.bucket_count = (uint32_t)(((uint64_t)count * 10 + PH_LAMBDA10 - 1) / PH_LAMBDA10);
    if (w.bucket_count == 0)
        w.bucket_count = 1;
    w.slot_count = count == 0 ? 0 : count + count / PH_SPARE + 1;
    if (w.slot_count < count) {
        errno = EINVAL;
        return -1;
    }
    out->disp = calloc(w.bucket_count, sizeof(*out->disp));
    w.disp = out->disp;
    if (count == 0) {
        if (out->disp == NULL) {
            errno = ENOMEM;
            return -1;
        }
        out->seed = PH_SEED0;
        out->bucket_count = 1;
        return 0;
    }
    if (w.slot_count > count)
        out->remap = malloc((size_t)(w.slot_count - count) * sizeof(*out->remap));
    out->keys = malloc((size_t)count * sizeof(*out->keys));
    w.hash = malloc((size_t)count * sizeof(*w.hash));
    w.items = malloc((size_t)count * sizeof(*w.items));
    w.start = malloc(((size_t)w.bucket_count + 1) * sizeof(*w.start));
    w.order = malloc((size_t)w.bucket_count * sizeof(*w.order));
    w.size_count = malloc(((size_t)count + 2) * sizeof(*w.size_count));
    w.taken = malloc((((size_t)w.slot_count + 63) / 64) * sizeof(*w.taken));
    if (out->disp == NULL || (w.slot_count > count && out->remap == NULL) ||
        out->keys == NULL || w.hash == NULL || w.items == NULL || w.start == NULL ||
        w.order == NULL || w.size_count == NULL || w.taken == NULL) {
        err = ENOMEM;
        goto done;
    }
    for (int t = 0; t < PH_SEED_TRIES; t++, seed += PH_SEED_STEP) {
        int r = distribute(&w, seed);

        if (r < 0) {
            err = errno;
            goto done;
        }
        if (r == 0 && place_all(&w)) {
            out->seed = seed;
            out->bucket_count = w.bucket_count;
            out->slot_count = w.slot_count;
            out->key_count = count;
            finish(&w, out);
            rc = 0;
            goto done;
        }
    }
done:
    work_free(&w);
    if (rc != 0) {
        phash_free(out);
        errno = err;
    }
    return rc;
}

void
phash_free(struct phash *p)
{
    if (p == NULL)
        return;
    free(p->disp);
    free(p->remap);
    free(p->keys);
    memset(p, 0, sizeof(*p));
}
