#include "quic.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

/*
 * A datagram is walked packet by packet (RFC 9000 §12.2). The first packet decides whether
 * the datagram is taken at all, and nothing of the flow changes until it has decrypted;
 * the packets after it can only add CRYPTO bytes or end the flow with a final error.
 * Each Initial is opened into a scratch buffer on the stack (a packet is at most a UDP
 * payload), its frames are walked, its CRYPTO bytes land at their offset in the flow.
 * Once the datagram is used up the contiguous prefix of the stream goes to the ClientHello
 * parser.
 */

#define AEAD_TAG_LEN 16
#define HP_SAMPLE_LEN 16
#define PN_MAX_LEN 4
#define UDP_PAYLOAD_MAX 65527
#define VARINT_MAX ((UINT64_C(1) << 62) - 1)
#define SECRET_LEN 32

/* Long header packet types (RFC 9000 §17.2, RFC 9369 §3.2), as this module names them. */
enum packet_type { PKT_INITIAL = 0, PKT_0RTT, PKT_HANDSHAKE, PKT_RETRY };

/* Frame types a client Initial may carry (RFC 9000 §12.4). */
enum {
    FRAME_PADDING = 0x00,
    FRAME_PING = 0x01,
    FRAME_ACK = 0x02,
    FRAME_ACK_ECN = 0x03,
    FRAME_CRYPTO = 0x06,
    FRAME_CONNECTION_CLOSE = 0x1c,
};

/* The header fields of one long-header packet of version 1 or 2, data[start .. end). */
struct packet {
    uint32_t version;
    enum packet_type type;
    struct quic_cid dcid, scid;
    size_t start, pn_off, end;
};

/* Per-version constants (RFC 9001 §5.2, RFC 9369 §3.3). */
struct version_info {
    uint32_t version;
    uint8_t salt[20];
    const char *key_label, *iv_label, *hp_label;
    enum packet_type types[4];          /* indexed by the two type bits */
};

static const struct version_info versions[] = {
    { QUIC_VERSION_1,
      { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
        0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
      "quic key", "quic iv", "quic hp",
      { PKT_INITIAL, PKT_0RTT, PKT_HANDSHAKE, PKT_RETRY } },
    { QUIC_VERSION_2,
      { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
        0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 },
      "quicv2 key", "quicv2 iv", "quicv2 hp",
      { PKT_RETRY, PKT_INITIAL, PKT_0RTT, PKT_HANDSHAKE } },
};

static const struct version_info *
find_version(uint32_t version)
{
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
        if (versions[i].version == version)
            return &versions[i];
    return NULL;
}

/* ---- key derivation ---- */

/* One HKDF-SHA256 step (RFC 5869) through libcrypto: extract (salt, ikm) or expand (prk,
 * info). Returns 0 or -1. */
static int
hkdf(EVP_KDF *kdf, int mode, const uint8_t *key, size_t key_len, const uint8_t *extra,
     size_t extra_len, uint8_t *out, size_t out_len)
{
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM params[5], *p = params;
    int ok;

    if (ctx == NULL)
        return -1;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
    *p++ = OSSL_PARAM_construct_octet_string(
        mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? OSSL_KDF_PARAM_SALT : OSSL_KDF_PARAM_INFO,
        (void *)extra, extra_len);
    *p = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(ctx, out, out_len, params);
    EVP_KDF_CTX_free(ctx);
    return ok == 1 ? 0 : -1;
}

/* HKDF-Expand-Label with an empty context (RFC 8446 §7.1, RFC 9001 §5.1). */
static int
expand_label(EVP_KDF *kdf, const uint8_t secret[SECRET_LEN], const char *label, uint8_t *out,
             size_t out_len)
{
    static const char prefix[] = "tls13 ";
    uint8_t info[2 + 1 + 255 + 1];
    size_t plen = sizeof(prefix) - 1, llen = strlen(label), n = 0;

    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(plen + llen);
    memcpy(info + n, prefix, plen);
    n += plen;
    memcpy(info + n, label, llen);
    n += llen;
    info[n++] = 0;                      /* context: empty */
    return hkdf(kdf, EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, SECRET_LEN, info, n, out, out_len);
}

int
quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, bool is_server,
                  struct quic_keys *out)
{
    const struct version_info *v = find_version(version);
    uint8_t initial[SECRET_LEN], secret[SECRET_LEN];
    EVP_KDF *kdf;
    int r = -1;

