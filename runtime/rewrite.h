/* What the proxy makes of a head it forwards, in place: the hop-by-hop fields go
 * (hh_strip_hop()) and the proxy's own go before the final CRLF. Pure: functions of bytes
 * only, like httphead.c, which parses what they rewrite. */
#ifndef RUNTIME_REWRITE_H
#define RUNTIME_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httphead.h"

enum {
    HH_STRIP_FORWARDED = 1u << 0,   /* also X-Forwarded-For, X-Forwarded-Proto, Forwarded */
    HH_STRIP_KEEP_UPGRADE = 1u << 1 /* keep Upgrade: an upgrade is being allowed */
};

/* Removes in place, from the head h[0..len) that hh_parse_request() or hh_parse_response()
 * accepted and described in *hop (same bytes), every hop-by-hop field line: Connection and
 * the fields its options name, Keep-Alive, Proxy-Connection, TE, and Upgrade unless flags
 * has HH_STRIP_KEEP_UPGRADE; with HH_STRIP_FORWARDED, X-Forwarded-For, X-Forwarded-Proto and
 * Forwarded; every Content-Length line when hop->cl_normalise and every Transfer-Encoding
 * line when hop->te_normalise (the caller sends one of its own). Host, Content-Length and
 * Transfer-Encoding are never removed for being named by Connection. Other lines keep their
 * bytes and order. Borrows h and hop. Returns the new length (<= len): the head still ends
 * with CRLF CRLF, and what the caller adds goes before its last CRLF. */
size_t hh_strip_hop(uint8_t *h, size_t len, const struct hh_hop *hop, unsigned flags);

#define RW_REQUEST_ADD_MAX 256      /* what rw_request_fields() may write, at most */
#define RW_RESPONSE_ADD_MAX 64      /* what rw_response() adds, at most */

struct rw_request_opts {
    bool upgrade;                   /* the upgrade is let through: Upgrade stays, and
                                     * "Connection: Upgrade" goes with it */
    bool close_stripped;            /* the client's "close" is not passed on (the server
                                     * connection may outlive the client's) */
    const char *forwarded_for;      /* the client's address for X-Forwarded-For (and
                                     * X-Forwarded-Proto: http, in place of any the client
                                     * sent), or NULL */
};

/* Writes to add[0 .. cap) the field lines the proxy adds to request r: exactly one
 * Content-Length or "Transfer-Encoding: chunked" when the client's were repeated or spelled
 * otherwise, the Connection option the proxy means (upgrade; keep-alive for HTTP/1.0; close
 * when a client that closes cannot leave the server connection for another), and the
 * X-Forwarded-* of o. A line that does not fit is left out. Returns the length written. */
size_t rw_request_fields(const struct hh_request *r, const struct rw_request_opts *o,
                         char *add, size_t cap);

/* Rewrites the request head h[0 .. r->head_len) that hh_parse_request() described in *r
 * (same bytes): strips it and puts add[0 .. n) (rw_request_fields()) before its final CRLF.
 * The tail bytes after the head move along; room bytes are free after them. Returns the
 * head's new length; *added says whether add found room (if not, the head is not to be
 * sent: never less than the proxy means). Added after the strip, nothing the client's
 * Connection names can remove the proxy's fields. */
size_t rw_request(uint8_t *h, size_t tail, size_t room, const struct hh_request *r,
                  const struct rw_request_opts *o, const char *add, size_t n, bool *added);

/* Rewrites the response head h[0 .. rs->head_len) as rw_request() does (tail, room): the
 * hop-by-hop fields go, one Content-Length stays if the server repeated it, and the
 * Connection the proxy means is added: Upgrade after a 101, close when keep is false (the
 * client connection ends after this response), keep-alive when it stays and http10 (the
 * client or the server speaks HTTP/1.0). Returns the head's new length; *added says
 * whether what it adds found room. */
size_t rw_response(uint8_t *h, size_t tail, size_t room, const struct hh_response *rs,
                   bool keep, bool http10, bool *added);

#endif
