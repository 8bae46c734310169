/* The access-line builder (runtime/alog.c): one list of fields gives the text line as it
 * always was and a JSON object with the same fields; a JSON field that does not fit is
 * left out whole and flagged, so the object stays valid; `log off` and `log sample`
 * choose lines by a counter. log.c is replaced by fakes that keep the line. */
#include "alog.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- fakes of log.c and of the emitted table ---- */

static char got[4 * LOG_LINE_MAX];
static bool got_json;

void
log_access(const char *text, size_t len, bool json)
{
    CU_ASSERT_FATAL(len < sizeof(got));
    memcpy(got, text, len);
    got[len] = '\0';
    got_json = json;
}

void
log_time_iso(char *out)
{
    strcpy(out, "2026-01-02T03:04:05.678Z");
}

char *
log_escape(char *out, const void *in, size_t len)
{
    const unsigned char *p = in;
    char *o = out;

    for (size_t i = 0; i < len && i < LOG_PEER_MAX; i++)
        o += p[i] > 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"' ?
             sprintf(o, "%c", p[i]) : sprintf(o, "\\x%02x", p[i]);
    if (len > LOG_PEER_MAX)
        o += sprintf(o, "...");
    *o = '\0';
    return out;
}

static const struct yt_listener listeners[] = {
    { .sample_num = 1, .sample_den = 3 },
    { .flags = YT_LISTENER_LOG_OFF },
    { .sample_num = 2, .sample_den = 5 },
    { .flags = 0 },
};
const struct yt_table gen_table = { .listeners = listeners, .listener_count = 4 };

/* ---- one line, as an engine writes it ---- */

static const char blob[] = "front[::1]:443";

static void
line(bool json, const char *sni, size_t sni_len, const char *big, size_t big_len)
{
    struct alog a;
    struct yt_str listener = { 0, 5 }, server = { 5, 9 }, none = { 0, 0 };

    if (json)
        alog_begin_json(&a);
    else
        alog_begin(&a);
    alog_key(&a, json, "conn=", "conn");
    alog_u64(&a, 812);
    alog_key(&a, json, " client=", "client");
    alog_quoted(&a, json, "127.0.0.1:5000", 14);
    alog_flag(&a, json, "l7");
    alog_key(&a, json, " listener=", "listener");
    alog_table_name(&a, json, blob, listener);
    alog_key(&a, json, " sni=", "sni");
    alog_peer(&a, json, sni, sni_len, (uint32_t)sni_len);
    if (big != NULL) {
        alog_key(&a, json, " big=", "big");
        alog_quoted(&a, json, big, big_len);
    }
    alog_key(&a, json, " site=", "site");
    alog_table_name(&a, json, blob, none);
    alog_key(&a, json, " server=", "server");
    alog_table_name(&a, json, blob, server);
    alog_key(&a, json, " connect=", "connect");
    alog_none(&a, json);
    alog_key(&a, json, " total=", "total");
    alog_long(&a, -1);
    alog_key(&a, json, " term=", "term");
    alog_quoted(&a, json, "SC", 2);
    alog_err(&a, json, "connect", ECONNREFUSED);
    alog_flag(&a, json, "retried");
    alog_emit(&a, json);
}

static void
test_alog_text_line(void)
{
    line(false, "a\"b\x01.test", 9, NULL, 0);
    CU_ASSERT_FALSE(got_json);
    CU_ASSERT_STRING_EQUAL(got, "conn=812 client=127.0.0.1:5000 l7 listener=front "
                           "sni=a\\x22b\\x01.test site=- server=[::1]:443 connect=- total=-1 "
                           "term=SC err=connect:ECONNREFUSED retried");
}

static void
test_alog_json_line(void)
{
    line(true, "a\"b\x01\xff.test", 10, NULL, 0);
    CU_ASSERT_TRUE(got_json);
    CU_ASSERT_STRING_EQUAL(got, "{\"time\":\"2026-01-02T03:04:05.678Z\",\"conn\":812,"
                           "\"client\":\"127.0.0.1:5000\",\"l7\":true,\"listener\":\"front\","
                           "\"sni\":\"a\\\"b\\u0001\\ufffd.test\",\"site\":null,"
                           "\"server\":\"[::1]:443\",\"connect\":null,\"total\":-1,"
                           "\"term\":\"SC\",\"err\":\"connect:ECONNREFUSED\",\"retried\":true}");
}

static void
test_alog_json_field_too_long_is_left_out(void)
{
    static const char end[] = "\"retried\":true,\"cut\":true}";
    char big[LOG_WHOLE_MAX];
    size_t len;

    memset(big, 'x', sizeof(big));
    line(true, "s", 1, big, sizeof(big));
    len = strlen(got);
    CU_ASSERT(len <= LOG_WHOLE_MAX);
    CU_ASSERT_PTR_NULL(strstr(got, "\"big\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(got, ",\"sni\":\"s\",\"site\":null,"));
    CU_ASSERT(len > sizeof(end) && strcmp(got + len - (sizeof(end) - 1), end) == 0);
    /* one that fits stays */
    line(true, "s", 1, big, 100);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"big\":\"xxxx"));
    CU_ASSERT_PTR_NULL(strstr(got, "\"cut\""));
}

static void
test_alog_json_peer(void)
{
    struct alog a;

    alog_begin_json(&a);
    a.p = a.text;
    alog_json_peer(&a, "abc", 3, 0);            /* nothing sent */
    alog_lit(&a, " ");
    alog_json_peer(&a, "abcdef", 4, 6);         /* kept 4 of 6 sent */
    alog_lit(&a, " ");
    alog_json_peer(&a, "ab\xc3\xa9", 4, 4);     /* UTF-8 kept */
    *a.p = '\0';
    CU_ASSERT_STRING_EQUAL(a.text, "null \"abcd...\" \"ab\xc3\xa9\"");
}

static void
test_alog_off_and_sample(void)
{
    char seen[16];

    for (int i = 0; i < 9; i++)
        seen[i] = alog_wanted(&listeners[0]) ? 'y' : '.';
    seen[9] = '\0';
    CU_ASSERT_STRING_EQUAL(seen, "y..y..y..");  /* 1/3: the 1st, 4th, 7th */
    for (int i = 0; i < 10; i++)
        seen[i] = alog_wanted(&listeners[2]) ? 'y' : '.';
    seen[10] = '\0';
    CU_ASSERT_STRING_EQUAL(seen, "yy...yy...");  /* 2/5 */
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_FALSE(alog_wanted(&listeners[1]));  /* log off */
        CU_ASSERT_TRUE(alog_wanted(&listeners[3]));   /* every line */
    }
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "text_line", test_alog_text_line },
        { "json_line", test_alog_json_line },
        { "json_field_too_long_is_left_out", test_alog_json_field_too_long_is_left_out },
        { "json_peer", test_alog_json_peer },
        { "off_and_sample", test_alog_off_and_sample },
    };

    return UNIT_RUN("alog", tests);
}
