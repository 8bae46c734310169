/* The second half of `yardc import` (the first, reading, is import.c): the use_backend
 * lines become routes, the frontends and backends are checked, and the .yard text is
 * written. */
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "importint.h"

/* ---- use_backend ---- */

/* The sample of `use_backend PREFIX%[FETCH,CONVERTERS]SUFFIX`: a name fetch (Host or
 * SNI), `lower`, then either a `word(1,:)` that drops the port, or a map lookup. */
static bool
sample(struct im *im, struct im_frontend *fe, char *expr)
{
    char *items[16];
    uint32_t n = 0, depth = 0;
    bool lower = false;

    items[n++] = expr;
    for (char *p = expr; *p != '\0'; p++) {
        depth += *p == '(';
        depth -= *p == ')' && depth > 0;
        if (*p == ',' && depth == 0 && n < 16) {
            *p = '\0';
            items[n++] = p + 1;
        }
    }
    if (strcasecmp(items[0], "req.hdr(host)") == 0 || strcasecmp(items[0], "hdr(host)") == 0)
        fe->sni = false;
    else if (strcmp(items[0], "req_ssl_sni") == 0 || strcmp(items[0], "req.ssl_sni") == 0)
        fe->sni = true;
    else
        return im_cannot(im, 1, "switchyard routes by the Host (req.hdr(host)) or by the SNI "
                         "(req_ssl_sni)");
    for (uint32_t i = 1; i < n; i++) {
        char *it = items[i], *arg, *def;

        if (strcmp(it, "lower") == 0) {
            lower = true;
        } else if (strcmp(it, "word(1,:)") == 0 || strcmp(it, "field(1,:)") == 0) {
            continue;
        } else if (i == n - 1 && (strncmp(it, "map(", 4) == 0 ||
                                  strncmp(it, "map_str(", 8) == 0) &&
                   it[strlen(it) - 1] == ')') {
            arg = strchr(it, '(') + 1;
            arg[strlen(arg) - 1] = '\0';
            def = strchr(arg, ',');
            if (def != NULL)
                *def++ = '\0';
            fe->map_default = def;
            fe->route = IM_ROUTE_MAP;
            fe->map_src = im_read_named_file(im, 1, arg, "map file");
            if (fe->map_src < 0)
                return false;
        } else if (strncmp(it, "map_", 4) == 0) {
            return im_cannot(im, 1, "only 'map' and 'map_str' translate: the other map matches "
                             "take parts of names, switchyard matches whole names");
        } else {
            return im_cannot(im, 1, "converters that translate: lower, word(1,:), map, map_str");
        }
    }
    if (!lower)
        return im_cannot(im, 1, "without 'lower' HAProxy's lookup depends on case, and "
                         "switchyard's does not: add 'lower'");
    if (fe->route == IM_ROUTE_NONE)
        fe->route = IM_ROUTE_NAME;
    return true;
}

bool
im_use_backend(struct im *im, struct im_frontend *fe)
{
    const struct hacfg_line *ln = im->ln;
    const char *w, *open, *close;

    if (ln->count > 2)
        return im_cannot(im, 2, "a use_backend with a condition does not translate; route by "
                         "name with %[req.hdr(host),lower] or %[req_ssl_sni,lower]");
    if (!im_want_words(im, 2))
        return false;
    if (fe->route != IM_ROUTE_NONE) {
        im_error_at(im, 0, "a second use_backend does not translate");
        diag_note(im->d, fe->route_at, "the first one");
        return false;
    }
    w = ln->word[1];
    open = strstr(w, "%[");
    close = open != NULL ? strchr(open, ']') : NULL;
    if (open == NULL && strchr(w, '%') == NULL) {
        /* A fixed name: every request goes there, as with default_backend. */
        if (fe->fallback != NULL)
            return im_error_at(im, 0, "'default_backend' is never reached after this");
        fe->fallback = w;
        fe->fallback_at = ln->at[1];
        return false;
    }
    if (close == NULL || strchr(close + 1, '%') != NULL ||
        memchr(w, '%', (size_t)(open - w)) != NULL)
        return im_cannot(im, 1, "a backend name translates with one %[...] sample");
    fe->route_at = ln->at[1];
    fe->prefix = arena_strndup(im->a, w, (size_t)(open - w));
    fe->suffix = arena_strdup(im->a, close + 1);
    sample(im, fe, arena_strndup(im->a, open + 2, (size_t)(close - open - 2)));
    return true;
}

