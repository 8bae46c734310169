/* The access log's lines, for both engines: one builder, two line formats (conn.c: one
 * line per connection; http.c: one per request), each as text or as a JSON object.
 *
 * A line is built by hand, not with printf: it is written once per request, and printf's
 * format interpretation was a visible part of the cost of a small request. The builder
 * cuts at the end of its buffer; the targets cut at LOG_LINE_MAX.
 *
 * Each engine writes its fields once, in an always-inline function taking `json`, which
 * it calls with a constant true or false: the text line is compiled without a test of
 * the form. In JSON, a field that does not fit is left out whole and the object ends
 * with "cut":true, so that a line is always valid JSON. */
#ifndef RUNTIME_ALOG_H
#define RUNTIME_ALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "logfmt.h"
#include "table.h"

struct alog {
    char *p, *end;                  /* next byte; one before the end of text */
    char *mark;                     /* json: where the field being written starts */
    bool cut;                       /* json: a field was left out */
    char text[2 * LOG_LINE_MAX];
};

#define ALOG_JSON_END ",\"cut\":true}"

static inline void
alog_begin(struct alog *a)
{
    a->p = a->text;
    a->end = a->text + sizeof(a->text) - 1;
}

/* Starts a JSON object with its "time". */
void alog_begin_json(struct alog *a);

/* The start of a field in JSON: the last one is dropped if it did not fit. */
static inline void
alog_json_settle(struct alog *a)
{
    if (a->p == a->end) {
        a->p = a->mark;
        a->cut = true;
    }
    a->mark = a->p;
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

    alog_mem(a, d, logfmt_u64(d, v));
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

/* A field's name: text (" name=") as it is, or in JSON ',"name":'. */
#define alog_key(a, json, text, name) do {                                  \
        if (json) {                                                         \
            alog_json_settle(a);                                            \
            alog_lit((a), ",\"" name "\":");                               \
        } else {                                                            \
            alog_lit((a), text);                                            \
        }                                                                   \
    } while (0)

/* No value: "-", or null. */
static inline void
alog_none(struct alog *a, bool json)
{
    if (json)
        alog_lit(a, "null");
    else
        alog_lit(a, "-");
}

/* Our own bytes that need no escaping (names of the table, "127.0.0.1:80", "--"), in
 * quotes in JSON. */
static inline void
alog_quoted(struct alog *a, bool json, const void *src, size_t len)
{
    if (json)
        alog_lit(a, "\"");
    alog_mem(a, src, len);
    if (json)
        alog_lit(a, "\"");
}

/* A table string, or none when it is empty. */
static inline void
alog_table_name(struct alog *a, bool json, const char *blob, struct yt_str name)
{
    if (name.len > 0)
        alog_quoted(a, json, blob + name.off, name.len);
    else
        alog_none(a, json);
}

/* Peer bytes kept by the caller (the first of len_sent, at most cap), escaped and cut like
 * all peer bytes (log_escape()); "-" when none. */
void alog_peer_bytes(struct alog *a, const char *kept, size_t cap, uint32_t len_sent);

/* The same as a JSON string (logfmt_json_str()), or null when none. */
void alog_json_peer(struct alog *a, const char *kept, size_t cap, uint32_t len_sent);

static inline void
alog_peer(struct alog *a, bool json, const char *kept, size_t cap, uint32_t len_sent)
{
    if (json)
        alog_json_peer(a, kept, cap, len_sent);
    else
        alog_peer_bytes(a, kept, cap, len_sent);
}

/* " err=<err>", and ":<errno name>" when err_no is not 0; in JSON the same as "err". */
void alog_err(struct alog *a, bool json, const char *err, int err_no);

/* A flag word (" retried"): in JSON, "name":true. */
#define alog_flag(a, json, name) do {                                       \
        if (json) {                                                         \
            alog_json_settle(a);                                            \
            alog_lit((a), ",\"" name "\":true");                           \
        } else {                                                            \
            alog_lit((a), " " name);                                        \
        }                                                                   \
    } while (0)

/* Hands the line to log_access(); a JSON object is closed first. */
void alog_emit(struct alog *a, bool json);

/* Whether an access line of listener l is written: never with `log off`; with `log
 * sample NUM/DEN`, NUM lines in every DEN (a counter per listener and process). */
bool alog_sampled(const struct yt_listener *l);

static inline bool
alog_wanted(const struct yt_listener *l)
{
    if (!(l->flags & YT_LISTENER_LOG_OFF) && l->sample_den == 0)
        return true;
    return alog_sampled(l);
}

/* Writes an address as the log lines and X-Forwarded-For do: "[v6]:port" or "v4:port"
 * (IPv4-mapped as IPv4), without ":port" (and brackets) unless with_port. Returns the
 * length written (out holds at least INET6_ADDRSTRLEN + 8 bytes with a port). */
size_t alog_addr(const union yt_addr *a, char *out, size_t cap, bool with_port);

/* The head of a layer-4 line, the same for a connection of a tls listener and a QUIC
 * flow: begun (text or JSON), then conn, client, listener, sni, site, server, c2s, s2c
 * and inspect. sni may be NULL; site and server are YT_NONE until known. */
static inline __attribute__((always_inline)) void
alog_l4_head(struct alog *a, bool json, const struct yt_table *t, uint64_t id,
             const union yt_addr *peer, const struct yt_listener *l, const char *sni,
             uint32_t site, uint32_t server, uint64_t c2s, uint64_t s2c, long inspect_ms)
{
    char addr[INET6_ADDRSTRLEN + 16];
    struct yt_str none = { 0, 0 };
    size_t sni_len = sni != NULL ? strlen(sni) : 0;

    if (json)
        alog_begin_json(a);
    else
        alog_begin(a);
    alog_key(a, json, "conn=", "conn");
    alog_u64(a, id);
    alog_key(a, json, " client=", "client");
    alog_quoted(a, json, addr, alog_addr(peer, addr, sizeof(addr), true));
    alog_key(a, json, " listener=", "listener");
    alog_table_name(a, json, t->blob, l->name);
    alog_key(a, json, " sni=", "sni");
    alog_peer(a, json, sni != NULL ? sni : "", sni_len, (uint32_t)sni_len);
    alog_key(a, json, " site=", "site");
    alog_table_name(a, json, t->blob, site != YT_NONE ? t->sites[site].name : none);
    alog_key(a, json, " server=", "server");
    alog_table_name(a, json, t->blob, server != YT_NONE ? t->servers[server].name : none);
    alog_key(a, json, " c2s=", "c2s");
    alog_u64(a, c2s);
    alog_key(a, json, " s2c=", "s2c");
    alog_u64(a, s2c);
    alog_key(a, json, " inspect=", "inspect");
    alog_long(a, inspect_ms);
}

/* The tail of a layer-4 line: total, term, err if any; then the line is written. */
static inline __attribute__((always_inline)) void
alog_l4_tail(struct alog *a, bool json, long total_ms, const char term[2], const char *err,
             int err_no)
{
    alog_key(a, json, " total=", "total");
    alog_long(a, total_ms);
    alog_key(a, json, " term=", "term");
    alog_quoted(a, json, term, 2);
    if (err != NULL)
        alog_err(a, json, err, err_no);
    alog_emit(a, json);
}

#endif
