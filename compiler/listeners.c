#include "listeners.h"

#include <string.h>

#include "addr.h"
#include "errpage.h"
#include "pools.h"

#define DEF_FALLBACK_STATUS 503u
#define DEF_REDIRECT_STATUS 301u
#define DEF_REDIRECT_PORT 443u
#define DEF_MAX_HEAD 16384u

/* Whether listeners of mode read HTTP request heads (the others pass bytes through). */
static bool
listener_reads_http(uint32_t mode)
{
    return mode == YT_MODE_HTTP || mode == YT_MODE_REDIRECT;
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
    ln->yl.flags = ck->dontlognull ? YT_LISTENER_DONTLOGNULL : 0;
    return ln;
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
    case AST_FALLBACK: return mode != YT_MODE_REDIRECT;
    case AST_STATUS: case AST_PORT: return mode == YT_MODE_REDIRECT;
    case AST_MAX_HEAD: return listener_reads_http(mode);
    case AST_FORWARDED_FOR: return mode == YT_MODE_HTTP;
    default: return true;
    }
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
    default:
        break;
    }
}

static void
check_listener(struct ck *ck, const struct ast_listener *al)
{
    uint32_t mode = al->mode_kind == AST_TLS ? YT_MODE_TLS :
                    al->mode_kind == AST_HTTP ? YT_MODE_HTTP :
                    al->mode_kind == AST_QUIC ? YT_MODE_QUIC : YT_MODE_REDIRECT;
    const struct ast_item *seen[8] = { NULL };
    struct ck_listener *ln = new_listener(ck, al, mode);

    if (ln == NULL)
        return;
    check_binds(ck, ln, al);
    for (const struct ast_item *it = al->items; it != NULL && !ck_stopped(ck); it = it->next) {
        const char *kw = diag_text(ck->diag, it->kw);
        int slot = it->kind == AST_FALLBACK ? 0 : it->kind == AST_STATUS ? 1 :
                   it->kind == AST_PORT ? 2 : it->kind == AST_MAX_HEAD ? 3 :
                   it->kind == AST_FORWARDED_FOR ? 4 : 5;

        if (!item_applies(it->kind, mode)) {
            diag_error(ck->diag, it->kw, "'%.*s' does not apply to %s listeners",
                       (int)it->kw.len, kw, yt_mode_names[mode]);
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

/* A tls, quic or http listener needs somewhere to send someone. (Not said when a site was
 * dropped for its errors: it may be the missing route.) */
static void
check_routes(struct ck *ck)
{
    for (uint32_t i = 0; i < ck->listeners.count && !ck_stopped(ck) && !ck->site_errors; i++) {
        struct ck_listener *ln = AVEC_AT(&ck->listeners, struct ck_listener, i);
        uint32_t proto = yt_mode_proto(ln->yl.mode);
        bool routed = ln->yl.mode == YT_MODE_REDIRECT || ln->yl.fallback_pool != YT_NONE;

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
