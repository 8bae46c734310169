/* The client side of QUIC packet protection, for tests only: builds protected long-header
 * packets (RFC 9001 §5.3, §5.4) with libcrypto, so that test_quic.c and fuzz_quic.c can
 * make Initials with any frames. The keys come from quic_initial_keys(), which the RFC
 * 9001 and RFC 9369 test vectors check on their own. */
#ifndef TESTS_UNIT_QUIC_SEAL_H
#define TESTS_UNIT_QUIC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "quic.h"

enum seal_type { SEAL_INITIAL = 0, SEAL_0RTT, SEAL_HANDSHAKE };

/* What goes into one packet's header besides the payload. */
struct seal {
    uint32_t version;
    enum seal_type type;
    const uint8_t *dcid;
    size_t dcid_len;
    const uint8_t *scid;
    size_t scid_len;
    uint64_t pn;
    unsigned pn_len;            /* 1..4 */
    uint8_t reserved;           /* the two reserved bits, 0 in a valid packet */
    const struct quic_keys *keys;
};

/* The two type bits of a long header (RFC 9000 §17.2, RFC 9369 §3.2). */
static uint8_t
seal_type_bits(uint32_t version, enum seal_type t)
{
    return (uint8_t)(version == QUIC_VERSION_2 ? (t + 1) & 3 : t);
}

/* AES-128-GCM seal of pt[0..n) into ct, the 16-byte tag after it. */
static bool
seal_aead(const struct quic_keys *k, const uint8_t nonce[12], const uint8_t *aad,
          size_t aad_len, const uint8_t *pt, size_t n, uint8_t *ct)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len;
    bool ok;

    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k->key, nonce) == 1 &&
         EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1 &&
         EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) == 1 &&
         EVP_EncryptFinal_ex(ctx, ct + len, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

/* Header protection mask: AES-128-ECB(hp, sample)[0..5). */
static bool
seal_mask(const uint8_t hp[16], const uint8_t *sample, uint8_t mask[5])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t block[32];
    int len;
    bool ok;

    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
         EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
         EVP_EncryptUpdate(ctx, block, &len, sample, 16) == 1;
    EVP_CIPHER_CTX_free(ctx);
    memcpy(mask, block, 5);
    return ok;
}

/* Writes the protected packet for payload[0..n) to out (room for cap bytes), with PADDING
 * (zero bytes) appended to the payload until the packet is pad_to bytes long. The Length
 * field takes two bytes, an Initial's token none. Returns the packet's length, or 0 when
 * it does not fit cap or the payload with its packet number cannot be sampled. */
static size_t
seal_packet(uint8_t *out, size_t cap, const struct seal *s, const uint8_t *payload, size_t n,
            size_t pad_to)
{
    static uint8_t plain[65536];
    uint8_t hdr[64], nonce[12], mask[5];
    size_t h = 0, pn_off, body, len;

    hdr[h++] = (uint8_t)(0xc0 | seal_type_bits(s->version, s->type) << 4 | s->reserved << 2 |
                         (s->pn_len - 1));
    for (int i = 3; i >= 0; i--)
        hdr[h++] = (uint8_t)(s->version >> (8 * i));
    hdr[h++] = (uint8_t)s->dcid_len;
    memcpy(hdr + h, s->dcid, s->dcid_len);
    h += s->dcid_len;
    hdr[h++] = (uint8_t)s->scid_len;
    if (s->scid_len > 0)
        memcpy(hdr + h, s->scid, s->scid_len);
    h += s->scid_len;
    if (s->type == SEAL_INITIAL)
        hdr[h++] = 0;                   /* token length */
    pn_off = h + 2;
    body = n;
    if (pad_to > pn_off + s->pn_len + n + 16)
        body = pad_to - (pn_off + s->pn_len + 16);
    len = pn_off + s->pn_len + body + 16;
    if (len > cap || body > sizeof(plain) || s->pn_len + body < 4 ||
        s->pn_len + body + 16 > 0x3fff)
        return 0;
    hdr[h++] = (uint8_t)(0x40 | (s->pn_len + body + 16) >> 8);
    hdr[h++] = (uint8_t)(s->pn_len + body + 16);
    for (unsigned i = 0; i < s->pn_len; i++)
        hdr[h++] = (uint8_t)(s->pn >> (8 * (s->pn_len - 1 - i)));
    memcpy(plain, payload, n);
    memset(plain + n, 0, body - n);
    memcpy(nonce, s->keys->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(s->pn >> (8 * i));
    memcpy(out, hdr, h);
    if (!seal_aead(s->keys, nonce, hdr, h, plain, body, out + h) ||
        !seal_mask(s->keys->hp, out + pn_off + 4, mask))
        return 0;
    out[0] ^= mask[0] & 0x0f;
    for (unsigned i = 0; i < s->pn_len; i++)
        out[pn_off + i] ^= mask[1 + i];
    return len;
}

/* A CRYPTO frame (RFC 9000 §19.6) carrying data[0..n) at stream offset off, with 4-byte
 * offset and 2-byte length fields. Returns its length. */
static size_t
seal_crypto_frame(uint8_t *out, uint32_t off, const uint8_t *data, size_t n)
{
    out[0] = 0x06;
    out[1] = (uint8_t)(0x80 | off >> 24);
    out[2] = (uint8_t)(off >> 16);
    out[3] = (uint8_t)(off >> 8);
    out[4] = (uint8_t)off;
    out[5] = (uint8_t)(0x40 | n >> 8);
    out[6] = (uint8_t)n;
    memcpy(out + 7, data, n);
    return 7 + n;
}

#endif
