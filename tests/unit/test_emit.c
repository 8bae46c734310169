/* The C emitter: output (the C file and its blob) is byte-identical for the same table and
 * independent of the key input order, and the emitted files, compiled with $CC (or cc),
 * are the table: a small program linked with them checks gen_table field by field, its
 * arrays byte for byte, yt_resolve() answers and the canonical text; a data object that
 * is not the C file's own does not link. */
#include "emit.h"
#include "phash.h"
#include "sha256.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Kept with odd bytes: quotes, a trigraph, a comment end, a tab, a CR, bytes >= 0x80. */
static const char config_text[] =
    "# switchyard test ?\?= \"quoted\" */ /* \\ \t tab\r\n"
    "site shop.example.com { tls [2001:db8::1]:443; }\n\xff\xfe\x80 end?\?/\n";
static const char config_tail[] = "\nexpect www-tls shop.example.com -> pool shop;\n";
/* What yt_print_config() makes of the fixture: config_text, its sites, config_tail. */
static const char config_sites[] =
    "site shop.example.com {\n"
    "    http [2001:db8::1]:80;\n"
    "    tls [2001:db8::1]:443, [2001:db8::2]:443 weight 256 send-proxy;\n"
    "    acme;\n"
    "}\n"
    "site *.apps.example.com {  tls apps; }\n"
    "site api.example.com {\n"
    "    http [2001:db8::1]:80;\n"
    "    forwarded-for;\n"
    "}\n";

struct fixture {
    char blob[4096];
    size_t len;
    struct yt_key keys[8];
    struct yt_site sites[3];
    struct yt_pool pools[4];
    struct yt_server servers[6];
    struct yt_listener listeners[4];
    struct yt_bind binds[4];
    struct yt_log logs[2];
    struct yt_errpage errors[2];
    struct phash ph;
    struct yt_table t;
    uint32_t all_bytes_off;             /* blob[all_bytes_off + i] == i, i < 256 */
};

static char tmpdir[] = "/tmp/test_emit.XXXXXX";

static struct yt_str
add(struct fixture *fx, const void *s, size_t len)
{
    struct yt_str r = { (uint32_t)fx->len, (uint32_t)len };

    CU_ASSERT_FATAL(len <= sizeof(fx->blob) - fx->len);
    memcpy(fx->blob + fx->len, s, len);
    fx->len += len;
    return r;
}

static struct yt_str
adds(struct fixture *fx, const char *s)
{
    return add(fx, s, strlen(s));
}

static struct sockaddr_in6
in6(const char *ip, uint16_t port)
{
    struct sockaddr_in6 a;

    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    CU_ASSERT_FATAL(inet_pton(AF_INET6, ip, &a.sin6_addr) == 1);
    return a;
}

static void
server(struct fixture *fx, uint32_t i, const char *ip, uint16_t port, uint16_t weight,
       uint16_t flags)
{
    char name[64];

    snprintf(name, sizeof(name), "[%s]:%u", ip, port);
    fx->servers[i] = (struct yt_server){ .addr = in6(ip, port), .name = adds(fx, name),
                                         .weight = weight, .flags = flags };
}

/* The table of the compile test. With shuffle, the keys reach phash_build() in another
 * order, which must not change a byte of the output. */
