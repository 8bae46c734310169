#include "httphead.h"

#include <string.h>

#include "httpchar.h"

/* Like ieq(), reading '_' in p as '-'. */
static bool
ieq_underscore(const uint8_t *p, size_t n, const char *lit)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (lit[i] == '\0' || (p[i] == '_' ? '-' : to_lower(p[i])) != (uint8_t)lit[i])
            return false;
    return lit[i] == '\0';
}

static bool
eq(const uint8_t *p, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

static struct span
make_span(size_t off, size_t len)
{
    struct span s = { (uint32_t)off, (uint32_t)len };

    return s;
}

/* Offset of the first CR or LF in data[pos..lim), or lim. */
static size_t
find_eol(const uint8_t *data, size_t pos, size_t lim)
{
    while (pos < lim && !is_eol_char(data[pos]))
        pos++;
    return pos;
}

/* Whether the line whose content ends at eol is terminated by CRLF (RFC 9112 §2.2: we accept
 * no other terminator). */
static enum hh_result
line_end(const uint8_t *data, size_t lim, size_t eol)
{
    if (eol == lim)
        return HH_NEED_MORE;
    if (data[eol] == '\n')
        return HH_ERR_BARE_LF;
    if (eol + 1 == lim)
        return HH_NEED_MORE;
    if (data[eol + 1] != '\n')
        return HH_ERR_BARE_CR;
    return HH_OK;
}

/* Checks the available part of HTTP-version (RFC 9112 §2.3, case-sensitive): p[0..n) must be a
 * prefix of HTTP/DIGIT.DIGIT; bytes beyond the eighth are the caller's. */
static enum hh_result
check_version_prefix(const uint8_t *p, size_t n)
{
    static const char name[] = "HTTP/";

    for (size_t i = 0; i < n && i < 8; i++) {
        bool ok;

        if (i < 5)
            ok = p[i] == (uint8_t)name[i];
        else if (i == 6)
            ok = p[i] == '.';
        else
            ok = is_digit(p[i]);
        if (!ok)
            return HH_ERR_VERSION;
    }
    return HH_OK;
}

/* The minor version of a complete HTTP-version, or -1 if it is neither 1.0 nor 1.1. */
static int
version_minor(const uint8_t *p)
{
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
        return -1;
    return p[7] - '0';
}

/* Normalises a host as it appears in Host or in a target's authority (RFC 9110 §7.2,
 * RFC 3986 §3.2.2): lowercase, port dropped, one trailing dot dropped. p[0..n) is not empty.
 * We accept only names a route can match: letters, digits, '-', '.', '_', or an IPv6
 * literal; no userinfo, no percent-encoding, no sub-delims (so no comma lists). */
static enum hh_result
normalise_host(const uint8_t *p, size_t n, bool port_required, char *out, size_t *out_len)
{
    size_t i = 0, name_len;

    if (n > 0 && p[0] == '[') {
        bool colon = false;

        for (i = 1; i < n && p[i] != ']'; i++) {
            if (hex_value(p[i]) < 0 && p[i] != ':' && p[i] != '.')
                return HH_ERR_HOST_INVALID;
            colon |= p[i] == ':';
        }
        if (i == n || !colon)
            return HH_ERR_HOST_INVALID;
        i++;
        name_len = i;
    } else {
        while (i < n && p[i] != ':') {
            if (!is_alpha(p[i]) && !is_digit(p[i]) && p[i] != '-' && p[i] != '.'
                && p[i] != '_')
                return HH_ERR_HOST_INVALID;
            i++;
        }
        name_len = i;
        if (name_len > 1 && p[name_len - 1] == '.')
            name_len--;
        if (name_len == 0 || (name_len == 1 && p[0] == '.'))
            return HH_ERR_HOST_INVALID;
    }
    if (i < n) {
        uint32_t port = 0;
        size_t digits = n - i - 1;

        if (p[i] != ':')
            return HH_ERR_HOST_INVALID;
        if (digits == 0 || digits > 5)
            return HH_ERR_HOST_PORT;
        for (i++; i < n; i++) {
            if (!is_digit(p[i]))
                return HH_ERR_HOST_PORT;
            port = port * 10 + (uint32_t)(p[i] - '0');
        }
        if (port > 65535)
            return HH_ERR_HOST_PORT;
    } else if (port_required) {
        return HH_ERR_HOST_PORT;
    }
    if (name_len > HH_HOST_MAX)
        return HH_ERR_HOST_TOO_LONG;
    for (i = 0; i < name_len; i++)
        out[i] = (char)to_lower(p[i]);
    out[name_len] = '\0';
    *out_len = name_len;
    return HH_OK;
}

/* What the field lines said, gathered in order. */
struct fields {
    bool has_cl;
    uint64_t cl;
    unsigned cl_values;             /* Content-Length values, over all its lines */
    bool has_te;
    bool te_last_chunked;
    bool te_exact;                  /* one line, its value exactly "chunked" */
    unsigned te_codings, te_lines;
    unsigned te_chunked_count;
    bool conn_close, conn_keep_alive, conn_upgrade;
    bool has_upgrade;
    unsigned upgrade_lines;
    bool expect_continue;
    unsigned host_count;
    uint32_t opt_bytes;             /* bytes of the options in hop->opt */
    struct hh_hop *hop;
};

/* Content-Length = 1*DIGIT (RFC 9110 §8.6); a list of identical values counts as one. */
static enum hh_result
note_content_length(const uint8_t *p, size_t n, struct fields *f)
{
    size_t i = 0;

    for (;;) {
        uint64_t v = 0;
        size_t start = i;

        while (i < n && is_digit(p[i])) {
            unsigned d = (unsigned)(p[i] - '0');

            if (v > (UINT64_C(0x7fffffffffffffff) - d) / 10)
                return HH_ERR_CONTENT_LENGTH;
            v = v * 10 + d;
            i++;
        }
        if (i == start || (p[start] == '0' && i - start > 1))
            return HH_ERR_CONTENT_LENGTH;
        if (f->has_cl && f->cl != v)
            return HH_ERR_CONTENT_LENGTH_CONFLICT;
        f->has_cl = true;
        f->hop->cl_normalise = ++f->cl_values > 1;
        f->cl = v;
        while (i < n && is_ws(p[i]))
            i++;
        if (i == n)
            return HH_OK;
        if (p[i] != ',')
            return HH_ERR_CONTENT_LENGTH;
        i++;
        while (i < n && is_ws(p[i]))
            i++;
    }
}

/* Transfer-Encoding = #transfer-coding (RFC 9112 §6.1); empty list elements are ignored
 * (RFC 9110 §5.6.1.2), parameters are refused: none of the codings we know takes one. */
static enum hh_result
note_transfer_encoding(const uint8_t *p, size_t n, struct fields *f)
{
    size_t i = 0;
    bool any = false;

    f->te_exact = ++f->te_lines == 1 && eq(p, n, "chunked");
    while (i < n) {
        size_t start = i;

        while (i < n && is_tchar(p[i]))
            i++;
        if (i > start) {
            bool chunked = ieq(p + start, i - start, "chunked");

            any = true;
            f->has_te = true;
            f->te_codings++;
            f->te_chunked_count += chunked;
            f->te_last_chunked = chunked;
        }
        while (i < n && is_ws(p[i]))
            i++;
        if (i == n)
            break;
        if (p[i] != ',')
            return HH_ERR_TE_INVALID;
        i++;
        while (i < n && is_ws(p[i]))
            i++;
    }
    return any ? HH_OK : HH_ERR_TE_INVALID;
}

/* Whether p[0..n) is a token (RFC 9110 §5.6.2), so it may name a field. */
static bool
is_token(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(p[i]))
            return false;
    return n > 0;
}

