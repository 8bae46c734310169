#include "importint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "load.h"
#include "print.h"

const char *
im_section_name(enum im_section s)
{
    static const char *const names[] = {
        [IM_NONE] = "", [IM_GLOBAL] = "global", [IM_DEFAULTS] = "defaults",
        [IM_FRONTEND] = "frontend", [IM_BACKEND] = "backend", [IM_LISTEN] = "listen",
        [IM_SKIP] = "",
    };

    return names[s];
}

static const char *line_text(struct im *im, const struct hacfg_line *ln);

static void
im_entry(struct im *im, struct avec *entries, const char *yard, const char *why)
{
    struct im_entry *e = avec_push(entries);

    e->yard = yard;
    e->line = line_text(im, im->ln);
    e->why = why;
}

static struct im_frontend *
im_add_frontend(struct im *im, const char *name, struct loc at)
{
    struct im_frontend *fe = arena_zalloc(im->a, sizeof(*fe));

    fe->name = name;
    fe->at = at;
    fe->mode = im->def_mode;
    fe->dontlognull = im->def_dontlognull;
    fe->forwarded_for = im->def_forwarded_for;
    avec_init(&fe->binds, im->a, sizeof(const char *));
    avec_init(&fe->lines, im->a, sizeof(const char *));
    *(struct im_frontend **)avec_push(&im->frontends) = fe;
    return fe;
}

static struct im_backend *
im_add_backend(struct im *im, const char *name, struct loc at, bool listen_own)
{
    struct im_backend *be = arena_zalloc(im->a, sizeof(*be));

    be->name = name;
    be->at = at;
    be->mode = im->def_mode;
    be->listen_own = listen_own;
    avec_init(&be->servers, im->a, sizeof(const char *));
    avec_init(&be->lines, im->a, sizeof(const char *));
    *(struct im_backend **)avec_push(&im->backends) = be;
    return be;
}

static void
im_init(struct im *im, struct diag *d, struct arena *a, const struct import_opts *o,
        const char *path)
{
    memset(im, 0, sizeof(*im));
    im->d = d;
    im->a = a;
    im->o = o;
    im->path = path;
    im->admin_mode = 0600;
    avec_init(&im->global, a, sizeof(struct im_entry));
    avec_init(&im->defaults, a, sizeof(struct im_entry));
    avec_init(&im->logs, a, sizeof(const char *));
    avec_init(&im->binds, a, sizeof(struct im_bind));
    avec_init(&im->frontends, a, sizeof(struct im_frontend *));
    avec_init(&im->backends, a, sizeof(struct im_backend *));
    for (int p = 0; p < IM_P_COUNT; p++)
        avec_init(&im->routes[p], a, sizeof(struct im_route_ent));
}

/* ---- reading ---- */

/* s[0..len) as a comment of the language can hold it: runs of blanks become one space,
 * controls and non-ASCII bytes '?'. */
const char *
im_safe_text(struct arena *a, const char *t, size_t len)
{
    char *s = arena_alloc(a, len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];

        if (c == ' ' || c == '\t' || c == '\r') {
            if (n > 0 && s[n - 1] != ' ')
                s[n++] = ' ';
        } else {
            s[n++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
        }
    }
    s[n] = '\0';
    return s;
}

static const char *
line_text(struct im *im, const struct hacfg_line *ln)
{
    return im_safe_text(im->a, diag_text(im->d, ln->loc), ln->loc.len);
}

static bool
is(const struct hacfg_line *ln, uint32_t i, const char *w)
{
    return i < ln->count && strcmp(ln->word[i], w) == 0;
}

bool
im_error_at(struct im *im, uint32_t i, const char *fmt, ...)
{
    const struct hacfg_line *ln = im->ln;
    struct loc at = i < ln->count ? ln->at[i]
                                  : (struct loc){ ln->loc.src, ln->loc.off + ln->loc.len, 1 };
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_error(im->d, at, "%s", msg);
    return false;
}

/* The line has exactly n words, or an error names the first extra or the missing one. */
bool
im_want_words(struct im *im, uint32_t n)
{
    if (im->ln->count == n)
        return true;
    if (im->ln->count > n)
        im_error_at(im, n, "unexpected '%s': '%s' takes %u argument%s here",
                    im->ln->word[n], im->ln->word[0], n - 1, n == 2 ? "" : "s");
    else
        im_error_at(im, im->ln->count, "'%s' needs %u argument%s", im->ln->word[0], n - 1,
                    n == 2 ? "" : "s");
    return false;
}

bool
im_cannot(struct im *im, uint32_t i, const char *why)
{
    if (i >= im->ln->count)
        return im_error_at(im, i, "cannot translate '%s': %s", im->ln->word[0],
                           why != NULL ? why : "incomplete");
    if (why != NULL)
        return im_error_at(im, i, "cannot translate '%s': %s", im->ln->word[i], why);
    return im_error_at(im, i, "cannot translate '%s' in a %s section", im->ln->word[i],
                       im_section_name(im->sec));
}

