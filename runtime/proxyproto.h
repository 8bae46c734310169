/* PROXY protocol headers (haproxy.org/download/2.9/doc/proxy-protocol.txt), built from the
 * client's and the proxy's addresses. Pure: bytes out, no I/O. */
#ifndef RUNTIME_PROXYPROTO_H
#define RUNTIME_PROXYPROTO_H

#include <stddef.h>
#include <sys/socket.h>

#define PP_V1_MAX 107   /* longest v1 line, CRLF included (spec §2.1) */
#define PP_V2_MAX 52    /* 16-byte fixed part + 36 bytes of TCP over IPv6 addresses, §2.2 */
#define PP_MAX PP_V1_MAX

/* Writes a PROXY header describing a TCP connection from src (the client) to dst (the
 * address it connected to) into out[0 .. cap). Borrows src and dst (AF_INET or AF_INET6).
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4: when both ends are IPv4 the
 * header says TCP4 / AF_INET, otherwise TCP6 / AF_INET6 with IPv4 ends written mapped.
 * Returns the header length, or 0 when cap is too small or a family is unsupported. */
size_t pp_build_v1(const struct sockaddr *src, const struct sockaddr *dst, char *out,
                   size_t cap);
size_t pp_build_v2(const struct sockaddr *src, const struct sockaddr *dst, void *out,
                   size_t cap);

#endif
