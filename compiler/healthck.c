#include "healthck.h"

#include <stdio.h>
#include <string.h>

#include "layout.h"

/* The options of a `check` line, in the canonical order; all take a value. */
enum opt { OPT_INTERVAL = 0, OPT_TIMEOUT, OPT_RISE, OPT_FALL, OPT_METHOD, OPT_PATH, OPT_HOST,
           OPT_STATUS, OPT_COUNT };

static const char *const opt_names[OPT_COUNT] = {
    "interval", "timeout", "rise", "fall", "method", "path", "host", "status",
};

/* The words a line may hold where an option goes: the options, `tcp` and `off`. */
static const char *const words[OPT_COUNT + 2] = {
    "interval", "timeout", "rise", "fall", "method", "path", "host", "status", "tcp", "off",
};

#define HTTP_OPTS (HEALTHCK_SET_METHOD | HEALTHCK_SET_PATH | HEALTHCK_SET_HOST | \
                   HEALTHCK_SET_STATUS)
#define METHOD_MAX 16
#define PATH_MAX_LEN 1024
#define HOST_MAX 255

/* RFC 9110 §5.6.2 tchar. */
static bool
is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Visible ASCII: a request target without spaces or control bytes (RFC 9112 §3.2). */
static bool
is_visible(char c)
{
    return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

/* A host name or [IPv6 address] with an optional :port (RFC 9110 §7.2). */
static bool
is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._:[]", c) != NULL);
}

/* The value of a: at most max bytes, each one ok(); NULL (reported: "WHAT must be WHY")
 * otherwise. */
static const char *
string_of(struct ck *ck, struct ast_arg a, const char *what, bool (*ok)(char), size_t max,
          const char *why, size_t *len)
{
    const char *v = ck_string(ck, a, what, len);

    for (size_t i = 0; v != NULL && i < *len; i++) {
        if (*len > max || !ok(v[i])) {
            diag_error(ck->diag, a.loc, "%s must be %s (at most %zu bytes)", what, why, max);
            return NULL;
        }
    }
    return v;
}

static bool
check_method(struct ck *ck, struct ast_arg a, struct ck_check *c)
{
    c->method = string_of(ck, a, "check method", is_tchar, METHOD_MAX,
                          "an HTTP method token, e.g. GET or HEAD", &c->method_len);
    return c->method != NULL;
}

static bool
check_path(struct ck *ck, struct ast_arg a, struct ck_check *c)
{
    const char *v = string_of(ck, a, "check path", is_visible, PATH_MAX_LEN,
                              "visible ASCII (percent-encode the others)", &c->path_len);

    if (v != NULL && v[0] != '/') {
        diag_error(ck->diag, a.loc, "check path must start with '/'");
        v = NULL;
    }
    c->path = v;
    return v != NULL;
}

static bool
check_host(struct ck *ck, struct ast_arg a, struct ck_check *c)
{
    c->host = string_of(ck, a, "check host", is_host_char, HOST_MAX,
                        "a host name or [IPv6 address], with an optional :port", &c->host_len);
    return c->host != NULL;
}

/* Three digits at t[*at], advancing *at; -1 when there are not. */
static int
three_digits(const char *t, size_t len, size_t *at)
{
    int v = 0;

    for (int k = 0; k < 3; k++, (*at)++) {
        if (*at >= len || t[*at] < '0' || t[*at] > '9')
            return -1;
        v = v * 10 + (t[*at] - '0');
    }
    return v;
}

/* "200" or "200-399", within 100 .. 599. */
static bool
check_status(struct ck *ck, struct ast_arg a, struct ck_check *c)
{
    const char *t = ck_text(ck, a.loc);
    size_t at = 0;
    int lo = three_digits(t, a.loc.len, &at), hi = lo;

    if (at < a.loc.len && t[at] == '-') {
        at++;
        hi = three_digits(t, a.loc.len, &at);
    }
    if ((a.kind == AST_NUMBER || a.kind == AST_WORD) && at == a.loc.len && lo >= 100 &&
        hi <= 599 && lo <= hi) {
        c->yc.status_min = (uint16_t)lo;
        c->yc.status_max = (uint16_t)hi;
        return true;
    }
    diag_error(ck->diag, a.loc, "check status must be a status or a range from 100 to 599, "
               "e.g. 200-399");
    return false;
}

