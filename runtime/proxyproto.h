/* PROXY protocol headers (haproxy.org/download/2.9/doc/proxy-protocol.txt): built from the
 * client's and the proxy's addresses for a server, and read from a balancer in front.
 * Pure: bytes in or out, no I/O, no allocation, no globals. */
#ifndef RUNTIME_PROXYPROTO_H
#define RUNTIME_PROXYPROTO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PP_V1_MAX 107   /* longest v1 line, CRLF included (spec §2.1) */
#define PP_V2_MAX 52    /* 16-byte fixed part + 36 bytes of TCP over IPv6 addresses, §2.2 */
#define PP_MAX PP_V1_MAX
/* Longest v2 header read: the 16-byte fixed part and at most 2 KiB of addresses and TLVs
 * (balancers add a few dozen bytes of TLVs: ids of the endpoint, the TLS name ...). */
#define PP_V2_RECV_MAX (16 + 2048)
#define PP_RECV_MAX PP_V2_RECV_MAX

/* Writes a PROXY header describing a TCP connection from src (the client) to dst (the
 * address it connected to) into out[0 .. cap). Borrows src and dst (AF_INET or AF_INET6).
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4: when both ends are IPv4 the
 * header says TCP4 / AF_INET, otherwise TCP6 / AF_INET6 with IPv4 ends written mapped.
 * Returns the header length, or 0 when cap is too small or a family is unsupported. */
size_t pp_build_v1(const struct sockaddr *src, const struct sockaddr *dst, char *out,
                   size_t cap);
size_t pp_build_v2(const struct sockaddr *src, const struct sockaddr *dst, void *out,
                   size_t cap);

/* What a received header says. */
enum pp_result {
    PP_NEED_MORE = 0,       /* a strict prefix of a header (or of its signature): read more */
    PP_NONE,                /* the bytes do not start with a PROXY signature */
    PP_OK,                  /* a whole header, described in struct pp_header */
    PP_ERR_V1_SYNTAX,       /* v1: not "PROXY TCP4|TCP6|UNKNOWN ..." with single spaces */
    PP_ERR_V1_ADDRESS,      /* v1: an address that is not one of the protocol's family */
    PP_ERR_V1_PORT,         /* v1: a port that is not 0 .. 65535 without leading zeros */
    PP_ERR_V1_TOO_LONG,     /* v1: no CRLF within PP_V1_MAX bytes */
    PP_ERR_V2_VERSION,      /* v2: version is not 2 */
    PP_ERR_V2_COMMAND,      /* v2: command is neither LOCAL nor PROXY */
    PP_ERR_V2_FAMILY,       /* v2: an address family or transport we do not carry */
    PP_ERR_V2_LENGTH,       /* v2: longer than PP_V2_RECV_MAX, or short for its addresses */
    PP_ERR_V2_TLV,          /* v2: TLVs that do not exactly fill what follows the addresses */
    PP_RESULT_COUNT
};

union pp_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

struct pp_header {
    size_t len;             /* bytes of the header: what follows is the client's own */
    uint8_t version;        /* 1 or 2 */
    /* The header carries no client: a v2 LOCAL command (a balancer's own health check),
     * v1 UNKNOWN, or a v2 family without TCP addresses (AF_UNSPEC, AF_UNIX). The
     * connection's own addresses stand (spec §2.1, §2.2). src and dst are zeroed. */
    bool local;
    union pp_addr src, dst; /* otherwise: AF_INET or AF_INET6 (v1 TCP6 and v2 AF_INET6 keep
                             * an IPv4-mapped address as it came), ports in network order */
};

/* Reads a PROXY header, v1 or v2, at the start of data[0 .. len) (borrowed; never read past
 * len). PP_NEED_MORE: every byte so far fits a header (or its signature) that is not
 * whole yet. PP_NONE: the first bytes are no signature (a ClientHello, a request line).
 * PP_OK: *h describes the header and h->len its length. PP_ERR_*: why the bytes are no
 * valid header; nothing is known about what follows. Refused: v1 with anything but one
 * space between fields, addresses not of the protocol's family (inet_pton's strict forms:
 * no leading zeros in IPv4), ports with leading zeros or above 65535, no CRLF within
 * PP_V1_MAX bytes; v2 of another version, command, a datagram transport, a length above
 * PP_V2_RECV_MAX or below its family's addresses, TLVs that overrun or leave bytes. */
enum pp_result pp_parse(const uint8_t *data, size_t len, struct pp_header *h);

/* A short name for a result, for log lines ("proxy-v1-syntax" ...). */
const char *pp_result_str(enum pp_result r);

#endif
