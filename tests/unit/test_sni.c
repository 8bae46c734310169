/* Unit tests for runtime/sni.c, the ClientHello reader. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1       /* MAP_ANONYMOUS */
#endif
#include "sni.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sni_fixtures.h"
#include "unit.h"

#define RECORD_HEADER_LEN 5
#define HANDSHAKE_HEADER_LEN 4
#define RECORD_MAX 16384
/* Room for the largest hello cut into one-byte records: six bytes per message byte. */
#define WORK_MAX (6 * (HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX) + 64)

/* A whole input and the verdict it must get; host is the name on SNI_FOUND. */
struct fixture {
    const char *name;
    const uint8_t *data;
    size_t len;
    enum sni_result want;
    const char *host;
};

#define FIXTURE(array, want, host) { #array, array, sizeof(array), want, host }

/* Real and synthesised hellos, each one record. */
static const struct fixture valid[] = {
    FIXTURE(hello_openssl_tls13, SNI_FOUND, "switchyard.example.com"),
    FIXTURE(hello_openssl_dot, SNI_FOUND, "mixed.case.example"),
    FIXTURE(hello_openssl_tls12, SNI_FOUND, "legacy.example.net"),
    FIXTURE(hello_openssl_no_sni, SNI_NO_SNI, NULL),
    FIXTURE(hello_curl, SNI_FOUND, "www.example.org"),
    FIXTURE(hello_curl_ip, SNI_NO_SNI, NULL),
    FIXTURE(hello_pq, SNI_FOUND, "pq.switchyard.test"),
    FIXTURE(hello_bare_tls12, SNI_NO_SNI, NULL),
};

#define VALID_COUNT (sizeof(valid) / sizeof(valid[0]))

/* Named cuts through valid hellos, for the reader (every prefix is tested below anyway).
 * Offsets into hello_openssl_tls13: record header 0..4, handshake header 5..8, random
 * 11..42, session id 44..75, cipher suites 78..139, extensions length 142..143, server_name
 * header 144..147, list length 148..149, host_name length 151..152, name 153..174. */
static const struct fixture truncated[] = {
    { "3 bytes of record header", hello_openssl_tls13, 3, SNI_NEED_MORE, NULL },
    { "record header only", hello_openssl_tls13, 5, SNI_NEED_MORE, NULL },
    { "handshake header only", hello_openssl_tls13, 9, SNI_NEED_MORE, NULL },
    { "inside random", hello_openssl_tls13, 20, SNI_NEED_MORE, NULL },
    { "inside session id", hello_openssl_tls13, 60, SNI_NEED_MORE, NULL },
    { "inside cipher suites", hello_openssl_tls13, 100, SNI_NEED_MORE, NULL },
    { "up to the extensions", hello_openssl_tls13, 142, SNI_NEED_MORE, NULL },
    { "inside extensions length", hello_openssl_tls13, 143, SNI_NEED_MORE, NULL },
    { "inside server_name list length", hello_openssl_tls13, 149, SNI_NEED_MORE, NULL },
    { "inside host name", hello_openssl_tls13, 160, SNI_NEED_MORE, NULL },
    { "name whole, hello not", hello_openssl_tls13, 175, SNI_NEED_MORE, NULL },
    { "all but the last byte", hello_openssl_tls13, sizeof(hello_openssl_tls13) - 1,
      SNI_NEED_MORE, NULL },
    { "inside the ML-KEM key share", hello_pq, 1000, SNI_NEED_MORE, NULL },
    { "inside padding", hello_curl, sizeof(hello_curl) - 50, SNI_NEED_MORE, NULL },
};

#define TRUNCATED_COUNT (sizeof(truncated) / sizeof(truncated[0]))

/* Byte lists for the tables below: file-scope compound literals, so each case reads as the
 * bytes on the wire. */
#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

#define ZEROS8 0, 0, 0, 0, 0, 0, 0, 0
#define RANDOM ZEROS8, ZEROS8, ZEROS8, ZEROS8
/* legacy_version 0x0303, random. */
#define HEAD 0x03, 0x03, RANDOM
/* One cipher suite: TLS_AES_128_GCM_SHA256. */
#define ONE_SUITE 0x00, 0x02, 0x13, 0x01
/* compression_methods: one, null. */
#define NULL_COMP 0x01, 0x00
/* The smallest valid hello body: 41 bytes, empty session id, no extensions. */
#define BASE HEAD, 0x00, ONE_SUITE, NULL_COMP
/* server_name extension (12 bytes): type 0, length 8, list length 6, host_name, "a.b". */
#define EXT_SNI_AB 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x03, 'a', '.', 'b'
/* extended_master_secret, empty (4 bytes). */
#define EXT_EMS 0x00, 0x17, 0x00, 0x00

/* Hello bodies: the test puts the handshake and record headers around them with the right
 * lengths, so each case is wrong in exactly the field it names. */
struct body_case {
    const char *name;
    const uint8_t *body;
    size_t len;
    enum sni_result want;
    const char *host;
};

