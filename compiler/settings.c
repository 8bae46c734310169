#include "settings.h"

#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "errpage.h"

/* ---- defaults of the language ---- */
#define DEF_CONNECT_MS 5000u
#define DEF_CLIENT_MS 50000u
#define DEF_SERVER_MS 50000u
#define DEF_INSPECT_MS 5000u
#define DEF_TUNNEL_MS 3600000u
#define DEF_GRACE_MS 10000u
#define DEF_RETRY_MS 10000u
#define DEF_WORKERS 1u
#define DEF_MAXCONN 10000u
#define DEF_ADMIN_MODE 0600u
#define DEF_ADMIN_TIMEOUT_MS 10000u

/* A udp target's destination: an address and a port, no wildcard. */
static bool
check_log_dest(struct ck *ck, struct ast_arg at, struct ck_log *lg)
{
    size_t off, len;
    const char *why = addr_dest(ck_text(ck, at.loc), at.loc.len, &lg->yl.addr, &off, &len);

    if (why != NULL)
        diag_error(ck->diag, ck_sub(at.loc, off, len), "%s", why);
    return why == NULL;
}

static bool
is_word(struct ck *ck, struct ast_arg a, const char *w)
{
    return a.loc.len == strlen(w) && memcmp(ck_text(ck, a.loc), w, a.loc.len) == 0;
}

/* The words of a syslog or udp target from argv[i]: FACILITY [LEVEL] [format NAME]. */
static bool
check_log_words(struct ck *ck, const struct ast_item *it, uint32_t i, struct ck_log *lg)
{
    int v = ck_lookup_word(ck, it->argv[i++], yt_facility_names, YT_FACILITY_COUNT,
                           "syslog facility");

    if (v < 0)
        return false;
    lg->yl.facility = (uint8_t)v;
    if (i < it->argc && !is_word(ck, it->argv[i], "format")) {
        v = ck_lookup_word(ck, it->argv[i++], yt_level_names, YT_LEVEL_COUNT, "log level");
        if (v < 0)
            return false;
        lg->yl.level = (uint8_t)v;
    }
    if (i < it->argc && is_word(ck, it->argv[i], "format")) {
        if (i + 1 == it->argc) {
            diag_error(ck->diag, it->argv[i].loc, "'format' needs a name: %s or %s",
                       yt_log_format_names[0], yt_log_format_names[1]);
            return false;
        }
        v = ck_lookup_word(ck, it->argv[i + 1], yt_log_format_names, YT_LOG_FORMAT_COUNT,
                           "log format");
        if (v < 0)
            return false;
        lg->yl.format = (uint8_t)v;
        i += 2;
    }
    if (i < it->argc) {
        diag_error(ck->diag, it->argv[i].loc, "unexpected '%.*s' after the log target; "
                   "expected ';'", (int)it->argv[i].loc.len, ck_text(ck, it->argv[i].loc));
        return false;
    }
    return true;
}

/* log syslog [PATH] FACILITY [LEVEL] [format F]; log udp ADDR FACILITY [LEVEL] [format F] */
static void
check_log(struct ck *ck, const struct ast_item *it)
{
    struct ck_log lg = { .yl.level = 7, .path = "", .path_len = 0, .loc = it->kw };
    uint32_t i = 1;

    if (it->argv[0].kind == AST_STDERR) {
        lg.yl.kind = YT_LOG_STDERR;
        *(struct ck_log *)avec_push(&ck->logs) = lg;
        return;
    }
    if (it->argv[0].kind == AST_UDP) {
        lg.yl.kind = YT_LOG_UDP;
        if (!check_log_dest(ck, it->argv[i++], &lg))
            return;
    } else {
        size_t plen = 8;

        lg.yl.kind = YT_LOG_SYSLOG;
        lg.path = "/dev/log";
        if (it->argv[i].kind == AST_STRING) {
            lg.path = ck_string(ck, it->argv[i], "log socket path", &plen);
            if (lg.path == NULL)
                return;
            if (lg.path[0] != '/') {
                diag_error(ck->diag, it->argv[i].loc, "log socket path must be absolute");
                return;
            }
            i++;
        }
        lg.path_len = (uint32_t)plen;
    }
    if (!check_log_words(ck, it, i, &lg))
        return;
    *(struct ck_log *)avec_push(&ck->logs) = lg;
}

