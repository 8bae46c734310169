#include "print.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "errpage.h"

static void
add_str(struct abuf *out, const struct yt_table *t, struct yt_str s)
{
    abuf_add(out, t->blob + s.off, s.len);
}

void
print_string(struct abuf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *o = abuf_reserve(out, len * 4 + 2);
    char *start = o;

    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                *o++ = '\\';
                *o++ = 'x';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    out->len += (size_t)(o - start);
}

void
print_duration(struct abuf *out, uint32_t ms)
{
    if (ms % 3600000 == 0)
        abuf_printf(out, "%uh", ms / 3600000);
    else if (ms % 60000 == 0)
        abuf_printf(out, "%um", ms / 60000);
    else if (ms % 1000 == 0)
        abuf_printf(out, "%us", ms / 1000);
    else
        abuf_printf(out, "%ums", ms);
}

static void
print_size(struct abuf *out, uint32_t bytes)
{
    if (bytes % (1024 * 1024) == 0)
        abuf_printf(out, "%um", bytes / (1024 * 1024));
    else if (bytes % 1024 == 0)
        abuf_printf(out, "%uk", bytes / 1024);
    else
        abuf_printf(out, "%u", bytes);
}

static void
print_addr6(struct abuf *out, const struct sockaddr_in6 *a)
{
    char host[INET6_ADDRSTRLEN];

    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    abuf_printf(out, "[%s]:%u", host, ntohs(a->sin6_port));
}

static void
print_bind(struct abuf *out, const struct yt_bind *b)
{
    char host[INET6_ADDRSTRLEN];

    if (b->addr.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &b->addr.in4.sin_addr, host, sizeof(host));
        abuf_printf(out, "%s:%u", host, ntohs(b->addr.in4.sin_port));
    } else if (!b->v6only && IN6_IS_ADDR_UNSPECIFIED(&b->addr.in6.sin6_addr)) {
        abuf_printf(out, ":%u", ntohs(b->addr.in6.sin6_port));
    } else {
        print_addr6(out, &b->addr.in6);
    }
}

void
print_put(void *out, const char *s, size_t len)
{
    abuf_add(out, s, len);
}

static void
print_global(struct abuf *out, const struct yt_table *t)
{
    const struct yt_global *g = &t->global;

    abuf_adds(out, "global {\n");
    if (g->user.len) {
        abuf_adds(out, "    user ");
        print_string(out, t->blob + g->user.off, g->user.len);
        abuf_adds(out, ";\n");
    }
    if (g->group.len) {
        abuf_adds(out, "    group ");
        print_string(out, t->blob + g->group.off, g->group.len);
        abuf_adds(out, ";\n");
    }
    if (g->chroot.len) {
        abuf_adds(out, "    chroot ");
        print_string(out, t->blob + g->chroot.off, g->chroot.len);
        abuf_adds(out, ";\n");
    }
    for (uint32_t i = 0; i < t->log_count; i++) {
        const struct yt_log *l = &t->logs[i];

        if (l->kind == YT_LOG_STDERR) {
            abuf_adds(out, "    log stderr;\n");
            continue;
        }
        if (l->kind == YT_LOG_UDP) {
            struct yt_bind dest = { .addr = l->addr, .v6only = 1 };

            abuf_adds(out, "    log udp ");
            print_bind(out, &dest);
        } else {
            abuf_adds(out, "    log syslog ");
            print_string(out, t->blob + l->path.off, l->path.len);
        }
        abuf_printf(out, " %s %s",
                    l->facility < YT_FACILITY_COUNT ? yt_facility_names[l->facility] : "user",
                    l->level < YT_LEVEL_COUNT ? yt_level_names[l->level] : "debug");
        /* The default format is left out: the text of older configurations stays. */
        if (l->format != YT_LOG_RFC3164 && l->format < YT_LOG_FORMAT_COUNT)
            abuf_printf(out, " format %s", yt_log_format_names[l->format]);
        abuf_adds(out, ";\n");
    }
    if (g->admin_socket.len) {
        abuf_adds(out, "    admin ");
        print_string(out, t->blob + g->admin_socket.off, g->admin_socket.len);
        abuf_printf(out, " mode 0%o level %s timeout ", g->admin_mode,
                    g->admin_level < YT_ADMIN_LEVEL_COUNT ?
                    yt_admin_level_names[g->admin_level] : "operator");
        print_duration(out, g->admin_timeout_ms);
        abuf_adds(out, ";\n");
    }
    abuf_printf(out, "    workers %u;\n    maxconn %u;\n", g->workers, g->maxconn);
    /* The default is left out: the text (and digest) of older configurations stays. */
    if (g->relay != YT_RELAY_USER && g->relay < YT_RELAY_COUNT)
        abuf_printf(out, "    relay %s;\n", yt_relay_names[g->relay]);
    abuf_adds(out, "}\n");
}