static void
ignored(struct im *im, struct avec *entries, const char *why)
{
    diag_warning(im->d, DIAG_W_IGNORED, im->ln->at[0], "'%s' is ignored: %s",
                 im->ln->word[0], why);
    im_entry(im, entries, NULL, why);
}

/* HAProxy's durations: a number of milliseconds, or with a unit (us, ms, s, m, h, d);
 * the language takes 1ms to 24h. */
static bool
get_duration(struct im *im, uint32_t i, uint32_t *ms)
{
    static const struct { const char *unit; uint64_t num, den; } units[] = {
        { "", 1, 1 }, { "us", 1, 1000 }, { "ms", 1, 1 }, { "s", 1000, 1 },
        { "m", 60000, 1 }, { "h", 3600000, 1 }, { "d", 86400000, 1 },
    };
    const char *s = i < im->ln->count ? im->ln->word[i] : "";
    uint64_t v = 0;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9' && v < 100000000000ull)
        v = v * 10 + (uint64_t)(s[n++] - '0');
    for (size_t u = 0; n > 0 && u < sizeof(units) / sizeof(units[0]); u++) {
        if (strcmp(s + n, units[u].unit) != 0)
            continue;
        if (v % units[u].den != 0 || v * units[u].num / units[u].den < 1 ||
            v * units[u].num / units[u].den > 86400000) {
            im_error_at(im, i, "switchyard's timeouts are whole milliseconds from 1ms to 24h");
            return false;
        }
        *ms = (uint32_t)(v * units[u].num / units[u].den);
        return true;
    }
    im_error_at(im, i, "invalid duration '%s'", s);
    return false;
}

const char *
im_duration_text(struct im *im, uint32_t ms)
{
    struct abuf b;

    abuf_init(&b, im->a);
    print_duration(&b, ms);
    abuf_addc(&b, '\0');
    return b.data;
}

/* A string of the language, quoted. */
const char *
im_quote(struct im *im, const char *s)
{
    struct abuf b;

    abuf_init(&b, im->a);
    print_string(&b, s, strlen(s));
    abuf_addc(&b, '\0');
    return b.data;
}

/* The file a line names: relative to the configuration's directory, absolute paths
 * under --root. Registers it as a source; returns it, or -1 after an error at word i. */
int64_t
im_read_named_file(struct im *im, uint32_t i, const char *path, const char *what)
{
    const char *full;
    char *text;
    uint32_t len;
    struct stat st;

    if (!im->o->allow_fs) {
        im_error_at(im, i, "cannot read %s '%s': file access is disabled", what, path);
        return -1;
    }
    if (path[0] == '/' && im->o->root != NULL)
        full = arena_printf(im->a, "%s%s", im->o->root, path);
    else
        full = load_resolve(im->a, im->path, path);
    if (load_read_file(im->a, full, &text, &len, &st) == -1) {
        im_error_at(im, i, "cannot read %s '%s': %s", what, full, strerror(errno));
        return -1;
    }
    return diag_add_source(im->d, full, text, len);
}

/* ---- global ---- */

static bool
in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0)
            return true;
    return false;
}

/* switchyard sends each line once to each destination and facility. */
static bool
new_log_target(struct im *im, const char *key)
{
    for (uint32_t i = 0; i < im->logs.count; i++)
        if (strcmp(*AVEC_AT(&im->logs, const char *, i), key) == 0)
            return im_cannot(im, 1, "a second log line to the same destination and facility");
    *(const char **)avec_push(&im->logs) = key;
    return true;
}

/* A UDP syslog server as HAProxy names it ("udp@10.0.0.1:514", "10.0.0.1", the port 514
 * when none is given, "[2001:db8::1]:514") as the language writes it ("udp 10.0.0.1:514"),
 * or NULL. */
static const char *
udp_target(struct im *im, const char *w)
{
    static const char *const prefixes[] = { "udp@", "udp4@", "udp6@", "ipv4@", "ipv6@" };
    const char *addr = w;
    union yt_addr a;
    size_t off, len;

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(w, prefixes[i], strlen(prefixes[i])) == 0)
            addr = w + strlen(prefixes[i]);
    if (strchr(addr, ':') == NULL)
        addr = arena_printf(im->a, "%s:514", addr);
    if (addr_dest(addr, strlen(addr), &a, &off, &len) != NULL)
        return NULL;
    return arena_printf(im->a, "udp %s", addr);
}

