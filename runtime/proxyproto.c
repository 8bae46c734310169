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
    static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                     0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
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
    memcpy(p, sig, 12);
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
