#ifndef RUNTIME_HTTPHEAD_H
#define RUNTIME_HTTPHEAD_H

/* HTTP/1.x message heads and chunked bodies, strictly per RFC 9112 and RFC 9110.
 *
 * Pure functions of bytes: no I/O, no allocation, no state between calls except the chunked
 * scanner's, which the caller owns. Every function borrows data[0..len) for the call only and
 * never reads past it. The connection re-parses its whole buffer after each read.
 *
 * Decided edge cases (the runtime relies on them):
 * - Line terminators are CRLF only. A bare LF (RFC 9112 §2.2 lets recipients accept it) and a
 *   CR not followed by LF are rejected, so no two parsers can split this head differently.
 * - Empty lines before a request line are skipped (RFC 9112 §2.2); method.off is then > 0.
 * - obs-fold and whitespace before the first field line are rejected (RFC 9112 §5.2, §2.2).
 * - Content_Length and Transfer_Encoding are rejected: gateways that map field names to
 *   variables (CGI and its heirs) read '_' as '-', and would frame the body differently.
 * - Content-Length: 1*DIGIT, no sign, no leading zero (except "0" itself, so that no backend
 *   can read it as octal), at most INT64_MAX. Repeated fields and comma lists are accepted
 *   when every value is the same (RFC 9110 §8.6), and flagged (hop.cl_normalise) so that
 *   exactly one Content-Length goes on; differing values are rejected.
 * - Transfer-Encoding: a list of codings (tokens) without parameters; chunked at most once.
 *   In a request chunked must be final (else 400) and must be the only coding: any other is
 *   501 (RFC 9112 §6.1; the proxy forwards no request body but one chunked coding, the only
 *   coding every recipient must know); a request whose field is not exactly
 *   "Transfer-Encoding: chunked" is flagged (hop.te_normalise). In a response a final coding
 *   other than chunked means the body runs until close (RFC 9112 §6.3); codings are passed
 *   through. Transfer-Encoding in an HTTP/1.0 message and
 *   Transfer-Encoding with Content-Length are rejected in both directions (RFC 9112 §6.3
 *   lets a recipient reject them; dropping the Content-Length would hide a smuggling try).
 * - Chunk sizes: at most 8 hex digits, leading zeros included, and below 2^31, so that every
 *   recipient, even one that reads a signed 32-bit number or a fixed number of digits, frames
 *   the body as we do. A chunk is thus at most 2 GiB - 1; nobody sends larger ones.
 * - Hop-by-hop fields (RFC 9110 §7.6.1): Connection, the fields its options name, Keep-Alive,
 *   Proxy-Connection, TE and Upgrade are noted in struct hh_hop, so that hh_strip_hop() can
 *   remove them before the head goes on. A Connection option naming Host, Content-Length or
 *   Transfer-Encoding is ignored: the framing the proxy used is the framing it forwards. More
 *   than HH_CONN_OPTS_MAX other options, or more than HH_CONN_OPTS_BYTES bytes of them, are
 *   refused (HH_ERR_CONNECTION): no client needs that many.
 * - Upgrade: a request upgrades (upgrade = true) only in HTTP/1.1, with "upgrade" among the
 *   Connection options and one Upgrade field whose value is exactly "websocket" (any case);
 *   any other protocol (h2c ...) is a plain request once its Upgrade field is stripped.
 * - A request line that does not end within max_head bytes is HH_ERR_REQUEST_LINE_TOO_LONG
 *   (414, RFC 9112 §3); a longer head whose request line ended is HH_ERR_HEAD_TOO_LARGE (431).
 * - Host: one at most; in HTTP/1.1 exactly one. Its value is reg-name (letters, digits, '-',
 *   '.', '_'), an IPv4 address or an IPv6 literal in brackets, then an optional ":port" of
 *   1 to 5 digits <= 65535. No userinfo, no comma, no percent-encoding. An empty value is
 *   valid (RFC 9110 §7.2) and gives host_len 0, as does HTTP/1.0 without Host or an
 *   absolute-form target.
 * - Absolute-form targets (http:// and https:// only) must name the same normalised host as
 *   the Host field; HTTP/1.0 without Host takes its host from the target.
 * - HTTP versions other than 1.0 and 1.1 (HTTP/1.2, HTTP/2.0, ...) are 505; a malformed
 *   version is 400.
 * - Lexical errors are reported as soon as their byte is seen; a field's meaning (Host,
 *   Content-Length ...) is checked once its line is complete; rules about the whole head
 *   (missing Host, Content-Length with Transfer-Encoding) once the head is complete. An
 *   error seen in a prefix is therefore the same error for any longer input.
 * - CONNECT is parsed (authority-form target) and reported with is_connect; the runtime
 *   refuses it with 501 Not Implemented, since it does not tunnel for clients (405 would
 *   claim that other methods are allowed on that resource and require an Allow field).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

/* Longest normalised host, without the NUL that follows it in hh_request.host. */
#define HH_HOST_MAX 255
/* Bytes allowed between a chunk-size and its CRLF (whitespace and chunk extensions). */
#define HH_CHUNK_EXT_MAX 1024
/* Bytes allowed in the trailer section, including the final empty line. */
#define HH_TRAILER_MAX 8192
/* Connection options that name other fields: at most this many, of this many bytes in all. */
#define HH_CONN_OPTS_MAX 8
#define HH_CONN_OPTS_BYTES 256
/* Largest chunk-size: 8 hex digits, below 2^31. */
#define HH_CHUNK_DIGITS_MAX 8
#define HH_CHUNK_SIZE_MAX UINT64_C(0x7fffffff)