/* One Connection option p[0..n) at offset off: close, keep-alive and upgrade are noted; a
 * field it names is kept in hop->opt for hh_strip_hop(), unless it is always removed anyway
 * or is one we frame or route by, which no option removes. */
static enum hh_result
note_connection_option(const uint8_t *p, size_t n, size_t off, struct fields *f)
{
    struct hh_hop *hop = f->hop;

    if (ieq(p, n, "close"))
        f->conn_close = true;
    else if (ieq(p, n, "keep-alive"))
        f->conn_keep_alive = true;
    else if (ieq(p, n, "upgrade"))
        f->conn_upgrade = true;
    else if (!is_token(p, n) || ieq(p, n, "te") || ieq(p, n, "proxy-connection") ||
             ieq(p, n, "connection") || ieq(p, n, "host") || ieq(p, n, "content-length") ||
             ieq(p, n, "transfer-encoding"))
        return HH_OK;
    else if (hop->opt_count == HH_CONN_OPTS_MAX || n > HH_CONN_OPTS_BYTES - f->opt_bytes)
        return HH_ERR_CONNECTION;
    else {
        hop->opt[hop->opt_count++] = make_span(off, n);
        f->opt_bytes += (uint32_t)n;
    }
    return HH_OK;
}

/* Connection = #connection-option (RFC 9110 §7.6.1); p is data + off. */
static enum hh_result
note_connection(const uint8_t *p, size_t n, size_t off, struct fields *f)
{
    size_t i = 0;

    while (i < n) {
        size_t start, end;
        enum hh_result r;

        while (i < n && (is_ws(p[i]) || p[i] == ','))
            i++;
        start = i;
        while (i < n && p[i] != ',')
            i++;
        end = i;
        while (end > start && is_ws(p[end - 1]))
            end--;
        if (end == start)
            continue;
        r = note_connection_option(p + start, end - start, off + start, f);
        if (r != HH_OK)
            return r;
    }
    return HH_OK;
}

