/* libFuzzer harness for runtime/quic.c. Random bytes never pass the AEAD tag, so the first
 * input byte picks what the rest is:
 *
 *   0  raw datagrams, each [length (2)][bytes], fed to one flow as they are;
 *   1  Initial payloads, each [length (2)][frames], sealed as Initials of one connection
 *      (packet numbers 0, 1, ...) padded to 1200 bytes: the frame walker and reassembly;
 *   2  [pieces (1)][cuts (pieces)][order (1)][ClientHello message]: the message cut into
 *      CRYPTO frames, sent out of order, some overlapping, some coalesced: the verdict must
 *      be the one of the whole message in one frame.
 *
 * Besides memory errors it checks what quic_feed() promises: a refused datagram leaves the
 * flow as it was, a final verdict stays, a name is NUL-terminated at host_len; and, on raw
 * datagrams, what quic_long_header_ids() and quic_version_negotiation() promise. */
#include "quic.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/quic_seal.h"

#define DGRAM 1200
#define PIECES_MAX 16
#define MESSAGE_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz_quic: %s:%d: invariant failed: %s\n", __FILE__,      \
                    __LINE__, #cond);                                                  \
            abort();                                                                   \
        }                                                                              \
    } while (0)

static struct quic_flow flow, before;
static uint8_t dgram[65536];
static const uint8_t dcid[8] = { 0xf0, 0x0d, 0xca, 0xfe, 0x01, 0x02, 0x03, 0x04 };

static bool
is_datagram_error(enum quic_result r)
{
    return r >= QUIC_ERR_NOT_LONG_HEADER && r <= QUIC_ERR_CRYPTO_LIB;
}

/* Feeds one datagram to the harness's flow and checks the contract around it. */
static enum quic_result
feed(const uint8_t *p, size_t n)
{
    bool was_final = quic_is_final(flow.verdict);
    enum quic_result old = flow.verdict, r;

    before = flow;
    r = quic_feed(&flow, p, n);
    CHECK(r >= QUIC_FOUND && r <= QUIC_ERR_HELLO);
    CHECK(strcmp(quic_result_str(r), "unknown") != 0);
    CHECK(r != QUIC_ERR_CRYPTO_LIB);
    if (was_final)
        CHECK(r == old);
    if (is_datagram_error(r) || was_final)
        CHECK(memcmp(&before, &flow, sizeof(flow)) == 0);
    if (quic_is_final(r))
        CHECK(flow.verdict == r);
    if (r == QUIC_FOUND)
        CHECK(flow.host_len >= 1 && flow.host_len <= SNI_NAME_MAX &&
              strlen(flow.host) == flow.host_len);
    if (r == QUIC_ERR_HELLO)
        CHECK(flow.sni != SNI_FOUND && flow.sni != SNI_NO_SNI && flow.sni != SNI_NEED_MORE);
    if (flow.version != 0)
        CHECK(flow.dcid.len >= QUIC_INITIAL_DCID_MIN && flow.dcid.len <= QUIC_CID_MAX);
    return r;
}

static const struct quic_keys *
keys(void)
{
    static struct quic_keys k;
    static bool done;

    if (!done)
        CHECK(quic_initial_keys(QUIC_VERSION_1, dcid, sizeof(dcid), false, &k) == 0);
    done = true;
    return &k;
}

/* Seals payload[0..n) as Initial number pn at out, padded to pad_to bytes. */
static size_t
seal(uint8_t *out, size_t cap, uint64_t pn, const uint8_t *payload, size_t n, size_t pad_to)
{
    struct seal s = { .version = QUIC_VERSION_1, .type = SEAL_INITIAL, .dcid = dcid,
                      .dcid_len = sizeof(dcid), .pn = pn, .pn_len = 2, .keys = keys() };

    return seal_packet(out, cap, &s, payload, n, pad_to);
}

/* The next [length (2)][bytes] record of data, or false at the end. */
static bool
next_record(const uint8_t **data, size_t *len, const uint8_t **rec, size_t *rec_len)
{
    size_t n;

    if (*len < 2)
        return false;
    n = (size_t)(*data)[0] << 8 | (*data)[1];
    if (n > *len - 2)
        n = *len - 2;
    *rec = *data + 2;
    *rec_len = n;
    *data += 2 + n;
    *len -= 2 + n;
    return true;
}

/* The relay's header readers on the same datagram: ids within it, and a Version
 * Negotiation only for another version, smaller than a third of what came. */
static void
check_headers(const uint8_t *p, size_t n)
{
    struct quic_cid d, s;
    uint32_t v;
    uint8_t vn[QUIC_VN_MAX];
    size_t m = quic_version_negotiation(p, n, vn, sizeof(vn));
    bool ids = quic_long_header_ids(p, n, &v, &d, &s) == 0;

    if (ids)
        CHECK(d.len <= QUIC_CID_MAX && s.len <= QUIC_CID_MAX && 7u + d.len + s.len <= n);
    if (m == 0)
        return;
    CHECK(ids && v != 0 && v != QUIC_VERSION_1 && v != QUIC_VERSION_2);
    CHECK(m <= QUIC_VN_MAX && m * 3 < n && (vn[0] & 0x80));
    CHECK(vn[5] == s.len && memcmp(vn + 6, s.id, s.len) == 0);
    CHECK(vn[6 + s.len] == d.len && memcmp(vn + 7 + s.len, d.id, d.len) == 0);
}