static void
check_admin(struct ck *ck, const struct ast_item *it)
{
    size_t len;
    const char *path = ck_string(ck, it->argv[0], "admin socket path", &len);
    bool have_mode = false, have_timeout = false, have_level = false;

    if (path == NULL)
        return;
    if (path[0] != '/') {
        diag_error(ck->diag, it->argv[0].loc, "admin socket path must be absolute");
        return;
    }
    if (len >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        diag_error(ck->diag, it->argv[0].loc, "admin socket path longer than 107 bytes");
        return;
    }
    ck->admin = path;
    ck->global.admin_mode = DEF_ADMIN_MODE;
    ck->global.admin_timeout_ms = DEF_ADMIN_TIMEOUT_MS;
    for (uint32_t i = 1; i + 1 < it->argc; i += 2) {
        struct ast_arg k = it->argv[i], v = it->argv[i + 1];

        if (k.kind == AST_MODE) {
            const char *t = ck_text(ck, v.loc);
            uint32_t mode = 0;
            bool ok = v.kind == AST_NUMBER && v.loc.len <= 4;

            for (uint32_t j = 0; ok && j < v.loc.len; j++) {
                ok = t[j] >= '0' && t[j] <= '7';
                mode = mode * 8 + (uint32_t)(t[j] - '0');
            }
            if (have_mode) {
                diag_error(ck->diag, k.loc, "duplicate 'mode'");
            } else if (!ok || mode > 0777) {
                diag_error(ck->diag, v.loc, "mode must be octal, 0 to 0777 (e.g. 0660)");
            } else {
                ck->global.admin_mode = mode;
            }
            have_mode = true;
        } else if (k.kind == AST_LEVEL) {
            int lv;

            if (have_level)
                diag_error(ck->diag, k.loc, "duplicate 'level'");
            else if ((lv = ck_lookup_word(ck, v, yt_admin_level_names, YT_ADMIN_LEVEL_COUNT,
                                          "admin level")) >= 0)
                ck->global.admin_level = (uint32_t)lv;
            have_level = true;
        } else {
            uint32_t ms;

            if (have_timeout)
                diag_error(ck->diag, k.loc, "duplicate 'timeout'");
            else if (ck_duration(ck, v, "admin timeout", &ms))
                ck->global.admin_timeout_ms = ms;
            have_timeout = true;
        }
    }
}

/* user, group or chroot: a name or an absolute path, once each. */
static void
check_identity(struct ck *ck, const struct ast_item *first, const struct ast_item *it)
{
    const char *what = it->kind == AST_USER ? "user" : it->kind == AST_GROUP ? "group" :
                       "chroot";
    const char *v;
    size_t len;

    if (ck_is_duplicate(ck, first, it, what))
        return;
    v = ck_string(ck, it->argv[0], what, &len);
    if (v == NULL)
        return;
    if (it->kind == AST_CHROOT && v[0] != '/') {
        diag_error(ck->diag, it->argv[0].loc, "chroot must be an absolute path");
        return;
    }
    if (it->kind == AST_USER)
        ck->user = v;
    else if (it->kind == AST_GROUP)
        ck->group = v;
    else
        ck->chroot = v;
}

/* At most YT_LOGS_MAX targets; two identical log lines would send every line twice. */
static void
check_log_targets(struct ck *ck)
{
    if (ck->logs.count > YT_LOGS_MAX) {
        struct ck_log *lg = AVEC_AT(&ck->logs, struct ck_log, YT_LOGS_MAX);

        diag_error(ck->diag, lg->loc, "more than %d log targets", YT_LOGS_MAX);
    }
    for (uint32_t i = 0; i < ck->logs.count; i++) {
        struct ck_log *a = AVEC_AT(&ck->logs, struct ck_log, i);

        for (uint32_t j = i + 1; j < ck->logs.count; j++) {
            struct ck_log *b = AVEC_AT(&ck->logs, struct ck_log, j);

            if (a->yl.kind == b->yl.kind && a->yl.facility == b->yl.facility &&
                a->path_len == b->path_len && memcmp(a->path, b->path, a->path_len) == 0 &&
                memcmp(&a->yl.addr, &b->yl.addr, sizeof(a->yl.addr)) == 0) {
                diag_error(ck->diag, b->loc, "two log targets for the same destination");
                diag_note(ck->diag, a->loc, "first set here");
                return;
            }
        }
    }
}

static void
check_relay(struct ck *ck, const struct ast_item *it)
{
    int r = ck_lookup_word(ck, it->argv[0], yt_relay_names, YT_RELAY_COUNT, "relay");

    if (r >= 0)
        ck->global.relay = (uint32_t)r;
}

void
settings_global(struct ck *ck)
{
    const struct ast_item *first = ck->l->ast->global;

    ck->global.workers = DEF_WORKERS;
    ck->global.maxconn = DEF_MAXCONN;
    for (const struct ast_item *it = first; it != NULL && !ck_stopped(ck); it = it->next) {
        switch (it->kind) {
        case AST_USER:
        case AST_GROUP:
        case AST_CHROOT:
            check_identity(ck, first, it);
            break;
        case AST_LOG:
            check_log(ck, it);
            break;
        case AST_ADMIN:
            if (!ck_is_duplicate(ck, first, it, "admin"))
                check_admin(ck, it);
            break;
        case AST_WORKERS:
            if (!ck_is_duplicate(ck, first, it, "workers"))
                ck_uint(ck, it->argv[0], 1, YT_WORKERS_MAX, "workers", &ck->global.workers);
            break;
        case AST_MAXCONN:
            if (!ck_is_duplicate(ck, first, it, "maxconn"))
                ck_uint(ck, it->argv[0], 1, 1000000, "maxconn", &ck->global.maxconn);
            break;
        case AST_RELAY:
            if (!ck_is_duplicate(ck, first, it, "relay"))
                check_relay(ck, it);
            break;
        default:
            break;
        }
    }
    check_log_targets(ck);
}