/* ---- routes ---- */

struct im_backend *
im_find_backend(struct im *im, const char *name, uint32_t *idx)
{
    for (uint32_t i = 0; i < im->backends.count; i++) {
        struct im_backend *be = *AVEC_AT(&im->backends, struct im_backend *, i);

        if (strcmp(be->name, name) == 0) {
            if (idx != NULL)
                *idx = i;
            return be;
        }
    }
    return NULL;
}

/* A domain the lookup can reach: HAProxy compares the lowercased name byte for byte, so
 * a key or backend name that is not a domain in its normal form is never chosen. */
static const char *
route_domain(struct im *im, const char *s, struct loc at)
{
    char out[DOMAIN_BUF];
    size_t len, bad_off, bad_len;
    enum domain_result r = domain_normalize(s, strlen(s), false, out, &len, &bad_off,
                                            &bad_len, NULL);

    if (r != DOMAIN_OK) {
        diag_error(im->d, at, "'%s' is not a domain name switchyard can route: %s", s,
                   domain_strerror(r));
        return NULL;
    }
    if (strcmp(out, s) != 0) {
        diag_error(im->d, at, "'%s' is never chosen: the name is lowercased before the "
                   "lookup", s);
        return NULL;
    }
    return arena_strndup(im->a, out, len);
}

static void
add_route(struct im *im, struct avec *routes, const struct im_frontend *fe, const char *domain,
          uint32_t be_idx, struct loc at)
{
    struct im_backend *be = *AVEC_AT(&im->backends, struct im_backend *, be_idx);
    struct im_route_ent *r;

    if (be->mode != fe->mode) {
        diag_error(im->d, at, "backend '%s' is in mode %s, the frontend '%s' in mode %s",
                   be->name, be->mode == IM_HTTP ? "http" : "tcp", fe->name,
                   fe->mode == IM_HTTP ? "http" : "tcp");
        return;
    }
    r = avec_push(routes);
    r->domain = domain;
    r->backend = be_idx;
    r->at = at;
}

/* Every backend named PREFIX + domain + SUFFIX is the route of that domain. */
static void
name_routes(struct im *im, const struct im_frontend *fe, struct avec *routes)
{
    size_t pl = strlen(fe->prefix), sl = strlen(fe->suffix);

    for (uint32_t i = 0; i < im->backends.count; i++) {
        struct im_backend *be = *AVEC_AT(&im->backends, struct im_backend *, i);
        size_t n = strlen(be->name);
        const char *domain;

        if (n <= pl + sl || strncmp(be->name, fe->prefix, pl) != 0 ||
            strcmp(be->name + n - sl, fe->suffix) != 0)
            continue;
        domain = route_domain(im, arena_strndup(im->a, be->name + pl, n - pl - sl), be->at);
        if (domain == NULL) {
            diag_note(im->d, fe->route_at, "its name fits this use_backend");
            continue;
        }
        add_route(im, routes, fe, domain, i, be->at);
    }
}

/* Each line of the map file is a domain and the backend (between PREFIX and SUFFIX). */
static void
map_routes(struct im *im, struct im_frontend *fe, struct avec *routes)
{
    struct hacfg_line ln;
    uint32_t pos = 0, idx;

    while (!diag_is_stopped(im->d) && hacfg_next(im->d, im->a, (uint32_t)fe->map_src, &pos,
                                                 &ln)) {
        const char *domain, *name;

        if (ln.count != 2) {
            diag_error(im->d, ln.count > 2 ? ln.at[2] : ln.loc,
                       "a map line translates as a name and a backend");
            continue;
        }
        name = arena_printf(im->a, "%s%s%s", fe->prefix, ln.word[1], fe->suffix);
        if (im_find_backend(im, name, &idx) == NULL) {
            diag_error(im->d, ln.at[1], "no backend '%s'", name);
            continue;
        }
        domain = route_domain(im, ln.word[0], ln.at[0]);
        if (domain != NULL)
            add_route(im, routes, fe, domain, idx, ln.at[0]);
    }
    if (fe->map_default != NULL) {
        const char *name = arena_printf(im->a, "%s%s%s", fe->prefix, fe->map_default,
                                        fe->suffix);

        if (im_find_backend(im, name, NULL) == NULL)
            return;             /* HAProxy goes on to default_backend */
        if (fe->fallback != NULL) {
            diag_error(im->d, fe->fallback_at, "never reached: the map's default names "
                       "backend '%s'", name);
            return;
        }
        fe->fallback = name;
        fe->fallback_at = fe->route_at;
    }
}

