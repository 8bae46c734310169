/* The compiled configuration: the C types of the table that yardc emits and the proxy reads.
 *
 * This header is the only contract between the compiler and the runtime. yardc builds a
 * struct yt_table in memory, checks the configuration's `expect` statements against it
 * with yt_resolve(), and writes it out as C (`gen_table`); the runtime links that file
 * and answers every routing question with the same yt_resolve(). The hash is defined
 * here, once, so both sides compute bit-identical values.
 *
 * Strings live in one blob and are referenced by offset (struct yt_str), never by
 * pointer: the table needs no load-time relocation per entry and compiles fast. */
#ifndef RUNTIME_TABLE_H
#define RUNTIME_TABLE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define YT_ABI 3
#define YT_NONE UINT32_MAX
#define YT_NAME_MAX 253     /* longest host name, without a trailing dot (RFC 1035 §2.3.4) */
#define YT_WORKERS_MAX 64   /* processes a binary runs at most (global workers) */
#define YT_LOGS_MAX 4       /* log targets (global log) */

/* Port in network byte order as a constant expression, for the emitted initialisers. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define YT_BE16(x) ((uint16_t)(x))
#else
#define YT_BE16(x) ((uint16_t)((((x) & 0xffu) << 8) | (((x) >> 8) & 0xffu)))
#endif

enum yt_mode {
    YT_MODE_TLS = 0,        /* layer 4: route by the ClientHello's SNI, pass bytes through */
    YT_MODE_HTTP,           /* layer 7: route each request by its Host */
    YT_MODE_REDIRECT,       /* answer plain HTTP with a redirect to https:// */
    YT_MODE_METRICS,        /* answer GET /metrics with the counters (Prometheus) */
    YT_MODE_QUIC,           /* UDP: route QUIC by its Initial's SNI, pass datagrams through */
    YT_MODE_COUNT
};

/* A site has at most one pool per protocol: the TLS one, the plain-HTTP one (which a
 * redirect listener also uses for the ACME HTTP-01 carve-out) and the QUIC one (UDP). */
enum yt_proto { YT_PROTO_TLS = 0, YT_PROTO_HTTP, YT_PROTO_QUIC, YT_PROTO_COUNT };

struct yt_str {
    uint32_t off, len;      /* bytes blob[off .. off + len), no NUL */
};

union yt_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

enum {
    YT_SERVER_BACKUP = 1u << 0,     /* used only when no other server of the pool is up */
    YT_SERVER_PROXY_V1 = 1u << 1,   /* send a PROXY protocol v1 header first */
    YT_SERVER_PROXY_V2 = 1u << 2,   /* send a PROXY protocol v2 header first */
};

struct yt_server {
    struct sockaddr_in6 addr;       /* ready for connect() */
    struct yt_str name;             /* "[2001:db8::1]:443", for logs */
    uint16_t weight;                /* 1 .. 256, default 1 */
    uint16_t flags;                 /* YT_SERVER_* */
};

struct yt_pool {
    struct yt_str name;             /* declared name, or "<site>/tls", "<site>/http" */
    uint32_t first, count;          /* servers[first .. first + count) */
};

/* Active health checks of a pool's servers (the `check` line). */
enum yt_check_kind {
    YT_CHECK_TCP = 0,               /* a connect that succeeds within timeout_ms passes */
    YT_CHECK_HTTP,                  /* a request whose status is in [status_min, status_max] */
};

struct yt_check {
    uint32_t kind;                  /* enum yt_check_kind; in defaults, HTTP means "HTTP for
                                     * the pools that serve http, TCP for the others" */
    uint32_t interval_ms;           /* from the start of one check to the next */
    uint32_t timeout_ms;            /* <= interval_ms: at most one check in flight */
    uint16_t rise, fall;            /* passes to come up, failures to go down */
    uint16_t status_min, status_max;/* http: 100 .. 599 */
    struct yt_str method, path;     /* http: "GET", "/health" */
    struct yt_str host;             /* http: Host; empty: the server's "[addr]:port" */
};

