/* The bytes of an HTTP health check: the status line it accepts, and the request it sends. */
#include "hcheck.h"
#include "unit.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fixture {
    const char *name;
    const char *bytes;
    enum hc_result want;
    uint16_t status;
};

static const struct fixture fixtures[] = {
    { "ok with reason", "HTTP/1.1 200 OK\r\n", HC_STATUS, 200 },
    { "503", "HTTP/1.1 503 Service Unavailable\r\n\r\n", HC_STATUS, 503 },
    { "HTTP/1.0", "HTTP/1.0 302 Found\r\n", HC_STATUS, 302 },
    { "empty reason, SP kept", "HTTP/1.1 204 \r\n", HC_STATUS, 204 },
    { "empty reason, no SP", "HTTP/1.1 404\r\n", HC_STATUS, 404 },
    { "bare LF", "HTTP/1.1 100\n", HC_STATUS, 100 },
    { "599", "HTTP/1.1 599 x", HC_STATUS, 599 },
    { "prefix", "HTTP/1.1 20", HC_NEED_MORE, 0 },
    { "empty", "", HC_NEED_MORE, 0 },
    { "lower case", "http/1.1 200 OK\r\n", HC_ERR, 0 },
    { "HTTP/2", "HTTP/2.0 200 OK\r\n", HC_ERR, 0 },
    { "status 600", "HTTP/1.1 600 x\r\n", HC_ERR, 0 },
    { "status 099", "HTTP/1.1 099 x\r\n", HC_ERR, 0 },
    { "four digits", "HTTP/1.1 2000 x\r\n", HC_ERR, 0 },
    { "two digits", "HTTP/1.1 20 x\r\n", HC_ERR, 0 },
    { "two spaces", "HTTP/1.1  200 OK\r\n", HC_ERR, 0 },
    { "tab", "HTTP/1.1\t200 OK\r\n", HC_ERR, 0 },
    { "not http", "SSH-2.0-OpenSSH_9.2\r\n", HC_ERR, 0 },
    { "TLS alert", "\x15\x03\x01\x00\x02\x02\x46", HC_ERR, 0 },
};

static void
test_hcheck_fixtures(void)
{
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        const struct fixture *f = &fixtures[i];
        uint16_t status = 0;
        enum hc_result r = hc_status_line((const uint8_t *)f->bytes, strlen(f->bytes), &status);

        CU_ASSERT_EQUAL(r, f->want);
        if (r != f->want)
            fprintf(stderr, "\n  fixture '%s': got %d\n", f->name, (int)r);
        if (f->want == HC_STATUS)
            CU_ASSERT_EQUAL(status, f->status);
    }
}

/* Every strict prefix of a valid status line needs more; the first 13 bytes decide. */
static void
test_hcheck_every_prefix_needs_more(void)
{
    static const char line[] = "HTTP/1.1 200 OK\r\n";
    uint16_t status;

    for (size_t n = 0; n < HC_STATUS_LINE_MIN; n++)
        CU_ASSERT_EQUAL(hc_status_line((const uint8_t *)line, n, &status), HC_NEED_MORE);
    CU_ASSERT_EQUAL(hc_status_line((const uint8_t *)line, HC_STATUS_LINE_MIN, &status),
                    HC_STATUS);
}

/* The line ends exactly where an inaccessible page begins: never read past len. */
static void
test_hcheck_guard_page(void)
{
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static const char line[] = "HTTP/1.1 200";
    uint8_t *at;
    uint16_t status;

    CU_ASSERT_FATAL(map != MAP_FAILED);
    CU_ASSERT_FATAL(mprotect(map + page, (size_t)page, PROT_NONE) == 0);
    /* each prefix of the line, ending at the page's end */
    for (size_t n = 0; n <= sizeof(line) - 1; n++) {
        at = map + page - n;
        memcpy(at, line, n);
        CU_ASSERT_EQUAL(hc_status_line(at, n, &status), HC_NEED_MORE);
    }
    munmap(map, (size_t)page * 2);
}

static void
test_hcheck_request(void)
{
    static const char want[] = "HEAD /health?x=1 HTTP/1.1\r\nHost: a.example:8080\r\n"
                               "Connection: close\r\nUser-Agent: switchyard-check\r\n\r\n";
    char out[HC_REQUEST_MAX];
    size_t n = hc_request(out, sizeof(out), "HEAD", 4, "/health?x=1", 11, "a.example:8080", 14);

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT(memcmp(out, want, sizeof(want) - 1) == 0);
    /* one byte short: nothing, and nothing written past the end */
    memset(out, 'x', sizeof(out));
    CU_ASSERT_EQUAL(hc_request(out, sizeof(want) - 2, "HEAD", 4, "/health?x=1", 11,
                               "a.example:8080", 14), 0u);
    CU_ASSERT_EQUAL(out[sizeof(want) - 2], 'x');
    CU_ASSERT_EQUAL(hc_request(out, sizeof(want) - 1, "HEAD", 4, "/health?x=1", 11,
                               "a.example:8080", 14), sizeof(want) - 1);
    CU_ASSERT_EQUAL(hc_request(out, 0, "GET", 3, "/", 1, "h", 1), 0u);
}

/* The PROXY headers of a check: no addresses, as the protocol says for health checks. */
static void
test_hcheck_proxy_local(void)
{
    static const uint8_t v2[16] = {
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0, 0,
    };
    uint8_t out[32];

    CU_ASSERT_EQUAL(hc_proxy_local(1, out, sizeof(out)), 15u);
    CU_ASSERT(memcmp(out, "PROXY UNKNOWN\r\n", 15) == 0);
    CU_ASSERT_EQUAL(hc_proxy_local(2, out, sizeof(out)), 16u);
    CU_ASSERT(memcmp(out, v2, 16) == 0);
    CU_ASSERT_EQUAL(hc_proxy_local(2, out, 15), 0u);
    CU_ASSERT_EQUAL(hc_proxy_local(1, out, 14), 0u);
    CU_ASSERT_EQUAL(hc_proxy_local(3, out, sizeof(out)), 0u);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "fixtures", test_hcheck_fixtures },
        { "every prefix needs more", test_hcheck_every_prefix_needs_more },
        { "guard page", test_hcheck_guard_page },
        { "request", test_hcheck_request },
        { "proxy header", test_hcheck_proxy_local },
    };

    return UNIT_RUN("hcheck", tests);
}
