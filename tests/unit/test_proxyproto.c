/* PROXY protocol headers: exact bytes for v1 TCP4/TCP6 and v2 AF_INET/AF_INET6, and the
 * client's real family when it arrives IPv4-mapped on a dual-stack socket. */
#include "proxyproto.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static struct sockaddr_in
v4(const char *a, uint16_t port)
{
    struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static struct sockaddr_in6
v6(const char *a, uint16_t port)
{
    struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

static void
test_pp_v1_tcp4(void)
{
    struct sockaddr_in src = v4("192.0.2.10", 50122), dst = v4("198.51.100.1", 443);
    char out[PP_V1_MAX + 1];
    size_t n = pp_build_v1((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));
    static const char want[] = "PROXY TCP4 192.0.2.10 198.51.100.1 50122 443\r\n";

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want) - 1), 0);
}

static void
test_pp_v1_tcp6(void)
{
    struct sockaddr_in6 src = v6("2001:db8::5", 50122), dst = v6("2001:db8::1", 443);
    char out[PP_V1_MAX + 1];
    size_t n = pp_build_v1((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));
    static const char want[] = "PROXY TCP6 2001:db8::5 2001:db8::1 50122 443\r\n";

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want) - 1), 0);
}

static void
test_pp_v1_mapped_is_tcp4(void)
{
    struct sockaddr_in6 src = v6("::ffff:192.0.2.10", 50122), dst = v6("::ffff:198.51.100.1", 443);
    char out[PP_V1_MAX + 1];
    size_t n = pp_build_v1((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));
    static const char want[] = "PROXY TCP4 192.0.2.10 198.51.100.1 50122 443\r\n";

    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want) - 1), 0);
}

static void
test_pp_v1_longest_fits(void)
{
    struct sockaddr_in6 src = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
    struct sockaddr_in6 dst = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd", 65535);
    char out[PP_V1_MAX + 1];
    size_t n = pp_build_v1((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));

    /* "PROXY TCP6 " + 2 * 39 + 2 * 5 + 3 spaces + CRLF */
    CU_ASSERT_EQUAL(n, 104);
    CU_ASSERT_TRUE(n <= PP_V1_MAX);
    CU_ASSERT_EQUAL(pp_build_v1((struct sockaddr *)&src, (struct sockaddr *)&dst, out, 50), 0);
}

static void
test_pp_v2_inet(void)
{
    struct sockaddr_in src = v4("192.0.2.10", 50122), dst = v4("198.51.100.1", 443);
    uint8_t out[PP_V2_MAX];
    static const uint8_t want[] = {
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, /* signature */
        0x21,                   /* version 2, command PROXY */
        0x11,                   /* AF_INET, STREAM */
        0x00, 0x0c,             /* 12 bytes follow */
        192, 0, 2, 10,          /* source address */
        198, 51, 100, 1,        /* destination address */
        0xc3, 0xca,             /* source port 50122 */
        0x01, 0xbb,             /* destination port 443 */
    };
    size_t n = pp_build_v2((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));

    CU_ASSERT_EQUAL(n, sizeof(want));
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
}

static void
test_pp_v2_inet6(void)
{
    struct sockaddr_in6 src = v6("2001:db8::5", 50122), dst = v6("2001:db8::1", 443);
    uint8_t out[PP_V2_MAX];
    static const uint8_t want[] = {
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, /* signature */
        0x21,                   /* version 2, command PROXY */
        0x21,                   /* AF_INET6, STREAM */
        0x00, 0x24,             /* 36 bytes follow */
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, /* source 2001:db8::5 */
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* dest 2001:db8::1 */
        0xc3, 0xca,             /* source port 50122 */
        0x01, 0xbb,             /* destination port 443 */
    };
    size_t n = pp_build_v2((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));

    CU_ASSERT_EQUAL(n, sizeof(want));
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
}

static void
test_pp_v2_mapped_is_inet(void)
{
    struct sockaddr_in6 src = v6("::ffff:192.0.2.10", 50122), dst = v6("::ffff:198.51.100.1", 443);
    uint8_t out[PP_V2_MAX];
    size_t n = pp_build_v2((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));

    CU_ASSERT_EQUAL_FATAL(n, 28);
    CU_ASSERT_EQUAL(out[13], 0x11);         /* AF_INET, STREAM */
    CU_ASSERT_EQUAL(out[15], 12);
    CU_ASSERT_EQUAL(memcmp(out + 16, "\xc0\x00\x02\x0a\xc6\x33\x64\x01", 8), 0);
}

static void
test_pp_mixed_families_are_inet6(void)
{
    struct sockaddr_in src = v4("192.0.2.10", 1);
    struct sockaddr_in6 dst = v6("2001:db8::1", 443);
    uint8_t out[PP_V2_MAX];
    char line[PP_V1_MAX + 1];
    size_t n = pp_build_v2((struct sockaddr *)&src, (struct sockaddr *)&dst, out, sizeof(out));
    static const char want[] = "PROXY TCP6 ::ffff:192.0.2.10 2001:db8::1 1 443\r\n";

    CU_ASSERT_EQUAL_FATAL(n, 52);
    CU_ASSERT_EQUAL(out[13], 0x21);
    CU_ASSERT_EQUAL(memcmp(out + 16, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x0a", 16), 0);
    n = pp_build_v1((struct sockaddr *)&src, (struct sockaddr *)&dst, line, sizeof(line));
    CU_ASSERT_EQUAL(n, sizeof(want) - 1);
    CU_ASSERT_EQUAL(memcmp(line, want, sizeof(want) - 1), 0);
}

static void
test_pp_refuses(void)
{
    struct sockaddr_in src = v4("192.0.2.10", 1), dst = v4("192.0.2.1", 2);
    struct sockaddr unix_sa = { .sa_family = AF_UNIX };
    uint8_t out[PP_V2_MAX];

    CU_ASSERT_EQUAL(pp_build_v2((struct sockaddr *)&src, (struct sockaddr *)&dst, out, 27), 0);
    CU_ASSERT_EQUAL(pp_build_v2(&unix_sa, (struct sockaddr *)&dst, out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(pp_build_v1(&unix_sa, (struct sockaddr *)&dst, (char *)out, sizeof(out)), 0);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "v1 TCP4", test_pp_v1_tcp4 },
        { "v1 TCP6", test_pp_v1_tcp6 },
        { "v1 v4-mapped is TCP4", test_pp_v1_mapped_is_tcp4 },
        { "v1 longest line fits PP_V1_MAX", test_pp_v1_longest_fits },
        { "v2 AF_INET", test_pp_v2_inet },
        { "v2 AF_INET6", test_pp_v2_inet6 },
        { "v2 v4-mapped is AF_INET", test_pp_v2_mapped_is_inet },
        { "mixed families are IPv6", test_pp_mixed_families_are_inet6 },
        { "refuses small buffers and other families", test_pp_refuses },
    };

    return UNIT_RUN("proxyproto", tests);
}
