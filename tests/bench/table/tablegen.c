/* Builds the table of a generated site the way yardc will, and emits it as C.
 *
 *     tablegen DOMAINS OUT.c [CONFIG]
 *
 * DOMAINS has one name a line ("*.x.y" for a wildcard). Each name is a site; sites share
 * pools of two IPv6 servers, one pool per 100 sites. CONFIG, if given, is stored as the
 * configuration text with its SHA-256, as yardc stores the canonical text. Prints one
 * line of key=value figures: phash build and emit times, bytes per domain. */
#include "emit.h"
#include "phash.h"
#include "sha256.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct blob {
    char *data;
    size_t len, cap;
};

static void
die(const char *what)
{
    perror(what);
    exit(2);
}

static struct yt_str
blob_add(struct blob *b, const char *s, size_t len)
{
    struct yt_str r = { (uint32_t)b->len, (uint32_t)len };

    if (len > b->cap - b->len) {
        b->cap = (b->cap + len) * 2;
        b->data = realloc(b->data, b->cap);
        if (b->data == NULL)
            die("realloc");
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    return r;
}

static struct yt_str
blob_pool_name(struct blob *b, unsigned v)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "pool-%u", v);

    return blob_add(b, tmp, (size_t)n);
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        die(path);
    data = malloc((size_t)n + 1);
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n)
        die(path);
    fclose(f);
    *len = (size_t)n;
    return data;
}

int
main(int argc, char **argv)
{
    struct blob b = { 0 };
    struct yt_key *keys = NULL;
    struct yt_site *sites = NULL;
    struct yt_pool *pools;
    struct yt_server *servers;
    struct yt_listener listeners[2];
    struct yt_bind binds[3];
    struct yt_table t;
    struct phash ph;
    size_t dlen, count = 0, cap = 0;
    char *dom;
    uint32_t pool_count;
    double t0, t1, t2;

    if (argc < 3) {
        fprintf(stderr, "usage: tablegen DOMAINS OUT.c [CONFIG]\n");
        return 2;
    }
    dom = slurp(argv[1], &dlen);
    for (size_t i = 0; i < dlen;) {
        char *nl = memchr(dom + i, '\n', dlen - i);
        size_t len = nl != NULL ? (size_t)(nl - (dom + i)) : dlen - i;
        struct yt_str name = blob_add(&b, dom + i, len);
        bool wild = len > 1 && dom[i] == '*';

        if (count == cap) {
            cap = cap * 2 + 1024;
            keys = realloc(keys, cap * sizeof(*keys));
            sites = realloc(sites, cap * sizeof(*sites));
            if (keys == NULL || sites == NULL)
                die("realloc");
        }
        /* The key of "*.x.y" is ".x.y": the site's name without its star, same bytes. */
        keys[count] = (struct yt_key){
            .off = name.off + wild, .len = (uint16_t)(len - wild), .site = (uint32_t)count,
        };
        sites[count] = (struct yt_site){
            .name = name, .pool = { (uint32_t)(count / 100), YT_NONE },
        };
        count++;
        i += len + 1;
    }
    pool_count = (uint32_t)((count + 99) / 100);
    pools = calloc(pool_count + 1, sizeof(*pools));
    servers = calloc(2 * (size_t)pool_count + 1, sizeof(*servers));
    if (pools == NULL || servers == NULL)
        die("calloc");
    for (uint32_t p = 0; p < pool_count; p++) {
        pools[p] = (struct yt_pool){ .name = blob_pool_name(&b, p), .first = 2 * p,
                                     .count = 2 };
        for (uint32_t k = 0; k < 2; k++) {
            struct yt_server *s = &servers[2 * p + k];
            char text[64];

            s->addr.sin6_family = AF_INET6;
            s->addr.sin6_port = htons(443);
            snprintf(text, sizeof(text), "2001:db8:%x::%c", p, "ab"[k]);
            inet_pton(AF_INET6, text, &s->addr.sin6_addr);
            snprintf(text, sizeof(text), "[2001:db8:%x::%c]:443", p, "ab"[k]);
            s->name = blob_add(&b, text, strlen(text));
            s->weight = 1;
        }
    }
    memset(binds, 0, sizeof(binds));
    binds[0].addr.in6.sin6_family = AF_INET6;
    binds[0].addr.in6.sin6_port = htons(80);
    binds[1].addr.in6.sin6_family = AF_INET6;
    binds[1].addr.in6.sin6_port = htons(443);
    binds[2].addr.in4.sin_family = AF_INET;
    binds[2].addr.in4.sin_port = htons(8443);
    binds[2].addr.in4.sin_addr.s_addr = htonl(0x7f000001);
    listeners[0] = (struct yt_listener){ .name = blob_add(&b, "www", 3), .mode = YT_MODE_HTTP,
        .first_bind = 0, .bind_count = 1, .fallback_pool = YT_NONE, .fallback_status = 503,
        .max_head = 16384 };
    listeners[1] = (struct yt_listener){ .name = blob_add(&b, "www-tls", 7),
        .mode = YT_MODE_TLS, .first_bind = 1, .bind_count = 2, .fallback_pool = YT_NONE };

    t0 = now();
    if (phash_build(b.data, keys, (uint32_t)count, &ph) == -1)
        die("phash_build");
    t1 = now();
    memset(&t, 0, sizeof(t));
    t.abi = YT_ABI;
    t.seed = ph.seed;
    t.bucket_count = ph.bucket_count;
    t.slot_count = ph.slot_count;
    t.key_count = ph.key_count;
    t.disp = ph.disp;
    t.remap = ph.remap;
    t.keys = ph.keys;
    t.sites = sites;
    t.site_count = (uint32_t)count;
    t.pools = pools;
    t.pool_count = pool_count;
    t.servers = servers;
    t.server_count = 2 * pool_count;
    t.listeners = listeners;
    t.listener_count = 2;
    t.binds = binds;
    t.bind_count = 3;
    t.timeouts = (struct yt_timeouts){ 5000, 50000, 50000, 5000, 3600000, 10000, 2000 };
    t.global.workers = 1;
    t.global.maxconn = 10000;
    if (argc > 3) {
        size_t clen;
        char *config = slurp(argv[3], &clen);

        t.config = blob_add(&b, config, clen);
        sha256_hex(config, clen, t.digest);
        free(config);
    }
    t.blob = b.data;
    t.blob_len = b.len;
    if (emit_table_file(argv[2], &t, "site.yard") == -1)
        die(argv[2]);
    t2 = now();
    {
        double n = count > 0 ? (double)count : 1;
        size_t hash = (size_t)t.bucket_count * 2 + (size_t)(t.slot_count - t.key_count) * 4 +
                      (size_t)t.key_count * sizeof(struct yt_key);
        size_t rest = (size_t)count * sizeof(struct yt_site) +
                      (size_t)pool_count * sizeof(struct yt_pool) +
                      (size_t)t.server_count * sizeof(struct yt_server);

        /* hash_B: disp, remap and keys; total_B: every array and the blob, which holds
         * the names and config_B of configuration text. */
        printf("domains=%zu phash_ms=%.1f emit_s=%.3f hash_B=%.1f total_B=%.1f config_B=%.1f\n",
               count, (t1 - t0) * 1e3, t2 - t1, hash / n, (hash + rest + b.len) / n,
               t.config.len / n);
    }
    phash_free(&ph);
    free(dom);
    free(keys);
    free(sites);
    free(pools);
    free(servers);
    free(b.data);
    return 0;
}
