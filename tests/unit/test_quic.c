/* Unit tests for runtime/quic.c, the client Initial reader. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1       /* MAP_ANONYMOUS */
#endif
#include "quic.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "quic_seal.h"
#include "quic_vectors.h"
#include "sni_fixtures.h"
#include "unit.h"

#define RECORD_HEADER_LEN 5
#define DGRAM 1200

/* The handshake messages inside two one-record fixtures. */
#define PQ_MSG (hello_pq + RECORD_HEADER_LEN)
#define PQ_LEN (sizeof(hello_pq) - RECORD_HEADER_LEN)
#define TLS13_MSG (hello_openssl_tls13 + RECORD_HEADER_LEN)
#define TLS13_LEN (sizeof(hello_openssl_tls13) - RECORD_HEADER_LEN)

static struct quic_flow flow, saved;
static const uint8_t dcid[8] = { 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8 };
static const uint8_t scid[4] = { 0x5c, 0x1d, 0x00, 0x01 };

/* Hex text to bytes, spaces skipped. Returns the byte count. */
static size_t
hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;

    for (; *s != '\0'; s++) {
        if (*s == ' ')
            continue;
        if (n >= cap || sscanf(s, "%2x", &v) != 1)
            return 0;
        out[n++] = (uint8_t)v;
        s++;
    }
    return n;
}

static bool
bytes_are(const uint8_t *p, size_t n, const char *want)
{
    uint8_t buf[2048];
    size_t m = hex(want, buf, sizeof(buf));

    return m == n && memcmp(p, buf, n) == 0;
}

/* A sealer for the test connection: DCID dcid, SCID scid, version v, keys from dcid. */
static struct seal
conn(uint32_t v, enum seal_type type, uint64_t pn)
{
    static struct quic_keys keys[2];
    struct quic_keys *k = &keys[v == QUIC_VERSION_2];

    CU_ASSERT_FATAL(quic_initial_keys(v, dcid, sizeof(dcid), false, k) == 0);
    return (struct seal){ .version = v, .type = type, .dcid = dcid, .dcid_len = sizeof(dcid),
                          .scid = scid, .scid_len = sizeof(scid), .pn = pn, .pn_len = 1,
                          .keys = k };
}

/* One Initial of version 1 with payload p[0..n), PADDING up to pad_to bytes. */
static size_t
initial(uint8_t *out, uint64_t pn, const uint8_t *p, size_t n, size_t pad_to)
{
    struct seal s = conn(QUIC_VERSION_1, SEAL_INITIAL, pn);
    size_t len = seal_packet(out, 65536, &s, p, n, pad_to);

    CU_ASSERT_FATAL(len > 0);
    return len;
}

/* One 1200-byte datagram holding one Initial whose payload is a CRYPTO frame with
 * msg[off .. off + n) at offset off. */
static size_t
crypto_datagram(uint8_t *out, uint64_t pn, const uint8_t *msg, uint32_t off, size_t n)
{
    uint8_t frame[DGRAM];

    return initial(out, pn, frame, seal_crypto_frame(frame, off, msg + off, n), DGRAM);
}

static void
reset(void)
{
    quic_flow_init(&flow);
}

/* Feeds one datagram; a refused datagram must leave the flow as it was. */
static enum quic_result
feed(const uint8_t *p, size_t n)
{
    enum quic_result r;

    saved = flow;
    r = quic_feed(&flow, p, n);
    if (r >= QUIC_ERR_NOT_LONG_HEADER && r <= QUIC_ERR_CRYPTO_LIB)
        CU_ASSERT(memcmp(&saved, &flow, sizeof(flow)) == 0);
    return r;
}

/* ---- RFC test vectors ---- */

static void
check_keys(uint32_t v, bool server, const char *key, const char *iv, const char *hp)
{
    uint8_t id[8];
    struct quic_keys k;

    CU_ASSERT_FATAL(hex(A_DCID, id, sizeof(id)) == 8);
    CU_ASSERT_FATAL(quic_initial_keys(v, id, sizeof(id), server, &k) == 0);
    CU_ASSERT(bytes_are(k.key, sizeof(k.key), key));
    CU_ASSERT(bytes_are(k.iv, sizeof(k.iv), iv));
    CU_ASSERT(bytes_are(k.hp, sizeof(k.hp), hp));
}

static void
test_quic_keys_rfc9001(void)
{
    check_keys(QUIC_VERSION_1, false, V1_CLIENT_KEY, V1_CLIENT_IV, V1_CLIENT_HP);
    check_keys(QUIC_VERSION_1, true, V1_SERVER_KEY, V1_SERVER_IV, V1_SERVER_HP);
}

