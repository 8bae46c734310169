/* libFuzzer harness for runtime/rewrite.c.
 *
 * Input: one knob byte, then a request or response head (and what follows it). Knob bits:
 * 0 response, 1 upgrade let through / request was HEAD, 2 close stripped / keep, 3
 * forwarded-for / HTTP/1.0 peer, 4-5 room after the bytes (0, 16, 64, 256). A head the
 * parser accepts is rewritten, and then (round trip):
 * - the bytes after the head are unchanged, right after the new head;
 * - the new head parses, to the same request (method, target, path, version, Host, framing)
 *   or response (status, version, framing), with the Connection semantics the proxy means:
 *   keep-alive as asked, an upgrade only when let through, no framing left to normalise;
 * - when what the proxy adds did not fit, the head is only stripped, no longer, and the
 *   bytes after it are still unchanged (the proxy answers 431 then, it sends nothing).
 */
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

#define MAX_HEAD 8192

static bool
same_bytes(const uint8_t *a, struct span sa, const uint8_t *b, struct span sb)
{
    return sa.len == sb.len && memcmp(a + sa.off, b + sb.off, sa.len) == 0;
}

static void
check_request(const uint8_t *in, size_t len, uint8_t knob, uint8_t *buf, size_t room)
{
    struct hh_request r, r2;
    struct rw_request_opts o = { 0 };
    char add[RW_REQUEST_ADD_MAX];
    size_t n, tail, out;
    bool added;

    if (hh_parse_request(in, len, MAX_HEAD, &r) != HH_OK)
        return;
    o.upgrade = r.upgrade && (knob & 2);
    o.close_stripped = (knob & 4) != 0;
    o.forwarded_for = (knob & 8) ? "2001:db8::5" : NULL;
    n = rw_request_fields(&r, &o, add, sizeof(add));
    memcpy(buf, in, len);
    tail = len - r.head_len;
    out = rw_request(buf, tail, room, &r, &o, add, n, &added);
    CHECK(out <= r.head_len + n && out <= r.head_len + room && (added || out <= r.head_len));
    CHECK(memcmp(buf + out, in + r.head_len, tail) == 0);
    if (!added)
        return;                     /* not to be sent: the proxy answers 431 */
    CHECK(hh_parse_request(buf, out, MAX_HEAD, &r2) == HH_OK && r2.head_len == out);
    CHECK(same_bytes(in, r.method, buf, r2.method) && same_bytes(in, r.target, buf, r2.target));
    CHECK(same_bytes(in, r.path, buf, r2.path) && r.form == r2.form);
    CHECK(r.version_minor == r2.version_minor && r.is_head == r2.is_head);
    CHECK(r.host_len == r2.host_len && memcmp(r.host, r2.host, r.host_len) == 0);
    CHECK(r.body == r2.body && (r.body != HH_BODY_LENGTH ||
                                r.content_length == r2.content_length));
    CHECK(!r2.hop.cl_normalise && !r2.hop.te_normalise);
    CHECK(r2.upgrade == o.upgrade);
    if (r.version_minor == 0)
        CHECK(r2.keep_alive == r.keep_alive);
    else
        CHECK(r2.keep_alive == (o.upgrade || r.keep_alive || o.close_stripped));
}

static void
check_response(const uint8_t *in, size_t len, uint8_t knob, uint8_t *buf, size_t room)
{
    struct hh_response rs, rs2;
    bool was_head = (knob & 2) != 0, added;
    bool keep, http10;
    size_t tail, out;

    if (hh_parse_response(in, len, MAX_HEAD, was_head, &rs) != HH_OK)
        return;
    keep = (knob & 4) && rs.keep_alive;
    http10 = (knob & 8) || rs.version_minor == 0;
    memcpy(buf, in, len);
    tail = len - rs.head_len;
    out = rw_response(buf, tail, room, &rs, keep, http10, &added);
    CHECK(out <= rs.head_len + RW_RESPONSE_ADD_MAX);
    CHECK(memcmp(buf + out, in + rs.head_len, tail) == 0);
    if (!added && (rs.status == 101 || rs.hop.cl_normalise))
        return;                     /* not to be sent: the proxy answers 502 */
    CHECK(hh_parse_response(buf, out, MAX_HEAD, was_head, &rs2) == HH_OK);
    CHECK(rs2.head_len == out && rs.status == rs2.status);
    CHECK(rs.version_minor == rs2.version_minor && rs.body == rs2.body);
    CHECK(rs.body != HH_BODY_LENGTH || rs.content_length == rs2.content_length);
    if (!added)
        return;
    CHECK(!rs2.hop.cl_normalise);
    if (rs.status == 101)
        CHECK(rs2.keep_alive == rs.keep_alive);
    else if (rs.status >= 200)
        CHECK(rs2.keep_alive == keep);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t rooms[] = { 0, 16, 64, 256 };
    uint8_t knob, *in, *buf;
    size_t room;

    if (size < 1 || size > 2 * MAX_HEAD)
        return 0;
    knob = data[0];
    room = rooms[(knob >> 4) & 3];
    /* Exact-size copies, so ASan sees any step past the bytes or the room. */
    in = malloc(size - 1 + 1);
    buf = malloc(size - 1 + room + 1);
    if (in == NULL || buf == NULL) {
        free(in);
        free(buf);
        return 0;
    }
    memcpy(in, data + 1, size - 1);
    if (knob & 1)
        check_response(in, size - 1, knob, buf, room);
    else
        check_request(in, size - 1, knob, buf, room);
    free(in);
    free(buf);
    return 0;
}
