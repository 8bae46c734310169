#include "alog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "logfmt.h"

void
alog_peer_bytes(struct alog *a, const char *kept, size_t cap, uint32_t len_sent)
{
    char esc[4 * LOG_PEER_MAX + 4];

    if (len_sent == 0) {
        alog_lit(a, "-");
    } else if (len_sent > cap && cap < LOG_PEER_MAX) {
        alog_str(a, log_escape(esc, kept, cap));
        alog_lit(a, "...");
    } else {
        alog_str(a, log_escape(esc, kept, len_sent));
    }
}

void
alog_json_peer(struct alog *a, const char *kept, size_t cap, uint32_t len_sent)
{
    char esc[LOGFMT_JSON_STR_MAX(LOG_PEER_MAX)];
    size_t max = cap < LOG_PEER_MAX ? cap : LOG_PEER_MAX;

    if (len_sent == 0) {
        alog_lit(a, "null");
        return;
    }
    if (len_sent < max)
        max = len_sent;
    alog_mem(a, esc, logfmt_json_str(esc, kept, len_sent > max ? max + 1 : max, max));
}

void
alog_err(struct alog *a, bool json, const char *err, int err_no)
{
    const char *name = err_no != 0 ? strerrorname_np(err_no) : NULL;

    alog_key(a, json, " err=", "err");
    if (json)
        alog_lit(a, "\"");
    alog_str(a, err);
    if (err_no != 0) {
        alog_lit(a, ":");
        alog_str(a, name != NULL ? name : "(null)");
    }
    if (json)
        alog_lit(a, "\"");
}

void
alog_begin_json(struct alog *a)
{
    char iso[32];

    log_time_iso(iso);
    a->p = a->text;
    /* Room for the end of the object, all within what no target cuts. */
    a->end = a->text + LOG_WHOLE_MAX - (sizeof(ALOG_JSON_END) - 1);
    a->cut = false;
    alog_lit(a, "{\"time\":\"");
    alog_str(a, iso);
    alog_lit(a, "\"");
    a->mark = a->p;
}

void
alog_emit(struct alog *a, bool json)
{
    if (json) {
        alog_json_settle(a);
        a->end = a->text + LOG_WHOLE_MAX;
        if (a->cut)
            alog_lit(a, ALOG_JSON_END);
        else
            alog_lit(a, "}");
    }
    log_access(a->text, (size_t)(a->p - a->text), json);
}

bool
alog_sampled(const struct yt_listener *l)
{
    static uint32_t *seen;          /* access lines so far, by listener */
    uint32_t i = (uint32_t)(l - gen_table.listeners), n;

    if (l->flags & YT_LISTENER_LOG_OFF)
        return false;
    if (seen == NULL)
        seen = calloc(gen_table.listener_count, sizeof(*seen));
    if (seen == NULL || i >= gen_table.listener_count)
        return true;
    n = seen[i];
    seen[i] = n + 1 == l->sample_den ? 0 : n + 1;
    return n < l->sample_num;
}

size_t
alog_addr(const union yt_addr *a, char *out, size_t cap, bool with_port)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    bool v6 = false;
    int n;

    if (a->sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof(ip));
        port = ntohs(a->in4.sin_port);
    } else if (a->sa.sa_family == AF_INET6) {
        const uint8_t *b = a->in6.sin6_addr.s6_addr;

        if (IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
            inet_ntop(AF_INET, b + 12, ip, sizeof(ip));
        } else {
            inet_ntop(AF_INET6, b, ip, sizeof(ip));
            v6 = true;
        }
        port = ntohs(a->in6.sin6_port);
    }
    if (!with_port)
        n = snprintf(out, cap, "%s", ip);
    else if (v6)
        n = snprintf(out, cap, "[%s]:%u", ip, port);
    else
        n = snprintf(out, cap, "%s:%u", ip, port);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}