static int
route_cmp(const void *pa, const void *pb)
{
    const struct im_route_ent *a = pa, *b = pb;

    return strcmp(a->domain, b->domain);
}

/* The routes of one frontend, sorted; a domain twice is an error. */
static bool
frontend_routes(struct im *im, struct im_frontend *fe, struct avec *routes)
{
    unsigned before = im->d->errors;

    if (fe->route == IM_ROUTE_NAME)
        name_routes(im, fe, routes);
    else
        map_routes(im, fe, routes);
    if (routes->count > 1)
        qsort(routes->data, routes->count, sizeof(struct im_route_ent), route_cmp);
    for (uint32_t i = 1; i < routes->count; i++) {
        struct im_route_ent *a = AVEC_AT(routes, struct im_route_ent, i - 1);
        struct im_route_ent *b = AVEC_AT(routes, struct im_route_ent, i);

        if (strcmp(a->domain, b->domain) == 0) {
            diag_error(im->d, b->at, "'%s' is routed twice", b->domain);
            diag_note(im->d, a->at, "first here");
        }
    }
    return im->d->errors == before;
}

/* Every listener of a protocol routes by the same sites: a second frontend of that
 * protocol must route each domain to the same backend. */
static void
protocol_routes(struct im *im, struct im_frontend *fe)
{
    int p = fe->sni ? IM_P_TLS : IM_P_HTTP;
    struct avec routes, *have = &im->routes[p];

    avec_init(&routes, im->a, sizeof(struct im_route_ent));
    if (!frontend_routes(im, fe, &routes))
        return;
    if (im->router[p] == NULL) {
        im->router[p] = fe;
        *have = routes;
        for (uint32_t i = 0; i < routes.count; i++) {
            uint32_t b = AVEC_AT(&routes, struct im_route_ent, i)->backend;
            struct im_backend *be = *AVEC_AT(&im->backends, struct im_backend *, b);

            be->uses++;
            be->route_uses++;
        }
        return;
    }
    for (uint32_t i = 0; i <= routes.count; i++) {
        struct im_route_ent *a = i < routes.count ? AVEC_AT(&routes, struct im_route_ent, i)
                                                  : NULL;
        struct im_route_ent *b = i < have->count ? AVEC_AT(have, struct im_route_ent, i)
                                                 : NULL;

        if (i == routes.count && routes.count == have->count)
            return;
        if (a == NULL || b == NULL || strcmp(a->domain, b->domain) != 0 ||
            a->backend != b->backend)
            break;
    }
    diag_error(im->d, fe->route_at, "switchyard routes every %s listener by the same "
               "sites, and this use_backend routes otherwise than the one of frontend '%s'",
               p == IM_P_TLS ? "tls" : "http", im->router[p]->name);
    diag_note(im->d, im->router[p]->route_at, "that one");
}

/* ---- checking the frontends and backends ---- */

/* Names of listeners and pools: letters, digits, '.', '-', '_'. */
static bool
check_name(struct im *im, const char *name, struct loc at, const char *what)
{
    size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789.-_");

    if (name[n] == '\0' && n >= 1 && n <= 64)
        return true;
    diag_error(im->d, at, "'%s' cannot be the name of a %s: the names are 1 to 64 "
               "letters, digits, '.', '-' and '_'", name, what);
    return false;
}

static void
check_fallback(struct im *im, struct im_frontend *fe)
{
    struct im_backend *be = im_find_backend(im, fe->fallback, NULL);

    if (be == NULL) {
        diag_error(im->d, fe->fallback_at, "no backend '%s'", fe->fallback);
    } else if (be->mode != fe->mode) {
        diag_error(im->d, fe->fallback_at, "backend '%s' is in mode %s, the frontend in "
                   "mode %s", be->name, be->mode == IM_HTTP ? "http" : "tcp",
                   fe->mode == IM_HTTP ? "http" : "tcp");
    } else if (be->forwarded_for && !fe->forwarded_for) {
        diag_error(im->d, fe->fallback_at, "'option forwardfor' of a default backend does "
                   "not translate: set it on the frontend");
    } else {
        be->uses++;
    }
}