static void
test_quic_keys_rfc9369(void)
{
    struct quic_keys k;

    check_keys(QUIC_VERSION_2, false, V2_CLIENT_KEY, V2_CLIENT_IV, V2_CLIENT_HP);
    check_keys(QUIC_VERSION_2, true, V2_SERVER_KEY, V2_SERVER_IV, V2_SERVER_HP);
    CU_ASSERT_EQUAL(quic_initial_keys(0xff00001du, dcid, sizeof(dcid), false, &k), -1);
}

/* The protected packet opens to the exact header and payload of the RFC. */
static void
check_open(uint32_t v, const char *packet, const char *header)
{
    static uint8_t pkt[DGRAM], out[DGRAM], payload[1162];
    uint8_t id[8];
    struct quic_keys k;
    size_t hdr_len = 0;
    uint64_t pn = 0;
    size_t frame_len = hex(A2_CRYPTO_FRAME, payload, sizeof(payload));

    CU_ASSERT_FATAL(hex(packet, pkt, sizeof(pkt)) == DGRAM);
    CU_ASSERT_FATAL(frame_len == 245);
    memset(payload + frame_len, 0, sizeof(payload) - frame_len);
    hex(A_DCID, id, sizeof(id));
    CU_ASSERT_FATAL(quic_initial_keys(v, id, sizeof(id), false, &k) == 0);
    /* pn_off 18: byte 0, version, DCID length and DCID, SCID length, token length, Length */
    CU_ASSERT_EQUAL(quic_open(&k, pkt, DGRAM, 18, UINT64_MAX, out, &hdr_len, &pn), 1184);
    CU_ASSERT_EQUAL(hdr_len, 22);
    CU_ASSERT_EQUAL(pn, 2);
    CU_ASSERT(bytes_are(out, 22, header));
    CU_ASSERT(memcmp(out + 22, payload, sizeof(payload)) == 0);
}

static void
test_quic_open_rfc9001(void)
{
    check_open(QUIC_VERSION_1, V1_A2_PACKET, V1_A2_HEADER);
}

static void
test_quic_open_rfc9369(void)
{
    check_open(QUIC_VERSION_2, V2_A2_PACKET, V2_A2_HEADER);
}

/* The whole datagram gives example.com, the DCID and version of the vector. */
static void
check_feed(uint32_t v, const char *packet)
{
    static uint8_t pkt[DGRAM], frame[245];

    CU_ASSERT_FATAL(hex(packet, pkt, sizeof(pkt)) == DGRAM);
    hex(A2_CRYPTO_FRAME, frame, sizeof(frame));
    reset();
    CU_ASSERT_EQUAL_FATAL(feed(pkt, DGRAM), QUIC_FOUND);
    CU_ASSERT_STRING_EQUAL(flow.host, "example.com");
    CU_ASSERT_EQUAL(flow.host_len, 11);
    CU_ASSERT_EQUAL(flow.sni, SNI_FOUND);
    CU_ASSERT_EQUAL(flow.version, v);
    CU_ASSERT(bytes_are(flow.dcid.id, flow.dcid.len, A_DCID));
    CU_ASSERT_EQUAL(flow.scid.len, 0);
    /* The stream holds the ClientHello, the frame minus its 4 header bytes. */
    CU_ASSERT_EQUAL(flow.contiguous, 241);
    CU_ASSERT(memcmp(flow.crypto, frame + 4, 241) == 0);
}

static void
test_quic_feed_rfc9001(void)
{
    check_feed(QUIC_VERSION_1, V1_A2_PACKET);
}

static void
test_quic_feed_rfc9369(void)
{
    check_feed(QUIC_VERSION_2, V2_A2_PACKET);
}

/* The test's sealer gives the RFC's packets byte for byte, so the packets it builds below
 * are what a client would send. */
static void
check_seal(uint32_t v, const char *packet)
{
    static uint8_t want[DGRAM], got[DGRAM], frame[245];
    uint8_t id[8];
    struct quic_keys k;
    struct seal s = { .version = v, .type = SEAL_INITIAL, .dcid = id, .dcid_len = 8,
                      .pn = 2, .pn_len = 4, .keys = &k };

    hex(packet, want, sizeof(want));
    hex(A2_CRYPTO_FRAME, frame, sizeof(frame));
    hex(A_DCID, id, sizeof(id));
    CU_ASSERT_FATAL(quic_initial_keys(v, id, 8, false, &k) == 0);
    CU_ASSERT_EQUAL_FATAL(seal_packet(got, sizeof(got), &s, frame, sizeof(frame), DGRAM),
                          DGRAM);
    CU_ASSERT(memcmp(got, want, DGRAM) == 0);
}

static void
test_quic_sealer_matches_vectors(void)
{
    check_seal(QUIC_VERSION_1, V1_A2_PACKET);
    check_seal(QUIC_VERSION_2, V2_A2_PACKET);
}

/* ---- reassembly ---- */

