#include "listeners.h"

#include <string.h>

#include "addr.h"
#include "errpage.h"
#include "pools.h"
#include "value.h"

#define DEF_FALLBACK_STATUS 503u
#define DEF_REDIRECT_STATUS 301u
#define DEF_REDIRECT_PORT 443u
#define DEF_MAX_HEAD 16384u

/* Whether listeners of mode read HTTP request heads (the others pass bytes through). */
static bool
listener_reads_http(uint32_t mode)
{
    return mode == YT_MODE_HTTP || mode == YT_MODE_REDIRECT || mode == YT_MODE_METRICS;
}

/* Whether listeners of mode receive UDP datagrams rather than TCP connections. */
static bool
listener_is_udp(uint32_t mode)
{
    return mode == YT_MODE_QUIC;
}

/* A new listener named by al with the defaults of its mode, or NULL when the name is
 * invalid or taken (reported). */
static struct ck_listener *
new_listener(struct ck *ck, const struct ast_listener *al, uint32_t mode)
{
    const char *name = ck_text(ck, al->name);
    struct ck_listener *ln;

    if (!ck_valid_name(name, al->name.len)) {
        diag_error(ck->diag, al->name,
                   "invalid listener name: use letters, digits, '-', '_' and '.'");
        return NULL;
    }
    for (uint32_t j = 0; j < ck->listeners.count; j++) {
        struct ck_listener *o = AVEC_AT(&ck->listeners, struct ck_listener, j);

        if (o->name_len == al->name.len && memcmp(o->name, name, o->name_len) == 0) {
            diag_error(ck->diag, al->name, "duplicate listener '%.*s'", (int)al->name.len,
                       name);
            diag_note(ck->diag, o->loc, "first defined here");
            return NULL;
        }
    }
    ln = avec_push(&ck->listeners);
    ln->name = arena_strndup(ck->arena, name, al->name.len);
    ln->name_len = al->name.len;
    ln->loc = al->name;
    ln->yl.mode = mode;
    ln->yl.fallback_pool = YT_NONE;
    ln->yl.fallback_status = mode == YT_MODE_HTTP ? DEF_FALLBACK_STATUS : 0;
    ln->yl.redirect_status = mode == YT_MODE_REDIRECT ? DEF_REDIRECT_STATUS : 0;
    ln->yl.redirect_port = mode == YT_MODE_REDIRECT ? DEF_REDIRECT_PORT : 0;
    ln->yl.max_head = listener_reads_http(mode) ? DEF_MAX_HEAD : 0;
    /* metrics listeners write no access log: dontlognull means nothing to them */
    ln->yl.flags = ck->dontlognull && mode != YT_MODE_METRICS ? YT_LISTENER_DONTLOGNULL : 0;
    if (ck->log_json && mode != YT_MODE_METRICS)
        ln->yl.flags |= YT_LISTENER_LOG_JSON;
    /* only tls connections and http listeners' WebSocket tunnels are relayed at layer 4 */
    ln->yl.relay = yt_mode_relays(mode) ? (uint16_t)ck->global.relay : YT_RELAY_USER;
    return ln;
}

/* Whether range a holds every address of range b. */
static bool
range_covers(const struct yt_range *a, const struct yt_range *b)
{
    return a->prefix <= b->prefix && yt_prefix_equal(a->addr, b->addr, a->prefix);
}

