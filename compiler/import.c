#include "import.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "check.h"
#include "domain.h"
#include "hacfg.h"
#include "load.h"
#include "print.h"

/* HAProxy's default mode is tcp. */
enum im_mode { IM_TCP = 0, IM_HTTP };

enum im_section { IM_NONE = 0, IM_GLOBAL, IM_DEFAULTS, IM_FRONTEND, IM_BACKEND, IM_LISTEN, IM_SKIP };

enum im_timeout { IM_T_CONNECT = 0, IM_T_CLIENT, IM_T_SERVER, IM_T_INSPECT, IM_T_TUNNEL, IM_T_COUNT };

/* A line of the global or defaults block: a statement with the HAProxy line it comes
 * from as a comment, or only that comment (yard NULL) and why it needs no statement. */
struct im_entry {
    const char *yard;
    const char *line;
    const char *why;
};

struct im_backend {
    const char *name;
    struct loc at;                      /* the name in the section line */
    enum im_mode mode;
    struct avec servers;                /* const char *: "[addr]:port options" */
    struct avec lines;                  /* const char *: the section's lines */
    bool dontlognull, forwarded_for;
    bool listen_own;                    /* the servers of a listen section */
    uint32_t uses;                      /* routes and fallbacks naming it */
    uint32_t route_uses;
};

enum im_route { IM_ROUTE_NONE = 0, IM_ROUTE_NAME, IM_ROUTE_MAP };

struct im_frontend {
    const char *name;
    struct loc at;
    enum im_mode mode;
    struct avec binds;                  /* const char *: listen addresses of the language */
    struct avec lines;
    enum im_route route;
    struct loc route_at;                /* the use_backend argument */
    const char *prefix, *suffix;        /* around the %[...] of use_backend */
    bool sni;                           /* by req_ssl_sni, else by Host */
    int64_t map_src;                    /* IM_ROUTE_MAP: the map file's source */
    const char *map_default;            /* map(FILE,DEFAULT) */
    const char *fallback;               /* default_backend */
    struct loc fallback_at;
    uint16_t redirect;                  /* http-request redirect scheme https: its code */
    struct loc redirect_at;
    bool dontlognull, forwarded_for;
};

struct im_bind {
    struct yt_bind b;
    struct loc at;
};

/* One route: a domain to a backend, for one protocol. */
struct im_route_ent {
    const char *domain;
    uint32_t backend;
    struct loc at;
};

enum { IM_P_HTTP = 0, IM_P_TLS, IM_P_COUNT };

struct im {
    struct diag *d;
    struct arena *a;
    const struct import_opts *o;
    const char *path;
    const struct hacfg_line *ln;        /* the line being read */
    unsigned errors_before;             /* d->errors when it started */
    enum im_section sec;
    struct im_frontend *fe;
    struct im_backend *be;
    struct avec global, defaults;       /* struct im_entry */
    struct avec logs;                   /* const char *: "target facility" */
    struct avec binds;                  /* struct im_bind: every frontend's */
    struct avec frontends, backends;    /* pointers */
    struct loc user_at, group_at, chroot_at, maxconn_at, admin_at, admin_timeout_at;
    struct loc defaults_at;
    const char *admin_path, *admin_level;
    uint32_t admin_mode, admin_timeout, admin_entry;
    struct loc timeout_at[IM_T_COUNT];
    uint32_t timeout_ms[IM_T_COUNT];
    struct loc page_at[200];            /* errorfile 400 .. 599 */
    enum im_mode def_mode;
    bool def_dontlognull, def_forwarded_for;
    struct avec routes[IM_P_COUNT];     /* struct im_route_ent, sorted by domain */
    struct im_frontend *router[IM_P_COUNT];  /* the frontend that set them */
};

static const char *
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

static bool im_use_backend(struct im *im, struct im_frontend *fe);
static void im_finish(struct im *im);
static void im_write(struct im *im, struct abuf *out);

/* ---- reading ---- */

/* s[0..len) as a comment of the language can hold it: runs of blanks become one space,
 * controls and non-ASCII bytes '?'. */
static const char *
safe_text(struct arena *a, const char *t, size_t len)
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
    return safe_text(im->a, diag_text(im->d, ln->loc), ln->loc.len);
}

