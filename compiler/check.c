#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "domain.h"
#include "errpage.h"
#include "lexer.h"
#include "parser.h"
#include "phash.h"
#include "print.h"
#include "sha256.h"
#include "suggest.h"

#define NONE YT_NONE

/* ---- defaults of the language ---- */
#define DEF_CONNECT_MS 5000u
#define DEF_CLIENT_MS 50000u
#define DEF_SERVER_MS 50000u
#define DEF_INSPECT_MS 5000u
#define DEF_TUNNEL_MS 3600000u
#define DEF_GRACE_MS 10000u
#define DEF_RETRY_MS 10000u
#define DEF_WORKERS 1u
#define DEF_MAXCONN 10000u
#define DEF_MAX_HEAD 16384u
#define DEF_FALLBACK_STATUS 503u
#define DEF_REDIRECT_STATUS 301u
#define DEF_REDIRECT_PORT 443u
#define DEF_ADMIN_MODE 0600u
#define DEF_ADMIN_TIMEOUT_MS 10000u
#define MAX_TIMEOUT_MS (24u * 3600u * 1000u)

struct server {
    struct sockaddr_in6 addr;
    uint16_t weight, flags;
};

struct pool {
    const char *name;
    uint32_t name_len;
    struct loc loc;
    bool named, used;
    struct server *servers;
    uint32_t count;
    uint32_t final;                     /* index in the table */
};

struct site {
    const char *name;                   /* normalised, NUL-terminated */
    uint32_t len;
    uint32_t pool[YT_PROTO_COUNT];
    uint32_t flags;
    struct loc loc;
    bool from_block;                    /* a `site` block, not a domain list line */
};

struct listener {
    struct yt_listener yl;
    const char *name;
    uint32_t name_len;
    struct loc loc;
    struct yt_bind *binds;
    struct loc *bind_locs;
    uint32_t bind_count;
};

struct log {
    struct yt_log yl;
    const char *path;
    uint32_t path_len;
};

struct page {
    uint16_t status;
    struct loc loc;
    const char *data;
    size_t len;
};

/* An open-addressing set of names; slots hold index + 1, names are looked up through
 * the owner's arrays. */
struct nameset {
    uint32_t *slots;
    uint32_t *hashes;
    uint32_t mask, count;
};

struct ck {
    struct load *l;
    struct arena *arena;
    struct diag *diag;
    struct avec pools;                  /* struct pool */
    struct nameset pool_names;
    struct avec sites;                  /* struct site */
    struct nameset site_names;
    struct avec listeners;              /* struct listener */
    struct avec logs;                   /* struct log */
    struct avec pages;                  /* struct page */
    struct avec expects;                /* struct check_expect */
    struct yt_global global;
    const char *user, *group, *chroot, *admin;
    struct yt_timeouts timeouts;
    bool dontlognull;
    bool site_errors;                   /* some site was dropped: routes are unknown */
    uint32_t wildcards;
    uint32_t *pool_final;               /* old pool index -> table index */
    uint32_t *site_of;                  /* table site index -> sites index */
};

/* ---- small helpers ---- */

static struct loc
sub(struct loc l, size_t off, size_t len)
{
    struct loc r = { .src = l.src, .off = l.off + (uint32_t)off, .len = (uint32_t)len };

    return r;
}

static const char *
text(const struct ck *ck, struct loc l)
{
    return diag_text(ck->diag, l);
}

static bool
stopped(const struct ck *ck)
{
    return diag_is_stopped(ck->diag);
}

static uint32_t
name_hash(const char *s, size_t len)
{
    return (uint32_t)yt_hash(s, len, 0x9e3779b97f4a7c15ull);
}

static void
nameset_init(struct ck *ck, struct nameset *s, uint32_t cap)
{
    uint32_t n = 16;

    while (n < cap * 2)
        n *= 2;
    s->slots = arena_calloc(ck->arena, n, sizeof(uint32_t));
    s->hashes = arena_calloc(ck->arena, n, sizeof(uint32_t));
    s->mask = n - 1;
    s->count = 0;
}

typedef const char *(*name_of_fn)(const struct ck *ck, uint32_t idx, uint32_t *len);

static const char *
pool_name_of(const struct ck *ck, uint32_t idx, uint32_t *len)
{
    const struct pool *p = AVEC_AT(&ck->pools, struct pool, idx);

    *len = p->name_len;
    return p->name;
}

static const char *
site_name_of(const struct ck *ck, uint32_t idx, uint32_t *len)
{
    const struct site *s = AVEC_AT(&ck->sites, struct site, idx);

    *len = s->len;
    return s->name;
}

static uint32_t
nameset_find(const struct ck *ck, const struct nameset *s, name_of_fn name_of, const char *name,
             size_t len, uint32_t h)
{
    for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
        uint32_t v = s->slots[i], nlen;
        const char *n;

        if (v == 0)
            return NONE;
        if (s->hashes[i] != h)
            continue;
        n = name_of(ck, v - 1, &nlen);
        if (nlen == len && memcmp(n, name, len) == 0)
            return v - 1;
    }
}

static void
nameset_add(struct ck *ck, struct nameset *s, uint32_t idx, uint32_t h)
{
    uint32_t i;

    if ((s->count + 1) * 2 > s->mask + 1) {
        struct nameset n;

        nameset_init(ck, &n, s->mask + 1);
        for (uint32_t j = 0; j <= s->mask; j++) {
            if (s->slots[j] == 0)
                continue;
            for (i = s->hashes[j] & n.mask; n.slots[i] != 0; i = (i + 1) & n.mask)
                ;
            n.slots[i] = s->slots[j];
            n.hashes[i] = s->hashes[j];
        }
        n.count = s->count;
        arena_release(ck->arena, s->slots, (size_t)(s->mask + 1) * sizeof(uint32_t));
        arena_release(ck->arena, s->hashes, (size_t)(s->mask + 1) * sizeof(uint32_t));
        *s = n;
    }
    for (i = h & s->mask; s->slots[i] != 0; i = (i + 1) & s->mask)
        ;
    s->slots[i] = idx + 1;
    s->hashes[i] = h;
    s->count++;
}

static bool
parse_u32(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* A NUMBER argument within [min, max]. */
static bool
get_uint(struct ck *ck, struct ast_arg a, uint32_t min, uint32_t max, const char *what,
         uint32_t *out)
{
    uint32_t v;

    if (a.tok != TK_NUMBER || !parse_u32(text(ck, a.loc), a.loc.len, &v) || v < min ||
        v > max) {
        diag_error(ck->diag, a.loc, "%s must be a number from %u to %u", what, min, max);
        return false;
    }
    *out = v;
    return true;
}

const char *
check_duration(const char *s, size_t len, uint32_t *ms)
{
    size_t digits = 0;
    uint64_t v = 0, mult;

    while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
        v = v * 10 + (uint64_t)(s[digits] - '0');
        if (v > UINT32_MAX)
            return "duration out of range (1ms to 24h)";
        digits++;
    }
    if (digits == 0)
        return "expected a duration such as 5s";
    if (digits == len)
        return "a duration needs a unit: ms, s, m or h";
    if (len - digits == 2 && memcmp(s + digits, "ms", 2) == 0)
        mult = 1;
    else if (len - digits == 1 && s[digits] == 's')
        mult = 1000;
    else if (len - digits == 1 && s[digits] == 'm')
        mult = 60000;
    else if (len - digits == 1 && s[digits] == 'h')
        mult = 3600000;
    else
        return "unknown time unit (use ms, s, m or h)";
    v *= mult;
    if (v < 1 || v > MAX_TIMEOUT_MS)
        return "duration out of range (1ms to 24h)";
    *ms = (uint32_t)v;
    return NULL;
}

static bool
get_duration(struct ck *ck, struct ast_arg a, const char *what, uint32_t *ms)
{
    const char *t = text(ck, a.loc);
    const char *why = check_duration(t, a.loc.len, ms);

    if (why == NULL)
        return true;
    if (a.tok == TK_NUMBER)
        diag_error(ck->diag, a.loc, "%s needs a unit: did you mean '%.*sms'?", what,
                   (int)a.loc.len, t);
    else
        diag_error(ck->diag, a.loc, "%s: %s", what, why);
    return false;
}