    if (v == NULL)
        return -1;
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL)
        return -1;
    if (hkdf(kdf, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, dcid, dcid_len, v->salt, sizeof(v->salt),
             initial, sizeof(initial)) == 0 &&
        expand_label(kdf, initial, is_server ? "server in" : "client in", secret,
                     sizeof(secret)) == 0 &&
        expand_label(kdf, secret, v->key_label, out->key, sizeof(out->key)) == 0 &&
        expand_label(kdf, secret, v->iv_label, out->iv, sizeof(out->iv)) == 0 &&
        expand_label(kdf, secret, v->hp_label, out->hp, sizeof(out->hp)) == 0)
        r = 0;
    EVP_KDF_free(kdf);
    return r;
}

/* ---- packet protection ---- */

/* mask[0..5) = AES-128-ECB(hp, sample) (RFC 9001 §5.4.3). Returns 0 or -1. */
static int
hp_mask(const uint8_t hp[16], const uint8_t sample[HP_SAMPLE_LEN], uint8_t mask[5])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t block[HP_SAMPLE_LEN + 16];
    int n = 0, ok;

    if (ctx == NULL)
        return -1;
    ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
         EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
         EVP_EncryptUpdate(ctx, block, &n, sample, HP_SAMPLE_LEN) == 1 && n == HP_SAMPLE_LEN;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return -1;
    memcpy(mask, block, 5);
    return 0;
}

/* RFC 9000 §A.3: the full packet number nearest to the one expected. */
static uint64_t
decode_pn(uint64_t largest, uint64_t truncated, unsigned bits)
{
    uint64_t expected = largest + 1;    /* UINT64_MAX (none) gives 0 */
    uint64_t win = UINT64_C(1) << bits, hwin = win / 2;
    uint64_t candidate = (expected & ~(win - 1)) | truncated;

    if (expected >= hwin && candidate <= expected - hwin && candidate < (UINT64_C(1) << 62) - win)
        return candidate + win;
    if (candidate > expected + hwin && candidate >= win)
        return candidate - win;
    return candidate;
}

/* AES-128-GCM open of ct[0..ct_len) with its tag right after it. Returns 1 when the tag
 * matches, 0 when it does not, -1 when libcrypto fails. */
static int
aead_open(const struct quic_keys *k, const uint8_t nonce[12], const uint8_t *aad,
          size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n, r = -1;

    if (ctx == NULL)
        return -1;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k->key, nonce) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
        EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN,
                            (void *)(ct + ct_len)) == 1)
        r = EVP_DecryptFinal_ex(ctx, out + n, &n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

long
quic_open(const struct quic_keys *k, const uint8_t *pkt, size_t pkt_len, size_t pn_off,
          uint64_t largest_pn, uint8_t *out, size_t *hdr_len, uint64_t *pn)
{
    uint8_t mask[5], nonce[12];
    uint64_t truncated = 0;
    size_t pn_len, hlen;
    int r;

    /* The sample starts 4 bytes past the packet number's start (RFC 9001 §5.4.2). */
    if (pn_off > pkt_len || pkt_len - pn_off < PN_MAX_LEN + HP_SAMPLE_LEN ||
        pkt_len > UDP_PAYLOAD_MAX)
        return -1;
    if (hp_mask(k->hp, pkt + pn_off + PN_MAX_LEN, mask) == -1)
        return -2;
    memcpy(out, pkt, pn_off);
    out[0] ^= mask[0] & ((pkt[0] & 0x80) ? 0x0f : 0x1f);
    pn_len = (size_t)(out[0] & 0x03) + 1;
    hlen = pn_off + pn_len;
    for (size_t i = 0; i < pn_len; i++) {
        out[pn_off + i] = pkt[pn_off + i] ^ mask[1 + i];
        truncated = truncated << 8 | out[pn_off + i];
    }
    *pn = decode_pn(largest_pn, truncated, (unsigned)(8 * pn_len));
    /* The nonce is the IV with the packet number XORed into its low bytes (§5.3). */
    memcpy(nonce, k->iv, sizeof(nonce));
    for (size_t i = 0; i < 8; i++)
        nonce[sizeof(nonce) - 1 - i] ^= (uint8_t)(*pn >> (8 * i));
    r = aead_open(k, nonce, out, hlen, pkt + hlen, pkt_len - hlen - AEAD_TAG_LEN, out + hlen);
    if (r != 1)
        return r == 0 ? -1 : -2;
    *hdr_len = hlen;
    return (long)(pkt_len - AEAD_TAG_LEN);
}

/* ---- reading bytes ---- */

/* A variable-length integer (RFC 9000 §16) at p[*pos], not past p[len]. */
static bool
get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    size_t n;

    if (*pos >= len)
        return false;
    n = (size_t)1 << (p[*pos] >> 6);
    if (n > len - *pos)
        return false;
    *v = p[*pos] & 0x3f;
    for (size_t i = 1; i < n; i++)
        *v = *v << 8 | p[*pos + i];
    *pos += n;
    return true;
}

