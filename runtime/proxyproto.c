#include "proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One end of the connection, reduced to what a header carries. */
struct end {
    bool v4;
    uint8_t a[16];                  /* v4: a[0..4); v6: a[0..16) */
    uint16_t port;                  /* network order */
};

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The v2 signature (spec §2.2) and the start of a v1 line (§2.1). */
static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
static const uint8_t v1_sig[6] = { 'P', 'R', 'O', 'X', 'Y', ' ' };

static bool
get_end(const struct sockaddr *sa, struct end *e)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        e->v4 = true;
        memcpy(e->a, &in->sin_addr, 4);
        e->port = in->sin_port;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *a = in6->sin6_addr.s6_addr;

        e->v4 = memcmp(a, v4mapped, 12) == 0;
        memcpy(e->a, e->v4 ? a + 12 : a, e->v4 ? 4 : 16);
        e->port = in6->sin6_port;
        return true;
    }
    return false;
}

/* An IPv4 end written as IPv6: ::ffff:a.b.c.d. */
static void
to_v6(struct end *e)
{
    if (!e->v4)
        return;
    memmove(e->a + 12, e->a, 4);
    memcpy(e->a, v4mapped, 12);
    e->v4 = false;
}

/* Reads both ends and brings them to one family; false for an unsupported family. */
static bool
get_ends(const struct sockaddr *src, const struct sockaddr *dst, struct end *s, struct end *d)
{
    if (!get_end(src, s) || !get_end(dst, d))
        return false;
    if (s->v4 != d->v4) {
        to_v6(s);
        to_v6(d);
    }
    return true;
}

