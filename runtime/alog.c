#include "alog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

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
alog_err(struct alog *a, const char *err, int err_no)
{
    const char *name = err_no != 0 ? strerrorname_np(err_no) : NULL;

    alog_lit(a, " err=");
    alog_str(a, err);
    if (err_no != 0) {
        alog_lit(a, ":");
        alog_str(a, name != NULL ? name : "(null)");
    }
}

void
alog_emit(struct alog *a)
{
    *a->p = '\0';
    log_msg(LOG_LEVEL_INFO, "%s", a->text);
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