/* Records the meaning of the complete field line data[pos..eol) whose colon is at pos + colon.
 * req is NULL for responses, where Host means nothing to us. */
static enum hh_result
note_field(const uint8_t *data, size_t pos, size_t colon, size_t eol, struct fields *f,
           struct hh_request *req)
{
    const uint8_t *name = data + pos;
    size_t vs = pos + colon + 1, ve = eol;

    /* Most fields mean nothing to us: their name's length rules them out (te, host,
     * expect, upgrade, forwarded, connection, keep-alive, content-length, x-forwarded-for,
     * proxy-connection, transfer-encoding, x-forwarded-proto). */
    switch (colon) {
    case 2: case 4: case 6: case 7: case 9: case 10: case 14: case 15: case 16: case 17:
        break;
    default:
        return HH_OK;
    }
    while (vs < ve && is_ws(data[vs]))
        vs++;
    while (ve > vs && is_ws(data[ve - 1]))
        ve--;

    const uint8_t *v = data + vs;
    size_t vn = ve - vs;

    if (req != NULL && ieq(name, colon, "host")) {
        if (++f->host_count > 1)
            return HH_ERR_HOST_REPEATED;
        req->host_raw = make_span(vs, vn);
        if (vn == 0)
            return HH_OK;
        return normalise_host(v, vn, false, req->host, &req->host_len);
    }
    if (ieq(name, colon, "content-length"))
        return note_content_length(v, vn, f);
    if (ieq(name, colon, "transfer-encoding"))
        return note_transfer_encoding(v, vn, f);
    if (ieq_underscore(name, colon, "content-length")
        || ieq_underscore(name, colon, "transfer-encoding"))
        return HH_ERR_FIELD_LOOKALIKE;
    if (ieq(name, colon, "connection")) {
        f->hop->hop = true;
        return note_connection(v, vn, vs, f);
    }
    if (ieq(name, colon, "upgrade")) {
        f->hop->hop = true;
        f->has_upgrade |= vn > 0;
        f->hop->upgrade_websocket = ++f->upgrade_lines == 1 && ieq(v, vn, "websocket");
    } else if (ieq(name, colon, "expect")) {
        f->expect_continue |= ieq(v, vn, "100-continue");
    } else if (ieq(name, colon, "te") || ieq(name, colon, "keep-alive") ||
               ieq(name, colon, "proxy-connection")) {
        f->hop->hop = true;
    } else if (ieq(name, colon, "x-forwarded-for") || ieq(name, colon, "x-forwarded-proto") ||
               ieq(name, colon, "forwarded")) {
        f->hop->forwarded = true;
    }
    return HH_OK;
}

/* Scans the field line at p[0..n) (RFC 9112 §5) up to its first CR or LF, or to n while it
 * is incomplete, in one pass: *len gets the line's length, *colon the offset of its ':'
 * (0: none, since a line cannot start with one). HH_OK, or the lexical error of the first
 * bad byte; whether a colon is missing is the caller's to say once the line is complete. */
static enum hh_result
scan_field_line(const uint8_t *p, size_t n, size_t *len, size_t *colon)
{
    size_t i = 0;

    *colon = 0;
    if (n > 0 && !is_eol_char(p[0])) {
        if (is_ws(p[0]))
            return HH_ERR_OBS_FOLD;
        if (p[0] == ':')
            return HH_ERR_FIELD_NAME_EMPTY;
        while (i < n && is_tchar(p[i]))
            i++;
        if (i < n && p[i] == ':') {
            *colon = i;
            for (i++; i < n && is_value_char(p[i]); i++)
                ;
            if (i < n && !is_eol_char(p[i]))
                return HH_ERR_FIELD_VALUE;
        } else if (i < n && !is_eol_char(p[i])) {
            return is_ws(p[i]) ? HH_ERR_FIELD_NAME_SPACE : HH_ERR_FIELD_NAME;
        }
    }
    *len = i;
    return HH_OK;
}