enum {
    YT_SITE_ACME = 1u << 0,         /* redirect listeners proxy /.well-known/acme-challenge/ */
    YT_SITE_FORWARDED_FOR = 1u << 1,/* http: add X-Forwarded-For and X-Forwarded-Proto */
};

struct yt_site {
    struct yt_str name;             /* normalised: "shop.example.com" or "*.example.com" */
    uint32_t pool[YT_PROTO_COUNT];  /* index into pools, or YT_NONE */
    uint32_t flags;                 /* YT_SITE_* */
};

/* One slot of the perfect hash. Exact names are stored as they are; a wildcard
 * "*.example.com" is stored as ".example.com", which no exact name can equal. */
struct yt_key {
    uint32_t off;                   /* name bytes in the blob */
    uint32_t site;                  /* index into sites */
    uint16_t len;
    uint16_t fp;                    /* yt_fp() of the name's hash: most misses stop here */
};

struct yt_bind {
    union yt_addr addr;             /* AF_INET or AF_INET6; port in network order */
    uint8_t v6only;                 /* 0 for "[::]:443" written as ":443": IPv4 and IPv6 */
};

enum {
    YT_LISTENER_FORWARDED_FOR = 1u << 0,  /* http: add X-Forwarded-For / -Proto on all sites */
    YT_LISTENER_DONTLOGNULL = 1u << 1,    /* no log line for connections that sent nothing */
    YT_LISTENER_LOG_OFF = 1u << 2,        /* no access lines (errors are still logged) */
    YT_LISTENER_LOG_JSON = 1u << 3,       /* access lines as JSON objects (log-format json) */
    YT_LISTENER_PROXY_OPTIONAL = 1u << 4, /* accept-proxy optional: a trusted source may
                                           * also connect without a PROXY header */
};

/* A source range trusted to send PROXY headers (accept-proxy). IPv4 ranges are kept
 * IPv4-mapped (::ffff:a.b.c.d, prefix + 96), so one compare serves both families. */
struct yt_range {
    uint8_t addr[16];               /* host bits zero */
    uint8_t prefix;                 /* 0 .. 128 */
    uint8_t pad[3];
};

struct yt_listener {
    struct yt_str name;
    uint32_t mode;                  /* enum yt_mode */
    uint32_t first_bind, bind_count;/* binds[first_bind .. first_bind + bind_count) */
    uint32_t fallback_pool;         /* pool for unknown names, or YT_NONE */
    uint16_t fallback_status;       /* http: answer for unknown Host without fallback pool */
    uint16_t redirect_status;       /* redirect: 301, 302, 307 or 308 */
    uint16_t redirect_port;         /* redirect: port in Location; 443 is left out */
    uint16_t relay;                 /* tls, http (its WebSocket tunnels): enum yt_relay,
                                     * the listener's own or the global's; other modes:
                                     * YT_RELAY_USER */
    uint32_t max_head;              /* http, redirect: largest request head in bytes */
    uint32_t flags;                 /* YT_LISTENER_* */
    uint32_t sample_num, sample_den;/* log sample NUM/DEN: that many access lines in every
                                     * DEN, by a counter; 0/0: every line */
    /* tls, http: ranges[first_range .. first_range + range_count) may (must, unless
     * YT_LISTENER_PROXY_OPTIONAL) send a PROXY header first; range_count 0: no one may */
    uint32_t first_range, range_count;
};

struct yt_timeouts {                /* all in milliseconds */
    uint32_t connect_ms;            /* backend connect */
    uint32_t client_ms;             /* client idle */
    uint32_t server_ms;             /* server idle */
    uint32_t inspect_ms;            /* whole ClientHello or request head */
    uint32_t tunnel_ms;             /* idle in a tunnel (TLS relay, WebSocket) */
    uint32_t grace_ms;              /* on SIGTERM: how long open connections may finish */
    uint32_t retry_ms;              /* a server marked down is tried again after this */
};