/* The ranges of `accept-proxy`: each valid, host bits clear, none inside another. */
static void
check_ranges(struct ck *ck, struct ck_listener *ln, const struct ast_item *it)
{
    uint32_t n = 0, i = 0;
    struct loc *locs;

    for (const struct ast_bind *r = it->ranges; r != NULL; r = r->next)
        n++;
    ln->ranges = arena_calloc(ck->arena, n, sizeof(*ln->ranges));
    locs = arena_calloc(ck->arena, n, sizeof(*locs));
    for (const struct ast_bind *r = it->ranges; r != NULL && !ck_stopped(ck); r = r->next) {
        char want[ADDR_RANGE_TEXT_MAX], other[ADDR_RANGE_TEXT_MAX];
        size_t off, len;
        const char *why = addr_range(ck_text(ck, r->addr), r->addr.len, &ln->ranges[i],
                                     &off, &len);
        uint32_t j;

        if (why == addr_range_host_bits) {
            diag_error(ck->diag, r->addr, "%s: did you mean '%s'?", why,
                       addr_range_text(&ln->ranges[i], want, sizeof(want)));
            continue;
        }
        if (why != NULL) {
            diag_error(ck->diag, ck_sub(r->addr, off, len), "%s", why);
            continue;
        }
        for (j = 0; j < i; j++)
            if (range_covers(&ln->ranges[j], &ln->ranges[i]) ||
                range_covers(&ln->ranges[i], &ln->ranges[j]))
                break;
        if (j < i) {
            addr_range_text(&ln->ranges[i], want, sizeof(want));
            addr_range_text(&ln->ranges[j], other, sizeof(other));
            if (ln->ranges[i].prefix == ln->ranges[j].prefix)
                diag_error(ck->diag, r->addr, "duplicate source range '%s'", want);
            else
                diag_error(ck->diag, r->addr, "source range '%s' overlaps '%s': one holds "
                           "the other; keep the wider", want, other);
            diag_note(ck->diag, locs[j], "given here");
            continue;
        }
        locs[i++] = r->addr;
    }
    ln->range_count = i;
}

/* The listener's addresses, in the order written; the bad ones reported and left out. */
static void
check_binds(struct ck *ck, struct ck_listener *ln, const struct ast_listener *al)
{
    uint32_t n = 0, i = 0;

    for (const struct ast_bind *b = al->binds; b != NULL; b = b->next)
        n++;
    ln->binds = arena_calloc(ck->arena, n, sizeof(*ln->binds));
    ln->bind_locs = arena_calloc(ck->arena, n, sizeof(*ln->bind_locs));
    for (const struct ast_bind *b = al->binds; b != NULL && !ck_stopped(ck); b = b->next) {
        size_t off, len;
        const char *why = addr_bind(ck_text(ck, b->addr), b->addr.len, &ln->binds[i],
                                    &off, &len);

        if (why != NULL) {
            diag_error(ck->diag, ck_sub(b->addr, off, len), "%s", why);
            continue;
        }
        ln->bind_locs[i++] = b->addr;
    }
    ln->bind_count = i;
}

static bool
item_applies(enum ast_kind kind, uint32_t mode)
{
    switch (kind) {
    case AST_FALLBACK: return mode == YT_MODE_TLS || mode == YT_MODE_HTTP || mode == YT_MODE_QUIC;
    case AST_STATUS: case AST_PORT: return mode == YT_MODE_REDIRECT;
    case AST_MAX_HEAD: return listener_reads_http(mode);
    case AST_FORWARDED_FOR: return mode == YT_MODE_HTTP;
    case AST_DONTLOGNULL: case AST_LOG: case AST_LOG_FORMAT: return mode != YT_MODE_METRICS;
    /* no PROXY header comes over UDP */
    case AST_ACCEPT_PROXY: return mode != YT_MODE_METRICS && mode != YT_MODE_QUIC;
    case AST_RELAY: return yt_mode_relays(mode);
    default: return true;
    }
}

/* Where an item that applies to one mode only does apply, said after "does not apply". */
static const char *
item_applies_only(enum ast_kind kind)
{
    return kind == AST_RELAY ?
           ": only tls listeners and http listeners' WebSocket tunnels relay TCP bytes" : "";
}

#define SAMPLE_DEN_MAX 1000000u

/* log off; or log sample NUM/DEN (1 <= NUM <= DEN). */
static void
check_log_lines(struct ck *ck, struct ck_listener *ln, const struct ast_item *it)
{
    const char *t, *slash;
    uint32_t num, den;
    struct loc r = it->argv[1].loc;

    if (it->argv[0].kind == AST_OFF) {
        ln->yl.flags |= YT_LISTENER_LOG_OFF;
        return;
    }
    t = ck_text(ck, r);
    slash = memchr(t, '/', r.len);
    if (!value_u32(t, (size_t)(slash - t), &num) ||
        !value_u32(slash + 1, r.len - (size_t)(slash - t) - 1, &den) || num < 1 ||
        num > den || den > SAMPLE_DEN_MAX) {
        diag_error(ck->diag, r, "log sample must be NUM/DEN with 1 <= NUM <= DEN <= %u "
                   "(e.g. 1/100: one line in a hundred)", SAMPLE_DEN_MAX);
        return;
    }
    ln->yl.sample_num = num;
    ln->yl.sample_den = den;
}

