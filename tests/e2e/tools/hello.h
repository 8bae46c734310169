/* The ClientHello the test and load tools send: TLS 1.3-style (RFC 8446 §4.1.2), with
 * name in server_name (RFC 6066 §3), accepted by HAProxy's req_ssl_hello_type too. */
#ifndef TESTS_E2E_TOOLS_HELLO_H
#define TESTS_E2E_TOOLS_HELLO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HELLO_MAX 2048              /* room for any hello_build() output */
#define HELLO_SHARE_MAX 65000       /* largest key share hello_build_share() adds */
/* Room for any hello_build_share() output, in records of one byte included. */
#define HELLO_SHARE_OUT_MAX (6 * (1024 + HELLO_SHARE_MAX))

static inline uint8_t *
hello_put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

/* Writes the hello for name (NULL: no server_name) into out[HELLO_SHARE_OUT_MAX], wrapped
 * in handshake records of at most record bytes of message each (0: as few as can hold
 * it). With share > 0 (at most HELLO_SHARE_MAX) it offers a key share of that many bytes
 * in the private-use group 0xfe00, as large post-quantum key shares make hellos of more
 * than one record. Returns its length. name must be shorter than 256 bytes. */
static inline size_t
hello_build_share(uint8_t *out, const char *name, size_t record, size_t share)
{
    static uint8_t msg[1024 + HELLO_SHARE_MAX], ext[512 + HELLO_SHARE_MAX];
    uint8_t *p = msg, *e = ext;
    size_t n = name != NULL ? strlen(name) : 0, msg_len, ext_len, len = 0;

    if (name != NULL) {
        e = hello_put16(e, 0x0000);         /* server_name */
        e = hello_put16(e, n + 5);
        e = hello_put16(e, n + 3);          /* server_name_list */
        *e++ = 0;                           /* host_name */
        e = hello_put16(e, n);
        memcpy(e, name, n);
        e += n;
    }
    e = hello_put16(e, 0x002b);             /* supported_versions: TLS 1.3, 1.2 */
    e = hello_put16(e, 5);
    *e++ = 4;
    e = hello_put16(e, 0x0304);
    e = hello_put16(e, 0x0303);
    e = hello_put16(e, 0x000a);             /* supported_groups: x25519 */
    e = hello_put16(e, 4);
    e = hello_put16(e, 2);
    e = hello_put16(e, 0x001d);
    e = hello_put16(e, 0x000d);             /* signature_algorithms: ecdsa_secp256r1_sha256 */
    e = hello_put16(e, 4);
    e = hello_put16(e, 2);
    e = hello_put16(e, 0x0403);
    if (share > 0) {
        e = hello_put16(e, 0x0033);         /* key_share: one entry, group 0xfe00 */
        e = hello_put16(e, share + 6);
        e = hello_put16(e, share + 4);
        e = hello_put16(e, 0xfe00);
        e = hello_put16(e, share);
        for (size_t i = 0; i < share; i++)
            *e++ = (uint8_t)(i * 13 + 5);
    }
    ext_len = (size_t)(e - ext);

    *p++ = 1;                               /* client_hello, 24-bit length filled below */
    p += 3;
    p = hello_put16(p, 0x0303);             /* legacy_version */
    for (int i = 0; i < 32; i++)            /* random */
        *p++ = (uint8_t)(i * 7 + 1);
    *p++ = 32;                              /* legacy_session_id */
    for (int i = 0; i < 32; i++)
        *p++ = (uint8_t)(0xa0 + i);
    p = hello_put16(p, 6);                  /* cipher_suites */
    p = hello_put16(p, 0x1301);
    p = hello_put16(p, 0x1302);
    p = hello_put16(p, 0xc02f);
    *p++ = 1;                               /* legacy_compression_methods: null */
    *p++ = 0;
    p = hello_put16(p, ext_len);
    memcpy(p, ext, ext_len);
    p += ext_len;
    msg_len = (size_t)(p - msg);
    msg[1] = (uint8_t)((msg_len - 4) >> 16);
    msg[2] = (uint8_t)((msg_len - 4) >> 8);
    msg[3] = (uint8_t)(msg_len - 4);

    if (record == 0)
        record = 16384;                     /* RFC 8446 §5.1: at most 2^14 per record */
    for (size_t off = 0; off < msg_len; off += record) {
        size_t k = msg_len - off < record ? msg_len - off : record;

        out[len++] = 0x16;                  /* handshake record, version TLS 1.0 */
        out[len++] = 0x03;
        out[len++] = 0x01;
        hello_put16(out + len, k);
        len += 2;
        memcpy(out + len, msg + off, k);
        len += k;
    }
    return len;
}

/* The hello for name in out[HELLO_MAX]: hello_build_share() without a key share. */
static inline size_t
hello_build(uint8_t *out, const char *name, size_t record)
{
    return hello_build_share(out, name, record, 0);
}

#endif