static void
check_frontend(struct im *im, struct im_frontend *fe)
{
    struct im_backend *own = im_find_backend(im, fe->name, NULL);

    check_name(im, fe->name, fe->at, "listener");
    if (fe->binds.count == 0)
        diag_error(im->d, fe->at, "'%s' has no bind line", fe->name);
    if (own != NULL && own->listen_own && own->servers.count > 0 && fe->fallback == NULL) {
        fe->fallback = fe->name;
        fe->fallback_at = fe->at;
    }
    if (fe->redirect != 0) {
        if (fe->mode != IM_HTTP)
            diag_error(im->d, fe->redirect_at, "a redirect needs mode http");
        if (fe->route != IM_ROUTE_NONE || fe->fallback != NULL)
            diag_error(im->d, fe->route != IM_ROUTE_NONE ? fe->route_at : fe->fallback_at,
                       "never reached: every request is redirected");
        return;
    }
    if (fe->route != IM_ROUTE_NONE && fe->sni != (fe->mode == IM_TCP)) {
        diag_error(im->d, fe->route_at, "in mode %s, route by %s", fe->sni ? "http" : "tcp",
                   fe->sni ? "Host (req.hdr(host))" : "SNI (req_ssl_sni)");
        return;
    }
    if (fe->mode == IM_TCP && fe->route == IM_ROUTE_NONE) {
        diag_error(im->d, fe->at, "a tcp frontend translates when it routes by "
                   "req_ssl_sni: switchyard's layer-4 listener reads the TLS ClientHello");
        return;
    }
    if (fe->route != IM_ROUTE_NONE) {
        protocol_routes(im, fe);
        if (im->routes[fe->sni ? IM_P_TLS : IM_P_HTTP].count == 0 && fe->fallback == NULL &&
            im->d->errors == 0)
            diag_error(im->d, fe->route_at, "no backend fits this use_backend, and there is "
                       "no default_backend: nothing would be routed");
    } else if (fe->fallback == NULL)
        diag_error(im->d, fe->at, "'%s' routes nothing: give it a use_backend, a "
                   "default_backend or a redirect", fe->name);
    if (fe->fallback != NULL)
        check_fallback(im, fe);
}

static void
check_backend(struct im *im, struct im_backend *be)
{
    if (be->uses == 0 && (be->listen_own || im->d->errors > 0))
        return;
    if (be->uses == 0) {
        diag_warning(im->d, DIAG_W_IGNORED, be->at, "backend '%s' is left out: no frontend "
                     "uses it", be->name);
        return;
    }
    if (be->servers.count == 0)
        diag_error(im->d, be->at, "backend '%s' has no server", be->name);
    if (be->uses > be->route_uses || be->route_uses > 1)
        check_name(im, be->name, be->at, "pool");
}

void
im_finish(struct im *im)
{
    if (im->admin_path != NULL) {
        struct im_entry *e = AVEC_AT(&im->global, struct im_entry, im->admin_entry);

        e->yard = arena_printf(im->a, "admin %s mode 0%o%s%s%s%s", im_quote(im, im->admin_path),
                               im->admin_mode, im->admin_level ? " level " : "",
                               im->admin_level ? im->admin_level : "",
                               im->admin_timeout_at.len ? " timeout " : "",
                               im->admin_timeout_at.len ? im_duration_text(im, im->admin_timeout)
                                                        : "");
    } else if (im->admin_timeout_at.len != 0) {
        diag_warning(im->d, DIAG_W_IGNORED, im->admin_timeout_at, "'stats timeout' is "
                     "ignored: there is no 'stats socket'");
    }
    for (uint32_t i = 0; i < im->frontends.count && !diag_is_stopped(im->d); i++)
        check_frontend(im, *AVEC_AT(&im->frontends, struct im_frontend *, i));
    for (uint32_t i = 0; i < im->backends.count && !diag_is_stopped(im->d); i++)
        check_backend(im, *AVEC_AT(&im->backends, struct im_backend *, i));
}

/* ---- writing ---- */