static bool
option_value(struct ck *ck, enum opt o, struct ast_arg a, struct ck_check *c)
{
    char what[32];
    uint32_t v;

    snprintf(what, sizeof(what), "check %s", opt_names[o]);
    switch (o) {
    case OPT_INTERVAL:
    case OPT_TIMEOUT:
        if (!ck_duration(ck, a, what, &v))
            return false;
        if (v < 100 || v > 3600000) {
            diag_error(ck->diag, a.loc, "%s must be from 100ms to 1h", what);
            return false;
        }
        *(o == OPT_INTERVAL ? &c->yc.interval_ms : &c->yc.timeout_ms) = v;
        return true;
    case OPT_RISE:
    case OPT_FALL:
        if (!ck_uint(ck, a, 1, 100, what, &v))
            return false;
        *(o == OPT_RISE ? &c->yc.rise : &c->yc.fall) = (uint16_t)v;
        return true;
    case OPT_METHOD: return check_method(ck, a, c);
    case OPT_PATH: return check_path(ck, a, c);
    case OPT_HOST: return check_host(ck, a, c);
    case OPT_STATUS: return check_status(ck, a, c);
    case OPT_COUNT: break;
    }
    return false;
}

/* Reads one `check` line (`check;` alone: on, with the values of the defaults). NULL
 * when it has errors (reported). */
static struct ck_check *
read_line(struct ck *ck, const struct ast_item *it)
{
    struct ck_check *c = arena_zalloc(ck->arena, sizeof(*c));
    struct loc seen[OPT_COUNT] = { { 0, 0, 0 } };
    bool ok = true;

    c->kw = it->kw;
    for (uint32_t i = 0; i < it->argc; i++) {
        struct ast_arg a = it->argv[i];
        int w = a.kind == AST_WORD ? ck_lookup_word(ck, a, words, OPT_COUNT + 2,
                                                    "check option") : -2;

        if (w == -2)
            diag_error(ck->diag, a.loc, "expected a check option (%s ...) before '%.*s'",
                       "interval, timeout, rise, fall", (int)a.loc.len, ck_text(ck, a.loc));
        if (w < 0)
            return NULL;
        if (w == OPT_COUNT) {
            c->tcp = true;
            continue;
        }
        if (w == OPT_COUNT + 1) {
            if (it->argc != 1) {
                diag_error(ck->diag, a.loc, "'check off' takes no other option");
                return NULL;
            }
            c->off = true;
            continue;
        }
        if (c->set & (1u << w)) {
            diag_error(ck->diag, a.loc, "duplicate check option '%s'", opt_names[w]);
            diag_note(ck->diag, seen[w], "first set here");
            ok = false;
        }
        seen[w] = a.loc;
        c->set |= 1u << w;
        if ((1u << w) & HTTP_OPTS && c->http_opt.len == 0)
            c->http_opt = a.loc;
        if (i + 1 == it->argc) {
            diag_error(ck->diag, a.loc, "check option '%s' needs a value", opt_names[w]);
            return NULL;
        }
        ok &= option_value(ck, (enum opt)w, it->argv[++i], c);
    }
    if (ok && c->tcp && c->http_opt.len != 0) {
        diag_error(ck->diag, c->http_opt, "check option '%.*s' is for http checks, not with "
                   "'tcp'", (int)c->http_opt.len, ck_text(ck, c->http_opt));
        ok = false;
    }
    return ok ? c : NULL;
}

/* The one `check` item of a list (blocks may hold several items), duplicates reported. */
static const struct ast_item *
line_of(struct ck *ck, const struct ast_item *first)
{
    const struct ast_item *line = NULL;

    for (const struct ast_item *it = first; it != NULL; it = it->next) {
        if (it->kind != AST_CHECK || ck_is_duplicate(ck, first, it, "check"))
            continue;
        line = it;
    }
    return line;
}


