/* The pure parts of the log lines: the RFC 5424 header (RFC 5424 §6), JSON strings of
 * peer bytes (RFC 8259 §7, RFC 3629 for what is valid UTF-8), journald's JOURNAL_STREAM
 * and the cut of a datagram. */
#include "logfmt.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

/* The header for h, NUL-terminated. */
static const char *
head(const struct logfmt_head *h)
{
    static char out[LOGFMT_HEAD_MAX + 1];
    size_t n = logfmt_rfc5424_head(out, h);

    CU_ASSERT(n <= LOGFMT_HEAD_MAX);
    out[n] = '\0';
    return out;
}

static void
test_logfmt_rfc5424_head(void)
{
    /* 1764850462 is 2025-12-04T12:14:22Z; local0 (16) * 8 + info (6) = 134 */
    struct logfmt_head h = { .pri = 134, .sec = 1764850462, .usec = 123456, .host = "edge1",
                             .app = "switchyard", .pid = 4242, .msgid = "access" };

    CU_ASSERT_STRING_EQUAL(head(&h),
                           "<134>1 2025-12-04T12:14:22.123456Z edge1 switchyard 4242 access - ");
    h.usec = 7;                     /* microseconds always six digits */
    h.msgid = NULL;                 /* NILVALUE */
    CU_ASSERT_STRING_EQUAL(head(&h),
                           "<134>1 2025-12-04T12:14:22.000007Z edge1 switchyard 4242 - - ");
    h.pri = 0;
    h.host = "";
    h.msgid = "";
    h.pid = 0;
    CU_ASSERT_STRING_EQUAL(head(&h), "<0>1 2025-12-04T12:14:22.000007Z - switchyard - - - ");
}