/* `log /dev/log local0 [level]`, `log stderr local0`, `log 10.0.0.1:514 local0`. */
static bool
global_log(struct im *im)
{
    const struct hacfg_line *ln = im->ln;
    const char *fac, *target;

    if (ln->count < 3) {
        im_error_at(im, ln->count, "'log' needs a target and a facility");
        return false;
    }
    if (ln->count > 4) {
        im_cannot(im, 4, "switchyard's log lines have no lowest level");
        return false;
    }
    if (ln->word[1][0] == '/')
        target = arena_printf(im->a, "syslog %s", im_quote(im, ln->word[1]));
    else if (is(ln, 1, "stderr"))
        target = "stderr";
    else if ((target = udp_target(im, ln->word[1])) == NULL)
        return im_cannot(im, 1, "switchyard logs to a unix syslog socket, to stderr, or over "
                         "UDP to A.B.C.D[:PORT] or [IPv6]:PORT");
    /* HAProxy's facilities are the language's, with authpriv spelt auth2. */
    fac = is(ln, 2, "auth2") ? "authpriv" : ln->word[2];
    if (is(ln, 2, "authpriv") || !in_list(fac, yt_facility_names, YT_FACILITY_COUNT))
        return im_cannot(im, 2, "not a syslog facility");
    if (ln->count == 4 && !in_list(ln->word[3], yt_level_names, YT_LEVEL_COUNT))
        return im_cannot(im, 3, "not a syslog level");
    if (strcmp(target, "stderr") == 0 && ln->count == 4)
        return im_cannot(im, 3, "switchyard's log to stderr takes no level");
    if (strcmp(target, "stderr") == 0 && !new_log_target(im, target))
        return false;
    if (strcmp(target, "stderr") == 0) {
        im_entry(im, &im->global, "log stderr", NULL);
        return false;
    }
    if (!new_log_target(im, arena_printf(im->a, "%s %s", target, fac)))
        return false;
    im_entry(im, &im->global, arena_printf(im->a, "log %s %s%s%s", target, fac,
                                           ln->count == 4 ? " " : "",
                                           ln->count == 4 ? ln->word[3] : ""), NULL);
    return true;
}

/* A setting that may appear once: false (after an error) when it was set already. */
static bool
once(struct im *im, struct loc *slot)
{
    if (slot->len != 0) {
        im_error_at(im, 0, "'%s' is set twice", im->ln->word[0]);
        diag_note(im->d, *slot, "first set here");
        return false;
    }
    *slot = im->ln->at[0];
    return true;
}

/* `stats socket PATH [mode M] [level L] [expose-fd listeners]`: the admin socket
 * speaks switchyard's protocol, not HAProxy's, so it moves to /run/switchyard/ under
 * the same file name, where HAProxy's tools will not mistake it for theirs. HAProxy's
 * `user` and `operator` levels read, as switchyard's `operator` does; `admin` is
 * `admin`. The listeners are always handed over to root and the proxy's own user. */
static bool
stats_socket(struct im *im)
{
    const struct hacfg_line *ln = im->ln;
    const char *base;

    if (ln->count < 3 || ln->word[2][0] != '/')
        return im_cannot(im, ln->count < 3 ? 1 : 2, "switchyard's admin socket is a unix "
                         "socket named by an absolute path");
    for (uint32_t i = 3; i < ln->count; i += 2) {
        if (is(ln, i, "mode") && i + 1 < ln->count) {
            char *end;
            unsigned long m = strtoul(ln->word[i + 1], &end, 8);

            if (*end != '\0' || end == ln->word[i + 1] || m > 0777)
                return im_cannot(im, i + 1, "not an octal file mode");
            im->admin_mode = (uint32_t)m;
        } else if (is(ln, i, "level") && i + 1 < ln->count) {
            if (is(ln, i + 1, "admin"))
                im->admin_level = "admin";
            else if (is(ln, i + 1, "operator") || is(ln, i + 1, "user"))
                im->admin_level = "operator";
            else
                return im_cannot(im, i + 1, "not an admin socket level: user, operator or admin");
        } else if (is(ln, i, "expose-fd") && is(ln, i + 1, "listeners")) {
            continue;
        } else {
            return im_cannot(im, i, "switchyard's admin socket takes a mode and a level; it "
                             "always hands its listeners over");
        }
    }
    if (!once(im, &im->admin_at))
        return false;
    base = strrchr(ln->word[2], '/') + 1;
    if (*base == '\0' || strlen(base) > 80)
        return im_cannot(im, 2, "the admin socket needs a file name of at most 80 bytes");
    im->admin_path = arena_printf(im->a, "/run/switchyard/%s", base);
    im->admin_entry = im->global.count;
    im_entry(im, &im->global, "", NULL);
    return true;
}

static void
global_stats(struct im *im)
{
    if (is(im->ln, 1, "socket")) {
        stats_socket(im);
    } else if (is(im->ln, 1, "timeout") && im_want_words(im, 3)) {
        if (get_duration(im, 2, &im->admin_timeout) && once(im, &im->admin_timeout_at))
            im_entry(im, &im->global, NULL, "with the admin socket");
    } else if (im->ln->count > 1) {
        im_cannot(im, 1, "switchyard has no statistics page");
    } else {
        im_want_words(im, 2);
    }
}