/* Reads field lines from pos to the empty line that ends the head. */
static enum hh_result
parse_fields(const uint8_t *data, size_t lim, size_t pos, struct fields *f,
             struct hh_request *req, size_t *head_len)
{
    for (;;) {
        size_t len = 0, colon, eol;
        enum hh_result term, r;

        r = scan_field_line(data + pos, lim - pos, &len, &colon);
        if (r != HH_OK)
            return r;
        eol = pos + len;
        term = line_end(data, lim, eol);
        if (eol == pos && term == HH_OK) {
            *head_len = eol + 2;
            return HH_OK;
        }
        if (term != HH_OK)
            return term;
        if (colon == 0)
            return HH_ERR_FIELD_NO_COLON;
        r = note_field(data, pos, colon, eol, f, req);
        if (r != HH_OK)
            return r;
        pos = eol + 2;
    }
}

/* The transfer-coding rules that apply to requests and responses alike. */
static enum hh_result
check_framing(const struct fields *f, int minor)
{
    if (!f->has_te)
        return HH_OK;
    /* RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing. */
    if (minor == 0)
        return HH_ERR_TE_HTTP10;
    /* RFC 9112 §6.3 rule 3: a hint of smuggling; we cannot remove Content-Length. */
    if (f->has_cl)
        return HH_ERR_CL_AND_TE;
    /* RFC 9112 §7: chunked is never applied twice. */
    if (f->te_chunked_count > 1)
        return HH_ERR_TE_CHUNKED_REPEATED;
    return HH_OK;
}

static bool
is_keep_alive(const struct fields *f, int minor)
{
    if (f->conn_close)
        return false;
    return minor == 1 || f->conn_keep_alive;
}

/* A prefix of the head ended: more bytes may help only while we are under max_head. */
static enum hh_result
need_more(size_t len, size_t max_head)
{
    return len > max_head ? HH_ERR_HEAD_TOO_LARGE : HH_NEED_MORE;
}

/* Spans are 32-bit offsets: no head may be longer than that. */
static size_t
clamp_max_head(size_t max_head)
{
    return max_head > UINT32_MAX ? UINT32_MAX : max_head;
}

/* Whether the scheme of an absolute-form target can still be http:// or https://, given its
 * first k + 1 bytes t[0..k] (RFC 9110 §4.2, schemes are case-insensitive). */
static bool
scheme_prefix_ok(const uint8_t *t, size_t k)
{
    static const char http[] = "http://", https[] = "https://";

    if (k < 4)
        return to_lower(t[k]) == (uint8_t)http[k];
    if (t[4] == ':')
        return k >= 7 || t[k] == (uint8_t)http[k];
    if (to_lower(t[4]) == 's')
        return k >= 8 || to_lower(t[k]) == (uint8_t)https[k];
    return false;
}

struct request_line {
    size_t method_len, target_off, target_len;
    enum hh_target form;
    int minor;
    size_t path_off, path_len;
    char authority[HH_HOST_MAX + 1];
    size_t authority_len;
    size_t authority_off, authority_n;
};

/* Checks the form of a complete target t[0..n) (RFC 9112 §3.2) at offset off in data. */
static enum hh_result
check_target_form(const uint8_t *t, size_t n, size_t off, struct request_line *rl)
{
    size_t a, e;

    switch (rl->form) {
    case HH_TARGET_ORIGIN:
        rl->path_off = off;
        rl->path_len = n;
        return HH_OK;
    case HH_TARGET_ASTERISK:
        return HH_OK;
    case HH_TARGET_AUTHORITY:
        if (normalise_host(t, n, true, rl->authority, &rl->authority_len) != HH_OK)
            return HH_ERR_TARGET;
        return HH_OK;
    case HH_TARGET_ABSOLUTE:
        break;
    }
    if (n < 7)
        return HH_ERR_TARGET;
    a = to_lower(t[4]) == 's' ? 8 : 7;
    if (n < a)
        return HH_ERR_TARGET;
    for (e = a; e < n && t[e] != '/' && t[e] != '?'; e++)
        ;
    if (e == a || normalise_host(t + a, e - a, false, rl->authority, &rl->authority_len)
                       != HH_OK)
        return HH_ERR_TARGET;
    rl->authority_off = off + a;
    rl->authority_n = e - a;
    rl->path_off = off + e;
    rl->path_len = n - e;
    return HH_OK;
}