/* A post-quantum-sized hello in two Initials in two datagrams, the second first. */
static void
test_quic_two_datagrams_reversed(void)
{
    static uint8_t d1[DGRAM], d2[DGRAM];
    size_t cut = 1000;

    crypto_datagram(d1, 0, PQ_MSG, 0, cut);
    crypto_datagram(d2, 1, PQ_MSG, (uint32_t)cut, PQ_LEN - cut);
    reset();
    CU_ASSERT_EQUAL(feed(d2, DGRAM), QUIC_NEED_MORE);
    CU_ASSERT_EQUAL(flow.version, QUIC_VERSION_1);
    CU_ASSERT_EQUAL(flow.scid.len, sizeof(scid));
    CU_ASSERT(memcmp(flow.scid.id, scid, sizeof(scid)) == 0);
    CU_ASSERT_EQUAL(flow.contiguous, 0);
    CU_ASSERT_EQUAL(feed(d2, DGRAM), QUIC_NEED_MORE);          /* retransmitted */
    CU_ASSERT_EQUAL(feed(d1, DGRAM), QUIC_FOUND);
    CU_ASSERT_STRING_EQUAL(flow.host, "pq.switchyard.test");
    CU_ASSERT_EQUAL(flow.contiguous, PQ_LEN);

    reset();                                                    /* and in order */
    CU_ASSERT_EQUAL(feed(d1, DGRAM), QUIC_NEED_MORE);
    CU_ASSERT_EQUAL(feed(d2, DGRAM), QUIC_FOUND);
    CU_ASSERT_STRING_EQUAL(flow.host, "pq.switchyard.test");
}

/* An Initial, then a 0-RTT packet filling the datagram: the 0-RTT one is skipped. Then
 * two Initials and a 0-RTT packet in one datagram. */
static void
test_quic_coalesced(void)
{
    static uint8_t d[DGRAM], frame[DGRAM];
    struct seal zero = conn(QUIC_VERSION_1, SEAL_0RTT, 0);
    const uint8_t junk[] = { 0x08, 0x00, 0x01, 'x' };   /* STREAM: not for an Initial */
    size_t n, half = TLS13_LEN / 2;

    n = initial(d, 0, frame, seal_crypto_frame(frame, 0, TLS13_MSG, TLS13_LEN), 0);
    CU_ASSERT(n < 500);
    CU_ASSERT_FATAL(seal_packet(d + n, DGRAM - n, &zero, junk, sizeof(junk), DGRAM - n) ==
                    DGRAM - n);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_FOUND);
    CU_ASSERT_STRING_EQUAL(flow.host, "switchyard.example.com");

    n = initial(d, 0, frame, seal_crypto_frame(frame, 0, TLS13_MSG, half), 0);
    n += initial(d + n, 1, frame, seal_crypto_frame(frame, (uint32_t)half, TLS13_MSG + half,
                                                    TLS13_LEN - half), 0);
    CU_ASSERT_FATAL(seal_packet(d + n, DGRAM - n, &zero, junk, sizeof(junk), DGRAM - n) ==
                    DGRAM - n);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_FOUND);
    CU_ASSERT_STRING_EQUAL(flow.host, "switchyard.example.com");
    CU_ASSERT_EQUAL(flow.largest_pn, 1);
}

/* After a good first packet, one that cannot be read ends the walk and keeps what came
 * before: trailing zeros, a second Initial with a broken tag, one of another DCID. */
static void
test_quic_coalesced_tail_ignored(void)
{
    static uint8_t d[DGRAM], frame[DGRAM];
    struct seal other = conn(QUIC_VERSION_1, SEAL_INITIAL, 1);
    const uint8_t other_dcid[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
    size_t n, m, half = TLS13_LEN / 2;

    n = initial(d, 0, frame, seal_crypto_frame(frame, 0, TLS13_MSG, half), 0);
    memset(d + n, 0, DGRAM - n);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_NEED_MORE);
    CU_ASSERT_EQUAL(flow.contiguous, half);

    m = initial(d + n, 1, frame, seal_crypto_frame(frame, (uint32_t)half, TLS13_MSG + half,
                                                   TLS13_LEN - half), DGRAM - n);
    d[n + m - 1] ^= 1;
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_NEED_MORE);
    CU_ASSERT_EQUAL(flow.contiguous, half);

    other.dcid = other_dcid;
    CU_ASSERT_FATAL(seal_packet(d + n, DGRAM - n, &other, frame,
                                seal_crypto_frame(frame, (uint32_t)half, TLS13_MSG + half,
                                                  TLS13_LEN - half), DGRAM - n) == DGRAM - n);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_NEED_MORE);
    CU_ASSERT_EQUAL(flow.contiguous, half);
}

