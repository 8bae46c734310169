/* Addresses as the language writes them: backends ("[2001:db8::1]:443", IPv6 only) and
 * listen addresses (":443", "*:443", "0.0.0.0:80", "[::1]:80"). Pure: text in, a socket
 * address or the reason and the span at fault out. */
#ifndef COMPILER_ADDR_H
#define COMPILER_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "table.h"

/* Parses "[2001:db8::1]:443" into a connectable address. Returns NULL, or why not, with
 * *bad_off / *bad_len the span of text at fault. */
const char *addr_server(const char *text, size_t len, struct sockaddr_in6 *out,
                        size_t *bad_off, size_t *bad_len);

/* Parses a listen address (":443", "*:443", "0.0.0.0:80", "127.0.0.1:80", "[::1]:80").
 * Returns NULL, or why not, with the span at fault. */
const char *addr_bind(const char *text, size_t len, struct yt_bind *out, size_t *bad_off,
                      size_t *bad_len);

/* Parses a destination ("127.0.0.1:514", "[::1]:514"), IPv4 or IPv6, for connect().
 * Returns NULL, or why not, with the span at fault. */
const char *addr_dest(const char *text, size_t len, union yt_addr *out, size_t *bad_off,
                      size_t *bad_len);
/* Parses a source range of accept-proxy: "10.0.0.0/8", "127.0.0.1", "2001:db8::/32",
 * "::1", "[2001:db8::1]", "[2001:db8::]/32" (a single address is /32 or /128). IPv4 (and
 * IPv4-mapped IPv6) ranges are kept IPv4-mapped, as struct yt_range says. Returns NULL, or
 * why not, with the span at fault; host bits set past the prefix are refused, and *out
 * then holds the range with them cleared (for the message). */
const char *addr_range(const char *text, size_t len, struct yt_range *out, size_t *bad_off,
                       size_t *bad_len);
/* What addr_range() returns for host bits set (the range is valid otherwise). */
extern const char addr_range_host_bits[];

/* Writes r as the canonical form prints it ("10.0.0.0/8", "::1"), NUL-terminated, into
 * out[0 .. cap) (ADDR_RANGE_TEXT_MAX is enough). Returns out. */
#define ADDR_RANGE_TEXT_MAX (INET6_ADDRSTRLEN + 4)
char *addr_range_text(const struct yt_range *r, char *out, size_t cap);

/* Whether two listen addresses cannot both be bound: the same port on the same address,
 * or on a wildcard covering the other (":443" covers IPv4 too). */
bool addr_binds_overlap(const struct yt_bind *a, const struct yt_bind *b);

#endif