static void
global_string(struct im *im, struct loc *slot)
{
    if (im->ln->count == 2 && (im->ln->word[1][0] == '\0' ||
                               (slot == &im->chroot_at && im->ln->word[1][0] != '/'))) {
        im_cannot(im, 1, slot == &im->chroot_at ? "switchyard's chroot is an absolute path"
                                                : "an empty name");
        return;
    }
    if (im_want_words(im, 2) && once(im, slot))
        im_entry(im, &im->global, arena_printf(im->a, "%s %s", im->ln->word[0],
                                               im_quote(im, im->ln->word[1])), NULL);
}

static void
global_maxconn(struct im *im)
{
    char *end;
    unsigned long n;

    if (!im_want_words(im, 2))
        return;
    n = strtoul(im->ln->word[1], &end, 10);
    if (*end != '\0' || end == im->ln->word[1] || n < 1 || n > 1000000)
        im_cannot(im, 1, "switchyard's maxconn is 1 to 1000000");
    else if (once(im, &im->maxconn_at))
        im_entry(im, &im->global, arena_printf(im->a, "maxconn %lu", n), NULL);
}

static bool
is_tls_setting(const char *w)
{
    return strcmp(w, "ca-base") == 0 || strcmp(w, "crt-base") == 0 ||
           strncmp(w, "ssl-default-", 12) == 0 || strcmp(w, "ssl-dh-param-file") == 0 ||
           strncmp(w, "tune.ssl.", 9) == 0;
}

static void
global_line(struct im *im)
{
    const char *w = im->ln->word[0];

    if (strcmp(w, "log") == 0)
        global_log(im);
    else if (strcmp(w, "chroot") == 0)
        global_string(im, &im->chroot_at);
    else if (strcmp(w, "user") == 0)
        global_string(im, &im->user_at);
    else if (strcmp(w, "group") == 0)
        global_string(im, &im->group_at);
    else if (strcmp(w, "stats") == 0)
        global_stats(im);
    else if (strcmp(w, "maxconn") == 0)
        global_maxconn(im);
    else if (strcmp(w, "daemon") == 0)
        ignored(im, &im->global, "switchyard stays in the foreground; its service manager "
                "runs it in the background");
    else if (is_tls_setting(w))
        ignored(im, &im->global, "switchyard passes TLS through and holds no certificate, "
                "so TLS settings have nothing to apply to");
    else
        im_cannot(im, 0, NULL);
}

/* ---- settings of defaults, frontends and backends ---- */

static const char *const timeout_names[IM_T_COUNT] = {
    [IM_T_CONNECT] = "connect", [IM_T_CLIENT] = "client", [IM_T_SERVER] = "server",
    [IM_T_INSPECT] = "inspect", [IM_T_TUNNEL] = "tunnel",
};

/* switchyard has one value per timeout for every listener: a second, different value
 * from another section cannot be kept. */
static void
set_timeout(struct im *im, enum im_timeout t, uint32_t i)
{
    uint32_t ms;

    if (!get_duration(im, i, &ms))
        return;
    if (im->timeout_at[t].len == 0) {
        im->timeout_at[t] = im->ln->at[0];
        im->timeout_ms[t] = ms;
        im_entry(im, &im->defaults, arena_printf(im->a, "timeout %s %s", timeout_names[t],
                                                 im_duration_text(im, ms)), NULL);
    } else if (im->timeout_ms[t] != ms) {
        im_error_at(im, i, "switchyard has one 'timeout %s' for every listener, and this one "
                    "differs", timeout_names[t]);
        diag_note(im->d, im->timeout_at[t], "set to %s here",
                  im_duration_text(im, im->timeout_ms[t]));
    }
}

static bool
timeout_line(struct im *im)
{
    static const struct { const char *name; enum im_timeout t; } map[] = {
        { "connect", IM_T_CONNECT }, { "client", IM_T_CLIENT }, { "server", IM_T_SERVER },
        { "http-request", IM_T_INSPECT }, { "tunnel", IM_T_TUNNEL },
    };

    if (!im_want_words(im, 3))
        return false;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (is(im->ln, 1, map[i].name)) {
            set_timeout(im, map[i].t, 2);
            return true;
        }
    }
    return im_cannot(im, 1, "switchyard's timeouts are connect, client, server, http-request "
                     "(inspect) and tunnel");
}

static bool
get_mode(struct im *im, enum im_mode *mode)
{
    if (!im_want_words(im, 2))
        return false;
    if (is(im->ln, 1, "http"))
        *mode = IM_HTTP;
    else if (is(im->ln, 1, "tcp"))
        *mode = IM_TCP;
    else
        return im_cannot(im, 1, "the modes are http and tcp"), false;
    return true;
}

/* `errorfile STATUS PATH`: the page is read now and written inline, so the .yard does
 * not depend on the files of the machine HAProxy runs on. */