/* A length-prefixed connection ID at p[*pos]. */
static enum quic_result
get_cid(const uint8_t *p, size_t len, size_t *pos, struct quic_cid *cid)
{
    if (*pos >= len)
        return QUIC_ERR_HEADER;
    if (p[*pos] > QUIC_CID_MAX)
        return QUIC_ERR_CID;
    cid->len = p[(*pos)++];
    if (cid->len > len - *pos)
        return QUIC_ERR_HEADER;
    memcpy(cid->id, p + *pos, cid->len);
    *pos += cid->len;
    return QUIC_NEED_MORE;
}

/* The invariant start of a long header at data[start] (RFC 8999 §5.1): form bit and
 * version; the type when the version is known. QUIC_NEED_MORE means parsed. */
static enum quic_result
parse_prefix(const uint8_t *data, size_t len, size_t start, struct packet *pkt)
{
    const struct version_info *v;

    if (start >= len || !(data[start] & 0x80))
        return QUIC_ERR_NOT_LONG_HEADER;
    if (len - start < 5)
        return QUIC_ERR_HEADER;
    pkt->version = (uint32_t)data[start + 1] << 24 | (uint32_t)data[start + 2] << 16 |
                   (uint32_t)data[start + 3] << 8 | data[start + 4];
    v = find_version(pkt->version);
    if (v == NULL)
        return QUIC_ERR_VERSION;
    pkt->type = v->types[(data[start] >> 4) & 0x03];
    pkt->start = start;
    return QUIC_NEED_MORE;
}

/* The rest of a long header whose prefix is parsed (RFC 9000 §17.2): CIDs, then for
 * Initial, 0-RTT and Handshake the token and Length, which give pn_off and end. A Retry
 * stops after the CIDs. QUIC_NEED_MORE means parsed. */
static enum quic_result
parse_rest(const uint8_t *data, size_t len, struct packet *pkt)
{
    size_t pos = pkt->start + 5;
    uint64_t n;
    enum quic_result r;

    r = get_cid(data, len, &pos, &pkt->dcid);
    if (r == QUIC_NEED_MORE)
        r = get_cid(data, len, &pos, &pkt->scid);
    if (r != QUIC_NEED_MORE || pkt->type == PKT_RETRY)
        return r;
    if (pkt->type == PKT_INITIAL) {
        if (!get_varint(data, len, &pos, &n) || n > len - pos)
            return QUIC_ERR_HEADER;
        pos += (size_t)n;                       /* token */
    }
    if (!get_varint(data, len, &pos, &n))
        return QUIC_ERR_HEADER;
    if (n > len - pos || n < PN_MAX_LEN + HP_SAMPLE_LEN)
        return QUIC_ERR_LENGTH;
    pkt->pn_off = pos;
    pkt->end = pos + (size_t)n;
    return QUIC_NEED_MORE;
}

static bool
same_cid(const struct quic_cid *a, const struct quic_cid *b)
{
    return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

/* ---- the CRYPTO stream ---- */

static bool
has_byte(const struct quic_flow *f, size_t i)
{
    return f->have[i / 8] & (1u << (i % 8));
}

/* Stores CRYPTO bytes p[0..n) at stream offset off. */
static enum quic_result
crypto_put(struct quic_flow *f, uint64_t off, const uint8_t *p, size_t n)
{
    if (off > QUIC_CRYPTO_MAX || n > QUIC_CRYPTO_MAX - off)
        return QUIC_ERR_CRYPTO_OVERFLOW;
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)off + i;

        if (has_byte(f, at)) {
            if (f->crypto[at] != p[i])
                return QUIC_ERR_CRYPTO_CONFLICT;
            continue;
        }
        f->crypto[at] = p[i];
        f->have[at / 8] |= (uint8_t)(1u << (at % 8));
    }
    if (off + n > f->end)
        f->end = (uint32_t)(off + n);
    while (f->contiguous < f->end && has_byte(f, f->contiguous))
        f->contiguous++;
    return QUIC_NEED_MORE;
}