static const struct body_case bodies[] = {
    { "smallest hello", BYTES(BASE), SNI_NO_SNI, NULL },
    { "empty extensions block", BYTES(BASE, 0x00, 0x00), SNI_NO_SNI, NULL },
    { "one extension, no name", BYTES(BASE, 0x00, 0x04, EXT_EMS), SNI_NO_SNI, NULL },
    { "name a.b", BYTES(BASE, 0x00, 0x0c, EXT_SNI_AB), SNI_FOUND, "a.b" },
    { "name after another extension", BYTES(BASE, 0x00, 0x10, EXT_EMS, EXT_SNI_AB),
      SNI_FOUND, "a.b" },
    { "hello version 0x0300", BYTES(0x03, 0x00, RANDOM, 0x00, ONE_SUITE, NULL_COMP),
      SNI_NO_SNI, NULL },
    { "hello version 0x0203", BYTES(0x02, 0x03, RANDOM, 0x00, ONE_SUITE, NULL_COMP),
      SNI_ERR_HELLO_VERSION, NULL },
    { "hello version 0x0305", BYTES(0x03, 0x05, RANDOM, 0x00, ONE_SUITE, NULL_COMP),
      SNI_ERR_HELLO_VERSION, NULL },
    { "session id of 33", BYTES(HEAD, 33, RANDOM, 0x00, ONE_SUITE, NULL_COMP),
      SNI_ERR_SESSION_ID, NULL },
    { "session id past the suites' room", BYTES(HEAD, 6, ZEROS8, 0x00, 0x00, 0x00),
      SNI_ERR_SESSION_ID, NULL },
    { "no cipher suites", BYTES(HEAD, 0x00, 0x00, 0x00, 0x00, 0x00, NULL_COMP),
      SNI_ERR_CIPHER_SUITES, NULL },
    { "odd cipher suites", BYTES(HEAD, 0x00, 0x00, 0x03, 0x13, 0x01, 0x13, NULL_COMP),
      SNI_ERR_CIPHER_SUITES, NULL },
    { "cipher suites past the hello", BYTES(HEAD, 0x00, 0x00, 0x04, 0x13, 0x01, NULL_COMP),
      SNI_ERR_CIPHER_SUITES, NULL },
    { "no compression method", BYTES(HEAD, 0x00, ONE_SUITE, 0x00, 0x00),
      SNI_ERR_COMPRESSION, NULL },
    { "no null compression", BYTES(HEAD, 0x00, ONE_SUITE, 0x01, 0x01),
      SNI_ERR_COMPRESSION, NULL },
    { "compression past the hello", BYTES(HEAD, 0x00, ONE_SUITE, 0x02, 0x00),
      SNI_ERR_COMPRESSION, NULL },
    { "one byte after compression", BYTES(BASE, 0x00), SNI_ERR_EXTENSIONS_LENGTH, NULL },
    { "three bytes after compression", BYTES(BASE, 0x00, 0x01, 0x00),
      SNI_ERR_EXTENSIONS_LENGTH, NULL },
    { "extensions longer than the hello", BYTES(BASE, 0x00, 0x05, EXT_EMS),
      SNI_ERR_EXTENSIONS_LENGTH, NULL },
    { "extensions shorter than the hello", BYTES(BASE, 0x00, 0x04, EXT_EMS, 0x00),
      SNI_ERR_TRAILING, NULL },
    { "extension longer than the block", BYTES(BASE, 0x00, 0x05, 0x00, 0x17, 0x00, 0x02, 0x00),
      SNI_ERR_EXTENSION_LENGTH, NULL },
    { "extension leaving 2 bytes", BYTES(BASE, 0x00, 0x06, 0x00, 0x17, 0x00, 0x00, 0x00, 0x00),
      SNI_ERR_TRAILING, NULL },
    { "duplicate extension", BYTES(BASE, 0x00, 0x08, EXT_EMS, EXT_EMS),
      SNI_ERR_DUPLICATE_EXTENSION, NULL },
    { "duplicate server_name", BYTES(BASE, 0x00, 0x18, EXT_SNI_AB, EXT_SNI_AB),
      SNI_ERR_DUPLICATE_EXTENSION, NULL },
    { "empty server_name", BYTES(BASE, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00),
      SNI_ERR_SNI_LENGTH, NULL },
    { "server_name of 5 bytes", BYTES(BASE, 0x00, 0x09, 0x00, 0x00, 0x00, 0x05,
                                      0x00, 0x03, 0x00, 0x00, 0x00),
      SNI_ERR_SNI_LENGTH, NULL },
    { "list longer than the extension", BYTES(BASE, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08,
                                              0x00, 0x07, 0x00, 0x00, 0x03, 'a', '.', 'b'),
      SNI_ERR_SNI_LENGTH, NULL },
    { "list shorter than the extension", BYTES(BASE, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08,
                                               0x00, 0x05, 0x00, 0x00, 0x03, 'a', '.', 'b'),
      SNI_ERR_SNI_LENGTH, NULL },
    { "name type 1", BYTES(BASE, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08,
                           0x00, 0x06, 0x01, 0x00, 0x03, 'a', '.', 'b'),
      SNI_ERR_NAME_TYPE, NULL },
    { "empty name", BYTES(BASE, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x09, 0x00, 0x07,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 'a'),
      SNI_ERR_NAME, NULL },
    { "name past the list", BYTES(BASE, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08,
                                  0x00, 0x06, 0x00, 0x00, 0x04, 'a', '.', 'b'),
      SNI_ERR_SNI_LENGTH, NULL },
    { "name leaving 1 byte of list", BYTES(BASE, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08,
                                           0x00, 0x06, 0x00, 0x00, 0x02, 'a', '.', 'b'),
      SNI_ERR_SNI_LENGTH, NULL },
    /* RFC 6066 §3 allows one name per type; the first host_name wins, later ones are only
     * checked for shape. */
    { "two host names", BYTES(BASE, 0x00, 0x12, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c,
                              0x00, 0x00, 0x03, 'a', '.', 'b', 0x00, 0x00, 0x03, 'c', '_', 'd'),
      SNI_FOUND, "a.b" },
    { "host name, then type 1", BYTES(BASE, 0x00, 0x12, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c,
                                      0x00, 0x00, 0x03, 'a', '.', 'b', 0x01, 0x00, 0x03, 'c',
                                      '.', 'd'),
      SNI_ERR_NAME_TYPE, NULL },
    /* An empty last entry: the first one leaves 3 bytes, too few for any entry. */
    { "second name empty, last", BYTES(BASE, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x09,
                                       0x00, 0x00, 0x03, 'a', '.', 'b', 0x00, 0x00, 0x00),
      SNI_ERR_SNI_LENGTH, NULL },
    { "second name empty", BYTES(BASE, 0x00, 0x13, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x0d,
                                 0x00, 0x00, 0x03, 'a', '.', 'b', 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x01, 'c'),
      SNI_ERR_NAME, NULL },
};

#define BODY_COUNT (sizeof(bodies) / sizeof(bodies[0]))

/* Hostile lengths: in a hello said to be HOSTILE_DECLARED bytes long (so 157 bytes of
 * extensions), each field claims all it can, and the input stops right after it. */
#define HOSTILE_DECLARED 200

static const struct body_case hostile[] = {
    { "session id 0xff", BYTES(HEAD, 0xff), SNI_ERR_SESSION_ID, NULL },
    { "cipher suites 0xffff", BYTES(HEAD, 0x00, 0xff, 0xff), SNI_ERR_CIPHER_SUITES, NULL },
    { "compression 0xff", BYTES(HEAD, 0x00, ONE_SUITE, 0xff), SNI_ERR_COMPRESSION, NULL },
    { "extensions 0xffff", BYTES(BASE, 0xff, 0xff), SNI_ERR_EXTENSIONS_LENGTH, NULL },
    { "extension 0xffff", BYTES(BASE, 0x00, 0x9d, 0x00, 0x17, 0xff, 0xff),
      SNI_ERR_EXTENSION_LENGTH, NULL },
    { "server_name 0xffff", BYTES(BASE, 0x00, 0x9d, 0x00, 0x00, 0xff, 0xff),
      SNI_ERR_EXTENSION_LENGTH, NULL },
    { "server_name list 0xffff", BYTES(BASE, 0x00, 0x9d, 0x00, 0x00, 0x00, 0x08, 0xff, 0xff),
      SNI_ERR_SNI_LENGTH, NULL },
    { "name 0xffff", BYTES(BASE, 0x00, 0x9d, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
                           0xff, 0xff),
      SNI_ERR_SNI_LENGTH, NULL },
    { "name 0x01ff", BYTES(BASE, 0x00, 0x9d, 0x00, 0x00, 0x00, 0x99, 0x00, 0x97, 0x00,
                           0x01, 0xff),
      SNI_ERR_SNI_LENGTH, NULL },
    { "name 0x0094", BYTES(BASE, 0x00, 0x9d, 0x00, 0x00, 0x00, 0x99, 0x00, 0x97, 0x00,
                           0x00, 0x94),
      SNI_NEED_MORE, NULL },
};

#define HOSTILE_COUNT (sizeof(hostile) / sizeof(hostile[0]))