static void
check_error_page(struct ck *ck, const struct ast_item *it)
{
    uint32_t status;
    struct ck_page *pg;
    const char *data, *why;
    size_t len, bad;
    struct loc at = it->argv[2].loc;
    bool from_file = it->argv[1].kind == AST_FILE;

    if (!ck_uint(ck, it->argv[0], 400, 599, "error status", &status))
        return;
    for (uint32_t i = 0; i < ck->pages.count; i++) {
        struct ck_page *p = AVEC_AT(&ck->pages, struct ck_page, i);

        if (p->status == status) {
            diag_error(ck->diag, it->argv[0].loc, "duplicate error page for %u", status);
            diag_note(ck->diag, p->loc, "first set here");
            return;
        }
    }
    if (from_file) {
        int64_t src = load_file_at(ck->l, at, "error page");
        const struct diag_source *s;

        if (src < 0)
            return;
        s = diag_source(ck->diag, (uint32_t)src);
        data = s->text;
        len = s->len;
        at.src = (uint32_t)src;
        at.off = 0;
        at.len = 0;
    } else {
        data = ast_string(ck->arena, ck->diag, at, &len);
    }
    if (errpage_is_response(data, len)) {
        why = errpage_check((uint16_t)status, data, len, &bad);
        if (why != NULL) {
            diag_error(ck->diag, from_file ? ck_sub(at, bad, 1) : at, "%s", why);
            return;
        }
    } else {
        if (len > 65536) {
            diag_error(ck->diag, it->argv[2].loc, "error page larger than 64 KiB");
            return;
        }
        data = errpage_wrap(ck->arena, (uint16_t)status, data, len, &len);
    }
    pg = avec_push(&ck->pages);
    pg->status = (uint16_t)status;
    pg->loc = it->argv[0].loc;
    pg->data = data;
    pg->len = len;
}

void
settings_defaults(struct ck *ck)
{
    const struct ast_item *first = ck->l->ast->defaults;
    uint32_t *fields[] = {
        &ck->timeouts.connect_ms, &ck->timeouts.client_ms, &ck->timeouts.server_ms,
        &ck->timeouts.inspect_ms, &ck->timeouts.tunnel_ms, &ck->timeouts.grace_ms,
        &ck->timeouts.retry_ms,
    };
    const struct ast_item *seen[YT_TIMEOUT_COUNT] = { NULL };
    const struct ast_item *null_seen = NULL, *format_seen = NULL;

    ck->timeouts = (struct yt_timeouts){
        DEF_CONNECT_MS, DEF_CLIENT_MS, DEF_SERVER_MS, DEF_INSPECT_MS, DEF_TUNNEL_MS,
        DEF_GRACE_MS, DEF_RETRY_MS,
    };
    for (const struct ast_item *it = first; it != NULL && !ck_stopped(ck); it = it->next) {
        if (it->kind == AST_TIMEOUT) {
            int k = ck_lookup_word(ck, it->argv[0], yt_timeout_names, YT_TIMEOUT_COUNT,
                                   "timeout");
            char what[32];

            if (k < 0)
                continue;
            if (seen[k] != NULL) {
                diag_error(ck->diag, it->argv[0].loc, "duplicate 'timeout %s'",
                           yt_timeout_names[k]);
                diag_note(ck->diag, seen[k]->argv[0].loc, "first set here");
                continue;
            }
            seen[k] = it;
            snprintf(what, sizeof(what), "timeout %s", yt_timeout_names[k]);
            ck_duration(ck, it->argv[1], what, fields[k]);
        } else if (it->kind == AST_DONTLOGNULL) {
            if (null_seen != NULL) {
                diag_error(ck->diag, it->kw, "duplicate 'dontlognull'");
                diag_note(ck->diag, null_seen->kw, "first set here");
            }
            null_seen = it;
            ck->dontlognull = true;
        } else if (it->kind == AST_ERROR) {
            check_error_page(ck, it);
        } else if (it->kind == AST_LOG_FORMAT) {
            if (format_seen != NULL) {
                diag_error(ck->diag, it->kw, "duplicate 'log-format'");
                diag_note(ck->diag, format_seen->kw, "first set here");
            }
            format_seen = it;
            ck->log_json = ck_lookup_word(ck, it->argv[0], yt_line_format_names,
                                          YT_LINE_FORMAT_COUNT, "log format") == 1;
        }
    }
}
