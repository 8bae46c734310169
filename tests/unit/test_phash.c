/* The perfect hash: every key of sets of many sizes and shapes is found by yt_find() with
 * its site, chosen non-keys miss, and the result does not depend on the input order. */
#include "phash.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keyset {
    char *blob;
    size_t len, cap;
    struct yt_key *keys;
    uint32_t count, cap_keys;
};

static uint64_t rng_state;

static uint64_t
rng(void)
{
    /* splitmix64: reproducible from the seed each test sets. */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void
ks_add(struct keyset *ks, const char *name, size_t len)
{
    if (len > ks->cap - ks->len) {
        ks->cap = (ks->cap + len) * 2;
        ks->blob = realloc(ks->blob, ks->cap);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ks->blob);
    }
    if (ks->count == ks->cap_keys) {
        ks->cap_keys = ks->cap_keys * 2 + 16;
        ks->keys = realloc(ks->keys, ks->cap_keys * sizeof(*ks->keys));
        CU_ASSERT_PTR_NOT_NULL_FATAL(ks->keys);
    }
    memcpy(ks->blob + ks->len, name, len);
    /* Sites are a function of the name's index, and fp is garbage: phash must ignore it. */
    ks->keys[ks->count] = (struct yt_key){
        .off = (uint32_t)ks->len, .len = (uint16_t)len, .site = ks->count * 7 + 3,
        .fp = (uint16_t)rng(),
    };
    ks->len += len;
    ks->count++;
}

static void
ks_free(struct keyset *ks)
{
    free(ks->blob);
    free(ks->keys);
    memset(ks, 0, sizeof(*ks));
}

/* count distinct names like real ones; one in eight a wildcard key (leading dot). Names
 * carry their index, so they are distinct; none ends in ".miss.test". */
static void
ks_random(struct keyset *ks, uint32_t count, uint64_t seed)
{
    static const char *const words[] = { "shop", "api", "www", "mail", "cdn", "a", "b-c",
                                         "static", "x1", "eu-west-3", "internal", "svc" };
    static const char *const tlds[] = { "com", "net", "org", "io", "de", "example" };
    char name[300];

    rng_state = seed;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t r = rng();
        int n = snprintf(name, sizeof(name), "%s%s%u.%s.%s", r % 8 == 0 ? "." : "",
                         words[(r >> 8) % 12], i, words[(r >> 16) % 12], tlds[(r >> 24) % 6]);

        ks_add(ks, name, (size_t)n);
    }
}

static struct yt_table
table_of(const struct phash *p, const struct keyset *ks)
{
    return (struct yt_table){
        .seed = p->seed, .bucket_count = p->bucket_count, .slot_count = p->slot_count,
        .key_count = p->key_count, .disp = p->disp, .remap = p->remap, .keys = p->keys,
        .blob = ks->blob, .blob_len = ks->len,
    };
}

/* Every key hits with its own site; the shape of the hash is as documented. */
static void
check_all_hit(const struct phash *p, const struct keyset *ks)
{
    struct yt_table t = table_of(p, ks);
    uint32_t wrong = 0;

    CU_ASSERT_EQUAL(p->key_count, ks->count);
    CU_ASSERT(p->bucket_count >= 1);
    CU_ASSERT(p->slot_count >= p->key_count);
    CU_ASSERT(ks->count == 0 || p->slot_count <= ks->count + ks->count / 50 + 2);
    CU_ASSERT(p->slot_count == p->key_count || p->remap != NULL);
    for (uint32_t i = 0; i + p->key_count < p->slot_count; i++)
        CU_ASSERT_FATAL(p->remap[i] < p->key_count);
    for (uint32_t i = 0; i < ks->count; i++) {
        const struct yt_key *k = &ks->keys[i];

        wrong += yt_find(&t, ks->blob + k->off, k->len) != k->site;
    }
    CU_ASSERT_EQUAL(wrong, 0);
}

/* Whether yt_find() answered right for name: YT_NONE, or the site of the key that is
 * exactly name. Sites were given as index * 7 + 3, so by_site finds their keys. */
static bool
answer_ok(const struct keyset *ks, const struct yt_key *const *by_site, uint32_t site,
          const char *name, size_t len)
{
    const struct yt_key *k;

    if (site == YT_NONE)
        return true;
    if (site < 3 || (site - 3) % 7 != 0 || (site - 3) / 7 >= ks->count)
        return false;
    k = by_site[(site - 3) / 7];
    return k->len == len && memcmp(ks->blob + k->off, name, len) == 0;
}

/* count random names that are not keys miss; near misses of the keys (one byte more, the
 * first byte's case flipped) miss unless they are keys themselves. */