enum yt_log_kind { YT_LOG_STDERR = 0, YT_LOG_SYSLOG, YT_LOG_UDP };

/* The syslog header of a syslog or udp target. */
enum yt_log_format { YT_LOG_RFC3164 = 0, YT_LOG_RFC5424, YT_LOG_FORMAT_COUNT };

struct yt_log {
    uint32_t kind;                  /* enum yt_log_kind */
    struct yt_str path;             /* syslog: unix datagram socket, e.g. "/dev/log" */
    uint8_t facility;               /* syslog facility number, 16 = local0 */
    uint8_t level;                  /* least severe level sent, 7 = debug (all) */
    uint8_t format;                 /* syslog, udp: enum yt_log_format */
    uint8_t pad;
    union yt_addr addr;             /* udp: where the datagrams go; port in network order */
};

struct yt_errpage {
    uint16_t status;
    uint16_t pad;
    struct yt_str response;         /* a whole HTTP/1.1 response: head and body */
};

/* What a peer of the admin socket may do, unless it is root or the proxy's own user (who
 * may do everything): operator reads (show ...), admin also stops the proxy. */
enum yt_admin_level { YT_ADMIN_OPERATOR = 0, YT_ADMIN_ADMIN };

/* Which relay moves a layer-4 connection's bytes once it is routed (`relay`): user space
 * (the default); the kernel's (user space, with a warning, when it cannot be loaded); the
 * kernel's when it can be loaded, else user space. */
enum yt_relay { YT_RELAY_USER = 0, YT_RELAY_KERNEL, YT_RELAY_AUTO };

struct yt_global {
    struct yt_str user, group, chroot;      /* empty: unchanged */
    struct yt_str admin_socket;             /* empty: none */
    uint32_t admin_mode;                    /* file mode of the admin socket, e.g. 0660 */
    uint32_t admin_timeout_ms;
    uint32_t admin_level;                   /* enum yt_admin_level */
    uint32_t workers;                       /* processes, default 1 */
    uint32_t maxconn;                       /* per worker */
    uint32_t relay;                         /* enum yt_relay */
};

struct yt_table {
    uint32_t abi;                   /* YT_ABI */
    uint32_t pad;
    uint64_t seed;
    /* the perfect hash: key_count keys in slot_count >= key_count slots */
    uint32_t bucket_count, slot_count, key_count;
    const uint16_t *disp;           /* bucket_count displacements */
    const uint32_t *remap;          /* slot_count - key_count: slots past the end, remapped */
    const struct yt_key *keys;      /* key_count, in slot order */
    const char *blob;
    uint64_t blob_len;
    const struct yt_site *sites;
    uint32_t site_count;
    const struct yt_pool *pools;
    uint32_t pool_count;
    const struct yt_server *servers;
    uint32_t server_count;
    const struct yt_listener *listeners;
    uint32_t listener_count;
    const struct yt_bind *binds;
    uint32_t bind_count;
    const struct yt_range *ranges;
    uint32_t range_count;
    const struct yt_log *logs;
    uint32_t log_count;
    const struct yt_errpage *errors;
    uint32_t error_count;
    struct yt_global global;
    struct yt_timeouts timeouts;
    const struct yt_check *checks;  /* distinct check settings */
    uint32_t check_count;
    uint32_t default_check;         /* the defaults' `check` line: index or YT_NONE */
    const uint32_t *pool_checks;    /* pool_count entries: index into checks or YT_NONE;
                                     * NULL when no pool is checked */
    struct yt_str config;           /* canonical text before the sites (yt_print_config) */
    char digest[65];                /* hex SHA-256 of the canonical text, NUL-terminated */
    struct yt_str config_tail;      /* canonical text after the sites (yt_print_config) */
};

/* ---- the language's words for the table's numbers: yardc reads and prints them, the
 * runtime logs them and takes them as arguments; one list each, indexed by the number ---- */

