#ifndef RUNTIME_QUIC_H
#define RUNTIME_QUIC_H

/* The client's first flight of a QUIC connection, read far enough to route it by SNI:
 * version 1 (RFC 9000, RFC 9001) and version 2 (RFC 9369).
 *
 * Pure: no sockets, no libev, no logging, no globals; libcrypto does the cryptography
 * (HKDF-SHA256, AES-128-ECB for header protection, AES-128-GCM for the payload). The caller
 * owns one struct quic_flow per client flow whose server is not chosen yet and feeds it
 * the flow's datagrams as they come; the flow's memory is fixed, nothing is allocated by
 * this module (libcrypto allocates its contexts during a call and frees them before it
 * returns).
 *
 * Decided edge cases:
 * - The Initial keys come from the Destination Connection ID of the first Initial packet
 *   accepted (RFC 9001 §5.2); until the server answers, a client keeps that DCID and its
 *   version (RFC 9000 §7.2), so a later packet with another DCID or version belongs to
 *   another connection and its datagram is refused (QUIC_ERR_OTHER_CONNECTION).
 * - A datagram whose first packet is an Initial must be at least 1200 bytes (RFC 9000
 *   §14.1); the first Initial's DCID at least 8 bytes (RFC 9000 §7.2); no CID above 20.
 * - Coalesced packets (RFC 9000 §12.2): every Initial in the datagram is read; 0-RTT and
 *   Handshake packets are skipped by their Length; packets with another DCID are skipped;
 *   an unparsable or undecryptable packet after the first ends the walk without changing
 *   the verdict of those before it. A Retry or a short-header packet ends the walk too
 *   (neither has a Length to skip by).
 * - The fixed bit is not checked: a client may grease it (RFC 9287 §3).
 * - Frames allowed in an Initial (RFC 9000 §12.4, Table 3): PADDING, PING, ACK, CRYPTO and
 *   CONNECTION_CLOSE of type 0x1c. Any other type, a frame type not in its shortest
 *   encoding, a frame that runs past the payload, or an empty payload is QUIC_ERR_FRAME.
 *   CONNECTION_CLOSE is QUIC_ERR_CLOSED: the client gave up.
 * - CRYPTO data is reassembled by offset: any order, any overlap, across packets and
 *   datagrams. Bytes received twice must be equal (QUIC_ERR_CRYPTO_CONFLICT). The stream
 *   must hold only the ClientHello: bytes past QUIC_CRYPTO_MAX, or past the end the
 *   hello's handshake header declares, are QUIC_ERR_CRYPTO_OVERFLOW.
 * - The ClientHello goes to sni_parse_message() (runtime/sni.c), the parser layer 4 uses,
 *   each time its contiguous prefix grows: an error there is final at once.
 * - Reserved header bits that are not zero once protection is removed are a
 *   PROTOCOL_VIOLATION (RFC 9000 §17.2): QUIC_ERR_RESERVED_BITS.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sni.h"

#define QUIC_VERSION_1 0x00000001u
#define QUIC_VERSION_2 0x6b3343cfu
/* RFC 9000 §14.1: a client pads every datagram that carries an Initial to this size. */
#define QUIC_INITIAL_DATAGRAM_MIN 1200
/* RFC 9000 §17.2: longest connection ID of versions 1 and 2. */
#define QUIC_CID_MAX 20
/* RFC 9000 §7.2: a client's first DCID is at least this long. */
#define QUIC_INITIAL_DCID_MIN 8
/* The CRYPTO stream holds the ClientHello alone: its handshake header and body. */
#define QUIC_CRYPTO_MAX (4 + SNI_HELLO_MAX)

enum quic_result {
    QUIC_FOUND = 0,             /* ClientHello complete, with a host name: see quic_feed() */
    QUIC_NEED_MORE,             /* no verdict yet: feed the flow's next datagram */
    QUIC_NO_SNI,                /* ClientHello complete and valid, without server_name */
    /* The datagram is refused; the flow's state is as it was before the call. */
    QUIC_ERR_NOT_LONG_HEADER,   /* empty, or a short-header packet (first bit 0) */
    QUIC_ERR_VERSION,           /* neither version 1 nor 2 (0 is Version Negotiation) */
    QUIC_ERR_NOT_INITIAL,       /* first packet is 0-RTT, Handshake or Retry */
    QUIC_ERR_SHORT_DATAGRAM,    /* carries an Initial in fewer than 1200 bytes */
    QUIC_ERR_HEADER,            /* long header cut short: CID lengths, token length */
    QUIC_ERR_CID,               /* a CID over 20 bytes, or a first DCID under 8 */
    QUIC_ERR_LENGTH,            /* Length past the datagram or too short to sample */
    QUIC_ERR_OTHER_CONNECTION,  /* DCID or version differs from the flow's */
    QUIC_ERR_DECRYPT,           /* the AEAD tag does not match */
    QUIC_ERR_CRYPTO_LIB,        /* libcrypto failed (out of memory) */
    /* Final: the flow is refused; later calls return the same result. */
    QUIC_ERR_RESERVED_BITS,     /* reserved header bits not zero after unprotection */
    QUIC_ERR_FRAME,             /* frame type not allowed in an Initial, or malformed */
    QUIC_ERR_CLOSED,            /* the client sent CONNECTION_CLOSE */
    QUIC_ERR_CRYPTO_OVERFLOW,   /* CRYPTO data past QUIC_CRYPTO_MAX or past the hello */
    QUIC_ERR_CRYPTO_CONFLICT,   /* CRYPTO bytes sent twice with different values */
    QUIC_ERR_HELLO              /* the ClientHello parser refused it: see quic_flow.sni */
};

