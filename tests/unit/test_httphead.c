/* Unit tests for runtime/httphead.c: request and response heads, chunked bodies. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include "httphead.h"
#include "rewrite.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_HEAD 8192

/* A fixture: a name for failure messages, bytes that may hold NUL, their length. */
#define FIX(name, text) name, (const uint8_t *)(text), sizeof(text) - 1

static const char *
str_of(const uint8_t *data, struct span s)
{
    static char buf[512];
    size_t n = s.len < sizeof(buf) - 1 ? s.len : sizeof(buf) - 1;

    memcpy(buf, data + s.off, n);
    buf[n] = '\0';
    return buf;
}

/* Deterministic generator for the random splits (xorshift64). */
static uint64_t
next_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* ---- valid requests -------------------------------------------------------------------- */

struct valid_request {
    const char *name;
    const uint8_t *text;
    size_t len;
    size_t body_len;          /* bytes after the head */
    const char *host;         /* normalised */
    enum hh_body body;
    uint64_t content_length;
    int minor;
    bool keep_alive, expect_continue, upgrade;
};

static const struct valid_request valid_requests[] = {
    { FIX("get",
          "GET /index.html?q=1 HTTP/1.1\r\n"
          "Host: example.com\r\n"
          "User-Agent: test/1.0\r\n"
          "Accept: */*\r\n"
          "\r\n"),
      0, "example.com", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("post content-length",
          "POST /form HTTP/1.1\r\n"
          "Host: example.com\r\n"
          "Content-Type: text/plain\r\n"
          "Content-Length: 5\r\n"
          "\r\n"
          "hello"),
      5, "example.com", HH_BODY_LENGTH, 5, 1, true, false, false },
    { FIX("post chunked",
          "POST /upload HTTP/1.1\r\n"
          "Host: example.com\r\n"
          "Transfer-Encoding: chunked\r\n"
          "\r\n"
          "5\r\nhello\r\n0\r\n\r\n"),
      15, "example.com", HH_BODY_CHUNKED, 0, 1, true, false, false },
    { FIX("chunked in another case, with list padding",
          "POST /upload HTTP/1.1\r\n"
          "Host: example.com\r\n"
          "Transfer-Encoding: , CHUNKED\r\n"
          "\r\n"),
      0, "example.com", HH_BODY_CHUNKED, 0, 1, true, false, false },
    { FIX("http/1.0 without host",
          "GET / HTTP/1.0\r\n"
          "\r\n"),
      0, "", HH_BODY_NONE, 0, 0, false, false, false },
    { FIX("http/1.0 keep-alive",
          "GET / HTTP/1.0\r\n"
          "Host: a.example\r\n"
          "Connection: Keep-Alive\r\n"
          "\r\n"),
      0, "a.example", HH_BODY_NONE, 0, 0, true, false, false },
    { FIX("http/1.0 upgrade and expect ignored",
          "POST / HTTP/1.0\r\n"
          "Host: a.example\r\n"
          "Connection: upgrade\r\n"
          "Upgrade: websocket\r\n"
          "Expect: 100-continue\r\n"
          "Content-Length: 1\r\n"
          "\r\n"
          "x"),
      1, "a.example", HH_BODY_LENGTH, 1, 0, false, false, false },
    { FIX("http/1.1 close",
          "GET / HTTP/1.1\r\n"
          "Host: a.example\r\n"
          "Connection: close\r\n"
          "\r\n"),
      0, "a.example", HH_BODY_NONE, 0, 1, false, false, false },
    { FIX("close wins over keep-alive",
          "GET / HTTP/1.1\r\n"
          "Host: a.example\r\n"
          "Connection: foo, Keep-Alive , ,CLOSE\r\n"
          "\r\n"),
      0, "a.example", HH_BODY_NONE, 0, 1, false, false, false },
    { FIX("absolute-form",
          "GET http://Example.COM:8080/p?x=1 HTTP/1.1\r\n"
          "Host: example.com\r\n"
          "\r\n"),
      0, "example.com", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("absolute-form https without path",
          "GET HTTPS://example.com.:443 HTTP/1.1\r\n"
          "Host: EXAMPLE.com\r\n"
          "\r\n"),
      0, "example.com", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("absolute-form http/1.0 host from target",
          "GET http://b.example/x HTTP/1.0\r\n"
          "\r\n"),
      0, "b.example", HH_BODY_NONE, 0, 0, false, false, false },
    { FIX("ipv6 host with port",
          "GET / HTTP/1.1\r\n"
          "Host: [2001:DB8::1]:8080\r\n"
          "\r\n"),
      0, "[2001:db8::1]", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("ipv6 host without port",
          "GET / HTTP/1.1\r\n"
          "Host: [::ffff:192.0.2.1]\r\n"
          "\r\n"),
      0, "[::ffff:192.0.2.1]", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("ipv4 host",
          "GET / HTTP/1.1\r\n"
          "Host: 192.0.2.7:80\r\n"
          "\r\n"),
      0, "192.0.2.7", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("upper-case host, port, trailing dot",
          "GET / HTTP/1.1\r\n"
          "host:\t WWW.Example.COM.:443 \t\r\n"
          "\r\n"),
      0, "www.example.com", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("host with underscore",
          "GET / HTTP/1.1\r\n"
          "Host: my_service.internal\r\n"
          "\r\n"),
      0, "my_service.internal", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("empty host",
          "GET / HTTP/1.1\r\n"
          "Host:\r\n"
          "\r\n"),
      0, "", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("expect 100-continue",
          "PUT /up HTTP/1.1\r\n"
          "Host: h.example\r\n"
          "Expect: 100-Continue\r\n"
          "Content-Length: 10\r\n"
          "\r\n"),
      0, "h.example", HH_BODY_LENGTH, 10, 1, true, true, false },
    { FIX("websocket upgrade",
          "GET /chat HTTP/1.1\r\n"
          "Host: ws.example\r\n"
          "Upgrade: websocket\r\n"
          "Connection: keep-alive, Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\n"
          "\r\n"),
      0, "ws.example", HH_BODY_NONE, 0, 1, true, false, true },
    { FIX("h2c upgrade is not an upgrade",
          "GET / HTTP/1.1\r\n"
          "Host: ws.example\r\n"
          "Upgrade: h2c\r\n"
          "Connection: Upgrade, HTTP2-Settings\r\n"
          "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
          "\r\n"),
      0, "ws.example", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("websocket among other protocols is not an upgrade",
          "GET / HTTP/1.1\r\n"
          "Host: ws.example\r\n"
          "Upgrade: websocket, h2c\r\n"
          "Connection: Upgrade\r\n"
          "\r\n"),
      0, "ws.example", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("upgrade field without connection option",
          "GET / HTTP/1.1\r\n"
          "Host: ws.example\r\n"
          "Upgrade: websocket\r\n"
          "\r\n"),
      0, "ws.example", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("identical content-length fields",
          "POST / HTTP/1.1\r\n"
          "Host: h\r\n"
          "Content-Length: 7\r\n"
          "content-length: 7\r\n"
          "\r\n"),
      0, "h", HH_BODY_LENGTH, 7, 1, true, false, false },
    { FIX("identical content-length list",
          "POST / HTTP/1.1\r\n"
          "Host: h\r\n"
          "Content-Length: 7 ,7,\t7\r\n"
          "\r\n"),
      0, "h", HH_BODY_LENGTH, 7, 1, true, false, false },
    { FIX("content-length zero",
          "POST / HTTP/1.1\r\n"
          "Host: h\r\n"
          "Content-Length: 0\r\n"
          "\r\n"),
      0, "h", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("largest content-length",
          "POST / HTTP/1.1\r\n"
          "Host: h\r\n"
          "Content-Length: 9223372036854775807\r\n"
          "\r\n"),
      0, "h", HH_BODY_LENGTH, UINT64_C(9223372036854775807), 1, true, false, false },
    { FIX("empty lines before request line",
          "\r\n\r\n"
          "GET / HTTP/1.1\r\n"
          "Host: h\r\n"
          "\r\n"),
      0, "h", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("options asterisk",
          "OPTIONS * HTTP/1.1\r\n"
          "Host: h\r\n"
          "\r\n"),
      0, "h", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("connect",
          "CONNECT Example.com:443 HTTP/1.1\r\n"
          "Host: example.com:443\r\n"
          "\r\n"),
      0, "example.com", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("head",
          "HEAD /x HTTP/1.1\r\n"
          "Host: h\r\n"
          "\r\n"),
      0, "h", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("percent-encoding and sub-delims in target",
          "GET /a%20b/c;p=1?x=%2F&y=(z)*!$'+,@:~ HTTP/1.1\r\n"
          "Host: h\r\n"
          "\r\n"),
      0, "h", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("htab, obs-text and empty values",
          "GET / HTTP/1.1\r\n"
          "Host: h\r\n"
          "X-Tab: a\tb\r\n"
          "X-Latin: caf\xc3\xa9\r\n"
          "X-Empty:\r\n"
          "X-Spaces:   \r\n"
          "\r\n"),
      0, "h", HH_BODY_NONE, 0, 1, true, false, false },
    { FIX("pipelined request after head",
          "GET /1 HTTP/1.1\r\n"
          "Host: h\r\n"
          "\r\n"
          "GET /2 HTTP/1.1\r\n"),
      17, "h", HH_BODY_NONE, 0, 1, true, false, false },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void
check_spans_inside(const struct hh_request *req)
{
    CU_ASSERT(req->method.off + req->method.len <= req->head_len);
    CU_ASSERT(req->target.off + req->target.len <= req->head_len);
    CU_ASSERT(req->path.off + req->path.len <= req->head_len);
    CU_ASSERT(req->host_raw.off + req->host_raw.len <= req->head_len);
    CU_ASSERT(req->host_len <= HH_HOST_MAX);
    CU_ASSERT(req->host[req->host_len] == '\0');
}

static void
test_request_valid(void)
{
    for (size_t i = 0; i < COUNT(valid_requests); i++) {
        const struct valid_request *v = &valid_requests[i];
        struct hh_request req;
        enum hh_result r = hh_parse_request(v->text, v->len, MAX_HEAD, &req);

        CU_ASSERT_EQUAL(r, HH_OK);
        if (r != HH_OK) {
            printf("\n  %s: %s\n", v->name, hh_result_str(r));
            continue;
        }
        CU_ASSERT_EQUAL(req.head_len, v->len - v->body_len);
        CU_ASSERT_STRING_EQUAL(req.host, v->host);
        CU_ASSERT_EQUAL(req.host_len, strlen(v->host));
        CU_ASSERT_EQUAL(req.body, v->body);
        CU_ASSERT_EQUAL(req.content_length, v->content_length);
        CU_ASSERT_EQUAL(req.version_minor, v->minor);
        CU_ASSERT_EQUAL(req.keep_alive, v->keep_alive);
        CU_ASSERT_EQUAL(req.expect_continue, v->expect_continue);
        CU_ASSERT_EQUAL(req.upgrade, v->upgrade);
        check_spans_inside(&req);
        if (req.body != v->body || req.keep_alive != v->keep_alive
            || strcmp(req.host, v->host) != 0)
            printf("\n  %s: body %d keep-alive %d host '%s'\n", v->name, req.body,
                   req.keep_alive, req.host);
    }
}

static void
test_request_every_prefix_needs_more(void)
{
    for (size_t i = 0; i < COUNT(valid_requests); i++) {
        const struct valid_request *v = &valid_requests[i];
        size_t head_len = v->len - v->body_len;

        for (size_t n = 0; n < head_len; n++) {
            struct hh_request req;
            enum hh_result r = hh_parse_request(v->text, n, MAX_HEAD, &req);

            CU_ASSERT_EQUAL(r, HH_NEED_MORE);
            if (r != HH_NEED_MORE) {
                printf("\n  %s: prefix %zu: %s\n", v->name, n, hh_result_str(r));
                break;
            }
        }
    }
}

static void
test_request_spans(void)
{
    static const uint8_t abs[] = "GET http://example.com:81/p/q?r HTTP/1.1\r\n"
                                 "Host:  Example.com:81  \r\n"
                                 "\r\n";
    static const uint8_t lead[] = "\r\nHEAD /h HTTP/1.1\r\nHost: h\r\n\r\n";
    static const uint8_t conn[] = "CONNECT h.example:443 HTTP/1.1\r\nHost: h.example\r\n\r\n";
    static const uint8_t star[] = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
    static const uint8_t old[] = "GET http://Old.Example HTTP/1.0\r\n\r\n";
    struct hh_request req;

    CU_ASSERT_EQUAL_FATAL(hh_parse_request(abs, sizeof(abs) - 1, MAX_HEAD, &req), HH_OK);
    CU_ASSERT_STRING_EQUAL(str_of(abs, req.method), "GET");
    CU_ASSERT_STRING_EQUAL(str_of(abs, req.target), "http://example.com:81/p/q?r");
    CU_ASSERT_STRING_EQUAL(str_of(abs, req.path), "/p/q?r");
    CU_ASSERT_STRING_EQUAL(str_of(abs, req.host_raw), "Example.com:81");
    CU_ASSERT_EQUAL(req.form, HH_TARGET_ABSOLUTE);
    CU_ASSERT_FALSE(req.is_head);
    CU_ASSERT_FALSE(req.is_connect);

    CU_ASSERT_EQUAL_FATAL(hh_parse_request(lead, sizeof(lead) - 1, MAX_HEAD, &req), HH_OK);
    CU_ASSERT_EQUAL(req.method.off, 2);
    CU_ASSERT_STRING_EQUAL(str_of(lead, req.method), "HEAD");
    CU_ASSERT_STRING_EQUAL(str_of(lead, req.path), "/h");
    CU_ASSERT_EQUAL(req.form, HH_TARGET_ORIGIN);
    CU_ASSERT_TRUE(req.is_head);
    CU_ASSERT_EQUAL(req.head_len, sizeof(lead) - 1);

    CU_ASSERT_EQUAL_FATAL(hh_parse_request(conn, sizeof(conn) - 1, MAX_HEAD, &req), HH_OK);
    CU_ASSERT_TRUE(req.is_connect);
    CU_ASSERT_EQUAL(req.form, HH_TARGET_AUTHORITY);
    CU_ASSERT_STRING_EQUAL(str_of(conn, req.target), "h.example:443");
    CU_ASSERT_EQUAL(req.path.len, 0);
    CU_ASSERT_EQUAL(hh_result_status(HH_OK), 0);

    CU_ASSERT_EQUAL_FATAL(hh_parse_request(star, sizeof(star) - 1, MAX_HEAD, &req), HH_OK);
    CU_ASSERT_EQUAL(req.form, HH_TARGET_ASTERISK);
    CU_ASSERT_STRING_EQUAL(str_of(star, req.target), "*");

    CU_ASSERT_EQUAL_FATAL(hh_parse_request(old, sizeof(old) - 1, MAX_HEAD, &req), HH_OK);
    CU_ASSERT_STRING_EQUAL(req.host, "old.example");
    CU_ASSERT_STRING_EQUAL(str_of(old, req.host_raw), "Old.Example");
    CU_ASSERT_EQUAL(req.path.len, 0);
}

/* ---- rejected requests ------------------------------------------------------------------ */

struct bad_message {
    const char *name;
    const uint8_t *text;
    size_t len;
    enum hh_result expect;
};

#define H11 "GET / HTTP/1.1\r\n"
#define HOST "Host: h.example\r\n"

static const struct bad_message bad_requests[] = {
    /* framing */
    { FIX("content-length with transfer-encoding",
          "POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
      HH_ERR_CL_AND_TE },
    { FIX("transfer-encoding with content-length",
          "POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"),
      HH_ERR_CL_AND_TE },
    { FIX("content-length not digits", H11 HOST "Content-Length: 12a\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length hex", H11 HOST "Content-Length: 0x10\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length empty", H11 HOST "Content-Length: \r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length plus sign", H11 HOST "Content-Length: +5\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length minus sign", H11 HOST "Content-Length: -5\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length leading zero", H11 HOST "Content-Length: 010\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length above int64", H11 HOST "Content-Length: 9223372036854775808\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length above uint64",
          H11 HOST "Content-Length: 184467440737095516160\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length inner space", H11 HOST "Content-Length: 1 2\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length empty list element", H11 HOST "Content-Length: 5,,5\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length trailing comma", H11 HOST "Content-Length: 5,\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH },
    { FIX("content-length differing fields",
          H11 HOST "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH_CONFLICT },
    { FIX("content-length differing list", H11 HOST "Content-Length: 5, 6\r\n\r\n"),
      HH_ERR_CONTENT_LENGTH_CONFLICT },
    { FIX("transfer-encoding gzip only", H11 HOST "Transfer-Encoding: gzip\r\n\r\n"),
      HH_ERR_TE_NOT_CHUNKED },
    { FIX("transfer-encoding chunked not last",
          H11 HOST "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"),
      HH_ERR_TE_NOT_CHUNKED },
    { FIX("transfer-encoding identity", H11 HOST "Transfer-Encoding: identity\r\n\r\n"),
      HH_ERR_TE_NOT_CHUNKED },
    { FIX("transfer-encoding unknown coding",
          H11 HOST "Transfer-Encoding: br, chunked\r\n\r\n"),
      HH_ERR_TE_UNKNOWN },
    { FIX("transfer-encoding gzip then chunked, one line",
          H11 HOST "Transfer-Encoding: gzip, chunked\r\n\r\n"),
      HH_ERR_TE_UNKNOWN },
    { FIX("transfer-encoding gzip then chunked, two lines",
          H11 HOST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
      HH_ERR_TE_UNKNOWN },
    { FIX("transfer-encoding chunked on two lines",
          H11 HOST "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
      HH_ERR_TE_CHUNKED_REPEATED },
    { FIX("nine connection options naming fields",
          H11 HOST "Connection: a, b, c, d, e, f, g, h, i\r\n\r\n"),
      HH_ERR_CONNECTION },
    { FIX("connection options of more than 256 bytes",
          H11 HOST "Connection: "
          "a123456789012345678901234567890123456789012345678901234567890123456789,"
          "b123456789012345678901234567890123456789012345678901234567890123456789,"
          "c123456789012345678901234567890123456789012345678901234567890123456789,"
          "d123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n"),
      HH_ERR_CONNECTION },
    { FIX("transfer-encoding chunked twice",
          H11 HOST "Transfer-Encoding: chunked, chunked\r\n\r\n"),
      HH_ERR_TE_CHUNKED_REPEATED },
    { FIX("transfer-encoding parameter", H11 HOST "Transfer-Encoding: chunked;q=1\r\n\r\n"),
      HH_ERR_TE_INVALID },
    { FIX("transfer-encoding empty", H11 HOST "Transfer-Encoding: \r\n\r\n"),
      HH_ERR_TE_INVALID },
    { FIX("transfer-encoding only commas", H11 HOST "Transfer-Encoding: , ,\r\n\r\n"),
      HH_ERR_TE_INVALID },
    { FIX("transfer-encoding quoted", H11 HOST "Transfer-Encoding: \"chunked\"\r\n\r\n"),
      HH_ERR_TE_INVALID },
    { FIX("transfer-encoding two words", H11 HOST "Transfer-Encoding: chunked x\r\n\r\n"),
      HH_ERR_TE_INVALID },
    { FIX("transfer-encoding in http/1.0",
          "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
      HH_ERR_TE_HTTP10 },
    /* line structure */
    { FIX("obs-fold", H11 HOST "X-A: a\r\n b\r\n\r\n"), HH_ERR_OBS_FOLD },
    { FIX("obs-fold with htab", H11 HOST "X-A: a\r\n\tb\r\n\r\n"), HH_ERR_OBS_FOLD },
    { FIX("whitespace before first field", H11 " Host: h\r\n\r\n"), HH_ERR_OBS_FOLD },
    { FIX("bare cr in value", H11 HOST "X-A: a\rb\r\n\r\n"), HH_ERR_BARE_CR },
    { FIX("bare cr in request line", "GET /\r HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_BARE_CR },
    { FIX("bare cr before request line", "\rGET / HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_BARE_CR },
    { FIX("bare cr as final line", H11 HOST "\r\r\n"), HH_ERR_BARE_CR },
    { FIX("bare lf after request line", "GET / HTTP/1.1\n" HOST "\r\n"), HH_ERR_BARE_LF },
    { FIX("bare lf after field", H11 "Host: h\n\r\n"), HH_ERR_BARE_LF },
    { FIX("bare lf as final line", H11 HOST "\n"), HH_ERR_BARE_LF },
    { FIX("bare lf before request line", "\nGET / HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_BARE_LF },
    { FIX("nul in value", H11 HOST "X-A: a\0b\r\n\r\n"), HH_ERR_FIELD_VALUE },
    { FIX("escape in value", H11 HOST "X-A: \x1b[0m\r\n\r\n"), HH_ERR_FIELD_VALUE },
    { FIX("del in value", H11 HOST "X-A: \x7f\r\n\r\n"), HH_ERR_FIELD_VALUE },
    { FIX("vertical tab in value", H11 HOST "X-A: a\vb\r\n\r\n"), HH_ERR_FIELD_VALUE },
    { FIX("empty field name", H11 HOST ": x\r\n\r\n"), HH_ERR_FIELD_NAME_EMPTY },
    { FIX("parenthesis in field name", H11 HOST "X(A): x\r\n\r\n"), HH_ERR_FIELD_NAME },
    { FIX("non-ascii in field name", H11 HOST "X\xc3\xa9: x\r\n\r\n"), HH_ERR_FIELD_NAME },
    { FIX("nul in field name", H11 HOST "X\0: x\r\n\r\n"), HH_ERR_FIELD_NAME },
    { FIX("space before colon", H11 "Host : h\r\n\r\n"), HH_ERR_FIELD_NAME_SPACE },
    { FIX("htab before colon", H11 "Host\t: h\r\n\r\n"), HH_ERR_FIELD_NAME_SPACE },
    { FIX("content_length", H11 HOST "Content_Length: 5\r\n\r\n"), HH_ERR_FIELD_LOOKALIKE },
    { FIX("transfer_encoding", H11 HOST "transfer_Encoding: chunked\r\n\r\n"),
      HH_ERR_FIELD_LOOKALIKE },
    { FIX("field without colon", H11 HOST "Hello\r\n\r\n"), HH_ERR_FIELD_NO_COLON },
    /* Host */
    { FIX("missing host in http/1.1", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n"),
      HH_ERR_HOST_MISSING },
    { FIX("missing host with absolute-form", "GET http://h.example/ HTTP/1.1\r\n\r\n"),
      HH_ERR_HOST_MISSING },
    { FIX("two hosts", H11 "Host: a.example\r\nHost: a.example\r\n\r\n"),
      HH_ERR_HOST_REPEATED },
    { FIX("two hosts, second empty", H11 "Host: a.example\r\nhost:\r\n\r\n"),
      HH_ERR_HOST_REPEATED },
    { FIX("host comma list", H11 "Host: a.example, b.example\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host with userinfo", H11 "Host: user@a.example\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host with space", H11 "Host: a .example\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host with slash", H11 "Host: a.example/x\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host percent-encoded", H11 "Host: a%2eexample\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host only a dot", H11 "Host: .\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host only a port", H11 "Host: :80\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host ipv6 unclosed", H11 "Host: [2001:db8::1\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host ipv6 without colon", H11 "Host: [abcd]\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host ipv6 zone", H11 "Host: [fe80::1%25eth0]\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host ipv6 junk after bracket", H11 "Host: [::1]x\r\n\r\n"), HH_ERR_HOST_INVALID },
    { FIX("host ipv6 unbracketed", H11 "Host: 2001:db8::1\r\n\r\n"), HH_ERR_HOST_PORT },
    { FIX("host empty port", H11 "Host: a.example:\r\n\r\n"), HH_ERR_HOST_PORT },
    { FIX("host port too large", H11 "Host: a.example:65536\r\n\r\n"), HH_ERR_HOST_PORT },
    { FIX("host port too long", H11 "Host: a.example:000080\r\n\r\n"), HH_ERR_HOST_PORT },
    { FIX("host port not digits", H11 "Host: a.example:8o\r\n\r\n"), HH_ERR_HOST_PORT },
    { FIX("host too long",
          H11 "Host: "
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
              "example\r\n\r\n"),
      HH_ERR_HOST_TOO_LONG },
    { FIX("absolute-form host mismatch",
          "GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n"),
      HH_ERR_HOST_MISMATCH },
    { FIX("absolute-form with empty host",
          "GET http://a.example/ HTTP/1.1\r\nHost:\r\n\r\n"),
      HH_ERR_HOST_MISMATCH },
    /* request line */
    { FIX("method with parenthesis", "G(T / HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_METHOD },
    { FIX("empty method", " / HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_METHOD },
    { FIX("method only", "GET\r\n" HOST "\r\n"), HH_ERR_REQUEST_LINE },
    { FIX("double space after method", "GET  / HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_REQUEST_LINE },
    { FIX("htab after method", "GET\t/ HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_REQUEST_LINE },
    { FIX("double space after target", "GET /  HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_REQUEST_LINE },
    { FIX("htab after target", "GET /\tHTTP/1.1\r\n" HOST "\r\n"), HH_ERR_REQUEST_LINE },
    { FIX("space after version", "GET / HTTP/1.1 \r\n" HOST "\r\n"), HH_ERR_REQUEST_LINE },
    { FIX("http/0.9 request", "GET /\r\n\r\n"), HH_ERR_REQUEST_LINE },
    { FIX("quote in target", "GET /a\"b HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("brace in target", "GET /{x} HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("fragment in target", "GET /a#b HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("non-ascii in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("bad percent-encoding", "GET /a%zz HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("short percent-encoding", "GET /a%4 HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("asterisk with get", "GET * HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("asterisk with more", "OPTIONS *x HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("ftp scheme", "GET ftp://h.example/ HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("scheme without slashes", "GET http:h.example HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("scheme cut short", "GET http:/ HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("https scheme cut short", "GET https:/ HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("scheme with extra letter", "GET httpx://h/ HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("absolute-form empty authority", "GET http:///x HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("absolute-form scheme only", "GET http:// HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("absolute-form userinfo", "GET http://u@h.example/ HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("absolute-form bad port", "GET http://h.example:99999/ HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("authority-form without connect", "GET h.example:80 HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("connect without port", "CONNECT h.example HTTP/1.1\r\n" HOST "\r\n"),
      HH_ERR_TARGET },
    { FIX("connect with path", "CONNECT /x HTTP/1.1\r\n" HOST "\r\n"), HH_ERR_TARGET },
    { FIX("lower-case version", "GET / http/1.1\r\n" HOST "\r\n"), HH_ERR_VERSION },
    { FIX("short version", "GET / HTTP/1\r\n" HOST "\r\n"), HH_ERR_VERSION },
    { FIX("long version", "GET / HTTP/1.10\r\n" HOST "\r\n"), HH_ERR_VERSION },
    { FIX("version with letter", "GET / HTTP/1.x\r\n" HOST "\r\n"), HH_ERR_VERSION },
    { FIX("missing version", "GET / \r\n" HOST "\r\n"), HH_ERR_VERSION },
    { FIX("http/2.0", "GET / HTTP/2.0\r\n" HOST "\r\n"), HH_ERR_VERSION_UNSUPPORTED },
    { FIX("http/1.2", "GET / HTTP/1.2\r\n" HOST "\r\n"), HH_ERR_VERSION_UNSUPPORTED },
    { FIX("http/0.9 with version", "GET / HTTP/0.9\r\n" HOST "\r\n"),
      HH_ERR_VERSION_UNSUPPORTED },
    { FIX("tls client hello on the http port", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
      HH_ERR_METHOD },
};

static void
test_request_rejected(void)
{
    for (size_t i = 0; i < COUNT(bad_requests); i++) {
        const struct bad_message *b = &bad_requests[i];
        struct hh_request req;
        enum hh_result r = hh_parse_request(b->text, b->len, MAX_HEAD, &req);

        CU_ASSERT_EQUAL(r, b->expect);
        if (r != b->expect)
            printf("\n  %s: got %s, want %s\n", b->name, hh_result_str(r),
                   hh_result_str(b->expect));
    }
}

/* Whether text[0..len) holds an empty line after a line: the end of a head. */
static bool
has_head_end(const uint8_t *text, size_t len)
{
    for (size_t i = 1; i < len; i++)
        if (text[i] == '\n' && (text[i - 1] == '\n' || (i >= 2 && text[i - 1] == '\r' &&
                                                          text[i - 2] == '\n')))
            return true;
    return false;
}

/* A valid head fed one byte at a time through the gate: NEED_MORE until its last byte,
 * then what a whole parse gives, after at most two parses. */
static void
test_request_gated_trickle(void)
{
    for (size_t i = 0; i < COUNT(valid_requests); i++) {
        const struct valid_request *v = &valid_requests[i];
        size_t head_len = v->len - v->body_len;
        struct hh_gate g = { 0 };
        struct hh_request req, whole;
        enum hh_result r = HH_NEED_MORE;
        size_t n;

        for (n = 1; n <= v->len && r == HH_NEED_MORE; n++)
            r = hh_parse_request_gated(&g, v->text, n, MAX_HEAD, &req);
        CU_ASSERT_EQUAL(r, HH_OK);
        CU_ASSERT_EQUAL(n - 1, head_len);
        CU_ASSERT(g.parses <= 2);
        if (r != HH_OK || n - 1 != head_len || g.parses > 2) {
            printf("\n  %s: %s after %zu of %zu bytes, %u parses\n", v->name,
                   hh_result_str(r), n - 1, head_len, g.parses);
            continue;
        }
        CU_ASSERT_EQUAL_FATAL(hh_parse_request(v->text, v->len, MAX_HEAD, &whole), HH_OK);
        CU_ASSERT_EQUAL(req.head_len, whole.head_len);
        CU_ASSERT_EQUAL(req.host_len, whole.host_len);
        CU_ASSERT_NSTRING_EQUAL(req.host, whole.host, whole.host_len);
    }
}

/* A rejected head fed one byte at a time: nothing but NEED_MORE or its own error, and the
 * error once the head has ended (a fault in a field line waits for the end of the head). */
static void
test_request_gated_rejected(void)
{
    for (size_t i = 0; i < COUNT(bad_requests); i++) {
        const struct bad_message *b = &bad_requests[i];
        struct hh_gate g = { 0 };
        struct hh_request req;
        enum hh_result r = HH_NEED_MORE;

        for (size_t n = 1; n <= b->len && r == HH_NEED_MORE; n++) {
            r = hh_parse_request_gated(&g, b->text, n, MAX_HEAD, &req);
            CU_ASSERT(r == HH_NEED_MORE || r == b->expect);
            if (r != HH_NEED_MORE && r != b->expect)
                printf("\n  %s: prefix %zu: %s, want %s\n", b->name, n, hh_result_str(r),
                       hh_result_str(b->expect));
        }
        if (has_head_end(b->text, b->len) || b->expect == HH_ERR_HEAD_TOO_LARGE) {
            CU_ASSERT_EQUAL(r, b->expect);
            if (r != b->expect)
                printf("\n  %s: whole: %s, want %s\n", b->name, hh_result_str(r),
                       hh_result_str(b->expect));
        }
        CU_ASSERT(g.parses <= 2);
    }
}

/* A long head of short lines, a byte at a time: two parses in all; bytes of another
 * protocol are answered as soon as a line ends, and without one, at the size limit. */
static void
test_request_gated_bounds(void)
{
    static uint8_t head[MAX_HEAD];
    static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc };
    uint8_t junk[MAX_HEAD + 2];
    struct hh_gate g = { 0 };
    struct hh_request req;
    enum hh_result r = HH_NEED_MORE;
    size_t len, n;

    len = (size_t)snprintf((char *)head, sizeof(head), "GET / HTTP/1.1\r\nHost: h\r\n");
    while (len + 16 < sizeof(head))
        len += (size_t)snprintf((char *)head + len, sizeof(head) - len, "x%zu: y\r\n", len);
    len += (size_t)snprintf((char *)head + len, sizeof(head) - len, "\r\n");
    for (n = 1; n <= len && r == HH_NEED_MORE; n++)
        r = hh_parse_request_gated(&g, head, n, MAX_HEAD, &req);
    CU_ASSERT_EQUAL(r, HH_OK);
    CU_ASSERT_EQUAL(n - 1, len);
    CU_ASSERT_EQUAL(g.parses, 2);

    memset(junk, 0x01, sizeof(junk));
    memcpy(junk, tls, sizeof(tls));
    g = (struct hh_gate){ 0 };
    for (n = 1; n <= MAX_HEAD; n++)
        CU_ASSERT_EQUAL(hh_parse_request_gated(&g, junk, n, MAX_HEAD, &req), HH_NEED_MORE);
    CU_ASSERT_EQUAL(g.parses, 0);
    CU_ASSERT_EQUAL(hh_parse_request_gated(&g, junk, MAX_HEAD + 1, MAX_HEAD, &req),
                    HH_ERR_REQUEST_LINE_TOO_LONG);
    CU_ASSERT_EQUAL(hh_head_too_large(&g), HH_ERR_REQUEST_LINE_TOO_LONG);
    junk[20] = '\n';
    g = (struct hh_gate){ 0 };
    r = HH_NEED_MORE;
    for (n = 1; n <= 21 && r == HH_NEED_MORE; n++)
        r = hh_parse_request_gated(&g, junk, n, MAX_HEAD, &req);
    CU_ASSERT_EQUAL(n - 1, 21);
    CU_ASSERT_EQUAL(r, hh_parse_request(junk, 21, MAX_HEAD, &req));
    CU_ASSERT_NOT_EQUAL(r, HH_NEED_MORE);
}

/* An error seen in a prefix never turns into something else: the prefixes of a rejected head
 * are NEED_MORE until the error is seen, then that same error. */
static void
test_request_rejected_prefixes(void)
{
    for (size_t i = 0; i < COUNT(bad_requests); i++) {
        const struct bad_message *b = &bad_requests[i];

        for (size_t n = 0; n < b->len; n++) {
            struct hh_request req;
            enum hh_result r = hh_parse_request(b->text, n, MAX_HEAD, &req);

            CU_ASSERT(r == HH_NEED_MORE || r == b->expect);
            if (r != HH_NEED_MORE && r != b->expect) {
                printf("\n  %s: prefix %zu: %s\n", b->name, n, hh_result_str(r));
                break;
            }
        }
    }
}

/* Errors are reported as soon as their byte arrives, not when the head ends. */
static void
test_request_early_errors(void)
{
    static const struct bad_message early[] = {
        { FIX("bad method byte", "GE\x01"), HH_ERR_METHOD },
        { FIX("bad target byte", "GET /<"), HH_ERR_TARGET },
        { FIX("bad scheme", "GET htp"), HH_ERR_TARGET },
        { FIX("bad version", "GET / HTTQ"), HH_ERR_VERSION },
        { FIX("bare lf", "GET / HTTP/1.1\n"), HH_ERR_BARE_LF },
        { FIX("obs-fold", H11 HOST " "), HH_ERR_OBS_FOLD },
        { FIX("bad name byte", H11 "Ho{"), HH_ERR_FIELD_NAME },
        { FIX("bad value byte", H11 "X-A: \x02"), HH_ERR_FIELD_VALUE },
        { FIX("second host", H11 HOST HOST), HH_ERR_HOST_REPEATED },
        { FIX("bad content-length", H11 "Content-Length: x\r\n"), HH_ERR_CONTENT_LENGTH },
    };
    struct hh_request req;

    for (size_t i = 0; i < COUNT(early); i++)
        CU_ASSERT_EQUAL(hh_parse_request(early[i].text, early[i].len, MAX_HEAD, &req),
                        early[i].expect);
}

static void
test_request_head_too_large(void)
{
    static const uint8_t head[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\nbody";
    size_t head_len = sizeof(head) - 1 - 4;
    struct hh_request req;

    /* A head of exactly max_head bytes fits, whatever follows it. */
    CU_ASSERT_EQUAL(hh_parse_request(head, sizeof(head) - 1, head_len, &req), HH_OK);
    CU_ASSERT_EQUAL(req.head_len, head_len);
    /* One byte short: more data cannot help once len passes max_head. */
    CU_ASSERT_EQUAL(hh_parse_request(head, head_len - 1, head_len - 1, &req), HH_NEED_MORE);
    CU_ASSERT_EQUAL(hh_parse_request(head, head_len, head_len - 1, &req),
                    HH_ERR_HEAD_TOO_LARGE);
    CU_ASSERT_EQUAL(hh_parse_request(head, sizeof(head) - 1, head_len - 1, &req),
                    HH_ERR_HEAD_TOO_LARGE);
    CU_ASSERT_EQUAL(hh_parse_request(head, 1, 0, &req), HH_ERR_REQUEST_LINE_TOO_LONG);
    CU_ASSERT_EQUAL(hh_parse_request(head, 0, 0, &req), HH_NEED_MORE);
    /* RFC 9112 §3: a request line that does not end within max_head is 414, a head whose
     * request line ended but whose fields run past it 431. */
    CU_ASSERT_EQUAL(hh_parse_request(head, sizeof(head) - 1, 10, &req),
                    HH_ERR_REQUEST_LINE_TOO_LONG);
    CU_ASSERT_EQUAL(hh_parse_request(head, sizeof(head) - 1, 15, &req),
                    HH_ERR_REQUEST_LINE_TOO_LONG);
    CU_ASSERT_EQUAL(hh_parse_request(head, sizeof(head) - 1, 16, &req),
                    HH_ERR_HEAD_TOO_LARGE);
    CU_ASSERT_EQUAL(hh_result_status(HH_ERR_REQUEST_LINE_TOO_LONG), 414);
    /* An error inside the allowed bytes is still reported as itself. */
    CU_ASSERT_EQUAL(hh_parse_request((const uint8_t *)"GET\t/ HTTP/1.1", 14, 4, &req),
                    HH_ERR_REQUEST_LINE);
    CU_ASSERT_EQUAL(hh_result_status(HH_ERR_HEAD_TOO_LARGE), 431);
}

static void
test_result_strings_and_statuses(void)
{
    for (int r = HH_OK; r <= HH_ERR_TRAILER_TOO_LARGE; r++) {
        const char *s = hh_result_str((enum hh_result)r);

        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT(strlen(s) > 0);
        CU_ASSERT(strcmp(s, "unknown") != 0);
        for (int q = HH_OK; q < r; q++)
            CU_ASSERT(strcmp(s, hh_result_str((enum hh_result)q)) != 0);
        if (r >= HH_ERR_HEAD_TOO_LARGE)
            CU_ASSERT(hh_result_status((enum hh_result)r) >= 400);
    }
    CU_ASSERT_STRING_EQUAL(hh_result_str((enum hh_result)(HH_ERR_TRAILER_TOO_LARGE + 1)),
                           "unknown");
    CU_ASSERT_STRING_EQUAL(hh_result_str(HH_ERR_BARE_LF), "bare-lf");
    CU_ASSERT_EQUAL(hh_result_status(HH_NEED_MORE), 0);
    CU_ASSERT_EQUAL(hh_result_status(HH_ERR_VERSION_UNSUPPORTED), 505);
    CU_ASSERT_EQUAL(hh_result_status(HH_ERR_TE_UNKNOWN), 501);
    CU_ASSERT_EQUAL(hh_result_status(HH_ERR_CL_AND_TE), 400);
    CU_ASSERT_EQUAL(hh_result_status(HH_ERR_HOST_MISMATCH), 400);
    CU_ASSERT_EQUAL(hh_result_status(HH_ERR_CHUNK_CRLF), 400);
}

/* ---- responses -------------------------------------------------------------------------- */

struct response_case {
    const char *name;
    const uint8_t *text;
    size_t len;
    bool request_was_head;
    enum hh_result expect;
    int status;
    enum hh_body body;
    uint64_t content_length;
    bool keep_alive;
};

static const struct response_case responses[] = {
    { FIX("content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
      false, HH_OK, 200, HH_BODY_LENGTH, 5, true },
    { FIX("chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
      false, HH_OK, 200, HH_BODY_CHUNKED, 0, true },
    { FIX("close-delimited", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"),
      false, HH_OK, 200, HH_BODY_CLOSE, 0, false },
    { FIX("gzip without chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
      false, HH_OK, 200, HH_BODY_CLOSE, 0, false },
    { FIX("unknown coding then chunked",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n"),
      false, HH_OK, 200, HH_BODY_CHUNKED, 0, true },
    { FIX("http/1.0 keep-alive",
          "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"),
      false, HH_OK, 200, HH_BODY_LENGTH, 2, true },
    { FIX("http/1.0 default close", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
      false, HH_OK, 200, HH_BODY_LENGTH, 2, false },
    { FIX("connection close", "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
                              "Content-Length: 3\r\n\r\n"),
      false, HH_OK, 404, HH_BODY_LENGTH, 3, false },
    { FIX("content-length zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
      false, HH_OK, 200, HH_BODY_NONE, 0, true },
    { FIX("answer to head", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
      true, HH_OK, 200, HH_BODY_NONE, 100, true },
    { FIX("chunked answer to head", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
      true, HH_OK, 200, HH_BODY_NONE, 0, true },
    { FIX("100 continue", "HTTP/1.1 100 Continue\r\n\r\n"),
      false, HH_OK, 100, HH_BODY_NONE, 0, true },
    { FIX("103 early hints", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"),
      false, HH_OK, 103, HH_BODY_NONE, 0, true },
    { FIX("204", "HTTP/1.1 204 No Content\r\n\r\n"),
      false, HH_OK, 204, HH_BODY_NONE, 0, true },
    { FIX("304 with content-length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"),
      false, HH_OK, 304, HH_BODY_NONE, 50, true },
    { FIX("101 tunnel", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\n\r\n\x81\x05hello"),
      false, HH_OK, 101, HH_BODY_TUNNEL, 0, false },
    { FIX("no reason phrase", "HTTP/1.1 204\r\n\r\n"),
      false, HH_OK, 204, HH_BODY_NONE, 0, true },
    { FIX("empty reason phrase", "HTTP/1.1 204 \r\n\r\n"),
      false, HH_OK, 204, HH_BODY_NONE, 0, true },
    { FIX("reason with obs-text and htab",
          "HTTP/1.1 200 \xc3\x89t\tok\r\nContent-Length: 0\r\n\r\n"),
      false, HH_OK, 200, HH_BODY_NONE, 0, true },
    { FIX("599", "HTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n"),
      false, HH_OK, 599, HH_BODY_NONE, 0, true },
    /* rejected */
    { FIX("status too low", "HTTP/1.1 099 X\r\n\r\n"), false, HH_ERR_STATUS, 0, 0, 0, 0 },
    { FIX("status too high", "HTTP/1.1 600 X\r\n\r\n"), false, HH_ERR_STATUS, 0, 0, 0, 0 },
    { FIX("two-digit status", "HTTP/1.1 99 X\r\n\r\n"), false, HH_ERR_STATUS_LINE, 0, 0, 0, 0 },
    { FIX("four-digit status", "HTTP/1.1 2000 X\r\n\r\n"),
      false, HH_ERR_STATUS_LINE, 0, 0, 0, 0 },
    { FIX("letter in status", "HTTP/1.1 2x0 X\r\n\r\n"), false, HH_ERR_STATUS_LINE, 0, 0, 0, 0 },
    { FIX("htab after version", "HTTP/1.1\t200 OK\r\n\r\n"),
      false, HH_ERR_STATUS_LINE, 0, 0, 0, 0 },
    { FIX("no status", "HTTP/1.1\r\n\r\n"), false, HH_ERR_STATUS_LINE, 0, 0, 0, 0 },
    { FIX("control in reason", "HTTP/1.1 200 O\x01K\r\n\r\n"),
      false, HH_ERR_STATUS_LINE, 0, 0, 0, 0 },
    { FIX("http/2.0", "HTTP/2.0 200 OK\r\n\r\n"), false, HH_ERR_VERSION_UNSUPPORTED, 0, 0, 0, 0 },
    { FIX("not http", "SSH-2.0-OpenSSH_9.2\r\n"), false, HH_ERR_VERSION, 0, 0, 0, 0 },
    { FIX("content-length with transfer-encoding",
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
      false, HH_ERR_CL_AND_TE, 0, 0, 0, 0 },
    { FIX("transfer-encoding in http/1.0",
          "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
      false, HH_ERR_TE_HTTP10, 0, 0, 0, 0 },
    { FIX("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"),
      false, HH_ERR_TE_CHUNKED_REPEATED, 0, 0, 0, 0 },
    { FIX("content_length", "HTTP/1.1 200 OK\r\nContent_Length: 5\r\n\r\n"),
      false, HH_ERR_FIELD_LOOKALIKE, 0, 0, 0, 0 },
    { FIX("content-length conflict",
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n"),
      false, HH_ERR_CONTENT_LENGTH_CONFLICT, 0, 0, 0, 0 },
    { FIX("bare lf", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"),
      false, HH_ERR_BARE_LF, 0, 0, 0, 0 },
    { FIX("obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n"),
      false, HH_ERR_OBS_FOLD, 0, 0, 0, 0 },
};

static void
test_response_cases(void)
{
    for (size_t i = 0; i < COUNT(responses); i++) {
        const struct response_case *c = &responses[i];
        struct hh_response resp;
        enum hh_result r = hh_parse_response(c->text, c->len, MAX_HEAD, c->request_was_head,
                                             &resp);

        CU_ASSERT_EQUAL(r, c->expect);
        if (r != c->expect) {
            printf("\n  %s: got %s, want %s\n", c->name, hh_result_str(r),
                   hh_result_str(c->expect));
            continue;
        }
        if (r != HH_OK)
            continue;
        CU_ASSERT_EQUAL(resp.status, c->status);
        CU_ASSERT_EQUAL(resp.body, c->body);
        CU_ASSERT_EQUAL(resp.content_length, c->content_length);
        CU_ASSERT_EQUAL(resp.keep_alive, c->keep_alive);
        CU_ASSERT(resp.head_len <= c->len);
        if (resp.body != c->body || resp.keep_alive != c->keep_alive)
            printf("\n  %s: body %d keep-alive %d\n", c->name, resp.body, resp.keep_alive);
    }
}

/* Every response fixture fed a byte at a time through the gate: the whole parse's verdict
 * once the head has ended (or, rejected, at the latest then), after at most two parses. */
static void
test_response_gated(void)
{
    for (size_t i = 0; i < COUNT(responses); i++) {
        const struct response_case *c = &responses[i];
        struct hh_gate g = { 0 };
        struct hh_response resp, whole;
        enum hh_result r = HH_NEED_MORE, w;

        w = hh_parse_response(c->text, c->len, MAX_HEAD, c->request_was_head, &whole);
        for (size_t n = 1; n <= c->len && r == HH_NEED_MORE; n++)
            r = hh_parse_response_gated(&g, c->text, n, MAX_HEAD, c->request_was_head, &resp);
        CU_ASSERT(g.parses <= 2);
        if (w == HH_OK) {
            CU_ASSERT_EQUAL(r, HH_OK);
            CU_ASSERT(r != HH_OK || (resp.head_len == whole.head_len &&
                                     resp.status == whole.status && resp.body == whole.body));
        } else {
            CU_ASSERT(r == w || (r == HH_NEED_MORE && !has_head_end(c->text, c->len)));
        }
        if (g.parses > 2 || (w == HH_OK && r != HH_OK))
            printf("\n  %s: %s after %u parses, whole: %s\n", c->name, hh_result_str(r),
                   g.parses, hh_result_str(w));
    }
}

static void
test_response_prefixes(void)
{
    for (size_t i = 0; i < COUNT(responses); i++) {
        const struct response_case *c = &responses[i];
        struct hh_response resp;
        size_t end = c->len;

        if (c->expect == HH_OK) {
            CU_ASSERT_EQUAL_FATAL(hh_parse_response(c->text, c->len, MAX_HEAD,
                                                    c->request_was_head, &resp),
                                  HH_OK);
            end = resp.head_len;
        }
        for (size_t n = 0; n < end; n++) {
            enum hh_result r = hh_parse_response(c->text, n, MAX_HEAD, c->request_was_head,
                                                 &resp);

            CU_ASSERT(r == HH_NEED_MORE || (c->expect != HH_OK && r == c->expect));
            if (r != HH_NEED_MORE && r != c->expect) {
                printf("\n  %s: prefix %zu: %s\n", c->name, n, hh_result_str(r));
                break;
            }
        }
    }
}

static void
test_response_interim_then_final(void)
{
    static const uint8_t two[] = "HTTP/1.1 100 Continue\r\n\r\n"
                                 "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    struct hh_response resp;

    CU_ASSERT_EQUAL_FATAL(hh_parse_response(two, sizeof(two) - 1, MAX_HEAD, false, &resp),
                          HH_OK);
    CU_ASSERT_EQUAL(resp.status, 100);
    size_t off = resp.head_len;
    CU_ASSERT_EQUAL_FATAL(hh_parse_response(two + off, sizeof(two) - 1 - off, MAX_HEAD, false,
                                            &resp),
                          HH_OK);
    CU_ASSERT_EQUAL(resp.status, 201);
    CU_ASSERT_EQUAL(resp.body, HH_BODY_LENGTH);
    CU_ASSERT_EQUAL(resp.content_length, 2);
    CU_ASSERT_EQUAL(off + resp.head_len + 2, sizeof(two) - 1);
    CU_ASSERT_EQUAL(hh_parse_response(two, 10, 9, false, &resp), HH_ERR_HEAD_TOO_LARGE);
}

/* ---- chunked bodies --------------------------------------------------------------------- */

struct chunked_case {
    const char *name;
    const uint8_t *text;
    size_t len;
    enum hh_result expect;
    size_t used;                /* HH_OK: end of the body; error: offset of the bad byte */
};

static const struct chunked_case chunked_cases[] = {
    { FIX("one chunk", "5\r\nhello\r\n0\r\n\r\n"), HH_OK, 15 },
    { FIX("empty body", "0\r\n\r\n"), HH_OK, 5 },
    { FIX("hex sizes", "A\r\n0123456789\r\na\r\nabcdefghij\r\n1F\r\n"
                       "0123456789012345678901234567890\r\n0\r\n\r\n"),
      HH_OK, 72 },
    { FIX("leading zeros", "0005\r\nhello\r\n000\r\n\r\n"), HH_OK, 20 },
    { FIX("extensions", "5;name=value;flag;q=\"a\\\"b;c\"\r\nhello\r\n0;last\r\n\r\n"),
      HH_OK, 47 },
    { FIX("extensions with long bws", "1  \t;  a  =  \"\"\r\nx\r\n0\r\n\r\n"), HH_OK, 25 },
    { FIX("extensions with bws", "5 ;\tname = value ; f\r\nhello\r\n0\r\n\r\n"), HH_OK, 34 },
    { FIX("trailers", "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:\tab c\r\n\r\n"),
      HH_OK, 44 },
    { FIX("next message follows", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), HH_OK, 11 },
    { FIX("data with crlf inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n"), HH_OK, 14 },
    { FIX("incomplete after data", "5\r\nhello\r\n"), HH_NEED_MORE, 10 },
    { FIX("incomplete trailer", "0\r\nX: y\r\n"), HH_NEED_MORE, 9 },
    { FIX("largest size", "7fffffff\r\n"), HH_NEED_MORE, 10 },
    { FIX("eight digits with leading zeros", "00000005\r\nhello\r\n0\r\n\r\n"), HH_OK, 22 },
    /* hostile */
    { FIX("missing size", "\r\n"), HH_ERR_CHUNK_SIZE, 0 },
    { FIX("not hex", "g\r\n"), HH_ERR_CHUNK_SIZE, 0 },
    { FIX("negative", "-5\r\n"), HH_ERR_CHUNK_SIZE, 0 },
    { FIX("0x prefix", "0x5\r\n"), HH_ERR_CHUNK_SIZE, 1 },
    { FIX("junk after size", "5x\r\nhello\r\n"), HH_ERR_CHUNK_SIZE, 1 },
    { FIX("2^31", "80000000\r\n"), HH_ERR_CHUNK_SIZE_OVERFLOW, 7 },
    { FIX("sixteen digits", "ffffffffffffffff\r\n"), HH_ERR_CHUNK_SIZE_OVERFLOW, 7 },
    { FIX("nine digits", "100000000\r\n"), HH_ERR_CHUNK_SIZE_OVERFLOW, 8 },
    { FIX("padded to nine digits", "000000005\r\n"), HH_ERR_CHUNK_SIZE_OVERFLOW, 8 },
    { FIX("padded far", "000000000000000000005\r\nhello\r\n"), HH_ERR_CHUNK_SIZE_OVERFLOW, 8 },
    { FIX("data too long", "5\r\nhelloX\r\n"), HH_ERR_CHUNK_CRLF, 8 },
    { FIX("data then lf", "5\r\nhello\n0\r\n\r\n"), HH_ERR_CHUNK_CRLF, 8 },
    { FIX("data then cr only", "5\r\nhello\r0\r\n\r\n"), HH_ERR_CHUNK_CRLF, 9 },
    { FIX("size line bare lf", "5\nhello\r\n"), HH_ERR_BARE_LF, 1 },
    { FIX("size line bare cr", "5\rhello\r\n"), HH_ERR_BARE_CR, 2 },
    { FIX("first byte lf", "\n"), HH_ERR_BARE_LF, 0 },
    { FIX("space before crlf", "5 \r\nhello\r\n"), HH_ERR_CHUNK_EXT, 2 },
    { FIX("empty extension", "5;\r\nhello\r\n"), HH_ERR_CHUNK_EXT, 2 },
    { FIX("space after extension name", "5;a \r\nhello\r\n"), HH_ERR_CHUNK_EXT, 4 },
    { FIX("empty extension value", "5;a=\r\nhello\r\n"), HH_ERR_CHUNK_EXT, 4 },
    { FIX("extension value two words", "5;a=b c\r\n"), HH_ERR_CHUNK_EXT, 6 },
    { FIX("cr in quoted extension", "5;a=\"x\r\nhello\r\n"), HH_ERR_CHUNK_EXT, 6 },
    { FIX("lf in quoted extension", "5;a=\"x\n\"\r\nhello\r\n"), HH_ERR_BARE_LF, 6 },
    { FIX("lf in extension", "5;a\nb\r\n"), HH_ERR_BARE_LF, 3 },
    { FIX("nul in extension", "5;a=\0\r\n"), HH_ERR_CHUNK_EXT, 4 },
    { FIX("control in quoted-pair", "5;a=\"\\\x01\"\r\n"), HH_ERR_CHUNK_EXT, 6 },
    { FIX("junk after quoted value", "5;a=\"x\"y\r\n"), HH_ERR_CHUNK_EXT, 7 },
    { FIX("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n"), HH_ERR_OBS_FOLD, 9 },
    { FIX("trailer empty name", "0\r\n: b\r\n\r\n"), HH_ERR_FIELD_NAME_EMPTY, 3 },
    { FIX("trailer space before colon", "0\r\nX : b\r\n\r\n"), HH_ERR_FIELD_NAME_SPACE, 4 },
    { FIX("trailer bad name", "0\r\nX@: b\r\n\r\n"), HH_ERR_FIELD_NAME, 4 },
    { FIX("trailer bad first byte", "0\r\n@X: b\r\n\r\n"), HH_ERR_FIELD_NAME, 3 },
    { FIX("trailer without colon", "0\r\nXYZ\r\n\r\n"), HH_ERR_FIELD_NO_COLON, 7 },
    { FIX("trailer name bare cr", "0\r\nXYZ\rA"), HH_ERR_BARE_CR, 7 },
    { FIX("trailer name bare lf", "0\r\nXYZ\n"), HH_ERR_BARE_LF, 6 },
    { FIX("trailer control in value", "0\r\nX: \x01\r\n\r\n"), HH_ERR_FIELD_VALUE, 6 },
    { FIX("trailer bare lf", "0\r\nX: y\n\r\n"), HH_ERR_BARE_LF, 7 },
    { FIX("trailer bare cr", "0\r\nX: y\rz\r\n\r\n"), HH_ERR_BARE_CR, 8 },
    { FIX("final bare lf", "0\r\n\n"), HH_ERR_BARE_LF, 3 },
    { FIX("final bare cr", "0\r\n\rX"), HH_ERR_BARE_CR, 4 },
};

/* Feeds text to a fresh scanner in pieces whose lengths come from split(); returns the result
 * and sets *used to the offset in text where the body ended or the error was seen. */
static enum hh_result
scan_split(const uint8_t *text, size_t len, size_t (*split)(uint64_t *, size_t),
           uint64_t seed, size_t *used)
{
    struct hh_chunked s;
    size_t pos = 0;

    hh_chunked_init(&s);
    for (;;) {
        size_t n = split(&seed, len - pos), u = 0;
        enum hh_result r = hh_chunked_scan(&s, text + pos, n, &u);

        CU_ASSERT(u <= n);
        if (r != HH_NEED_MORE || pos + n == len) {
            *used = pos + u;
            return r;
        }
        CU_ASSERT_EQUAL(u, n);
        pos += n;
    }
}

static size_t
split_whole(uint64_t *seed, size_t left)
{
    (void)seed;
    return left;
}

static size_t
split_bytes(uint64_t *seed, size_t left)
{
    (void)seed;
    return left < 1 ? left : 1;
}

static size_t
split_random(uint64_t *seed, size_t left)
{
    return left == 0 ? 0 : (size_t)(next_rand(seed) % (left + 1));
}

static void
test_chunked_cases(void)
{
    for (size_t i = 0; i < COUNT(chunked_cases); i++) {
        const struct chunked_case *c = &chunked_cases[i];
        size_t used = 0;
        enum hh_result r = scan_split(c->text, c->len, split_whole, 0, &used);

        CU_ASSERT_EQUAL(r, c->expect);
        CU_ASSERT_EQUAL(used, c->used);
        if (r != c->expect || used != c->used)
            printf("\n  %s: got %s at %zu, want %s at %zu\n", c->name, hh_result_str(r), used,
                   hh_result_str(c->expect), c->used);
    }
}

static void
test_chunked_splits_agree(void)
{
    for (size_t i = 0; i < COUNT(chunked_cases); i++) {
        const struct chunked_case *c = &chunked_cases[i];
        size_t used = 0;
        enum hh_result r = scan_split(c->text, c->len, split_bytes, 0, &used);

        CU_ASSERT_EQUAL(r, c->expect);
        CU_ASSERT_EQUAL(used, c->used);
        for (uint64_t seed = 1; seed <= 200; seed++) {
            r = scan_split(c->text, c->len, split_random, seed * 0x9e3779b97f4a7c15u, &used);
            CU_ASSERT_EQUAL(r, c->expect);
            CU_ASSERT_EQUAL(used, c->used);
            if (r != c->expect || used != c->used) {
                printf("\n  %s: seed %llu: got %s at %zu\n", c->name,
                       (unsigned long long)seed, hh_result_str(r), used);
                break;
            }
        }
    }
}

static void
test_chunked_after_end(void)
{
    static const uint8_t body[] = "3\r\nabc\r\n0\r\n\r\n";
    static const uint8_t bad[] = "z";
    struct hh_chunked s;
    size_t used;

    hh_chunked_init(&s);
    CU_ASSERT_FALSE(hh_chunked_is_done(&s));
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, body, 0, &used), HH_NEED_MORE);
    CU_ASSERT_EQUAL(used, 0);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, body, sizeof(body) - 1, &used), HH_OK);
    CU_ASSERT_EQUAL(used, sizeof(body) - 1);
    CU_ASSERT_TRUE(hh_chunked_is_done(&s));
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, body, sizeof(body) - 1, &used), HH_OK);
    CU_ASSERT_EQUAL(used, 0);

    hh_chunked_init(&s);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, bad, 1, &used), HH_ERR_CHUNK_SIZE);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, body, sizeof(body) - 1, &used), HH_ERR_CHUNK_SIZE);
    CU_ASSERT_EQUAL(used, 0);
    CU_ASSERT_FALSE(hh_chunked_is_done(&s));
}

/* A huge declared chunk is streamed, not refused: the scanner only counts. */
static void
test_chunked_large_chunk(void)
{
    static const uint8_t head[] = "7fffffff\r\n";
    static uint8_t data[65536];
    struct hh_chunked s;
    size_t used;

    hh_chunked_init(&s);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, head, sizeof(head) - 1, &used), HH_NEED_MORE);
    for (int i = 0; i < 16; i++) {
        CU_ASSERT_EQUAL(hh_chunked_scan(&s, data, sizeof(data), &used), HH_NEED_MORE);
        CU_ASSERT_EQUAL(used, sizeof(data));
    }
}

static void
test_chunked_limits(void)
{
    static uint8_t buf[HH_TRAILER_MAX + 64];
    struct hh_chunked s;
    size_t used, n;

    /* Extensions up to HH_CHUNK_EXT_MAX bytes after the size pass, one more fails. */
    buf[0] = '1';
    buf[1] = ';';
    memset(buf + 2, 'a', HH_CHUNK_EXT_MAX - 1);
    n = 1 + HH_CHUNK_EXT_MAX;
    memcpy(buf + n, "\r\nx\r\n0\r\n\r\n", 10);
    hh_chunked_init(&s);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, buf, n + 10, &used), HH_OK);
    CU_ASSERT_EQUAL(used, n + 10);
    buf[n] = 'a';
    hh_chunked_init(&s);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, buf, n + 1, &used), HH_ERR_CHUNK_EXT_TOO_LONG);
    CU_ASSERT_EQUAL(used, n);

    /* A trailer section of HH_TRAILER_MAX bytes passes, one more fails. */
    memcpy(buf, "0\r\nX:", 5);
    memset(buf + 5, 'v', HH_TRAILER_MAX - 6);
    n = 5 + HH_TRAILER_MAX - 6;
    memcpy(buf + n, "\r\n\r\n", 4);
    hh_chunked_init(&s);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, buf, n + 4, &used), HH_OK);
    CU_ASSERT_EQUAL(used, n + 4);
    memcpy(buf + n, "v\r\n\r\n", 5);
    hh_chunked_init(&s);
    CU_ASSERT_EQUAL(hh_chunked_scan(&s, buf, n + 5, &used), HH_ERR_TRAILER_TOO_LARGE);
    CU_ASSERT_EQUAL(used, n + 4);
}

/* ---- hop-by-hop fields and framing normalised ------------------------------------------ */

struct strip_case {
    const char *name;
    const char *in;
    bool response;
    unsigned flags;
    const char *out;
};

static const struct strip_case strip_cases[] = {
    { "nothing to strip", "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n", false, 0,
      "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n" },
    { "every hop-by-hop field, nominated ones before and after Connection",
      "GET / HTTP/1.1\r\nX-Secret: s\r\nHost: h\r\n"
      "Connection: keep-alive, X-Forwarded-For, X-Secret\r\nKeep-Alive: timeout=5\r\n"
      "Proxy-Connection: keep-alive\r\nTE: trailers, gzip\r\nUpgrade: foo/1\r\n"
      "Accept: */*\r\nX-Forwarded-For: 6.6.6.6\r\nx-secret: t\r\n\r\n",
      false, 0, "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n" },
    { "forwarded-for: the client's forwarding fields go",
      "GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nHost: h\r\nX-Forwarded-Proto: https\r\n"
      "Forwarded: for=6.6.6.6\r\nX-Forwarded-Host: x\r\n\r\n",
      false, HH_STRIP_FORWARDED, "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Host: x\r\n\r\n" },
    { "without forwarded-for they stay",
      "GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nHost: h\r\n\r\n", false, 0,
      "GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nHost: h\r\n\r\n" },
    { "connection cannot remove the framing or the host",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
      "Connection: Content-Length, Host, Transfer-Encoding\r\n\r\n", false, 0,
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n" },
    { "repeated content-length: all go, the caller sends one",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n",
      false, 0, "POST / HTTP/1.1\r\nHost: h\r\n\r\n" },
    { "a single content-length stays",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", false, 0,
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n" },
    { "chunked spelled otherwise: the caller sends it again",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", false, 0,
      "POST / HTTP/1.1\r\nHost: h\r\n\r\n" },
    { "chunked as such stays",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0,
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" },
    { "websocket kept when allowed",
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false,
      HH_STRIP_KEEP_UPGRADE, "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n" },
    { "h2c upgrade and its settings go",
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", false, 0,
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n" },
    { "empty lines before the request line stay",
      "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false, 0,
      "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n" },
    { "response: hop-by-hop fields go, end-to-end ones stay in order",
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\n"
      "X-Internal: 1\r\nContent-Length: 0\r\nUpgrade: h2c\r\nServer: s\r\n\r\n", true, 0,
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nServer: s\r\n\r\n" },
    { "response: 101 keeps its Upgrade",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      true, HH_STRIP_KEEP_UPGRADE,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" },
    { "response: content-length list",
      "HTTP/1.1 200 OK\r\nContent-Length: 3,3\r\n\r\n", true, 0, "HTTP/1.1 200 OK\r\n\r\n" },
};

static void
test_strip_hop(void)
{
    for (size_t i = 0; i < COUNT(strip_cases); i++) {
        const struct strip_case *t = &strip_cases[i];
        uint8_t buf[1024];
        size_t len = strlen(t->in), n;
        const struct hh_hop *hop;
        struct hh_request req;
        struct hh_response resp;
        enum hh_result r;

        memcpy(buf, t->in, len);
        if (t->response) {
            r = hh_parse_response(buf, len, MAX_HEAD, false, &resp);
            hop = &resp.hop;
        } else {
            r = hh_parse_request(buf, len, MAX_HEAD, &req);
            hop = &req.hop;
        }
        CU_ASSERT_EQUAL_FATAL(r, HH_OK);
        n = hh_strip_hop(buf, len, hop, t->flags);
        CU_ASSERT(n == strlen(t->out) && memcmp(buf, t->out, n) == 0);
        if (n != strlen(t->out) || memcmp(buf, t->out, n) != 0)
            printf("\n  %s: got \"%.*s\"\n", t->name, (int)n, (const char *)buf);
    }
}

/* What the parser notes for the rewrite: framing to normalise, the upgrade allowed. */
static void
test_hop_notes(void)
{
    static const char cl[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n"
                             "Content-Length: 5\r\n\r\n";
    static const char te[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const char te2[] = "POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: chunked \r\n\r\n";
    static const char plain[] = "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n";
    static const char up[] = "HTTP/1.1 101 x\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n\r\n";
    static const char h2c[] = "HTTP/1.1 101 x\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n";
    uint8_t buf[sizeof(plain)];
    struct hh_request req;
    struct hh_response resp;

    CU_ASSERT_EQUAL_FATAL(hh_parse_request((const uint8_t *)cl, sizeof(cl) - 1, MAX_HEAD,
                                           &req), HH_OK);
    CU_ASSERT_TRUE(req.hop.cl_normalise);
    CU_ASSERT_EQUAL(req.content_length, 5);
    CU_ASSERT_EQUAL_FATAL(hh_parse_request((const uint8_t *)te, sizeof(te) - 1, MAX_HEAD,
                                           &req), HH_OK);
    CU_ASSERT_FALSE(req.hop.te_normalise);
    CU_ASSERT_FALSE(req.hop.hop);
    CU_ASSERT_EQUAL_FATAL(hh_parse_request((const uint8_t *)te2, sizeof(te2) - 1, MAX_HEAD,
                                           &req), HH_OK);
    CU_ASSERT_FALSE(req.hop.te_normalise);      /* the value is trimmed; name case is free */
    CU_ASSERT_EQUAL_FATAL(hh_parse_request((const uint8_t *)plain, sizeof(plain) - 1,
                                           MAX_HEAD, &req), HH_OK);
    CU_ASSERT_FALSE(req.hop.hop || req.hop.forwarded || req.hop.cl_normalise);
    memcpy(buf, plain, sizeof(plain) - 1);
    CU_ASSERT_EQUAL(hh_strip_hop(buf, sizeof(plain) - 1, &req.hop, HH_STRIP_FORWARDED),
                    sizeof(plain) - 1);
    CU_ASSERT_EQUAL_FATAL(hh_parse_response((const uint8_t *)up, sizeof(up) - 1, MAX_HEAD,
                                            false, &resp), HH_OK);
    CU_ASSERT_TRUE(resp.hop.upgrade_websocket);
    CU_ASSERT_EQUAL_FATAL(hh_parse_response((const uint8_t *)h2c, sizeof(h2c) - 1, MAX_HEAD,
                                            false, &resp), HH_OK);
    CU_ASSERT_FALSE(resp.hop.upgrade_websocket);
}

/* ---- guard page ------------------------------------------------------------------------- */

/* Input that ends exactly where an inaccessible page begins: any read past len faults. */
static void
test_guard_page(void)
{
    static const uint8_t head[] = "POST /x HTTP/1.1\r\nHost: Guard.Example:8080\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n";
    static const uint8_t resp_head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    static const uint8_t body[] = "5;e=\"q\"\r\nhello\r\n0\r\nT: v\r\n\r\n";
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *map, *end;
    struct hh_request req;
    struct hh_response resp;
    struct hh_chunked s;
    size_t used;

    CU_ASSERT_FATAL(page > 0);
    map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
               0);
    CU_ASSERT_FATAL(map != MAP_FAILED);
    CU_ASSERT_FATAL(mprotect(map + page, (size_t)page, PROT_NONE) == 0);
    end = map + page;

    for (size_t n = 0; n <= sizeof(head) - 1; n++) {
        uint8_t *p = end - n;

        memcpy(p, head, n);
        CU_ASSERT_EQUAL(hh_parse_request(p, n, MAX_HEAD, &req),
                        n == sizeof(head) - 1 ? HH_OK : HH_NEED_MORE);
    }
    CU_ASSERT_STRING_EQUAL(req.host, "guard.example");
    memcpy(end - 3, "GET", 3);
    CU_ASSERT_EQUAL(hh_parse_request(end - 3, 3, 2, &req), HH_ERR_REQUEST_LINE_TOO_LONG);
    memcpy(end - 20, "GET / HTTP/1.1\r\nX: \r", 20);
    CU_ASSERT_EQUAL(hh_parse_request(end - 20, 20, MAX_HEAD, &req), HH_NEED_MORE);

    for (size_t n = 0; n <= sizeof(resp_head) - 1; n++) {
        uint8_t *p = end - n;

        memcpy(p, resp_head, n);
        CU_ASSERT_EQUAL(hh_parse_response(p, n, MAX_HEAD, false, &resp),
                        n == sizeof(resp_head) - 1 ? HH_OK : HH_NEED_MORE);
    }

    for (size_t n = 0; n <= sizeof(body) - 1; n++) {
        uint8_t *p = end - n;

        memcpy(p, body, n);
        hh_chunked_init(&s);
        CU_ASSERT_EQUAL(hh_chunked_scan(&s, p, n, &used),
                        n == sizeof(body) - 1 ? HH_OK : HH_NEED_MORE);
        CU_ASSERT_EQUAL(used, n);
    }
    munmap(map, (size_t)page * 2);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "request: valid fixtures", test_request_valid },
        { "request: every prefix needs more", test_request_every_prefix_needs_more },
        { "request: spans and forms", test_request_spans },
        { "request: rejected fixtures", test_request_rejected },
        { "request: rejected prefixes are stable", test_request_rejected_prefixes },
        { "request: errors reported early", test_request_early_errors },
        { "request: head too large", test_request_head_too_large },
        { "request: gated, byte by byte", test_request_gated_trickle },
        { "request: gated, rejected heads", test_request_gated_rejected },
        { "request: gated, bounds", test_request_gated_bounds },
        { "results: strings and statuses", test_result_strings_and_statuses },
        { "response: fixtures", test_response_cases },
        { "response: prefixes", test_response_prefixes },
        { "response: gated, byte by byte", test_response_gated },
        { "response: interim then final", test_response_interim_then_final },
        { "chunked: fixtures whole", test_chunked_cases },
        { "chunked: byte by byte and random splits", test_chunked_splits_agree },
        { "chunked: after end and after error", test_chunked_after_end },
        { "chunked: large chunk streams", test_chunked_large_chunk },
        { "chunked: extension and trailer limits", test_chunked_limits },
        { "hop-by-hop: stripped both ways", test_strip_hop },
        { "hop-by-hop: what the parser notes", test_hop_notes },
        { "guard page", test_guard_page },
    };

    return UNIT_RUN("httphead", tests);
}