enum hh_result {
    HH_OK = 0,
    HH_NEED_MORE,                   /* a strict prefix of a valid message: read more */
    HH_ERR_HEAD_TOO_LARGE,          /* no complete head within max_head bytes */
    HH_ERR_REQUEST_LINE_TOO_LONG,   /* ... nor a complete request line */
    HH_ERR_BARE_CR,                 /* CR not followed by LF */
    HH_ERR_BARE_LF,                 /* LF not preceded by CR */
    HH_ERR_METHOD,                  /* empty method or a byte outside tchar */
    HH_ERR_REQUEST_LINE,            /* separators other than single SP, missing part */
    HH_ERR_TARGET,                  /* target byte, percent-encoding or form invalid */
    HH_ERR_VERSION,                 /* not HTTP/DIGIT.DIGIT */
    HH_ERR_VERSION_UNSUPPORTED,     /* well formed, but neither HTTP/1.0 nor HTTP/1.1 */
    HH_ERR_STATUS_LINE,             /* response: malformed status line */
    HH_ERR_STATUS,                  /* response: status code outside 100..599 */
    HH_ERR_OBS_FOLD,                /* field line starts with SP or HTAB */
    HH_ERR_FIELD_NAME_EMPTY,        /* field line starts with ':' */
    HH_ERR_FIELD_NAME,              /* byte outside tchar in a field name */
    HH_ERR_FIELD_NAME_SPACE,        /* whitespace in a field name or before its colon */
    HH_ERR_FIELD_NO_COLON,          /* field line without ':' */
    HH_ERR_FIELD_VALUE,             /* control byte (other than HTAB) in a field value */
    HH_ERR_FIELD_LOOKALIKE,         /* Content_Length or Transfer_Encoding: '_' for '-' */
    HH_ERR_HOST_MISSING,            /* HTTP/1.1 request without Host */
    HH_ERR_HOST_REPEATED,           /* more than one Host field */
    HH_ERR_HOST_INVALID,            /* Host value is not host[:port] */
    HH_ERR_HOST_PORT,               /* Host port empty, not digits, or > 65535 */
    HH_ERR_HOST_TOO_LONG,           /* normalised Host longer than HH_HOST_MAX */
    HH_ERR_HOST_MISMATCH,           /* absolute-form authority differs from Host */
    HH_ERR_CONTENT_LENGTH,          /* Content-Length not a valid decimal */
    HH_ERR_CONTENT_LENGTH_CONFLICT, /* several different Content-Length values */
    HH_ERR_CL_AND_TE,               /* Content-Length together with Transfer-Encoding */
    HH_ERR_TE_INVALID,              /* Transfer-Encoding list malformed or with parameters */
    HH_ERR_TE_HTTP10,               /* Transfer-Encoding in an HTTP/1.0 message */
    HH_ERR_TE_NOT_CHUNKED,          /* request: final transfer coding is not chunked */
    HH_ERR_TE_CHUNKED_REPEATED,     /* chunked applied more than once */
    HH_ERR_TE_UNKNOWN,              /* request: a transfer coding other than chunked */
    HH_ERR_CONNECTION,              /* too many Connection options naming fields */
    HH_ERR_CHUNK_SIZE,              /* chunk-size missing or not hex */
    HH_ERR_CHUNK_SIZE_OVERFLOW,     /* chunk-size over 8 hex digits, or 2^31 or more */
    HH_ERR_CHUNK_EXT,               /* malformed chunk extension */
    HH_ERR_CHUNK_EXT_TOO_LONG,      /* more than HH_CHUNK_EXT_MAX bytes after a chunk-size */
    HH_ERR_CHUNK_CRLF,              /* chunk data not followed by CRLF */
    HH_ERR_TRAILER_TOO_LARGE        /* trailer section longer than HH_TRAILER_MAX */
};