/* The verdict on the stream as it stands: the hello's declared end bounds it, and its
 * contiguous prefix goes to the ClientHello parser. */
static enum quic_result
hello_verdict(struct quic_flow *f)
{
    size_t n = f->contiguous;

    if (n >= 4) {
        size_t msg_len = 4 + ((size_t)f->crypto[1] << 16 | (size_t)f->crypto[2] << 8 |
                              f->crypto[3]);

        if (msg_len > QUIC_CRYPTO_MAX || f->end > msg_len)
            return QUIC_ERR_CRYPTO_OVERFLOW;
        if (n > msg_len)
            n = msg_len;
    }
    f->sni = sni_parse_message(f->crypto, n, f->host, &f->host_len);
    switch (f->sni) {
    case SNI_FOUND:
        return QUIC_FOUND;
    case SNI_NO_SNI:
        return QUIC_NO_SNI;
    case SNI_NEED_MORE:
        return QUIC_NEED_MORE;
    default:
        return QUIC_ERR_HELLO;
    }
}

/* ---- frames ---- */

/* ACK (RFC 9000 §19.3): every range must stay within packet numbers 0 and up. */
static bool
skip_ack(const uint8_t *p, size_t len, size_t *pos, bool ecn)
{
    uint64_t largest, delay, count, range, gap;

    if (!get_varint(p, len, pos, &largest) || !get_varint(p, len, pos, &delay) ||
        !get_varint(p, len, pos, &count) || !get_varint(p, len, pos, &range) ||
        range > largest)
        return false;
    largest -= range;                   /* smallest acknowledged so far */
    for (uint64_t i = 0; i < count; i++) {
        if (!get_varint(p, len, pos, &gap) || !get_varint(p, len, pos, &range) ||
            gap + 2 > largest || range > largest - gap - 2)
            return false;
        largest -= gap + 2 + range;
    }
    for (int i = 0; ecn && i < 3; i++)
        if (!get_varint(p, len, pos, &gap))
            return false;
    return true;
}

/* CONNECTION_CLOSE of the transport (RFC 9000 §19.19): error code, frame type, reason. */
static bool
skip_close(const uint8_t *p, size_t len, size_t *pos)
{
    uint64_t code, type, reason;

    if (!get_varint(p, len, pos, &code) || !get_varint(p, len, pos, &type) ||
        !get_varint(p, len, pos, &reason) || reason > len - *pos)
        return false;
    *pos += (size_t)reason;
    return true;
}

/* CRYPTO (RFC 9000 §19.6). */
static enum quic_result
read_crypto(struct quic_flow *f, const uint8_t *p, size_t len, size_t *pos)
{
    uint64_t off, n;
    enum quic_result r;

    if (!get_varint(p, len, pos, &off) || !get_varint(p, len, pos, &n) || n > len - *pos ||
        n > VARINT_MAX - off)
        return QUIC_ERR_FRAME;
    r = crypto_put(f, off, p + *pos, (size_t)n);
    *pos += (size_t)n;
    return r;
}

/* The frames of one Initial's payload. Frame types are one byte: every type allowed here
 * is below 0x40, and a longer encoding of it is not the shortest (RFC 9000 §12.4). */