static void
check_misses(const struct phash *p, const struct keyset *ks, uint32_t count)
{
    struct yt_table t = table_of(p, ks);
    const struct yt_key **by_site = calloc(ks->count + 1, sizeof(*by_site));
    uint32_t found = 0, wrong = 0;
    char name[300];

    CU_ASSERT_PTR_NOT_NULL_FATAL(by_site);
    for (uint32_t i = 0; i < ks->count; i++)
        by_site[(ks->keys[i].site - 3) / 7] = &ks->keys[i];
    for (uint32_t i = 0; i < count; i++) {
        int n = snprintf(name, sizeof(name), "%s%llx.miss.test", i % 8 == 0 ? "." : "",
                         (unsigned long long)rng());

        found += yt_find(&t, name, (size_t)n) != YT_NONE;
    }
    for (uint32_t i = 0; i < ks->count && i < count; i++) {
        const struct yt_key *k = &ks->keys[i];
        size_t len = k->len;

        memcpy(name, ks->blob + k->off, len);
        name[len] = 'z';
        if (len + 1 <= YT_NAME_MAX + 1)
            wrong += !answer_ok(ks, by_site, yt_find(&t, name, len + 1), name, len + 1);
        name[0] ^= 0x20;
        wrong += !answer_ok(ks, by_site, yt_find(&t, name, len), name, len);
    }
    CU_ASSERT_EQUAL(found, 0);
    CU_ASSERT_EQUAL(wrong, 0);
    free(by_site);
}

static void
shuffle(struct keyset *ks)
{
    for (uint32_t i = ks->count; i > 1; i--) {
        uint32_t j = (uint32_t)(rng() % i);
        struct yt_key x = ks->keys[i - 1];

        ks->keys[i - 1] = ks->keys[j];
        ks->keys[j] = x;
    }
}

static bool
same_phash(const struct phash *a, const struct phash *b)
{
    return a->seed == b->seed && a->bucket_count == b->bucket_count &&
           a->slot_count == b->slot_count && a->key_count == b->key_count &&
           memcmp(a->disp, b->disp, a->bucket_count * sizeof(*a->disp)) == 0 &&
           (a->slot_count == a->key_count ||
            memcmp(a->remap, b->remap, (a->slot_count - a->key_count) * 4) == 0) &&
           (a->key_count == 0 || memcmp(a->keys, b->keys, a->key_count * sizeof(*a->keys)) == 0);
}

/* Builds, checks hits and misses, then rebuilds from the keys shuffled and compares. */
static void
check_set(struct keyset *ks, uint32_t misses)
{
    struct phash p, q;

    CU_ASSERT_EQUAL_FATAL(phash_build(ks->blob, ks->keys, ks->count, &p), 0);
    check_all_hit(&p, ks);
    check_misses(&p, ks, misses);
    shuffle(ks);
    CU_ASSERT_EQUAL_FATAL(phash_build(ks->blob, ks->keys, ks->count, &q), 0);
    CU_ASSERT(same_phash(&p, &q));
    phash_free(&p);
    phash_free(&q);
}

static void
check_random(uint32_t count, uint32_t misses)
{
    struct keyset ks = { 0 };

    ks_random(&ks, count, 0x1234 + count);
    check_set(&ks, misses);
    ks_free(&ks);
}

static void
test_phash_empty(void)
{
    struct keyset ks = { 0 };
    struct phash p;
    struct yt_table t;

    CU_ASSERT_EQUAL_FATAL(phash_build("", NULL, 0, &p), 0);
    CU_ASSERT_EQUAL(p.key_count, 0);
    CU_ASSERT_EQUAL(p.slot_count, 0);
    CU_ASSERT_EQUAL(p.bucket_count, 1);
    CU_ASSERT_PTR_NOT_NULL(p.disp);
    CU_ASSERT_PTR_NULL(p.keys);
    CU_ASSERT_PTR_NULL(p.remap);
    t = table_of(&p, &ks);
    t.blob = "";
    CU_ASSERT_EQUAL(yt_find(&t, "a", 1), YT_NONE);
    CU_ASSERT_EQUAL(yt_find(&t, ".example.com", 12), YT_NONE);
    phash_free(&p);
    phash_free(&p);                 /* zeroed by the first call */
    phash_free(NULL);
}

static void
test_phash_tiny(void)
{
    check_random(1, 1000);
    check_random(2, 1000);
    check_random(3, 1000);
}

static void
test_phash_100(void)
{
    check_random(100, 100000);
}

static void
test_phash_10k(void)
{
    check_random(10000, 100000);
}

static void
test_phash_1m(void)
{
    check_random(1000000, 100000);
}

/* Every size from 0 to 300: small tables are where off-by-ones in the sizing hide. */
static void
test_phash_every_small_size(void)
{
    for (uint32_t n = 0; n <= 300; n++) {
        struct keyset ks = { 0 };
        struct phash p;

        ks_random(&ks, n, n);
        CU_ASSERT_EQUAL_FATAL(phash_build(ks.blob, ks.keys, ks.count, &p), 0);
        check_all_hit(&p, &ks);
        phash_free(&p);
        ks_free(&ks);
    }
}