/* Options of src that it sets, over dst. */
static void
apply(struct ck_check *dst, const struct ck_check *src)
{
    const uint32_t s = src->set;

    if (s & HEALTHCK_SET_INTERVAL)
        dst->yc.interval_ms = src->yc.interval_ms;
    if (s & HEALTHCK_SET_TIMEOUT)
        dst->yc.timeout_ms = src->yc.timeout_ms;
    if (s & HEALTHCK_SET_RISE)
        dst->yc.rise = src->yc.rise;
    if (s & HEALTHCK_SET_FALL)
        dst->yc.fall = src->yc.fall;
    if (s & HEALTHCK_SET_STATUS) {
        dst->yc.status_min = src->yc.status_min;
        dst->yc.status_max = src->yc.status_max;
    }
    if (s & HEALTHCK_SET_METHOD) {
        dst->method = src->method;
        dst->method_len = src->method_len;
    }
    if (s & HEALTHCK_SET_PATH) {
        dst->path = src->path;
        dst->path_len = src->path_len;
    }
    if (s & HEALTHCK_SET_HOST) {
        dst->host = src->host;
        dst->host_len = src->host_len;
    }
    dst->tcp |= src->tcp;
    dst->set |= s;
}

/* Which protocols each pool serves: bit 1 << YT_PROTO_*. */
static uint8_t *
pool_protocols(struct ck *ck)
{
    uint8_t *serves = arena_calloc(ck->arena, ck->pools.count + 1, 1);

    for (uint32_t i = 0; i < ck->sites.count; i++) {
        const struct ck_site *s = AVEC_AT(&ck->sites, struct ck_site, i);

        for (int p = 0; p < YT_PROTO_COUNT; p++)
            if (s->pool[p] != YT_NONE)
                serves[s->pool[p]] |= (uint8_t)(1u << p);
    }
    for (uint32_t i = 0; i < ck->listeners.count; i++) {
        const struct ck_listener *l = AVEC_AT(&ck->listeners, struct ck_listener, i);

        if (l->yl.fallback_pool != YT_NONE)
            serves[l->yl.fallback_pool] |= (uint8_t)(1u << yt_mode_proto(l->yl.mode));
    }
    return serves;
}

/* The check of a pool that serves `serves` under the defaults' line and its own (either
 * may be NULL); NULL when it is not checked or the combination is wrong (reported). */
static struct ck_check *
resolve(struct ck *ck, const struct ck_check *own, uint8_t serves)
{
    const struct ck_check *line = own != NULL ? own : ck->default_check;
    struct ck_check *c;

    if (line == NULL || line->off)
        return NULL;
    /* A QUIC server listens on UDP: there is nothing to connect to. The defaults' line
     * leaves quic pools unchecked; a pool's own line is an error. */
    if (serves & (1u << YT_PROTO_QUIC)) {
        if (own != NULL)
            diag_error(ck->diag, own->kw, "'check' does not apply to a pool that serves quic "
                       "(its servers take UDP: no connect to check)");
        return NULL;
    }
    c = arena_zalloc(ck->arena, sizeof(*c));
    c->kw = line->kw;
    c->yc.interval_ms = HEALTHCK_DEF_INTERVAL_MS;
    c->yc.rise = HEALTHCK_DEF_RISE;
    c->yc.fall = HEALTHCK_DEF_FALL;
    c->yc.status_min = 200;
    c->yc.status_max = 399;
    c->method = "GET";
    c->method_len = 3;
    c->path = "/";
    c->path_len = 1;
    if (ck->default_check != NULL && !ck->default_check->off)
        apply(c, ck->default_check);
    if (own != NULL)
        apply(c, own);
    if (!(c->set & HEALTHCK_SET_TIMEOUT))
        c->yc.timeout_ms = c->yc.interval_ms;
    if (c->yc.timeout_ms > c->yc.interval_ms) {
        diag_error(ck->diag, line->kw, "check timeout (%ums) is longer than its interval "
                   "(%ums): at most one check runs at a time", c->yc.timeout_ms,
                   c->yc.interval_ms);
        return NULL;
    }
    if (own != NULL && own->http_opt.len != 0 && !own->tcp &&
        (serves & (1u << YT_PROTO_TLS))) {
        diag_error(ck->diag, own->http_opt, "check option '%.*s' needs a pool that serves "
                   "plain http; this one serves tls (its check is a connect)",
                   (int)own->http_opt.len, ck_text(ck, own->http_opt));
        return NULL;
    }
    c->yc.kind = !c->tcp && serves == (1u << YT_PROTO_HTTP) ? YT_CHECK_HTTP : YT_CHECK_TCP;
    return c;
}

