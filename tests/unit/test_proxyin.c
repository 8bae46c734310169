/* The accept-proxy rules (runtime/proxyin.c): who may send a PROXY header, who must, and
 * the client a taken header names; IPv4 ranges against IPv4 and IPv4-mapped peers. */
#include "proxyin.h"
#include "unit.h"

#include <arpa/inet.h>
#include <string.h>

/* 10.0.0.0/8 (mapped, as yardc stores IPv4) and 2001:db8::/32. */
static const struct yt_range ranges[] = {
    { .addr = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0 }, .prefix = 104 },
    { .addr = { 0x20, 0x01, 0x0d, 0xb8 }, .prefix = 32 },
};
static struct yt_table table = { .ranges = ranges, .range_count = 2 };
static struct yt_listener required = { .first_range = 0, .range_count = 2 };
static struct yt_listener optional = { .first_range = 0, .range_count = 2,
                                       .flags = YT_LISTENER_PROXY_OPTIONAL };

static const char v1[] = "PROXY TCP4 192.0.2.10 198.51.100.1 50122 443\r\n";
static const char v2_local[] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";
static const char hello[] = "\x16\x03\x01\x00\x10";

static union yt_addr
addr(const char *text)
{
    union yt_addr a;

    memset(&a, 0, sizeof(a));
    if (strchr(text, ':') != NULL) {
        a.in6.sin6_family = AF_INET6;
        inet_pton(AF_INET6, text, &a.in6.sin6_addr);
        a.in6.sin6_port = htons(40000);
    } else {
        a.in4.sin_family = AF_INET;
        inet_pton(AF_INET, text, &a.in4.sin_addr);
        a.in4.sin_port = htons(40000);
    }
    return a;
}

static enum pin_verdict
take(const struct yt_listener *l, const char *peer_text, const char *data, size_t len,
     union yt_addr *peer, size_t *used, const char **err)
{
    union yt_addr local;

    memset(&local, 0, sizeof(local));
    *peer = addr(peer_text);
    return pin_take(&table, l, (const uint8_t *)data, len, peer, &local, used, err);
}

static void
test_pin_trusted_header_names_the_client(void)
{
    const char *peers[] = { "10.1.2.3", "::ffff:10.1.2.3", "2001:db8::7" };

    for (size_t i = 0; i < 3; i++) {
        union yt_addr peer;
        size_t used;
        const char *err;

        CU_ASSERT_EQUAL(take(&required, peers[i], v1, sizeof(v1) - 1, &peer, &used, &err),
                        PIN_PASS);
        CU_ASSERT_EQUAL(used, sizeof(v1) - 1);
        CU_ASSERT_EQUAL(peer.sa.sa_family, AF_INET);
        CU_ASSERT_EQUAL(peer.in4.sin_addr.s_addr, inet_addr("192.0.2.10"));
        CU_ASSERT_EQUAL(ntohs(peer.in4.sin_port), 50122);
    }
}

static void
test_pin_local_keeps_the_peer(void)
{
    union yt_addr peer;
    size_t used;
    const char *err;

    CU_ASSERT_EQUAL(take(&required, "10.0.0.1", v2_local, 16, &peer, &used, &err), PIN_PASS);
    CU_ASSERT_EQUAL(used, 16);
    CU_ASSERT_EQUAL(peer.in4.sin_addr.s_addr, inet_addr("10.0.0.1"));
}

static void
test_pin_untrusted(void)
{
    union yt_addr peer;
    size_t used;
    const char *err;

    /* outside the ranges: 11.0.0.1, and 2001:db9:: just past the IPv6 one */
    CU_ASSERT_EQUAL(take(&required, "11.0.0.1", v1, sizeof(v1) - 1, &peer, &used, &err),
                    PIN_REFUSE);
    CU_ASSERT_STRING_EQUAL(err, "proxy-untrusted");
    CU_ASSERT_EQUAL(take(&optional, "2001:db9::1", v2_local, 16, &peer, &used, &err),
                    PIN_REFUSE);
    CU_ASSERT_EQUAL(take(&required, "11.0.0.1", "PROXY garbage\r\n", 15, &peer, &used, &err),
                    PIN_REFUSE);
    CU_ASSERT_STRING_EQUAL(err, "proxy-untrusted");
    /* what is no header passes untouched; a signature's first bytes wait */
    CU_ASSERT_EQUAL(take(&required, "11.0.0.1", hello, 5, &peer, &used, &err), PIN_PASS);
    CU_ASSERT_EQUAL(used, 0);
    CU_ASSERT_EQUAL(take(&required, "11.0.0.1", "PRO", 3, &peer, &used, &err), PIN_WAIT);
    CU_ASSERT_EQUAL(peer.in4.sin_addr.s_addr, inet_addr("11.0.0.1"));
}

static void
test_pin_missing_and_malformed(void)
{
    union yt_addr peer;
    size_t used;
    const char *err;

    CU_ASSERT_EQUAL(take(&required, "10.0.0.1", hello, 5, &peer, &used, &err), PIN_REFUSE);
    CU_ASSERT_STRING_EQUAL(err, "proxy-missing");
    CU_ASSERT_EQUAL(take(&optional, "10.0.0.1", hello, 5, &peer, &used, &err), PIN_PASS);
    CU_ASSERT_EQUAL(used, 0);
    CU_ASSERT_EQUAL(take(&optional, "10.0.0.1", "PROXY TCP4 1.2.3.4 x 1 2\r\n", 26, &peer,
                         &used, &err), PIN_REFUSE);
    CU_ASSERT_STRING_EQUAL(err, "proxy-v1-address");
    for (size_t n = 0; n < sizeof(v1) - 1; n++)
        CU_ASSERT_EQUAL(take(&required, "10.0.0.1", v1, n, &peer, &used, &err), PIN_WAIT);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "a trusted header names the client", test_pin_trusted_header_names_the_client },
        { "LOCAL keeps the peer", test_pin_local_keeps_the_peer },
        { "untrusted sources may not send one", test_pin_untrusted },
        { "missing and malformed headers", test_pin_missing_and_malformed },
    };

    return UNIT_RUN("proxyin", tests);
}