/* CRYPTO frames out of order, overlapping and repeated, in one packet and across two. */
static void
test_quic_overlapping_ranges(void)
{
    static uint8_t d[DGRAM], p[DGRAM];
    size_t n = 0;

    n += seal_crypto_frame(p + n, 100, TLS13_MSG + 100, TLS13_LEN - 100);
    n += seal_crypto_frame(p + n, 0, TLS13_MSG, 150);
    n += seal_crypto_frame(p + n, 50, TLS13_MSG + 50, 200);
    n += seal_crypto_frame(p + n, 0, TLS13_MSG, TLS13_LEN);
    initial(d, 0, p, n, DGRAM);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_FOUND);
    CU_ASSERT_STRING_EQUAL(flow.host, "switchyard.example.com");

    reset();
    crypto_datagram(d, 0, TLS13_MSG, 120, TLS13_LEN - 120);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_NEED_MORE);
    crypto_datagram(d, 1, TLS13_MSG, 100, 50);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_NEED_MORE);
    crypto_datagram(d, 2, TLS13_MSG, 0, 110);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_FOUND);
}

/* Bytes sent twice must be the same bytes. */
static void
test_quic_conflicting_ranges(void)
{
    static uint8_t d[DGRAM], p[DGRAM], msg[400];
    size_t n = 0;

    memcpy(msg, TLS13_MSG, TLS13_LEN);
    n += seal_crypto_frame(p + n, 0, msg, 100);
    msg[60] ^= 0x20;
    n += seal_crypto_frame(p + n, 50, msg + 50, 50);
    initial(d, 0, p, n, DGRAM);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_CRYPTO_CONFLICT);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_CRYPTO_CONFLICT);  /* final */
}

/* ---- refusals ---- */

static void
test_quic_corrupt_tag(void)
{
    static uint8_t pkt[DGRAM];

    hex(V1_A2_PACKET, pkt, sizeof(pkt));
    reset();
    pkt[DGRAM - 1] ^= 0x01;                                     /* the tag */
    CU_ASSERT_EQUAL(feed(pkt, DGRAM), QUIC_ERR_DECRYPT);
    pkt[DGRAM - 1] ^= 0x01;
    pkt[600] ^= 0x80;                                           /* the ciphertext */
    CU_ASSERT_EQUAL(feed(pkt, DGRAM), QUIC_ERR_DECRYPT);
    pkt[600] ^= 0x80;
    pkt[9] ^= 0x01;                                             /* the DCID: other keys */
    CU_ASSERT_EQUAL(feed(pkt, DGRAM), QUIC_ERR_DECRYPT);
    pkt[9] ^= 0x01;
    CU_ASSERT_EQUAL(flow.version, 0);
    CU_ASSERT_EQUAL(feed(pkt, DGRAM), QUIC_FOUND);               /* not final: go on */
}

/* RFC 9000 §14.1: a datagram carrying an Initial has at least 1200 bytes. */
static void
test_quic_short_datagram(void)
{
    static uint8_t d[DGRAM], p[DGRAM];
    size_t n = seal_crypto_frame(p, 0, TLS13_MSG, TLS13_LEN);

    reset();
    CU_ASSERT_EQUAL(feed(d, initial(d, 0, p, n, DGRAM - 1)), QUIC_ERR_SHORT_DATAGRAM);
    CU_ASSERT_EQUAL(feed(d, initial(d, 0, p, n, 0)), QUIC_ERR_SHORT_DATAGRAM);
    hex(V1_A2_PACKET, d, sizeof(d));
    CU_ASSERT_EQUAL(feed(d, DGRAM - 1), QUIC_ERR_SHORT_DATAGRAM);
    CU_ASSERT_EQUAL(feed(d, initial(d, 0, p, n, DGRAM)), QUIC_FOUND);
}

static void
test_quic_crypto_overflow(void)
{
    static uint8_t d[DGRAM], p[DGRAM];
    const uint8_t big[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    /* A ClientHello header declaring one byte more than the bound holds. */
    const uint8_t head[4] = { 0x01, (uint8_t)((SNI_HELLO_MAX + 1) >> 16),
                              (uint8_t)((SNI_HELLO_MAX + 1) >> 8), (uint8_t)(SNI_HELLO_MAX + 1) };
    size_t n;

    reset();
    n = seal_crypto_frame(p, QUIC_CRYPTO_MAX - 4, big, sizeof(big));
    CU_ASSERT_EQUAL(feed(d, initial(d, 0, p, n, DGRAM)), QUIC_ERR_CRYPTO_OVERFLOW);
    CU_ASSERT_EQUAL(flow.verdict, QUIC_ERR_CRYPTO_OVERFLOW);

    reset();                                    /* ends exactly at the bound: kept */
    n = seal_crypto_frame(p, QUIC_CRYPTO_MAX - 8, big, sizeof(big));
    CU_ASSERT_EQUAL(feed(d, initial(d, 0, p, n, DGRAM)), QUIC_NEED_MORE);

    reset();
    n = seal_crypto_frame(p, 0, head, sizeof(head));
    CU_ASSERT_EQUAL(feed(d, initial(d, 0, p, n, DGRAM)), QUIC_ERR_CRYPTO_OVERFLOW);

    reset();                                    /* a byte past the hello's end */
    n = seal_crypto_frame(p, (uint32_t)TLS13_LEN, big, 1);
    CU_ASSERT_EQUAL(feed(d, initial(d, 0, p, n, DGRAM)), QUIC_NEED_MORE);
    crypto_datagram(d, 1, TLS13_MSG, 0, TLS13_LEN);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_CRYPTO_OVERFLOW);
}