static const char *const yt_mode_names[YT_MODE_COUNT] = {
    "tls", "http", "redirect", "metrics", "quic",
};
static const char *const yt_proto_names[YT_PROTO_COUNT] = { "tls", "http", "quic" };

/* struct yt_timeouts, field by field */
#define YT_TIMEOUT_COUNT 7
static const char *const yt_timeout_names[YT_TIMEOUT_COUNT] = {
    "connect", "client", "server", "inspect", "tunnel", "grace", "retry",
};

/* syslog facilities (RFC 5424 §6.2.1) and levels (severities), by number */
#define YT_FACILITY_COUNT 24
static const char *const yt_facility_names[YT_FACILITY_COUNT] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7",
};
#define YT_LEVEL_COUNT 8
static const char *const yt_level_names[YT_LEVEL_COUNT] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* enum yt_log_format (`format` of a log target); the access line's forms (`log-format`:
 * text, or json with YT_LISTENER_LOG_JSON) */
static const char *const yt_log_format_names[YT_LOG_FORMAT_COUNT] = { "rfc3164", "rfc5424" };
#define YT_LINE_FORMAT_COUNT 2
static const char *const yt_line_format_names[YT_LINE_FORMAT_COUNT] = { "text", "json" };

/* enum yt_admin_level */
#define YT_ADMIN_LEVEL_COUNT 2
static const char *const yt_admin_level_names[YT_ADMIN_LEVEL_COUNT] = { "operator", "admin" };

/* enum yt_relay */
#define YT_RELAY_COUNT 3
static const char *const yt_relay_names[YT_RELAY_COUNT] = { "user", "kernel", "auto" };

/* Whether a listener of mode relays TCP bytes once routed, and so takes a `relay`: a tls
 * listener its connections, an http listener its WebSocket tunnels. */
static inline bool
yt_mode_relays(uint32_t mode)
{
    return mode == YT_MODE_TLS || mode == YT_MODE_HTTP;
}

/* The table linked into the binary, emitted by yardc. */
extern const struct yt_table gen_table;

/* ---- hashing: identical in yardc and the runtime ---- */

static inline uint64_t
yt_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
yt_load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint64_t
yt_load32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

#define YT_K0 0xa0761d6478bd642full
#define YT_K1 0xe7037ed1a0b428dbull
#define YT_K2 0x8ebc6af09c88c6e3ull

/* A multiply-mix hash of len bytes (wyhash-like). Reads only p[0 .. len). */
static inline uint64_t
yt_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = yt_mix(seed ^ YT_K0, YT_K1 ^ len);
    uint64_t a = 0, b = 0;
    size_t n = len;

    for (; n > 16; p += 16, n -= 16)
        h = yt_mix(yt_load64(p) ^ YT_K1, yt_load64(p + 8) ^ h);
    if (n >= 8) {
        a = yt_load64(p);
        b = yt_load64(p + n - 8);
    } else if (n >= 4) {
        a = yt_load32(p);
        b = yt_load32(p + n - 4);
    } else if (n > 0) {
        a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
    }
    return yt_mix(yt_mix(a ^ YT_K1, b ^ h), YT_K2 ^ len);
}

/* Bucket of a hash: the high 32 bits, mapped onto [0, bucket_count) without a division. */
static inline uint32_t
yt_bucket(uint64_t h, uint32_t bucket_count)
{
    return (uint32_t)(((h >> 32) * (uint64_t)bucket_count) >> 32);
}

/* Slot of a hash under a bucket's displacement, in [0, slot_count). */
static inline uint32_t
yt_slot(uint64_t h, uint16_t disp, uint32_t slot_count)
{
    uint64_t x = yt_mix(h ^ ((uint64_t)disp * YT_K2), YT_K0);

    return (uint32_t)(((x & 0xffffffffu) * (uint64_t)slot_count) >> 32);
}