void
healthck_defaults(struct ck *ck)
{
    const struct ast_item *line = line_of(ck, ck->l->ast->defaults);

    ck->default_check = line != NULL ? read_line(ck, line) : NULL;
    /* Its own values must fit together, once, rather than in every pool that takes them. */
    if (ck->default_check != NULL && resolve(ck, NULL, 0) == NULL && !ck->default_check->off)
        ck->default_check = NULL;
}

void
healthck_pools(struct ck *ck)
{
    uint8_t *serves = pool_protocols(ck);

    for (uint32_t i = 0; i < ck->pools.count && !ck_stopped(ck); i++) {
        struct ck_pool *p = AVEC_AT(&ck->pools, struct ck_pool, i);
        const struct ast_item *line = line_of(ck, p->check_items);
        const struct ck_check *own = NULL;

        if (line != NULL && (own = read_line(ck, line)) == NULL)
            continue;
        p->check = resolve(ck, own, serves[i]);
    }
}

/* Whether two resolved checks are the same record. */
static bool
same_check(const struct ck_check *a, const struct ck_check *b)
{
    const struct yt_check *x = &a->yc, *y = &b->yc;

    return x->kind == y->kind && x->interval_ms == y->interval_ms &&
           x->timeout_ms == y->timeout_ms && x->rise == y->rise && x->fall == y->fall &&
           x->status_min == y->status_min && x->status_max == y->status_max &&
           a->method_len == b->method_len && memcmp(a->method, b->method, a->method_len) == 0 &&
           a->path_len == b->path_len && memcmp(a->path, b->path, a->path_len) == 0 &&
           a->host_len == b->host_len && (a->host_len == 0 ||
                                          memcmp(a->host, b->host, a->host_len) == 0);
}

/* The index of c among the distinct records so far, adding it when new. */
static uint32_t
record_of(struct avec *distinct, const struct ck_check *c)
{
    for (uint32_t i = 0; i < distinct->count; i++)
        if (same_check(*AVEC_AT(distinct, const struct ck_check *, i), c))
            return i;
    *(const struct ck_check **)avec_push(distinct) = c;
    return distinct->count - 1;
}

void
healthck_layout(struct ck *ck, const struct ck_pool *const *porder, struct yt_table *t,
                struct abuf *blob)
{
    struct avec distinct;
    uint32_t *pool_checks = arena_calloc(ck->arena, t->pool_count + 1, sizeof(uint32_t));
    const struct ck_check *def = NULL;
    struct yt_check *checks;
    bool any = false;

    avec_init(&distinct, ck->arena, sizeof(const struct ck_check *));
    t->default_check = YT_NONE;
    if (ck->default_check != NULL && !ck->default_check->off &&
        (def = resolve(ck, NULL, 1u << YT_PROTO_HTTP)) != NULL)
        t->default_check = record_of(&distinct, def);
    for (uint32_t i = 0; i < t->pool_count; i++) {
        const struct ck_check *c = porder[i]->check;

        pool_checks[i] = c != NULL ? record_of(&distinct, c) : YT_NONE;
        any |= c != NULL;
    }
    checks = arena_calloc(ck->arena, distinct.count + 1, sizeof(*checks));
    for (uint32_t i = 0; i < distinct.count; i++) {
        const struct ck_check *c = *AVEC_AT(&distinct, const struct ck_check *, i);

        checks[i] = c->yc;
        checks[i].method = layout_blob_add(blob, c->method, c->method_len);
        checks[i].path = layout_blob_add(blob, c->path, c->path_len);
        checks[i].host = layout_blob_add(blob, c->host_len ? c->host : "", c->host_len);
    }
    t->checks = distinct.count > 0 ? checks : NULL;
    t->check_count = distinct.count;
    t->pool_checks = any ? pool_checks : NULL;
}