/* Header fixtures: a valid 1200-byte Initial with some bytes changed, and the verdict. */
struct header_case {
    const char *name;
    size_t at;                  /* first byte changed */
    uint8_t bytes[4];
    size_t count;
    size_t len;                 /* datagram length */
    enum quic_result want;
};

/* Offsets in the test Initial: 0 first byte, 1..4 version, 5 DCID length, 6..13 DCID, 14
 * SCID length, 15..18 SCID, 19 token length, 20..21 Length, 22 packet number. */
static const struct header_case header_cases[] = {
    { "empty datagram", 0, { 0 }, 0, 0, QUIC_ERR_NOT_LONG_HEADER },
    { "short header", 0, { 0x41 }, 1, DGRAM, QUIC_ERR_NOT_LONG_HEADER },
    { "four bytes", 0, { 0 }, 0, 4, QUIC_ERR_HEADER },
    { "version negotiation", 1, { 0, 0, 0, 0 }, 4, DGRAM, QUIC_ERR_VERSION },
    { "draft-29", 1, { 0xff, 0, 0, 0x1d }, 4, DGRAM, QUIC_ERR_VERSION },
    { "0-RTT", 0, { 0xd0 }, 1, DGRAM, QUIC_ERR_NOT_INITIAL },
    { "Handshake", 0, { 0xe0 }, 1, DGRAM, QUIC_ERR_NOT_INITIAL },
    { "Retry", 0, { 0xf0 }, 1, DGRAM, QUIC_ERR_NOT_INITIAL },
    { "v2 type bits 00 are Retry", 1, { 0x6b, 0x33, 0x43, 0xcf }, 4, DGRAM,
      QUIC_ERR_NOT_INITIAL },
    { "DCID of 21 bytes", 5, { 21 }, 1, DGRAM, QUIC_ERR_CID },
    { "SCID of 21 bytes", 14, { 21 }, 1, DGRAM, QUIC_ERR_CID },
    { "token past the datagram", 19, { 0x7f, 0xff }, 2, DGRAM, QUIC_ERR_HEADER },
    { "Length past the datagram", 20, { 0x7f, 0xff }, 2, DGRAM, QUIC_ERR_LENGTH },
    { "Length too short to sample", 20, { 0x40, 19 }, 2, DGRAM, QUIC_ERR_LENGTH },
    { "Length cut", 20, { 0x80 }, 1, DGRAM, QUIC_ERR_LENGTH },
    { "1199 bytes", 0, { 0 }, 0, DGRAM - 1, QUIC_ERR_SHORT_DATAGRAM },
};

static void
test_quic_header_refusals(void)
{
    static uint8_t good[DGRAM], d[DGRAM];

    crypto_datagram(good, 0, TLS13_MSG, 0, TLS13_LEN);
    CU_ASSERT_EQUAL_FATAL(good[5], 8);
    CU_ASSERT_EQUAL_FATAL(good[19], 0);
    for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        const struct header_case *c = &header_cases[i];
        enum quic_result r;

        memcpy(d, good, DGRAM);
        memcpy(d + c->at, c->bytes, c->count);
        reset();
        r = feed(d, c->len);
        if (r != c->want)
            printf("\n  %s: %s, want %s", c->name, quic_result_str(r), quic_result_str(c->want));
        CU_ASSERT_EQUAL(r, c->want);
    }
}

/* RFC 9000 §7.2: a client's first DCID has at least 8 bytes; later ones may be shorter. */
static void
test_quic_short_first_dcid(void)
{
    static uint8_t d[DGRAM], p[DGRAM];
    struct seal s = conn(QUIC_VERSION_1, SEAL_INITIAL, 0);
    struct quic_keys k;
    size_t n = seal_crypto_frame(p, 0, TLS13_MSG, TLS13_LEN);

    CU_ASSERT_FATAL(quic_initial_keys(QUIC_VERSION_1, dcid, 7, false, &k) == 0);
    s.dcid_len = 7;
    s.keys = &k;
    CU_ASSERT_FATAL(seal_packet(d, DGRAM, &s, p, n, DGRAM) == DGRAM);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_CID);
    s.dcid_len = 8;
    CU_ASSERT_FATAL(quic_initial_keys(QUIC_VERSION_1, dcid, 8, false, &k) == 0);
    CU_ASSERT_FATAL(seal_packet(d, DGRAM, &s, p, n, DGRAM) == DGRAM);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_FOUND);
}