static inline uint16_t
yt_fp(uint64_t h)
{
    return (uint16_t)(h >> 16);
}

/* The site whose key is exactly name[0..len) (a wildcard key starts with '.'), or
 * YT_NONE. One hash, one displacement read, one slot read, at most one compare. */
static inline uint32_t
yt_find(const struct yt_table *t, const char *name, size_t len)
{
    uint64_t h;
    uint32_t pos;
    const struct yt_key *k;

    if (t->key_count == 0 || len == 0 || len > YT_NAME_MAX + 1)
        return YT_NONE;
    h = yt_hash(name, len, t->seed);
    pos = yt_slot(h, t->disp[yt_bucket(h, t->bucket_count)], t->slot_count);
    if (pos >= t->key_count)
        pos = t->remap[pos - t->key_count];
    k = &t->keys[pos];
    if (k->fp != yt_fp(h) || k->len != len || memcmp(t->blob + k->off, name, len) != 0)
        return YT_NONE;
    return k->site;
}

/* The site for a normalised host name (lowercase, no port, no trailing dot): the exact
 * name first, then wildcards from the most specific suffix to the least. */
static inline uint32_t
yt_site_for(const struct yt_table *t, const char *name, size_t len)
{
    uint32_t site = yt_find(t, name, len);

    for (size_t i = 1; site == YT_NONE && i < len; i++)
        if (name[i] == '.')
            site = yt_find(t, name + i, len - i);
    return site;
}