/* Whole inputs, headers included. */
static const struct fixture raws[] = {
    { "empty", (const uint8_t *)"", 0, SNI_NEED_MORE, NULL },
    { "plain HTTP", BYTES('G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1',
                          '\r', '\n'),
      SNI_NOT_TLS, NULL },
    { "first byte of HTTP", BYTES('G'), SNI_NOT_TLS, NULL },
    /* SSL 2.0 CLIENT-HELLO: two-byte length with the high bit set, msg_type 1, version. */
    { "SSLv2 hello", BYTES(0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15), SNI_NOT_TLS, NULL },
    { "alert record first", BYTES(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28), SNI_NOT_TLS, NULL },
    { "record header byte", BYTES(0x16), SNI_NEED_MORE, NULL },
    { "record version 0x0203", BYTES(0x16, 0x02, 0x03), SNI_ERR_RECORD_VERSION, NULL },
    { "record version 0x0305", BYTES(0x16, 0x03, 0x05), SNI_ERR_RECORD_VERSION, NULL },
    { "record length 0", BYTES(0x16, 0x03, 0x01, 0x00, 0x00), SNI_ERR_RECORD_LENGTH, NULL },
    { "record length 16385", BYTES(0x16, 0x03, 0x01, 0x40, 0x01), SNI_ERR_RECORD_LENGTH, NULL },
    { "record length 0xffff", BYTES(0x16, 0x03, 0x01, 0xff, 0xff), SNI_ERR_RECORD_LENGTH, NULL },
    /* Known too long from its high byte alone. */
    { "record length 0x41..", BYTES(0x16, 0x03, 0x01, 0x41), SNI_ERR_RECORD_LENGTH, NULL },
    { "whole record header", BYTES(0x16, 0x03, 0x01, 0x00, 0x30), SNI_NEED_MORE, NULL },
    { "server_hello", BYTES(0x16, 0x03, 0x03, 0x00, 0x30, 0x02), SNI_ERR_HANDSHAKE_TYPE, NULL },
    { "hello length 40", BYTES(0x16, 0x03, 0x01, 0x00, 0x2c, 0x01, 0x00, 0x00, 0x28),
      SNI_ERR_HELLO_LENGTH, NULL },
    { "hello length 0", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00),
      SNI_ERR_HELLO_LENGTH, NULL },
    { "hello length 65537", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01, 0x00, 0x01),
      SNI_ERR_TOO_LARGE, NULL },
    { "hello length 65536", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01, 0x00, 0x00),
      SNI_NEED_MORE, NULL },
    { "hello length 0xffffff", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff),
      SNI_ERR_TOO_LARGE, NULL },
    /* Known too large from the first bytes of its length alone. */
    { "hello length 0x02....", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x02),
      SNI_ERR_TOO_LARGE, NULL },
    { "hello length 0x0101..", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01, 0x01),
      SNI_ERR_TOO_LARGE, NULL },
    { "hello length 0x01....", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01),
      SNI_NEED_MORE, NULL },
    /* RFC 8446 §5.1: the ClientHello ends on a record boundary. */
    { "record longer than the hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x2e, 0x01, 0x00, 0x00, 0x29),
      SNI_ERR_RECORD_TRAILING, NULL },
    { "record longer than any hello of this length", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01,
                                                           0x00, 0x00),
      SNI_ERR_RECORD_TRAILING, NULL },
    { "second record longer than the hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00,
                                                   0x00, 0x29, 0x16, 0x03, 0x03, 0x00, 0x30),
      SNI_ERR_RECORD_TRAILING, NULL },
    { "second record bigger than any hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x03, 0x01, 0x00,
                                                   0x00, 0x16, 0x03, 0x03, 0x02),
      SNI_ERR_RECORD_TRAILING, NULL },
    { "application data inside the hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00,
                                                 0x00, 0x29, 0x17, 0x03, 0x03, 0x00, 0x29),
      SNI_ERR_RECORD_TYPE, NULL },
    { "change_cipher_spec inside the hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00,
                                                   0x00, 0x29, 0x14),
      SNI_ERR_RECORD_TYPE, NULL },
    { "second record version 0x0403", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00,
                                            0x29, 0x16, 0x04, 0x03),
      SNI_ERR_RECORD_VERSION, NULL },
    { "second record empty", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x29,
                                   0x16, 0x03, 0x03, 0x00, 0x00),
      SNI_ERR_RECORD_LENGTH, NULL },
    /* Record version 0x0300, hello version 0x0300, one suite, null compression. */
    { "SSL 3.0 record", BYTES(0x16, 0x03, 0x00, 0x00, 0x2d, 0x01, 0x00, 0x00, 0x29, 0x03, 0x00,
                              RANDOM, 0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00),
      SNI_NO_SNI, NULL },
    /* The name is bad before it ends. */
    { "underscore, name unfinished", BYTES(0x16, 0x03, 0x01, 0x00, 0x3d, 0x01, 0x00, 0x00, 0x39,
                                           BASE, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x08,
                                           0x00, 0x00, 0x05, 'a', '_'),
      SNI_ERR_NAME, NULL },
};

#define RAW_COUNT (sizeof(raws) / sizeof(raws[0]))

static uint8_t work[WORK_MAX];
static uint8_t work2[WORK_MAX];

static enum sni_result
parse(const uint8_t *data, size_t len)
{
    char out[SNI_NAME_MAX + 1];
    size_t out_len;

    return sni_parse(data, len, out, &out_len);
}

/* Parses and checks the verdict and, on SNI_FOUND, the name and its length. */
static bool
parse_is(const uint8_t *data, size_t len, enum sni_result want, const char *host)
{
    char out[SNI_NAME_MAX + 1];
    size_t out_len = 0;
    enum sni_result r = sni_parse(data, len, out, &out_len);

    if (r != want) {
        printf("\n    got %s, want %s", sni_result_str(r), sni_result_str(want));
        return false;
    }
    if (r == SNI_FOUND && (strcmp(out, host) != 0 || out_len != strlen(host))) {
        printf("\n    got name '%s' (%zu), want '%s'", out, out_len, host);
        return false;
    }
    return true;
}

/* Writes a record header: handshake, the given version and length. */
static size_t
put_record_header(uint8_t *p, unsigned version, size_t len)
{
    p[0] = 22;
    p[1] = (uint8_t)(version >> 8);
    p[2] = (uint8_t)version;
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
    return RECORD_HEADER_LEN;
}

/* Puts a hello body inside a client_hello message and one record, both saying the body is
 * declared bytes long. */
static size_t
wrap_declared(uint8_t *out, const uint8_t *body, size_t len, size_t declared)
{
    size_t n = put_record_header(out, 0x0301, HANDSHAKE_HEADER_LEN + declared);

    out[n++] = 1;
    out[n++] = (uint8_t)(declared >> 16);
    out[n++] = (uint8_t)(declared >> 8);
    out[n++] = (uint8_t)declared;
    memcpy(out + n, body, len);
    return n + len;
}

static size_t
wrap_body(uint8_t *out, const uint8_t *body, size_t len)
{
    return wrap_declared(out, body, len, len);
}

static size_t
wrap_hostile(uint8_t *out, const struct body_case *c)
{
    return wrap_declared(out, c->body, c->len, HOSTILE_DECLARED);
}

/* Cuts a handshake message into records at the increasing offsets cuts[0..count); the first
 * record says 0x0301, the others 0x0303, as clients do. */
static size_t
split_records(uint8_t *out, const uint8_t *msg, size_t len, const size_t *cuts, size_t count)
{
    size_t n = 0, from = 0;

    for (size_t i = 0; i <= count; i++) {
        size_t to = i < count ? cuts[i] : len;

        n += put_record_header(out + n, i == 0 ? 0x0301 : 0x0303, to - from);
        memcpy(out + n, msg + from, to - from);
        n += to - from;
        from = to;
    }
    return n;
}

/* The handshake message inside a one-record fixture. */
static const uint8_t *
message_of(const struct fixture *f, size_t *len)
{
    CU_ASSERT_FATAL((size_t)(f->data[3] << 8 | f->data[4]) == f->len - RECORD_HEADER_LEN);
    *len = f->len - RECORD_HEADER_LEN;
    return f->data + RECORD_HEADER_LEN;
}

static void
test_valid_hellos(void)
{
    for (size_t i = 0; i < VALID_COUNT; i++) {
        const struct fixture *f = &valid[i];

        if (!parse_is(f->data, f->len, f->want, f->host)) {
            printf(" (%s)", f->name);
            CU_FAIL("valid hello");
        }
    }
}

static void
test_every_prefix_needs_more(void)
{
    for (size_t i = 0; i < VALID_COUNT; i++) {
        for (size_t n = 0; n < valid[i].len; n++) {
            if (parse(valid[i].data, n) != SNI_NEED_MORE) {
                printf("\n    %s: prefix of %zu bytes", valid[i].name, n);
                CU_FAIL("prefix needs more");
            }
        }
    }
}

static void
test_truncated(void)
{
    for (size_t i = 0; i < TRUNCATED_COUNT; i++) {
        if (!parse_is(truncated[i].data, truncated[i].len, truncated[i].want, NULL)) {
            printf(" (%s)", truncated[i].name);
            CU_FAIL("truncated");
        }
    }
}

static void
test_bodies(void)
{
    for (size_t i = 0; i < BODY_COUNT; i++) {
        size_t n = wrap_body(work, bodies[i].body, bodies[i].len);

        if (!parse_is(work, n, bodies[i].want, bodies[i].host)) {
            printf(" (%s)", bodies[i].name);
            CU_FAIL("hello body");
        }
    }
}