static void
fixture_build(struct fixture *fx, bool shuffle)
{
    static const char *const names[3] = { "shop.example.com", "*.apps.example.com",
                                          "api.example.com" };
    struct yt_key in[3];
    unsigned char all[256];

    memset(fx, 0, sizeof(*fx));
    for (int i = 0; i < 3; i++) {
        struct yt_str s = adds(fx, names[i]);
        bool wild = names[i][0] == '*';

        in[i] = (struct yt_key){ .off = s.off + wild, .len = (uint16_t)(s.len - wild),
                                 .site = (uint32_t)i };
        fx->sites[i].name = s;
    }
    for (int i = 0; i < 3; i++)
        fx->sites[i].pool[YT_PROTO_QUIC] = YT_NONE;
    fx->sites[0].pool[YT_PROTO_TLS] = 0;
    fx->sites[0].pool[YT_PROTO_HTTP] = 1;
    fx->sites[0].flags = YT_SITE_ACME;
    fx->sites[1].pool[YT_PROTO_TLS] = 2;
    fx->sites[1].pool[YT_PROTO_HTTP] = YT_NONE;
    fx->sites[2].pool[YT_PROTO_TLS] = YT_NONE;
    fx->sites[2].pool[YT_PROTO_HTTP] = 1;
    fx->sites[2].flags = YT_SITE_FORWARDED_FOR;
    if (shuffle) {
        struct yt_key x = in[0];

        in[0] = in[2];
        in[2] = in[1];
        in[1] = x;
    }
    CU_ASSERT_EQUAL_FATAL(phash_build(fx->blob, in, 3, &fx->ph), 0);

    fx->pools[0] = (struct yt_pool){ adds(fx, "shop.example.com/tls"), 0, 2 };
    fx->pools[1] = (struct yt_pool){ adds(fx, "shop.example.com/http"), 2, 1 };
    fx->pools[2] = (struct yt_pool){ adds(fx, "apps"), 3, 2 };
    fx->pools[3] = (struct yt_pool){ adds(fx, "fallback"), 5, 1 };
    server(fx, 0, "2001:db8::1", 443, 1, 0);
    server(fx, 1, "2001:db8::2", 443, 256, YT_SERVER_PROXY_V1);
    server(fx, 2, "2001:db8::1", 80, 1, 0);
    server(fx, 3, "2601:40e:69:69::a", 443, 1, YT_SERVER_PROXY_V2);
    server(fx, 4, "2601:40e:69:69::b", 8443, 3, YT_SERVER_PROXY_V2 | YT_SERVER_BACKUP);
    server(fx, 5, "fe80::1", 65535, 1, 0);
    fx->servers[5].addr.sin6_scope_id = 2;
    fx->servers[5].addr.sin6_flowinfo = htonl(0x12345);

    fx->binds[0].addr.in6 = in6("::", 443);
    fx->binds[1].addr.in6 = in6("::1", 80);
    fx->binds[1].v6only = 1;
    fx->binds[2].addr.in4.sin_family = AF_INET;
    fx->binds[2].addr.in4.sin_port = htons(8080);
    fx->binds[2].addr.in4.sin_addr.s_addr = htonl(0x7f000001);
    fx->binds[3].addr.in4.sin_family = AF_INET;
    fx->binds[3].addr.in4.sin_port = htons(1);
    fx->binds[3].addr.in4.sin_addr.s_addr = htonl(0xc0a80102);
    fx->listeners[0] = (struct yt_listener){ .name = adds(fx, "www-tls"), .mode = YT_MODE_TLS,
        .first_bind = 0, .bind_count = 1, .fallback_pool = YT_NONE,
        .flags = YT_LISTENER_DONTLOGNULL };
    fx->listeners[1] = (struct yt_listener){ .name = adds(fx, "www"), .mode = YT_MODE_HTTP,
        .first_bind = 1, .bind_count = 1, .fallback_pool = YT_NONE, .fallback_status = 503,
        .max_head = 16384, .flags = YT_LISTENER_FORWARDED_FOR };
    fx->listeners[2] = (struct yt_listener){ .name = adds(fx, "redir"),
        .mode = YT_MODE_REDIRECT, .first_bind = 2, .bind_count = 1, .fallback_pool = YT_NONE,
        .redirect_status = 308, .redirect_port = 8443, .max_head = 8192 };
    fx->listeners[3] = (struct yt_listener){ .name = adds(fx, "catch"), .mode = YT_MODE_HTTP,
        .first_bind = 3, .bind_count = 1, .fallback_pool = 3, .fallback_status = 503 };
    fx->logs[0] = (struct yt_log){ .kind = YT_LOG_STDERR, .level = 7 };
    fx->logs[1] = (struct yt_log){ .kind = YT_LOG_SYSLOG, .path = adds(fx, "/dev/log"),
                                   .facility = 16, .level = 6 };
    fx->errors[0] = (struct yt_errpage){ .status = 503, .response = adds(fx,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown") };
    fx->errors[1] = (struct yt_errpage){ .status = 400, .response = adds(fx,
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") };
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    fx->all_bytes_off = add(fx, all, sizeof(all)).off;

    fx->t = (struct yt_table){
        .abi = YT_ABI, .seed = fx->ph.seed, .bucket_count = fx->ph.bucket_count,
        .slot_count = fx->ph.slot_count, .key_count = fx->ph.key_count,
        .disp = fx->ph.disp, .remap = fx->ph.remap, .keys = fx->ph.keys,
        .sites = fx->sites, .site_count = 3, .pools = fx->pools, .pool_count = 4,
        .servers = fx->servers, .server_count = 6, .listeners = fx->listeners,
        .listener_count = 4, .binds = fx->binds, .bind_count = 4, .logs = fx->logs,
        .log_count = 2, .errors = fx->errors, .error_count = 2,
        .timeouts = { .connect_ms = 5000, .client_ms = 50000, .server_ms = 50001,
                      .inspect_ms = 5002, .tunnel_ms = 3600000, .grace_ms = 10000,
                      .retry_ms = 2000 },
    };
    fx->t.global.user = adds(fx, "haproxy");
    fx->t.global.group = adds(fx, "haproxy");
    fx->t.global.admin_socket = adds(fx, "/run/switchyard/admin.sock");
    fx->t.global.admin_mode = 0660;
    fx->t.global.admin_timeout_ms = 30000;
    fx->t.global.workers = 2;
    fx->t.global.maxconn = 4096;
    fx->t.config = add(fx, config_text, sizeof(config_text) - 1);
    fx->t.config_tail = add(fx, config_tail, sizeof(config_tail) - 1);
    sha256_hex(config_text, sizeof(config_text) - 1, fx->t.digest);
    fx->t.blob = fx->blob;
    fx->t.blob_len = fx->len;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (cap - n < 65536) {
            cap = cap * 2 + 65536;
            data = realloc(data, cap + 1);
            if (data == NULL)
                break;
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    if (data != NULL)
        data[n] = '\0';
    *len = n;
    return data;
}

static bool
write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && fwrite(text, 1, len, f) == len;

    return f != NULL && fclose(f) == 0 && ok;
}

static void
path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

/* Emits fx to name in the temp dir and returns the C file's bytes (owned), and in *bin
 * (unless NULL) the data object's. */
static char *
emit_to(const struct fixture *fx, const char *name, const char *input_name, size_t *len,
        char **bin, size_t *bin_len)
{
    char path[256], *bin_path;

    path_in(path, sizeof(path), name);
    CU_ASSERT_EQUAL(emit_table_file(path, &fx->t, input_name), 0);
    bin_path = emit_data_path(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bin_path);
    if (bin != NULL)
        *bin = slurp(bin_path, bin_len);
    free(bin_path);
    return slurp(path, len);
}

static void
test_emit_deterministic(void)
{
    struct fixture *fx = malloc(sizeof(*fx)), *fy = malloc(sizeof(*fy));
    char *a, *b, *c, *abin, *bbin, *cbin, *mem = NULL, *mbin = NULL;
    size_t alen, blen, clen, ablen, bblen, cblen, mlen = 0, mblen = 0;
    FILE *f, *fb;

    CU_ASSERT_FATAL(fx != NULL && fy != NULL);
    fixture_build(fx, false);
    fixture_build(fy, true);
    a = emit_to(fx, "a.c", "site.yard", &alen, &abin, &ablen);
    b = emit_to(fx, "b.c", "site.yard", &blen, &bbin, &bblen);
    c = emit_to(fy, "c.c", "site.yard", &clen, &cbin, &cblen);
    CU_ASSERT_FATAL(a != NULL && b != NULL && c != NULL);
    CU_ASSERT_FATAL(abin != NULL && bbin != NULL && cbin != NULL);
    CU_ASSERT(alen > 0 && alen == blen && memcmp(a, b, alen) == 0);
    CU_ASSERT(alen == clen && memcmp(a, c, alen) == 0);
    CU_ASSERT(ablen > 0 && ablen == bblen && memcmp(abin, bbin, ablen) == 0);
    CU_ASSERT(ablen == cblen && memcmp(abin, cbin, ablen) == 0);
    CU_ASSERT_EQUAL(strncmp(a, "/* Generated by yardc from site.yard. Do not edit. */\n", 54), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "extern const char gen_data_"));
    CU_ASSERT(ablen > 64 && memcmp(abin, "\177ELF", 4) == 0);
    f = open_memstream(&mem, &mlen);
    fb = open_memstream(&mbin, &mblen);
    CU_ASSERT_FATAL(f != NULL && fb != NULL);
    CU_ASSERT_EQUAL(emit_table(f, fb, &fx->t, "site.yard"), 0);
    CU_ASSERT_EQUAL(fclose(f), 0);
    CU_ASSERT_EQUAL(fclose(fb), 0);
    CU_ASSERT(mlen == alen && memcmp(mem, a, alen) == 0);
    CU_ASSERT(mblen == ablen && memcmp(mbin, abin, ablen) == 0);
    /* Nothing of the process leaks in: no temp dir name, no address-looking text. */
    CU_ASSERT_PTR_NULL(strstr(a, tmpdir));
    CU_ASSERT_PTR_NULL(memmem(abin, ablen, tmpdir, strlen(tmpdir)));
    free(mem);
    free(mbin);
    free(a);
    free(b);
    free(c);
    free(abin);
    free(bbin);
    free(cbin);
    phash_free(&fx->ph);
    phash_free(&fy->ph);
    free(fx);
    free(fy);
}

/* The program linked with the emitted table: argv[1] the digest, argv[2] a file with the
 * configuration text, argv[3] the offset of the 256 bytes 0..255 in the blob. It prints
 * an FNV-1a hash of every array, which the test compares with the one in memory. */
static const char main_src[] =
    "#define _POSIX_C_SOURCE 200809L\n"
    "#include <arpa/inet.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include \"table.h\"\n"
    "#define CHECK(x) do { if (!(x)) { printf(\"FAIL line %d: %s\\n\", __LINE__, #x);"
    " return 1; } } while (0)\n"
    "static unsigned long long h = 1469598103934665603ull;\n"
    "static void fnv(const void *p, size_t n)\n"
    "{ const unsigned char *b = p; for (size_t i = 0; i < n; i++) h = (h ^ b[i]) *"
    " 1099511628211ull; }\n"
    "static int str_is(struct yt_str s, const char *want)\n"
    "{ return s.len == strlen(want) && memcmp(gen_table.blob + s.off, want, s.len) == 0; }\n"
    "static void put(void *f, const char *s, size_t len) { fwrite(s, 1, len, f); }\n"
    "static struct yt_decision res(int l, const char *name, const char *path)\n"
    "{ return yt_resolve(&gen_table, &gen_table.listeners[l], name, name ? strlen(name) : 0,"
    " path, path ? strlen(path) : 0); }\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    const struct yt_table *t = &gen_table;\n"
    "    struct yt_decision d;\n"
    "    char config[4096];\n"
    "    FILE *f, *text;\n"
    "    char *printed = NULL;\n"
    "    size_t n, printed_len = 0;\n"
    "    unsigned char ip[16];\n"
    "    CHECK(argc == 5);\n"
    "    CHECK(t->abi == YT_ABI && t->key_count == 3 && t->site_count == 3);\n"
    "    CHECK(t->pool_count == 4 && t->server_count == 6 && t->listener_count == 4);\n"
    "    CHECK(t->bind_count == 4 && t->log_count == 2 && t->error_count == 2);\n"
    "    CHECK(strcmp(t->digest, argv[1]) == 0);\n"
    "    f = fopen(argv[2], \"rb\");\n"
    "    CHECK(f != NULL);\n"
    "    n = fread(config, 1, sizeof(config), f);\n"
    "    fclose(f);\n"
    "    CHECK(t->config.len == n && memcmp(t->blob + t->config.off, config, n) == 0);\n"
    "    CHECK(str_is(t->config_tail, \"\\nexpect www-tls shop.example.com -> pool shop;\\n\"));\n"
    "    /* the canonical text, its sites written from the table */\n"
    "    text = open_memstream(&printed, &printed_len);\n"
    "    CHECK(text != NULL);\n"
    "    yt_print_config(t, put, text);\n"
    "    CHECK(fclose(text) == 0);\n"
    "    CHECK(printed_len > n && memcmp(printed, config, n) == 0);\n"
    "    CHECK(strcmp(printed + n, argv[4]) == 0);\n"
    "    for (int i = 0; i < 256; i++)\n"
    "        CHECK((unsigned char)t->blob[atoi(argv[3]) + i] == i);\n"
    "    CHECK(t->blob[t->blob_len] == '\\0');\n"
    "    /* names */\n"
    "    CHECK(yt_find(t, \"shop.example.com\", 16) == 0);\n"
    "    CHECK(yt_find(t, \".apps.example.com\", 17) == 1);\n"
    "    CHECK(yt_find(t, \"api.example.com\", 15) == 2);\n"
    "    CHECK(yt_find(t, \"apps.example.com\", 16) == YT_NONE);\n"
    "    CHECK(yt_site_for(t, \"x.y.apps.example.com\", 20) == 1);\n"
    "    CHECK(str_is(t->sites[1].name, \"*.apps.example.com\"));\n"
    "    CHECK(t->sites[0].flags == YT_SITE_ACME && t->sites[1].pool[YT_PROTO_HTTP] == YT_NONE);\n"
    "    /* decisions */\n"
    "    d = res(0, \"shop.example.com\", NULL);\n"
    "    CHECK(d.action == YT_ACT_POOL && d.pool == 0 && d.site == 0 && !d.fallback);\n"
    "    d = res(0, \"a.apps.example.com\", NULL);\n"
    "    CHECK(d.action == YT_ACT_POOL && d.pool == 2 && d.site == 1);\n"
    "    d = res(0, \"api.example.com\", NULL);\n"
    "    CHECK(d.action == YT_ACT_ALERT && d.site == 2 && d.fallback);\n"
    "    d = res(0, NULL, NULL);\n"
    "    CHECK(d.action == YT_ACT_ALERT && d.site == YT_NONE);\n"
    "    d = res(1, \"api.example.com\", NULL);\n"
    "    CHECK(d.action == YT_ACT_POOL && d.pool == 1);\n"
    "    d = res(1, \"nosuch.example.com\", NULL);\n"
    "    CHECK(d.action == YT_ACT_STATUS && d.status == 503);\n"
    "    d = res(2, \"shop.example.com\", \"/.well-known/acme-challenge/tok\");\n"
    "    CHECK(d.action == YT_ACT_POOL && d.pool == 1);\n"
    "    d = res(2, \"shop.example.com\", \"/index.html\");\n"
    "    CHECK(d.action == YT_ACT_REDIRECT && d.status == 308);\n"
    "    d = res(3, \"nosuch.example.com\", NULL);\n"
    "    CHECK(d.action == YT_ACT_POOL && d.pool == 3 && d.fallback);\n"
    "    /* pools, servers */\n"
    "    CHECK(str_is(t->pools[1].name, \"shop.example.com/http\"));\n"
    "    CHECK(t->pools[2].first == 3 && t->pools[2].count == 2);\n"
    "    CHECK(t->servers[4].addr.sin6_family == AF_INET6);\n"
    "    CHECK(ntohs(t->servers[4].addr.sin6_port) == 8443);\n"
    "    inet_pton(AF_INET6, \"2601:40e:69:69::b\", ip);\n"
    "    CHECK(memcmp(&t->servers[4].addr.sin6_addr, ip, 16) == 0);\n"
    "    CHECK(str_is(t->servers[4].name, \"[2601:40e:69:69::b]:8443\"));\n"
    "    CHECK(t->servers[4].weight == 3);\n"
    "    CHECK(t->servers[4].flags == (YT_SERVER_PROXY_V2 | YT_SERVER_BACKUP));\n"
    "    CHECK(t->servers[1].weight == 256 && t->servers[1].flags == YT_SERVER_PROXY_V1);\n"
    "    CHECK(t->servers[5].addr.sin6_scope_id == 2);\n"
    "    CHECK(ntohl(t->servers[5].addr.sin6_flowinfo) == 0x12345);\n"
    "    CHECK(ntohs(t->servers[5].addr.sin6_port) == 65535);\n"
    "    /* listeners, binds */\n"
    "    CHECK(str_is(t->listeners[2].name, \"redir\"));\n"
    "    CHECK(t->listeners[2].mode == YT_MODE_REDIRECT);\n"
    "    CHECK(t->listeners[2].redirect_port == 8443);\n"
    "    CHECK(t->listeners[1].max_head == 16384);\n"
    "    CHECK(t->listeners[1].flags == YT_LISTENER_FORWARDED_FOR);\n"
    "    CHECK(t->listeners[3].fallback_pool == 3 && t->listeners[0].fallback_pool == YT_NONE);\n"
    "    CHECK(t->binds[0].addr.sa.sa_family == AF_INET6 && !t->binds[0].v6only);\n"
    "    CHECK(ntohs(t->binds[0].addr.in6.sin6_port) == 443);\n"
    "    CHECK(memcmp(&t->binds[1].addr.in6.sin6_addr, &in6addr_loopback, 16) == 0);\n"
    "    CHECK(t->binds[1].v6only == 1);\n"
    "    CHECK(t->binds[2].addr.sa.sa_family == AF_INET);\n"
    "    CHECK(ntohs(t->binds[2].addr.in4.sin_port) == 8080);\n"
    "    CHECK(ntohl(t->binds[2].addr.in4.sin_addr.s_addr) == 0x7f000001);\n"
    "    CHECK(ntohl(t->binds[3].addr.in4.sin_addr.s_addr) == 0xc0a80102);\n"
    "    /* logs, error pages, global, timeouts */\n"
    "    CHECK(t->logs[1].kind == YT_LOG_SYSLOG && str_is(t->logs[1].path, \"/dev/log\"));\n"
    "    CHECK(t->logs[1].facility == 16 && t->logs[1].level == 6 && t->logs[0].level == 7);\n"
    "    CHECK(t->errors[0].status == 503);\n"
    "    CHECK(str_is(t->errors[1].response, \"HTTP/1.1 400 Bad Request\\r\\n"
    "Content-Length: 0\\r\\n\\r\\n\"));\n"
    "    CHECK(str_is(t->global.user, \"haproxy\") && t->global.chroot.len == 0);\n"
    "    CHECK(t->global.admin_mode == 0660 && t->global.admin_timeout_ms == 30000);\n"
    "    CHECK(t->global.workers == 2 && t->global.maxconn == 4096);\n"
    "    CHECK(t->timeouts.server_ms == 50001 && t->timeouts.inspect_ms == 5002);\n"
    "    CHECK(t->timeouts.tunnel_ms == 3600000 && t->timeouts.retry_ms == 2000);\n"
    "    /* every array, byte for byte */\n"
    "    fnv(t->disp, t->bucket_count * sizeof(*t->disp));\n"
    "    fnv(t->remap, (t->slot_count - t->key_count) * sizeof(*t->remap));\n"
    "    fnv(t->keys, t->key_count * sizeof(*t->keys));\n"
    "    fnv(t->blob, t->blob_len);\n"
    "    fnv(t->sites, t->site_count * sizeof(*t->sites));\n"
    "    fnv(t->pools, t->pool_count * sizeof(*t->pools));\n"
    "    fnv(t->servers, t->server_count * sizeof(*t->servers));\n"
    "    printf(\"%llx %llx\\n\", h, (unsigned long long)t->seed);\n"
    "    return 0;\n"
    "}\n";

static unsigned long long
fnv(unsigned long long h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static const char *
cc(void)
{
    const char *c = getenv("CC");

    return c != NULL && *c != '\0' ? c : "cc";
}

/* table.h's directory: $TABLE_H_DIR, else runtime/ next to this file's tests/. */
static void
runtime_dir(char *out, size_t size)
{
    const char *env = getenv("TABLE_H_DIR");
    const char *tests = strstr(__FILE__, "tests/unit/");

    if (env != NULL)
        snprintf(out, size, "%s", env);
    else if (tests != NULL)
        snprintf(out, size, "%.*sruntime", (int)(tests - __FILE__), __FILE__);
    else
        snprintf(out, size, "runtime");
}

/* Compiles table (a C file's name without ".c") with the data object data (a name
 * without "-data.o") and the program of source in the temp dir into prog; quiet: a
 * failure is expected, its messages go nowhere. */
static int
compile(const char *table, const char *data, const char *source, const char *prog, bool quiet)
{
    char cmd[2048], inc[512];

    runtime_dir(inc, sizeof(inc));
    snprintf(cmd, sizeof(cmd),
             "%s -std=c11 -O2 -Wall -Wextra -Wmissing-field-initializers -Werror -I'%s' "
             "-o '%s/%s' '%s/%s.c' '%s/%s-data.o' '%s/%s' %s", cc(), inc, tmpdir, prog, tmpdir,
             table, tmpdir, data, tmpdir, source, quiet ? "2>/dev/null" : "");
    return system(cmd);
}

static void
test_emit_compiles_and_runs(void)
{
    struct fixture *fx = malloc(sizeof(*fx));
    const struct yt_table *t;
    char path[256], cmd[2048], line[128], want[128], *first, sites[1024];
    unsigned long long h = 1469598103934665603ull;
    size_t len;
    FILE *p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(fx);
    fixture_build(fx, false);
    t = &fx->t;
    /* An input name that tries to end the comment and start a line. */
    first = emit_to(fx, "table.c", "odd*/name\n/*x.yard", &len, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_EQUAL(strncmp(first, "/* Generated by yardc from odd* /name?/ *x.yard. Do not "
                                   "edit. */\n", 60), 0);
    free(first);
    path_in(path, sizeof(path), "main.c");
    CU_ASSERT_FATAL(write_file(path, main_src, sizeof(main_src) - 1));
    path_in(path, sizeof(path), "config.txt");
    CU_ASSERT_FATAL(write_file(path, config_text, sizeof(config_text) - 1));
    CU_ASSERT_EQUAL_FATAL(compile("table", "table", "main.c", "prog", false), 0);

    snprintf(sites, sizeof(sites), "%s%s", config_sites, config_tail);
    snprintf(cmd, sizeof(cmd), "'%s/prog' %s '%s' %u '%s'", tmpdir, t->digest, path,
             fx->all_bytes_off, sites);
    p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    CU_ASSERT_EQUAL(pclose(p), 0);
    h = fnv(h, t->disp, t->bucket_count * sizeof(*t->disp));
    h = fnv(h, t->remap, (t->slot_count - t->key_count) * sizeof(*t->remap));
    h = fnv(h, t->keys, t->key_count * sizeof(*t->keys));
    h = fnv(h, t->blob, t->blob_len);
    h = fnv(h, t->sites, t->site_count * sizeof(*t->sites));
    h = fnv(h, t->pools, t->pool_count * sizeof(*t->pools));
    h = fnv(h, t->servers, t->server_count * sizeof(*t->servers));
    snprintf(want, sizeof(want), "%llx %llx\n", h, (unsigned long long)t->seed);
    CU_ASSERT_STRING_EQUAL(line, want);
    /* The data of another table (one site's flags changed) does not link with it. */
    fx->sites[1].flags ^= YT_SITE_ACME;
    free(emit_to(fx, "other.c", "x", &len, NULL, NULL));
    CU_ASSERT_NOT_EQUAL(compile("table", "other", "main.c", "prog2", true), 0);
    CU_ASSERT_EQUAL(compile("other", "other", "main.c", "prog2", false), 0);
    phash_free(&fx->ph);
    free(fx);
}

/* 50,000 keys (and as many sites): the big arrays survive the trip byte for byte. */
static const char big_src[] =
    "#include <stdio.h>\n"
    "#include \"table.h\"\n"
    "int main(void)\n"
    "{\n"
    "    const struct yt_table *t = &gen_table;\n"
    "    unsigned long long h = 1469598103934665603ull;\n"
    "    for (uint32_t i = 0; i < t->key_count; i++) {\n"
    "        const struct yt_key *k = &t->keys[i];\n"
    "        if (yt_find(t, t->blob + k->off, k->len) != k->site || k->site != k->off / 8)\n"
    "            return 1;\n"
    "    }\n"
    "    for (size_t i = 0; i < t->bucket_count * sizeof(*t->disp); i++)\n"
    "        h = (h ^ ((const unsigned char *)t->disp)[i]) * 1099511628211ull;\n"
    "    for (size_t i = 0; i < t->key_count * sizeof(*t->keys); i++)\n"
    "        h = (h ^ ((const unsigned char *)t->keys)[i]) * 1099511628211ull;\n"
    "    for (size_t i = 0; i < t->site_count * sizeof(*t->sites); i++)\n"
    "        h = (h ^ ((const unsigned char *)t->sites)[i]) * 1099511628211ull;\n"
    "    printf(\"%llx\\n\", h);\n"
    "    return 0;\n"
    "}\n";

static void
test_emit_big_table(void)
{
    enum { N = 50000 };
    char *blob = malloc(N * 8);
    struct yt_key *in = malloc(N * sizeof(*in));
    struct yt_site *sites = calloc(N, sizeof(*sites));
    unsigned long long h = 1469598103934665603ull;
    char path[256], cmd[512], line[64], want[64];
    struct phash ph;
    struct yt_table t;
    FILE *p;

    CU_ASSERT_FATAL(blob != NULL && in != NULL && sites != NULL);
    for (uint32_t i = 0; i < N; i++) {
        /* 8-byte names, every byte value somewhere: binary keys. */
        uint64_t v = (i + 1) * 0x9e3779b97f4a7c15ull;

        memcpy(blob + (size_t)i * 8, &v, 8);
        blob[(size_t)i * 8] = (char)(i & 0xff);
        blob[(size_t)i * 8 + 1] = (char)(i >> 8);
        blob[(size_t)i * 8 + 2] = (char)(i >> 16);
        in[i] = (struct yt_key){ .off = i * 8, .len = 8, .site = i };
        sites[i] = (struct yt_site){ .name = { i * 8, 8 }, .pool = { i, YT_NONE, YT_NONE },
                                     .flags = i };
    }
    CU_ASSERT_EQUAL_FATAL(phash_build(blob, in, N, &ph), 0);
    t = (struct yt_table){ .seed = ph.seed, .bucket_count = ph.bucket_count,
        .slot_count = ph.slot_count, .key_count = ph.key_count, .disp = ph.disp,
        .remap = ph.remap, .keys = ph.keys, .blob = blob, .blob_len = N * 8,
        .sites = sites, .site_count = N };
    path_in(path, sizeof(path), "big.c");
    CU_ASSERT_EQUAL_FATAL(emit_table_file(path, &t, "big.yard"), 0);
    path_in(path, sizeof(path), "big_main.c");
    CU_ASSERT_FATAL(write_file(path, big_src, sizeof(big_src) - 1));
    CU_ASSERT_EQUAL_FATAL(compile("big", "big", "big_main.c", "big", false), 0);
    snprintf(cmd, sizeof(cmd), "'%s/big'", tmpdir);
    p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    CU_ASSERT_EQUAL(pclose(p), 0);
    h = fnv(h, t.disp, t.bucket_count * sizeof(*t.disp));
    h = fnv(h, t.keys, t.key_count * sizeof(*t.keys));
    h = fnv(h, t.sites, t.site_count * sizeof(*t.sites));
    snprintf(want, sizeof(want), "%llx\n", h);
    CU_ASSERT_STRING_EQUAL(line, want);
    phash_free(&ph);
    free(blob);
    free(in);
    free(sites);
}

/* No keys, no sites, nothing but one listener: compiles, and every name misses. */
static const char empty_src[] =
    "#include \"table.h\"\n"
    "int main(void)\n"
    "{\n"
    "    const struct yt_table *t = &gen_table;\n"
    "    struct yt_decision d = yt_resolve(t, &t->listeners[0], \"a.example\", 9, NULL, 0);\n"
    "    if (t->key_count != 0 || t->keys != NULL || t->sites != NULL || t->blob_len != 0)\n"
    "        return 1;\n"
    "    if (yt_find(t, \"a\", 1) != YT_NONE || t->blob[0] != '\\0' || t->digest[0] != '\\0')\n"
    "        return 2;\n"
    "    return d.action == YT_ACT_ALERT && d.site == YT_NONE ? 0 : 3;\n"
    "}\n";

static void
test_emit_empty_table(void)
{
    struct yt_listener l = { .mode = YT_MODE_TLS, .fallback_pool = YT_NONE };
    struct phash ph;
    struct yt_table t;
    char path[256], cmd[512];

    CU_ASSERT_EQUAL_FATAL(phash_build(NULL, NULL, 0, &ph), 0);
    t = (struct yt_table){ .seed = ph.seed, .bucket_count = ph.bucket_count,
        .disp = ph.disp, .listeners = &l, .listener_count = 1 };
    path_in(path, sizeof(path), "empty.c");
    CU_ASSERT_EQUAL_FATAL(emit_table_file(path, &t, "empty.yard"), 0);
    path_in(path, sizeof(path), "empty_main.c");
    CU_ASSERT_FATAL(write_file(path, empty_src, sizeof(empty_src) - 1));
    CU_ASSERT_EQUAL_FATAL(compile("empty", "empty", "empty_main.c", "empty", false), 0);
    snprintf(cmd, sizeof(cmd), "'%s/empty'", tmpdir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    phash_free(&ph);
}

static void
test_emit_file_errors(void)
{
    struct fixture *fx = malloc(sizeof(*fx));
    char path[256], tmp[300];
    struct stat st;
    FILE *null;
    char *data;
    size_t len;

    CU_ASSERT_PTR_NOT_NULL_FATAL(fx);
    fixture_build(fx, false);
    path_in(path, sizeof(path), "no/such/dir/table.c");
    errno = 0;
    CU_ASSERT_EQUAL(emit_table_file(path, &fx->t, "x"), -1);
    CU_ASSERT_EQUAL(errno, ENOENT);
    /* An old file is replaced whole, and no .tmp stays behind. */
    path_in(path, sizeof(path), "replace.c");
    CU_ASSERT_FATAL(write_file(path, "old", 3));
    CU_ASSERT_EQUAL(emit_table_file(path, &fx->t, "x"), 0);
    data = slurp(path, &len);
    CU_ASSERT(data != NULL && len > 1000 && strncmp(data, "/* Generated", 12) == 0);
    free(data);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CU_ASSERT_EQUAL(stat(tmp, &st), -1);
    path_in(tmp, sizeof(tmp), "replace-data.o.tmp");
    CU_ASSERT_EQUAL(stat(tmp, &st), -1);
    path_in(tmp, sizeof(tmp), "replace-data.o");
    CU_ASSERT_EQUAL(stat(tmp, &st), 0);
    /* A write error (a full device) is reported, and the old file stays. */
    null = fopen("/dev/null", "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(null);
    if (access("/dev/full", W_OK) == 0) {
        FILE *f = fopen("/dev/full", "w");

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        errno = 0;
        CU_ASSERT_EQUAL(emit_table(f, null, &fx->t, "x"), -1);
        CU_ASSERT_EQUAL(errno, ENOSPC);
        errno = 0;
        CU_ASSERT_EQUAL(emit_table(null, f, &fx->t, "x"), -1);
        CU_ASSERT_EQUAL(errno, ENOSPC);
        fclose(f);
    }
    fclose(null);
    phash_free(&fx->ph);
    free(fx);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "deterministic and order independent", test_emit_deterministic },
        { "compiles and is the table", test_emit_compiles_and_runs },
        { "50k binary keys survive", test_emit_big_table },
        { "empty table", test_emit_empty_table },
        { "file errors", test_emit_file_errors },
    };
    char cmd[128];
    int rc;

    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    rc = UNIT_RUN("emit", tests);
    if (rc == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "files kept in %s\n", tmpdir);
    }
    return rc;
}