static bool
is(const struct hacfg_line *ln, uint32_t i, const char *w)
{
    return i < ln->count && strcmp(ln->word[i], w) == 0;
}

/* An error at word i of the current line (the line's end when there is no word i). */
static bool
error_at(struct im *im, uint32_t i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Returns false, for `return error_at(...)` in handlers. */
static bool
error_at(struct im *im, uint32_t i, const char *fmt, ...)
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
static bool
want_words(struct im *im, uint32_t n)
{
    if (im->ln->count == n)
        return true;
    if (im->ln->count > n)
        error_at(im, n, "unexpected '%s': '%s' takes %u argument%s here",
                 im->ln->word[n], im->ln->word[0], n - 1, n == 2 ? "" : "s");
    else
        error_at(im, im->ln->count, "'%s' needs %u argument%s", im->ln->word[0], n - 1,
                 n == 2 ? "" : "s");
    return false;
}

static bool
cannot(struct im *im, uint32_t i, const char *why)
{
    if (i >= im->ln->count)
        return error_at(im, i, "cannot translate '%s': %s", im->ln->word[0],
                        why != NULL ? why : "incomplete");
    if (why != NULL)
        return error_at(im, i, "cannot translate '%s': %s", im->ln->word[i], why);
    return error_at(im, i, "cannot translate '%s' in a %s section", im->ln->word[i],
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
            error_at(im, i, "switchyard's timeouts are whole milliseconds from 1ms to 24h");
            return false;
        }
        *ms = (uint32_t)(v * units[u].num / units[u].den);
        return true;
    }
    error_at(im, i, "invalid duration '%s'", s);
    return false;
}

static const char *
duration_text(struct im *im, uint32_t ms)
{
    struct abuf b;

    abuf_init(&b, im->a);
    print_duration(&b, ms);
    abuf_addc(&b, '\0');
    return b.data;
}

/* A string of the language, quoted. */
static const char *
quote(struct im *im, const char *s)
{
    struct abuf b;

    abuf_init(&b, im->a);
    print_string(&b, s, strlen(s));
    abuf_addc(&b, '\0');
    return b.data;
}

/* The file a line names: relative to the configuration's directory, absolute paths
 * under --root. Registers it as a source; returns it, or -1 after an error at word i. */
static int64_t
read_named_file(struct im *im, uint32_t i, const char *path, const char *what)
{
    const char *full;
    char *text;
    uint32_t len;
    struct stat st;

    if (!im->o->allow_fs) {
        error_at(im, i, "cannot read %s '%s': file access is disabled", what, path);
        return -1;
    }
    if (path[0] == '/' && im->o->root != NULL)
        full = arena_printf(im->a, "%s%s", im->o->root, path);
    else
        full = load_resolve(im->a, im->path, path);
    if (load_read_file(im->a, full, &text, &len, &st) == -1) {
        error_at(im, i, "cannot read %s '%s': %s", what, full, strerror(errno));
        return -1;
    }
    return diag_add_source(im->d, full, text, len);
}

/* ---- global ---- */

static const char *const facilities[] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "auth2", "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7",
};
static const char *const levels[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

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
            return cannot(im, 1, "a second log line to the same destination and facility");
    *(const char **)avec_push(&im->logs) = key;
    return true;
}

