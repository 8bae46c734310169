#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "value.h"

static const char *
parse_port(const char *t, size_t len, size_t at, uint16_t *port, size_t *bad_off,
           size_t *bad_len)
{
    uint32_t v;

    if (at >= len || t[at] != ':') {
        *bad_off = at > 0 ? at - 1 : 0;
        *bad_len = 1;
        return "missing port: write the address as [IPv6]:port";
    }
    *bad_off = at + 1;
    *bad_len = len - at - 1;
    if (!value_u32(t + at + 1, len - at - 1, &v) || v < 1 || v > 65535) {
        if (*bad_len == 0)
            *bad_off = at, *bad_len = 1;
        return "port must be a number from 1 to 65535";
    }
    *port = (uint16_t)v;
    return NULL;
}

/* Why t[0..len), not in brackets, is no backend: say what a backend is, in the terms of
 * what was written (an IPv4 address, a host name), with *bad_len on the host part. */
static const char *
unbracketed_server(const char *t, size_t len, size_t *bad_len)
{
    const char *colon = memchr(t, ':', len);
    size_t host_len = colon != NULL ? (size_t)(colon - t) : len;
    char host[16];

    if (host_len == 0 || (colon != NULL && memchr(colon + 1, ':', len - host_len - 1)))
        return "backends are IPv6 addresses in brackets, e.g. [2001:db8::1]:443";
    *bad_len = host_len;
    if (strspn(t, "0123456789.") < host_len)
        return "backends are IPv6 addresses in brackets, e.g. [2001:db8::1]:443, "
               "not host names";
    if (host_len < sizeof(host)) {
        struct in_addr a;

        memcpy(host, t, host_len);
        host[host_len] = '\0';
        if (inet_pton(AF_INET, host, &a) == 1)
            return "backends are IPv6 addresses in brackets; "
                   "write an IPv4 backend as [::ffff:A.B.C.D]:port";
    }
    *bad_len = len;
    return "backends are IPv6 addresses in brackets, e.g. [2001:db8::1]:443";
}

const char *
addr_server(const char *t, size_t len, struct sockaddr_in6 *out, size_t *bad_off,
            size_t *bad_len)
{
    const char *close;
    char host[64];
    uint16_t port;
    const char *why;

    memset(out, 0, sizeof(*out));
    *bad_off = 0;
    *bad_len = len;
    if (len == 0 || t[0] != '[')
        return unbracketed_server(t, len, bad_len);
    close = memchr(t, ']', len);
    if (close == NULL || (size_t)(close - t) - 1 >= sizeof(host))
        return "invalid IPv6 address";
    memcpy(host, t + 1, (size_t)(close - t) - 1);
    host[close - t - 1] = '\0';
    if (inet_pton(AF_INET6, host, &out->sin6_addr) != 1) {
        *bad_off = 1;
        *bad_len = (size_t)(close - t) - 1;
        if (*bad_len == 0)
            *bad_off = 0, *bad_len = 2;
        return "invalid IPv6 address";
    }
    why = parse_port(t, len, (size_t)(close - t) + 1, &port, bad_off, bad_len);
    if (why != NULL)
        return why;
    out->sin6_family = AF_INET6;
    out->sin6_port = htons(port);
    return NULL;
}

/* "A.B.C.D:PORT" into out->in4; usage says what is wrong otherwise. */
static const char *
addr_v4(const char *t, size_t len, union yt_addr *out, const char *usage, size_t *bad_off,
        size_t *bad_len)
{
    const char *colon = memchr(t, ':', len);
    char host[16];
    uint16_t port;
    const char *why;

    if (colon == NULL || colon == t || (size_t)(colon - t) >= sizeof(host))
        return usage;
    memcpy(host, t, (size_t)(colon - t));
    host[colon - t] = '\0';
    if (inet_pton(AF_INET, host, &out->in4.sin_addr) != 1)
        return usage;
    why = parse_port(t, len, (size_t)(colon - t), &port, bad_off, bad_len);
    if (why != NULL)
        return why;
    out->in4.sin_family = AF_INET;
    out->in4.sin_port = htons(port);
    return NULL;
}

const char *
addr_bind(const char *t, size_t len, struct yt_bind *out, size_t *bad_off,
          size_t *bad_len)
{
    static const char *const usage =
        "invalid listen address; use :PORT, *:PORT, A.B.C.D:PORT or [IPv6]:PORT";
    uint16_t port;
    const char *why;

    memset(out, 0, sizeof(*out));
    *bad_off = 0;
    *bad_len = len;
    if (len > 0 && (t[0] == ':' || (t[0] == '*' && len > 1 && t[1] == ':'))) {
        /* IPv4 and IPv6: [::] with IPV6_V6ONLY off */
        why = parse_port(t, len, t[0] == '*' ? 1 : 0, &port, bad_off, bad_len);
        if (why != NULL)
            return why;
        out->addr.in6.sin6_family = AF_INET6;
        out->addr.in6.sin6_addr = in6addr_any;
        out->addr.in6.sin6_port = htons(port);
        out->v6only = 0;
        return NULL;
    }
    if (len > 0 && t[0] == '[') {
        why = addr_server(t, len, &out->addr.in6, bad_off, bad_len);
        if (why != NULL)
            return why;
        out->v6only = 1;
        return NULL;
    }
    return addr_v4(t, len, &out->addr, usage, bad_off, bad_len);
}