static bool
errorfile(struct im *im)
{
    char *end;
    unsigned long status;
    int64_t src;
    const struct diag_source *so;

    if (!im_want_words(im, 3))
        return false;
    status = strtoul(im->ln->word[1], &end, 10);
    if (*end != '\0' || end == im->ln->word[1] || status < 400 || status > 599)
        return im_cannot(im, 1, "switchyard replaces the pages of statuses 400 to 599");
    if (!once(im, &im->page_at[status - 400]))
        return false;
    src = im_read_named_file(im, 2, im->ln->word[2], "error page");
    if (src < 0)
        return false;
    so = diag_source(im->d, (uint32_t)src);
    if (memchr(so->text, '\0', so->len) != NULL)
        return im_cannot(im, 2, "the page holds a NUL byte");
    im_entry(im, &im->defaults, arena_printf(im->a, "error %lu text %s", status,
                                             im_quote(im, so->text)), NULL);
    return true;
}

/* Lines every proxy section may hold. Returns false when the keyword is not one. */
static bool
common_line(struct im *im, struct avec *entries, enum im_mode *mode, bool *dontlognull,
            bool *forwarded_for)
{
    const struct hacfg_line *ln = im->ln;
    const char *w = ln->word[0];

    if (strcmp(w, "mode") == 0) {
        if (get_mode(im, mode) && entries != NULL)
            im_entry(im, entries, NULL, "the mode of each listener follows its frontend");
    } else if (strcmp(w, "log") == 0) {
        if (is(ln, 1, "global") && im_want_words(im, 2) && entries != NULL)
            im_entry(im, entries, NULL, "every log line goes to the global log targets");
        else if (!is(ln, 1, "global"))
            im_cannot(im, 1, "switchyard logs to the global targets only ('log global')");
    } else if (strcmp(w, "option") == 0 && (is(ln, 1, "httplog") || is(ln, 1, "tcplog"))) {
        if (im_want_words(im, 2) && entries != NULL)
            im_entry(im, entries, NULL, "the log line follows the listener's mode");
    } else if (strcmp(w, "option") == 0 && is(ln, 1, "dontlognull")) {
        if (im_want_words(im, 2))
            *dontlognull = true;
    } else if (strcmp(w, "option") == 0 && is(ln, 1, "forwardfor")) {
        if (im_want_words(im, 2))
            *forwarded_for = true;
    } else if (strcmp(w, "timeout") == 0) {
        timeout_line(im);
    } else if (strcmp(w, "balance") == 0) {
        if (im_want_words(im, 2) && !is(ln, 1, "roundrobin"))
            im_cannot(im, 1, "switchyard shares requests round robin by weight");
        else if (entries != NULL)
            im_entry(im, entries, NULL, "servers take turns by weight");
    } else {
        return false;
    }
    return true;
}

static void
defaults_line(struct im *im)
{
    const struct hacfg_line *ln = im->ln;
    bool dontlognull = false;

    if (strcmp(ln->word[0], "errorfile") == 0) {
        errorfile(im);
    } else if (!common_line(im, &im->defaults, &im->def_mode, &dontlognull,
                            &im->def_forwarded_for)) {
        im_cannot(im, 0, NULL);
    } else if (dontlognull && !im->def_dontlognull) {
        im->def_dontlognull = true;
        im_entry(im, &im->defaults, "dontlognull", NULL);
    } else if (is(ln, 1, "forwardfor")) {
        im_entry(im, &im->defaults, NULL, "forwarded-for on every http listener");
    }
}

/* ---- frontends ---- */

/* `bind ADDR[,ADDR...] [v4v6|v6only]`: HAProxy's `:80`, `*:80` and `0.0.0.0:80`, IPv4
 * addresses, IPv6 as `:::80` or `[::1]:80`, in the listen addresses of the language. */
static const char *
bind_addr(struct im *im, const char *a, bool v4v6)
{
    const char *colon = strrchr(a, ':');
    char host[64];
    size_t hl;

    if (colon == NULL)
        return NULL;
    hl = (size_t)(colon - a);
    if (hl >= sizeof(host))
        return NULL;
    memcpy(host, a, hl);
    host[hl] = '\0';
    if (hl == 0 || strcmp(host, "*") == 0)
        return arena_printf(im->a, ":%s", colon + 1);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    if (strchr(host, ':') == NULL)
        return arena_printf(im->a, "%s:%s", host, colon + 1);
    if (v4v6 && strcmp(host, "::") == 0)
        return arena_printf(im->a, ":%s", colon + 1);
    return arena_printf(im->a, "[%s]:%s", host, colon + 1);
}