static enum quic_result
read_frames(struct quic_flow *f, const uint8_t *p, size_t len)
{
    size_t pos = 0;

    if (len == 0)
        return QUIC_ERR_FRAME;          /* at least one frame (RFC 9000 §12.4) */
    while (pos < len) {
        uint8_t type = p[pos++];
        enum quic_result r = QUIC_NEED_MORE;

        switch (type) {
        case FRAME_PADDING:
        case FRAME_PING:
            break;
        case FRAME_ACK:
        case FRAME_ACK_ECN:
            if (!skip_ack(p, len, &pos, type == FRAME_ACK_ECN))
                r = QUIC_ERR_FRAME;
            break;
        case FRAME_CRYPTO:
            r = read_crypto(f, p, len, &pos);
            break;
        case FRAME_CONNECTION_CLOSE:
            r = skip_close(p, len, &pos) ? QUIC_ERR_CLOSED : QUIC_ERR_FRAME;
            break;
        default:
            r = QUIC_ERR_FRAME;
        }
        if (r != QUIC_NEED_MORE)
            return r;
    }
    return QUIC_NEED_MORE;
}

/* ---- packets and datagrams ---- */

/* Opens the Initial pkt with the flow's keys, or with keys from its DCID when the flow has
 * none yet (first), and reads its frames. A packet that does not open changes nothing. */
static enum quic_result
read_initial(struct quic_flow *f, const uint8_t *data, const struct packet *pkt, bool first)
{
    uint8_t plain[UDP_PAYLOAD_MAX];
    struct quic_keys keys = f->keys;
    size_t hdr_len;
    uint64_t pn;
    long n;

    if (first && quic_initial_keys(pkt->version, pkt->dcid.id, pkt->dcid.len, false,
                                   &keys) == -1)
        return QUIC_ERR_CRYPTO_LIB;
    n = quic_open(&keys, data + pkt->start, pkt->end - pkt->start, pkt->pn_off - pkt->start,
                  f->version == 0 ? UINT64_MAX : f->largest_pn, plain, &hdr_len, &pn);
    if (n < 0)
        return n == -1 ? QUIC_ERR_DECRYPT : QUIC_ERR_CRYPTO_LIB;
    if (first) {
        f->version = pkt->version;
        f->dcid = pkt->dcid;
        f->scid = pkt->scid;
        f->keys = keys;
        f->largest_pn = pn;
    } else if (pn > f->largest_pn) {
        f->largest_pn = pn;
    }
    if (plain[0] & 0x0c)
        return QUIC_ERR_RESERVED_BITS;
    return read_frames(f, plain + hdr_len, (size_t)n - hdr_len);
}

/* The first packet of the datagram: it must be an Initial of this flow that decrypts.
 * Checks come in the order a reader meets the fields. */
static enum quic_result
read_first(struct quic_flow *f, const uint8_t *data, size_t len, struct packet *pkt)
{
    bool first = f->version == 0;
    enum quic_result r;

    r = parse_prefix(data, len, 0, pkt);
    if (r != QUIC_NEED_MORE)
        return r;
    if (!first && pkt->version != f->version)
        return QUIC_ERR_OTHER_CONNECTION;
    if (pkt->type != PKT_INITIAL)
        return QUIC_ERR_NOT_INITIAL;
    if (len < QUIC_INITIAL_DATAGRAM_MIN)
        return QUIC_ERR_SHORT_DATAGRAM;
    r = parse_rest(data, len, pkt);
    if (r != QUIC_NEED_MORE)
        return r;
    if (first && pkt->dcid.len < QUIC_INITIAL_DCID_MIN)
        return QUIC_ERR_CID;
    if (!first && !same_cid(&pkt->dcid, &f->dcid))
        return QUIC_ERR_OTHER_CONNECTION;
    return read_initial(f, data, pkt, first);
}

/* The packets after the first (RFC 9000 §12.2): Initials of this connection are read,
 * other long-header packets skipped by their Length. Anything that cannot be walked or
 * opened ends the walk: the datagram's earlier packets stand. */
static enum quic_result
read_rest(struct quic_flow *f, const uint8_t *data, size_t len, size_t pos)
{
    while (pos < len) {
        struct packet pkt;
        enum quic_result r = parse_prefix(data, len, pos, &pkt);

        if (r != QUIC_NEED_MORE || pkt.version != f->version || pkt.type == PKT_RETRY ||
            parse_rest(data, len, &pkt) != QUIC_NEED_MORE)
            break;
        pos = pkt.end;
        if (pkt.type != PKT_INITIAL || !same_cid(&pkt.dcid, &f->dcid))
            continue;
        r = read_initial(f, data, &pkt, false);
        if (quic_is_final(r))
            return r;
        if (r != QUIC_NEED_MORE)
            break;
    }
    return QUIC_NEED_MORE;
}