static void
run_raw(const uint8_t *data, size_t len)
{
    const uint8_t *p;
    size_t n;

    while (next_record(&data, &len, &p, &n)) {
        check_headers(p, n);
        feed(p, n);
    }
}

static void
run_payloads(const uint8_t *data, size_t len)
{
    const uint8_t *p;
    size_t n;
    uint64_t pn = 0;

    while (next_record(&data, &len, &p, &n)) {
        size_t d = seal(dgram, sizeof(dgram), pn++, p, n, DGRAM);

        if (d > 0)
            feed(dgram, d);
    }
}

/* The verdict of msg[0..n) sent whole, in one CRYPTO frame of one Initial. */
static enum quic_result
whole_verdict(const uint8_t *msg, size_t n, char host[SNI_NAME_MAX + 1])
{
    static uint8_t frame[MESSAGE_MAX + 16];
    size_t d = seal(dgram, sizeof(dgram), 0, frame, seal_crypto_frame(frame, 0, msg, n), DGRAM);
    enum quic_result r;

    CHECK(d > 0);
    quic_flow_init(&flow);
    r = feed(dgram, d);
    memcpy(host, flow.host, sizeof(flow.host));
    return r;
}

/* Cuts msg at the given points into pieces, each stretched to overlap the next by a few
 * bytes when the order byte says so, and sends them in a shuffled order, two pieces to a
 * packet, two packets to a datagram when the order byte says so. */
static enum quic_result
split_verdict(const uint8_t *msg, size_t n, const uint8_t *cuts, size_t count, uint8_t order)
{
    static uint8_t frames[2 * (MESSAGE_MAX + 16)];
    size_t at[PIECES_MAX + 1], idx[PIECES_MAX], pieces = count + 1, pn = 0;
    enum quic_result r = QUIC_NEED_MORE;
    uint32_t rnd = order * 2654435761u + 1;

    for (size_t i = 0; i < count; i++)
        at[i] = (size_t)cuts[i] * n / 256;
    at[count] = n;
    for (size_t i = 1; i <= count; i++)         /* insertion sort: a few points */
        for (size_t j = i; j > 0 && at[j - 1] > at[j]; j--) {
            size_t t = at[j];

            at[j] = at[j - 1];
            at[j - 1] = t;
        }
    for (size_t i = 0; i < pieces; i++)
        idx[i] = i;
    for (size_t i = pieces - 1; i > 0; i--) {   /* Fisher-Yates */
        size_t j, t;

        rnd = rnd * 1103515245u + 12345u;
        j = (rnd >> 8) % (i + 1);
        t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    quic_flow_init(&flow);
    for (size_t i = 0; i < pieces; i += 2) {
        size_t len = 0, d = 0;

        for (size_t k = i; k < i + 2 && k < pieces; k++) {
            size_t lo = idx[k] == 0 ? 0 : at[idx[k] - 1], hi = at[idx[k]];

            if (order & 1)
                hi = hi + 7 < n ? hi + 7 : n;   /* overlap the next piece */
            len += seal_crypto_frame(frames + len, (uint32_t)lo, msg + lo, hi - lo);
        }
        d = seal(dgram, sizeof(dgram), pn++, frames, len, (order & 2) ? 0 : DGRAM);
        if ((order & 2) && i + 2 < pieces) {    /* coalesce the next packet */
            len = 0;
            i += 2;
            for (size_t k = i; k < i + 2 && k < pieces; k++) {
                size_t lo = idx[k] == 0 ? 0 : at[idx[k] - 1], hi = at[idx[k]];

                len += seal_crypto_frame(frames + len, (uint32_t)lo, msg + lo, hi - lo);
            }
            d += seal(dgram + d, sizeof(dgram) - d, pn++, frames, len, 0);
        }
        if (d < DGRAM) {
            memset(dgram + d, 0, DGRAM - d);    /* trailing zeros end the walk */
            d = DGRAM;
        }
        r = feed(dgram, d);
    }
    return r;
}

/* Cutting, reordering, overlapping and coalescing change nothing for a hello that is
 * accepted or incomplete; an error stays an error (maybe another one, seen on a prefix).
 * Bytes after the message are the exception: sent whole they are seen with it and refused,
 * sent later they come after the verdict. */
static void
run_split(const uint8_t *data, size_t len)
{
    char whole_host[SNI_NAME_MAX + 1];
    const uint8_t *msg;
    size_t count, n;
    enum quic_result whole, split;

    if (len < 2)
        return;
    count = data[0] % PIECES_MAX;
    if (len < 2 + count || len - 2 - count > MESSAGE_MAX)
        return;
    msg = data + 2 + count;
    n = len - 2 - count;
    whole = whole_verdict(msg, n, whole_host);
    split = split_verdict(msg, n, data + 1, count, data[1 + count]);
    if (n >= 4 && n > 4 + ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3]))
        return;
    if (whole == QUIC_FOUND || whole == QUIC_NO_SNI || whole == QUIC_NEED_MORE ||
        split == QUIC_FOUND || split == QUIC_NO_SNI || split == QUIC_NEED_MORE)
        CHECK(split == whole);
    if (whole == QUIC_FOUND)
        CHECK(strcmp(flow.host, whole_host) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len == 0)
        return 0;
    quic_flow_init(&flow);
    switch (data[0] % 3) {
    case 0:
        run_raw(data + 1, len - 1);
        break;
    case 1:
        run_payloads(data + 1, len - 1);
        break;
    default:
        run_split(data + 1, len - 1);
    }
    return 0;
}