/* Payload fixtures: the frames of one Initial (PADDING after them) and the verdict. */
struct frame_case {
    const char *name;
    const uint8_t *p;
    size_t n;
    bool hello;                 /* the whole test hello follows in a CRYPTO frame */
    enum quic_result want;
};

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct frame_case frame_cases[] = {
    { "PING", BYTES(0x01), true, QUIC_FOUND },
    { "ACK", BYTES(0x02, 5, 0, 0, 5), true, QUIC_FOUND },
    { "ACK with a second range", BYTES(0x02, 10, 0, 1, 2, 1, 3), true, QUIC_FOUND },
    { "ACK with ECN counts", BYTES(0x03, 5, 0, 0, 0, 1, 2, 3), true, QUIC_FOUND },
    { "ACK range below 0", BYTES(0x02, 5, 0, 0, 6), true, QUIC_ERR_FRAME },
    { "ACK gap below 0", BYTES(0x02, 10, 0, 1, 2, 7, 0), true, QUIC_ERR_FRAME },
    { "ACK second range below 0", BYTES(0x02, 10, 0, 1, 2, 1, 6), true, QUIC_ERR_FRAME },
    { "STREAM", BYTES(0x08, 0x00, 0x01, 'x'), true, QUIC_ERR_FRAME },
    { "NEW_TOKEN", BYTES(0x07, 0x01, 'x'), true, QUIC_ERR_FRAME },
    { "HANDSHAKE_DONE", BYTES(0x1e), true, QUIC_ERR_FRAME },
    { "application CONNECTION_CLOSE", BYTES(0x1d, 0, 0), true, QUIC_ERR_FRAME },
    { "CRYPTO type in two bytes", BYTES(0x40, 0x06, 0, 1, 'x'), true, QUIC_ERR_FRAME },
    { "PING type in two bytes", BYTES(0x40, 0x01), true, QUIC_ERR_FRAME },
    { "CRYPTO past the payload", BYTES(0x06, 0x00, 0x7f, 0xff), false, QUIC_ERR_FRAME },
    { "CRYPTO offset past 2^62", BYTES(0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0x01, 'x'), false, QUIC_ERR_FRAME },
    { "CONNECTION_CLOSE", BYTES(0x1c, 0x01, 0x06, 0x02, 'n', 'o'), true, QUIC_ERR_CLOSED },
    { "CONNECTION_CLOSE reason past the payload", BYTES(0x1c, 0, 0, 0x7f, 0xff), false,
      QUIC_ERR_FRAME },
    { "not a ClientHello", BYTES(0x06, 0x00, 0x08, 0x02, 0, 0, 0x04, 3, 3, 0, 0), false,
      QUIC_ERR_HELLO },
};

static void
test_quic_frame_refusals(void)
{
    static uint8_t d[DGRAM], p[DGRAM];

    for (size_t i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
        const struct frame_case *c = &frame_cases[i];
        size_t n = c->n;
        enum quic_result r;

        memcpy(p, c->p, n);
        if (c->hello)
            n += seal_crypto_frame(p + n, 0, TLS13_MSG, TLS13_LEN);
        reset();
        r = feed(d, initial(d, 0, p, n, DGRAM));
        if (r != c->want)
            printf("\n  %s: %s, want %s", c->name, quic_result_str(r), quic_result_str(c->want));
        CU_ASSERT_EQUAL(r, c->want);
    }
    CU_ASSERT_EQUAL(flow.sni, SNI_ERR_HANDSHAKE_TYPE);
}

/* A payload with no frame at all, and reserved bits set under header protection. */
static void
test_quic_empty_payload_and_reserved_bits(void)
{
    static uint8_t d[DGRAM], p[DGRAM];
    struct seal s = conn(QUIC_VERSION_1, SEAL_INITIAL, 0);
    size_t n;

    s.pn_len = 4;
    n = seal_packet(d, DGRAM, &s, p, 0, 0);
    CU_ASSERT_FATAL(n == 42);
    memset(d + n, 0, DGRAM - n);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_FRAME);

    s.pn_len = 1;
    s.reserved = 2;
    n = seal_crypto_frame(p, 0, TLS13_MSG, TLS13_LEN);
    CU_ASSERT_FATAL(seal_packet(d, DGRAM, &s, p, n, DGRAM) == DGRAM);
    reset();
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_RESERVED_BITS);
}

