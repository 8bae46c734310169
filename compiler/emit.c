/* The C emitter.
 *
 * Measured (tests/bench/table, gcc 12 -O2): gcc spends about 10 us of CPU per element of a
 * braced initialiser, whatever the element's type, so a million keys and a million sites
 * written as `{off,site,len,fp},` took ~50 s; the same bytes written as a string literal
 * take ~1 s. So the large integer-only arrays (disp, remap, keys, sites, pools) are
 * emitted as their little-endian bytes in a string literal, in a union with the typed
 * array, which C11 lets the runtime read through the typed member (6.5.2.3, note 95);
 * the file checks the layout it assumed with _Static_assert and refuses big-endian
 * targets with #error. The small arrays (servers, listeners, binds, logs, error pages)
 * use designated initialisers: readable, and independent of the field order of the C
 * library's socket structures. Strings are one blob, a string literal too. */
#include "emit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLOB_LINE 96                /* source bytes of blob literal per line */

/* A buffered writer over a FILE: the integer arrays are millions of small writes. */
struct out {
    FILE *f;
    size_t len;
    int err;                        /* first errno of a failed write, or 0 */
    bool esc_ready;                 /* esc and esc_len are filled (by out_literal) */
    uint8_t esc_len[2][256];        /* [next byte is an octal digit][byte] */
    char esc[2][256][4];
    char buf[1 << 16];
};

