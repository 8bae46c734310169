/* PROXY protocol headers: exact bytes for v1 TCP4/TCP6 and v2 AF_INET/AF_INET6, and the
 * client's real family when it arrives IPv4-mapped on a dual-stack socket; then reading
 * them: named fixtures (valid, truncated, malformed, hostile lengths), every prefix,
 * round trips through the sender, and a guard page after the input. */
#include "proxyproto.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* ---- reading ---- */

#define SIG "\r\n\r\n\0\r\nQUIT\n"

struct fixture {
    const char *name;
    const char *data;
    size_t len;
    enum pp_result want;
    size_t hlen;                    /* PP_OK: the header's length */
};

#define FX(name, lit, want, hlen) { name, lit, sizeof(lit) - 1, want, hlen }

static const struct fixture fixtures[] = {
    /* valid; bytes after the header are the client's and are not looked at */
    FX("v1 tcp4", "PROXY TCP4 192.0.2.10 198.51.100.1 50122 443\r\n\x16\x03", PP_OK, 46),
    FX("v1 tcp6", "PROXY TCP6 2001:db8::5 2001:db8::1 0 65535\r\nGET", PP_OK, 44),
    FX("v1 unknown", "PROXY UNKNOWN\r\n", PP_OK, 15),
    FX("v1 unknown with fields", "PROXY UNKNOWN 1 2 3 4 5 6\r\n", PP_OK, 27),
    FX("v2 inet", SIG "\x21\x11\x00\x0c" "\xc0\x00\x02\x0a" "\xc6\x33\x64\x01" "\xc3\xca\x01\xbb"
       "\x16", PP_OK, 28),
    FX("v2 local", SIG "\x20\x00\x00\x00" "GET", PP_OK, 16),
    FX("v2 local with a body", SIG "\x20\x11\x00\x0c" "\0\0\0\0\0\0\0\0\0\0\0\0", PP_OK, 28),
    FX("v2 proxy unspec", SIG "\x21\x00\x00\x03" "abc", PP_OK, 19),
    FX("v2 tlvs", SIG "\x21\x11\x00\x17" "\xc0\x00\x02\x0a" "\xc6\x33\x64\x01" "\xc3\xca\x01\xbb"
       "\x04\x00\x00" "\xe0\x00\x05" "hello", PP_OK, 39),
    /* not a header */
    FX("tls hello", "\x16\x03\x01\x02\x00", PP_NONE, 0),
    FX("request line", "GET / HTTP/1.1\r\n", PP_NONE, 0),
    FX("PROPFIND", "PROPFIND / HTTP/1.1\r\n", PP_NONE, 0),
    FX("lowercase", "proxy TCP4", PP_NONE, 0),
    FX("v2 signature broken", "\r\n\r\n\0\r\nQUIX\n\x21", PP_NONE, 0),
    /* malformed v1 */
    FX("v1 two spaces", "PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n", PP_ERR_V1_SYNTAX, 0),
    FX("v1 trailing space", "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 \r\n", PP_ERR_V1_SYNTAX, 0),
    FX("v1 extra field", "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n", PP_ERR_V1_SYNTAX, 0),
    FX("v1 missing field", "PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n", PP_ERR_V1_SYNTAX, 0),
    FX("v1 tcp5", "PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\n", PP_ERR_V1_SYNTAX, 0),
    FX("v1 bare LF", "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n", PP_ERR_V1_SYNTAX, 0),
    FX("v1 CR without LF", "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\rx", PP_ERR_V1_SYNTAX, 0),
    FX("v1 tab", "PROXY TCP4\t192.0.2.1", PP_ERR_V1_SYNTAX, 0),
    FX("v1 NUL", "PROXY TCP4 \0", PP_ERR_V1_SYNTAX, 0),
    FX("v1 UNKNOWNX", "PROXY UNKNOWNX\r\n", PP_ERR_V1_SYNTAX, 0),
    FX("v1 leading zero", "PROXY TCP4 192.0.2.01 192.0.2.2 1 2\r\n", PP_ERR_V1_ADDRESS, 0),
    FX("v1 octet 256", "PROXY TCP4 192.0.2.256 192.0.2.2 1 2\r\n", PP_ERR_V1_ADDRESS, 0),
    FX("v1 v6 in tcp4", "PROXY TCP4 ::1 192.0.2.2 1 2\r\n", PP_ERR_V1_ADDRESS, 0),
    FX("v1 v4 in tcp6", "PROXY TCP6 192.0.2.1 ::1 1 2\r\n", PP_ERR_V1_ADDRESS, 0),
    FX("v1 host name", "PROXY TCP4 localhost 192.0.2.2 1 2\r\n", PP_ERR_V1_ADDRESS, 0),
    FX("v1 port 65536", "PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n", PP_ERR_V1_PORT, 0),
    FX("v1 port leading zero", "PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n", PP_ERR_V1_PORT, 0),
    FX("v1 port sign", "PROXY TCP4 192.0.2.1 192.0.2.2 +1 2\r\n", PP_ERR_V1_PORT, 0),
    FX("v1 port long", "PROXY TCP4 192.0.2.1 192.0.2.2 000001 2\r\n", PP_ERR_V1_PORT, 0),
    FX("v1 no CRLF in 107 bytes", "PROXY UNKNOWN "
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
       PP_ERR_V1_TOO_LONG, 0),
    FX("v1 CRLF at 107", "PROXY UNKNOWN "
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", PP_OK, 107),
    FX("v1 CRLF at 108", "PROXY UNKNOWN "
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
       PP_ERR_V1_TOO_LONG, 0),
    /* malformed v2 */
    FX("v2 version 1", SIG "\x11\x11\x00\x0c", PP_ERR_V2_VERSION, 0),
    FX("v2 command 2", SIG "\x22\x11\x00\x0c", PP_ERR_V2_COMMAND, 0),
    FX("v2 udp4", SIG "\x21\x12\x00\x0c", PP_ERR_V2_FAMILY, 0),
    FX("v2 family 4", SIG "\x21\x41\x00\x0c", PP_ERR_V2_FAMILY, 0),
    FX("v2 inet short", SIG "\x21\x11\x00\x0b" "\0\0\0\0\0\0\0\0\0\0\0", PP_ERR_V2_LENGTH, 0),
    FX("v2 inet6 short", SIG "\x21\x21\x00\x0c" "\0\0\0\0\0\0\0\0\0\0\0\0", PP_ERR_V2_LENGTH, 0),
    FX("v2 length 65535", SIG "\x21\x11\xff\xff", PP_ERR_V2_LENGTH, 0),
    FX("v2 length over the bound", SIG "\x20\x00\x08\x01", PP_ERR_V2_LENGTH, 0),
    FX("v2 tlv cut", SIG "\x21\x11\x00\x0e" "\xc0\x00\x02\x0a" "\xc6\x33\x64\x01" "\xc3\xca\x01\xbb"
       "\x04\x00", PP_ERR_V2_TLV, 0),
    FX("v2 tlv overruns", SIG "\x21\x11\x00\x10" "\xc0\x00\x02\x0a" "\xc6\x33\x64\x01"
       "\xc3\xca\x01\xbb" "\x04\x00\x02" "x", PP_ERR_V2_TLV, 0),
    FX("v2 tlv length 65535", SIG "\x21\x11\x00\x0f" "\xc0\x00\x02\x0a" "\xc6\x33\x64\x01"
       "\xc3\xca\x01\xbb" "\x04\xff\xff", PP_ERR_V2_TLV, 0),
};

#define FIXTURE_COUNT (sizeof(fixtures) / sizeof(fixtures[0]))

static enum pp_result
parse(const void *data, size_t len, struct pp_header *h)
{
    return pp_parse(data, len, h);
}

static void
test_pp_parse_fixtures(void)
{
    for (size_t i = 0; i < FIXTURE_COUNT; i++) {
        const struct fixture *f = &fixtures[i];
        struct pp_header h;
        enum pp_result r = parse(f->data, f->len, &h);

        if (r != f->want || (r == PP_OK && h.len != f->hlen)) {
            printf("\n    %s: %s, len %zu", f->name, pp_result_str(r), h.len);
            CU_FAIL("fixture");
        }
    }
}

/* A strict prefix of a header is PP_NEED_MORE, at every length; of an error or a non-header,
 * never PP_OK. */
static void
test_pp_parse_every_prefix(void)
{
    for (size_t i = 0; i < FIXTURE_COUNT; i++) {
        const struct fixture *f = &fixtures[i];
        size_t end = f->want == PP_OK ? f->hlen : f->len;

        for (size_t n = 0; n < end; n++) {
            struct pp_header h;
            enum pp_result r = parse(f->data, n, &h);

            if (f->want == PP_OK ? r != PP_NEED_MORE : r == PP_OK) {
                printf("\n    %s at %zu: %s", f->name, n, pp_result_str(r));
                CU_FAIL("prefix");
                break;
            }
        }
    }
}

static void
test_pp_parse_v1_addresses(void)
{
    static const char line[] = "PROXY TCP6 2001:db8::5 ::ffff:192.0.2.1 50122 443\r\n";
    struct sockaddr_in6 src = v6("2001:db8::5", 50122), dst = v6("::ffff:192.0.2.1", 443);
    struct pp_header h;

    CU_ASSERT_EQUAL_FATAL(parse(line, sizeof(line) - 1, &h), PP_OK);
    CU_ASSERT_EQUAL(h.version, 1);
    CU_ASSERT_FALSE(h.local);
    CU_ASSERT_EQUAL(h.len, sizeof(line) - 1);
    CU_ASSERT_EQUAL(memcmp(&h.src.in6, &src, sizeof(src)), 0);
    CU_ASSERT_EQUAL(memcmp(&h.dst.in6, &dst, sizeof(dst)), 0);
}

static void
test_pp_parse_v2_local_and_unspec(void)
{
    static const char local[] = SIG "\x20\x11\x00\x0c" "\xc0\x00\x02\x0a" "\xc6\x33\x64\x01"
                                "\xc3\xca\x01\xbb";
    struct pp_header h;

    CU_ASSERT_EQUAL_FATAL(parse(local, sizeof(local) - 1, &h), PP_OK);
    CU_ASSERT_TRUE(h.local);
    CU_ASSERT_EQUAL(h.version, 2);
    CU_ASSERT_EQUAL(h.src.sa.sa_family, 0);
    CU_ASSERT_EQUAL(parse(SIG "\x21\x00\x00\x00", 16, &h), PP_OK);
    CU_ASSERT_TRUE(h.local);
    CU_ASSERT_EQUAL(parse("PROXY UNKNOWN\r\n", 15, &h), PP_OK);
    CU_ASSERT_TRUE(h.local);
    CU_ASSERT_EQUAL(h.version, 1);
}

/* The longest header read: a body of PP_V2_RECV_MAX - 16 bytes, one TLV filling it. */
static void
test_pp_parse_v2_longest(void)
{
    static uint8_t hdr[PP_V2_RECV_MAX + 1];
    size_t body = PP_V2_RECV_MAX - 16, tlv = body - 12 - 3;
    struct pp_header h;

    memcpy(hdr, SIG, 12);
    hdr[12] = 0x21;
    hdr[13] = 0x11;
    hdr[14] = (uint8_t)(body >> 8);
    hdr[15] = (uint8_t)body;
    hdr[28] = 0x04;                         /* PP2_TYPE_NOOP */
    hdr[29] = (uint8_t)(tlv >> 8);
    hdr[30] = (uint8_t)tlv;
    CU_ASSERT_EQUAL(parse(hdr, PP_V2_RECV_MAX - 1, &h), PP_NEED_MORE);
    CU_ASSERT_EQUAL_FATAL(parse(hdr, PP_V2_RECV_MAX, &h), PP_OK);
    CU_ASSERT_EQUAL(h.len, PP_V2_RECV_MAX);
    body++;
    hdr[14] = (uint8_t)(body >> 8);
    hdr[15] = (uint8_t)body;
    CU_ASSERT_EQUAL(parse(hdr, 16, &h), PP_ERR_V2_LENGTH);
}

/* What the sender builds, the reader reads back: both versions, both families. */
static void
test_pp_round_trip(void)
{
    struct sockaddr_in s4 = v4("192.0.2.10", 50122), d4 = v4("198.51.100.1", 443);
    struct sockaddr_in6 s6 = v6("2001:db8::5", 1), d6 = v6("2001:db8::1", 65535);
    const struct sockaddr *src[2] = { (struct sockaddr *)&s4, (struct sockaddr *)&s6 };
    const struct sockaddr *dst[2] = { (struct sockaddr *)&d4, (struct sockaddr *)&d6 };
    size_t salen[2] = { sizeof(s4), sizeof(s6) };

    for (int fam = 0; fam < 2; fam++) {
        for (int version = 1; version <= 2; version++) {
            uint8_t out[PP_V1_MAX + 1 + 3];
            struct pp_header h;
            size_t n = version == 1 ? pp_build_v1(src[fam], dst[fam], (char *)out, PP_V1_MAX + 1)
                                    : pp_build_v2(src[fam], dst[fam], out, PP_V2_MAX);

            CU_ASSERT_FATAL(n > 0);
            memcpy(out + n, "abc", 3);
            CU_ASSERT_EQUAL_FATAL(parse(out, n + 3, &h), PP_OK);
            CU_ASSERT_EQUAL(h.len, n);
            CU_ASSERT_EQUAL(h.version, version);
            CU_ASSERT_EQUAL(memcmp(&h.src, src[fam], salen[fam]), 0);
            CU_ASSERT_EQUAL(memcmp(&h.dst, dst[fam], salen[fam]), 0);
            for (size_t k = 0; k < n; k++)
                CU_ASSERT_EQUAL(parse(out, k, &h), PP_NEED_MORE);
        }
    }
}

static void
test_pp_result_names(void)
{
    for (int r = 0; r < PP_RESULT_COUNT; r++)
        CU_ASSERT_STRING_NOT_EQUAL(pp_result_str((enum pp_result)r), "proxy-unknown");
    CU_ASSERT_STRING_EQUAL(pp_result_str(PP_ERR_V2_TLV), "proxy-v2-tlv");
    CU_ASSERT_STRING_EQUAL(pp_result_str((enum pp_result)1000), "proxy-unknown");
}

/* The input ends exactly where an inaccessible page begins: a read past it faults. */
static void
test_pp_parse_guard_page(void)
{
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *end;

    CU_ASSERT_FATAL(map != MAP_FAILED);
    CU_ASSERT_FATAL(mprotect(map + page, (size_t)page, PROT_NONE) == 0);
    end = map + page;
    for (size_t i = 0; i < FIXTURE_COUNT; i++) {
        const struct fixture *f = &fixtures[i];

        for (size_t n = 0; n <= f->len; n++) {
            struct pp_header a, b;

            memcpy(end - n, f->data, n);
            CU_ASSERT_EQUAL(parse(end - n, n, &a), parse(f->data, n, &b));
        }
    }
    munmap(map, 2 * (size_t)page);
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
        { "parse: fixtures", test_pp_parse_fixtures },
        { "parse: every prefix", test_pp_parse_every_prefix },
        { "parse: v1 addresses and ports", test_pp_parse_v1_addresses },
        { "parse: v2 LOCAL, AF_UNSPEC, v1 UNKNOWN", test_pp_parse_v2_local_and_unspec },
        { "parse: v2 longest header", test_pp_parse_v2_longest },
        { "parse: round trips with the sender", test_pp_round_trip },
        { "parse: result names", test_pp_result_names },
        { "parse: guard page", test_pp_parse_guard_page },
    };

    return UNIT_RUN("proxyproto", tests);
}