static void
test_logfmt_rfc5424_fields_made_printable(void)
{
    char long_host[200];
    struct logfmt_head h = { .pri = 999, .sec = 0, .usec = 0, .host = "a b\001c\xff",
                             .app = "switchyard", .pid = 1, .msgid = "x" };

    /* PRI at most 191; space, control and 8-bit bytes become '_' (§6: PRINTUSASCII) */
    CU_ASSERT_STRING_EQUAL(head(&h), "<191>1 1970-01-01T00:00:00.000000Z a_b_c_ switchyard 1 x - ");
    memset(long_host, 'h', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    h.host = long_host;
    CU_ASSERT(strstr(head(&h), " hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh switchyard ") !=
              NULL);                /* cut at LOGFMT_FIELD_MAX (48) */
    h.sec = (time_t)253402300800;   /* year 10000: no RFC 3339 form, NILVALUE */
    h.host = "h";
    CU_ASSERT_STRING_EQUAL(head(&h), "<191>1 - h switchyard 1 x - ");
}

/* The JSON string of in[0 .. len) cut at max, NUL-terminated. */
static const char *
js(const char *in, size_t len, size_t max)
{
    static char out[LOGFMT_JSON_STR_MAX(256) + 1];
    size_t n = logfmt_json_str(out, in, len, max);

    CU_ASSERT(n <= LOGFMT_JSON_STR_MAX(max));
    out[n] = '\0';
    return out;
}

#define JS(lit) js((lit), sizeof(lit) - 1, 64)

static void
test_logfmt_json_plain_and_escaped(void)
{
    CU_ASSERT_STRING_EQUAL(JS(""), "\"\"");
    CU_ASSERT_STRING_EQUAL(JS("echo.test"), "\"echo.test\"");
    CU_ASSERT_STRING_EQUAL(JS("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
    /* control characters and DEL as \u00XX, NUL included */
    CU_ASSERT_STRING_EQUAL(JS("\x01\n\x1f\x7f"), "\"\\u0001\\u000a\\u001f\\u007f\"");
    CU_ASSERT_STRING_EQUAL(js("a\0b", 3, 64), "\"a\\u0000b\"");
}

static void
test_logfmt_json_utf8(void)
{
    /* valid UTF-8 stays: U+00E9, U+20AC, U+1F600, U+10FFFF */
    CU_ASSERT_STRING_EQUAL(JS("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
                           "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
    /* each byte that starts or continues no valid sequence is U+FFFD */
    CU_ASSERT_STRING_EQUAL(JS("\xff"), "\"\\ufffd\"");
    CU_ASSERT_STRING_EQUAL(JS("\x80x"), "\"\\ufffdx\"");                 /* lone continuation */
    CU_ASSERT_STRING_EQUAL(JS("\xc0\xaf"), "\"\\ufffd\\ufffd\"");        /* overlong '/' */
    CU_ASSERT_STRING_EQUAL(JS("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");  /* overlong */
    CU_ASSERT_STRING_EQUAL(JS("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate */
    CU_ASSERT_STRING_EQUAL(JS("\xf4\x90\x80\x80"),                       /* past U+10FFFF */
                           "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    CU_ASSERT_STRING_EQUAL(JS("\xe2\x82"), "\"\\ufffd\\ufffd\"");        /* truncated */
    CU_ASSERT_STRING_EQUAL(JS("\xe2\x82x"), "\"\\ufffd\\ufffdx\"");
    CU_ASSERT_STRING_EQUAL(JS("ev\x01il\"\xc3\xa9\xff\\.test"),
                           "\"ev\\u0001il\\\"\xc3\xa9\\ufffd\\\\.test\"");
}

static void
test_logfmt_json_cut(void)
{
    char in[100], want[80];

    memset(in, 'a', sizeof(in));
    memset(want, 'a', sizeof(want));
    want[0] = '"';
    memcpy(want + 65, "...\"", 5);
    CU_ASSERT_STRING_EQUAL(js(in, sizeof(in), 64), want);
    CU_ASSERT_STRING_EQUAL(js(in, 64, 64), "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
    /* a sequence the cut splits is not valid where it ends */
    CU_ASSERT_STRING_EQUAL(js("ab\xc3\xa9", 4, 3), "\"ab\\ufffd...\"");
    /* the longest output: every byte escaped, and the cut */
    memset(in, 1, sizeof(in));
    CU_ASSERT_EQUAL(strlen(js(in, sizeof(in), 64)), LOGFMT_JSON_STR_MAX(64));
}

static void
test_logfmt_journal_stream(void)
{
    uint64_t dev = 0, ino = 0;

    CU_ASSERT_TRUE(logfmt_journal_stream("8:123456", &dev, &ino));
    CU_ASSERT_EQUAL(dev, 8);
    CU_ASSERT_EQUAL(ino, 123456);
    CU_ASSERT_TRUE(logfmt_journal_stream("18446744073709551615:0", &dev, &ino));
    CU_ASSERT_EQUAL(dev, UINT64_MAX);
    CU_ASSERT_FALSE(logfmt_journal_stream(NULL, &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream("", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream("8", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream(":1", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream("1:", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream("1:2:3", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream(" 1:2", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream("1:2x", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream("-1:2", &dev, &ino));
    CU_ASSERT_FALSE(logfmt_journal_stream("18446744073709551616:1", &dev, &ino));
}

static void
test_logfmt_cut(void)
{
    char msg[32] = "0123456789";

    CU_ASSERT_EQUAL(logfmt_cut(msg, 10, 10), 10);
    CU_ASSERT_EQUAL(memcmp(msg, "0123456789", 10), 0);
    CU_ASSERT_EQUAL(logfmt_cut(msg, 10, 8), 8);
    CU_ASSERT_EQUAL(memcmp(msg, "01234...", 8), 0);
}

static void
test_logfmt_u64(void)
{
    char out[21];

    out[logfmt_u64(out, 0)] = '\0';
    CU_ASSERT_STRING_EQUAL(out, "0");
    out[logfmt_u64(out, UINT64_MAX)] = '\0';
    CU_ASSERT_STRING_EQUAL(out, "18446744073709551615");
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "rfc5424_head", test_logfmt_rfc5424_head },
        { "rfc5424_fields_made_printable", test_logfmt_rfc5424_fields_made_printable },
        { "json_plain_and_escaped", test_logfmt_json_plain_and_escaped },
        { "json_utf8", test_logfmt_json_utf8 },
        { "json_cut", test_logfmt_json_cut },
        { "journal_stream", test_logfmt_journal_stream },
        { "cut", test_logfmt_cut },
        { "u64", test_logfmt_u64 },
    };

    return UNIT_RUN("logfmt", tests);
}