/* A size: bytes, or a number with k (KiB) or m (MiB). */
static bool
get_size(struct ck *ck, struct ast_arg a, const char *what, uint32_t min, uint32_t max,
         uint32_t *out)
{
    const char *t = text(ck, a.loc);
    size_t digits = 0;
    uint64_t v = 0, mult = 1;

    while (digits < a.loc.len && t[digits] >= '0' && t[digits] <= '9' && v <= UINT32_MAX)
        v = v * 10 + (uint64_t)(t[digits++] - '0');
    if (digits + 1 == a.loc.len && (t[digits] == 'k' || t[digits] == 'K'))
        mult = 1024;
    else if (digits + 1 == a.loc.len && (t[digits] == 'm' || t[digits] == 'M'))
        mult = 1024 * 1024;
    else if (digits != a.loc.len || digits == 0) {
        diag_error(ck->diag, a.loc, "%s: expected a size in bytes, or with k or m", what);
        return false;
    }
    v *= mult;
    if (v < min || v > max) {
        diag_error(ck->diag, a.loc, "%s must be from %uk to %uk", what, min / 1024,
                   max / 1024);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* The value of a WORD or STRING argument; NULL (reported) when it holds a NUL byte or is
 * empty. */
static const char *
get_text(struct ck *ck, struct ast_arg a, const char *what, size_t *len)
{
    const char *v;

    if (a.tok == TK_STRING) {
        v = ast_string(ck->arena, ck->diag, a.loc, len);
    } else {
        v = arena_strndup(ck->arena, text(ck, a.loc), a.loc.len);
        *len = a.loc.len;
    }
    if (*len == 0 || strlen(v) != *len) {
        diag_error(ck->diag, a.loc, *len == 0 ? "%s cannot be empty" :
                   "%s cannot contain a NUL byte", what);
        return NULL;
    }
    return v;
}

static bool
valid_name(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Reports the item if an earlier one of the same kind exists in [first, it). */
static bool
is_duplicate(struct ck *ck, const struct ast_item *first, const struct ast_item *it,
             const char *what)
{
    for (const struct ast_item *p = first; p != NULL && p != it; p = p->next) {
        if (p->kind != it->kind)
            continue;
        diag_error(ck->diag, it->kw, "duplicate '%s'", what);
        diag_note(ck->diag, p->kw, "first set here");
        return true;
    }
    return false;
}

/* ---- addresses ---- */

static const char *
parse_port(const char *t, size_t len, size_t at, uint16_t *port, size_t *bad_off,
           size_t *bad_len)
{
    uint32_t v;

    if (at >= len || t[at] != ':') {
        *bad_off = at > 0 ? at - 1 : 0;
        *bad_len = 1;
        return "missing port: write the address as [IPv6]:port";
    }
    *bad_off = at + 1;
    *bad_len = len - at - 1;
    if (!parse_u32(t + at + 1, len - at - 1, &v) || v < 1 || v > 65535) {
        if (*bad_len == 0)
            *bad_off = at, *bad_len = 1;
        return "port must be a number from 1 to 65535";
    }
    *port = (uint16_t)v;
    return NULL;
}

/* Why t[0..len), not in brackets, is no backend: say what a backend is, in the terms of
 * what was written (an IPv4 address, a host name), with *bad_len on the host part. */
static const char *
unbracketed_server(const char *t, size_t len, size_t *bad_len)
{
    const char *colon = memchr(t, ':', len);
    size_t host_len = colon != NULL ? (size_t)(colon - t) : len;
    char host[16];

    if (host_len == 0 || (colon != NULL && memchr(colon + 1, ':', len - host_len - 1)))
        return "backends are IPv6 addresses in brackets, e.g. [2001:db8::1]:443";
    *bad_len = host_len;
    if (strspn(t, "0123456789.") < host_len)
        return "backends are IPv6 addresses in brackets, e.g. [2001:db8::1]:443, "
               "not host names";
    if (host_len < sizeof(host)) {
        struct in_addr a;

        memcpy(host, t, host_len);
        host[host_len] = '\0';
        if (inet_pton(AF_INET, host, &a) == 1)
            return "backends are IPv6 addresses in brackets; "
                   "write an IPv4 backend as [::ffff:A.B.C.D]:port";
    }
    *bad_len = len;
    return "backends are IPv6 addresses in brackets, e.g. [2001:db8::1]:443";
}

const char *
check_server_addr(const char *t, size_t len, struct sockaddr_in6 *out, size_t *bad_off,
                  size_t *bad_len)
{
    const char *close;
    char host[64];
    uint16_t port;
    const char *why;

    memset(out, 0, sizeof(*out));
    *bad_off = 0;
    *bad_len = len;
    if (len == 0 || t[0] != '[')
        return unbracketed_server(t, len, bad_len);
    close = memchr(t, ']', len);
    if (close == NULL || (size_t)(close - t) - 1 >= sizeof(host))
        return "invalid IPv6 address";
    memcpy(host, t + 1, (size_t)(close - t) - 1);
    host[close - t - 1] = '\0';
    if (inet_pton(AF_INET6, host, &out->sin6_addr) != 1) {
        *bad_off = 1;
        *bad_len = (size_t)(close - t) - 1;
        if (*bad_len == 0)
            *bad_off = 0, *bad_len = 2;
        return "invalid IPv6 address";
    }
    why = parse_port(t, len, (size_t)(close - t) + 1, &port, bad_off, bad_len);
    if (why != NULL)
        return why;
    out->sin6_family = AF_INET6;
    out->sin6_port = htons(port);
    return NULL;
}

const char *
check_bind_addr(const char *t, size_t len, struct yt_bind *out, size_t *bad_off,
                size_t *bad_len)
{
    static const char *const usage =
        "invalid listen address; use :PORT, *:PORT, A.B.C.D:PORT or [IPv6]:PORT";
    uint16_t port;
    const char *why;

    memset(out, 0, sizeof(*out));
    *bad_off = 0;
    *bad_len = len;
    if (len > 0 && (t[0] == ':' || (t[0] == '*' && len > 1 && t[1] == ':'))) {
        /* IPv4 and IPv6: [::] with IPV6_V6ONLY off */
        why = parse_port(t, len, t[0] == '*' ? 1 : 0, &port, bad_off, bad_len);
        if (why != NULL)
            return why;
        out->addr.in6.sin6_family = AF_INET6;
        out->addr.in6.sin6_addr = in6addr_any;
        out->addr.in6.sin6_port = htons(port);
        out->v6only = 0;
        return NULL;
    }
    if (len > 0 && t[0] == '[') {
        why = check_server_addr(t, len, &out->addr.in6, bad_off, bad_len);
        if (why != NULL)
            return why;
        out->v6only = 1;
        return NULL;
    }
    const char *colon = memchr(t, ':', len);
    char host[16];

    if (colon == NULL || colon == t || (size_t)(colon - t) >= sizeof(host))
        return usage;
    memcpy(host, t, (size_t)(colon - t));
    host[colon - t] = '\0';
    if (inet_pton(AF_INET, host, &out->addr.in4.sin_addr) != 1)
        return usage;
    why = parse_port(t, len, (size_t)(colon - t), &port, bad_off, bad_len);
    if (why != NULL)
        return why;
    out->addr.in4.sin_family = AF_INET;
    out->addr.in4.sin_port = htons(port);
    return NULL;
}

static bool
get_server_addr(struct ck *ck, struct loc loc, struct sockaddr_in6 *out)
{
    size_t off, len;
    const char *why = check_server_addr(text(ck, loc), loc.len, out, &off, &len);

    if (why != NULL)
        diag_error(ck->diag, sub(loc, off, len), "%s", why);
    return why == NULL;
}

/* ---- global ---- */

static const char *const facilities[] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7",
};
static const char *const levels[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* enum yt_admin_level */
static const char *const admin_levels[] = { "operator", "admin" };

static int
lookup_word(struct ck *ck, struct ast_arg a, const char *const *words, size_t count,
            const char *what)
{
    const char *t = text(ck, a.loc);
    const char *best;

    for (size_t i = 0; i < count; i++)
        if (strlen(words[i]) == a.loc.len && memcmp(words[i], t, a.loc.len) == 0)
            return (int)i;
    best = suggest(t, a.loc.len, words, count);
    if (best != NULL)
        diag_error(ck->diag, a.loc, "unknown %s '%.*s'; did you mean '%s'?", what,
                   (int)a.loc.len, t, best);
    else
        diag_error(ck->diag, a.loc, "unknown %s '%.*s'", what, (int)a.loc.len, t);
    return -1;
}

static void
check_log(struct ck *ck, const struct ast_item *it)
{
    struct log *lg;
    uint32_t i = 1;
    int fac, lvl = 7;
    const char *path = "/dev/log";
    size_t plen = 8;

    if (it->argv[0].tok == TK_STDERR) {
        lg = avec_push(&ck->logs);
        lg->yl.kind = YT_LOG_STDERR;
        lg->yl.level = 7;
        lg->path = "";
        return;
    }
    if (i < it->argc && it->argv[i].tok == TK_STRING) {
        path = get_text(ck, it->argv[i], "log socket path", &plen);
        if (path == NULL)
            return;
        if (path[0] != '/') {
            diag_error(ck->diag, it->argv[i].loc, "log socket path must be absolute");
            return;
        }
        i++;
    }
    fac = lookup_word(ck, it->argv[i], facilities, sizeof(facilities) / sizeof(facilities[0]),
                      "syslog facility");
    if (fac < 0)
        return;
    if (i + 1 < it->argc) {
        lvl = lookup_word(ck, it->argv[i + 1], levels, sizeof(levels) / sizeof(levels[0]),
                          "log level");
        if (lvl < 0)
            return;
    }
    lg = avec_push(&ck->logs);
    lg->yl.kind = YT_LOG_SYSLOG;
    lg->yl.facility = (uint8_t)fac;
    lg->yl.level = (uint8_t)lvl;
    lg->path = path;
    lg->path_len = (uint32_t)plen;
}

static void
check_admin(struct ck *ck, const struct ast_item *it)
{
    size_t len;
    const char *path = get_text(ck, it->argv[0], "admin socket path", &len);
    bool have_mode = false, have_timeout = false, have_level = false;

    if (path == NULL)
        return;
    if (path[0] != '/') {
        diag_error(ck->diag, it->argv[0].loc, "admin socket path must be absolute");
        return;
    }
    if (len >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        diag_error(ck->diag, it->argv[0].loc, "admin socket path longer than 107 bytes");
        return;
    }
    ck->admin = path;
    ck->global.admin_mode = DEF_ADMIN_MODE;
    ck->global.admin_timeout_ms = DEF_ADMIN_TIMEOUT_MS;
    for (uint32_t i = 1; i + 1 < it->argc; i += 2) {
        struct ast_arg k = it->argv[i], v = it->argv[i + 1];

        if (k.tok == TK_MODE) {
            const char *t = text(ck, v.loc);
            uint32_t mode = 0;
            bool ok = v.tok == TK_NUMBER && v.loc.len <= 4;

            for (uint32_t j = 0; ok && j < v.loc.len; j++) {
                ok = t[j] >= '0' && t[j] <= '7';
                mode = mode * 8 + (uint32_t)(t[j] - '0');
            }
            if (have_mode) {
                diag_error(ck->diag, k.loc, "duplicate 'mode'");
            } else if (!ok || mode > 0777) {
                diag_error(ck->diag, v.loc, "mode must be octal, 0 to 0777 (e.g. 0660)");
            } else {
                ck->global.admin_mode = mode;
            }
            have_mode = true;
        } else if (k.tok == TK_LEVEL) {
            int lv;

            if (have_level)
                diag_error(ck->diag, k.loc, "duplicate 'level'");
            else if ((lv = lookup_word(ck, v, admin_levels, 2, "admin level")) >= 0)
                ck->global.admin_level = (uint32_t)lv;
            have_level = true;
        } else {
            uint32_t ms;

            if (have_timeout)
                diag_error(ck->diag, k.loc, "duplicate 'timeout'");
            else if (get_duration(ck, v, "admin timeout", &ms))
                ck->global.admin_timeout_ms = ms;
            have_timeout = true;
        }
    }
}

static void
check_global(struct ck *ck)
{
    const struct ast_item *first = ck->l->ast->global;

    ck->global.workers = DEF_WORKERS;
    ck->global.maxconn = DEF_MAXCONN;
    for (const struct ast_item *it = first; it != NULL && !stopped(ck); it = it->next) {
        size_t len;

        switch (it->kind) {
        case TK_USER:
        case TK_GROUP:
        case TK_CHROOT: {
            const char *what = it->kind == TK_USER ? "user" : it->kind == TK_GROUP ? "group" :
                               "chroot";
            const char *v;

            if (is_duplicate(ck, first, it, what))
                break;
            v = get_text(ck, it->argv[0], what, &len);
            if (v == NULL)
                break;
            if (it->kind == TK_CHROOT && v[0] != '/') {
                diag_error(ck->diag, it->argv[0].loc, "chroot must be an absolute path");
                break;
            }
            if (it->kind == TK_USER)
                ck->user = v;
            else if (it->kind == TK_GROUP)
                ck->group = v;
            else
                ck->chroot = v;
            break;
        }
        case TK_LOG:
            check_log(ck, it);
            break;
        case TK_ADMIN:
            if (!is_duplicate(ck, first, it, "admin"))
                check_admin(ck, it);
            break;
        case TK_WORKERS:
            if (!is_duplicate(ck, first, it, "workers"))
                get_uint(ck, it->argv[0], 1, YT_WORKERS_MAX, "workers",
                         &ck->global.workers);
            break;
        case TK_MAXCONN:
            if (!is_duplicate(ck, first, it, "maxconn"))
                get_uint(ck, it->argv[0], 1, 1000000, "maxconn", &ck->global.maxconn);
            break;
        }
    }
    /* Two identical log lines would send every line twice. */
    for (uint32_t i = 0; i < ck->logs.count; i++) {
        struct log *a = AVEC_AT(&ck->logs, struct log, i);

        for (uint32_t j = i + 1; j < ck->logs.count; j++) {
            struct log *b = AVEC_AT(&ck->logs, struct log, j);

            if (a->yl.kind == b->yl.kind && a->yl.facility == b->yl.facility &&
                a->path_len == b->path_len && memcmp(a->path, b->path, a->path_len) == 0) {
                struct loc none = { .src = DIAG_NO_SOURCE };

                diag_error(ck->diag, none, "two log targets for the same destination");
                return;
            }
        }
    }
}

/* ---- defaults ---- */

static const char *const timeout_names[] = {
    "connect", "client", "server", "inspect", "tunnel", "grace", "retry",
};

static void
check_error_page(struct ck *ck, const struct ast_item *it)
{
    uint32_t status;
    struct page *pg;
    const char *data, *why;
    size_t len, bad;
    struct loc at = it->argv[2].loc;
    bool from_file = it->argv[1].tok == TK_FILE;

    if (!get_uint(ck, it->argv[0], 400, 599, "error status", &status))
        return;
    for (uint32_t i = 0; i < ck->pages.count; i++) {
        struct page *p = AVEC_AT(&ck->pages, struct page, i);

        if (p->status == status) {
            diag_error(ck->diag, it->argv[0].loc, "duplicate error page for %u", status);
            diag_note(ck->diag, p->loc, "first set here");
            return;
        }
    }
    if (from_file) {
        int64_t src = load_file_at(ck->l, at, "error page");
        const struct diag_source *s;

        if (src < 0)
            return;
        s = diag_source(ck->diag, (uint32_t)src);
        data = s->text;
        len = s->len;
        at.src = (uint32_t)src;
        at.off = 0;
        at.len = 0;
    } else {
        data = ast_string(ck->arena, ck->diag, at, &len);
    }
    if (errpage_is_response(data, len)) {
        why = errpage_check((uint16_t)status, data, len, &bad);
        if (why != NULL) {
            diag_error(ck->diag, from_file ? sub(at, bad, 1) : at, "%s", why);
            return;
        }
    } else {
        if (len > 65536) {
            diag_error(ck->diag, it->argv[2].loc, "error page larger than 64 KiB");
            return;
        }
        data = errpage_wrap(ck->arena, (uint16_t)status, data, len, &len);
    }
    pg = avec_push(&ck->pages);
    pg->status = (uint16_t)status;
    pg->loc = it->argv[0].loc;
    pg->data = data;
    pg->len = len;
}

static void
check_defaults(struct ck *ck)
{
    const struct ast_item *first = ck->l->ast->defaults;
    uint32_t *fields[] = {
        &ck->timeouts.connect_ms, &ck->timeouts.client_ms, &ck->timeouts.server_ms,
        &ck->timeouts.inspect_ms, &ck->timeouts.tunnel_ms, &ck->timeouts.grace_ms,
        &ck->timeouts.retry_ms,
    };
    const struct ast_item *seen[7] = { NULL };
    const struct ast_item *null_seen = NULL;

    ck->timeouts = (struct yt_timeouts){
        DEF_CONNECT_MS, DEF_CLIENT_MS, DEF_SERVER_MS, DEF_INSPECT_MS, DEF_TUNNEL_MS,
        DEF_GRACE_MS, DEF_RETRY_MS,
    };
    for (const struct ast_item *it = first; it != NULL && !stopped(ck); it = it->next) {
        if (it->kind == TK_TIMEOUT) {
            int k = lookup_word(ck, it->argv[0], timeout_names, 7, "timeout");
            char what[32];

            if (k < 0)
                continue;
            if (seen[k] != NULL) {
                diag_error(ck->diag, it->argv[0].loc, "duplicate 'timeout %s'",
                           timeout_names[k]);
                diag_note(ck->diag, seen[k]->argv[0].loc, "first set here");
                continue;
            }
            seen[k] = it;
            snprintf(what, sizeof(what), "timeout %s", timeout_names[k]);
            get_duration(ck, it->argv[1], what, fields[k]);
        } else if (it->kind == TK_DONTLOGNULL) {
            if (null_seen != NULL) {
                diag_error(ck->diag, it->kw, "duplicate 'dontlognull'");
                diag_note(ck->diag, null_seen->kw, "first set here");
            }
            null_seen = it;
            ck->dontlognull = true;
        } else if (it->kind == TK_ERROR) {
            check_error_page(ck, it);
        }
    }
}

/* ---- pools ---- */

static uint32_t
new_pool(struct ck *ck, const char *name, size_t len, struct loc loc, bool named)
{
    struct pool *p = avec_push(&ck->pools);

    p->name = name;
    p->name_len = (uint32_t)len;
    p->loc = loc;
    p->named = named;
    return ck->pools.count - 1;
}

/* Fills pool idx with the servers of a list; false (reported) on errors. */
static bool
fill_servers(struct ck *ck, uint32_t idx, const struct ast_server *list)
{
    uint32_t n = 0, i = 0;
    struct server *out;
    bool ok = true;

    for (const struct ast_server *s = list; s != NULL; s = s->next)
        n++;
    out = arena_calloc(ck->arena, n ? n : 1, sizeof(*out));
    for (const struct ast_server *s = list; s != NULL && !stopped(ck); s = s->next, i++) {
        struct server *sv = &out[i];

        sv->weight = 1;
        if (!get_server_addr(ck, s->addr, &sv->addr)) {
            ok = false;
            continue;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (memcmp(&out[j].addr, &sv->addr, sizeof(sv->addr)) == 0) {
                diag_error(ck->diag, s->addr, "the same server twice in one pool");
                ok = false;
                break;
            }
        }
        for (const struct ast_item *o = s->opts; o != NULL; o = o->next) {
            uint32_t w;
            uint16_t flag = o->kind == TK_BACKUP ? YT_SERVER_BACKUP :
                            o->kind == TK_SEND_PROXY ? YT_SERVER_PROXY_V1 :
                            o->kind == TK_SEND_PROXY_V2 ? YT_SERVER_PROXY_V2 : 0;
            const char *what = diag_text(ck->diag, o->kw);

            if (is_duplicate(ck, s->opts, o, o->kind == TK_WEIGHT ? "weight" :
                             flag == YT_SERVER_BACKUP ? "backup" :
                             flag == YT_SERVER_PROXY_V1 ? "send-proxy" : "send-proxy-v2")) {
                ok = false;
                continue;
            }
            (void)what;
            if (o->kind == TK_WEIGHT) {
                if (get_uint(ck, o->argv[0], 1, 256, "weight", &w))
                    sv->weight = (uint16_t)w;
                else
                    ok = false;
                continue;
            }
            sv->flags |= flag;
        }
        if ((sv->flags & YT_SERVER_PROXY_V1) && (sv->flags & YT_SERVER_PROXY_V2)) {
            diag_error(ck->diag, s->addr, "'send-proxy' and 'send-proxy-v2' together");
            ok = false;
        }
    }
    if (ok) {
        bool all_backup = true;

        for (uint32_t j = 0; j < n; j++)
            all_backup &= (out[j].flags & YT_SERVER_BACKUP) != 0;
        if (all_backup && n > 0) {
            diag_error(ck->diag, list->addr, "every server of the pool is a backup");
            ok = false;
        }
    }
    struct pool *p = AVEC_AT(&ck->pools, struct pool, idx);
    p->servers = out;
    p->count = n;
    return ok;
}

static void
check_pools(struct ck *ck)
{
    for (const struct ast_pool *ap = ck->l->ast->pools; ap != NULL && !stopped(ck);
         ap = ap->next) {
        const char *name = text(ck, ap->name);
        uint32_t h = name_hash(name, ap->name.len), prev, idx;

        if (!valid_name(name, ap->name.len)) {
            diag_error(ck->diag, ap->name,
                       "invalid pool name: use letters, digits, '-', '_' and '.'");
            continue;
        }
        prev = nameset_find(ck, &ck->pool_names, pool_name_of, name, ap->name.len, h);
        if (prev != NONE) {
            diag_error(ck->diag, ap->name, "duplicate pool '%.*s'", (int)ap->name.len, name);
            diag_note(ck->diag, AVEC_AT(&ck->pools, struct pool, prev)->loc,
                      "first defined here");
            continue;
        }
        idx = new_pool(ck, arena_strndup(ck->arena, name, ap->name.len), ap->name.len,
                       ap->name, true);
        nameset_add(ck, &ck->pool_names, idx, h);
        if (ap->servers == NULL) {
            diag_error(ck->diag, ap->name, "pool '%.*s' has no server", (int)ap->name.len,
                       name);
            continue;
        }
        fill_servers(ck, idx, ap->servers);
    }
}

static uint32_t
find_pool(struct ck *ck, struct loc name)
{
    const char *t = text(ck, name);
    uint32_t idx = nameset_find(ck, &ck->pool_names, pool_name_of, t, name.len,
                                name_hash(t, name.len));

    if (idx == NONE) {
        const char **cands = arena_calloc(ck->arena, ck->pools.count + 1, sizeof(char *));
        size_t n = 0;
        const char *best;

        for (uint32_t i = 0; i < ck->pools.count; i++) {
            struct pool *p = AVEC_AT(&ck->pools, struct pool, i);

            if (p->named)
                cands[n++] = p->name;
        }
        best = suggest(t, name.len, cands, n);
        if (best != NULL)
            diag_error(ck->diag, name, "unknown pool '%.*s'; did you mean '%s'?",
                       (int)name.len, t, best);
        else if (memchr(t, '.', name.len) != NULL)
            diag_error(ck->diag, name, "unknown pool '%.*s'; a backend is an IPv6 address "
                       "in brackets, e.g. [2001:db8::1]:443", (int)name.len, t);
        else
            diag_error(ck->diag, name, "unknown pool '%.*s'", (int)name.len, t);
        return NONE;
    }
    AVEC_AT(&ck->pools, struct pool, idx)->used = true;
    return idx;
}

/* ---- sites ---- */

/* Normalises a domain token; reports and returns false when invalid. */
static bool
get_domain(struct ck *ck, struct loc loc, bool allow_wildcard, char out[DOMAIN_BUF],
           size_t *out_len)
{
    size_t bad_off, bad_len;
    const char *idn = NULL;
    enum domain_result r = domain_normalize(text(ck, loc), loc.len, allow_wildcard, out,
                                            out_len, &bad_off, &bad_len, &idn);

    if (r == DOMAIN_OK)
        return true;
    if (r == DOMAIN_IDN && idn != NULL)
        diag_error(ck->diag, sub(loc, bad_off, bad_len), "%s: %s", domain_strerror(r), idn);
    else
        diag_error(ck->diag, sub(loc, bad_off, bad_len), "%s", domain_strerror(r));
    return false;
}

static uint32_t
new_site(struct ck *ck, const char *name, size_t len, uint32_t h, struct loc loc, bool block)
{
    struct site *s = avec_push(&ck->sites);

    s->name = arena_strndup(ck->arena, name, len);
    s->len = (uint32_t)len;
    s->pool[0] = s->pool[1] = NONE;
    s->loc = loc;
    s->from_block = block;
    if (name[0] == '*')
        ck->wildcards++;
    nameset_add(ck, &ck->site_names, ck->sites.count - 1, h);
    return ck->sites.count - 1;
}

static void
check_site(struct ck *ck, const struct ast_site *as)
{
    char name[DOMAIN_BUF];
    size_t len;
    uint32_t h, prev, idx;
    const struct ast_item *first[YT_PROTO_COUNT] = { NULL, NULL };
    const struct ast_item *acme = NULL, *fwd = NULL;
    bool ok = true;

    if (!get_domain(ck, as->name, true, name, &len))
        return;
    h = name_hash(name, len);
    prev = nameset_find(ck, &ck->site_names, site_name_of, name, len, h);
    if (prev != NONE) {
        diag_error(ck->diag, as->name, "duplicate domain '%s'", name);
        diag_note(ck->diag, AVEC_AT(&ck->sites, struct site, prev)->loc, "first defined here");
        return;
    }
    idx = new_site(ck, name, len, h, as->name, true);
    for (const struct ast_item *it = as->items; it != NULL && !stopped(ck); it = it->next) {
        struct site *s;
        uint32_t proto, pool;

        switch (it->kind) {
        case TK_TLS:
        case TK_HTTP:
            proto = it->kind == TK_TLS ? YT_PROTO_TLS : YT_PROTO_HTTP;
            if (first[proto] != NULL) {
                diag_error(ck->diag, it->kw, "duplicate '%s' in site '%s'",
                           proto == YT_PROTO_TLS ? "tls" : "http", name);
                diag_note(ck->diag, first[proto]->kw, "first set here");
                ok = false;
                continue;
            }
            first[proto] = it;
            if (it->servers == NULL) {
                pool = find_pool(ck, it->argv[0].loc);
            } else {
                const char *pname = arena_printf(ck->arena, "%s/%s", name,
                                                 proto == YT_PROTO_TLS ? "tls" : "http");

                pool = new_pool(ck, pname, strlen(pname), it->kw, false);
                AVEC_AT(&ck->pools, struct pool, pool)->used = true;
                if (!fill_servers(ck, pool, it->servers))
                    pool = NONE;
            }
            if (pool == NONE) {
                ok = false;
                continue;
            }
            s = AVEC_AT(&ck->sites, struct site, idx);
            s->pool[proto] = pool;
            break;
        case TK_ACME:
        case TK_FORWARDED_FOR: {
            const struct ast_item **seen = it->kind == TK_ACME ? &acme : &fwd;

            if (*seen != NULL) {
                diag_error(ck->diag, it->kw, "duplicate '%s'",
                           it->kind == TK_ACME ? "acme" : "forwarded-for");
                diag_note(ck->diag, (*seen)->kw, "first set here");
                continue;
            }
            *seen = it;
            AVEC_AT(&ck->sites, struct site, idx)->flags |=
                it->kind == TK_ACME ? YT_SITE_ACME : YT_SITE_FORWARDED_FOR;
            break;
        }
        }
    }
    if (!ok || stopped(ck))
        return;
    if (first[YT_PROTO_TLS] == NULL && first[YT_PROTO_HTTP] == NULL) {
        diag_error(ck->diag, as->name, "site '%s' has no route: give it a 'tls' or 'http' pool",
                   name);
        return;
    }
    if (acme != NULL && first[YT_PROTO_HTTP] == NULL)
        diag_error(ck->diag, acme->kw, "'acme' needs an 'http' pool in the site");
    if (fwd != NULL && first[YT_PROTO_HTTP] == NULL)
        diag_error(ck->diag, fwd->kw, "'forwarded-for' needs an 'http' pool in the site");
}

/* ---- domain lists ---- */

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One `domains` file: each line "domain pool", '#' comments, blank lines. Written for
 * speed: one pass, no allocation per line but the name itself. */
static void
check_domains(struct ck *ck, const struct ast_domains *ad)
{
    uint32_t proto = ad->proto_kind == TK_TLS ? YT_PROTO_TLS : YT_PROTO_HTTP;
    int64_t src = load_file_at(ck->l, ad->path, "domain list");
    const struct diag_source *s;
    const char *p, *end;
    uint32_t last_pool = NONE;
    const char *last_name = NULL;
    size_t last_len = 0;

    if (src < 0)
        return;
    s = diag_source(ck->diag, (uint32_t)src);
    p = s->text;
    end = s->text + s->len;
    while (p < end && !stopped(ck)) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *d, *de, *q, *qe, *x;
        struct loc dl, ql;
        char name[DOMAIN_BUF];
        size_t len;
        uint32_t h, idx, pool;

        if (eol == NULL)
            eol = end;
        x = memchr(p, '#', (size_t)(eol - p));
        if (x == NULL)
            x = eol;
        d = p;
        p = eol + 1;
        while (d < x && is_blank(*d))
            d++;
        if (d == x)
            continue;
        for (de = d; de < x && !is_blank(*de); de++)
            ;
        for (q = de; q < x && is_blank(*q); q++)
            ;
        for (qe = q; qe < x && !is_blank(*qe); qe++)
            ;
        dl = (struct loc){ (uint32_t)src, (uint32_t)(d - s->text), (uint32_t)(de - d) };
        ql = (struct loc){ (uint32_t)src, (uint32_t)(q - s->text), (uint32_t)(qe - q) };
        if (memchr(d, '\0', (size_t)(x - d)) != NULL) {
            diag_error(ck->diag, dl, "NUL byte in domain list");
            continue;
        }
        if (q == qe) {
            diag_error(ck->diag, sub(dl, dl.len, 0), "expected a pool name after the domain");
            continue;
        }
        for (x = qe; x < eol && is_blank(*x); x++)
            ;
        if (x < eol && *x != '#') {
            const char *xe = x;

            while (xe < eol && !is_blank(*xe) && *xe != '#')
                xe++;
            diag_error(ck->diag, (struct loc){ (uint32_t)src, (uint32_t)(x - s->text),
                                               (uint32_t)(xe - x) },
                       "expected the end of the line: one 'domain pool' pair per line");
            continue;
        }
        if (!get_domain(ck, dl, true, name, &len))
            continue;
        if (last_name != NULL && ql.len == last_len && memcmp(q, last_name, last_len) == 0) {
            pool = last_pool;
        } else {
            pool = find_pool(ck, ql);
            if (pool == NONE)
                continue;
            last_pool = pool;
            last_name = q;
            last_len = ql.len;
        }
        h = name_hash(name, len);
        idx = nameset_find(ck, &ck->site_names, site_name_of, name, len, h);
        if (idx == NONE) {
            idx = new_site(ck, name, len, h, dl, false);
        } else {
            struct site *st = AVEC_AT(&ck->sites, struct site, idx);

            if (st->from_block || st->pool[proto] != NONE) {
                diag_error(ck->diag, dl, "duplicate domain '%s'", name);
                diag_note(ck->diag, st->loc, "first defined here");
                continue;
            }
        }
        AVEC_AT(&ck->sites, struct site, idx)->pool[proto] = pool;
    }
}

/* ---- listeners ---- */

bool
check_binds_overlap(const struct yt_bind *a, const struct yt_bind *b)
{
    bool a6 = a->addr.sa.sa_family == AF_INET6, b6 = b->addr.sa.sa_family == AF_INET6;
    uint16_t pa = a6 ? a->addr.in6.sin6_port : a->addr.in4.sin_port;
    uint16_t pb = b6 ? b->addr.in6.sin6_port : b->addr.in4.sin_port;
    bool a_any, b_any;

    if (pa != pb)
        return false;
    a_any = a6 ? IN6_IS_ADDR_UNSPECIFIED(&a->addr.in6.sin6_addr) :
                 a->addr.in4.sin_addr.s_addr == INADDR_ANY;
    b_any = b6 ? IN6_IS_ADDR_UNSPECIFIED(&b->addr.in6.sin6_addr) :
                 b->addr.in4.sin_addr.s_addr == INADDR_ANY;
    if (a6 && b6)
        return a_any || b_any ||
               memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr, 16) == 0;
    if (!a6 && !b6)
        return a_any || b_any || a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
    /* One of each: only a dual-stack wildcard (":443") covers the IPv4 side. */
    if (a6)
        return a_any && !a->v6only;
    return b_any && !b->v6only;
}

static const char *const mode_names[] = { "tls", "http", "redirect" };

static void
check_listener(struct ck *ck, const struct ast_listener *al)
{
    const char *name = text(ck, al->name);
    struct listener *ln;
    uint32_t mode = al->mode_kind == TK_TLS ? YT_MODE_TLS :
                    al->mode_kind == TK_HTTP ? YT_MODE_HTTP : YT_MODE_REDIRECT;
    uint32_t n = 0, i = 0;
    const struct ast_item *seen[8] = { NULL };

    if (!valid_name(name, al->name.len)) {
        diag_error(ck->diag, al->name,
                   "invalid listener name: use letters, digits, '-', '_' and '.'");
        return;
    }
    for (uint32_t j = 0; j < ck->listeners.count; j++) {
        struct listener *o = AVEC_AT(&ck->listeners, struct listener, j);

        if (o->name_len == al->name.len && memcmp(o->name, name, o->name_len) == 0) {
            diag_error(ck->diag, al->name, "duplicate listener '%.*s'", (int)al->name.len,
                       name);
            diag_note(ck->diag, o->loc, "first defined here");
            return;
        }
    }
    ln = avec_push(&ck->listeners);
    ln->name = arena_strndup(ck->arena, name, al->name.len);
    ln->name_len = al->name.len;
    ln->loc = al->name;
    ln->yl.mode = mode;
    ln->yl.fallback_pool = NONE;
    ln->yl.fallback_status = mode == YT_MODE_HTTP ? DEF_FALLBACK_STATUS : 0;
    ln->yl.redirect_status = mode == YT_MODE_REDIRECT ? DEF_REDIRECT_STATUS : 0;
    ln->yl.redirect_port = mode == YT_MODE_REDIRECT ? DEF_REDIRECT_PORT : 0;
    ln->yl.max_head = mode == YT_MODE_TLS ? 0 : DEF_MAX_HEAD;
    ln->yl.flags = ck->dontlognull ? YT_LISTENER_DONTLOGNULL : 0;
    for (const struct ast_bind *b = al->binds; b != NULL; b = b->next)
        n++;
    ln->binds = arena_calloc(ck->arena, n, sizeof(*ln->binds));
    ln->bind_locs = arena_calloc(ck->arena, n, sizeof(*ln->bind_locs));
    for (const struct ast_bind *b = al->binds; b != NULL && !stopped(ck); b = b->next) {
        size_t off, len;
        const char *why = check_bind_addr(text(ck, b->addr), b->addr.len, &ln->binds[i],
                                          &off, &len);

        if (why != NULL) {
            diag_error(ck->diag, sub(b->addr, off, len), "%s", why);
            continue;
        }
        ln->bind_locs[i++] = b->addr;
    }
    ln->bind_count = i;
    for (const struct ast_item *it = al->items; it != NULL && !stopped(ck); it = it->next) {
        const char *kw = diag_text(ck->diag, it->kw);
        int slot = it->kind == TK_FALLBACK ? 0 : it->kind == TK_STATUS ? 1 :
                   it->kind == TK_PORT ? 2 : it->kind == TK_MAX_HEAD ? 3 :
                   it->kind == TK_FORWARDED_FOR ? 4 : 5;
        bool allowed;
        uint32_t v;

        switch (it->kind) {
        case TK_FALLBACK: allowed = mode != YT_MODE_REDIRECT; break;
        case TK_STATUS: case TK_PORT: allowed = mode == YT_MODE_REDIRECT; break;
        case TK_MAX_HEAD: allowed = mode != YT_MODE_TLS; break;
        case TK_FORWARDED_FOR: allowed = mode == YT_MODE_HTTP; break;
        default: allowed = true; break;
        }
        if (!allowed) {
            diag_error(ck->diag, it->kw, "'%.*s' does not apply to %s listeners",
                       (int)it->kw.len, kw, mode_names[mode]);
            continue;
        }
        if (seen[slot] != NULL) {
            diag_error(ck->diag, it->kw, "duplicate '%.*s'", (int)it->kw.len, kw);
            diag_note(ck->diag, seen[slot]->kw, "first set here");
            continue;
        }
        seen[slot] = it;
        switch (it->kind) {
        case TK_FALLBACK:
            if (it->argv[0].tok == TK_NUMBER) {
                if (mode == YT_MODE_TLS) {
                    diag_error(ck->diag, it->argv[0].loc, "a tls listener cannot answer with "
                               "a status; name a pool, or leave the fallback out");
                    break;
                }
                if (get_uint(ck, it->argv[0], 400, 599, "fallback status", &v))
                    ln->yl.fallback_status = (uint16_t)v;
            } else {
                ln->yl.fallback_pool = find_pool(ck, it->argv[0].loc);
            }
            break;
        case TK_STATUS:
            if (get_uint(ck, it->argv[0], 301, 308, "redirect status", &v)) {
                if (v != 301 && v != 302 && v != 307 && v != 308)
                    diag_error(ck->diag, it->argv[0].loc,
                               "redirect status must be 301, 302, 307 or 308");
                else
                    ln->yl.redirect_status = (uint16_t)v;
            }
            break;
        case TK_PORT:
            if (get_uint(ck, it->argv[0], 1, 65535, "port", &v))
                ln->yl.redirect_port = (uint16_t)v;
            break;
        case TK_MAX_HEAD:
            get_size(ck, it->argv[0], "max-head", 1024, 1024 * 1024, &ln->yl.max_head);
            break;
        case TK_FORWARDED_FOR:
            ln->yl.flags |= YT_LISTENER_FORWARDED_FOR;
            break;
        case TK_DONTLOGNULL:
            ln->yl.flags |= YT_LISTENER_DONTLOGNULL;
            break;
        }
    }
}

static void
check_listeners(struct ck *ck)
{
    for (const struct ast_listener *al = ck->l->ast->listeners; al != NULL && !stopped(ck);
         al = al->next)
        check_listener(ck, al);
    /* Two listeners (or one twice) on overlapping addresses cannot both bind. */
    for (uint32_t i = 0; i < ck->listeners.count && !stopped(ck); i++) {
        struct listener *a = AVEC_AT(&ck->listeners, struct listener, i);

        for (uint32_t bi = 0; bi < a->bind_count; bi++) {
            bool found = false;

            for (uint32_t j = 0; j <= i && !found; j++) {
                struct listener *b = AVEC_AT(&ck->listeners, struct listener, j);

                for (uint32_t bj = 0; bj < (j == i ? bi : b->bind_count) && !found; bj++) {
                    if (!check_binds_overlap(&a->binds[bi], &b->binds[bj]))
                        continue;
                    diag_error(ck->diag, a->bind_locs[bi],
                               "address already used by listener '%s'", b->name);
                    diag_note(ck->diag, b->bind_locs[bj], "bound here");
                    found = true;
                }
            }
        }
    }
    /* A tls or http listener needs somewhere to send someone. (Not said when a site was
     * dropped for its errors: it may be the missing route.) */
    for (uint32_t i = 0; i < ck->listeners.count && !stopped(ck) && !ck->site_errors; i++) {
        struct listener *ln = AVEC_AT(&ck->listeners, struct listener, i);
        uint32_t proto = ln->yl.mode == YT_MODE_TLS ? YT_PROTO_TLS : YT_PROTO_HTTP;
        bool routed = ln->yl.mode == YT_MODE_REDIRECT || ln->yl.fallback_pool != NONE;

        for (uint32_t s = 0; s < ck->sites.count && !routed; s++)
            routed = AVEC_AT(&ck->sites, struct site, s)->pool[proto] != NONE;
        if (!routed)
            diag_error(ck->diag, ln->loc, "listener '%s' has no route: no site has a%s %s pool "
                       "and there is no fallback pool", ln->name,
                       proto == YT_PROTO_HTTP ? "n" : "", mode_names[proto]);
    }
}

/* ---- warnings ---- */

static bool
pools_equal(const struct ck *ck, uint32_t a, uint32_t b)
{
    const struct pool *p, *q;

    if (a == b)
        return true;
    if (a == NONE || b == NONE)
        return false;
    p = AVEC_AT(&ck->pools, struct pool, a);
    q = AVEC_AT(&ck->pools, struct pool, b);
    if (p->named || q->named || p->count != q->count)
        return false;
    for (uint32_t i = 0; i < p->count; i++)
        if (memcmp(&p->servers[i].addr, &q->servers[i].addr, sizeof(p->servers[i].addr)) != 0 ||
            p->servers[i].weight != q->servers[i].weight ||
            p->servers[i].flags != q->servers[i].flags)
            return false;
    return true;
}

/* The nearest wildcard that would answer for site s if s did not exist, or NONE. */
static uint32_t
covering_wildcard(const struct ck *ck, const struct site *s)
{
    char buf[DOMAIN_BUF + 1];
    uint32_t i = s->name[0] == '*' ? 2 : 0;

    for (; i < s->len; i++) {
        if (s->name[i] != '.')
            continue;
        uint32_t n = s->len - i + 1;

        buf[0] = '*';
        memcpy(buf + 1, s->name + i, s->len - i);
        uint32_t w = nameset_find(ck, &ck->site_names, site_name_of, buf, n,
                                  name_hash(buf, n));
        if (w != NONE)
            return w;
    }
    return NONE;
}

static void
check_warnings(struct ck *ck)
{
    for (uint32_t i = 0; ck->wildcards > 0 && i < ck->sites.count && !stopped(ck); i++) {
        const struct site *s = AVEC_AT(&ck->sites, struct site, i);
        uint32_t w = covering_wildcard(ck, s);
        const struct site *ws;

        if (w == NONE)
            continue;
        ws = AVEC_AT(&ck->sites, struct site, w);
        if (!pools_equal(ck, s->pool[0], ws->pool[0]) ||
            !pools_equal(ck, s->pool[1], ws->pool[1]) || s->flags != ws->flags)
            continue;
        if (diag_warning(ck->diag, DIAG_W_SHADOWED, s->loc,
                         "site '%s' is redundant: '%s' routes it the same way", s->name,
                         ws->name))
            diag_note(ck->diag, ws->loc, "'%s' defined here", ws->name);
    }
    for (uint32_t i = 0; i < ck->pools.count && !stopped(ck); i++) {
        const struct pool *p = AVEC_AT(&ck->pools, struct pool, i);

        if (p->named && !p->used)
            diag_warning(ck->diag, DIAG_W_UNUSED, p->loc, "pool '%s' is never used", p->name);
    }
}

/* ---- expects (checked before the table, evaluated after) ---- */

static uint32_t
find_listener(struct ck *ck, struct loc name)
{
    const char *t = text(ck, name);
    const char **cands = arena_calloc(ck->arena, ck->listeners.count + 1, sizeof(char *));
    const char *best;

    for (uint32_t i = 0; i < ck->listeners.count; i++) {
        struct listener *ln = AVEC_AT(&ck->listeners, struct listener, i);

        if (ln->name_len == name.len && memcmp(ln->name, t, name.len) == 0)
            return i;
        cands[i] = ln->name;
    }
    best = suggest(t, name.len, cands, ck->listeners.count);
    if (best != NULL)
        diag_error(ck->diag, name, "unknown listener '%.*s'; did you mean '%s'?",
                   (int)name.len, t, best);
    else
        diag_error(ck->diag, name, "unknown listener '%.*s'", (int)name.len, t);
    return NONE;
}

static void
check_expects(struct ck *ck)
{
    for (const struct ast_expect *ae = ck->l->ast->expects; ae != NULL && !stopped(ck);
         ae = ae->next) {
        struct check_expect e = { .kw = ae->kw, .result = ae->result, .kind = ae->kind };
        char name[DOMAIN_BUF];
        size_t len;
        uint32_t v;
        bool ok = true;

        e.listener = find_listener(ck, ae->listener);
        ok = e.listener != NONE;
        if (get_domain(ck, ae->name, false, name, &len)) {
            e.name = arena_strndup(ck->arena, name, len);
            e.name_len = len;
        } else {
            ok = false;
        }
        if (ae->path.src != DIAG_NO_SOURCE) {
            e.path = ast_string(ck->arena, ck->diag, ae->path, &e.path_len);
            if (e.path_len == 0 || e.path[0] != '/' || strlen(e.path) != e.path_len) {
                diag_error(ck->diag, ae->path, "the path must start with '/'");
                ok = false;
            }
        }
        switch (ae->kind) {
        case AST_EXPECT_SERVERS: {
            uint32_t n = 0, i = 0;

            for (const struct ast_bind *b = ae->addrs; b != NULL; b = b->next)
                n++;
            e.addrs = arena_calloc(ck->arena, n, sizeof(*e.addrs));
            e.addr_count = n;
            for (const struct ast_bind *b = ae->addrs; b != NULL; b = b->next)
                ok &= get_server_addr(ck, b->addr, &e.addrs[i++]);
            break;
        }
        case AST_EXPECT_STATUS:
            ok &= get_uint(ck, (struct ast_arg){ ae->result, TK_NUMBER }, 100, 599, "status",
                           &v);
            e.status = (uint16_t)v;
            break;
        case AST_EXPECT_REDIRECT:
            ok &= get_uint(ck, (struct ast_arg){ ae->result, TK_NUMBER }, 301, 308,
                           "redirect status", &v);
            e.status = (uint16_t)v;
            break;
        case AST_EXPECT_POOL:
            e.pool = find_pool(ck, ae->result);
            ok &= e.pool != NONE;
            break;
        case AST_EXPECT_ALERT:
            break;
        }
        if (ok)
            *(struct check_expect *)avec_push(&ck->expects) = e;
    }
}

/* ---- building the table ---- */

struct sref {
    uint64_t prefix;                    /* the first 8 bytes, big-endian: most compares end here */
    const char *name;
    uint32_t len;
    uint32_t idx;
};

static int
sref_cmp(const void *pa, const void *pb)
{
    const struct sref *a = pa, *b = pb;
    uint32_t n;
    int c;

    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    n = a->len < b->len ? a->len : b->len;
    if (n > 8 && (c = memcmp(a->name + 8, b->name + 8, n - 8)) != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static uint64_t
prefix8(const char *s, uint32_t len)
{
    uint64_t v = 0;

    for (uint32_t i = 0; i < 8; i++)
        v = (v << 8) | (i < len ? (unsigned char)s[i] : 0);
    return v;
}

static struct yt_str
blob_add(struct abuf *blob, const char *s, size_t len)
{
    struct yt_str r = { (uint32_t)blob->len, (uint32_t)len };

    abuf_add(blob, s, len);
    return r;
}

static int
pool_order(const void *pa, const void *pb)
{
    const struct pool *a = *(const struct pool *const *)pa, *b = *(const struct pool *const *)pb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c;

    if (a->named != b->named)
        return a->named ? -1 : 1;
    c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static int
listener_order(const void *pa, const void *pb)
{
    const struct listener *a = *(const struct listener *const *)pa;
    const struct listener *b = *(const struct listener *const *)pb;

    return strcmp(a->name, b->name);
}

static int
log_order(const void *pa, const void *pb)
{
    const struct log *a = pa, *b = pb;
    int c;

    if (a->yl.kind != b->yl.kind)
        return a->yl.kind < b->yl.kind ? -1 : 1;
    c = strcmp(a->path, b->path);
    if (c != 0)
        return c;
    if (a->yl.facility != b->yl.facility)
        return a->yl.facility < b->yl.facility ? -1 : 1;
    return (int)a->yl.level - (int)b->yl.level;
}

static int
page_order(const void *pa, const void *pb)
{
    const struct page *a = pa, *b = pb;

    return (int)a->status - (int)b->status;
}

static void
build_table(struct ck *ck, struct check_result *out, struct abuf *blob)
{
    struct yt_table *t = &out->table;
    uint32_t nsites = ck->sites.count, npools = ck->pools.count;
    struct sref *refs = arena_alloc(ck->arena, (size_t)(nsites ? nsites : 1) * sizeof(*refs));
    struct yt_site *sites = arena_calloc(ck->arena, nsites ? nsites : 1, sizeof(*sites));
    const struct pool **porder = arena_calloc(ck->arena, npools + 1, sizeof(*porder));
    struct yt_pool *pools = arena_calloc(ck->arena, npools + 1, sizeof(*pools));
    uint32_t nservers = 0, si = 0;
    struct yt_server *servers;

    memset(t, 0, sizeof(*t));
    t->abi = YT_ABI;

    /* sites, by name */
    for (uint32_t i = 0; i < nsites; i++) {
        const struct site *s = AVEC_AT(&ck->sites, struct site, i);

        refs[i] = (struct sref){ prefix8(s->name, s->len), s->name, s->len, i };
    }
    if (nsites > 1)
        qsort(refs, nsites, sizeof(*refs), sref_cmp);
    ck->site_of = arena_calloc(ck->arena, nsites + 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < nsites; i++)
        ck->site_of[i] = refs[i].idx;

    /* pools: named ones by name, then the inline ones by name */
    for (uint32_t i = 0; i < npools; i++)
        porder[i] = AVEC_AT(&ck->pools, struct pool, i);
    if (npools > 1)
        qsort(porder, npools, sizeof(*porder), pool_order);
    ck->pool_final = arena_calloc(ck->arena, npools + 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < npools; i++) {
        ck->pool_final[porder[i] - (const struct pool *)ck->pools.data] = i;
        nservers += porder[i]->count;
    }

    for (uint32_t i = 0; i < nsites; i++) {
        const struct site *s = AVEC_AT(&ck->sites, struct site, refs[i].idx);

        sites[i].name = blob_add(blob, s->name, s->len);
        for (int p = 0; p < YT_PROTO_COUNT; p++)
            sites[i].pool[p] = s->pool[p] == NONE ? NONE : ck->pool_final[s->pool[p]];
        sites[i].flags = s->flags;
    }
    servers = arena_calloc(ck->arena, nservers + 1, sizeof(*servers));
    for (uint32_t i = 0; i < npools; i++) {
        const struct pool *p = porder[i];

        pools[i].name = blob_add(blob, p->name, p->name_len);
        pools[i].first = si;
        pools[i].count = p->count;
        for (uint32_t j = 0; j < p->count; j++, si++) {
            char host[INET6_ADDRSTRLEN];
            char nm[INET6_ADDRSTRLEN + 10];
            int n;

            servers[si].addr = p->servers[j].addr;
            servers[si].weight = p->servers[j].weight;
            servers[si].flags = p->servers[j].flags;
            inet_ntop(AF_INET6, &p->servers[j].addr.sin6_addr, host, sizeof(host));
            n = snprintf(nm, sizeof(nm), "[%s]:%u", host, ntohs(p->servers[j].addr.sin6_port));
            servers[si].name = blob_add(blob, nm, (size_t)n);
        }
    }

    /* listeners by name, their binds in the order written */
    {
        uint32_t n = ck->listeners.count, nb = 0, bi = 0;
        const struct listener **lo = arena_calloc(ck->arena, n + 1, sizeof(*lo));
        struct yt_listener *ls = arena_calloc(ck->arena, n + 1, sizeof(*ls));
        struct yt_bind *bs;

        for (uint32_t i = 0; i < n; i++) {
            lo[i] = AVEC_AT(&ck->listeners, struct listener, i);
            nb += lo[i]->bind_count;
        }
        if (n > 1)
            qsort(lo, n, sizeof(*lo), listener_order);
        bs = arena_calloc(ck->arena, nb + 1, sizeof(*bs));
        for (uint32_t i = 0; i < n; i++) {
            ls[i] = lo[i]->yl;
            ls[i].name = blob_add(blob, lo[i]->name, lo[i]->name_len);
            if (ls[i].fallback_pool != NONE)
                ls[i].fallback_pool = ck->pool_final[ls[i].fallback_pool];
            ls[i].first_bind = bi;
            ls[i].bind_count = lo[i]->bind_count;
            for (uint32_t j = 0; j < lo[i]->bind_count; j++)
                bs[bi++] = lo[i]->binds[j];
        }
        /* expects refer to listeners by their index before sorting */
        for (uint32_t k = 0; k < ck->expects.count; k++) {
            struct check_expect *e = AVEC_AT(&ck->expects, struct check_expect, k);
            const struct listener *old = AVEC_AT(&ck->listeners, struct listener, e->listener);

            for (uint32_t i = 0; i < n; i++)
                if (lo[i] == old)
                    e->listener = i;
            if (e->kind == AST_EXPECT_POOL)
                e->pool = ck->pool_final[e->pool];
        }
        t->listeners = ls;
        t->listener_count = n;
        t->binds = bs;
        t->bind_count = nb;
    }

    /* logs (stderr when none is given) */
    {
        struct yt_log *lg;

        if (ck->logs.count == 0) {
            struct log *d = avec_push(&ck->logs);

            d->yl.kind = YT_LOG_STDERR;
            d->yl.level = 7;
            d->path = "";
        }
        qsort(ck->logs.data, ck->logs.count, sizeof(struct log), log_order);
        lg = arena_calloc(ck->arena, ck->logs.count, sizeof(*lg));
        for (uint32_t i = 0; i < ck->logs.count; i++) {
            struct log *src = AVEC_AT(&ck->logs, struct log, i);

            lg[i] = src->yl;
            lg[i].path = blob_add(blob, src->path, src->path_len);
        }
        t->logs = lg;
        t->log_count = ck->logs.count;
    }

    /* error pages: the built-in ones unless replaced, and the others given */
    {
        struct yt_errpage *ep;

        for (size_t i = 0; i < errpage_builtin_count; i++) {
            uint16_t st = errpage_builtin_statuses[i];
            bool given = false;

            for (uint32_t j = 0; j < ck->pages.count && !given; j++)
                given = AVEC_AT(&ck->pages, struct page, j)->status == st;
            if (!given) {
                struct page *p = avec_push(&ck->pages);

                p->status = st;
                p->data = errpage_builtin(ck->arena, st, &p->len);
            }
        }
        qsort(ck->pages.data, ck->pages.count, sizeof(struct page), page_order);
        ep = arena_calloc(ck->arena, ck->pages.count, sizeof(*ep));
        for (uint32_t i = 0; i < ck->pages.count; i++) {
            struct page *p = AVEC_AT(&ck->pages, struct page, i);

            ep[i].status = p->status;
            ep[i].response = blob_add(blob, p->data, p->len);
        }
        t->errors = ep;
        t->error_count = ck->pages.count;
    }

    t->global = ck->global;
    if (ck->user != NULL)
        t->global.user = blob_add(blob, ck->user, strlen(ck->user));
    if (ck->group != NULL)
        t->global.group = blob_add(blob, ck->group, strlen(ck->group));
    if (ck->chroot != NULL)
        t->global.chroot = blob_add(blob, ck->chroot, strlen(ck->chroot));
    if (ck->admin != NULL)
        t->global.admin_socket = blob_add(blob, ck->admin, strlen(ck->admin));
    t->timeouts = ck->timeouts;

    t->sites = sites;
    t->site_count = nsites;
    t->pools = pools;
    t->pool_count = npools;
    t->servers = servers;
    t->server_count = nservers;
    t->blob = blob->data;
    t->blob_len = blob->len;
    arena_release(ck->arena, refs, (size_t)(nsites ? nsites : 1) * sizeof(*refs));
}

static int
expect_order(const void *pa, const void *pb)
{
    const struct check_expect *a = pa, *b = pb;
    size_t n;
    int c;

    if (a->listener != b->listener)
        return a->listener < b->listener ? -1 : 1;
    n = a->name_len < b->name_len ? a->name_len : b->name_len;
    if ((c = memcmp(a->name, b->name, n)) != 0)
        return c;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    if ((a->path == NULL) != (b->path == NULL))
        return a->path == NULL ? -1 : 1;
    if (a->path != NULL && (c = strcmp(a->path, b->path)) != 0)
        return c;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->status != b->status)
        return a->status < b->status ? -1 : 1;
    if (a->pool != b->pool)
        return a->pool < b->pool ? -1 : 1;
    if (a->addr_count != b->addr_count)
        return a->addr_count < b->addr_count ? -1 : 1;
    return a->addr_count == 0 ? 0 : memcmp(a->addrs, b->addrs, a->addr_count * sizeof(*a->addrs));
}

/* What a decision is, in words, for a failed expect. */
static const char *
describe(struct ck *ck, const struct yt_table *t, struct yt_decision d)
{
    struct abuf b;

    abuf_init(&b, ck->arena);
    switch (d.action) {
    case YT_ACT_POOL: {
        const struct yt_pool *p = &t->pools[d.pool];

        abuf_printf(&b, "pool '%.*s' (", (int)p->name.len, t->blob + p->name.off);
        for (uint32_t i = 0; i < p->count; i++) {
            const struct yt_server *s = &t->servers[p->first + i];

            abuf_printf(&b, "%s%.*s", i ? ", " : "", (int)s->name.len, t->blob + s->name.off);
        }
        abuf_adds(&b, ")");
        break;
    }
    case YT_ACT_STATUS: abuf_printf(&b, "status %u", d.status); break;
    case YT_ACT_ALERT: abuf_adds(&b, "alert"); break;
    case YT_ACT_REDIRECT: abuf_printf(&b, "redirect %u", d.status); break;
    }
    abuf_addc(&b, '\0');
    return b.data;
}

static void
evaluate_expects(struct ck *ck, const struct yt_table *t, const struct check_expect *es,
                 uint32_t count, const uint32_t *site_of)
{
    for (uint32_t i = 0; i < count && !stopped(ck); i++) {
        const struct check_expect *e = &es[i];
        const struct yt_listener *l = &t->listeners[e->listener];
        struct yt_decision d = yt_resolve(t, l, e->name, e->name_len, e->path, e->path_len);
        bool ok = false;

        switch (e->kind) {
        case AST_EXPECT_SERVERS:
            if (d.action == YT_ACT_POOL && t->pools[d.pool].count == e->addr_count) {
                ok = true;
                for (uint32_t j = 0; j < e->addr_count && ok; j++) {
                    const struct sockaddr_in6 *a = &t->servers[t->pools[d.pool].first + j].addr;

                    ok = memcmp(&a->sin6_addr, &e->addrs[j].sin6_addr, 16) == 0 &&
                         a->sin6_port == e->addrs[j].sin6_port;
                }
            }
            break;
        case AST_EXPECT_STATUS: ok = d.action == YT_ACT_STATUS && d.status == e->status; break;
        case AST_EXPECT_ALERT: ok = d.action == YT_ACT_ALERT; break;
        case AST_EXPECT_REDIRECT:
            ok = d.action == YT_ACT_REDIRECT && d.status == e->status;
            break;
        case AST_EXPECT_POOL: ok = d.action == YT_ACT_POOL && d.pool == e->pool; break;
        }
        if (ok)
            continue;
        diag_error(ck->diag, e->result, "expectation failed: listener '%.*s' answers '%s' "
                   "with %s%s", (int)l->name.len, t->blob + l->name.off, e->name,
                   describe(ck, t, d), d.fallback ? " (its fallback)" : "");
        if (d.site != YT_NONE)
            diag_note(ck->diag, AVEC_AT(&ck->sites, struct site, site_of[d.site])->loc,
                      "'%.*s' matched this site", (int)e->name_len, e->name);
    }
}

int
check_config(struct load *l, struct check_result *out)
{
    struct ck ck = { .l = l, .arena = l->arena, .diag = l->diag };
    struct abuf blob, text;
    struct yt_table *t = &out->table;
    struct yt_key *in;
    struct phash ph;
    struct check_expect *in_order;

    memset(out, 0, sizeof(*out));
    avec_init(&ck.pools, ck.arena, sizeof(struct pool));
    avec_init(&ck.sites, ck.arena, sizeof(struct site));
    avec_init(&ck.listeners, ck.arena, sizeof(struct listener));
    avec_init(&ck.logs, ck.arena, sizeof(struct log));
    avec_init(&ck.pages, ck.arena, sizeof(struct page));
    avec_init(&ck.expects, ck.arena, sizeof(struct check_expect));
    nameset_init(&ck, &ck.pool_names, 16);
    nameset_init(&ck, &ck.site_names, 1024);

    check_global(&ck);
    check_defaults(&ck);
    check_pools(&ck);
    {
        unsigned before = ck.diag->errors;

        for (const struct ast_site *s = l->ast->sites; s != NULL && !stopped(&ck); s = s->next)
            check_site(&ck, s);
        for (const struct ast_domains *d = l->ast->domains; d != NULL && !stopped(&ck);
             d = d->next)
            check_domains(&ck, d);
        ck.site_errors = ck.diag->errors != before;
    }
    check_listeners(&ck);
    /* a fallback status needs a page to send */
    for (uint32_t i = 0; i < ck.listeners.count && !stopped(&ck); i++) {
        struct listener *ln = AVEC_AT(&ck.listeners, struct listener, i);
        uint16_t st = ln->yl.fallback_status;
        bool have = st == 0 || ln->yl.mode != YT_MODE_HTTP;

        for (size_t j = 0; j < errpage_builtin_count && !have; j++)
            have = errpage_builtin_statuses[j] == st;
        for (uint32_t j = 0; j < ck.pages.count && !have; j++)
            have = AVEC_AT(&ck.pages, struct page, j)->status == st;
        if (!have)
            diag_error(ck.diag, ln->loc, "listener '%s' answers %u but there is no error page "
                       "for it: add 'error %u text \"...\";' to defaults", ln->name, st, st);
    }
    check_expects(&ck);
    if (ck.diag->errors == 0)
        check_warnings(&ck);
    if (ck.diag->errors > 0)
        return -1;

    abuf_init(&blob, ck.arena);
    build_table(&ck, out, &blob);
    /* failed expects are reported in the order written */
    in_order = arena_calloc(ck.arena, ck.expects.count + 1, sizeof(*in_order));
    if (ck.expects.count > 0)
        memcpy(in_order, ck.expects.data, ck.expects.count * sizeof(*in_order));
    if (ck.expects.count > 1)
        qsort(ck.expects.data, ck.expects.count, sizeof(struct check_expect), expect_order);
    out->expects = ck.expects.data;
    out->expect_count = ck.expects.count;

    /* the canonical text, then its digest */
    abuf_init(&text, ck.arena);
    print_config(&text, t, out->expects, out->expect_count);
    t->config = blob_add(&blob, text.data, text.len);
    abuf_addc(&blob, '\0');             /* not counted: lets the emitter print it as a string */
    t->blob = blob.data;
    t->blob_len = blob.len - 1;
    sha256_hex(text.data, text.len, t->digest);
    /* the biggest buffers of a big configuration: give them back before the hash build */
    arena_release(ck.arena, text.data, text.cap);
    arena_release(ck.arena, ck.site_names.slots, (size_t)(ck.site_names.mask + 1) * 4);
    arena_release(ck.arena, ck.site_names.hashes, (size_t)(ck.site_names.mask + 1) * 4);
    ck.site_names = (struct nameset){ 0 };

    /* the perfect hash over the site keys; a wildcard "*.x.y" is keyed as ".x.y" */
    in = arena_calloc(ck.arena, t->site_count + 1, sizeof(*in));
    for (uint32_t i = 0; i < t->site_count; i++) {
        const struct yt_str *n = &t->sites[i].name;
        bool wild = t->blob[n->off] == '*';

        in[i].off = n->off + wild;
        in[i].len = (uint16_t)(n->len - wild);
        in[i].site = i;
    }
    if (phash_build(t->blob, in, t->site_count, &ph) == -1) {
        struct loc none = { .src = DIAG_NO_SOURCE };

        diag_error(ck.diag, none, "cannot build the perfect hash: %s", strerror(errno));
        return -1;
    }
    t->seed = ph.seed;
    t->bucket_count = ph.bucket_count;
    t->slot_count = ph.slot_count;
    t->key_count = ph.key_count;
    {
        uint16_t *disp = arena_calloc(ck.arena, ph.bucket_count + 1, sizeof(*disp));
        uint32_t nremap = ph.slot_count - ph.key_count;
        uint32_t *remap = arena_calloc(ck.arena, nremap + 1, sizeof(*remap));
        struct yt_key *keys = arena_calloc(ck.arena, ph.key_count + 1, sizeof(*keys));

        memcpy(disp, ph.disp, ph.bucket_count * sizeof(*disp));
        if (nremap > 0)
            memcpy(remap, ph.remap, nremap * sizeof(*remap));
        if (ph.key_count > 0)
            memcpy(keys, ph.keys, ph.key_count * sizeof(*keys));
        t->disp = disp;
        t->remap = nremap > 0 ? remap : NULL;
        t->keys = keys;
    }
    phash_free(&ph);

    /* expects, against the table as the proxy will see it */
    evaluate_expects(&ck, t, in_order, out->expect_count, ck.site_of);
    return ck.diag->errors > 0 ? -1 : 0;
}
