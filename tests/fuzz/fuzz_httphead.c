/* libFuzzer harness for runtime/httphead.c.
 *
 * Input: one byte selecting the parser (request, response, chunked body), one knob byte
 * (max_head, request_was_head, how the chunked body is split), then the bytes to parse.
 * Beyond "no crash, no read past len", it checks the parsers' promises:
 * - results are deterministic and spans lie inside the head;
 * - a prefix of the input gives HH_NEED_MORE or the same verdict as the whole input, and a
 *   strict prefix of a complete head gives HH_NEED_MORE;
 * - the chunked scanner gives the same verdict, at the same offset, however the body is split;
 * - the gated parsers, fed the input a byte at a time, parse at most twice and end with the
 *   verdict of the whole input (a fault in a field line may wait for the head's end);
 * - yt_acme_path_ok() lets no path with a dot segment or a '%' (before any '?') through;
 * - hh_strip_hop() on an accepted head leaves a head that parses to the same request or
 *   response, without any hop-by-hop field (bar an Upgrade kept on purpose), and a second
 *   strip changes nothing.
 */
#include "httphead.h"
#include "rewrite.h"

#include <stdlib.h>
#include <string.h>

#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond))                                                                    \
            abort();                                                                    \
    } while (0)

static bool
span_inside(struct span s, size_t len)
{
    return s.off <= len && s.len <= len - s.off;
}

static bool
same_span(struct span a, struct span b)
{
    return a.off == b.off && a.len == b.len;
}

static bool
same_request(const struct hh_request *a, const struct hh_request *b)
{
    return a->head_len == b->head_len && same_span(a->method, b->method)
           && same_span(a->target, b->target) && same_span(a->path, b->path)
           && a->form == b->form && a->version_minor == b->version_minor
           && a->body == b->body && a->content_length == b->content_length
           && a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue
           && a->upgrade == b->upgrade && a->is_connect == b->is_connect
           && a->is_head == b->is_head && a->host_len == b->host_len
           && memcmp(a->host, b->host, a->host_len + 1) == 0
           && same_span(a->host_raw, b->host_raw);
}

static bool
same_response(const struct hh_response *a, const struct hh_response *b)
{
    return a->head_len == b->head_len && a->status == b->status
           && a->version_minor == b->version_minor && a->body == b->body
           && a->content_length == b->content_length && a->keep_alive == b->keep_alive;
}

static void
check_result(enum hh_result r)
{
    CHECK(r >= HH_OK && r <= HH_ERR_TRAILER_TOO_LARGE);
    CHECK(hh_result_str(r) != NULL && strcmp(hh_result_str(r), "unknown") != 0);
    CHECK((hh_result_status(r) == 0) == (r == HH_OK || r == HH_NEED_MORE));
}

/* The prefixes worth checking: all of them for short inputs, a spread of them otherwise. */
static size_t
prefix_count(size_t len)
{
    return len <= 300 ? len : 64;
}

static size_t
prefix_at(size_t i, size_t len)
{
    if (len <= 300)
        return i;
    return i < 32 ? len * i / 32 : len - (i - 31);
}

static bool
too_large(enum hh_result r)
{
    return r == HH_ERR_HEAD_TOO_LARGE || r == HH_ERR_REQUEST_LINE_TOO_LONG;
}

static void
check_head_bytes(const uint8_t *in, size_t head_len)
{
    CHECK(head_len >= 4 && memcmp(in + head_len - 4, "\r\n\r\n", 4) == 0);
}