static void
out_flush(struct out *o)
{
    if (o->len > 0 && o->err == 0 && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->err = errno != 0 ? errno : EIO;
    o->len = 0;
}

static void
out_mem(struct out *o, const char *s, size_t n)
{
    if (n > sizeof(o->buf) - o->len) {
        out_flush(o);
        if (n > sizeof(o->buf)) {
            if (o->err == 0 && fwrite(s, 1, n, o->f) != n)
                o->err = errno != 0 ? errno : EIO;
            return;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static void
out_u64(struct out *o, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    out_mem(o, tmp + i, sizeof(tmp) - i);
}

/* A uint32_t that may be YT_NONE, which reads better in hex. */
static void
out_index(struct out *o, uint32_t v)
{
    if (v == YT_NONE)
        out_str(o, "0xffffffff");
    else
        out_u64(o, v);
}

static void
out_hex8(struct out *o, uint8_t v)
{
    static const char hex[] = "0123456789abcdef";
    char s[4] = { '0', 'x', hex[v >> 4], hex[v & 15] };

    out_mem(o, s, sizeof(s));
}

/* Appends byte c as the inside of a C string literal to dst and returns the bytes
 * written. Quotes and backslashes are escaped, '?' too (no trigraph can form), newline
 * and tab by name, other bytes outside printable ASCII in octal: as short as possible,
 * three digits when the next byte (-1: none in this piece) is an octal digit that would
 * extend the escape. */
static size_t
escape(char *dst, unsigned char c, int next)
{
    if (c == '"' || c == '\\' || c == '?') {
        dst[0] = '\\';
        dst[1] = (char)c;
        return 2;
    }
    if (c == '\n' || c == '\t') {
        dst[0] = '\\';
        dst[1] = c == '\n' ? 'n' : 't';
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        dst[0] = (char)c;
        return 1;
    }
    dst[0] = '\\';
    if (c >= 64 || (next >= '0' && next <= '7')) {
        dst[1] = (char)('0' + (c >> 6));
        dst[2] = (char)('0' + ((c >> 3) & 7));
        dst[3] = (char)('0' + (c & 7));
        return 4;
    }
    if (c >= 8) {
        dst[1] = (char)('0' + (c >> 3));
        dst[2] = (char)('0' + (c & 7));
        return 3;
    }
    dst[1] = (char)('0' + c);
    return 2;
}

/* Writes s[0 .. n) as string literal pieces, one a line, each line starting with indent.
 * A piece ends before it would pass BLOB_LINE source bytes and, for text, after each
 * newline, so text such as the configuration reads line by line. The table holds what
 * escape() writes for each byte, both before an octal digit and before anything else;
 * the pieces are written straight into the output buffer (a big table is ~100 MB of
 * literal). */
static void
out_literal(struct out *o, const void *data, size_t n, const char *indent, bool text)
{
    const unsigned char *p = data;
    size_t ilen = strlen(indent), i = 0;

    if (n == 0) {
        out_str(o, indent);
        out_str(o, "\"\"");
        return;
    }
    if (!o->esc_ready) {
        for (int c = 0; c < 256; c++) {
            o->esc_len[0][c] = (uint8_t)escape(o->esc[0][c], (unsigned char)c, -1);
            o->esc_len[1][c] = (uint8_t)escape(o->esc[1][c], (unsigned char)c, '0');
        }
        o->esc_ready = true;
    }
    while (i < n) {
        char *d, *start;

        if (sizeof(o->buf) - o->len < ilen + BLOB_LINE + 8)
            out_flush(o);
        d = o->buf + o->len;
        memcpy(d, indent, ilen);
        d += ilen;
        *d++ = '"';
        start = d;
        while (i < n && (size_t)(d - start) + 4 <= BLOB_LINE) {
            unsigned char c = p[i++];
            int octal_next = i < n && p[i] >= '0' && p[i] <= '7';

            memcpy(d, o->esc[octal_next][c], 4);
            d += o->esc_len[octal_next][c];
            if (text && c == '\n')
                break;
        }
        *d++ = '"';
        if (i < n)
            *d++ = '\n';
        o->len = (size_t)(d - o->buf);
    }
}

static void
out_yt_str(struct out *o, struct yt_str s)
{
    out_mem(o, "{ ", 2);
    out_u64(o, s.off);
    out_mem(o, ", ", 2);
    out_u64(o, s.len);
    out_mem(o, " }", 2);
}

static void
out_field_str(struct out *o, const char *field, struct yt_str s)
{
    out_str(o, field);
    out_yt_str(o, s);
}

static void
out_field_u64(struct out *o, const char *field, uint64_t v)
{
    out_str(o, field);
    out_u64(o, v);
}

static void
out_field_index(struct out *o, const char *field, uint32_t v)
{
    out_str(o, field);
    out_index(o, v);
}

/* The first line names the input; keep it one line and a comment whatever the name. */
static void
out_header(struct out *o, const char *input_name)
{
    out_str(o, "/* Generated by yardc from ");
    for (const char *p = input_name != NULL ? input_name : "-"; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c == 0x7f)
            out_mem(o, "?", 1);
        else if (c == '*' && p[1] == '/')
            out_mem(o, "* ", 2);
        else if (c == '/' && p[1] == '*')
            out_mem(o, "/ ", 2);
        else
            out_mem(o, p, 1);
    }
    out_str(o, ". Do not edit. */\n"
               "#include <sys/socket.h>\n"
               "\n"
               "#include \"table.h\"\n"
               "\n");
    out_str(o, "_Static_assert(YT_ABI == ");
    out_u64(o, YT_ABI);
    out_str(o, ", \"runtime/table.h does not match the yardc that wrote this file\");\n"
        "\n"
        "/* The large arrays below are the little-endian bytes of their elements, in a\n"
        " * string literal (it compiles much faster than braced integers), in a union\n"
        " * with the typed array that the table points to. */\n"
        "#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n"
        "#error \"this table was laid out for a little-endian target\"\n"
        "#endif\n"
        "_Static_assert(sizeof(struct yt_key) == 12 && offsetof(struct yt_key, site) == 4 &&\n"
        "               offsetof(struct yt_key, len) == 8 && offsetof(struct yt_key, fp) == 10,\n"
        "               \"struct yt_key layout\");\n"
        "_Static_assert(sizeof(struct yt_site) == 24 && offsetof(struct yt_site, pool) == 8 &&\n"
        "               offsetof(struct yt_site, flags) == 20, \"struct yt_site layout\");\n"
        "_Static_assert(sizeof(struct yt_pool) == 16 && offsetof(struct yt_pool, first) == 8 &&\n"
        "               offsetof(struct yt_pool, count) == 12, \"struct yt_pool layout\");\n"
        "\n"
        "/* IPv4 addresses and flow labels in network byte order. */\n"
        "#define GEN_BE32(x) ((uint32_t)((((x) & 0xffu) << 24) | (((x) & 0xff00u) << 8) | \\\n"
        "                              (((x) >> 8) & 0xff00u) | (((x) >> 24) & 0xffu)))\n");
}

/* The little-endian bytes of the elements of one array, filled by its put_* function. */
struct raw {
    unsigned char *p;
    size_t len;
};

static void
put16(struct raw *r, uint16_t v)
{
    r->p[r->len++] = (unsigned char)v;
    r->p[r->len++] = (unsigned char)(v >> 8);
}

static void
put32(struct raw *r, uint32_t v)
{
    put16(r, (uint16_t)v);
    put16(r, (uint16_t)(v >> 16));
}

static void
put_u16(struct raw *r, const void *a, uint32_t i)
{
    put16(r, ((const uint16_t *)a)[i]);
}

static void
put_u32(struct raw *r, const void *a, uint32_t i)
{
    put32(r, ((const uint32_t *)a)[i]);
}

static void
put_key(struct raw *r, const void *a, uint32_t i)
{
    const struct yt_key *k = (const struct yt_key *)a + i;

    put32(r, k->off);
    put32(r, k->site);
    put16(r, k->len);
    put16(r, k->fp);
}

static void
put_site(struct raw *r, const void *a, uint32_t i)
{
    const struct yt_site *s = (const struct yt_site *)a + i;

    put32(r, s->name.off);
    put32(r, s->name.len);
    put32(r, s->pool[YT_PROTO_TLS]);
    put32(r, s->pool[YT_PROTO_HTTP]);
    put32(r, s->pool[YT_PROTO_QUIC]);
    put32(r, s->flags);
}

static void
put_pool(struct raw *r, const void *a, uint32_t i)
{
    const struct yt_pool *p = (const struct yt_pool *)a + i;

    put32(r, p->name.off);
    put32(r, p->name.len);
    put32(r, p->first);
    put32(r, p->count);
}

/* Writes `static const union { char bytes[]; type v[count]; } name` holding the count
 * elements of a, each size bytes once put() has laid it out. */
static void
out_raw_array(struct out *o, const char *type, const char *name, const void *a, uint32_t count,
              size_t size, void (*put)(struct raw *, const void *, uint32_t))
{
    struct raw r = { .p = malloc((size_t)count * size), .len = 0 };

    if (r.p == NULL) {
        if (o->err == 0)
            o->err = ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < count; i++)
        put(&r, a, i);
    out_str(o, "\nstatic const union {\n    char bytes[");
    out_u64(o, r.len + 1);
    out_str(o, "];\n    ");
    out_str(o, type);
    out_str(o, " v[");
    out_u64(o, count);
    out_str(o, "];\n} ");
    out_str(o, name);
    out_str(o, " = {\n");
    out_literal(o, r.p, r.len, "    ", false);
    out_str(o, "\n};\n");
    free(r.p);
}

static void
out_family(struct out *o, const char *field, sa_family_t family)
{
    out_str(o, field);
    if (family == AF_INET6)
        out_str(o, "AF_INET6");
    else if (family == AF_INET)
        out_str(o, "AF_INET");
    else
        out_u64(o, family);
}

static void
out_port(struct out *o, const char *field, in_port_t port_be)
{
    out_str(o, field);
    out_str(o, "YT_BE16(");
    out_u64(o, ntohs(port_be));
    out_mem(o, ")", 1);
}

static void
out_in6(struct out *o, const struct sockaddr_in6 *a)
{
    out_mem(o, "{ ", 2);
    out_family(o, ".sin6_family = ", a->sin6_family);
    out_port(o, ", .sin6_port = ", a->sin6_port);
    if (a->sin6_flowinfo != 0) {
        out_str(o, ", .sin6_flowinfo = GEN_BE32(");
        out_u64(o, ntohl(a->sin6_flowinfo));
        out_str(o, "u)");
    }
    /* s6_addr names the byte array whatever union the C library wraps it in. */
    out_str(o, ",\n            .sin6_addr.s6_addr = { ");
    for (int i = 0; i < 16; i++) {
        if (i > 0)
            out_str(o, i == 8 ? ",\n                                   " : ", ");
        out_hex8(o, a->sin6_addr.s6_addr[i]);
    }
    out_str(o, " }");
    if (a->sin6_scope_id != 0)
        out_field_u64(o, ", .sin6_scope_id = ", a->sin6_scope_id);
    out_str(o, " }");
}

static void
out_servers(struct out *o, const struct yt_server *s, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_server gen_servers[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_str(o, "    { .addr = ");
        out_in6(o, &s[i].addr);
        out_field_str(o, ",\n      .name = ", s[i].name);
        out_field_u64(o, ", .weight = ", s[i].weight);
        out_field_u64(o, ", .flags = ", s[i].flags);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static const char *const mode_names[YT_MODE_COUNT] = {
    [YT_MODE_TLS] = "YT_MODE_TLS", [YT_MODE_HTTP] = "YT_MODE_HTTP",
    [YT_MODE_REDIRECT] = "YT_MODE_REDIRECT", [YT_MODE_QUIC] = "YT_MODE_QUIC",
};

static void
out_listeners(struct out *o, const struct yt_listener *l, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_listener gen_listeners[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_field_str(o, "    { .name = ", l[i].name);
        out_str(o, ", .mode = ");
        if (l[i].mode < YT_MODE_COUNT)
            out_str(o, mode_names[l[i].mode]);
        else
            out_u64(o, l[i].mode);
        out_field_u64(o, ", .first_bind = ", l[i].first_bind);
        out_field_u64(o, ", .bind_count = ", l[i].bind_count);
        out_field_index(o, ",\n      .fallback_pool = ", l[i].fallback_pool);
        out_field_u64(o, ", .fallback_status = ", l[i].fallback_status);
        out_field_u64(o, ",\n      .redirect_status = ", l[i].redirect_status);
        out_field_u64(o, ", .redirect_port = ", l[i].redirect_port);
        out_field_u64(o, ",\n      .max_head = ", l[i].max_head);
        out_field_u64(o, ", .flags = ", l[i].flags);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_binds(struct out *o, const struct yt_bind *b, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_bind gen_binds[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        const union yt_addr *a = &b[i].addr;

        out_str(o, "    { .addr = ");
        if (a->sa.sa_family == AF_INET6) {
            out_str(o, "{ .in6 = ");
            out_in6(o, &a->in6);
            out_str(o, " },\n     ");
        } else if (a->sa.sa_family == AF_INET) {
            uint32_t ip = ntohl(a->in4.sin_addr.s_addr);

            out_family(o, "{ .in4 = { .sin_family = ", AF_INET);
            out_port(o, ", .sin_port = ", a->in4.sin_port);
            out_str(o, ",\n            .sin_addr = { .s_addr = GEN_BE32(");
            out_u64(o, ip);
            out_str(o, "u) } } }, /* ");
            for (int k = 3; k >= 0; k--) {
                out_u64(o, (ip >> (8 * k)) & 0xff);
                if (k > 0)
                    out_mem(o, ".", 1);
            }
            out_str(o, " */\n     ");
        } else {
            out_family(o, "{ .sa = { .sa_family = ", a->sa.sa_family);
            out_str(o, " } },\n     ");
        }
        out_field_u64(o, " .v6only = ", b[i].v6only);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_logs(struct out *o, const struct yt_log *l, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_log gen_logs[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_field_u64(o, "    { .kind = ", l[i].kind);
        out_field_str(o, ", .path = ", l[i].path);
        out_field_u64(o, ", .facility = ", l[i].facility);
        out_field_u64(o, ", .level = ", l[i].level);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_errors(struct out *o, const struct yt_errpage *e, uint32_t count)
{
    out_str(o, "\nstatic const struct yt_errpage gen_errors[");
    out_u64(o, count);
    out_str(o, "] = {\n");
    for (uint32_t i = 0; i < count; i++) {
        out_field_u64(o, "    { .status = ", e[i].status);
        out_field_str(o, ", .response = ", e[i].response);
        out_str(o, " },\n");
    }
    out_str(o, "};\n");
}

static void
out_blob(struct out *o, const char *blob, uint64_t len)
{
    /* One byte more than the text for the literal's NUL, so the array is never empty. */
    out_str(o, "\nstatic const char gen_blob[");
    out_u64(o, len + 1);
    out_str(o, "] =\n");
    out_literal(o, blob, (size_t)len, "    ", true);
    out_str(o, ";\n");
}

/* A pointer member: the array's name, or NULL when it has no element. */
static void
out_ptr(struct out *o, const char *field, const char *name, uint64_t count)
{
    out_str(o, field);
    out_str(o, count > 0 ? name : "NULL");
}

static void
out_table(struct out *o, const struct yt_table *t)
{
    const struct yt_global *g = &t->global;
    const struct yt_timeouts *to = &t->timeouts;
    size_t dlen = strnlen(t->digest, sizeof(t->digest) - 1);

    out_str(o, "\nconst struct yt_table gen_table = {\n    .abi = YT_ABI,\n");
    out_str(o, "    .seed = 0x");
    {
        char seed[20];
        int n = snprintf(seed, sizeof(seed), "%016llx", (unsigned long long)t->seed);

        out_mem(o, seed, (size_t)n);
    }
    out_str(o, "ull,\n");
    out_field_u64(o, "    .bucket_count = ", t->bucket_count);
    out_field_u64(o, ", .slot_count = ", t->slot_count);
    out_field_u64(o, ", .key_count = ", t->key_count);
    out_ptr(o, ",\n    .disp = ", "gen_disp.v", t->bucket_count);
    out_ptr(o, ", .remap = ", "gen_remap.v", t->slot_count - t->key_count);
    out_ptr(o, ", .keys = ", "gen_keys.v", t->key_count);
    out_str(o, ",\n    .blob = gen_blob");
    out_field_u64(o, ", .blob_len = ", t->blob_len);
    out_ptr(o, ",\n    .sites = ", "gen_sites.v", t->site_count);
    out_field_u64(o, ", .site_count = ", t->site_count);
    out_ptr(o, ",\n    .pools = ", "gen_pools.v", t->pool_count);
    out_field_u64(o, ", .pool_count = ", t->pool_count);
    out_ptr(o, ",\n    .servers = ", "gen_servers", t->server_count);
    out_field_u64(o, ", .server_count = ", t->server_count);
    out_ptr(o, ",\n    .listeners = ", "gen_listeners", t->listener_count);
    out_field_u64(o, ", .listener_count = ", t->listener_count);
    out_ptr(o, ",\n    .binds = ", "gen_binds", t->bind_count);
    out_field_u64(o, ", .bind_count = ", t->bind_count);
    out_ptr(o, ",\n    .logs = ", "gen_logs", t->log_count);
    out_field_u64(o, ", .log_count = ", t->log_count);
    out_ptr(o, ",\n    .errors = ", "gen_errors", t->error_count);
    out_field_u64(o, ", .error_count = ", t->error_count);
    out_field_str(o, ",\n    .global = {\n        .user = ", g->user);
    out_field_str(o, ", .group = ", g->group);
    out_field_str(o, ", .chroot = ", g->chroot);
    out_field_str(o, ",\n        .admin_socket = ", g->admin_socket);
    out_str(o, ", .admin_mode = 0");
    {
        char mode[16];
        int n = snprintf(mode, sizeof(mode), "%o", (unsigned)g->admin_mode);

        out_mem(o, mode, (size_t)n);
    }
    out_field_u64(o, ", .admin_timeout_ms = ", g->admin_timeout_ms);
    out_field_u64(o, ", .admin_level = ", g->admin_level);
    out_field_u64(o, ",\n        .workers = ", g->workers);
    out_field_u64(o, ", .maxconn = ", g->maxconn);
    out_field_u64(o, ",\n    },\n    .timeouts = {\n        .connect_ms = ", to->connect_ms);
    out_field_u64(o, ", .client_ms = ", to->client_ms);
    out_field_u64(o, ", .server_ms = ", to->server_ms);
    out_field_u64(o, ", .inspect_ms = ", to->inspect_ms);
    out_field_u64(o, ",\n        .tunnel_ms = ", to->tunnel_ms);
    out_field_u64(o, ", .grace_ms = ", to->grace_ms);
    out_field_u64(o, ", .retry_ms = ", to->retry_ms);
    out_field_str(o, ",\n    },\n    .config = ", t->config);
    out_str(o, ",\n    .digest =");
    out_literal(o, t->digest, dlen, " ", true);
    out_str(o, ",\n};\n");
}

int
emit_table(FILE *f, const struct yt_table *t, const char *input_name)
{
    struct out *o = malloc(sizeof(*o));
    int err;

    if (o == NULL)
        return -1;
    o->f = f;
    o->len = 0;
    o->err = 0;
    o->esc_ready = false;
    out_header(o, input_name);
    if (t->bucket_count > 0)
        out_raw_array(o, "uint16_t", "gen_disp", t->disp, t->bucket_count, 2, put_u16);
    if (t->slot_count > t->key_count)
        out_raw_array(o, "uint32_t", "gen_remap", t->remap, t->slot_count - t->key_count, 4,
                      put_u32);
    if (t->key_count > 0)
        out_raw_array(o, "struct yt_key", "gen_keys", t->keys, t->key_count, 12, put_key);
    out_blob(o, t->blob, t->blob_len);
    if (t->site_count > 0)
        out_raw_array(o, "struct yt_site", "gen_sites", t->sites, t->site_count, 24, put_site);
    if (t->pool_count > 0)
        out_raw_array(o, "struct yt_pool", "gen_pools", t->pools, t->pool_count, 16, put_pool);
    if (t->server_count > 0)
        out_servers(o, t->servers, t->server_count);
    if (t->listener_count > 0)
        out_listeners(o, t->listeners, t->listener_count);
    if (t->bind_count > 0)
        out_binds(o, t->binds, t->bind_count);
    if (t->log_count > 0)
        out_logs(o, t->logs, t->log_count);
    if (t->error_count > 0)
        out_errors(o, t->errors, t->error_count);
    out_table(o, t);
    out_flush(o);
    if (o->err == 0 && fflush(f) != 0)
        o->err = errno != 0 ? errno : EIO;
    if (o->err == 0 && ferror(f))
        o->err = EIO;
    err = o->err;
    free(o);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

int
emit_table_file(const char *path, const struct yt_table *t, const char *input_name)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof(".tmp"));
    FILE *f;
    int err = 0;

    if (tmp == NULL)
        return -1;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", sizeof(".tmp"));
    f = fopen(tmp, "w");
    if (f == NULL) {
        err = errno;
        free(tmp);
        errno = err;
        return -1;
    }
    if (emit_table(f, t, input_name) == -1)
        err = errno;
    if (fclose(f) != 0 && err == 0)
        err = errno;
    if (err == 0 && rename(tmp, path) == -1)
        err = errno;
    if (err != 0)
        unlink(tmp);
    free(tmp);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}
