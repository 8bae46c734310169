#include "pools.h"

#include <string.h>

#include "suggest.h"

uint32_t
pools_new(struct ck *ck, const char *name, size_t len, struct loc loc, bool named)
{
    struct ck_pool *p = avec_push(&ck->pools);

    p->name = name;
    p->name_len = (uint32_t)len;
    p->loc = loc;
    p->named = named;
    return ck->pools.count - 1;
}

/* weight, backup, send-proxy, send-proxy-v2 of one server, once each, into sv. */
static bool
server_options(struct ck *ck, const struct ast_server *s, struct ck_server *sv)
{
    bool ok = true;

    for (const struct ast_item *o = s->opts; o != NULL; o = o->next) {
        uint32_t w;
        uint16_t flag = o->kind == AST_BACKUP ? YT_SERVER_BACKUP :
                        o->kind == AST_SEND_PROXY ? YT_SERVER_PROXY_V1 :
                        o->kind == AST_SEND_PROXY_V2 ? YT_SERVER_PROXY_V2 : 0;

        if (ck_is_duplicate(ck, s->opts, o, o->kind == AST_WEIGHT ? "weight" :
                            flag == YT_SERVER_BACKUP ? "backup" :
                            flag == YT_SERVER_PROXY_V1 ? "send-proxy" : "send-proxy-v2")) {
            ok = false;
            continue;
        }
        if (o->kind == AST_WEIGHT) {
            if (ck_uint(ck, o->argv[0], 1, 256, "weight", &w))
                sv->weight = (uint16_t)w;
            else
                ok = false;
            continue;
        }
        sv->flags |= flag;
    }
    return ok;
}

/* Fills pool idx with the servers of a list; false (reported) on errors. */
bool
pools_fill(struct ck *ck, uint32_t idx, const struct ast_server *list)
{
    uint32_t n = 0, i = 0;
    struct ck_server *out;
    bool ok = true;

    for (const struct ast_server *s = list; s != NULL; s = s->next)
        n++;
    out = arena_calloc(ck->arena, n ? n : 1, sizeof(*out));
    for (const struct ast_server *s = list; s != NULL && !ck_stopped(ck); s = s->next, i++) {
        struct ck_server *sv = &out[i];

        sv->weight = 1;
        if (!ck_server_addr(ck, s->addr, &sv->addr)) {
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
        ok &= server_options(ck, s, sv);
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
    struct ck_pool *p = AVEC_AT(&ck->pools, struct ck_pool, idx);
    p->servers = out;
    p->count = n;
    return ok;
}

bool
pools_check_udp(struct ck *ck, uint32_t idx, struct loc use)
{
    const struct ck_pool *p = AVEC_AT(&ck->pools, struct ck_pool, idx);

    for (uint32_t i = 0; i < p->count; i++) {
        if (!(p->servers[i].flags & (YT_SERVER_PROXY_V1 | YT_SERVER_PROXY_V2)))
            continue;
        diag_error(ck->diag, use, "a quic pool cannot send a PROXY header (a datagram has no "
                   "room for one): leave out 'send-proxy' and 'send-proxy-v2'");
        if (p->named)
            diag_note(ck->diag, p->loc, "pool '%s' defined here", p->name);
        return false;
    }
    return true;
}

void
pools_check(struct ck *ck)
{
    for (const struct ast_pool *ap = ck->l->ast->pools; ap != NULL && !ck_stopped(ck);
         ap = ap->next) {
        const char *name = ck_text(ck, ap->name);
        uint32_t h = ck_name_hash(name, ap->name.len), prev, idx;

        if (!ck_valid_name(name, ap->name.len)) {
            diag_error(ck->diag, ap->name,
                       "invalid pool name: use letters, digits, '-', '_' and '.'");
            continue;
        }
        prev = ck_nameset_find(ck, &ck->pool_names, ck_pool_name_of, name, ap->name.len, h);
        if (prev != YT_NONE) {
            diag_error(ck->diag, ap->name, "duplicate pool '%.*s'", (int)ap->name.len, name);
            diag_note(ck->diag, AVEC_AT(&ck->pools, struct ck_pool, prev)->loc,
                      "first defined here");
            continue;
        }
        idx = pools_new(ck, arena_strndup(ck->arena, name, ap->name.len), ap->name.len,
                        ap->name, true);
        ck_nameset_add(ck, &ck->pool_names, idx, h);
        AVEC_AT(&ck->pools, struct ck_pool, idx)->check_items = ap->items;
        if (ap->servers == NULL) {
            diag_error(ck->diag, ap->name, "pool '%.*s' has no server", (int)ap->name.len,
                       name);
            continue;
        }
        pools_fill(ck, idx, ap->servers);
    }
}

uint32_t
pools_find(struct ck *ck, struct loc name)
{
    const char *t = ck_text(ck, name);
    uint32_t idx = ck_nameset_find(ck, &ck->pool_names, ck_pool_name_of, t, name.len,
                                   ck_name_hash(t, name.len));

    if (idx == YT_NONE) {
        const char **cands = arena_calloc(ck->arena, ck->pools.count + 1, sizeof(char *));
        size_t n = 0;
        const char *best;

        for (uint32_t i = 0; i < ck->pools.count; i++) {
            struct ck_pool *p = AVEC_AT(&ck->pools, struct ck_pool, i);

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
        return YT_NONE;
    }
    AVEC_AT(&ck->pools, struct ck_pool, idx)->used = true;
    return idx;
}

bool
pools_equal(const struct ck *ck, uint32_t a, uint32_t b)
{
    const struct ck_pool *p, *q;

    if (a == b)
        return true;
    if (a == YT_NONE || b == YT_NONE)
        return false;
    p = AVEC_AT(&ck->pools, struct ck_pool, a);
    q = AVEC_AT(&ck->pools, struct ck_pool, b);
    if (p->named || q->named || p->count != q->count)
        return false;
    for (uint32_t i = 0; i < p->count; i++)
        if (memcmp(&p->servers[i].addr, &q->servers[i].addr, sizeof(p->servers[i].addr)) != 0 ||
            p->servers[i].weight != q->servers[i].weight ||
            p->servers[i].flags != q->servers[i].flags)
            return false;
    return true;
}

void
pools_warn_unused(struct ck *ck)
{
    for (uint32_t i = 0; i < ck->pools.count && !ck_stopped(ck); i++) {
        const struct ck_pool *p = AVEC_AT(&ck->pools, struct ck_pool, i);

        if (p->named && !p->used)
            diag_warning(ck->diag, DIAG_W_UNUSED, p->loc, "pool '%s' is never used", p->name);
    }
}