/* Checks the request line data[pos..pos+n) (RFC 9112 §3), complete or not yet. */
static enum hh_result
check_request_line(const uint8_t *data, size_t pos, size_t n, bool complete,
                   struct request_line *rl)
{
    const uint8_t *line = data + pos;
    size_t i = 0, t0, pct = 0;
    bool connect, options;
    enum hh_result r;

    while (i < n && is_tchar(line[i]))
        i++;
    if (i == n)
        return complete ? (i == 0 ? HH_ERR_METHOD : HH_ERR_REQUEST_LINE) : HH_OK;
    if (i == 0 || (line[i] != ' ' && line[i] != '\t'))
        return HH_ERR_METHOD;
    if (line[i] == '\t')
        return HH_ERR_REQUEST_LINE;
    rl->method_len = i;
    connect = eq(line, i, "CONNECT");
    options = eq(line, i, "OPTIONS");

    t0 = ++i;
    for (; i < n && line[i] != ' '; i++) {
        uint8_t c = line[i];
        size_t k = i - t0;

        if (c == '\t')
            return HH_ERR_REQUEST_LINE;
        if (!is_target_char(c))
            return HH_ERR_TARGET;
        if (k == 0) {
            if (connect)
                rl->form = HH_TARGET_AUTHORITY;
            else if (c == '/')
                rl->form = HH_TARGET_ORIGIN;
            else if (c == '*' && options)
                rl->form = HH_TARGET_ASTERISK;
            else
                rl->form = HH_TARGET_ABSOLUTE;
        }
        if (rl->form == HH_TARGET_ASTERISK && k > 0)
            return HH_ERR_TARGET;
        if (rl->form == HH_TARGET_ABSOLUTE && !scheme_prefix_ok(line + t0, k))
            return HH_ERR_TARGET;
        if (pct > 0) {
            if (hex_value(c) < 0)
                return HH_ERR_TARGET;
            pct--;
        } else if (c == '%') {
            pct = 2;
        }
    }
    if (i == n)
        return complete ? HH_ERR_REQUEST_LINE : HH_OK;
    if (i == t0)
        return HH_ERR_REQUEST_LINE;
    if (pct > 0)
        return HH_ERR_TARGET;
    rl->target_off = pos + t0;
    rl->target_len = i - t0;
    r = check_target_form(line + t0, i - t0, pos + t0, rl);
    if (r != HH_OK)
        return r;

    const uint8_t *v = line + i + 1;
    size_t vn = n - i - 1;

    if (vn > 0 && is_ws(v[0]))
        return HH_ERR_REQUEST_LINE;
    r = check_version_prefix(v, vn);
    if (r != HH_OK)
        return r;
    if (vn > 8)
        return (v[8] == ' ' || v[8] == '\t') ? HH_ERR_REQUEST_LINE : HH_ERR_VERSION;
    if (!complete)
        return HH_OK;
    if (vn < 8)
        return HH_ERR_VERSION;
    rl->minor = version_minor(v);
    return rl->minor < 0 ? HH_ERR_VERSION_UNSUPPORTED : HH_OK;
}