/* One item of a listener block, known to apply to its mode and to come once. */
static void
listener_item(struct ck *ck, struct ck_listener *ln, const struct ast_item *it)
{
    uint32_t mode = ln->yl.mode, v;

    switch (it->kind) {
    case AST_FALLBACK:
        if (it->argv[0].kind == AST_NUMBER) {
            if (!listener_reads_http(mode)) {
                diag_error(ck->diag, it->argv[0].loc, "a %s listener cannot answer with "
                           "a status; name a pool, or leave the fallback out",
                           yt_mode_names[mode]);
                break;
            }
            if (ck_uint(ck, it->argv[0], 400, 599, "fallback status", &v))
                ln->yl.fallback_status = (uint16_t)v;
        } else {
            ln->yl.fallback_pool = pools_find(ck, it->argv[0].loc);
            if (ln->yl.fallback_pool != YT_NONE && listener_is_udp(mode) &&
                !pools_check_udp(ck, ln->yl.fallback_pool, it->argv[0].loc))
                ln->yl.fallback_pool = YT_NONE;
        }
        break;
    case AST_STATUS:
        if (ck_uint(ck, it->argv[0], 301, 308, "redirect status", &v)) {
            if (v != 301 && v != 302 && v != 307 && v != 308)
                diag_error(ck->diag, it->argv[0].loc,
                           "redirect status must be 301, 302, 307 or 308");
            else
                ln->yl.redirect_status = (uint16_t)v;
        }
        break;
    case AST_PORT:
        if (ck_uint(ck, it->argv[0], 1, 65535, "port", &v))
            ln->yl.redirect_port = (uint16_t)v;
        break;
    case AST_MAX_HEAD:
        ck_size(ck, it->argv[0], "max-head", 1024, 1024 * 1024, &ln->yl.max_head);
        break;
    case AST_FORWARDED_FOR:
        ln->yl.flags |= YT_LISTENER_FORWARDED_FOR;
        break;
    case AST_DONTLOGNULL:
        ln->yl.flags |= YT_LISTENER_DONTLOGNULL;
        break;
    case AST_LOG:
        check_log_lines(ck, ln, it);
        break;
    case AST_LOG_FORMAT:
        switch (ck_lookup_word(ck, it->argv[0], yt_line_format_names, YT_LINE_FORMAT_COUNT,
                               "log format")) {
        case 0: ln->yl.flags &= ~(uint32_t)YT_LISTENER_LOG_JSON; break;
        case 1: ln->yl.flags |= YT_LISTENER_LOG_JSON; break;
        default: break;
        }
        break;
    case AST_ACCEPT_PROXY:
        if (it->argv[0].kind == AST_OPTIONAL)
            ln->yl.flags |= YT_LISTENER_PROXY_OPTIONAL;
        check_ranges(ck, ln, it);
        break;
    case AST_RELAY:
        v = (uint32_t)ck_lookup_word(ck, it->argv[0], yt_relay_names, YT_RELAY_COUNT, "relay");
        if (v < YT_RELAY_COUNT)
            ln->yl.relay = (uint16_t)v;
        break;
    default:
        break;
    }
}

static void
check_listener(struct ck *ck, const struct ast_listener *al)
{
    uint32_t mode = al->mode_kind == AST_TLS ? YT_MODE_TLS :
                    al->mode_kind == AST_HTTP ? YT_MODE_HTTP :
                    al->mode_kind == AST_METRICS ? YT_MODE_METRICS :
                    al->mode_kind == AST_QUIC ? YT_MODE_QUIC : YT_MODE_REDIRECT;
    const struct ast_item *seen[10] = { NULL };
    struct ck_listener *ln = new_listener(ck, al, mode);

    if (ln == NULL)
        return;
    check_binds(ck, ln, al);
    for (const struct ast_item *it = al->items; it != NULL && !ck_stopped(ck); it = it->next) {
        const char *kw = diag_text(ck->diag, it->kw);
        int slot = it->kind == AST_FALLBACK ? 0 : it->kind == AST_STATUS ? 1 :
                   it->kind == AST_PORT ? 2 : it->kind == AST_MAX_HEAD ? 3 :
                   it->kind == AST_FORWARDED_FOR ? 4 : it->kind == AST_LOG ? 6 :
                   it->kind == AST_LOG_FORMAT ? 7 :
                   it->kind == AST_ACCEPT_PROXY ? 8 : it->kind == AST_RELAY ? 9 : 5;

        if (!item_applies(it->kind, mode)) {
            diag_error(ck->diag, it->kw, "'%.*s' does not apply to %s listeners%s",
                       (int)it->kw.len, kw, yt_mode_names[mode], item_applies_only(it->kind));
            continue;
        }
        if (seen[slot] != NULL) {
            diag_error(ck->diag, it->kw, "duplicate '%.*s'", (int)it->kw.len, kw);
            diag_note(ck->diag, seen[slot]->kw, "first set here");
            continue;
        }
        seen[slot] = it;
        listener_item(ck, ln, it);
    }
}