/* The ACME carve-out on the path of an accepted request (in a copy of its own). */
static void
check_acme_path(const uint8_t *in, struct span path)
{
    char *p = malloc(path.len + 1);
    size_t n = path.len, seg = 0;
    bool ok;

    CHECK(p != NULL);
    memcpy(p, in + path.off, path.len);
    ok = yt_acme_path_ok(p, path.len);
    if (ok) {
        char *q = memchr(p, '?', n);

        if (q != NULL)
            n = (size_t)(q - p);
        CHECK(memchr(p, '%', n) == NULL);
        for (size_t i = 0; i <= n; i++) {
            if (i < n && p[i] != '/')
                continue;
            CHECK(!(i - seg == 1 && p[seg] == '.'));
            CHECK(!(i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.'));
            seg = i + 1;
        }
    }
    free(p);
}

/* A copy of h[0..len) in memory of its own, so that ASan sees any read past it. */
static uint8_t *
copy_of(const uint8_t *h, size_t len)
{
    uint8_t *p = malloc(len);

    CHECK(p != NULL);
    memcpy(p, h, len);
    return p;
}

/* What stripping must leave of a hop note: nothing, or the Upgrade kept on purpose. */
static void
check_stripped_hop(const struct hh_hop *hop, unsigned flags)
{
    CHECK(hop->opt_count == 0 && !hop->cl_normalise && !hop->te_normalise);
    CHECK(!hop->hop || (flags & HH_STRIP_KEEP_UPGRADE));
    CHECK(!hop->forwarded || !(flags & HH_STRIP_FORWARDED));
}

/* Strips the accepted request head a (of in) with each set of flags and checks the result. */
static void
check_strip_request(const uint8_t *in, const struct hh_request *a, size_t max_head)
{
    for (unsigned flags = 0; flags < 4; flags++) {
        uint8_t *h = copy_of(in, a->head_len);
        size_t n = hh_strip_hop(h, a->head_len, &a->hop, flags), again;
        struct hh_request b;

        CHECK(n <= a->head_len);
        check_head_bytes(h, n);
        CHECK(hh_parse_request(h, n, max_head, &b) == HH_OK);
        CHECK(b.head_len == n && b.version_minor == a->version_minor);
        CHECK(b.host_len == a->host_len && memcmp(b.host, a->host, a->host_len) == 0);
        CHECK(b.method.len == a->method.len && b.target.len == a->target.len);
        CHECK(memcmp(h + b.target.off, in + a->target.off, a->target.len) == 0);
        if (!a->hop.cl_normalise && !a->hop.te_normalise)
            CHECK(b.body == a->body && b.content_length == a->content_length);
        check_stripped_hop(&b.hop, flags);
        again = hh_strip_hop(h, n, &b.hop, flags);
        CHECK(again == n);
        free(h);
    }
}

/* As check_strip_request(), for a response head. */
static void
check_strip_response(const uint8_t *in, const struct hh_response *a, size_t max_head,
                     bool request_was_head)
{
    for (unsigned flags = 0; flags < 4; flags++) {
        uint8_t *h = copy_of(in, a->head_len);
        size_t n = hh_strip_hop(h, a->head_len, &a->hop, flags);
        struct hh_response b;

        CHECK(n <= a->head_len);
        check_head_bytes(h, n);
        CHECK(hh_parse_response(h, n, max_head, request_was_head, &b) == HH_OK);
        CHECK(b.head_len == n && b.status == a->status);
        if (!a->hop.cl_normalise)
            CHECK(b.body == a->body);
        check_stripped_hop(&b.hop, flags);
        CHECK(hh_strip_hop(h, n, &b.hop, flags) == n);
        free(h);
    }
}

/* The gated parser over in[0..1), in[0..2), ...: until it has a verdict, then compared
 * with r, the verdict of a whole parse. */
static void
fuzz_request_gated(const uint8_t *in, size_t len, size_t max_head, enum hh_result r,
                   const struct hh_request *whole)
{
    struct hh_gate g = { 0 };
    struct hh_request b;
    enum hh_result p = HH_NEED_MORE;
    size_t k;

    for (k = 1; k <= len && p == HH_NEED_MORE; k++)
        p = hh_parse_request_gated(&g, in, k, max_head, &b);
    k--;
    check_result(p);
    CHECK(g.parses <= 2);
    if (p == HH_OK) {
        CHECK(r == HH_OK && k == whole->head_len && same_request(whole, &b));
    } else if (p == HH_NEED_MORE) {
        CHECK(r == HH_NEED_MORE || (r != HH_OK && !too_large(r)));
    } else {
        CHECK(p == r || (too_large(p) && r != HH_OK));
    }
}

static void
fuzz_request(const uint8_t *in, size_t len, size_t max_head)
{
    struct hh_request a, b;
    enum hh_result r = hh_parse_request(in, len, max_head, &a);

    check_result(r);
    CHECK(hh_parse_request(in, len, max_head, &b) == r);
    if (r == HH_NEED_MORE)
        CHECK(len <= max_head);
    if (too_large(r))
        CHECK(len > max_head);
    if (r == HH_OK) {
        check_strip_request(in, &a, max_head);
        check_acme_path(in, a.path);
        CHECK(same_request(&a, &b));
        CHECK(a.head_len <= len && a.head_len <= max_head);
        check_head_bytes(in, a.head_len);
        CHECK(span_inside(a.method, a.head_len) && a.method.len > 0);
        CHECK(span_inside(a.target, a.head_len) && a.target.len > 0);
        CHECK(span_inside(a.path, a.head_len));
        CHECK(span_inside(a.host_raw, a.head_len));
        CHECK(a.version_minor == 0 || a.version_minor == 1);
        CHECK(a.body == HH_BODY_NONE || a.body == HH_BODY_LENGTH || a.body == HH_BODY_CHUNKED);
        CHECK((a.body == HH_BODY_LENGTH) == (a.content_length > 0));
        CHECK(a.host_len <= HH_HOST_MAX && a.host[a.host_len] == '\0');
        for (size_t i = 0; i < a.host_len; i++)
            CHECK(!(a.host[i] >= 'A' && a.host[i] <= 'Z') && a.host[i] != '\0');
        CHECK(a.version_minor == 1 || !a.upgrade);
        /* The head alone gives the same answer: nothing after it was looked at. */
        CHECK(hh_parse_request(in, a.head_len, max_head, &b) == HH_OK);
        CHECK(same_request(&a, &b));
    }
    for (size_t i = 0, n = prefix_count(len); i < n; i++) {
        size_t k = prefix_at(i, len);
        enum hh_result p = hh_parse_request(in, k, max_head, &b);

        if (r == HH_OK && k < a.head_len)
            CHECK(p == HH_NEED_MORE);
        else
            CHECK(p == HH_NEED_MORE || p == r);
        if (p == HH_OK)
            CHECK(same_request(&a, &b));
    }
    fuzz_request_gated(in, len, max_head, r, &a);
}

/* As fuzz_request_gated(), for responses. */
static void
fuzz_response_gated(const uint8_t *in, size_t len, size_t max_head, bool head,
                    enum hh_result r, const struct hh_response *whole)
{
    struct hh_gate g = { 0 };
    struct hh_response b;
    enum hh_result p = HH_NEED_MORE;
    size_t k;

    for (k = 1; k <= len && p == HH_NEED_MORE; k++)
        p = hh_parse_response_gated(&g, in, k, max_head, head, &b);
    k--;
    check_result(p);
    CHECK(g.parses <= 2);
    if (p == HH_OK)
        CHECK(r == HH_OK && k == whole->head_len && same_response(whole, &b));
    else if (p == HH_NEED_MORE)
        CHECK(r == HH_NEED_MORE || (r != HH_OK && r != HH_ERR_HEAD_TOO_LARGE));
    else
        CHECK(p == r || (p == HH_ERR_HEAD_TOO_LARGE && r != HH_OK));
}

static void
fuzz_response(const uint8_t *in, size_t len, size_t max_head, bool head)
{
    struct hh_response a, b;
    enum hh_result r = hh_parse_response(in, len, max_head, head, &a);

    check_result(r);
    CHECK(hh_parse_response(in, len, max_head, head, &b) == r);
    if (r == HH_NEED_MORE)
        CHECK(len <= max_head);
    if (r == HH_ERR_HEAD_TOO_LARGE)
        CHECK(len > max_head);
    if (r == HH_OK) {
        check_strip_response(in, &a, max_head, head);
        CHECK(same_response(&a, &b));
        CHECK(a.head_len <= len && a.head_len <= max_head);
        check_head_bytes(in, a.head_len);
        CHECK(a.status >= 100 && a.status <= 599);
        CHECK(a.version_minor == 0 || a.version_minor == 1);
        CHECK(!a.keep_alive || (a.body != HH_BODY_CLOSE && a.body != HH_BODY_TUNNEL));
        CHECK(!head || a.status == 101 || a.body == HH_BODY_NONE);
        CHECK(hh_parse_response(in, a.head_len, max_head, head, &b) == HH_OK);
        CHECK(same_response(&a, &b));
    }
    for (size_t i = 0, n = prefix_count(len); i < n; i++) {
        size_t k = prefix_at(i, len);
        enum hh_result p = hh_parse_response(in, k, max_head, head, &b);

        if (r == HH_OK && k < a.head_len)
            CHECK(p == HH_NEED_MORE);
        else
            CHECK(p == HH_NEED_MORE || p == r);
        if (p == HH_OK)
            CHECK(same_response(&a, &b));
    }
    fuzz_response_gated(in, len, max_head, head, r, &a);
}

/* Scans in[0..len) in pieces of at most step bytes (step 0: pieces of varying size drawn
 * from seed); returns the verdict and, in *at, its offset in in. */
static enum hh_result
scan_in_pieces(const uint8_t *in, size_t len, size_t step, uint32_t seed, size_t *at)
{
    struct hh_chunked s;
    size_t pos = 0;

    hh_chunked_init(&s);
    for (;;) {
        size_t n = len - pos, used = (size_t)-1;
        enum hh_result r;

        if (step > 0 && n > step) {
            n = step;
        } else if (step == 0 && n > 0) {
            seed = seed * 1103515245u + 12345u;
            n = (seed >> 16) % (n + 1);
        }
        r = hh_chunked_scan(&s, in + pos, n, &used);
        check_result(r);
        CHECK(used <= n);
        CHECK((r == HH_OK) == hh_chunked_is_done(&s));
        if (r == HH_NEED_MORE)
            CHECK(used == n);
        if (r != HH_NEED_MORE || pos + n == len) {
            *at = pos + used;
            if (r != HH_NEED_MORE) {
                /* The verdict sticks. */
                size_t again = (size_t)-1;

                CHECK(hh_chunked_scan(&s, in, len, &again) == r && again == 0);
            }
            return r;
        }
        pos += n;
    }
}

static void
fuzz_chunked(const uint8_t *in, size_t len, uint8_t knob)
{
    size_t at_whole, at;
    enum hh_result r = scan_in_pieces(in, len, len, 0, &at_whole);

    CHECK(r == HH_OK || r == HH_NEED_MORE || r >= HH_ERR_BARE_CR);
    if (r == HH_NEED_MORE)
        CHECK(at_whole == len);
    else if (r != HH_OK)
        CHECK(at_whole < len);
    CHECK(scan_in_pieces(in, len, 1, 0, &at) == r && at == at_whole);
    CHECK(scan_in_pieces(in, len, (size_t)knob % 7 + 2, 0, &at) == r && at == at_whole);
    CHECK(scan_in_pieces(in, len, 0, knob, &at) == r && at == at_whole);
    if (r == HH_OK)
        CHECK(scan_in_pieces(in, at_whole, 0, knob + 1u, &at) == HH_OK && at == at_whole);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *in;
    size_t len;
    uint8_t knob;

    if (size < 2)
        return 0;
    knob = data[1];
    in = data + 2;
    len = size - 2;
    switch (data[0] % 3) {
    case 0:
        fuzz_request(in, len, (knob & 0x80) ? 8192 : (size_t)(knob & 0x7f) * 4);
        break;
    case 1:
        fuzz_response(in, len, (knob & 0x80) ? 8192 : (size_t)(knob & 0x7e) * 4, knob & 1);
        break;
    default:
        fuzz_chunked(in, len, knob);
        break;
    }
    return 0;
}
