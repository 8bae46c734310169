/* Unit tests for runtime/rewrite.c: request and response heads as the proxy forwards them. */
#include "rewrite.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define MAX_HEAD 8192

/* A head (and what follows it) in a buffer with `room` bytes free after it. */
struct fixture {
    uint8_t data[4096];
    size_t len;                     /* head and tail */
    size_t room;
};

static void
load(struct fixture *f, const char *text, size_t room)
{
    f->len = strlen(text);
    memcpy(f->data, text, f->len);
    f->room = room;
}

/* Parses f as a request, rewrites it with o; returns whether add found room, and f holds
 * the new bytes (head and tail). */
static bool
rewrite_request(struct fixture *f, const struct rw_request_opts *o)
{
    struct hh_request r;
    char add[RW_REQUEST_ADD_MAX];
    size_t n, len, tail;
    bool added;

    CU_ASSERT_EQUAL_FATAL(hh_parse_request(f->data, f->len, MAX_HEAD, &r), HH_OK);
    n = rw_request_fields(&r, o, add, sizeof(add));
    tail = f->len - r.head_len;
    len = rw_request(f->data, tail, f->room, &r, o, add, n, &added);
    f->len = len + tail;
    return added;
}

static bool
rewrite_response(struct fixture *f, bool request_was_head, bool keep, bool http10)
{
    struct hh_response rs;
    size_t len, tail;
    bool added;

    CU_ASSERT_EQUAL_FATAL(hh_parse_response(f->data, f->len, MAX_HEAD, request_was_head, &rs),
                          HH_OK);
    tail = f->len - rs.head_len;
    len = rw_response(f->data, tail, f->room, &rs, keep, http10, &added);
    f->len = len + tail;
    return added;
}

#define CU_ASSERT_BYTES(f, text)                                                          \
    do {                                                                                \
        CU_ASSERT_EQUAL((f)->len, strlen(text));                                        \
        CU_ASSERT(memcmp((f)->data, (text), strlen(text)) == 0);                        \
        if ((f)->len != strlen(text) || memcmp((f)->data, (text), strlen(text)) != 0)   \
            printf("\n  got: %.*s\n", (int)(f)->len, (const char *)(f)->data);         \
    } while (0)

static void
test_request_hop_fields_go(void)
{
    struct fixture f;
    struct rw_request_opts o = { 0 };

    load(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive, X-Secret\r\n"
             "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nAccept: */*\r\n\r\n", 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n\r\n");
}

static void
test_request_close_passed_on(void)
{
    struct fixture f;
    struct rw_request_opts o = { 0 };

    load(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    o.close_stripped = true;
    load(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
}

static void
test_request_http10_keep_alive(void)
{
    struct fixture f;
    struct rw_request_opts o = { 0 };

    load(&f, "GET / HTTP/1.0\r\nHost: a.test\r\nConnection: Keep-Alive\r\n\r\n", 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.0\r\nHost: a.test\r\nConnection: keep-alive\r\n\r\n");
}

static void
test_request_forwarded_for_replaced(void)
{
    struct fixture f;
    struct rw_request_opts o = { .forwarded_for = "192.0.2.7" };

    load(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 10.0.0.1\r\n"
             "Forwarded: for=x\r\nX-Forwarded-Proto: https\r\n\r\n", 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 192.0.2.7\r\n"
                        "X-Forwarded-Proto: http\r\n\r\n");
    /* Without forwarded-for, the client's own stay. */
    o.forwarded_for = NULL;
    load(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n", 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");
}

static void
test_request_upgrade(void)
{
    struct fixture f;
    struct rw_request_opts o = { .upgrade = true };
    const char *ws = "GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\n"
                     "Upgrade: websocket\r\n\r\n";

    load(&f, ws, 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\n\r\n");
    o.upgrade = false;              /* not let through: Upgrade goes too */
    load(&f, ws, 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET /ws HTTP/1.1\r\nHost: a.test\r\n\r\n");
}

static void
test_request_framing_normalised_body_kept(void)
{
    struct fixture f;
    struct rw_request_opts o = { 0 };

    load(&f, "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5, 5\r\n\r\nhelloGET", 256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhelloGET");
    load(&f, "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
         256);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "0\r\n\r\n");
}

static void
test_request_no_room(void)
{
    struct fixture f;
    struct rw_request_opts o = { .forwarded_for = "192.0.2.7" };

    load(&f, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", 10);
    CU_ASSERT_FALSE(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    /* What the strip freed counts as room. */
    load(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nKeep-Alive: timeout=5, max=1000\r\n"
             "Proxy-Connection: keep-alive\r\n\r\n", 10);
    CU_ASSERT(rewrite_request(&f, &o));
    CU_ASSERT_BYTES(&f, "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 192.0.2.7\r\n"
                        "X-Forwarded-Proto: http\r\n\r\n");
}

static void
test_response_connection(void)
{
    struct fixture f;
    const char *ok = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=3\r\n"
                     "Content-Length: 2\r\n\r\nhi";

    load(&f, ok, 256);
    CU_ASSERT(rewrite_response(&f, false, true, false));
    CU_ASSERT_BYTES(&f, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    load(&f, ok, 256);
    CU_ASSERT(rewrite_response(&f, false, false, false));
    CU_ASSERT_BYTES(&f, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    load(&f, ok, 256);
    CU_ASSERT(rewrite_response(&f, false, true, true));
    CU_ASSERT_BYTES(&f, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n"
                        "\r\nhi");
    /* Interim responses get nothing. */
    load(&f, "HTTP/1.1 100 Continue\r\n\r\n", 256);
    CU_ASSERT(rewrite_response(&f, false, false, true));
    CU_ASSERT_BYTES(&f, "HTTP/1.1 100 Continue\r\n\r\n");
}

static void
test_response_101_and_length(void)
{
    struct fixture f;

    load(&f, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
             "Upgrade: websocket\r\n\r\n", 256);
    CU_ASSERT(rewrite_response(&f, false, true, false));
    CU_ASSERT_BYTES(&f, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\n\r\n");
    load(&f, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 0);
    CU_ASSERT(rewrite_response(&f, false, true, false));
    CU_ASSERT_BYTES(&f, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    load(&f, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 5);
    CU_ASSERT_FALSE(rewrite_response(&f, false, false, false));
    CU_ASSERT_BYTES(&f, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "request hop-by-hop fields go", test_request_hop_fields_go },
        { "request close passed on", test_request_close_passed_on },
        { "request HTTP/1.0 keep-alive", test_request_http10_keep_alive },
        { "request X-Forwarded-For replaced", test_request_forwarded_for_replaced },
        { "request upgrade", test_request_upgrade },
        { "request framing normalised, body kept", test_request_framing_normalised_body_kept },
        { "request no room", test_request_no_room },
        { "response Connection", test_response_connection },
        { "response 101 and length", test_response_101_and_length },
    };

    return UNIT_RUN("rewrite", tests);
}