/* A resolved `check` line: every option written out; `tcp` for a connect check, the
 * request's options for an http one (the Host only when set). */
static void
print_check(struct abuf *out, const struct yt_table *t, const struct yt_check *c)
{
    abuf_adds(out, "    check ");
    if (c->kind == YT_CHECK_TCP)
        abuf_adds(out, "tcp ");
    abuf_adds(out, "interval ");
    print_duration(out, c->interval_ms);
    abuf_adds(out, " timeout ");
    print_duration(out, c->timeout_ms);
    abuf_printf(out, " rise %u fall %u", c->rise, c->fall);
    if (c->kind == YT_CHECK_HTTP) {
        abuf_adds(out, " method ");
        add_str(out, t, c->method);
        abuf_adds(out, " path ");
        print_string(out, t->blob + c->path.off, c->path.len);
        if (c->host.len > 0) {
            abuf_adds(out, " host ");
            print_string(out, t->blob + c->host.off, c->host.len);
        }
        abuf_printf(out, " status %u-%u", c->status_min, c->status_max);
    }
    abuf_adds(out, ";\n");
}

static void
print_defaults(struct abuf *out, const struct yt_table *t)
{
    const struct yt_timeouts *to = &t->timeouts;
    uint32_t v[YT_TIMEOUT_COUNT] = { to->connect_ms, to->client_ms, to->server_ms, to->inspect_ms,
                     to->tunnel_ms, to->grace_ms, to->retry_ms };
    struct arena scratch;

    arena_init(&scratch);
    abuf_adds(out, "\ndefaults {\n");
    for (int i = 0; i < YT_TIMEOUT_COUNT; i++) {
        abuf_printf(out, "    timeout %s ", yt_timeout_names[i]);
        print_duration(out, v[i]);
        abuf_adds(out, ";\n");
    }
    /* Pages equal to the built-in ones are left out: they are what an empty
     * configuration gets anyway. */
    for (uint32_t i = 0; i < t->error_count; i++) {
        const struct yt_errpage *e = &t->errors[i];
        size_t blen;
        const char *b = errpage_builtin(&scratch, e->status, &blen);

        if (b != NULL && blen == e->response.len &&
            memcmp(b, t->blob + e->response.off, blen) == 0)
            continue;
        abuf_printf(out, "    error %u text ", e->status);
        print_string(out, t->blob + e->response.off, e->response.len);
        abuf_adds(out, ";\n");
    }
    arena_free(&scratch);
    if (t->default_check != YT_NONE)
        print_check(out, t, &t->checks[t->default_check]);
    abuf_adds(out, "}\n");
}