/* Packet protection keys of one direction (RFC 9001 §5.1): AES-128-GCM key and IV,
 * AES-128 header protection key. */
struct quic_keys {
    uint8_t key[16];
    uint8_t iv[12];
    uint8_t hp[16];
};

struct quic_cid {
    uint8_t len;
    uint8_t id[QUIC_CID_MAX];
};

/* One client flow before its server is chosen. Zero it (or quic_flow_init()) once; the
 * public fields are set as described, the rest is this module's. */
struct quic_flow {
    enum quic_result verdict;   /* QUIC_NEED_MORE until quic_feed() returns a final one */
    uint32_t version;           /* of the first accepted Initial; 0 before */
    struct quic_cid dcid;       /* of the first accepted Initial: the server's routing key */
    struct quic_cid scid;       /* of the first accepted Initial: the client's CID */
    enum sni_result sni;        /* the ClientHello parser's last verdict */
    size_t host_len;            /* on QUIC_FOUND: the host name, as sni_parse() gives it */
    char host[SNI_NAME_MAX + 1];

    /* Private. */
    struct quic_keys keys;      /* client Initial keys, once version is set */
    uint64_t largest_pn;        /* largest Initial packet number accepted */
    uint32_t contiguous;        /* crypto[0 .. contiguous) all received */
    uint32_t end;               /* one past the highest CRYPTO byte received */
    uint8_t crypto[QUIC_CRYPTO_MAX];
    uint8_t have[(QUIC_CRYPTO_MAX + 7) / 8];    /* one bit per crypto byte received */
};

/* Makes f a new flow with no datagram seen. */
void quic_flow_init(struct quic_flow *f);

/* Feeds one datagram of the flow, received from the client. Borrows data[0..len) for the
 * call and never reads past it; keeps nothing of it but the CRYPTO bytes it copies.
 *
 * QUIC_NEED_MORE: the datagram was used (or held nothing new); the hello is not complete.
 * QUIC_FOUND: f->host, f->host_len hold the name (lowercased, no trailing dot, NUL-ended).
 * QUIC_NO_SNI: the hello is complete and valid without server_name.
 * QUIC_ERR_NOT_LONG_HEADER .. QUIC_ERR_CRYPTO_LIB: this datagram is refused and left out;
 * the flow may go on (quic_is_final() is false), e.g. to route by a later datagram.
 * QUIC_ERR_RESERVED_BITS .. QUIC_ERR_HELLO: the flow is refused (for QUIC_ERR_HELLO,
 * f->sni says why).
 * Once the verdict is final (QUIC_FOUND, QUIC_NO_SNI or a final error), later calls return
 * it again without reading data.
 * f->version, f->dcid and f->scid are set by the first Initial packet that decrypts. */
enum quic_result quic_feed(struct quic_flow *f, const uint8_t *data, size_t len);

/* Whether r ends the flow's inspection: found, no SNI, or a final error. */
bool quic_is_final(enum quic_result r);

/* Derives the Initial keys (RFC 9001 §5.2, RFC 9369 §3.3) of version from the client's
 * first DCID, borrowed: the client's keys, or the server's when is_server. Returns 0, or
 * -1 when version is not 1 or 2 or libcrypto fails. */
int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, bool is_server,
                      struct quic_keys *out);

/* Removes header protection from and decrypts the long-header packet pkt[0..pkt_len)
 * whose packet number starts at pkt[pn_off] (RFC 9001 §5.3, §5.4), pkt_len counting the
 * 16-byte tag. Borrows pkt; writes the unprotected header and the plaintext payload to
 * out, which must hold pkt_len - 16 bytes. largest_pn is the largest packet number
 * accepted so far in this space (UINT64_MAX for none), for decoding (RFC 9000 §A.3).
 * Returns the plaintext's length (pkt_len - 16) with *hdr_len the header's and *pn the
 * full packet number; -1 when the packet is too short to sample or does not decrypt;
 * -2 when libcrypto fails. */
long quic_open(const struct quic_keys *k, const uint8_t *pkt, size_t pkt_len, size_t pn_off,
               uint64_t largest_pn, uint8_t *out, size_t *hdr_len, uint64_t *pn);

/* The version and connection IDs of the long-header packet at d[0..len) (RFC 8999 §5.1:
 * the same in every version), borrowed; nothing else is read. Returns 0, or -1 when d is
 * not a long header (first bit 0), is cut short, or has a CID longer than QUIC_CID_MAX. */
int quic_long_header_ids(const uint8_t *d, size_t len, uint32_t *version,
                         struct quic_cid *dcid, struct quic_cid *scid);

/* Longest Version Negotiation packet quic_version_negotiation() writes. */
#define QUIC_VN_MAX (7 + 2 * QUIC_CID_MAX + 8)

/* Writes to out[0..cap) the Version Negotiation packet (RFC 9000 §6, §17.2.1; RFC 8999
 * §6) answering the client datagram d[0..len): the client's CIDs swapped, versions 1 and 2
 * listed. Returns its length, or 0 when none is to be sent: not a long header, version 0
 * (a Version Negotiation itself: never answered), version 1 or 2, unreadable CIDs, a
 * datagram under 1200 bytes (RFC 9000 §6.1: only what may be a first Initial is answered;
 * the answer, at most QUIC_VN_MAX bytes, is then far smaller than what came), or cap
 * under QUIC_VN_MAX. */
size_t quic_version_negotiation(const uint8_t *d, size_t len, uint8_t *out, size_t cap);

/* Short, stable kebab-case token naming r for logs ("need-more", "decrypt"); "unknown" for
 * a value outside the enum. Never NULL; the string is static. */
const char *quic_result_str(enum quic_result r);

#endif