const char *
addr_dest(const char *t, size_t len, union yt_addr *out, size_t *bad_off, size_t *bad_len)
{
    static const char *const usage =
        "invalid destination address; use A.B.C.D:PORT or [IPv6]:PORT";

    memset(out, 0, sizeof(*out));
    *bad_off = 0;
    *bad_len = len;
    if (len > 0 && t[0] == '[')
        return addr_server(t, len, &out->in6, bad_off, bad_len);
    return addr_v4(t, len, out, usage, bad_off, bad_len);
}

bool
addr_binds_overlap(const struct yt_bind *a, const struct yt_bind *b)
{
    bool a6 = a->addr.sa.sa_family == AF_INET6, b6 = b->addr.sa.sa_family == AF_INET6;
    uint16_t pa = a6 ? a->addr.in6.sin6_port : a->addr.in4.sin_port;
    uint16_t pb = b6 ? b->addr.in6.sin6_port : b->addr.in4.sin_port;
    bool a_any, b_any;

    if (pa != pb)
        return false;
    a_any = a6 ? IN6_IS_ADDR_UNSPECIFIED(&a->addr.in6.sin6_addr) :
                 a->addr.in4.sin_addr.s_addr == INADDR_ANY;
    b_any = b6 ? IN6_IS_ADDR_UNSPECIFIED(&b->addr.in6.sin6_addr) :
                 b->addr.in4.sin_addr.s_addr == INADDR_ANY;
    if (a6 && b6)
        return a_any || b_any ||
               memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr, 16) == 0;
    if (!a6 && !b6)
        return a_any || b_any || a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
    /* One of each: only a dual-stack wildcard (":443") covers the IPv4 side. */
    if (a6)
        return a_any && !a->v6only;
    return b_any && !b->v6only;
}

const char addr_range_host_bits[] = "host bits set past the prefix length";

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The address part of a range, t[0 .. len): IPv4, IPv6, or IPv6 in brackets; into
 * 16 bytes (IPv4 mapped). *v4 says how many bits a prefix may have: 32 or 128. */
static bool
range_addr(const char *t, size_t len, uint8_t out[16], bool *v4)
{
    char host[INET6_ADDRSTRLEN];

    if (len >= 2 && t[0] == '[' && t[len - 1] == ']') {
        t++;
        len -= 2;
        if (memchr(t, ':', len) == NULL)
            return false;           /* brackets hold IPv6 only */
    }
    if (len == 0 || len >= sizeof(host))
        return false;
    memcpy(host, t, len);
    host[len] = '\0';
    *v4 = memchr(host, ':', len) == NULL;
    if (*v4) {
        memcpy(out, v4mapped, 12);
        return inet_pton(AF_INET, host, out + 12) == 1;
    }
    return inet_pton(AF_INET6, host, out) == 1;
}

const char *
addr_range(const char *t, size_t len, struct yt_range *out, size_t *bad_off, size_t *bad_len)
{
    const char *slash = memchr(t, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - t) : len;
    uint32_t prefix;
    bool v4 = false, host_bits = false;

    memset(out, 0, sizeof(*out));
    *bad_off = 0;
    *bad_len = alen;
    if (!range_addr(t, alen, out->addr, &v4))
        return "invalid source range; use A.B.C.D/N, IPv6/N or a single address";
    if (slash == NULL) {
        prefix = v4 ? 32 : 128;
    } else {
        *bad_off = alen + 1;
        *bad_len = len - alen - 1;
        if (*bad_len == 0)
            *bad_off = alen, *bad_len = 1;
        if (len - alen - 1 > 1 && slash[1] == '0')
            return "prefix length is written without leading zeros";
        if (!value_u32(slash + 1, len - alen - 1, &prefix) || prefix > (v4 ? 32u : 128u))
            return v4 ? "prefix length must be a number from 0 to 32"
                      : "prefix length must be a number from 0 to 128";
    }
    /* An IPv4 range, or an IPv4-mapped one written as IPv6, is stored mapped. */
    if (v4)
        prefix += 96;
    out->prefix = (uint8_t)prefix;
    for (unsigned bit = prefix; bit < 128; bit++) {
        uint8_t mask = (uint8_t)(0x80u >> (bit % 8));

        host_bits = host_bits || (out->addr[bit / 8] & mask);
        out->addr[bit / 8] &= (uint8_t)~mask;
    }
    *bad_off = 0;
    *bad_len = len;
    return host_bits ? addr_range_host_bits : NULL;
}

char *
addr_range_text(const struct yt_range *r, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    bool v4 = r->prefix >= 96 && memcmp(r->addr, v4mapped, 12) == 0;
    unsigned prefix = v4 ? r->prefix - 96u : r->prefix;

    inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? r->addr + 12 : r->addr, host, sizeof(host));
    if (prefix == (v4 ? 32u : 128u))
        snprintf(out, cap, "%s", host);
    else
        snprintf(out, cap, "%s/%u", host, prefix);
    return out;
}