static enum hh_result
parse_request(const uint8_t *data, size_t lim, struct hh_request *req)
{
    struct request_line rl;
    struct fields f;
    size_t pos = 0, eol;
    enum hh_result term, r;

    memset(&rl, 0, sizeof(rl));
    memset(&f, 0, sizeof(f));
    f.hop = &req->hop;
    /* RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line. */
    while (pos < lim && data[pos] == '\r') {
        if (pos + 1 == lim)
            return HH_NEED_MORE;
        if (data[pos + 1] != '\n')
            return HH_ERR_BARE_CR;
        pos += 2;
    }
    eol = find_eol(data, pos, lim);
    term = line_end(data, lim, eol);
    r = check_request_line(data, pos, eol - pos, term == HH_OK, &rl);
    if (r != HH_OK)
        return r;
    if (term != HH_OK)
        return term;
    r = parse_fields(data, lim, eol + 2, &f, req, &req->head_len);
    if (r != HH_OK)
        return r;

    if (rl.minor == 1 && f.host_count == 0)
        return HH_ERR_HOST_MISSING;
    r = check_framing(&f, rl.minor);
    if (r != HH_OK)
        return r;
    if (f.has_te) {
        /* RFC 9112 §6.3 rule 4: without chunked last, the length cannot be known. */
        if (!f.te_last_chunked)
            return HH_ERR_TE_NOT_CHUNKED;
        /* RFC 9112 §6.1: a coding the server does not understand is 501; we forward no
         * other coding than one chunked, the only one every recipient must know. */
        if (f.te_codings > 1)
            return HH_ERR_TE_UNKNOWN;
        req->hop.te_normalise = !f.te_exact;
    }
    /* RFC 9112 §3.2.2: the origin server takes the host from an absolute-form target and
     * ignores Host; we route by Host, so both must agree. */
    if (rl.form == HH_TARGET_ABSOLUTE) {
        if (f.host_count == 0) {
            memcpy(req->host, rl.authority, rl.authority_len + 1);
            req->host_len = rl.authority_len;
            req->host_raw = make_span(rl.authority_off, rl.authority_n);
        } else if (req->host_len != rl.authority_len
                   || memcmp(req->host, rl.authority, rl.authority_len) != 0) {
            return HH_ERR_HOST_MISMATCH;
        }
    }

    req->method = make_span(pos, rl.method_len);
    req->target = make_span(rl.target_off, rl.target_len);
    req->path = make_span(rl.path_off, rl.path_len);
    req->form = rl.form;
    req->version_minor = rl.minor;
    if (f.has_te) {
        req->body = HH_BODY_CHUNKED;
    } else if (f.has_cl && f.cl > 0) {
        req->body = HH_BODY_LENGTH;
        req->content_length = f.cl;
    }
    req->keep_alive = is_keep_alive(&f, rl.minor);
    /* RFC 9110 §10.1.1 and §7.8: HTTP/1.0 requests cannot expect 100 nor upgrade. */
    req->expect_continue = rl.minor == 1 && f.expect_continue;
    req->upgrade = rl.minor == 1 && f.conn_upgrade && f.has_upgrade &&
                   req->hop.upgrade_websocket;
    req->is_connect = eq(data + pos, rl.method_len, "CONNECT");
    req->is_head = eq(data + pos, rl.method_len, "HEAD");
    return HH_OK;
}

/* Whether the request line ends within data[0..lim), after the empty lines before it. */
static bool
request_line_ended(const uint8_t *data, size_t lim)
{
    size_t pos = 0;

    while (pos + 1 < lim && data[pos] == '\r' && data[pos + 1] == '\n')
        pos += 2;
    return memchr(data + pos, '\n', lim - pos) != NULL;
}

enum hh_result
hh_parse_request(const uint8_t *data, size_t len, size_t max_head, struct hh_request *req)
{
    enum hh_result r;

    memset(req, 0, sizeof(*req));
    max_head = clamp_max_head(max_head);
    r = parse_request(data, len < max_head ? len : max_head, req);
    if (r == HH_NEED_MORE)
        r = need_more(len, max_head);
    /* RFC 9112 §3: a request-target longer than we parse is 414, not 431. */
    if (r == HH_ERR_HEAD_TOO_LARGE && !request_line_ended(data, max_head))
        r = HH_ERR_REQUEST_LINE_TOO_LONG;
    return r;
}

/* Whether data[0..len) may hold the end of the first line (not seen yet) or the empty
 * line ending the head, beyond what g has looked at. */
static bool
gate_open(struct hh_gate *g, const uint8_t *data, size_t len)
{
    size_t from = g->seen > 2 ? g->seen - 2 : 0;
    const uint8_t *p = data + from, *end = data + len, *lf;

    if (len <= g->seen)
        return false;
    if (!g->line_ok) {
        /* Empty lines before a request line (RFC 9112 §2.2) do not end it. */
        for (size_t i = g->seen; i < len; i++) {
            if (data[i] == '\n' && g->text)
                return true;
            g->text = g->text || (data[i] != '\r' && data[i] != '\n');
        }
        return false;
    }
    for (; (lf = memchr(p, '\n', (size_t)(end - p))) != NULL; p = lf + 1) {
        if (lf > data && lf[-1] == '\n')
            return true;
        if (lf > data + 1 && lf[-1] == '\r' && lf[-2] == '\n')
            return true;
    }
    return false;
}