static void
test_hostile_lengths(void)
{
    for (size_t i = 0; i < HOSTILE_COUNT; i++) {
        size_t n = wrap_hostile(work, &hostile[i]);

        if (!parse_is(work, n, hostile[i].want, hostile[i].host)) {
            printf(" (%s)", hostile[i].name);
            CU_FAIL("hostile length");
        }
    }
}

static void
test_raw_inputs(void)
{
    for (size_t i = 0; i < RAW_COUNT; i++) {
        if (!parse_is(raws[i].data, raws[i].len, raws[i].want, raws[i].host)) {
            printf(" (%s)", raws[i].name);
            CU_FAIL("raw input");
        }
    }
}

/* Once an input is refused, no longer input is accepted or awaited: a verdict of error is
 * final, whatever bytes come next. */
static void
check_errors_are_final(const char *name, const uint8_t *data, size_t len)
{
    bool refused = false;

    for (size_t n = 0; n <= len; n++) {
        enum sni_result r = parse(data, n);

        if (refused && (r == SNI_NEED_MORE || r == SNI_FOUND || r == SNI_NO_SNI)) {
            printf("\n    %s: %s after an error, at %zu bytes", name, sni_result_str(r), n);
            CU_FAIL("error is final");
            return;
        }
        refused = r != SNI_NEED_MORE && r != SNI_FOUND && r != SNI_NO_SNI;
    }
}

static void
test_errors_are_final(void)
{
    for (size_t i = 0; i < BODY_COUNT; i++) {
        size_t n = wrap_body(work, bodies[i].body, bodies[i].len);

        check_errors_are_final(bodies[i].name, work, n);
    }
    for (size_t i = 0; i < HOSTILE_COUNT; i++) {
        size_t n = wrap_hostile(work, &hostile[i]);

        check_errors_are_final(hostile[i].name, work, n);
    }
    for (size_t i = 0; i < RAW_COUNT; i++)
        check_errors_are_final(raws[i].name, raws[i].data, raws[i].len);
}

/* Every way of cutting the message in two, every uniform record size down to one byte, and
 * a few hundred random cuts: the same name each time. */
static void
test_every_split(void)
{
    static size_t cuts[HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX];
    uint32_t seed = 12345;

    for (size_t i = 0; i < VALID_COUNT; i++) {
        const struct fixture *f = &valid[i];
        size_t msg_len, n, count;
        const uint8_t *msg = message_of(f, &msg_len);
        bool ok = true;

        for (size_t cut = 1; cut < msg_len; cut++) {
            n = split_records(work, msg, msg_len, &cut, 1);
            ok &= parse_is(work, n, f->want, f->host);
        }
        for (size_t size = 1; size <= msg_len; size++) {
            count = 0;
            for (size_t at = size; at < msg_len; at += size)
                cuts[count++] = at;
            n = split_records(work, msg, msg_len, cuts, count);
            ok &= parse_is(work, n, f->want, f->host);
            if (size == 1) {
                /* One record per byte: every prefix still only needs more. */
                for (size_t k = 0; k < n; k++)
                    ok &= parse(work, k) == SNI_NEED_MORE;
            }
        }
        for (int round = 0; round < 300; round++) {
            count = 0;
            for (size_t at = 0;;) {
                seed = seed * 1103515245u + 12345u;
                at += 1 + (seed >> 16) % (round % 2 ? 8 : 200);
                if (at >= msg_len)
                    break;
                cuts[count++] = at;
            }
            n = split_records(work, msg, msg_len, cuts, count);
            ok &= parse_is(work, n, f->want, f->host);
        }
        if (!ok) {
            printf(" (%s)", f->name);
            CU_FAIL("split into records");
        }
    }
}

/* A length field of a one-record fixture. */
struct field {
    char label[16];
    size_t off;
    unsigned width;
};

static unsigned
get_be(const uint8_t *p, unsigned width)
{
    unsigned v = 0;

    for (unsigned i = 0; i < width; i++)
        v = v << 8 | p[i];
    return v;
}

static void
put_be(uint8_t *p, unsigned width, unsigned v)
{
    for (unsigned i = width; i > 0; i--, v >>= 8)
        p[i - 1] = (uint8_t)v;
}

/* Finds the length fields of a valid one-record hello, walking it independently of the
 * parser; returns their count. */
static size_t
find_fields(const uint8_t *h, size_t len, struct field *f)
{
    size_t count = 0, p;

#define ADD(lbl, at, w) \
    (snprintf(f[count].label, sizeof(f[count].label), "%s", lbl), f[count].off = (at), \
     f[count++].width = (w))
    ADD("record", 3, 2);
    ADD("handshake", 6, 3);
    p = 43;
    ADD("session-id", p, 1);
    p += 1 + h[p];
    ADD("cipher-suites", p, 2);
    p += 2 + get_be(h + p, 2);
    ADD("compression", p, 1);
    p += 1 + h[p];
    if (p == len)
        return count;
    ADD("extensions", p, 2);
    for (p += 2; p < len; p += 4 + get_be(h + p + 2, 2)) {
        char label[16];
        unsigned type = get_be(h + p, 2);

        snprintf(label, sizeof(label), "ext-%04x", type);
        ADD(label, p + 2, 2);
        if (type == 0) {
            ADD("sni-list", p + 4, 2);
            ADD("sni-name", p + 7, 2);
        }
    }
#undef ADD
    return count;
}

/* What each length field of each fixture gives when it is one less and one more.
 *
 * Most follow from the field alone:
 *   record -1: the hello's last byte is read as the next record's type: record-type;
 *   record +1, handshake -1: the record runs past the hello: record-trailing;
 *   handshake +1: the extensions end a byte before the hello does: trailing-bytes;
 *   cipher-suites: an odd length; compression -1: no method;
 *   extensions -1 / +1, last extension -1 / +1: trailing-bytes / *-length;
 *   server_name, its list and its name: sni-length.
 * Where the field is not the last, everything after it shifts and the verdict comes from
 * the bytes that slide into place, mostly a length high byte read as a length low byte:
 * extension-length, cipher-suites, extensions-length; in hello_pq a data byte 0x00
 * followed by a type's high byte 0x00 reads as server_name again: duplicate-extension.
 * NO_MUTATION: the field is 0, there is no -1. */
#define NO_MUTATION (-1)

struct mutation {
    const char *fixture;
    const char *field;
    int minus, plus;
};