static void
print_listener(struct abuf *out, const struct yt_table *t, const struct yt_listener *l)
{
    abuf_adds(out, "\nlisten ");
    add_str(out, t, l->name);
    abuf_printf(out, " %s ", l->mode < YT_MODE_COUNT ? yt_mode_names[l->mode] : "tls");
    for (uint32_t i = 0; i < l->bind_count; i++) {
        if (i > 0)
            abuf_adds(out, ", ");
        print_bind(out, &t->binds[l->first_bind + i]);
    }
    abuf_adds(out, " {\n");
    if (l->fallback_pool != YT_NONE) {
        abuf_adds(out, "    fallback ");
        add_str(out, t, t->pools[l->fallback_pool].name);
        abuf_adds(out, ";\n");
    } else if (l->mode == YT_MODE_HTTP) {
        abuf_printf(out, "    fallback %u;\n", l->fallback_status);
    }
    if (l->mode == YT_MODE_REDIRECT)
        abuf_printf(out, "    status %u;\n    port %u;\n", l->redirect_status, l->redirect_port);
    if (l->mode == YT_MODE_HTTP || l->mode == YT_MODE_REDIRECT || l->mode == YT_MODE_METRICS) {
        abuf_adds(out, "    max-head ");
        print_size(out, l->max_head);
        abuf_adds(out, ";\n");
    }
    if (l->flags & YT_LISTENER_FORWARDED_FOR)
        abuf_adds(out, "    forwarded-for;\n");
    if (l->flags & YT_LISTENER_DONTLOGNULL)
        abuf_adds(out, "    dontlognull;\n");
    if (l->flags & YT_LISTENER_LOG_OFF)
        abuf_adds(out, "    log off;\n");
    else if (l->sample_den != 0)
        abuf_printf(out, "    log sample %u/%u;\n", l->sample_num, l->sample_den);
    if (l->flags & YT_LISTENER_LOG_JSON)
        abuf_adds(out, "    log-format json;\n");
    if (l->range_count > 0) {
        abuf_adds(out, l->flags & YT_LISTENER_PROXY_OPTIONAL ? "    accept-proxy optional from "
                                                             : "    accept-proxy from ");
        for (uint32_t i = 0; i < l->range_count; i++) {
            char text[ADDR_RANGE_TEXT_MAX];

            abuf_adds(out, i > 0 ? ", " : "");
            abuf_adds(out, addr_range_text(&t->ranges[l->first_range + i], text, sizeof(text)));
        }
        abuf_adds(out, ";\n");
    }
    /* Only a choice other than the global's: the text of a listener that inherits it (and
     * of every configuration before listeners had one) stays. */
    if (yt_mode_relays(l->mode) && l->relay != t->global.relay && l->relay < YT_RELAY_COUNT)
        abuf_printf(out, "    relay %s;\n", yt_relay_names[l->relay]);
    abuf_adds(out, "}\n");
}

static void
print_expect(struct abuf *out, const struct yt_table *t, const struct check_expect *e)
{
    abuf_adds(out, "expect ");
    add_str(out, t, t->listeners[e->listener].name);
    abuf_addc(out, ' ');
    abuf_add(out, e->name, e->name_len);
    if (e->path != NULL) {
        abuf_addc(out, ' ');
        print_string(out, e->path, e->path_len);
    }
    abuf_adds(out, " -> ");
    switch (e->kind) {
    case AST_EXPECT_SERVERS:
        for (uint32_t i = 0; i < e->addr_count; i++) {
            if (i > 0)
                abuf_adds(out, ", ");
            print_addr6(out, &e->addrs[i]);
        }
        break;
    case AST_EXPECT_STATUS: abuf_printf(out, "%u", e->status); break;
    case AST_EXPECT_ALERT: abuf_adds(out, "alert"); break;
    case AST_EXPECT_REDIRECT: abuf_printf(out, "redirect %u", e->status); break;
    case AST_EXPECT_POOL:
        abuf_adds(out, "pool ");
        add_str(out, t, t->pools[e->pool].name);
        break;
    }
    abuf_adds(out, ";\n");
}

void
print_config_head(struct abuf *out, const struct yt_table *t)
{
    print_global(out, t);
    print_defaults(out, t);
    for (uint32_t i = 0; i < t->pool_count; i++) {
        const struct yt_pool *p = &t->pools[i];

        if (yt_pool_is_inline(t, p))
            continue;
        abuf_adds(out, "\npool ");
        add_str(out, t, p->name);
        abuf_adds(out, " {\n    server ");
        yt_print_servers(t, p, ";\n    server ", print_put, out);
        abuf_adds(out, ";\n");
        if (t->pool_checks != NULL && t->pool_checks[i] != YT_NONE)
            print_check(out, t, &t->checks[t->pool_checks[i]]);
        else if (t->default_check != YT_NONE)
            abuf_adds(out, "    check off;\n");
        abuf_adds(out, "}\n");
    }
    for (uint32_t i = 0; i < t->listener_count; i++)
        print_listener(out, t, &t->listeners[i]);
    if (t->site_count > 0)
        abuf_addc(out, '\n');
}

void
print_config_tail(struct abuf *out, const struct yt_table *t, const struct check_expect *expects,
                  uint32_t expect_count)
{
    if (expect_count > 0)
        abuf_addc(out, '\n');
    for (uint32_t i = 0; i < expect_count; i++) {
        /* identical expects say the same thing once */
        if (i > 0) {
            struct abuf a, b;
            struct arena tmp;

            arena_init(&tmp);
            abuf_init(&a, &tmp);
            abuf_init(&b, &tmp);
            print_expect(&a, t, &expects[i - 1]);
            print_expect(&b, t, &expects[i]);
            bool same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
            arena_free(&tmp);
            if (same)
                continue;
        }
        print_expect(out, t, &expects[i]);
    }
}