/* Once the first Initial is taken, the flow's DCID and version are fixed. */
static void
test_quic_other_connection(void)
{
    static uint8_t d[DGRAM], p[DGRAM];
    struct seal s = conn(QUIC_VERSION_2, SEAL_INITIAL, 1);
    const uint8_t other[8] = { 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd9 };
    size_t half = TLS13_LEN / 2;
    size_t n = seal_crypto_frame(p, (uint32_t)half, TLS13_MSG + half, TLS13_LEN - half);

    reset();
    crypto_datagram(d, 0, TLS13_MSG, 0, half);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_NEED_MORE);
    CU_ASSERT_FATAL(seal_packet(d, DGRAM, &s, p, n, DGRAM) == DGRAM);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_OTHER_CONNECTION);        /* version 2 */
    s = conn(QUIC_VERSION_1, SEAL_INITIAL, 1);
    s.dcid = other;
    CU_ASSERT_FATAL(seal_packet(d, DGRAM, &s, p, n, DGRAM) == DGRAM);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_OTHER_CONNECTION);        /* another DCID */
    d[0] = 0xd0;
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_ERR_NOT_INITIAL);
    s.dcid = dcid;
    CU_ASSERT_FATAL(seal_packet(d, DGRAM, &s, p, n, DGRAM) == DGRAM);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_FOUND);
}

static void
test_quic_no_sni_and_final_verdicts(void)
{
    static uint8_t d[DGRAM];

    reset();
    crypto_datagram(d, 0, hello_openssl_no_sni + RECORD_HEADER_LEN, 0,
                    sizeof(hello_openssl_no_sni) - RECORD_HEADER_LEN);
    CU_ASSERT_EQUAL(feed(d, DGRAM), QUIC_NO_SNI);
    CU_ASSERT_EQUAL(flow.sni, SNI_NO_SNI);
    CU_ASSERT_EQUAL(quic_feed(&flow, NULL, 0), QUIC_NO_SNI);
    CU_ASSERT_TRUE(quic_is_final(QUIC_FOUND));
    CU_ASSERT_TRUE(quic_is_final(QUIC_ERR_HELLO));
    CU_ASSERT_FALSE(quic_is_final(QUIC_NEED_MORE));
    CU_ASSERT_FALSE(quic_is_final(QUIC_ERR_DECRYPT));
    CU_ASSERT_FALSE(quic_is_final(QUIC_ERR_CRYPTO_LIB));
}

static void
test_quic_result_names(void)
{
    for (int r = QUIC_FOUND; r <= QUIC_ERR_HELLO; r++) {
        const char *s = quic_result_str((enum quic_result)r);

        CU_ASSERT_TRUE(s[0] != '\0' && strcmp(s, "unknown") != 0);
        CU_ASSERT_EQUAL(strspn(s, "abcdefghijklmnopqrstuvwxyz0-"), strlen(s));
        for (int q = QUIC_FOUND; q < r; q++)
            CU_ASSERT_STRING_NOT_EQUAL(s, quic_result_str((enum quic_result)q));
    }
    CU_ASSERT_STRING_EQUAL(quic_result_str(QUIC_ERR_DECRYPT), "decrypt-failed");
    CU_ASSERT_STRING_EQUAL(quic_result_str((enum quic_result)1000), "unknown");
}

/* Every prefix of a valid datagram, ending where an inaccessible page begins. */
static void
test_quic_guard_page(void)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t span = ((size_t)DGRAM / (size_t)page + 1) * (size_t)page;
    uint8_t *map = mmap(NULL, span + (size_t)page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static uint8_t pkt[DGRAM];

    CU_ASSERT_FATAL(map != MAP_FAILED);
    CU_ASSERT_FATAL(mprotect(map + span, (size_t)page, PROT_NONE) == 0);
    hex(V1_A2_PACKET, pkt, sizeof(pkt));
    for (size_t n = 0; n <= DGRAM; n++) {
        memcpy(map + span - n, pkt, n);
        reset();
        CU_ASSERT_EQUAL(feed(map + span - n, n), n == DGRAM ? QUIC_FOUND :
                        n == 0 ? QUIC_ERR_NOT_LONG_HEADER : n < 5 ? QUIC_ERR_HEADER :
                        QUIC_ERR_SHORT_DATAGRAM);
    }
    CU_ASSERT_EQUAL(munmap(map, span + (size_t)page), 0);
}