/* Two listeners (or one twice) on overlapping addresses cannot both bind, unless one takes
 * TCP and the other UDP (tls and quic on :443). */
static void
check_overlaps(struct ck *ck)
{
    for (uint32_t i = 0; i < ck->listeners.count && !ck_stopped(ck); i++) {
        struct ck_listener *a = AVEC_AT(&ck->listeners, struct ck_listener, i);

        for (uint32_t bi = 0; bi < a->bind_count; bi++) {
            bool found = false;

            for (uint32_t j = 0; j <= i && !found; j++) {
                struct ck_listener *b = AVEC_AT(&ck->listeners, struct ck_listener, j);

                for (uint32_t bj = 0; bj < (j == i ? bi : b->bind_count) && !found; bj++) {
                    if (listener_is_udp(a->yl.mode) != listener_is_udp(b->yl.mode) ||
                        !addr_binds_overlap(&a->binds[bi], &b->binds[bj]))
                        continue;
                    diag_error(ck->diag, a->bind_locs[bi],
                               "address already used by listener '%s'", b->name);
                    diag_note(ck->diag, b->bind_locs[bj], "bound here");
                    found = true;
                }
            }
        }
    }
}

/* A tls, quic or http listener needs somewhere to send someone (redirect and metrics
 * listeners answer themselves). (Not said when a site was
 * dropped for its errors: it may be the missing route.) */
static void
check_routes(struct ck *ck)
{
    for (uint32_t i = 0; i < ck->listeners.count && !ck_stopped(ck) && !ck->site_errors; i++) {
        struct ck_listener *ln = AVEC_AT(&ck->listeners, struct ck_listener, i);
        uint32_t proto = yt_mode_proto(ln->yl.mode);
        bool routed = ln->yl.mode == YT_MODE_REDIRECT || ln->yl.mode == YT_MODE_METRICS ||
                      ln->yl.fallback_pool != YT_NONE;

        for (uint32_t s = 0; s < ck->sites.count && !routed; s++)
            routed = AVEC_AT(&ck->sites, struct ck_site, s)->pool[proto] != YT_NONE;
        if (!routed)
            diag_error(ck->diag, ln->loc, "listener '%s' has no route: no site has a%s %s pool "
                       "and there is no fallback pool", ln->name,
                       proto == YT_PROTO_HTTP ? "n" : "", yt_proto_names[proto]);
    }
}

/* A fallback status needs a page to send. */
static void
check_fallback_pages(struct ck *ck)
{
    for (uint32_t i = 0; i < ck->listeners.count && !ck_stopped(ck); i++) {
        struct ck_listener *ln = AVEC_AT(&ck->listeners, struct ck_listener, i);
        uint16_t st = ln->yl.fallback_status;
        bool have = st == 0 || ln->yl.mode != YT_MODE_HTTP;

        for (size_t j = 0; j < errpage_builtin_count && !have; j++)
            have = errpage_builtin_statuses[j] == st;
        for (uint32_t j = 0; j < ck->pages.count && !have; j++)
            have = AVEC_AT(&ck->pages, struct ck_page, j)->status == st;
        if (!have)
            diag_error(ck->diag, ln->loc, "listener '%s' answers %u but there is no error page "
                       "for it: add 'error %u text \"...\";' to defaults", ln->name, st, st);
    }
}

void
listeners_check(struct ck *ck)
{
    for (const struct ast_listener *al = ck->l->ast->listeners; al != NULL && !ck_stopped(ck);
         al = al->next)
        check_listener(ck, al);
    check_overlaps(ck);
    check_routes(ck);
    check_fallback_pages(ck);
}