/* How the message body is delimited (RFC 9112 §6.3). */
enum hh_body {
    HH_BODY_NONE = 0,               /* no body (also Content-Length: 0) */
    HH_BODY_LENGTH,                 /* content_length bytes, > 0 */
    HH_BODY_CHUNKED,                /* chunked: frame it with hh_chunked_scan() */
    HH_BODY_CLOSE,                  /* response only: until the server closes */
    HH_BODY_TUNNEL                  /* response 101: both directions become opaque bytes */
};

enum hh_target {
    HH_TARGET_ORIGIN = 0,           /* /path?query */
    HH_TARGET_ABSOLUTE,             /* http://authority/path?query */
    HH_TARGET_AUTHORITY,            /* host:port, CONNECT only */
    HH_TARGET_ASTERISK              /* "*", OPTIONS only */
};

/* What a head holds that must not go on as sent (RFC 9110 §7.6.1, §8.6): see hh_strip_hop()
 * (rewrite.h). Offsets are into the parsed bytes. */
struct hh_hop {
    bool hop;                       /* a hop-by-hop field line is present */
    bool forwarded;                 /* X-Forwarded-For, X-Forwarded-Proto or Forwarded */
    bool cl_normalise;              /* Content-Length repeated or a list: send one */
    bool te_normalise;              /* request: Transfer-Encoding other than "chunked" */
    bool upgrade_websocket;         /* one Upgrade field, exactly "websocket" */
    uint32_t opt_count;             /* Connection options naming other fields */
    struct span opt[HH_CONN_OPTS_MAX];
};