static void
write_entries(struct abuf *out, const char *block, const struct avec *entries)
{
    if (entries->count == 0)
        return;
    abuf_printf(out, "%s {\n", block);
    for (uint32_t i = 0; i < entries->count; i++) {
        const struct im_entry *e = AVEC_AT(entries, struct im_entry, i);
        int n = e->yard != NULL ? (int)strlen(e->yard) + 1 : 0;

        /* A long statement gets its HAProxy line on the line above. */
        if (e->yard != NULL && n + 4 + 3 + (int)strlen(e->line) > 92)
            abuf_printf(out, "    # %s\n    %s;\n", e->line, e->yard);
        else if (e->yard != NULL)
            abuf_printf(out, "    %s;%*s# %s\n", e->yard, n < 36 ? 36 - n : 1, "", e->line);
        else if (e->why != NULL)
            abuf_printf(out, "    # %s  (%s)\n", e->line, e->why);
        else
            abuf_printf(out, "    # %s\n", e->line);
    }
    abuf_adds(out, "}\n\n");
}

static void
write_lines(struct im *im, struct abuf *out, const char *kind, const char *name,
            const struct avec *lines)
{
    abuf_printf(out, "# %s %s\n", kind, im_safe_text(im->a, name, strlen(name)));
    for (uint32_t i = 0; i < lines->count; i++)
        abuf_printf(out, "#     %s\n", *AVEC_AT(lines, const char *, i));
}

static const char *
listener_mode(const struct im_frontend *fe)
{
    return fe->redirect != 0 ? "redirect" : fe->mode == IM_HTTP ? "http" : "tls";
}

static void
write_listener(struct im *im, struct abuf *out, const struct im_frontend *fe)
{
    struct abuf opts;

    abuf_init(&opts, im->a);
    if (fe->redirect != 0)
        abuf_printf(&opts, " status %u;", fe->redirect);
    if (fe->fallback != NULL && fe->redirect == 0)
        abuf_printf(&opts, " fallback %s;", fe->fallback);
    if (fe->forwarded_for && fe->mode == IM_HTTP && fe->redirect == 0)
        abuf_adds(&opts, " forwarded-for;");
    if (fe->dontlognull && !im->def_dontlognull)
        abuf_adds(&opts, " dontlognull;");
    write_lines(im, out, im_section_name(IM_FRONTEND), fe->name, &fe->lines);
    abuf_printf(out, "listen %s %s ", fe->name, listener_mode(fe));
    for (uint32_t i = 0; i < fe->binds.count; i++)
        abuf_printf(out, "%s%s", i > 0 ? ", " : "", *AVEC_AT(&fe->binds, const char *, i));
    if (opts.len > 0)
        abuf_printf(out, " {%.*s }\n\n", (int)opts.len, opts.data);
    else
        abuf_adds(out, ";\n\n");
}

static bool
is_named_pool(const struct im_backend *be)
{
    return be->uses > be->route_uses || be->route_uses > 1;
}

static void
write_servers(struct abuf *out, const struct im_backend *be, const char *sep, bool bare)
{
    for (uint32_t i = 0; i < be->servers.count; i++) {
        const char *s = *AVEC_AT(&be->servers, const char *, i);

        abuf_printf(out, "%s%.*s", i > 0 ? sep : "",
                    (int)(bare && strchr(s, ' ') ? (size_t)(strchr(s, ' ') - s) : strlen(s)),
                    s);
    }
}

static void
write_pools(struct im *im, struct abuf *out)
{
    for (uint32_t i = 0; i < im->backends.count; i++) {
        const struct im_backend *be = *AVEC_AT(&im->backends, struct im_backend *, i);

        if (be->uses == 0 && !(be->listen_own && be->servers.count == 0)) {
            write_lines(im, out, "backend", be->name, &be->lines);
            abuf_adds(out, "# (left out: no frontend uses it)\n\n");
        }
        if (be->uses == 0 || !is_named_pool(be))
            continue;
        write_lines(im, out, "backend", be->name, &be->lines);
        abuf_printf(out, "pool %s {\n    server ", be->name);
        write_servers(out, be, ";\n    server ", false);
        abuf_adds(out, ";\n}\n\n");
    }
}

static const struct im_backend *
backend_at(struct im *im, uint32_t i)
{
    return *AVEC_AT(&im->backends, struct im_backend *, i);
}