/* Before a gated parse: whether to parse, or else the verdict in *r. */
static bool
gate_begin(struct hh_gate *g, const uint8_t *data, size_t len, size_t max_head,
           enum hh_result *r)
{
    *r = HH_NEED_MORE;
    if (gate_open(g, data, len)) {
        g->parses++;
        return true;
    }
    if (len > max_head)
        *r = HH_ERR_HEAD_TOO_LARGE;
    return false;
}

/* After it: a parse that needs more has passed the first line. */
static enum hh_result
gate_end(struct hh_gate *g, size_t len, enum hh_result r)
{
    if (r == HH_NEED_MORE) {
        g->line_ok = g->line_ok || g->parses > 0;
        g->seen = (uint32_t)len;
    }
    return r;
}

enum hh_result
hh_parse_request_gated(struct hh_gate *g, const uint8_t *data, size_t len, size_t max_head,
                       struct hh_request *req)
{
    enum hh_result r;

    if (gate_begin(g, data, len, max_head, &r))
        r = hh_parse_request(data, len, max_head, req);
    else if (r == HH_ERR_HEAD_TOO_LARGE)
        r = hh_head_too_large(g);
    return gate_end(g, len, r);
}

enum hh_result
hh_head_too_large(const struct hh_gate *g)
{
    /* The gate parses once the request line has ended, and notes it when that parse
     * needs more: without that, the request line has not ended. */
    return g->line_ok ? HH_ERR_HEAD_TOO_LARGE : HH_ERR_REQUEST_LINE_TOO_LONG;
}

enum hh_result
hh_parse_response_gated(struct hh_gate *g, const uint8_t *data, size_t len, size_t max_head,
                        bool request_was_head, struct hh_response *resp)
{
    enum hh_result r;

    if (gate_begin(g, data, len, max_head, &r))
        r = hh_parse_response(data, len, max_head, request_was_head, resp);
    return gate_end(g, len, r);
}

/* Checks the status line p[0..n) (RFC 9112 §4), complete or not yet. We accept a missing SP
 * after the status code when the reason phrase is empty: common, and not ambiguous. */
static enum hh_result
check_status_line(const uint8_t *p, size_t n, bool complete, struct hh_response *resp)
{
    enum hh_result r = check_version_prefix(p, n);

    if (r != HH_OK)
        return r;
    if (n < 9)
        return complete ? HH_ERR_STATUS_LINE : HH_OK;
    if (p[8] != ' ')
        return p[8] == '\t' ? HH_ERR_STATUS_LINE : HH_ERR_VERSION;
    resp->version_minor = version_minor(p);
    if (resp->version_minor < 0)
        return HH_ERR_VERSION_UNSUPPORTED;
    for (size_t i = 9; i < n && i < 12; i++)
        if (!is_digit(p[i]))
            return HH_ERR_STATUS_LINE;
    if (n < 12)
        return complete ? HH_ERR_STATUS_LINE : HH_OK;
    resp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (resp->status < 100 || resp->status > 599)
        return HH_ERR_STATUS;
    if (n == 12)
        return HH_OK;
    if (p[12] != ' ')
        return HH_ERR_STATUS_LINE;
    /* reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
    for (size_t i = 13; i < n; i++)
        if (!is_value_char(p[i]))
            return HH_ERR_STATUS_LINE;
    return HH_OK;
}

static enum hh_result
parse_response(const uint8_t *data, size_t lim, bool request_was_head,
               struct hh_response *resp)
{
    struct fields f;
    size_t eol = find_eol(data, 0, lim);
    enum hh_result term = line_end(data, lim, eol), r;
    int s;

    memset(&f, 0, sizeof(f));
    f.hop = &resp->hop;
    r = check_status_line(data, eol, term == HH_OK, resp);
    if (r != HH_OK)
        return r;
    if (term != HH_OK)
        return term;
    r = parse_fields(data, lim, eol + 2, &f, NULL, &resp->head_len);
    if (r != HH_OK)
        return r;
    r = check_framing(&f, resp->version_minor);
    if (r != HH_OK)
        return r;

    /* RFC 9112 §6.3, in its order. */
    s = resp->status;
    resp->content_length = f.cl;
    if (s == 101)
        resp->body = HH_BODY_TUNNEL;
    else if (request_was_head || (s >= 100 && s < 200) || s == 204 || s == 304)
        resp->body = HH_BODY_NONE;
    else if (f.has_te)
        resp->body = f.te_last_chunked ? HH_BODY_CHUNKED : HH_BODY_CLOSE;
    else if (f.has_cl)
        resp->body = f.cl > 0 ? HH_BODY_LENGTH : HH_BODY_NONE;
    else
        resp->body = HH_BODY_CLOSE;
    resp->keep_alive = is_keep_alive(&f, resp->version_minor)
                       && resp->body != HH_BODY_CLOSE && resp->body != HH_BODY_TUNNEL;
    return HH_OK;
}

