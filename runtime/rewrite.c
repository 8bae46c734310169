#include "rewrite.h"

#include <stdio.h>
#include <string.h>

#include "httpchar.h"

/* Whether the field named p[0..n) goes on from a head described by hop (see
 * hh_strip_hop); names[opt[i]] are the Connection options, lowercased. */
static bool
field_goes(const uint8_t *p, size_t n, const struct hh_hop *hop, unsigned flags,
           const uint8_t *names, const struct span *opt, uint32_t nopt)
{
    bool fwd = flags & HH_STRIP_FORWARDED;

    switch (n) {
    case 2:
        if (ieq(p, n, "te"))
            return false;
        break;
    case 7:
        if (ieq(p, n, "upgrade"))
            return flags & HH_STRIP_KEEP_UPGRADE;
        break;
    case 9:
        if (fwd && ieq(p, n, "forwarded"))
            return false;
        break;
    case 10:
        if (ieq(p, n, "connection") || ieq(p, n, "keep-alive"))
            return false;
        break;
    case 14:
        if (ieq(p, n, "content-length"))
            return !hop->cl_normalise;
        break;
    case 15:
        if (fwd && ieq(p, n, "x-forwarded-for"))
            return false;
        break;
    case 16:
        if (ieq(p, n, "proxy-connection"))
            return false;
        break;
    case 17:
        if (ieq(p, n, "transfer-encoding"))
            return !hop->te_normalise;
        if (fwd && ieq(p, n, "x-forwarded-proto"))
            return false;
        break;
    default:
        break;
    }
    for (uint32_t i = 0; i < nopt; i++)
        if (opt[i].len == n) {
            size_t j = 0;

            while (j < n && to_lower(p[j]) == names[opt[i].off + j])
                j++;
            if (j == n)
                return false;
        }
    return true;
}

size_t
hh_strip_hop(uint8_t *h, size_t len, const struct hh_hop *hop, unsigned flags)
{
    uint8_t names[HH_CONN_OPTS_BYTES];
    struct span opt[HH_CONN_OPTS_MAX];
    uint32_t k = 0, nopt = 0;
    size_t pos = 0, w;

    if (!hop->hop && !hop->cl_normalise && !hop->te_normalise &&
        !(hop->forwarded && (flags & HH_STRIP_FORWARDED)))
        return len;
    /* The option names are copied first: the lines that hold them move or go. */
    for (; nopt < hop->opt_count && nopt < HH_CONN_OPTS_MAX; nopt++) {
        uint32_t n = hop->opt[nopt].len;

        if (n > sizeof(names) - k)
            break;
        opt[nopt] = (struct span){ k, n };
        for (uint32_t j = 0; j < n; j++)
            names[k++] = to_lower(h[hop->opt[nopt].off + j]);
    }
    /* The start line, after any empty lines before it (RFC 9112 §2.2), stays. */
    while (pos + 1 < len && h[pos] == '\r' && h[pos + 1] == '\n')
        pos += 2;
    w = pos = (size_t)((const uint8_t *)memchr(h + pos, '\n', len - pos) - h) + 1;
    /* A parsed head: every field line is "name:value" CRLF, and CRLF ends the head. */
    while (pos + 2 < len) {
        size_t end = (size_t)((const uint8_t *)memchr(h + pos, '\n', len - pos) - h) + 1;
        size_t name_len = (size_t)((const uint8_t *)memchr(h + pos, ':', end - pos) - (h + pos));

        if (field_goes(h + pos, name_len, hop, flags, names, opt, nopt)) {
            if (w != pos)
                memmove(h + w, h + pos, end - pos);
            w += end - pos;
        }
        pos = end;
    }
    memmove(h + w, h + pos, len - pos);
    return w + len - pos;
}

/* Appends the text s to add (of cap bytes) at *n, if it fits whole. */
static void
add_text(char *add, size_t cap, size_t *n, const char *s)
{
    size_t k = strlen(s);

    if (k <= cap - *n) {
        memcpy(add + *n, s, k);
        *n += k;
    }
}

static void
add_length(char *add, size_t cap, size_t *n, uint64_t len)
{
    char line[48];

    snprintf(line, sizeof(line), "Content-Length: %llu\r\n", (unsigned long long)len);
    add_text(add, cap, n, line);
}

/* The head h[0 .. old_len) was stripped in place to len bytes: closes the gap before the
 * tail bytes that follow it and puts add[0 .. n) before its final CRLF, if room allows.
 * Returns the head's new length: len + n, or len when add did not fit. */
static size_t
rebuild(uint8_t *h, size_t old_len, size_t len, size_t tail, size_t room, const char *add,
        size_t n)
{
    if (len + n > old_len && len + n - old_len > room)
        n = 0;
    if (n == 0 && len == old_len)
        return len;                 /* nothing went, nothing comes: the bytes stay */
    memmove(h + len + n, h + old_len, tail);
    if (n > 0) {
        memmove(h + len - 2 + n, h + len - 2, 2);
        memcpy(h + len - 2, add, n);
    }
    return len + n;
}

size_t
rw_request_fields(const struct hh_request *r, const struct rw_request_opts *o, char *add,
                  size_t cap)
{
    size_t n = 0;

    if (r->hop.cl_normalise)
        add_length(add, cap, &n, r->content_length);
    if (r->hop.te_normalise)
        add_text(add, cap, &n, "Transfer-Encoding: chunked\r\n");
    if (o->upgrade)
        add_text(add, cap, &n, "Connection: Upgrade\r\n");
    else if (r->keep_alive && r->version_minor == 0)
        add_text(add, cap, &n, "Connection: keep-alive\r\n");
    else if (!r->keep_alive && r->version_minor == 1 && !o->close_stripped)
        add_text(add, cap, &n, "Connection: close\r\n");
    if (o->forwarded_for != NULL) {
        add_text(add, cap, &n, "X-Forwarded-For: ");
        add_text(add, cap, &n, o->forwarded_for);
        add_text(add, cap, &n, "\r\nX-Forwarded-Proto: http\r\n");
    }
    return n;
}

size_t
rw_request(uint8_t *h, size_t tail, size_t room, const struct hh_request *r,
           const struct rw_request_opts *o, const char *add, size_t n, bool *added)
{
    unsigned flags = (o->forwarded_for != NULL ? HH_STRIP_FORWARDED : 0) |
                     (o->upgrade ? HH_STRIP_KEEP_UPGRADE : 0);
    size_t len = hh_strip_hop(h, r->head_len, &r->hop, flags);
    size_t out = rebuild(h, r->head_len, len, tail, room, add, n);

    *added = out == len + n;
    return out;
}

size_t
rw_response(uint8_t *h, size_t tail, size_t room, const struct hh_response *rs, bool keep,
            bool http10, bool *added)
{
    char add[RW_RESPONSE_ADD_MAX];
    size_t n = 0, len, out;

    len = hh_strip_hop(h, rs->head_len, &rs->hop,
                       rs->status == 101 ? HH_STRIP_KEEP_UPGRADE : 0);
    if (rs->hop.cl_normalise)
        add_length(add, sizeof(add), &n, rs->content_length);
    if (rs->status == 101)
        add_text(add, sizeof(add), &n, "Connection: Upgrade\r\n");
    else if (rs->status >= 200 && !keep)
        add_text(add, sizeof(add), &n, "Connection: close\r\n");
    else if (rs->status >= 200 && http10)
        add_text(add, sizeof(add), &n, "Connection: keep-alive\r\n");
    out = rebuild(h, rs->head_len, len, tail, room, add, n);
    *added = out == len + n;
    return out;
}