/* The ids of a long header: any version; every cut of it refused, not read past. */
static void
test_quic_long_header_ids(void)
{
    static const uint8_t pkt[] = { 0xc3, 0x1a, 0x2a, 0x3a, 0x4a, 3, 0xd1, 0xd2, 0xd3,
                                   2, 0x5c, 0x1d, 0xee };
    struct quic_cid d, s;
    uint32_t v = 0;

    CU_ASSERT_EQUAL(quic_long_header_ids(pkt, sizeof(pkt), &v, &d, &s), 0);
    CU_ASSERT_EQUAL(v, 0x1a2a3a4au);
    CU_ASSERT_TRUE(d.len == 3 && memcmp(d.id, pkt + 6, 3) == 0);
    CU_ASSERT_TRUE(s.len == 2 && memcmp(s.id, pkt + 10, 2) == 0);
    for (size_t n = 0; n < 12; n++)
        CU_ASSERT_EQUAL(quic_long_header_ids(pkt, n, &v, &d, &s), -1);
    CU_ASSERT_EQUAL(quic_long_header_ids(pkt, 12, &v, &d, &s), 0);
    uint8_t short_hdr[sizeof(pkt)], long_cid[64] = { 0xc0, 0, 0, 0, 1, 21 };

    memcpy(short_hdr, pkt, sizeof(pkt));
    short_hdr[0] = 0x43;
    CU_ASSERT_EQUAL(quic_long_header_ids(short_hdr, sizeof(pkt), &v, &d, &s), -1);
    CU_ASSERT_EQUAL(quic_long_header_ids(long_cid, sizeof(long_cid), &v, &d, &s), -1);
}

/* Version Negotiation: only for a long header of another version in 1200 bytes or more;
 * the CIDs swapped, versions 1 and 2 listed, far smaller than what came. */
static void
test_quic_version_negotiation(void)
{
    static uint8_t d[DGRAM], out[QUIC_VN_MAX];
    static const uint8_t head[] = { 0xc3, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8,
                                    4, 0x5c, 0x1d, 0x00, 0x01 };
    size_t n;

    memcpy(d, head, sizeof(head));
    n = quic_version_negotiation(d, DGRAM, out, sizeof(out));
    CU_ASSERT_TRUE(bytes_are(out, n, "c3 00000000 04 5c1d0001 08 0102030405060708 "
                                     "00000001 6b3343cf"));
    CU_ASSERT_TRUE(n <= QUIC_VN_MAX && n * 3 < DGRAM);
    CU_ASSERT_EQUAL(quic_version_negotiation(d, DGRAM - 1, out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(quic_version_negotiation(d, DGRAM, out, sizeof(out) - 1), 0);
    memcpy(d + 1, "\x00\x00\x00\x01", 4);
    CU_ASSERT_EQUAL(quic_version_negotiation(d, DGRAM, out, sizeof(out)), 0);
    memcpy(d + 1, "\x6b\x33\x43\xcf", 4);
    CU_ASSERT_EQUAL(quic_version_negotiation(d, DGRAM, out, sizeof(out)), 0);
    memcpy(d + 1, "\x00\x00\x00\x00", 4);
    CU_ASSERT_EQUAL(quic_version_negotiation(d, DGRAM, out, sizeof(out)), 0);
    d[1] = 0x1a;
    d[0] = 0x43;                                /* short header */
    CU_ASSERT_EQUAL(quic_version_negotiation(d, DGRAM, out, sizeof(out)), 0);
    d[0] = 0xc3;
    d[5] = 21;                                  /* DCID too long */
    CU_ASSERT_EQUAL(quic_version_negotiation(d, DGRAM, out, sizeof(out)), 0);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "initial keys: RFC 9001 A.1", test_quic_keys_rfc9001 },
        { "initial keys: RFC 9369 A.1", test_quic_keys_rfc9369 },
        { "unprotect: RFC 9001 A.2", test_quic_open_rfc9001 },
        { "unprotect: RFC 9369 A.2", test_quic_open_rfc9369 },
        { "datagram: RFC 9001 A.2 gives example.com", test_quic_feed_rfc9001 },
        { "datagram: RFC 9369 A.2 gives example.com", test_quic_feed_rfc9369 },
        { "test sealer reproduces the A.2 packets", test_quic_sealer_matches_vectors },
        { "hello in two datagrams, reversed", test_quic_two_datagrams_reversed },
        { "coalesced Initial and 0-RTT", test_quic_coalesced },
        { "coalesced tail that cannot be read", test_quic_coalesced_tail_ignored },
        { "overlapping CRYPTO ranges", test_quic_overlapping_ranges },
        { "conflicting CRYPTO ranges", test_quic_conflicting_ranges },
        { "corrupted packet: decrypt-failed", test_quic_corrupt_tag },
        { "datagram under 1200 bytes", test_quic_short_datagram },
        { "CRYPTO past the bound", test_quic_crypto_overflow },
        { "header refusals", test_quic_header_refusals },
        { "first DCID under 8 bytes", test_quic_short_first_dcid },
        { "frame refusals", test_quic_frame_refusals },
        { "empty payload, reserved bits", test_quic_empty_payload_and_reserved_bits },
        { "other connection", test_quic_other_connection },
        { "no SNI, final verdicts", test_quic_no_sni_and_final_verdicts },
        { "result names", test_quic_result_names },
        { "guard page", test_quic_guard_page },
        { "long header ids", test_quic_long_header_ids },
        { "version negotiation", test_quic_version_negotiation },
    };

    return UNIT_RUN("quic", tests);
}