static bool
bind_line(struct im *im, struct im_frontend *fe)
{
    const struct hacfg_line *ln = im->ln;
    bool v4v6 = false;
    char *list, *save = NULL;

    if (ln->count < 2)
        return im_want_words(im, 2);
    for (uint32_t i = 2; i < ln->count; i++) {
        if (is(ln, i, "v4v6"))
            v4v6 = true;
        else if (is(ln, i, "ssl") || is(ln, i, "crt"))
            return im_cannot(im, i, "switchyard does not terminate TLS; it passes TLS "
                             "through to the backends (tcp mode, use_backend by req_ssl_sni)");
        else if (is(ln, i, "accept-proxy"))
            return im_cannot(im, i, "HAProxy takes a PROXY header from any source; write "
                             "'accept-proxy from RANGE, ...;' with the balancers' addresses "
                             "in the listener");
        else if (!is(ln, i, "v6only"))
            return im_cannot(im, i, "switchyard's listen addresses take no options");
    }
    list = arena_strdup(im->a, ln->word[1]);
    for (char *a = strtok_r(list, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save)) {
        const char *addr = bind_addr(im, a, v4v6);
        struct yt_bind b;
        size_t off, len;

        if (addr == NULL || addr_bind(addr, strlen(addr), &b, &off, &len) != NULL)
            return im_cannot(im, 1, "switchyard listens on ADDRESS:PORT (IPv4, IPv6 or any)");
        for (uint32_t i = 0; i < im->binds.count; i++) {
            const struct im_bind *o = AVEC_AT(&im->binds, struct im_bind, i);

            if (addr_binds_overlap(&o->b, &b)) {
                im_cannot(im, 1, "an address already bound");
                diag_note(im->d, o->at, "bound here");
                return false;
            }
        }
        *(struct im_bind *)avec_push(&im->binds) = (struct im_bind){ b, ln->at[1] };
        *(const char **)avec_push(&fe->binds) = addr;
    }
    return true;
}

/* `http-request redirect scheme https [code N] [unless { ssl_fc } | if !{ ssl_fc }]`
 * (or the older `redirect scheme https ...`): on a frontend without TLS, ssl_fc is
 * always false, so the redirect is unconditional. */
static bool
redirect_line(struct im *im, struct im_frontend *fe, uint32_t i)
{
    const struct hacfg_line *ln = im->ln;
    unsigned long code = 302;

    if (!is(ln, i, "scheme") || !is(ln, i + 1, "https"))
        return im_cannot(im, i < ln->count ? i : 0, "only 'redirect scheme https' translates");
    for (i += 2; i < ln->count; i++) {
        if (is(ln, i, "code") && i + 1 < ln->count) {
            code = strtoul(ln->word[++i], NULL, 10);
            if (code != 301 && code != 302 && code != 307 && code != 308)
                return im_cannot(im, i, "switchyard redirects with 301, 302, 307 or 308");
        } else if (is(ln, i, "unless") && ln->count == i + 4 && is(ln, i + 1, "{") &&
                   is(ln, i + 2, "ssl_fc") && is(ln, i + 3, "}")) {
            break;
        } else if (is(ln, i, "if") && ln->count == i + 4 && is(ln, i + 1, "!{") &&
                   is(ln, i + 2, "ssl_fc") && is(ln, i + 3, "}")) {
            break;
        } else {
            return im_cannot(im, i, "a redirect translates with a code and no other condition "
                             "than 'unless { ssl_fc }'");
        }
    }
    if (fe->redirect != 0) {
        im_error_at(im, 0, "a second redirect is never reached");
        diag_note(im->d, fe->redirect_at, "the first one");
        return false;
    }
    fe->redirect = (uint16_t)code;
    fe->redirect_at = ln->at[0];
    return true;
}

static void
tcp_request(struct im *im)
{
    const struct hacfg_line *ln = im->ln;

    if (is(ln, 1, "inspect-delay")) {
        if (im_want_words(im, 3))
            set_timeout(im, IM_T_INSPECT, 2);
    } else if (is(ln, 1, "content") && is(ln, 2, "accept") && is(ln, 3, "if") &&
               is(ln, 4, "{") && (is(ln, 5, "req_ssl_hello_type") ||
                                  is(ln, 5, "req.ssl_hello_type")) &&
               is(ln, 6, "1") && is(ln, 7, "}")) {
        /* switchyard routes only a complete ClientHello: the rule is built in. */
        im_want_words(im, 8);
    } else {
        im_cannot(im, ln->count > 1 ? 1 : 0, "of tcp-request, only 'inspect-delay' and "
                  "'content accept if { req_ssl_hello_type 1 }' translate");
    }
}

static void
frontend_line(struct im *im, struct im_frontend *fe)
{
    const struct hacfg_line *ln = im->ln;
    const char *w = ln->word[0];

    if (strcmp(w, "bind") == 0) {
        bind_line(im, fe);
    } else if (strcmp(w, "use_backend") == 0) {
        im_use_backend(im, fe);
    } else if (strcmp(w, "default_backend") == 0) {
        if (im_want_words(im, 2) && fe->fallback == NULL) {
            fe->fallback = ln->word[1];
            fe->fallback_at = ln->at[1];
        } else if (fe->fallback != NULL) {
            im_error_at(im, 0, "'default_backend' is set twice");
        }
    } else if (strcmp(w, "http-request") == 0 && is(ln, 1, "redirect")) {
        redirect_line(im, fe, 2);
    } else if (strcmp(w, "redirect") == 0) {
        redirect_line(im, fe, 1);
    } else if (strcmp(w, "tcp-request") == 0) {
        tcp_request(im);
    } else if (!common_line(im, NULL, &fe->mode, &fe->dontlognull, &fe->forwarded_for)) {
        im_cannot(im, 0, NULL);
    }
}

