#include "logfmt.h"

#include <string.h>

size_t
logfmt_u64(char *out, uint64_t v)
{
    char d[20];
    size_t n = 0;

    do {
        d[sizeof(d) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    memcpy(out, d + sizeof(d) - n, n);
    return n;
}

/* v in exactly width digits (v < 10^width). */
static void
put_fixed(char *out, unsigned long v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* A header field (§6: 1*PRINTUSASCII, at most LOGFMT_FIELD_MAX here), then a space. */
static size_t
put_field(char *out, const char *s)
{
    size_t n = 0;

    if (s == NULL || s[0] == '\0') {
        out[n++] = '-';
    } else {
        for (; s[n] != '\0' && n < LOGFMT_FIELD_MAX; n++)
            out[n] = s[n] >= 33 && s[n] <= 126 ? s[n] : '_';
    }
    out[n++] = ' ';
    return n;
}

/* RFC 3339 §5.6 date-time in UTC with microseconds, or "-" (NILVALUE) for a year past
 * what four digits hold. */
static size_t
put_timestamp(char *out, time_t sec, long usec)
{
    struct tm tm;

    if (gmtime_r(&sec, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900 ||
        usec < 0 || usec > 999999) {
        out[0] = '-';
        return 1;
    }
    put_fixed(out, (unsigned long)(tm.tm_year + 1900), 4);
    out[4] = '-';
    put_fixed(out + 5, (unsigned long)tm.tm_mon + 1, 2);
    out[7] = '-';
    put_fixed(out + 8, (unsigned long)tm.tm_mday, 2);
    out[10] = 'T';
    put_fixed(out + 11, (unsigned long)tm.tm_hour, 2);
    out[13] = ':';
    put_fixed(out + 14, (unsigned long)tm.tm_min, 2);
    out[16] = ':';
    put_fixed(out + 17, (unsigned long)tm.tm_sec, 2);
    out[19] = '.';
    put_fixed(out + 20, (unsigned long)usec, 6);
    out[26] = 'Z';
    return 27;
}

size_t
logfmt_rfc5424_head(char *out, const struct logfmt_head *h)
{
    size_t n = 0;

    out[n++] = '<';
    n += logfmt_u64(out + n, h->pri > 191 ? 191 : h->pri);
    memcpy(out + n, ">1 ", 3);
    n += 3;
    n += put_timestamp(out + n, h->sec, h->usec);
    out[n++] = ' ';
    n += put_field(out + n, h->host);
    n += put_field(out + n, h->app);
    if (h->pid > 0)
        n += logfmt_u64(out + n, (uint64_t)h->pid);
    else
        out[n++] = '-';
    out[n++] = ' ';
    n += put_field(out + n, h->msgid);
    memcpy(out + n, "- ", 2);       /* no STRUCTURED-DATA */
    return n + 2;
}

/* Length of the valid UTF-8 sequence at p[0 .. len) (RFC 3629 §4), 0 when p[0] does not
 * start one. */
static size_t
utf8_seq(const unsigned char *p, size_t len)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;                  /* overlong */
    else if (c == 0xed)
        hi = 0x9f;                  /* surrogates */
    else if (c == 0xf0)
        lo = 0x90;                  /* overlong */
    else if (c == 0xf4)
        hi = 0x8f;                  /* past U+10FFFF */
    if (n > len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

size_t
logfmt_json_str(char *out, const void *in, size_t len, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = in;
    size_t n = len > max ? max : len, o = 0;

    out[o++] = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out[o++] = (char)c;
            i++;
        } else if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
            i++;
        } else if (c < 0x80) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 15];
            o += 6;
            i++;
        } else if ((k = utf8_seq(p + i, n - i)) > 0) {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\\ufffd", 6);
            o += 6;
            i++;
        }
    }
    if (len > n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    return o;
}

/* A decimal number of s up to stop; advances *s. False when empty, not digits, or past
 * 64 bits. */
static bool
parse_u64(const char **s, char stop, uint64_t *v)
{
    const char *p = *s;

    *v = 0;
    if (*p == stop)
        return false;
    for (; *p != stop; p++) {
        if (*p < '0' || *p > '9' || *v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return false;
        *v = *v * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    return true;
}

bool
logfmt_journal_stream(const char *s, uint64_t *dev, uint64_t *ino)
{
    if (s == NULL || !parse_u64(&s, ':', dev))
        return false;
    s++;
    return parse_u64(&s, '\0', ino);
}

size_t
logfmt_cut(char *msg, size_t len, size_t max)
{
    if (len <= max)
        return len;
    memcpy(msg + max - 3, "...", 3);
    return max;
}