/* One site per domain of the http and tls routes (both sorted). */
static void
write_sites(struct im *im, struct abuf *out)
{
    static const char *const proto[IM_P_COUNT] = { "http", "tls " };
    uint32_t at[IM_P_COUNT] = { 0, 0 };

    for (;;) {
        const struct im_route_ent *r[IM_P_COUNT], *first = NULL;

        for (int p = 0; p < IM_P_COUNT; p++) {
            r[p] = at[p] < im->routes[p].count
                       ? AVEC_AT(&im->routes[p], struct im_route_ent, at[p]) : NULL;
            if (r[p] != NULL && (first == NULL || strcmp(r[p]->domain, first->domain) < 0))
                first = r[p];
        }
        if (first == NULL)
            return;
        for (int p = 0; p < IM_P_COUNT; p++)
            if (r[p] != NULL && strcmp(r[p]->domain, first->domain) == 0)
                write_lines(im, out, "backend", backend_at(im, r[p]->backend)->name,
                            &backend_at(im, r[p]->backend)->lines);
        abuf_printf(out, "site %s {\n", first->domain);
        for (int p = 0; p < IM_P_COUNT; p++) {
            const struct im_backend *be;

            if (r[p] == NULL || strcmp(r[p]->domain, first->domain) != 0)
                continue;
            be = backend_at(im, r[p]->backend);
            abuf_printf(out, "    %s ", proto[p]);
            if (is_named_pool(be))
                abuf_adds(out, be->name);
            else
                write_servers(out, be, ", ", false);
            abuf_adds(out, ";\n");
            if (p == IM_P_HTTP && be->forwarded_for)
                abuf_adds(out, "    forwarded-for;\n");
            at[p]++;
        }
        abuf_adds(out, "}\n\n");
    }
}

static bool
is_site(struct im *im, const char *domain)
{
    for (int p = 0; p < IM_P_COUNT; p++)
        for (uint32_t i = 0; i < im->routes[p].count; i++)
            if (strcmp(AVEC_AT(&im->routes[p], struct im_route_ent, i)->domain, domain) == 0)
                return true;
    return false;
}

#define IM_UNKNOWN "no-such-site.invalid"

/* An expect per route of each listener, and one for a name no site has. */
static void
write_expects(struct im *im, struct abuf *out, const struct im_frontend *fe)
{
    int p = fe->mode == IM_TCP ? IM_P_TLS : IM_P_HTTP;
    const struct avec *routes = &im->routes[p];

    for (uint32_t i = 0; fe->redirect == 0 && i < routes->count; i++) {
        const struct im_route_ent *r = AVEC_AT(routes, struct im_route_ent, i);
        const struct im_backend *be = backend_at(im, r->backend);

        abuf_printf(out, "expect %s %s -> ", fe->name, r->domain);
        if (is_named_pool(be))
            abuf_printf(out, "pool %s", be->name);
        else
            write_servers(out, be, ", ", true);
        abuf_adds(out, ";\n");
    }
    for (int q = 0; fe->redirect != 0 && q < IM_P_COUNT; q++)
        for (uint32_t i = 0; i < im->routes[q].count; i++)
            abuf_printf(out, "expect %s %s -> redirect %u;\n", fe->name,
                        AVEC_AT(&im->routes[q], struct im_route_ent, i)->domain, fe->redirect);
    if (is_site(im, IM_UNKNOWN))
        return;
    abuf_printf(out, "expect %s " IM_UNKNOWN " -> ", fe->name);
    if (fe->redirect != 0)
        abuf_printf(out, "redirect %u;\n", fe->redirect);
    else if (fe->fallback != NULL)
        abuf_printf(out, "pool %s;\n", fe->fallback);
    else
        abuf_adds(out, p == IM_P_TLS ? "alert;\n" : "503;\n");
}

void
im_write(struct im *im, struct abuf *out)
{
    abuf_printf(out, "# Translated from %s by yardc import.\n# Each statement names the "
                "HAProxy lines it comes from.\n\n", im_safe_text(im->a, im->path,
                                                                strlen(im->path)));
    write_entries(out, "global", &im->global);
    write_entries(out, "defaults", &im->defaults);
    for (uint32_t i = 0; i < im->frontends.count; i++)
        write_listener(im, out, *AVEC_AT(&im->frontends, struct im_frontend *, i));
    write_pools(im, out);
    write_sites(im, out);
    if (im->frontends.count > 0)
        abuf_adds(out, "# Every route, checked when this file is compiled.\n");
    for (uint32_t i = 0; i < im->frontends.count; i++)
        write_expects(im, out, *AVEC_AT(&im->frontends, struct im_frontend *, i));
}