static const struct mutation mutations[] = {
    { "hello_openssl_tls13", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_openssl_tls13", "handshake", SNI_ERR_RECORD_TRAILING, SNI_ERR_TRAILING },
    { "hello_openssl_tls13", "session-id", SNI_ERR_CIPHER_SUITES, SNI_ERR_SESSION_ID },
    { "hello_openssl_tls13", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_openssl_tls13", "compression", SNI_ERR_COMPRESSION, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_tls13", "extensions", SNI_ERR_TRAILING, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_tls13", "ext-0000", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_tls13", "sni-list", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_tls13", "sni-name", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_tls13", "ext-000b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-000a", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-0023", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-0016", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-0017", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-000d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-002b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-002d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls13", "ext-0033", SNI_ERR_TRAILING, SNI_ERR_EXTENSION_LENGTH },

    { "hello_openssl_dot", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_openssl_dot", "handshake", SNI_ERR_RECORD_TRAILING, SNI_ERR_TRAILING },
    { "hello_openssl_dot", "session-id", SNI_ERR_CIPHER_SUITES, SNI_ERR_SESSION_ID },
    { "hello_openssl_dot", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_openssl_dot", "compression", SNI_ERR_COMPRESSION, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_dot", "extensions", SNI_ERR_TRAILING, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_dot", "ext-0000", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_dot", "sni-list", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_dot", "sni-name", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_dot", "ext-000b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-000a", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-0023", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-0016", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-0017", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-000d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-002b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-002d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_dot", "ext-0033", SNI_ERR_TRAILING, SNI_ERR_EXTENSION_LENGTH },

    { "hello_openssl_tls12", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_openssl_tls12", "handshake", SNI_ERR_RECORD_TRAILING, SNI_ERR_TRAILING },
    { "hello_openssl_tls12", "session-id", NO_MUTATION, SNI_ERR_CIPHER_SUITES },
    { "hello_openssl_tls12", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_openssl_tls12", "compression", SNI_ERR_COMPRESSION, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_tls12", "extensions", SNI_ERR_TRAILING, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_tls12", "ext-0000", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_tls12", "sni-list", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_tls12", "sni-name", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_openssl_tls12", "ext-000b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls12", "ext-000a", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls12", "ext-0023", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls12", "ext-0016", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls12", "ext-0017", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_tls12", "ext-000d", SNI_ERR_TRAILING, SNI_ERR_EXTENSION_LENGTH },

    { "hello_openssl_no_sni", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_openssl_no_sni", "handshake", SNI_ERR_RECORD_TRAILING, SNI_ERR_TRAILING },
    { "hello_openssl_no_sni", "session-id", SNI_ERR_CIPHER_SUITES, SNI_ERR_SESSION_ID },
    { "hello_openssl_no_sni", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_openssl_no_sni", "compression", SNI_ERR_COMPRESSION, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_no_sni", "extensions", SNI_ERR_TRAILING, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_openssl_no_sni", "ext-000b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-000a", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-0023", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-0016", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-0017", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-000d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-002b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-002d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_openssl_no_sni", "ext-0033", SNI_ERR_TRAILING, SNI_ERR_EXTENSION_LENGTH },

    { "hello_curl", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_curl", "handshake", SNI_ERR_RECORD_TRAILING, SNI_ERR_TRAILING },
    { "hello_curl", "session-id", SNI_ERR_CIPHER_SUITES, SNI_ERR_SESSION_ID },
    { "hello_curl", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_curl", "compression", SNI_ERR_COMPRESSION, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_curl", "extensions", SNI_ERR_TRAILING, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_curl", "ext-0000", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_curl", "sni-list", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_curl", "sni-name", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_curl", "ext-000b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-000a", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-0010", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-0016", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-0017", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-0031", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-000d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-002b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-002d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-0033", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl", "ext-0015", SNI_ERR_TRAILING, SNI_ERR_EXTENSION_LENGTH },

    { "hello_curl_ip", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_curl_ip", "handshake", SNI_ERR_RECORD_TRAILING, SNI_ERR_TRAILING },
    { "hello_curl_ip", "session-id", SNI_ERR_CIPHER_SUITES, SNI_ERR_SESSION_ID },
    { "hello_curl_ip", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_curl_ip", "compression", SNI_ERR_COMPRESSION, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_curl_ip", "extensions", SNI_ERR_TRAILING, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_curl_ip", "ext-000b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-000a", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-0010", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-0016", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-0017", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-0031", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-000d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-002b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-002d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-0033", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_curl_ip", "ext-0015", SNI_ERR_TRAILING, SNI_ERR_EXTENSION_LENGTH },

    { "hello_pq", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_pq", "handshake", SNI_ERR_RECORD_TRAILING, SNI_ERR_TRAILING },
    { "hello_pq", "session-id", SNI_ERR_CIPHER_SUITES, SNI_ERR_SESSION_ID },
    { "hello_pq", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_pq", "compression", SNI_ERR_COMPRESSION, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_pq", "extensions", SNI_ERR_TRAILING, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_pq", "ext-0a0a", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-0000", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_pq", "sni-list", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_pq", "sni-name", SNI_ERR_SNI_LENGTH, SNI_ERR_SNI_LENGTH },
    { "hello_pq", "ext-0017", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-ff01", SNI_ERR_DUPLICATE_EXTENSION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-000a", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-000b", SNI_ERR_DUPLICATE_EXTENSION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-0023", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-0010", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-0005", SNI_ERR_DUPLICATE_EXTENSION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-000d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-0012", NO_MUTATION, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-0033", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-002d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-002b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-001b", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-44cd", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-fe0d", SNI_ERR_EXTENSION_LENGTH, SNI_ERR_EXTENSION_LENGTH },
    { "hello_pq", "ext-5a5a", SNI_ERR_TRAILING, SNI_ERR_EXTENSION_LENGTH },

    { "hello_bare_tls12", "record", SNI_ERR_RECORD_TYPE, SNI_ERR_RECORD_TRAILING },
    { "hello_bare_tls12", "handshake", SNI_ERR_HELLO_LENGTH, SNI_ERR_EXTENSIONS_LENGTH },
    { "hello_bare_tls12", "session-id", NO_MUTATION, SNI_ERR_SESSION_ID },
    { "hello_bare_tls12", "cipher-suites", SNI_ERR_CIPHER_SUITES, SNI_ERR_CIPHER_SUITES },
    { "hello_bare_tls12", "compression", SNI_ERR_COMPRESSION, SNI_ERR_COMPRESSION },
};

#define MUTATION_COUNT (sizeof(mutations) / sizeof(mutations[0]))

static void
test_length_mutations(void)
{
    struct field fields[64];
    size_t matched = 0;

    for (size_t i = 0; i < VALID_COUNT; i++) {
        const struct fixture *f = &valid[i];
        size_t count = find_fields(f->data, f->len, fields);

        for (size_t k = 0; k < count; k++) {
            const struct mutation *m = NULL;
            int got[2];

            for (size_t j = 0; j < MUTATION_COUNT; j++)
                if (strcmp(mutations[j].fixture, f->name) == 0 &&
                    strcmp(mutations[j].field, fields[k].label) == 0)
                    m = &mutations[j];
            for (int d = 0; d < 2; d++) {
                unsigned v = get_be(f->data + fields[k].off, fields[k].width);
                unsigned max = (1u << (8 * fields[k].width)) - 1;

                memcpy(work, f->data, f->len);
                if ((d == 0 && v == 0) || (d == 1 && v == max)) {
                    got[d] = NO_MUTATION;
                    continue;
                }
                put_be(work + fields[k].off, fields[k].width, d == 0 ? v - 1 : v + 1);
                got[d] = (int)parse(work, f->len);
            }
            if (m == NULL || m->minus != got[0] || m->plus != got[1]) {
                printf("\n    %s %s: got %s and %s", f->name, fields[k].label,
                       got[0] == NO_MUTATION ? "none" : sni_result_str(got[0]),
                       sni_result_str(got[1]));
                CU_FAIL("length mutation");
            } else {
                matched++;
            }
        }
    }
    CU_ASSERT_EQUAL(matched, MUTATION_COUNT);
}

/* A hello whose only extension is server_name carrying name[0..len). */
static size_t
hello_with_name(uint8_t *out, const char *name, size_t len)
{
    static const uint8_t base[] = { BASE };
    uint8_t body[sizeof(base) + 2 + 9 + 300];
    size_t n = sizeof(base);

    memcpy(body, base, n);
    put_be(body + n, 2, (unsigned)(len + 9));         /* extensions */
    put_be(body + n + 2, 2, 0);                       /* server_name */
    put_be(body + n + 4, 2, (unsigned)(len + 5));     /* extension length */
    put_be(body + n + 6, 2, (unsigned)(len + 3));     /* server_name_list */
    body[n + 8] = 0;                                  /* host_name */
    put_be(body + n + 9, 2, (unsigned)len);
    memcpy(body + n + 11, name, len);
    return wrap_body(out, body, n + 11 + len);
}

static void
test_names(void)
{
    static char label63[64], name253[254], name254[255], name255[256];
    static const struct {
        const char *name;
        size_t len;         /* 0: strlen */
        enum sni_result want;
        const char *host;
    } cases[] = {
        { "Example.COM", 0, SNI_FOUND, "example.com" },
        { "example.com.", 0, SNI_FOUND, "example.com" },
        { "WWW.Example.Org.", 0, SNI_FOUND, "www.example.org" },
        { "localhost", 0, SNI_FOUND, "localhost" },
        { "a", 0, SNI_FOUND, "a" },
        { "0-9.a-z", 0, SNI_FOUND, "0-9.a-z" },
        /* Hyphen placement is left to the route lookup. */
        { "-a-.b-", 0, SNI_FOUND, "-a-.b-" },
        { "xn--bcher-kva.example", 0, SNI_FOUND, "xn--bcher-kva.example" },
        { "under_score.example", 0, SNI_ERR_NAME, NULL },
        { "sp ace.example", 0, SNI_ERR_NAME, NULL },
        { "*.example.com", 0, SNI_ERR_NAME, NULL },
        { "a..b", 0, SNI_ERR_NAME, NULL },
        { ".a", 0, SNI_ERR_NAME, NULL },
        { ".", 0, SNI_ERR_NAME, NULL },
        { "a.b..", 0, SNI_ERR_NAME, NULL },
        { "example.com:443", 0, SNI_ERR_NAME, NULL },
        { "[::1]", 0, SNI_ERR_NAME, NULL },
        { "b\xc3\xbc" "cher.example", 0, SNI_ERR_NAME, NULL },
        { "nul\0.example", 12, SNI_ERR_NAME, NULL },
    };
    uint8_t hello[512];
    size_t n;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].name);

        n = hello_with_name(hello, cases[i].name, len);
        if (!parse_is(hello, n, cases[i].want, cases[i].host)) {
            printf(" (%s)", cases[i].name);
            CU_FAIL("name");
        }
    }

    /* Labels of 63 are fine, 64 are not; names of 253 are, 254 only with the dot. */
    memset(label63, 'a', 63);
    n = hello_with_name(hello, label63, 63);
    CU_ASSERT_TRUE(parse_is(hello, n, SNI_FOUND, label63));
    memcpy(name254, label63, 63);
    memcpy(name254 + 63, "a.com", 5);
    n = hello_with_name(hello, name254, 68);
    CU_ASSERT_EQUAL(parse(hello, n), SNI_ERR_NAME);
    /* The 64th label byte is refused before the rest of the name arrives. */
    CU_ASSERT_EQUAL(parse(hello, n - 4), SNI_ERR_NAME);
    CU_ASSERT_EQUAL(parse(hello, n - 5), SNI_NEED_MORE);

    /* Four labels: 63.63.63.61 = 253 bytes. */
    for (size_t i = 0; i < 253; i++)
        name253[i] = i % 64 == 63 ? '.' : 'x';
    n = hello_with_name(hello, name253, 253);
    CU_ASSERT_TRUE(parse_is(hello, n, SNI_FOUND, name253));
    memcpy(name254, name253, 253);
    name254[253] = '.';
    n = hello_with_name(hello, name254, 254);
    CU_ASSERT_TRUE(parse_is(hello, n, SNI_FOUND, name253));
    name254[253] = 'x';
    n = hello_with_name(hello, name254, 254);
    CU_ASSERT_EQUAL(parse(hello, n), SNI_ERR_NAME);
    CU_ASSERT_EQUAL(parse(hello, n - 1), SNI_NEED_MORE);
    memcpy(name255, name254, 254);
    name255[254] = '.';
    n = hello_with_name(hello, name255, 255);
    CU_ASSERT_EQUAL(parse(hello, n), SNI_ERR_NAME);
    /* Known from the length field alone. */
    CU_ASSERT_EQUAL(parse(hello, n - 255), SNI_ERR_NAME);
}

/* Cuts a handshake message into records of at most size bytes each. */
static size_t
split_every(uint8_t *out, const uint8_t *msg, size_t len, size_t size)
{
    static size_t cuts[HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX];
    size_t count = 0;

    for (size_t at = size; at < len; at += size)
        cuts[count++] = at;
    return split_records(out, msg, len, cuts, count);
}

/* A hello of exactly SNI_HELLO_MAX bytes, padded, needs five records; one more byte is too
 * large, and says so as soon as its length field is in. */
static void
test_too_large(void)
{
    static const uint8_t head[] = { BASE };
    static uint8_t msg[HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX + 1];
    struct sni_scan scan = { 0 };

    for (size_t body_len = SNI_HELLO_MAX - 1; body_len <= SNI_HELLO_MAX + 1; body_len++) {
        size_t ext_len = body_len - sizeof(head) - 2;
        size_t pad = ext_len - 12 - 4;
        size_t n, p = 0;
        enum sni_result want = body_len <= SNI_HELLO_MAX ? SNI_FOUND : SNI_ERR_TOO_LARGE;

        msg[p++] = 1;
        put_be(msg + p, 3, (unsigned)body_len);
        p += 3;
        memcpy(msg + p, head, sizeof(head));
        p += sizeof(head);
        put_be(msg + p, 2, (unsigned)ext_len);
        memcpy(msg + p + 2, (const uint8_t[]){ EXT_SNI_AB }, 12);
        p += 2 + 12;
        put_be(msg + p, 2, 0x0015);                   /* padding, RFC 7685 */
        put_be(msg + p + 2, 2, (unsigned)pad);
        memset(msg + p + 4, 0, pad);
        p += 4 + pad;
        CU_ASSERT_EQUAL_FATAL(p, HANDSHAKE_HEADER_LEN + body_len);

        n = split_every(work, msg, p, RECORD_MAX);
        CU_ASSERT_EQUAL(n, p + 5 * RECORD_HEADER_LEN);
        CU_ASSERT_TRUE(parse_is(work, n, want, "a.b"));
        CU_ASSERT_EQUAL(parse(work, RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN),
                        body_len <= SNI_HELLO_MAX ? SNI_NEED_MORE : SNI_ERR_TOO_LARGE);
        scan = (struct sni_scan){ 0 };
        CU_ASSERT_EQUAL(sni_scan(&scan, work, RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN),
                        body_len <= SNI_HELLO_MAX ? SNI_NEED_MORE : SNI_ERR_TOO_LARGE);
        CU_ASSERT_EQUAL(sni_scan(&scan, work, n),
                        body_len <= SNI_HELLO_MAX ? SNI_COMPLETE : SNI_ERR_TOO_LARGE);
    }
}

/* Hellos of 17 KB (large post-quantum key shares) and of SNI_HELLO_MAX bytes, over two to
 * hundreds of records: found, and every prefix only needs more. */
static void
test_big_hellos(void)
{
    static const char name[] = "pq.switchyard.test";
    static uint8_t msg[HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX];
    static const size_t bodies_len[] = {
        BIG_HELLO_FIXED + sizeof(name) - 1 + 15632, SNI_HELLO_MAX,
    };
    static const size_t sizes[] = { RECORD_MAX, 4096, 1000, 100 };

    for (size_t i = 0; i < sizeof(bodies_len) / sizeof(bodies_len[0]); i++) {
        size_t len = fixture_big_hello(msg, name, bodies_len[i]);

        CU_ASSERT_EQUAL_FATAL(len, HANDSHAKE_HEADER_LEN + bodies_len[i]);
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            size_t n = split_every(work, msg, len, sizes[k]);
            bool ok = parse_is(work, n, SNI_FOUND, name);

            for (size_t m = 0; m < n; m += 1 + m % 997)
                ok &= parse(work, m) == SNI_NEED_MORE;
            ok &= parse(work, n - 1) == SNI_NEED_MORE;
            if (!ok) {
                printf(" (body of %zu in records of %zu)", bodies_len[i], sizes[k]);
                CU_FAIL("big hello");
            }
        }
    }
    /* About 17,000 bytes: more than one record holds. */
    CU_ASSERT(bodies_len[0] > RECORD_MAX + 500 && bodies_len[0] < 17100);
}

/* Whether data[0..n), whose records up to offset whole hold msg message bytes, has the
 * whole handshake header. */
static bool
header_in(const uint8_t *data, size_t n, size_t whole, size_t msg)
{
    (void)data;
    return msg + (n > whole + RECORD_HEADER_LEN ? n - whole - RECORD_HEADER_LEN : 0) >=
           HANDSHAKE_HEADER_LEN;
}

/* Feeds data one byte more at a time to one scan: SNI_NEED_MORE up to its last byte, then
 * SNI_COMPLETE; after each call the scan has walked exactly the records that are whole. */
static bool
scan_by_bytes(const uint8_t *data, size_t len)
{
    struct sni_scan s = { 0 };
    size_t whole = 0, msg = 0;

    for (size_t n = 0; n <= len; n++) {
        enum sni_result r = sni_scan(&s, data, n);

        /* The records that are whole in data[0..n), walked independently. */
        while (whole + RECORD_HEADER_LEN <= n &&
               whole + RECORD_HEADER_LEN + get_be(data + whole + 3, 2) <= n) {
            msg += get_be(data + whole + 3, 2);
            whole += RECORD_HEADER_LEN + get_be(data + whole + 3, 2);
        }
        if (r != (n < len ? SNI_NEED_MORE : SNI_COMPLETE) ||
            (header_in(data, n, whole, msg) && (s.next != whole || s.msg != msg))) {
            printf("\n    at %zu of %zu: %s, walked %u (%u), whole %zu (%zu)", n, len,
                   sni_result_str(r), s.next, s.msg, whole, msg);
            return false;
        }
    }
    return true;
}

/* sni_scan() reads headers only: a 17 KB hello in records of 1000 bytes whose body is
 * garbage from its first byte is still whole only at its last byte, one call per byte,
 * each call picking up where the last stopped; sni_parse() refuses it at its first byte. */
static void
test_scan_headers_only(void)
{
    static const char name[] = "pq.switchyard.test";
    static uint8_t msg[HANDSHAKE_HEADER_LEN + SNI_HELLO_MAX];
    size_t len = fixture_big_hello(msg, name, BIG_HELLO_FIXED + sizeof(name) - 1 + 15632);
    size_t n = split_every(work, msg, len, 1000);

    CU_ASSERT_TRUE(scan_by_bytes(work, n));
    memset(msg + HANDSHAKE_HEADER_LEN, 0xff, len - HANDSHAKE_HEADER_LEN);
    n = split_every(work, msg, len, 1000);
    CU_ASSERT_TRUE(scan_by_bytes(work, n));
    CU_ASSERT_EQUAL(parse(work, n), SNI_ERR_HELLO_VERSION);
    CU_ASSERT_EQUAL(parse(work, RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + 1),
                    SNI_ERR_HELLO_VERSION);

    for (size_t i = 0; i < VALID_COUNT; i++) {
        const uint8_t *m = message_of(&valid[i], &len);

        CU_ASSERT_TRUE(scan_by_bytes(valid[i].data, valid[i].len));
        n = split_every(work, m, len, 1);
        CU_ASSERT_TRUE(scan_by_bytes(work, n));
    }
}

/* Header errors are the scan's to find, as soon as their bytes are in. */
static const struct fixture scan_errors[] = {
    { "plain HTTP", BYTES('G'), SNI_NOT_TLS, NULL },
    { "alert record first", BYTES(0x15), SNI_NOT_TLS, NULL },
    { "record version 0x0203", BYTES(0x16, 0x02), SNI_ERR_RECORD_VERSION, NULL },
    { "record length 0", BYTES(0x16, 0x03, 0x01, 0x00, 0x00), SNI_ERR_RECORD_LENGTH, NULL },
    { "server_hello", BYTES(0x16, 0x03, 0x03, 0x00, 0x30, 0x02), SNI_ERR_HANDSHAKE_TYPE,
      NULL },
    { "hello length 0x02....", BYTES(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x02),
      SNI_ERR_TOO_LARGE, NULL },
    { "hello length 40", BYTES(0x16, 0x03, 0x01, 0x00, 0x2c, 0x01, 0x00, 0x00, 0x28),
      SNI_ERR_HELLO_LENGTH, NULL },
    { "record longer than the hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x2e, 0x01, 0x00, 0x00,
                                            0x29),
      SNI_ERR_RECORD_TRAILING, NULL },
    { "application data inside the hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00,
                                                 0x00, 0x29, 0x17),
      SNI_ERR_RECORD_TYPE, NULL },
    { "second record longer than the hello", BYTES(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00,
                                                   0x00, 0x29, 0x16, 0x03, 0x03, 0x00,
                                                   0x2a),
      SNI_ERR_RECORD_TRAILING, NULL },
};


static void
test_scan_errors(void)
{
    for (size_t i = 0; i < sizeof(scan_errors) / sizeof(scan_errors[0]); i++) {
        const struct fixture *f = &scan_errors[i];
        struct sni_scan s = { 0 };
        enum sni_result r = sni_scan(&s, f->data, f->len);

        if (r != f->want) {
            printf("\n    %s: got %s, want %s", f->name, sni_result_str(r),
                   sni_result_str(f->want));
            CU_FAIL("scan error");
        }
        /* Refused by the parser too. */
        CU_ASSERT_EQUAL(parse(f->data, f->len), f->want);
    }
}

/* What the scan says about every prefix agrees with what the parser says: it calls for the
 * parser exactly when the parser has a verdict, but for errors the parser finds in a body
 * the scan does not read. */
static bool
scan_agrees(const uint8_t *data, size_t len)
{
    struct sni_scan s = { 0 };

    for (size_t n = 0; n <= len; n++) {
        struct sni_scan fresh = { 0 };
        enum sni_result r = sni_scan(&s, data, n), p = parse(data, n);
        bool p_refused = p != SNI_NEED_MORE && p != SNI_FOUND && p != SNI_NO_SNI;
        bool ok = r == sni_scan(&fresh, data, n);

        if (r == SNI_NEED_MORE)
            ok &= p == SNI_NEED_MORE || p_refused;
        else if (r == SNI_COMPLETE)
            ok &= p != SNI_NEED_MORE;
        else
            ok &= p_refused;
        if (!ok) {
            printf("\n    at %zu: scan %s, parse %s", n, sni_result_str(r), sni_result_str(p));
            return false;
        }
    }
    return true;
}

static void
test_scan_agrees(void)
{
    for (size_t i = 0; i < VALID_COUNT; i++)
        CU_ASSERT_TRUE(scan_agrees(valid[i].data, valid[i].len));
    for (size_t i = 0; i < BODY_COUNT; i++) {
        size_t n = wrap_body(work, bodies[i].body, bodies[i].len);

        CU_ASSERT_TRUE(scan_agrees(work, n));
    }
    for (size_t i = 0; i < HOSTILE_COUNT; i++) {
        size_t n = wrap_hostile(work, &hostile[i]);

        CU_ASSERT_TRUE(scan_agrees(work, n));
    }
    for (size_t i = 0; i < RAW_COUNT; i++)
        CU_ASSERT_TRUE(scan_agrees(raws[i].data, raws[i].len));
}

/* Fills 256 extension types sharing one high byte; a 257th extension with that high byte
 * can only be a duplicate, which is known from its first byte. Likewise for high byte 0
 * when the one type left, server_name, has no room. */
static void
test_exhausted_extension_types(void)
{
    static const uint8_t head[] = { BASE };
    uint8_t body[sizeof(head) + 2 + 257 * 4];
    size_t n = sizeof(head);

    memcpy(body, head, n);
    put_be(body + n, 2, 257 * 4);
    n += 2;
    for (unsigned t = 0; t < 257; t++, n += 4) {
        put_be(body + n, 2, 0x0700 | (t & 0xff));
        put_be(body + n + 2, 2, 0);
    }
    n = wrap_body(work, body, n);
    CU_ASSERT_EQUAL(parse(work, n), SNI_ERR_DUPLICATE_EXTENSION);
    CU_ASSERT_EQUAL(parse(work, n - 3), SNI_ERR_DUPLICATE_EXTENSION);
    CU_ASSERT_EQUAL(parse(work, n - 4), SNI_NEED_MORE);
    put_be(work + n - 4, 2, 0x0800);
    CU_ASSERT_EQUAL(parse(work, n), SNI_NO_SNI);

    /* Types 0x0001..0x00ff taken, and no room left for a server_name (type 0x0000). */
    n = sizeof(head);
    put_be(body + n, 2, 256 * 4);
    n += 2;
    for (unsigned t = 1; t <= 256; t++, n += 4) {
        put_be(body + n, 2, t & 0xff);
        put_be(body + n + 2, 2, 0);
    }
    n = wrap_body(work, body, n);
    CU_ASSERT_EQUAL(parse(work, n), SNI_ERR_SNI_LENGTH);
    CU_ASSERT_EQUAL(parse(work, n - 3), SNI_ERR_DUPLICATE_EXTENSION);
    CU_ASSERT_EQUAL(parse(work, n - 4), SNI_NEED_MORE);
}

/* Bytes after the hello's record (a change_cipher_spec, early data) are not looked at. */
static void
test_bytes_after_hello(void)
{
    static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };

    for (size_t i = 0; i < VALID_COUNT; i++) {
        memcpy(work, valid[i].data, valid[i].len);
        memcpy(work + valid[i].len, ccs, sizeof(ccs));
        for (size_t extra = 0; extra <= sizeof(ccs); extra++)
            CU_ASSERT_TRUE(parse_is(work, valid[i].len + extra, valid[i].want, valid[i].host));
    }
}

/* out is written on SNI_FOUND only, and out_len may be NULL. */
static void
test_output(void)
{
    char out[SNI_NAME_MAX + 1];
    size_t out_len = 77;

    memset(out, 'x', sizeof(out));
    CU_ASSERT_EQUAL(sni_parse(hello_openssl_no_sni, sizeof(hello_openssl_no_sni), out, &out_len),
                    SNI_NO_SNI);
    CU_ASSERT_EQUAL(sni_parse(hello_pq, sizeof(hello_pq) - 1, out, &out_len), SNI_NEED_MORE);
    CU_ASSERT_EQUAL(sni_parse((const uint8_t *)"GET", 3, out, &out_len), SNI_NOT_TLS);
    CU_ASSERT_EQUAL(out_len, 77);
    for (size_t i = 0; i < sizeof(out); i++)
        CU_ASSERT_EQUAL(out[i], 'x');
    CU_ASSERT_EQUAL(sni_parse(hello_pq, sizeof(hello_pq), out, NULL), SNI_FOUND);
    CU_ASSERT_STRING_EQUAL(out, "pq.switchyard.test");
}

/* sni_parse_message() reads the handshake message alone, as QUIC's CRYPTO stream carries
 * it: each fixture without its record header gets the same verdict, every strict prefix
 * needs more, and a byte after the message is refused. */
static void
test_message_level(void)
{
    static uint8_t msg[RECORD_MAX + 1];
    char out[SNI_NAME_MAX + 1], want[SNI_NAME_MAX + 1];
    size_t out_len = 0, want_len = 0;

    for (size_t i = 0; i < VALID_COUNT; i++) {
        size_t n = valid[i].len - RECORD_HEADER_LEN;
        enum sni_result r = sni_parse(valid[i].data, valid[i].len, want, &want_len);

        memcpy(msg, valid[i].data + RECORD_HEADER_LEN, n);
        CU_ASSERT_EQUAL(sni_parse_message(msg, n, out, &out_len), r);
        if (r == SNI_FOUND)
            CU_ASSERT_TRUE(out_len == want_len && strcmp(out, want) == 0);
        for (size_t k = 0; k < n; k++)
            CU_ASSERT_EQUAL(sni_parse_message(msg, k, out, &out_len), SNI_NEED_MORE);
        msg[n] = 0x16;
        CU_ASSERT_EQUAL(sni_parse_message(msg, n + 1, out, &out_len), SNI_ERR_RECORD_TRAILING);
    }
    CU_ASSERT_EQUAL(sni_parse_message((const uint8_t *)"\x02\0\0\x30", 4, out, &out_len),
                    SNI_ERR_HANDSHAKE_TYPE);
}

static void
test_result_str(void)
{
    for (int r = SNI_FOUND; r <= SNI_COMPLETE; r++) {
        const char *s = sni_result_str((enum sni_result)r);

        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_TRUE(s[0] != '\0' && strcmp(s, "unknown") != 0);
        CU_ASSERT_EQUAL(strspn(s, "abcdefghijklmnopqrstuvwxyz-"), strlen(s));
        for (int q = SNI_FOUND; q < r; q++)
            CU_ASSERT_STRING_NOT_EQUAL(s, sni_result_str((enum sni_result)q));
    }
    CU_ASSERT_STRING_EQUAL(sni_result_str(SNI_NEED_MORE), "need-more");
    CU_ASSERT_STRING_EQUAL(sni_result_str(SNI_ERR_HELLO_LENGTH), "clienthello-length");
    CU_ASSERT_STRING_EQUAL(sni_result_str((enum sni_result)1000), "unknown");
}

/* The input ends exactly where an inaccessible page begins: a read past it faults. */
static uint8_t *guard_end;

static enum sni_result
parse_at_guard(const uint8_t *data, size_t len)
{
    uint8_t *p = guard_end - len;

    memcpy(p, data, len);
    return parse(p, len);
}

static void
check_at_guard(const char *name, const uint8_t *data, size_t len)
{
    for (size_t n = 0; n <= len; n++) {
        if (parse_at_guard(data, n) != parse(data, n)) {
            printf("\n    %s at %zu bytes", name, n);
            CU_FAIL("guard page");
            return;
        }
    }
}

static void
test_guard_page(void)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t span = ((WORK_MAX + (size_t)page - 1) / (size_t)page) * (size_t)page;
    uint8_t *map = mmap(NULL, span + (size_t)page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    CU_ASSERT_FATAL(map != MAP_FAILED);
    CU_ASSERT_FATAL(mprotect(map + span, (size_t)page, PROT_NONE) == 0);
    guard_end = map + span;

    for (size_t i = 0; i < VALID_COUNT; i++) {
        size_t msg_len, cut = 7, n;
        const uint8_t *msg = message_of(&valid[i], &msg_len);

        check_at_guard(valid[i].name, valid[i].data, valid[i].len);
        CU_ASSERT_EQUAL(parse_at_guard(valid[i].data, valid[i].len), valid[i].want);
        n = split_records(work2, msg, msg_len, &cut, 1);
        check_at_guard(valid[i].name, work2, n);
    }
    for (size_t i = 0; i < BODY_COUNT; i++) {
        size_t n = wrap_body(work2, bodies[i].body, bodies[i].len);

        check_at_guard(bodies[i].name, work2, n);
    }
    for (size_t i = 0; i < HOSTILE_COUNT; i++) {
        size_t n = wrap_hostile(work2, &hostile[i]);

        check_at_guard(hostile[i].name, work2, n);
    }
    for (size_t i = 0; i < RAW_COUNT; i++)
        check_at_guard(raws[i].name, raws[i].data, raws[i].len);
    CU_ASSERT_EQUAL(munmap(map, span + (size_t)page), 0);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "valid hellos", test_valid_hellos },
        { "every prefix needs more", test_every_prefix_needs_more },
        { "truncated", test_truncated },
        { "hello bodies", test_bodies },
        { "hostile lengths", test_hostile_lengths },
        { "raw inputs", test_raw_inputs },
        { "errors are final", test_errors_are_final },
        { "every split into records", test_every_split },
        { "length fields +1 and -1", test_length_mutations },
        { "host names", test_names },
        { "too large", test_too_large },
        { "big hellos over many records", test_big_hellos },
        { "scan reads headers only", test_scan_headers_only },
        { "scan errors", test_scan_errors },
        { "scan agrees with parse", test_scan_agrees },
        { "exhausted extension types", test_exhausted_extension_types },
        { "bytes after the hello", test_bytes_after_hello },
        { "output", test_output },
        { "handshake message without records", test_message_level },
        { "result strings", test_result_str },
        { "guard page", test_guard_page },
    };

    return UNIT_RUN("sni", tests);
}