/* Names that differ in one place only, long shared prefixes, the longest names. */
static void
test_phash_adversarial(void)
{
    struct keyset ks = { 0 };
    char name[300];

    for (uint32_t i = 0; i < 1000000; i++) {
        int n = snprintf(name, sizeof(name), "a%u", i);

        ks_add(&ks, name, (size_t)n);
    }
    check_set(&ks, 100000);
    ks_free(&ks);

    memset(name, 'p', sizeof(name));
    for (uint32_t i = 0; i < 20000; i++) {
        /* 240 shared bytes, then the index: only the last 16-byte block differs. */
        int n = snprintf(name + 240, sizeof(name) - 240, "%u", i);

        ks_add(&ks, name, 240 + (size_t)n);
    }
    for (uint32_t i = 0; i < 5000; i++) {
        /* YT_NAME_MAX bytes, and a wildcard key one byte longer, differing at the front. */
        memset(name, 'q', YT_NAME_MAX + 1);
        snprintf(name, 8, "%07u", i);
        name[7] = 'q';
        ks_add(&ks, name, YT_NAME_MAX);
        name[0] = '.';
        snprintf(name + 1, 8, "%07u", i);
        name[8] = 'q';
        ks_add(&ks, name, YT_NAME_MAX + 1);
    }
    for (uint32_t i = 0; i < 256; i++) {
        /* One-byte and two-byte names, every byte value. */
        name[0] = (char)i;
        ks_add(&ks, name, 1);
        name[1] = (char)(255 - i);
        ks_add(&ks, name, 2);
    }
    check_set(&ks, 10000);
    ks_free(&ks);
}

static void
test_phash_refuses(void)
{
    struct keyset ks = { 0 };
    struct phash p;
    char longname[YT_NAME_MAX + 2];

    ks_random(&ks, 1000, 7);
    ks_add(&ks, ks.blob + ks.keys[500].off, ks.keys[500].len);     /* a duplicate name */
    errno = 0;
    CU_ASSERT_EQUAL(phash_build(ks.blob, ks.keys, ks.count, &p), -1);
    CU_ASSERT_EQUAL(errno, EINVAL);
    CU_ASSERT_PTR_NULL(p.disp);
    CU_ASSERT_PTR_NULL(p.keys);
    phash_free(&p);
    ks.count--;
    CU_ASSERT_EQUAL(phash_build(ks.blob, ks.keys, ks.count, &p), 0);
    phash_free(&p);

    ks.keys[3].len = 0;                                             /* never findable */
    errno = 0;
    CU_ASSERT_EQUAL(phash_build(ks.blob, ks.keys, ks.count, &p), -1);
    CU_ASSERT_EQUAL(errno, EINVAL);
    ks_free(&ks);

    memset(longname, 'l', sizeof(longname));
    ks_add(&ks, longname, sizeof(longname));                        /* 255 bytes */
    errno = 0;
    CU_ASSERT_EQUAL(phash_build(ks.blob, ks.keys, ks.count, &p), -1);
    CU_ASSERT_EQUAL(errno, EINVAL);
    ks_free(&ks);
}

/* The same names with other sites: sites follow their names, positions do not move. */
static void
test_phash_sites_follow_names(void)
{
    struct keyset ks = { 0 };
    struct phash p, q;

    ks_random(&ks, 5000, 99);
    CU_ASSERT_EQUAL_FATAL(phash_build(ks.blob, ks.keys, ks.count, &p), 0);
    for (uint32_t i = 0; i < ks.count; i++)
        ks.keys[i].site = ks.count - i;
    CU_ASSERT_EQUAL_FATAL(phash_build(ks.blob, ks.keys, ks.count, &q), 0);
    check_all_hit(&q, &ks);
    CU_ASSERT_EQUAL(p.seed, q.seed);
    CU_ASSERT_EQUAL(memcmp(p.disp, q.disp, p.bucket_count * sizeof(*p.disp)), 0);
    for (uint32_t i = 0; i < p.key_count; i++)
        CU_ASSERT_FATAL(p.keys[i].off == q.keys[i].off && p.keys[i].fp == q.keys[i].fp);
    phash_free(&p);
    phash_free(&q);
    ks_free(&ks);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "empty", test_phash_empty },
        { "1, 2, 3 keys", test_phash_tiny },
        { "100 keys", test_phash_100 },
        { "10k keys", test_phash_10k },
        { "1M keys", test_phash_1m },
        { "every size 0..300", test_phash_every_small_size },
        { "adversarial names", test_phash_adversarial },
        { "refuses duplicates and unfindable keys", test_phash_refuses },
        { "sites follow names", test_phash_sites_follow_names },
    };

    return UNIT_RUN("phash", tests);
}