size_t
pp_build_v1(const struct sockaddr *src, const struct sockaddr *dst, char *out, size_t cap)
{
    struct end s, d;
    char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
    int af, n;

    if (!get_ends(src, dst, &s, &d))
        return 0;
    af = s.v4 ? AF_INET : AF_INET6;
    if (inet_ntop(af, s.a, sa, sizeof(sa)) == NULL || inet_ntop(af, d.a, da, sizeof(da)) == NULL)
        return 0;
    n = snprintf(out, cap, "PROXY %s %s %s %u %u\r\n", s.v4 ? "TCP4" : "TCP6", sa, da,
                 (unsigned)ntohs(s.port), (unsigned)ntohs(d.port));
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t
pp_build_v2(const struct sockaddr *src, const struct sockaddr *dst, void *out, size_t cap)
{
    struct end s, d;
    uint8_t *p = out;
    size_t alen, body;
    bool v4;

    if (!get_ends(src, dst, &s, &d))
        return 0;
    v4 = s.v4;
    alen = v4 ? 4 : 16;
    body = 2 * alen + 4;
    if (cap < 16 + body)
        return 0;
    memcpy(p, v2_sig, 12);
    p[12] = 0x21;                       /* version 2, command PROXY */
    p[13] = v4 ? 0x11 : 0x21;           /* AF_INET or AF_INET6, over STREAM */
    p[14] = (uint8_t)(body >> 8);       /* length of what follows, network order */
    p[15] = (uint8_t)body;
    memcpy(p + 16, s.a, alen);
    memcpy(p + 16 + alen, d.a, alen);
    memcpy(p + 16 + 2 * alen, &s.port, 2);
    memcpy(p + 16 + 2 * alen + 2, &d.port, 2);
    return 16 + body;
}

/* ---- reading a received header ----
 *
 * Edge cases, decided here:
 * - A v1 line is at most PP_V1_MAX bytes, CRLF included; fields are separated by exactly
 *   one space; only printable ASCII comes before the CR, and a LF must follow it.
 * - v1 "UNKNOWN" may be followed by anything up to the CRLF (§2.1: the receiver ignores
 *   it); TCP4 and TCP6 take exactly four fields after them.
 * - v1 addresses are read by inet_pton(): dotted quads without leading zeros for TCP4, any
 *   IPv6 text form for TCP6 (an IPv4-mapped one is kept as such).
 * - Ports are 0 to 65535 in decimal, "0" or without leading zeros.
 * - v2: version 2 only; LOCAL skips the whole body, whatever its family (§2.2: the
 *   receiver uses the connection's own addresses); PROXY over AF_UNSPEC or AF_UNIX carries
 *   no TCP client and counts as LOCAL; AF_INET and AF_INET6 must be over STREAM.
 * - v2 TLVs after the addresses are skipped, each one checked to fit: together they must
 *   fill the body exactly. Their content is not looked at.
 * - Errors are reported as early as the bytes allow: a wrong version or command is known
 *   from byte 13 on, a wrong family from byte 14, a wrong length from byte 16. */

#define V2_HEAD 16
#define V2_LEN_INET 12              /* two IPv4 addresses, two ports */
#define V2_LEN_INET6 36
#define V2_LEN_UNIX 216             /* two 108-byte paths */

static const char *const result_names[PP_RESULT_COUNT] = {
    [PP_NEED_MORE] = "proxy-need-more",
    [PP_NONE] = "proxy-none",
    [PP_OK] = "proxy-ok",
    [PP_ERR_V1_SYNTAX] = "proxy-v1-syntax",
    [PP_ERR_V1_ADDRESS] = "proxy-v1-address",
    [PP_ERR_V1_PORT] = "proxy-v1-port",
    [PP_ERR_V1_TOO_LONG] = "proxy-v1-too-long",
    [PP_ERR_V2_VERSION] = "proxy-v2-version",
    [PP_ERR_V2_COMMAND] = "proxy-v2-command",
    [PP_ERR_V2_FAMILY] = "proxy-v2-family",
    [PP_ERR_V2_LENGTH] = "proxy-v2-length",
    [PP_ERR_V2_TLV] = "proxy-v2-tlv",
};

const char *
pp_result_str(enum pp_result r)
{
    return (unsigned)r < PP_RESULT_COUNT ? result_names[r] : "proxy-unknown";
}

/* -1: data does not start like sig; 0: data is a strict prefix of it; 1: it starts with it. */
static int
sig_match(const uint8_t *data, size_t len, const uint8_t *sig, size_t n)
{
    if (memcmp(data, sig, len < n ? len : n) != 0)
        return -1;
    return len >= n;
}

/* A v1 field: a port, "0" or 1 to 65535 without leading zeros. */
static bool
v1_port(const uint8_t *p, size_t n, uint16_t *port)
{
    uint32_t v = 0;

    if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = htons((uint16_t)v);
    return true;
}

/* A v1 field: an address of family af into a. */
static bool
v1_addr(const uint8_t *p, size_t n, int af, union pp_addr *a)
{
    char text[INET6_ADDRSTRLEN];

    if (n == 0 || n >= sizeof(text))
        return false;
    memcpy(text, p, n);
    text[n] = '\0';
    memset(a, 0, sizeof(*a));
    a->sa.sa_family = (sa_family_t)af;
    return inet_pton(af, text, af == AF_INET ? (void *)&a->in4.sin_addr
                                             : (void *)&a->in6.sin6_addr) == 1;
}

/* The fields of a v1 line after "PROXY ": line[0 .. n), CRLF excluded. */
static enum pp_result
v1_fields(const uint8_t *line, size_t n, struct pp_header *h)
{
    const uint8_t *f[5];
    size_t flen[5], count = 0, start = 0;
    uint16_t sport, dport;
    int af;

    if (n >= 7 && memcmp(line, "UNKNOWN", 7) == 0 && (n == 7 || line[7] == ' ')) {
        h->local = true;
        return PP_OK;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i < n && line[i] != ' ')
            continue;
        if (i == start || count == 5)
            return PP_ERR_V1_SYNTAX;        /* two spaces, a space at an end, a sixth field */
        f[count] = line + start;
        flen[count++] = i - start;
        start = i + 1;
    }
    if (count != 5 || flen[0] != 4 || (memcmp(f[0], "TCP4", 4) != 0 &&
                                       memcmp(f[0], "TCP6", 4) != 0))
        return PP_ERR_V1_SYNTAX;
    af = f[0][3] == '4' ? AF_INET : AF_INET6;
    if (!v1_addr(f[1], flen[1], af, &h->src) || !v1_addr(f[2], flen[2], af, &h->dst))
        return PP_ERR_V1_ADDRESS;
    if (!v1_port(f[3], flen[3], &sport) || !v1_port(f[4], flen[4], &dport))
        return PP_ERR_V1_PORT;
    if (af == AF_INET) {
        h->src.in4.sin_port = sport;
        h->dst.in4.sin_port = dport;
    } else {
        h->src.in6.sin6_port = sport;
        h->dst.in6.sin6_port = dport;
    }
    return PP_OK;
}

static enum pp_result
parse_v1(const uint8_t *data, size_t len, struct pp_header *h)
{
    size_t limit = len < PP_V1_MAX ? len : PP_V1_MAX, i = sizeof(v1_sig);
    enum pp_result r;

    while (i < limit && data[i] >= 0x20 && data[i] < 0x7f)
        i++;
    if (i == limit)
        return len >= PP_V1_MAX ? PP_ERR_V1_TOO_LONG : PP_NEED_MORE;
    if (data[i] != '\r')
        return PP_ERR_V1_SYNTAX;
    if (i + 2 > PP_V1_MAX)
        return PP_ERR_V1_TOO_LONG;
    if (i + 1 == len)
        return PP_NEED_MORE;
    if (data[i + 1] != '\n')
        return PP_ERR_V1_SYNTAX;
    r = v1_fields(data + sizeof(v1_sig), i - sizeof(v1_sig), h);
    if (r != PP_OK) {
        memset(h, 0, sizeof(*h));
        return r;
    }
    h->len = i + 2;
    h->version = 1;
    return PP_OK;
}