/* ---- backends ---- */

/* `server NAME ADDRESS:PORT [weight N] [backup] [send-proxy] [send-proxy-v2] [check]`.
 * HAProxy writes IPv6 without brackets (the last colon starts the port); IPv4 backends
 * become IPv4-mapped addresses. */
static bool
server_line(struct im *im, struct im_backend *be)
{
    const struct hacfg_line *ln = im->ln;
    struct abuf b;
    const char *a, *colon;
    struct sockaddr_in6 sa;
    size_t off, len;
    char host[64];

    if (ln->count < 3)
        return im_want_words(im, 3);
    a = ln->word[2];
    colon = strrchr(a, ':');
    if (colon == NULL || (size_t)(colon - a) >= sizeof(host) || colon == a)
        return im_cannot(im, 2, "a server is an IP address and a port");
    memcpy(host, a, (size_t)(colon - a));
    host[colon - a] = '\0';
    abuf_init(&b, im->a);
    if (host[0] == '[')
        abuf_printf(&b, "%s%s", host, colon);
    else if (strchr(host, ':') != NULL)
        abuf_printf(&b, "[%s]%s", host, colon);
    else
        abuf_printf(&b, "[::ffff:%s]%s", host, colon);
    if (addr_server(b.data, b.len, &sa, &off, &len) != NULL ||
        inet_ntop(AF_INET6, &sa.sin6_addr, host, sizeof(host)) == NULL)
        return im_cannot(im, 2, "a server is an IP address and a port (no host names: "
                         "switchyard resolves nothing)");
    b.len = 0;
    abuf_printf(&b, "[%s]:%u", host, ntohs(sa.sin6_port));
    for (uint32_t i = 3; i < ln->count; i++) {
        if (is(ln, i, "weight") && i + 1 < ln->count) {
            char *end;
            unsigned long wt = strtoul(ln->word[++i], &end, 10);

            if (*end != '\0' || wt < 1 || wt > 256)
                return im_cannot(im, i, "switchyard's weights are 1 to 256");
            abuf_printf(&b, " weight %lu", wt);
        } else if (is(ln, i, "backup") || is(ln, i, "send-proxy") ||
                   is(ln, i, "send-proxy-v2")) {
            abuf_printf(&b, " %s", ln->word[i]);
        } else if (is(ln, i, "check")) {
            diag_warning(im->d, DIAG_W_IGNORED, ln->at[i], "'check' is ignored: switchyard "
                         "checks whole pools (a 'check' line in the pool, see "
                         "docs/language.md); without one, a server whose connect fails is "
                         "skipped for 'timeout retry'");
        } else {
            return im_cannot(im, i, "server options that translate: weight, backup, "
                             "send-proxy, send-proxy-v2, check");
        }
    }
    abuf_addc(&b, '\0');
    *(const char **)avec_push(&be->servers) = b.data;
    return true;
}

static void
backend_line(struct im *im, struct im_backend *be)
{
    if (strcmp(im->ln->word[0], "server") == 0)
        server_line(im, be);
    else if (!common_line(im, NULL, &be->mode, &be->dontlognull, &be->forwarded_for))
        im_cannot(im, 0, NULL);
}

/* A `listen` section is a frontend and a backend of the same name in one. */
static void
listen_line(struct im *im)
{
    const char *w = im->ln->word[0];

    if (strcmp(w, "server") == 0)
        server_line(im, im->be);
    else if (strcmp(w, "mode") == 0 && get_mode(im, &im->fe->mode))
        im->be->mode = im->fe->mode;
    else if (strcmp(w, "mode") != 0)
        frontend_line(im, im->fe);
}

/* ---- sections ---- */

static const char *
section_name_word(struct im *im)
{
    const struct hacfg_line *ln = im->ln;

    if (ln->count < 2) {
        im_error_at(im, 1, "'%s' needs a name", ln->word[0]);
        return NULL;
    }
    if (ln->count > 2) {
        im_cannot(im, 2, "a section line translates with its name only");
        return NULL;
    }
    return ln->word[1];
}