enum hh_result
hh_parse_response(const uint8_t *data, size_t len, size_t max_head, bool request_was_head,
                  struct hh_response *resp)
{
    enum hh_result r;

    memset(resp, 0, sizeof(*resp));
    max_head = clamp_max_head(max_head);
    r = parse_response(data, len < max_head ? len : max_head, request_was_head, resp);
    return r == HH_NEED_MORE ? need_more(len, max_head) : r;
}

const char *
hh_result_str(enum hh_result r)
{
    switch (r) {
    case HH_OK: return "ok";
    case HH_NEED_MORE: return "need-more";
    case HH_ERR_HEAD_TOO_LARGE: return "head-too-large";
    case HH_ERR_REQUEST_LINE_TOO_LONG: return "request-line-too-long";
    case HH_ERR_BARE_CR: return "bare-cr";
    case HH_ERR_BARE_LF: return "bare-lf";
    case HH_ERR_METHOD: return "method";
    case HH_ERR_REQUEST_LINE: return "request-line";
    case HH_ERR_TARGET: return "target";
    case HH_ERR_VERSION: return "version";
    case HH_ERR_VERSION_UNSUPPORTED: return "version-unsupported";
    case HH_ERR_STATUS_LINE: return "status-line";
    case HH_ERR_STATUS: return "status";
    case HH_ERR_OBS_FOLD: return "obs-fold";
    case HH_ERR_FIELD_NAME_EMPTY: return "field-name-empty";
    case HH_ERR_FIELD_NAME: return "field-name";
    case HH_ERR_FIELD_NAME_SPACE: return "field-name-space";
    case HH_ERR_FIELD_NO_COLON: return "field-no-colon";
    case HH_ERR_FIELD_VALUE: return "field-value";
    case HH_ERR_FIELD_LOOKALIKE: return "field-lookalike";
    case HH_ERR_HOST_MISSING: return "host-missing";
    case HH_ERR_HOST_REPEATED: return "host-repeated";
    case HH_ERR_HOST_INVALID: return "host-invalid";
    case HH_ERR_HOST_PORT: return "host-port";
    case HH_ERR_HOST_TOO_LONG: return "host-too-long";
    case HH_ERR_HOST_MISMATCH: return "host-mismatch";
    case HH_ERR_CONTENT_LENGTH: return "content-length";
    case HH_ERR_CONTENT_LENGTH_CONFLICT: return "content-length-conflict";
    case HH_ERR_CL_AND_TE: return "cl-and-te";
    case HH_ERR_TE_INVALID: return "te-invalid";
    case HH_ERR_TE_HTTP10: return "te-http10";
    case HH_ERR_TE_NOT_CHUNKED: return "te-not-chunked";
    case HH_ERR_TE_CHUNKED_REPEATED: return "te-chunked-repeated";
    case HH_ERR_TE_UNKNOWN: return "te-unknown";
    case HH_ERR_CONNECTION: return "connection-options";
    case HH_ERR_CHUNK_SIZE: return "chunk-size";
    case HH_ERR_CHUNK_SIZE_OVERFLOW: return "chunk-size-overflow";
    case HH_ERR_CHUNK_EXT: return "chunk-ext";
    case HH_ERR_CHUNK_EXT_TOO_LONG: return "chunk-ext-too-long";
    case HH_ERR_CHUNK_CRLF: return "chunk-crlf";
    case HH_ERR_TRAILER_TOO_LARGE: return "trailer-too-large";
    }
    return "unknown";
}

int
hh_result_status(enum hh_result r)
{
    switch (r) {
    case HH_OK:
    case HH_NEED_MORE:
        return 0;
    case HH_ERR_HEAD_TOO_LARGE:
        return 431;
    case HH_ERR_REQUEST_LINE_TOO_LONG:
        return 414;
    case HH_ERR_VERSION_UNSUPPORTED:
        return 505;
    case HH_ERR_TE_UNKNOWN:
        return 501;
    default:
        return 400;
    }
}