/* The length of a v2 PROXY command's addresses for its family and transport byte; 0 for
 * a family without TCP addresses (read as LOCAL); -1 for one we do not carry. */
static int
v2_addr_len(uint8_t fam)
{
    switch (fam) {
    case 0x00: case 0x01: return 0;             /* AF_UNSPEC */
    case 0x30: case 0x31: return 0;             /* AF_UNIX: no client address for us */
    case 0x11: return V2_LEN_INET;              /* AF_INET over STREAM */
    case 0x21: return V2_LEN_INET6;             /* AF_INET6 over STREAM */
    default: return -1;                         /* datagrams, unknown families */
    }
}

/* The TLVs of a v2 header: p[0 .. n) must be whole type-length-value triples. */
static bool
v2_tlvs_fit(const uint8_t *p, size_t n)
{
    size_t pos = 0;

    while (pos < n) {
        size_t vlen;

        if (n - pos < 3)
            return false;
        vlen = (size_t)p[pos + 1] << 8 | p[pos + 2];
        if (vlen > n - pos - 3)
            return false;
        pos += 3 + vlen;
    }
    return true;
}

static void
v2_addrs(const uint8_t *p, bool v4, struct pp_header *h)
{
    size_t alen = v4 ? 4 : 16;

    if (v4) {
        h->src.in4.sin_family = h->dst.in4.sin_family = AF_INET;
        memcpy(&h->src.in4.sin_addr, p, 4);
        memcpy(&h->dst.in4.sin_addr, p + 4, 4);
        memcpy(&h->src.in4.sin_port, p + 8, 2);
        memcpy(&h->dst.in4.sin_port, p + 10, 2);
        return;
    }
    h->src.in6.sin6_family = h->dst.in6.sin6_family = AF_INET6;
    memcpy(&h->src.in6.sin6_addr, p, alen);
    memcpy(&h->dst.in6.sin6_addr, p + alen, alen);
    memcpy(&h->src.in6.sin6_port, p + 2 * alen, 2);
    memcpy(&h->dst.in6.sin6_port, p + 2 * alen + 2, 2);
}

static enum pp_result
parse_v2(const uint8_t *data, size_t len, struct pp_header *h)
{
    bool proxy;
    int alen = 0;
    size_t body;

    if (len <= 12)
        return PP_NEED_MORE;
    if (data[12] >> 4 != 2)
        return PP_ERR_V2_VERSION;
    if ((data[12] & 0x0f) > 1)
        return PP_ERR_V2_COMMAND;
    proxy = (data[12] & 0x0f) == 1;
    if (len <= 13)
        return PP_NEED_MORE;
    if (proxy && (alen = v2_addr_len(data[13])) < 0)
        return PP_ERR_V2_FAMILY;
    if (len < V2_HEAD)
        return PP_NEED_MORE;
    body = (size_t)data[14] << 8 | data[15];
    if (body > PP_V2_RECV_MAX - V2_HEAD || body < (size_t)alen)
        return PP_ERR_V2_LENGTH;
    if (len - V2_HEAD < body)
        return PP_NEED_MORE;
    h->len = V2_HEAD + body;
    h->version = 2;
    if (!proxy || alen == 0) {
        h->local = true;
        return PP_OK;
    }
    if (!v2_tlvs_fit(data + V2_HEAD + alen, body - (size_t)alen)) {
        memset(h, 0, sizeof(*h));
        return PP_ERR_V2_TLV;
    }
    v2_addrs(data + V2_HEAD, alen == V2_LEN_INET, h);
    return PP_OK;
}

enum pp_result
pp_parse(const uint8_t *data, size_t len, struct pp_header *h)
{
    int m;

    memset(h, 0, sizeof(*h));
    if (len == 0)
        return PP_NEED_MORE;
    if ((m = sig_match(data, len, v1_sig, sizeof(v1_sig))) >= 0)
        return m == 0 ? PP_NEED_MORE : parse_v1(data, len, h);
    if ((m = sig_match(data, len, v2_sig, sizeof(v2_sig))) >= 0)
        return m == 0 ? PP_NEED_MORE : parse_v2(data, len, h);
    return PP_NONE;
}
