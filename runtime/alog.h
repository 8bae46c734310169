/* The access log's lines, for both engines: one builder, two line formats (conn.c: one
 * line per connection; http.c: one per request).
 *
 * A line is built by hand, not with printf: it is written once per request, and printf's
 * format interpretation was a visible part of the cost of a small request. The builder
 * cuts at the end of its buffer; log_msg() cuts at LOG_LINE_MAX. */
#ifndef RUNTIME_ALOG_H
#define RUNTIME_ALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "table.h"

struct alog {
    char *p, *end;                  /* next byte; one before the end of text */
    char text[2 * LOG_LINE_MAX];
};

static inline void
alog_begin(struct alog *a)
{
    a->p = a->text;
    a->end = a->text + sizeof(a->text) - 1;
}

static inline void
alog_mem(struct alog *a, const void *src, size_t len)
{
    if (len > (size_t)(a->end - a->p))
        len = (size_t)(a->end - a->p);
    memcpy(a->p, src, len);
    a->p += len;
}

/* A string literal. */
#define alog_lit(a, s) alog_mem((a), (s), sizeof(s) - 1)

static inline void
alog_str(struct alog *a, const char *s)
{
    alog_mem(a, s, strlen(s));
}

static inline void
alog_u64(struct alog *a, uint64_t v)
{
    char d[20];
    size_t n = 0;

    do {
        d[sizeof(d) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    alog_mem(a, d + sizeof(d) - n, n);
}

static inline void
alog_long(struct alog *a, long v)
{
    if (v < 0) {
        alog_lit(a, "-");
        alog_u64(a, (uint64_t)-(v + 1) + 1);
    } else {
        alog_u64(a, (uint64_t)v);
    }
}

/* A table string of blob, or "-" when it is empty. */
static inline void
alog_name(struct alog *a, const char *blob, struct yt_str name)
{
    if (name.len > 0)
        alog_mem(a, blob + name.off, name.len);
    else
        alog_lit(a, "-");
}

/* Peer bytes kept by the caller (the first of len_sent, at most cap), escaped and cut like
 * all peer bytes (log_escape()); "-" when none. */
void alog_peer_bytes(struct alog *a, const char *kept, size_t cap, uint32_t len_sent);

/* " err=<err>", and ":<errno name>" when err_no is not 0. */
void alog_err(struct alog *a, const char *err, int err_no);

/* Hands the line to log_msg() at LOG_LEVEL_INFO. */
void alog_emit(struct alog *a);

/* Writes an address as the log lines and X-Forwarded-For do: "[v6]:port" or "v4:port"
 * (IPv4-mapped as IPv4), without ":port" (and brackets) unless with_port. Returns the
 * length written (out holds at least INET6_ADDRSTRLEN + 8 bytes with a port). */
size_t alog_addr(const union yt_addr *a, char *out, size_t cap, bool with_port);

#endif