struct hh_request {
    size_t head_len;                /* bytes of the head including the final CRLF CRLF;
                                       the last field line ends at head_len - 2, where a
                                       field such as X-Forwarded-For can be inserted */
    struct span method, target;     /* into data */
    struct span path;               /* path and query: the target in origin-form, what
                                       follows the authority in absolute-form (may be empty),
                                       empty for authority- and asterisk-form */
    enum hh_target form;
    int version_minor;              /* 0 or 1: HTTP/1.0, HTTP/1.1 */
    enum hh_body body;              /* NONE, LENGTH or CHUNKED */
    uint64_t content_length;        /* when body is HH_BODY_LENGTH */
    bool keep_alive;                /* RFC 9112 §9.3: 1.1 unless "close", 1.0 needs
                                       "keep-alive" (and no "close") */
    bool expect_continue;           /* HTTP/1.1 with Expect: 100-continue */
    bool upgrade;                   /* HTTP/1.1, Connection: upgrade, Upgrade: websocket */
    bool is_connect, is_head;       /* method is CONNECT, HEAD (methods are case-sensitive) */
    char host[HH_HOST_MAX + 1];     /* normalised, NUL-terminated: lowercase, port removed
                                       ("[v6]:port" keeps "[v6]"), one trailing dot removed */
    size_t host_len;                /* 0: no host (empty Host, or HTTP/1.0 without one) */
    struct span host_raw;           /* the Host value as sent, OWS trimmed; the authority of
                                       the target when an HTTP/1.0 request has no Host */
    struct hh_hop hop;
};

/* Parses the request head at the start of data[0..len); borrows data for the call, fills *req
 * (spans point into data). The head must end within the first max_head bytes.
 * HH_OK: *req describes the head, data[head_len..len) is body or next request.
 * HH_NEED_MORE: data is a strict prefix of a head that may still be valid; *req is unspecified.
 * HH_ERR_HEAD_TOO_LARGE: len > max_head and no head ends within max_head bytes.
 * HH_ERR_*: the head is invalid whatever follows; hh_result_status() gives the answer. */
enum hh_result hh_parse_request(const uint8_t *data, size_t len, size_t max_head,
                                struct hh_request *req);

/* A head that arrives in pieces: the gated parsers parse once its first line (request or
 * status line) has ended, so that another protocol is answered at once, then only once an
 * empty line has come. A head trickling in a byte at a time is parsed twice, not once per
 * byte. Zero it for each new head. */
struct hh_gate {
    uint32_t seen;                  /* bytes looked at, no end of head among them */
    bool text;                      /* a byte of the first line is among them */
    bool line_ok;                   /* the first line ended and passed */
    uint32_t parses;                /* parses made for this head */
};

/* As hh_parse_request(), with HH_NEED_MORE and no parse when data[g->seen..len) can neither
 * end the head nor end its request line (g remembers where it stands). The result is the
 * one hh_parse_request() gives, except that a fault in a field line is found only once the
 * head has ended or reached max_head (then HH_ERR_HEAD_TOO_LARGE, as for any long head). */
enum hh_result hh_parse_request_gated(struct hh_gate *g, const uint8_t *data, size_t len,
                                      size_t max_head, struct hh_request *req);

/* The error for a request head that g has seen reach max_head bytes without ending (the
 * caller's buffer is full): HH_ERR_REQUEST_LINE_TOO_LONG while the request line has not
 * ended, else HH_ERR_HEAD_TOO_LARGE. */
enum hh_result hh_head_too_large(const struct hh_gate *g);

struct hh_response {
    size_t head_len;                /* bytes of the head including the final CRLF CRLF */
    int status;                     /* 100..599 */
    int version_minor;              /* 0 or 1 */
    enum hh_body body;
    uint64_t content_length;        /* the Content-Length value if any, even when body is
                                       NONE (HEAD, 1xx, 204, 304) */
    bool keep_alive;                /* false when the body runs until close or is a tunnel */
    struct hh_hop hop;
};

/* Parses the response head at the start of data[0..len), as hh_parse_request() does.
 * request_was_head: the request was HEAD, so the response has no body. Framing per RFC 9112
 * §6.3: HEAD, 1xx, 204 and 304 have none; 101 is HH_BODY_TUNNEL (the caller checks that the
 * request asked for an upgrade); another 1xx is interim, a final response follows at
 * head_len. A 2xx answer to CONNECT is not handled: CONNECT is never forwarded.
 * HH_ERR_*: the runtime answers 502 whatever the code. */