/* `log /dev/log local0 [level]`, `log stderr local0`. */
static bool
global_log(struct im *im)
{
    const struct hacfg_line *ln = im->ln;
    const char *fac, *target;

    if (ln->count < 3) {
        error_at(im, ln->count, "'log' needs a target and a facility");
        return false;
    }
    if (ln->count > 4) {
        cannot(im, 4, "switchyard's log lines have no lowest level");
        return false;
    }
    if (ln->word[1][0] == '/')
        target = arena_printf(im->a, "syslog %s", quote(im, ln->word[1]));
    else if (is(ln, 1, "stderr"))
        target = "stderr";
    else
        return cannot(im, 1, "switchyard logs to a unix syslog socket or to stderr");
    if (!in_list(ln->word[2], facilities, sizeof(facilities) / sizeof(facilities[0])))
        return cannot(im, 2, "not a syslog facility");
    if (ln->count == 4 && !in_list(ln->word[3], levels, sizeof(levels) / sizeof(levels[0])))
        return cannot(im, 3, "not a syslog level");
    if (strcmp(target, "stderr") == 0 && ln->count == 4)
        return cannot(im, 3, "switchyard's log to stderr takes no level");
    if (strcmp(target, "stderr") == 0 && !new_log_target(im, target))
        return false;
    if (strcmp(target, "stderr") == 0) {
        im_entry(im, &im->global, "log stderr", NULL);
        return false;
    }
    fac = is(ln, 2, "auth2") ? "authpriv" : ln->word[2];
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
        error_at(im, 0, "'%s' is set twice", im->ln->word[0]);
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
        return cannot(im, ln->count < 3 ? 1 : 2, "switchyard's admin socket is a unix "
                      "socket named by an absolute path");
    for (uint32_t i = 3; i < ln->count; i += 2) {
        if (is(ln, i, "mode") && i + 1 < ln->count) {
            char *end;
            unsigned long m = strtoul(ln->word[i + 1], &end, 8);

            if (*end != '\0' || end == ln->word[i + 1] || m > 0777)
                return cannot(im, i + 1, "not an octal file mode");
            im->admin_mode = (uint32_t)m;
        } else if (is(ln, i, "level") && i + 1 < ln->count) {
            if (is(ln, i + 1, "admin"))
                im->admin_level = "admin";
            else if (is(ln, i + 1, "operator") || is(ln, i + 1, "user"))
                im->admin_level = "operator";
            else
                return cannot(im, i + 1, "not an admin socket level: user, operator or admin");
        } else if (is(ln, i, "expose-fd") && is(ln, i + 1, "listeners")) {
            continue;
        } else {
            return cannot(im, i, "switchyard's admin socket takes a mode and a level; it "
                          "always hands its listeners over");
        }
    }
    if (!once(im, &im->admin_at))
        return false;
    base = strrchr(ln->word[2], '/') + 1;
    if (*base == '\0' || strlen(base) > 80)
        return cannot(im, 2, "the admin socket needs a file name of at most 80 bytes");
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
    } else if (is(im->ln, 1, "timeout") && want_words(im, 3)) {
        if (get_duration(im, 2, &im->admin_timeout) && once(im, &im->admin_timeout_at))
            im_entry(im, &im->global, NULL, "with the admin socket");
    } else if (im->ln->count > 1) {
        cannot(im, 1, "switchyard has no statistics page");
    } else {
        want_words(im, 2);
    }
}

static void
global_string(struct im *im, struct loc *slot)
{
    if (im->ln->count == 2 && (im->ln->word[1][0] == '\0' ||
                               (slot == &im->chroot_at && im->ln->word[1][0] != '/'))) {
        cannot(im, 1, slot == &im->chroot_at ? "switchyard's chroot is an absolute path"
                                             : "an empty name");
        return;
    }
    if (want_words(im, 2) && once(im, slot))
        im_entry(im, &im->global, arena_printf(im->a, "%s %s", im->ln->word[0],
                                               quote(im, im->ln->word[1])), NULL);
}

static void
global_maxconn(struct im *im)
{
    char *end;
    unsigned long n;

    if (!want_words(im, 2))
        return;
    n = strtoul(im->ln->word[1], &end, 10);
    if (*end != '\0' || end == im->ln->word[1] || n < 1 || n > 1000000)
        cannot(im, 1, "switchyard's maxconn is 1 to 1000000");
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
        cannot(im, 0, NULL);
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
                                                 duration_text(im, ms)), NULL);
    } else if (im->timeout_ms[t] != ms) {
        error_at(im, i, "switchyard has one 'timeout %s' for every listener, and this one "
                 "differs", timeout_names[t]);
        diag_note(im->d, im->timeout_at[t], "set to %s here",
                  duration_text(im, im->timeout_ms[t]));
    }
}

static bool
timeout_line(struct im *im)
{
    static const struct { const char *name; enum im_timeout t; } map[] = {
        { "connect", IM_T_CONNECT }, { "client", IM_T_CLIENT }, { "server", IM_T_SERVER },
        { "http-request", IM_T_INSPECT }, { "tunnel", IM_T_TUNNEL },
    };

    if (!want_words(im, 3))
        return false;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (is(im->ln, 1, map[i].name)) {
            set_timeout(im, map[i].t, 2);
            return true;
        }
    }
    return cannot(im, 1, "switchyard's timeouts are connect, client, server, http-request "
                  "(inspect) and tunnel");
}

