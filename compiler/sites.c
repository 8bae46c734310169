#include "sites.h"

#include <string.h>

#include "pools.h"

static uint32_t
new_site(struct ck *ck, const char *name, size_t len, uint32_t h, struct loc loc, bool block)
{
    struct ck_site *s = avec_push(&ck->sites);
    const char *src = ck_text(ck, loc);

    /* Most names are written as they are normalised: those point into the source, which a
     * million sites would otherwise hold twice. */
    s->name = len == loc.len && memcmp(src, name, len) == 0 ? src
                                                            : arena_strndup(ck->arena, name, len);
    s->len = (uint32_t)len;
    for (int p = 0; p < YT_PROTO_COUNT; p++)
        s->pool[p] = YT_NONE;
    s->loc = loc;
    s->from_block = block;
    if (name[0] == '*')
        ck->wildcards++;
    ck_nameset_add(ck, &ck->site_names, ck->sites.count - 1, h);
    return ck->sites.count - 1;
}

static void
check_site(struct ck *ck, const struct ast_site *as)
{
    char name[DOMAIN_BUF];
    size_t len;
    uint32_t h, prev, idx;
    const struct ast_item *first[YT_PROTO_COUNT] = { NULL };
    const struct ast_item *acme = NULL, *fwd = NULL;
    bool ok = true;

    if (!ck_domain(ck, as->name, true, name, &len))
        return;
    h = ck_name_hash(name, len);
    prev = ck_nameset_find(ck, &ck->site_names, ck_site_name_of, name, len, h);
    if (prev != YT_NONE) {
        diag_error(ck->diag, as->name, "duplicate domain '%s'", name);
        diag_note(ck->diag, AVEC_AT(&ck->sites, struct ck_site, prev)->loc, "first defined here");
        return;
    }
    idx = new_site(ck, name, len, h, as->name, true);
    for (const struct ast_item *it = as->items; it != NULL && !ck_stopped(ck); it = it->next) {
        struct ck_site *s;
        uint32_t proto, pool;

        switch (it->kind) {
        case AST_TLS:
        case AST_HTTP:
        case AST_QUIC:
            proto = it->kind == AST_TLS ? YT_PROTO_TLS :
                    it->kind == AST_QUIC ? YT_PROTO_QUIC : YT_PROTO_HTTP;
            if (first[proto] != NULL) {
                diag_error(ck->diag, it->kw, "duplicate '%s' in site '%s'",
                           yt_proto_names[proto], name);
                diag_note(ck->diag, first[proto]->kw, "first set here");
                ok = false;
                continue;
            }
            first[proto] = it;
            if (it->servers == NULL) {
                pool = pools_find(ck, it->argv[0].loc);
            } else {
                const char *pname = arena_printf(ck->arena, "%s/%s", name,
                                                 yt_proto_names[proto]);

                pool = pools_new(ck, pname, strlen(pname), it->kw, false);
                AVEC_AT(&ck->pools, struct ck_pool, pool)->used = true;
                if (!pools_fill(ck, pool, it->servers))
                    pool = YT_NONE;
            }
            if (pool == YT_NONE ||
                (proto == YT_PROTO_QUIC && !pools_check_udp(ck, pool, it->kw))) {
                ok = false;
                continue;
            }
            s = AVEC_AT(&ck->sites, struct ck_site, idx);
            s->pool[proto] = pool;
            break;
        case AST_ACME:
        case AST_FORWARDED_FOR: {
            const struct ast_item **seen = it->kind == AST_ACME ? &acme : &fwd;

            if (*seen != NULL) {
                diag_error(ck->diag, it->kw, "duplicate '%s'",
                           it->kind == AST_ACME ? "acme" : "forwarded-for");
                diag_note(ck->diag, (*seen)->kw, "first set here");
                continue;
            }
            *seen = it;
            AVEC_AT(&ck->sites, struct ck_site, idx)->flags |=
                it->kind == AST_ACME ? YT_SITE_ACME : YT_SITE_FORWARDED_FOR;
            break;
        }
        default:
            break;
        }
    }
    if (!ok || ck_stopped(ck))
        return;
    if (first[YT_PROTO_TLS] == NULL && first[YT_PROTO_HTTP] == NULL &&
        first[YT_PROTO_QUIC] == NULL) {
        diag_error(ck->diag, as->name, "site '%s' has no route: give it a 'tls', 'http' or "
                   "'quic' pool", name);
        return;
    }
    if (acme != NULL && first[YT_PROTO_HTTP] == NULL)
        diag_error(ck->diag, acme->kw, "'acme' needs an 'http' pool in the site");
    if (fwd != NULL && first[YT_PROTO_HTTP] == NULL)
        diag_error(ck->diag, fwd->kw, "'forwarded-for' needs an 'http' pool in the site");
}

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
    uint32_t proto = ad->proto_kind == AST_TLS ? YT_PROTO_TLS :
                     ad->proto_kind == AST_QUIC ? YT_PROTO_QUIC : YT_PROTO_HTTP;
    int64_t src = load_file_at(ck->l, ad->path, "domain list");
    const struct diag_source *s;
    const char *p, *end;
    uint32_t last_pool = YT_NONE;
    const char *last_name = NULL;
    size_t last_len = 0;

    if (src < 0)
        return;
    s = diag_source(ck->diag, (uint32_t)src);
    p = s->text;
    end = s->text + s->len;
    while (p < end && !ck_stopped(ck)) {
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
            diag_error(ck->diag, ck_sub(dl, dl.len, 0), "expected a pool name after the domain");
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
        if (!ck_domain(ck, dl, true, name, &len))
            continue;
        if (last_name != NULL && ql.len == last_len && memcmp(q, last_name, last_len) == 0) {
            pool = last_pool;
        } else {
            pool = pools_find(ck, ql);
            if (pool == YT_NONE || (proto == YT_PROTO_QUIC && !pools_check_udp(ck, pool, ql)))
                continue;
            last_pool = pool;
            last_name = q;
            last_len = ql.len;
        }
        h = ck_name_hash(name, len);
        idx = ck_nameset_find(ck, &ck->site_names, ck_site_name_of, name, len, h);
        if (idx == YT_NONE) {
            idx = new_site(ck, name, len, h, dl, false);
        } else {
            struct ck_site *st = AVEC_AT(&ck->sites, struct ck_site, idx);

            if (st->from_block || st->pool[proto] != YT_NONE) {
                diag_error(ck->diag, dl, "duplicate domain '%s'", name);
                diag_note(ck->diag, st->loc, "first defined here");
                continue;
            }
        }
        AVEC_AT(&ck->sites, struct ck_site, idx)->pool[proto] = pool;
    }
}