enum hh_result hh_parse_response(const uint8_t *data, size_t len, size_t max_head,
                                 bool request_was_head, struct hh_response *resp);

/* As hh_parse_response(), gated as hh_parse_request_gated() is. */
enum hh_result hh_parse_response_gated(struct hh_gate *g, const uint8_t *data, size_t len,
                                       size_t max_head, bool request_was_head,
                                       struct hh_response *resp);

/* Where the chunked scanner stands; the members are private to httphead.c. */
enum hh_chunked_state {
    HH_CHUNKED_SIZE = 0,
    HH_CHUNKED_SIZE_MORE,
    HH_CHUNKED_EXT_SEMI,
    HH_CHUNKED_EXT_NAME0,
    HH_CHUNKED_EXT_NAME,
    HH_CHUNKED_EXT_EQ,
    HH_CHUNKED_EXT_VAL0,
    HH_CHUNKED_EXT_TOKEN,
    HH_CHUNKED_EXT_QUOTED,
    HH_CHUNKED_EXT_QPAIR,
    HH_CHUNKED_EXT_AFTER,
    HH_CHUNKED_SIZE_LF,
    HH_CHUNKED_DATA,
    HH_CHUNKED_DATA_CR,
    HH_CHUNKED_DATA_LF,
    HH_CHUNKED_TRAILER,
    HH_CHUNKED_TRAILER_NAME,
    HH_CHUNKED_TRAILER_NAME_LF,
    HH_CHUNKED_TRAILER_VALUE,
    HH_CHUNKED_TRAILER_LF,
    HH_CHUNKED_END_LF,
    HH_CHUNKED_DONE,
    HH_CHUNKED_FAILED
};

struct hh_chunked {
    uint64_t remaining;             /* chunk-size being read, then data bytes left */
    uint32_t line_len;              /* bytes after the chunk-size, or of the trailer section */
    uint32_t digits;                /* hex digits of the chunk-size so far */
    enum hh_chunked_state state;
    enum hh_result error;           /* once state is HH_CHUNKED_FAILED */
};

/* Prepares *s for the first byte of a chunked body. */
void hh_chunked_init(struct hh_chunked *s);

/* Walks data[0..len), the next bytes of a chunked body (RFC 9112 §7.1); borrows data, never
 * copies it. Chunk extensions are checked and skipped; trailer fields are checked.
 * HH_OK: the body ends (last chunk, trailers and final CRLF) at *used <= len; the bytes after
 * it belong to the next message. hh_chunked_is_done() is then true and later calls return
 * HH_OK with *used = 0.
 * HH_NEED_MORE: all of data belongs to the body (*used = len) and more is expected.
 * HH_ERR_CHUNK_*, HH_ERR_TRAILER_TOO_LARGE, HH_ERR_BARE_CR, HH_ERR_BARE_LF,
 * HH_ERR_OBS_FOLD, HH_ERR_FIELD_*: *used is the offset of the offending byte; later calls
 * return the same error with *used = 0. */
enum hh_result hh_chunked_scan(struct hh_chunked *s, const uint8_t *data, size_t len,
                               size_t *used);

/* True once the final CRLF of the body has been scanned. */
bool hh_chunked_is_done(const struct hh_chunked *s);

/* A short kebab-case token naming r, for logs ("bare-lf"); never NULL. */
const char *hh_result_str(enum hh_result r);

/* The status to answer a client whose request failed with r: 431 for HH_ERR_HEAD_TOO_LARGE,
 * 414 for HH_ERR_REQUEST_LINE_TOO_LONG, 505 for HH_ERR_VERSION_UNSUPPORTED, 501 for HH_ERR_TE_UNKNOWN, 400 for every other error
 * (chunked body errors included); 0 for HH_OK and HH_NEED_MORE, which need no answer. */
int hh_result_status(enum hh_result r);

#endif
