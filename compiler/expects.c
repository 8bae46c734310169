#include "expects.h"

#include <stdlib.h>
#include <string.h>

#include "pools.h"
#include "suggest.h"

static uint32_t
find_listener(struct ck *ck, struct loc name)
{
    const char *t = ck_text(ck, name);
    const char **cands = arena_calloc(ck->arena, ck->listeners.count + 1, sizeof(char *));
    const char *best;

    for (uint32_t i = 0; i < ck->listeners.count; i++) {
        struct ck_listener *ln = AVEC_AT(&ck->listeners, struct ck_listener, i);

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
    return YT_NONE;
}

void
expects_check(struct ck *ck)
{
    for (const struct ast_expect *ae = ck->l->ast->expects; ae != NULL && !ck_stopped(ck);
         ae = ae->next) {
        struct check_expect e = { .kw = ae->kw, .result = ae->result, .kind = ae->kind };
        char name[DOMAIN_BUF];
        size_t len;
        uint32_t v;
        bool ok = true;

        e.listener = find_listener(ck, ae->listener);
        ok = e.listener != YT_NONE;
        if (ok && AVEC_AT(&ck->listeners, struct ck_listener, e.listener)->yl.mode ==
                      YT_MODE_METRICS) {
            diag_error(ck->diag, ae->listener, "listener '%.*s' serves metrics: it routes "
                       "no name anywhere", (int)ae->listener.len, ck_text(ck, ae->listener));
            ok = false;
        }
        if (ck_domain(ck, ae->name, false, name, &len)) {
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
                ok &= ck_server_addr(ck, b->addr, &e.addrs[i++]);
            break;
        }
        case AST_EXPECT_STATUS:
            ok &= ck_uint(ck, (struct ast_arg){ ae->result, AST_NUMBER }, 100, 599, "status",
                          &v);
            e.status = (uint16_t)v;
            break;
        case AST_EXPECT_REDIRECT:
            ok &= ck_uint(ck, (struct ast_arg){ ae->result, AST_NUMBER }, 301, 308,
                           "redirect status", &v);
            e.status = (uint16_t)v;
            break;
        case AST_EXPECT_POOL:
            e.pool = pools_find(ck, ae->result);
            ok &= e.pool != YT_NONE;
            break;
        case AST_EXPECT_ALERT:
            break;
        }
        if (ok)
            *(struct check_expect *)avec_push(&ck->expects) = e;
    }
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

const struct check_expect *
expects_sort(struct ck *ck, struct check_result *out)
{
    struct check_expect *in_order = arena_calloc(ck->arena, ck->expects.count + 1,
                                                 sizeof(*in_order));

    if (ck->expects.count > 0)
        memcpy(in_order, ck->expects.data, ck->expects.count * sizeof(*in_order));
    if (ck->expects.count > 1)
        qsort(ck->expects.data, ck->expects.count, sizeof(struct check_expect), expect_order);
    out->expects = ck->expects.data;
    out->expect_count = ck->expects.count;
    return in_order;
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

void
expects_evaluate(struct ck *ck, const struct yt_table *t, const struct check_expect *es,
                 uint32_t count)
{
    for (uint32_t i = 0; i < count && !ck_stopped(ck); i++) {
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
            diag_note(ck->diag, ck->site_loc[d.site],
                      "'%.*s' matched this site", (int)e->name_len, e->name);
    }
}