void
quic_flow_init(struct quic_flow *f)
{
    memset(f, 0, sizeof(*f));
    f->verdict = QUIC_NEED_MORE;
    f->sni = SNI_NEED_MORE;
}

enum quic_result
quic_feed(struct quic_flow *f, const uint8_t *data, size_t len)
{
    struct packet pkt;
    enum quic_result r;

    if (quic_is_final(f->verdict))
        return f->verdict;
    r = read_first(f, data, len, &pkt);
    if (r == QUIC_NEED_MORE)
        r = read_rest(f, data, len, pkt.end);
    if (r == QUIC_NEED_MORE)
        r = hello_verdict(f);
    if (quic_is_final(r))
        f->verdict = r;
    return r;
}

bool
quic_is_final(enum quic_result r)
{
    return r == QUIC_FOUND || r == QUIC_NO_SNI || r >= QUIC_ERR_RESERVED_BITS;
}

const char *
quic_result_str(enum quic_result r)
{
    switch (r) {
    case QUIC_FOUND:                    return "found";
    case QUIC_NEED_MORE:                return "need-more";
    case QUIC_NO_SNI:                   return "no-sni";
    case QUIC_ERR_NOT_LONG_HEADER:      return "not-long-header";
    case QUIC_ERR_VERSION:              return "unknown-version";
    case QUIC_ERR_NOT_INITIAL:          return "not-initial";
    case QUIC_ERR_SHORT_DATAGRAM:       return "short-datagram";
    case QUIC_ERR_HEADER:               return "header";
    case QUIC_ERR_CID:                  return "connection-id";
    case QUIC_ERR_LENGTH:               return "bad-length";
    case QUIC_ERR_OTHER_CONNECTION:     return "other-connection";
    case QUIC_ERR_DECRYPT:              return "decrypt-failed";
    case QUIC_ERR_CRYPTO_LIB:           return "libcrypto";
    case QUIC_ERR_RESERVED_BITS:        return "reserved-bits";
    case QUIC_ERR_FRAME:                return "bad-frame";
    case QUIC_ERR_CLOSED:               return "connection-close";
    case QUIC_ERR_CRYPTO_OVERFLOW:      return "crypto-overflow";
    case QUIC_ERR_CRYPTO_CONFLICT:      return "crypto-conflict";
    case QUIC_ERR_HELLO:                return "clienthello";
    }
    return "unknown";
}

int
quic_long_header_ids(const uint8_t *d, size_t len, uint32_t *version, struct quic_cid *dcid,
                     struct quic_cid *scid)
{
    size_t dl, sl;

    if (len < 7 || !(d[0] & 0x80))
        return -1;
    dl = d[5];
    if (dl > QUIC_CID_MAX || len - 7 < dl)
        return -1;
    sl = d[6 + dl];
    if (sl > QUIC_CID_MAX || len - 7 - dl < sl)
        return -1;
    *version = (uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4];
    dcid->len = (uint8_t)dl;
    memcpy(dcid->id, d + 6, dl);
    scid->len = (uint8_t)sl;
    memcpy(scid->id, d + 7 + dl, sl);
    return 0;
}

size_t
quic_version_negotiation(const uint8_t *d, size_t len, uint8_t *out, size_t cap)
{
    static const uint8_t listed[8] = { 0x00, 0x00, 0x00, 0x01, 0x6b, 0x33, 0x43, 0xcf };
    struct quic_cid dcid, scid;
    uint32_t version;
    size_t at = 0;

    if (cap < QUIC_VN_MAX || len < QUIC_INITIAL_DATAGRAM_MIN ||
        quic_long_header_ids(d, len, &version, &dcid, &scid) == -1 || version == 0 ||
        find_version(version) != NULL)
        return 0;
    out[at++] = (uint8_t)(0x80 | (d[0] & 0x7f));    /* the other 7 bits are free */
    memset(out + at, 0, 4);
    at += 4;
    out[at++] = scid.len;                           /* addressed to the client's CID ... */
    memcpy(out + at, scid.id, scid.len);
    at += scid.len;
    out[at++] = dcid.len;                           /* ... from the one it chose for us */
    memcpy(out + at, dcid.id, dcid.len);
    at += dcid.len;
    memcpy(out + at, listed, sizeof(listed));
    return at + sizeof(listed);
}