/* The nearest wildcard that would answer for site s if s did not exist, or YT_NONE. */
static uint32_t
covering_wildcard(const struct ck *ck, const struct ck_site *s)
{
    char buf[DOMAIN_BUF + 1];
    uint32_t i = s->name[0] == '*' ? 2 : 0;

    for (; i < s->len; i++) {
        if (s->name[i] != '.')
            continue;
        uint32_t n = s->len - i + 1;

        buf[0] = '*';
        memcpy(buf + 1, s->name + i, s->len - i);
        uint32_t w = ck_nameset_find(ck, &ck->site_names, ck_site_name_of, buf, n,
                                     ck_name_hash(buf, n));
        if (w != YT_NONE)
            return w;
    }
    return YT_NONE;
}

void
sites_check(struct ck *ck)
{
    unsigned before = ck->diag->errors;

    for (const struct ast_site *s = ck->l->ast->sites; s != NULL && !ck_stopped(ck); s = s->next)
        check_site(ck, s);
    for (const struct ast_domains *d = ck->l->ast->domains; d != NULL && !ck_stopped(ck);
         d = d->next)
        check_domains(ck, d);
    ck->site_errors = ck->diag->errors != before;
}

void
sites_warn_shadowed(struct ck *ck)
{
    for (uint32_t i = 0; ck->wildcards > 0 && i < ck->sites.count && !ck_stopped(ck); i++) {
        const struct ck_site *s = AVEC_AT(&ck->sites, struct ck_site, i);
        uint32_t w = covering_wildcard(ck, s);
        const struct ck_site *ws;

        if (w == YT_NONE)
            continue;
        ws = AVEC_AT(&ck->sites, struct ck_site, w);
        bool same = s->flags == ws->flags;

        for (int p = 0; p < YT_PROTO_COUNT && same; p++)
            same = pools_equal(ck, s->pool[p], ws->pool[p]);
        if (!same)
            continue;
        if (diag_warning(ck->diag, DIAG_W_SHADOWED, s->loc,
                         "site '%.*s' is redundant: '%.*s' routes it the same way",
                         (int)s->len, s->name, (int)ws->len, ws->name))
            diag_note(ck->diag, ws->loc, "'%.*s' defined here", (int)ws->len, ws->name);
    }
}