/* The 16 bytes a range compares: an IPv6 address as it is, an IPv4 one mapped. */
static inline void
yt_addr_bytes(const union yt_addr *a, uint8_t out[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (a->sa.sa_family == AF_INET) {
        memcpy(out, mapped, 12);
        memcpy(out + 12, &a->in4.sin_addr, 4);
    } else {
        memcpy(out, &a->in6.sin6_addr, 16);
    }
}

/* Whether the first prefix bits of a and b are equal. */
static inline bool
yt_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
    unsigned whole = prefix / 8, rest = prefix % 8;

    if (memcmp(a, b, whole) != 0)
        return false;
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

/* Whether the listener trusts the address (AF_INET or AF_INET6, as accept() gave it) to
 * send a PROXY header: it lies in one of the listener's accept-proxy ranges. */
static inline bool
yt_proxy_trusted(const struct yt_table *t, const struct yt_listener *l, const union yt_addr *a)
{
    uint8_t bytes[16];

    if (a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6)
        return false;
    yt_addr_bytes(a, bytes);
    for (uint32_t i = 0; i < l->range_count; i++) {
        const struct yt_range *r = &t->ranges[l->first_range + i];

        if (yt_prefix_equal(bytes, r->addr, r->prefix))
            return true;
    }
    return false;
}

/* What a listener does with a request for a name. */
enum yt_action {
    YT_ACT_POOL = 0,        /* connect to .pool */
    YT_ACT_STATUS,          /* http: answer .status (no route) */
    YT_ACT_ALERT,           /* tls: no route: alert unrecognized_name and close; quic:
                             * no route: the flow's datagrams are dropped */
    YT_ACT_REDIRECT,        /* redirect: answer .status with Location: https://... */
};

struct yt_decision {
    enum yt_action action;
    uint32_t site;          /* YT_NONE when no site matched */
    uint32_t pool;          /* YT_ACT_POOL: index into pools */
    uint16_t status;        /* YT_ACT_STATUS, YT_ACT_REDIRECT */
    bool fallback;          /* the listener's fallback was used */
};

#define YT_ACME_PREFIX "/.well-known/acme-challenge/"

/* Whether path[0..len) (a request target's path and query) is an ACME HTTP-01 challenge
 * that may be proxied: it starts with YT_ACME_PREFIX and its path after that holds no dot
 * segment ("." or "..", RFC 3986 §5.2.4), no percent-encoding (which could hide one, or a
 * '/': challenge tokens are base64url, RFC 8555 §8.3) and no backslash. Anything else
 * under the prefix could name another resource on the server once normalised there. */
static inline bool
yt_acme_path_ok(const char *path, size_t len)
{
    size_t n = sizeof(YT_ACME_PREFIX) - 1, seg;

    if (path == NULL || len < n || memcmp(path, YT_ACME_PREFIX, n) != 0)
        return false;
    for (seg = n;; n++) {
        bool end = n == len || path[n] == '?';

        if (end || path[n] == '/') {
            if ((n - seg == 1 && path[seg] == '.') ||
                (n - seg == 2 && path[seg] == '.' && path[seg + 1] == '.'))
                return false;
            if (end)
                return true;
            seg = n + 1;
        } else if (path[n] == '%' || path[n] == '\\') {
            return false;
        }
    }
}

/* The protocol whose pool a listener of mode routes to (redirect: http, for ACME). */
static inline uint32_t
yt_mode_proto(uint32_t mode)
{
    return mode == YT_MODE_TLS ? YT_PROTO_TLS : mode == YT_MODE_QUIC ? YT_PROTO_QUIC
                                                                     : YT_PROTO_HTTP;
}

/* The one routing decision, used by the proxy, `switchyard --resolve` and yardc's
 * `expect` checks. name is normalised; path is the request target (redirect
 * listeners only; may be NULL). */
static inline struct yt_decision
yt_resolve(const struct yt_table *t, const struct yt_listener *l, const char *name,
           size_t len, const char *path, size_t path_len)
{
    struct yt_decision d = { .action = YT_ACT_POOL, .site = YT_NONE, .pool = YT_NONE };
    uint32_t proto = yt_mode_proto(l->mode);
    const struct yt_site *s;

    d.site = name != NULL ? yt_site_for(t, name, len) : YT_NONE;
    s = d.site != YT_NONE ? &t->sites[d.site] : NULL;
    if (l->mode == YT_MODE_REDIRECT) {
        if (s != NULL && (s->flags & YT_SITE_ACME) && s->pool[YT_PROTO_HTTP] != YT_NONE &&
            yt_acme_path_ok(path, path_len)) {
            d.pool = s->pool[YT_PROTO_HTTP];
            return d;
        }
        d.action = YT_ACT_REDIRECT;
        d.status = l->redirect_status;
        return d;
    }
    if (s != NULL && s->pool[proto] != YT_NONE) {
        d.pool = s->pool[proto];
        return d;
    }
    d.fallback = true;
    if (l->fallback_pool != YT_NONE) {
        d.pool = l->fallback_pool;
        return d;
    }
    d.action = proto != YT_PROTO_HTTP ? YT_ACT_ALERT : YT_ACT_STATUS;
    d.status = proto != YT_PROTO_HTTP ? 0 : l->fallback_status;
    return d;
}

/* ---- the canonical text (yardc --print, switchyard --print-config) ----
 * A million sites would store their names twice, once in the table and once in the text,
 * so the table keeps the text before the sites (config) and after them (config_tail), and
 * the sites' lines are written from the table, by these functions in yardc (which takes
 * the digest over the same bytes) and in the runtime alike. put() receives the text in
 * pieces, in order. */

/* The decimal digits of v, for the text's numbers. */
static inline void
yt_print_u32(uint32_t v, void (*put)(void *ctx, const char *s, size_t len), void *ctx)
{
    char d[10];
    size_t i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(ctx, d + i, sizeof(d) - i);
}

static inline void
yt_print_str(const struct yt_table *t, struct yt_str s,
             void (*put)(void *ctx, const char *s, size_t len), void *ctx)
{
    put(ctx, t->blob + s.off, s.len);
}

#define YT_PUT_LIT(put, ctx, lit) (put)((ctx), (lit), sizeof(lit) - 1)

/* A pool written inside a site ("tls [a]:443, [b]:443;") is named "<site>/<proto>". */
static inline bool
yt_pool_is_inline(const struct yt_table *t, const struct yt_pool *p)
{
    return memchr(t->blob + p->name.off, '/', p->name.len) != NULL;
}

/* The servers of p with their options, sep between them. A server's name is its address
 * as the language writes it, "[2001:db8::1]:443". */
static inline void
yt_print_servers(const struct yt_table *t, const struct yt_pool *p, const char *sep,
                 void (*put)(void *ctx, const char *s, size_t len), void *ctx)
{
    for (uint32_t i = 0; i < p->count; i++) {
        const struct yt_server *s = &t->servers[p->first + i];

        if (i > 0)
            put(ctx, sep, strlen(sep));
        yt_print_str(t, s->name, put, ctx);
        if (s->weight != 1) {
            YT_PUT_LIT(put, ctx, " weight ");
            yt_print_u32(s->weight, put, ctx);
        }
        if (s->flags & YT_SERVER_BACKUP)
            YT_PUT_LIT(put, ctx, " backup");
        if (s->flags & YT_SERVER_PROXY_V1)
            YT_PUT_LIT(put, ctx, " send-proxy");
        if (s->flags & YT_SERVER_PROXY_V2)
            YT_PUT_LIT(put, ctx, " send-proxy-v2");
    }
}

/* One site's block: on one line when it holds one statement, else one statement a line. */
static inline void
yt_print_site(const struct yt_table *t, const struct yt_site *s,
              void (*put)(void *ctx, const char *s, size_t len), void *ctx)
{
    /* http before tls: the order of the table's protocols is not the order of reading */
    static const int order[YT_PROTO_COUNT] = { YT_PROTO_HTTP, YT_PROTO_TLS, YT_PROTO_QUIC };
    uint32_t lines = ((s->flags & YT_SITE_ACME) != 0) + ((s->flags & YT_SITE_FORWARDED_FOR) != 0);
    const char *ind, *eol;
    size_t ind_len;

    for (int k = 0; k < YT_PROTO_COUNT; k++)
        lines += s->pool[k] != YT_NONE;
    ind = lines == 1 ? " " : "    ";
    eol = lines == 1 ? " " : "\n";
    ind_len = strlen(ind);

    YT_PUT_LIT(put, ctx, "site ");
    yt_print_str(t, s->name, put, ctx);
    YT_PUT_LIT(put, ctx, " {");
    put(ctx, eol, 1);
    for (int i = 0; i < YT_PROTO_COUNT; i++) {
        int k = order[i];
        const struct yt_pool *p;

        if (s->pool[k] == YT_NONE)
            continue;
        p = &t->pools[s->pool[k]];
        put(ctx, ind, ind_len);
        put(ctx, yt_proto_names[k], strlen(yt_proto_names[k]));
        put(ctx, " ", 1);
        if (yt_pool_is_inline(t, p))
            yt_print_servers(t, p, ", ", put, ctx);
        else
            yt_print_str(t, p->name, put, ctx);
        put(ctx, ";", 1);
        put(ctx, eol, 1);
    }
    if (s->flags & YT_SITE_ACME) {
        put(ctx, ind, ind_len);
        YT_PUT_LIT(put, ctx, "acme;");
        put(ctx, eol, 1);
    }
    if (s->flags & YT_SITE_FORWARDED_FOR) {
        put(ctx, ind, ind_len);
        YT_PUT_LIT(put, ctx, "forwarded-for;");
        put(ctx, eol, 1);
    }
    YT_PUT_LIT(put, ctx, "}\n");
}

/* The whole canonical text: what the digest covers and --print-config shows. */
static inline void
yt_print_config(const struct yt_table *t, void (*put)(void *ctx, const char *s, size_t len),
                void *ctx)
{
    yt_print_str(t, t->config, put, ctx);
    for (uint32_t i = 0; i < t->site_count; i++)
        yt_print_site(t, &t->sites[i], put, ctx);
    yt_print_str(t, t->config_tail, put, ctx);
}

#endif
