/* Lookup benchmark, linked with a table.c that tablegen emitted.
 *
 *     lookup [QUERIES]
 *
 * Times yt_find() on hits (every key, drawn in random order) and on misses (names that
 * are not keys), from query arrays made before the clock starts. Twice: on gen_table as
 * linked (the binary's read-only mapping) and on a copy of its arrays in anonymous
 * memory. Prints key=value figures in nanoseconds per lookup, best of 3 runs. */
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct query {
    const char *name;
    size_t len;
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);

    if (p == NULL) {
        perror("malloc");
        exit(2);
    }
    return p;
}

/* Best of 3 runs over all queries, in ns per lookup. *found counts answers != YT_NONE. */
static double
time_lookups(const struct yt_table *t, const struct query *q, size_t count, size_t *found)
{
    double best = 1e30;

    for (int run = 0; run < 3; run++) {
        size_t hits = 0;
        double t0 = now();

        for (size_t i = 0; i < count; i++)
            hits += yt_find(t, q[i].name, q[i].len) != YT_NONE;
        t0 = now() - t0;
        if (t0 < best)
            best = t0;
        *found = hits;
    }
    return best * 1e9 / (double)(count > 0 ? count : 1);
}

/* A copy of what a lookup reads, in fresh anonymous pages. */
static void *
anon_copy(const void *src, size_t len)
{
    void *p;

    if (len == 0)
        return NULL;
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    memcpy(p, src, len);
    return p;
}

int
main(int argc, char **argv)
{
    const struct yt_table *t = &gen_table;
    struct yt_table copy = gen_table;
    size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000, found_hit, found_miss;
    struct query *hit = xmalloc(count * sizeof(*hit)), *miss = xmalloc(count * sizeof(*miss));
    char *hit_names = xmalloc(count * (YT_NAME_MAX + 1)), *miss_names;
    size_t hit_len = 0, miss_len = 0;
    double rodata_hit, rodata_miss, anon_hit, anon_miss;

    if (t->key_count == 0) {
        fprintf(stderr, "lookup: empty table\n");
        return 2;
    }
    /* Keys 0, 1, ... round robin, then shuffled (Fisher-Yates); the names are copied out
     * of the table, as a request's name would be in a connection buffer. */
    for (size_t i = 0; i < count; i++)
        hit[i].name = (const char *)(uintptr_t)(i % t->key_count);
    for (size_t i = count; i > 1; i--) {
        size_t j = next_rand() % i;
        struct query x = hit[i - 1];

        hit[i - 1] = hit[j];
        hit[j] = x;
    }
    for (size_t i = 0; i < count; i++) {
        const struct yt_key *k = &t->keys[(uintptr_t)hit[i].name];

        memcpy(hit_names + hit_len, t->blob + k->off, k->len);
        hit[i].name = hit_names + hit_len;
        hit[i].len = k->len;
        hit_len += k->len;
    }
    miss_names = hit_names + hit_len;
    for (size_t i = 0; i < count; i++) {
        int n = sprintf(miss_names + miss_len, "nx%llu.miss-%u.example.invalid",
                        (unsigned long long)(next_rand() % 100000000), (unsigned)(i % 97));

        miss[i].name = miss_names + miss_len;
        miss[i].len = (size_t)n;
        miss_len += (size_t)n;
    }

    time_lookups(t, hit, count, &found_hit);        /* fault the table in */
    rodata_hit = time_lookups(t, hit, count, &found_hit);
    rodata_miss = time_lookups(t, miss, count, &found_miss);
    if (found_hit != count || found_miss != 0) {
        fprintf(stderr, "lookup: %zu of %zu hits found, %zu misses found\n", found_hit, count,
                found_miss);
        return 1;
    }
    copy.disp = anon_copy(t->disp, t->bucket_count * sizeof(*t->disp));
    copy.remap = anon_copy(t->remap, (t->slot_count - t->key_count) * sizeof(*t->remap));
    copy.keys = anon_copy(t->keys, t->key_count * sizeof(*t->keys));
    copy.blob = anon_copy(t->blob, t->blob_len);
    anon_hit = time_lookups(&copy, hit, count, &found_hit);
    anon_miss = time_lookups(&copy, miss, count, &found_miss);
    if (found_hit != count || found_miss != 0) {
        fprintf(stderr, "lookup: the copy disagrees\n");
        return 1;
    }
    printf("keys=%u queries=%zu hit_ns=%.1f miss_ns=%.1f anon_hit_ns=%.1f anon_miss_ns=%.1f\n",
           t->key_count, count, rodata_hit, rodata_miss, anon_hit, anon_miss);
    return 0;
}