static bool
get_mode(struct im *im, enum im_mode *mode)
{
    if (!want_words(im, 2))
        return false;
    if (is(im->ln, 1, "http"))
        *mode = IM_HTTP;
    else if (is(im->ln, 1, "tcp"))
        *mode = IM_TCP;
    else
        return cannot(im, 1, "the modes are http and tcp"), false;
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

    if (!want_words(im, 3))
        return false;
    status = strtoul(im->ln->word[1], &end, 10);
    if (*end != '\0' || end == im->ln->word[1] || status < 400 || status > 599)
        return cannot(im, 1, "switchyard replaces the pages of statuses 400 to 599");
    if (!once(im, &im->page_at[status - 400]))
        return false;
    src = read_named_file(im, 2, im->ln->word[2], "error page");
    if (src < 0)
        return false;
    so = diag_source(im->d, (uint32_t)src);
    if (memchr(so->text, '\0', so->len) != NULL)
        return cannot(im, 2, "the page holds a NUL byte");
    im_entry(im, &im->defaults, arena_printf(im->a, "error %lu text %s", status,
                                             quote(im, so->text)), NULL);
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
        if (is(ln, 1, "global") && want_words(im, 2) && entries != NULL)
            im_entry(im, entries, NULL, "every log line goes to the global log targets");
        else if (!is(ln, 1, "global"))
            cannot(im, 1, "switchyard logs to the global targets only ('log global')");
    } else if (strcmp(w, "option") == 0 && (is(ln, 1, "httplog") || is(ln, 1, "tcplog"))) {
        if (want_words(im, 2) && entries != NULL)
            im_entry(im, entries, NULL, "the log line follows the listener's mode");
    } else if (strcmp(w, "option") == 0 && is(ln, 1, "dontlognull")) {
        if (want_words(im, 2))
            *dontlognull = true;
    } else if (strcmp(w, "option") == 0 && is(ln, 1, "forwardfor")) {
        if (want_words(im, 2))
            *forwarded_for = true;
    } else if (strcmp(w, "timeout") == 0) {
        timeout_line(im);
    } else if (strcmp(w, "balance") == 0) {
        if (want_words(im, 2) && !is(ln, 1, "roundrobin"))
            cannot(im, 1, "switchyard shares requests round robin by weight");
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
        cannot(im, 0, NULL);
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
        return want_words(im, 2);
    for (uint32_t i = 2; i < ln->count; i++) {
        if (is(ln, i, "v4v6"))
            v4v6 = true;
        else if (is(ln, i, "ssl") || is(ln, i, "crt"))
            return cannot(im, i, "switchyard does not terminate TLS; it passes TLS "
                          "through to the backends (tcp mode, use_backend by req_ssl_sni)");
        else if (!is(ln, i, "v6only"))
            return cannot(im, i, "switchyard's listen addresses take no options");
    }
    list = arena_strdup(im->a, ln->word[1]);
    for (char *a = strtok_r(list, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save)) {
        const char *addr = bind_addr(im, a, v4v6);
        struct yt_bind b;
        size_t off, len;

        if (addr == NULL || addr_bind(addr, strlen(addr), &b, &off, &len) != NULL)
            return cannot(im, 1, "switchyard listens on ADDRESS:PORT (IPv4, IPv6 or any)");
        for (uint32_t i = 0; i < im->binds.count; i++) {
            const struct im_bind *o = AVEC_AT(&im->binds, struct im_bind, i);

            if (addr_binds_overlap(&o->b, &b)) {
                cannot(im, 1, "an address already bound");
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
        return cannot(im, i < ln->count ? i : 0, "only 'redirect scheme https' translates");
    for (i += 2; i < ln->count; i++) {
        if (is(ln, i, "code") && i + 1 < ln->count) {
            code = strtoul(ln->word[++i], NULL, 10);
            if (code != 301 && code != 302 && code != 307 && code != 308)
                return cannot(im, i, "switchyard redirects with 301, 302, 307 or 308");
        } else if (is(ln, i, "unless") && ln->count == i + 4 && is(ln, i + 1, "{") &&
                   is(ln, i + 2, "ssl_fc") && is(ln, i + 3, "}")) {
            break;
        } else if (is(ln, i, "if") && ln->count == i + 4 && is(ln, i + 1, "!{") &&
                   is(ln, i + 2, "ssl_fc") && is(ln, i + 3, "}")) {
            break;
        } else {
            return cannot(im, i, "a redirect translates with a code and no other condition "
                          "than 'unless { ssl_fc }'");
        }
    }
    if (fe->redirect != 0) {
        error_at(im, 0, "a second redirect is never reached");
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
        if (want_words(im, 3))
            set_timeout(im, IM_T_INSPECT, 2);
    } else if (is(ln, 1, "content") && is(ln, 2, "accept") && is(ln, 3, "if") &&
               is(ln, 4, "{") && (is(ln, 5, "req_ssl_hello_type") ||
                                  is(ln, 5, "req.ssl_hello_type")) &&
               is(ln, 6, "1") && is(ln, 7, "}")) {
        /* switchyard routes only a complete ClientHello: the rule is built in. */
        want_words(im, 8);
    } else {
        cannot(im, ln->count > 1 ? 1 : 0, "of tcp-request, only 'inspect-delay' and "
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
        if (want_words(im, 2) && fe->fallback == NULL) {
            fe->fallback = ln->word[1];
            fe->fallback_at = ln->at[1];
        } else if (fe->fallback != NULL) {
            error_at(im, 0, "'default_backend' is set twice");
        }
    } else if (strcmp(w, "http-request") == 0 && is(ln, 1, "redirect")) {
        redirect_line(im, fe, 2);
    } else if (strcmp(w, "redirect") == 0) {
        redirect_line(im, fe, 1);
    } else if (strcmp(w, "tcp-request") == 0) {
        tcp_request(im);
    } else if (!common_line(im, NULL, &fe->mode, &fe->dontlognull, &fe->forwarded_for)) {
        cannot(im, 0, NULL);
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
        return want_words(im, 3);
    a = ln->word[2];
    colon = strrchr(a, ':');
    if (colon == NULL || (size_t)(colon - a) >= sizeof(host) || colon == a)
        return cannot(im, 2, "a server is an IP address and a port");
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
        return cannot(im, 2, "a server is an IP address and a port (no host names: "
                      "switchyard resolves nothing)");
    b.len = 0;
    abuf_printf(&b, "[%s]:%u", host, ntohs(sa.sin6_port));
    for (uint32_t i = 3; i < ln->count; i++) {
        if (is(ln, i, "weight") && i + 1 < ln->count) {
            char *end;
            unsigned long wt = strtoul(ln->word[++i], &end, 10);

            if (*end != '\0' || wt < 1 || wt > 256)
                return cannot(im, i, "switchyard's weights are 1 to 256");
            abuf_printf(&b, " weight %lu", wt);
        } else if (is(ln, i, "backup") || is(ln, i, "send-proxy") ||
                   is(ln, i, "send-proxy-v2")) {
            abuf_printf(&b, " %s", ln->word[i]);
        } else if (is(ln, i, "check")) {
            diag_warning(im->d, DIAG_W_IGNORED, ln->at[i], "'check' is ignored: switchyard "
                         "has no health checks; a server whose connect fails is skipped "
                         "for 'timeout retry'");
        } else {
            return cannot(im, i, "server options that translate: weight, backup, "
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
        cannot(im, 0, NULL);
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
        error_at(im, 1, "'%s' needs a name", ln->word[0]);
        return NULL;
    }
    if (ln->count > 2) {
        cannot(im, 2, "a section line translates with its name only");
        return NULL;
    }
    return ln->word[1];
}

static struct im_backend *find_backend(struct im *im, const char *name, uint32_t *idx);

/* Frontend names and backend names are unique (a listen section has both). */
static bool
unique_section(struct im *im, const char *name)
{
    const struct im_backend *be = im->sec != IM_FRONTEND ? find_backend(im, name, NULL) : NULL;
    const struct loc *first = be != NULL ? &be->at : NULL;

    for (uint32_t i = 0; i < im->frontends.count && im->sec != IM_BACKEND; i++) {
        const struct im_frontend *fe = *AVEC_AT(&im->frontends, struct im_frontend *, i);

        if (strcmp(fe->name, name) == 0)
            first = &fe->at;
    }
    if (first == NULL)
        return true;
    error_at(im, 1, "'%s' is defined twice", name);
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
        want_words(im, 1);
    } else if (strcmp(w, "defaults") == 0) {
        im->sec = IM_DEFAULTS;
        if (im->defaults_at.len != 0) {
            cannot(im, 0, "switchyard has one set of defaults; merge the sections");
            diag_note(im->d, im->defaults_at, "the first defaults section");
        } else if (im->frontends.count + im->backends.count > 0) {
            cannot(im, 0, "the defaults must come before every frontend and backend");
        }
        im->defaults_at = ln->at[0];
        if (ln->count > 1)
            cannot(im, 1, "named defaults sections do not translate");
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
        cannot(im, 0, "switchyard has no such section");
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
        cannot(im, 0, "a line before the first section");
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
        return cannot(im, 1, "switchyard routes by the Host (req.hdr(host)) or by the SNI "
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
            fe->map_src = read_named_file(im, 1, arg, "map file");
            if (fe->map_src < 0)
                return false;
        } else if (strncmp(it, "map_", 4) == 0) {
            return cannot(im, 1, "only 'map' and 'map_str' translate: the other map matches "
                          "take parts of names, switchyard matches whole names");
        } else {
            return cannot(im, 1, "converters that translate: lower, word(1,:), map, map_str");
        }
    }
    if (!lower)
        return cannot(im, 1, "without 'lower' HAProxy's lookup depends on case, and "
                      "switchyard's does not: add 'lower'");
    if (fe->route == IM_ROUTE_NONE)
        fe->route = IM_ROUTE_NAME;
    return true;
}

static bool
im_use_backend(struct im *im, struct im_frontend *fe)
{
    const struct hacfg_line *ln = im->ln;
    const char *w, *open, *close;

    if (ln->count > 2)
        return cannot(im, 2, "a use_backend with a condition does not translate; route by "
                      "name with %[req.hdr(host),lower] or %[req_ssl_sni,lower]");
    if (!want_words(im, 2))
        return false;
    if (fe->route != IM_ROUTE_NONE) {
        error_at(im, 0, "a second use_backend does not translate");
        diag_note(im->d, fe->route_at, "the first one");
        return false;
    }
    w = ln->word[1];
    open = strstr(w, "%[");
    close = open != NULL ? strchr(open, ']') : NULL;
    if (open == NULL && strchr(w, '%') == NULL) {
        /* A fixed name: every request goes there, as with default_backend. */
        if (fe->fallback != NULL)
            return error_at(im, 0, "'default_backend' is never reached after this");
        fe->fallback = w;
        fe->fallback_at = ln->at[1];
        return false;
    }
    if (close == NULL || strchr(close + 1, '%') != NULL ||
        memchr(w, '%', (size_t)(open - w)) != NULL)
        return cannot(im, 1, "a backend name translates with one %[...] sample");
    fe->route_at = ln->at[1];
    fe->prefix = arena_strndup(im->a, w, (size_t)(open - w));
    fe->suffix = arena_strdup(im->a, close + 1);
    sample(im, fe, arena_strndup(im->a, open + 2, (size_t)(close - open - 2)));
    return true;
}

/* ---- routes ---- */

static struct im_backend *
find_backend(struct im *im, const char *name, uint32_t *idx)
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
        if (find_backend(im, name, &idx) == NULL) {
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

        if (find_backend(im, name, NULL) == NULL)
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
    struct im_backend *be = find_backend(im, fe->fallback, NULL);

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
    struct im_backend *own = find_backend(im, fe->name, NULL);

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

static void
im_finish(struct im *im)
{
    if (im->admin_path != NULL) {
        struct im_entry *e = AVEC_AT(&im->global, struct im_entry, im->admin_entry);

        e->yard = arena_printf(im->a, "admin %s mode 0%o%s%s%s%s", quote(im, im->admin_path),
                               im->admin_mode, im->admin_level ? " level " : "",
                               im->admin_level ? im->admin_level : "",
                               im->admin_timeout_at.len ? " timeout " : "",
                               im->admin_timeout_at.len ? duration_text(im, im->admin_timeout)
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
    abuf_printf(out, "# %s %s\n", kind, safe_text(im->a, name, strlen(name)));
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

static void
im_write(struct im *im, struct abuf *out)
{
    abuf_printf(out, "# Translated from %s by yardc import.\n# Each statement names the "
                "HAProxy lines it comes from.\n\n", safe_text(im->a, im->path,
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
