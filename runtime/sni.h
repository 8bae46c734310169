#ifndef RUNTIME_SNI_H
#define RUNTIME_SNI_H

#include <stddef.h>
#include <stdint.h>

/* Longest host name returned, without the optional trailing dot (RFC 1035 §2.3.4). */
#define SNI_NAME_MAX 253
/* Largest ClientHello body accepted: 64 KiB, four TLS records' worth. Browsers' hellos with
 * an ML-KEM key share are under 2 KiB, but clients offering larger post-quantum key shares
 * send more than one record (a FrodoKEM-976 public key alone is 15,632 bytes). */
#define SNI_HELLO_MAX 65536

enum sni_result {
    SNI_FOUND = 0,                  /* complete ClientHello with a host name: see sni_parse() */
    SNI_NEED_MORE,                  /* a strict prefix of some valid ClientHello: read more */
    SNI_NO_SNI,                     /* complete, valid ClientHello without server_name */
    SNI_NOT_TLS,                    /* first byte is not a TLS handshake record (HTTP, SSLv2) */
    SNI_ERR_RECORD_VERSION,         /* record version outside 0x0300..0x0304 */
    SNI_ERR_RECORD_LENGTH,          /* record fragment of 0 or more than 2^14 bytes */
    SNI_ERR_RECORD_TYPE,            /* a non-handshake record before the ClientHello ends */
    SNI_ERR_RECORD_TRAILING,        /* a record runs past the end of the ClientHello */
    SNI_ERR_HANDSHAKE_TYPE,         /* handshake message is not a client_hello */
    SNI_ERR_HELLO_LENGTH,           /* ClientHello too short to hold its fixed fields */
    SNI_ERR_TOO_LARGE,              /* ClientHello longer than SNI_HELLO_MAX */
    SNI_ERR_HELLO_VERSION,          /* legacy_version outside 0x0300..0x0304 */
    SNI_ERR_SESSION_ID,             /* session id over 32 bytes or past the hello */
    SNI_ERR_CIPHER_SUITES,          /* cipher suites empty, odd or past the hello */
    SNI_ERR_COMPRESSION,            /* compression methods empty, past the hello, or no null */
    SNI_ERR_EXTENSIONS_LENGTH,      /* extensions block does not fit the rest of the hello */
    SNI_ERR_EXTENSION_LENGTH,       /* one extension longer than the rest of the block */
    SNI_ERR_DUPLICATE_EXTENSION,    /* two extensions of the same type */
    SNI_ERR_SNI_LENGTH,             /* server_name lengths do not add up */
    SNI_ERR_NAME_TYPE,              /* server_name entry other than host_name */
    SNI_ERR_NAME,                   /* host name empty, too long, or not letters-digits-hyphen */
    SNI_ERR_TRAILING,               /* bytes after the last extension that cannot be one */
    SNI_COMPLETE                    /* sni_scan() only: the whole message is in, parse it */
};

/* Finds the host name in a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3).
 *
 * Borrows data[0..len), the bytes read from the client so far, and never reads past them.
 * Keeps no state: it reads the whole buffer each time, so a reader of a socket calls it
 * once sni_scan() says the message is whole (or wrong). The ClientHello may be
 * split over any number of handshake records (RFC 8446 §5.1); it must end where its last
 * record ends. Bytes after that record are not looked at.
 *
 * SNI_FOUND: out holds the first host_name, lowercased, without its trailing dot and
 * NUL-terminated; *out_len (if out_len is not NULL) is its length, 1..SNI_NAME_MAX.
 * out and *out_len are written on SNI_FOUND only.
 * SNI_NEED_MORE: data is a strict prefix of some valid ClientHello; every check that the
 * bytes in allow has been made, partial fields included.
 * SNI_NO_SNI: a valid ClientHello without server_name.
 * SNI_NOT_TLS and SNI_ERR_*: no byte that follows can make it valid; close.
 *
 * Refuses: duplicate extensions (RFC 8446 §4.2), server_name entries other than host_name,
 * names that are not letters, digits and hyphens in dot-separated labels of 1..63 bytes. */
enum sni_result sni_parse(const uint8_t *data, size_t len, char out[SNI_NAME_MAX + 1],
                          size_t *out_len);

/* The same for a ClientHello handshake message carried without TLS records, as QUIC's
 * CRYPTO stream carries it (RFC 9001 §4): data[0..len) is a prefix of the message (type,
 * 24-bit length, body), or the whole message and nothing after it. Results as for
 * sni_parse(), except that SNI_NOT_TLS and the SNI_ERR_RECORD_* results other than
 * SNI_ERR_RECORD_TRAILING (bytes past the message's end) do not occur. */
enum sni_result sni_parse_message(const uint8_t *data, size_t len, char out[SNI_NAME_MAX + 1],
                                  size_t *out_len);

/* How far sni_scan() has walked the records of a ClientHello. Zero it before the first call. */
struct sni_scan {
    uint32_t next;                  /* offset of the first record not yet walked whole */
    uint32_t msg;                   /* handshake message bytes in the records before it */
};

/* Tells from the record headers and the handshake header alone whether data[0..len) holds
 * the whole ClientHello message, so that sni_parse() runs once, when it does, instead of
 * after every read.
 *
 * Borrows data[0..len), the bytes read from the client so far; between calls with the same
 * s, bytes may only be added at the end. Keeps its progress in s: each call reads the
 * handshake header again (at most four records) and then only the records that were not
 * whole at the last call, so the calls for one hello cost time linear in its length.
 *
 * SNI_NEED_MORE: the message is not whole yet, and no header in is wrong.
 * SNI_COMPLETE: the message ends within data; sni_parse() gives the verdict.
 * SNI_NOT_TLS, SNI_ERR_RECORD_*, SNI_ERR_HANDSHAKE_TYPE, SNI_ERR_HELLO_LENGTH,
 * SNI_ERR_TOO_LARGE: a header is wrong, judged byte by byte as in sni_parse(); sni_parse()
 * on the same bytes refuses them too, possibly with an error it finds in the body first.
 * The first record header is judged as its bytes arrive: bytes that are not TLS are
 * refused from the first one. */
enum sni_result sni_scan(struct sni_scan *s, const uint8_t *data, size_t len);

/* Short, stable kebab-case token naming r for logs ("need-more", "clienthello-length");
 * "unknown" for a value outside the enum. Never NULL; the string is static. */
const char *sni_result_str(enum sni_result r);

#endif
