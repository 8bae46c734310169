/* Unit tests of runtime/reply.c: redirects and minimal status pages. */
#include "reply.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static char out[4096];

static size_t
redirect(int status, const char *host, uint16_t port, const char *path, int minor, bool keep)
{
    memset(out, 0, sizeof(out));
    return reply_redirect(out, sizeof(out), status, host, strlen(host), port, path,
                          strlen(path), minor, keep);
}

static void
test_redirect_exact_bytes(void)
{
    static const char want[] =
        "HTTP/1.1 308 Permanent Redirect\r\n"           /* status line */
        "Location: https://one.test:8443/a/b?q=1&r=%20\r\n"
        "Content-Length: 0\r\n"                         /* HEAD and GET alike */
        "\r\n";
    size_t n = redirect(308, "one.test", 8443, "/a/b?q=1&r=%20", 1, true);

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_NSTRING_EQUAL(out, want, sizeof(want) - 1);
}

static void
test_redirect_default_port_left_out(void)
{
    CU_ASSERT(redirect(301, "one.test", 443, "/", 1, true) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Location: https://one.test/\r\n"));
    CU_ASSERT(redirect(301, "one.test", 0, "/x", 1, true) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Location: https://one.test/x\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "HTTP/1.1 301 Moved Permanently\r\n"));
}

static void
test_redirect_empty_path_is_root(void)
{
    CU_ASSERT(redirect(302, "one.test", 443, "", 1, true) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Location: https://one.test/\r\n"));
}

static void
test_redirect_ipv6_host(void)
{
    CU_ASSERT(redirect(307, "[2001:db8::1]", 8443, "/", 1, true) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Location: https://[2001:db8::1]:8443/\r\n"));
}

static void
test_redirect_connection_field(void)
{
    CU_ASSERT(redirect(308, "a.test", 443, "/", 1, false) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Connection: close\r\n"));
    CU_ASSERT(redirect(308, "a.test", 443, "/", 0, true) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Connection: keep-alive\r\n"));
    CU_ASSERT(redirect(308, "a.test", 443, "/", 1, true) > 0);
    CU_ASSERT_PTR_NULL(strstr(out, "Connection:"));
}

static void
test_redirect_refuses_unsafe_bytes(void)
{
    CU_ASSERT_EQUAL(redirect(308, "a.test\r\nX: y", 443, "/", 1, true), 0);
    CU_ASSERT_EQUAL(redirect(308, "a test", 443, "/", 1, true), 0);
    CU_ASSERT_EQUAL(redirect(308, "a.test", 443, "/x\r\nSet-Cookie: a=b", 1, true), 0);
    CU_ASSERT_EQUAL(redirect(308, "a.test", 443, "/x y", 1, true), 0);
    CU_ASSERT_EQUAL(redirect(308, "a.test", 443, "/\x7f", 1, true), 0);
    CU_ASSERT_EQUAL(redirect(308, "a.test", 443, "/\xc3\xa9", 1, true), 0);
    CU_ASSERT_EQUAL(redirect(308, "a.test", 443, "x", 1, true), 0);     /* not a path */
    CU_ASSERT_EQUAL(redirect(308, "", 443, "/", 1, true), 0);           /* no host */
    CU_ASSERT_EQUAL(redirect(200, "a.test", 443, "/", 1, true), 0);     /* not 3xx */
}

static void
test_redirect_every_short_cap_fails(void)
{
    char small[128];
    size_t full = redirect(308, "one.test", 8443, "/path?q", 1, true);

    CU_ASSERT(full > 0 && full < sizeof(small));
    for (size_t cap = 0; cap < full; cap++)
        CU_ASSERT_EQUAL(reply_redirect(small, cap, 308, "one.test", 8, 8443, "/path?q", 7, 1,
                                       true), 0);
    CU_ASSERT_EQUAL(reply_redirect(small, full, 308, "one.test", 8, 8443, "/path?q", 7, 1,
                                   true), full);
}

static void
test_status_page(void)
{
    static const char want[] =
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Length: 24\r\n"                        /* "503 Service Unavailable\n" */
        "Cache-Control: no-cache\r\n"
        "Connection: close\r\n"
        "\r\n"
        "503 Service Unavailable\n";
    size_t n = reply_status_page(out, sizeof(out), 503);

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_NSTRING_EQUAL(out, want, sizeof(want) - 1);
    CU_ASSERT_EQUAL(reply_status_page(out, 10, 503), 0);
    CU_ASSERT_EQUAL(reply_status_page(out, sizeof(out), 99), 0);
    CU_ASSERT_EQUAL(reply_status_page(out, sizeof(out), 600), 0);
    CU_ASSERT(reply_status_page(out, sizeof(out), 599) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "599 Unknown"));
}

static void
test_head_exact_bytes(void)
{
    static const char want[] =
        "HTTP/1.1 200 OK\r\n"                           /* status line */
        "Content-Type: text/plain; version=0.0.4\r\n"
        "Content-Length: 12345\r\n"
        "Cache-Control: no-cache\r\n"                   /* extra, as given */
        "\r\n";                                         /* 1.1, kept: no Connection */
    size_t n = reply_head(out, sizeof(out), 200, "text/plain; version=0.0.4", 12345,
                          "Cache-Control: no-cache\r\n", 1, true);

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_NSTRING_EQUAL(out, want, sizeof(want) - 1);
}

static void
test_head_connection_and_short_caps(void)
{
    static const char want[] =
        "HTTP/1.1 405 Method Not Allowed\r\n"
        "Content-Length: 0\r\n"                         /* no Content-Type given */
        "Allow: GET, HEAD\r\n"
        "Connection: close\r\n"
        "\r\n";
    size_t n = reply_head(out, sizeof(out), 405, NULL, 0, "Allow: GET, HEAD\r\n", 1, false);

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_NSTRING_EQUAL(out, want, sizeof(want) - 1);
    CU_ASSERT(reply_head(out, sizeof(out), 404, NULL, 0, "", 0, true) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Connection: keep-alive\r\n"));
    for (size_t cap = 0; cap < sizeof(want); cap++)
        CU_ASSERT_EQUAL(reply_head(out, cap, 405, NULL, 0, "Allow: GET, HEAD\r\n", 1, false), 0);
    CU_ASSERT_EQUAL(reply_head(out, sizeof(out), 99, NULL, 0, "", 1, true), 0);
    CU_ASSERT_EQUAL(reply_head(out, sizeof(out), 600, NULL, 0, "", 1, true), 0);
}

static void
test_reasons(void)
{
    CU_ASSERT_STRING_EQUAL(reply_reason(400), "Bad Request");
    CU_ASSERT_STRING_EQUAL(reply_reason(408), "Request Timeout");
    CU_ASSERT_STRING_EQUAL(reply_reason(431), "Request Header Fields Too Large");
    CU_ASSERT_STRING_EQUAL(reply_reason(501), "Not Implemented");
    CU_ASSERT_STRING_EQUAL(reply_reason(502), "Bad Gateway");
    CU_ASSERT_STRING_EQUAL(reply_reason(504), "Gateway Timeout");
    CU_ASSERT_STRING_EQUAL(reply_reason(505), "HTTP Version Not Supported");
    CU_ASSERT_STRING_EQUAL(reply_reason(299), "Unknown");
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "redirect exact bytes", test_redirect_exact_bytes },
        { "redirect default port left out", test_redirect_default_port_left_out },
        { "redirect empty path is root", test_redirect_empty_path_is_root },
        { "redirect IPv6 host", test_redirect_ipv6_host },
        { "redirect Connection field", test_redirect_connection_field },
        { "redirect refuses unsafe bytes", test_redirect_refuses_unsafe_bytes },
        { "redirect every short cap fails", test_redirect_every_short_cap_fails },
        { "status page", test_status_page },
        { "head exact bytes", test_head_exact_bytes },
        { "head Connection field and short caps", test_head_connection_and_short_caps },
        { "reasons", test_reasons },
    };

    return UNIT_RUN("reply", tests);
}