/* Frontend names and backend names are unique (a listen section has both). */
static bool
unique_section(struct im *im, const char *name)
{
    const struct im_backend *be = im->sec != IM_FRONTEND ? im_find_backend(im, name, NULL) : NULL;
    const struct loc *first = be != NULL ? &be->at : NULL;

    for (uint32_t i = 0; i < im->frontends.count && im->sec != IM_BACKEND; i++) {
        const struct im_frontend *fe = *AVEC_AT(&im->frontends, struct im_frontend *, i);

        if (strcmp(fe->name, name) == 0)
            first = &fe->at;
    }
    if (first == NULL)
        return true;
    im_error_at(im, 1, "'%s' is defined twice", name);
    diag_note(im->d, *first, "first here");
    return false;
}

static void
start_section(struct im *im)
{
    const struct hacfg_line *ln = im->ln;
    const char *w = ln->word[0], *name;

    im->fe = NULL;
    im->be = NULL;
    if (strcmp(w, "global") == 0) {
        im->sec = IM_GLOBAL;
        im_want_words(im, 1);
    } else if (strcmp(w, "defaults") == 0) {
        im->sec = IM_DEFAULTS;
        if (im->defaults_at.len != 0) {
            im_cannot(im, 0, "switchyard has one set of defaults; merge the sections");
            diag_note(im->d, im->defaults_at, "the first defaults section");
        } else if (im->frontends.count + im->backends.count > 0) {
            im_cannot(im, 0, "the defaults must come before every frontend and backend");
        }
        im->defaults_at = ln->at[0];
        if (ln->count > 1)
            im_cannot(im, 1, "named defaults sections do not translate");
    } else if (strcmp(w, "frontend") == 0 || strcmp(w, "backend") == 0 ||
               strcmp(w, "listen") == 0) {
        im->sec = w[0] == 'f' ? IM_FRONTEND : w[0] == 'b' ? IM_BACKEND : IM_LISTEN;
        name = section_name_word(im);
        if (name == NULL) {
            im->sec = IM_SKIP;
            return;
        }
        if (!unique_section(im, name)) {
            im->sec = IM_SKIP;
            return;
        }
        if (im->sec != IM_BACKEND)
            im->fe = im_add_frontend(im, name, ln->at[1]);
        if (im->sec != IM_FRONTEND)
            im->be = im_add_backend(im, name, ln->at[1], im->sec == IM_LISTEN);
    } else {
        im->sec = IM_SKIP;
        im_cannot(im, 0, "switchyard has no such section");
    }
}

static void
section_line(struct im *im)
{
    struct avec *lines = im->fe != NULL ? &im->fe->lines : im->be != NULL ? &im->be->lines
                                                                         : NULL;
    struct avec *entries = im->sec == IM_GLOBAL ? &im->global
                         : im->sec == IM_DEFAULTS ? &im->defaults : NULL;
    uint32_t before = entries != NULL ? entries->count : 0;

    if (lines != NULL)
        *(const char **)avec_push(lines) = line_text(im, im->ln);
    switch (im->sec) {
    case IM_NONE:
        im_cannot(im, 0, "a line before the first section");
        break;
    case IM_GLOBAL: global_line(im); break;
    case IM_DEFAULTS: defaults_line(im); break;
    case IM_FRONTEND: frontend_line(im, im->fe); break;
    case IM_BACKEND: backend_line(im, im->be); break;
    case IM_LISTEN: listen_line(im); break;
    case IM_SKIP: break;
    }
    /* A line that set nothing new (a repeated value) still shows in the output. */
    if (entries != NULL && entries->count == before && im->d->errors == im->errors_before)
        im_entry(im, entries, NULL, NULL);
}

enum import_status
import_haproxy(struct diag *d, struct arena *arena, const char *path, const char *data,
               size_t len, const struct import_opts *o, struct abuf *out)
{
    struct im im;
    struct hacfg_line ln;
    uint32_t pos = 0, src;
    char *text;

    if (data == NULL) {
        uint32_t n;
        struct stat st;

        if (load_read_file(arena, path, &text, &n, &st) == -1) {
            diag_error(d, (struct loc){ .src = DIAG_NO_SOURCE }, "cannot read '%s': %s",
                       path, strerror(errno));
            return IMPORT_IO_ERROR;
        }
        len = n;
    } else {
        if (len >= LOAD_MAX_FILE) {
            diag_error(d, (struct loc){ .src = DIAG_NO_SOURCE }, "%s: file too big", path);
            return IMPORT_IO_ERROR;
        }
        text = arena_strndup(arena, data, len);
    }
    src = diag_add_source(d, path, text, (uint32_t)len);
    im_init(&im, d, arena, o, path);
    im.ln = &ln;
    while (!diag_is_stopped(d) && hacfg_next(d, arena, src, &pos, &ln)) {
        im.errors_before = d->errors;
        if (hacfg_is_section(ln.word[0]))
            start_section(&im);
        else
            section_line(&im);
    }
    im.ln = NULL;
    if (d->errors == 0)
        im_finish(&im);
    if (d->errors > 0)
        return IMPORT_INPUT_ERRORS;
    im_write(&im, out);
    return IMPORT_OK;
}

