/* libFuzzer harness for runtime/logfmt.c.
 *
 * Input: any bytes. Beyond "no crash, no read past len": the JSON string of them (cut at
 * 64 bytes, as for peer bytes in a log line) stays within LOGFMT_JSON_STR_MAX, is one
 * valid JSON string (RFC 8259 §7) of valid UTF-8, and decodes back to the input when the
 * input is ASCII and not cut; an RFC 5424 header with the input as its host name holds
 * only printable ASCII; JOURNAL_STREAM read from the input (up to a NUL) is accepted only
 * as two decimal numbers around one ':', with their values.
 */
#include "logfmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 64

/* A broken promise stops the fuzzer with a crash it can report. */
static void
must(bool promise)
{
    if (!promise)
        abort();
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Checks s[0 .. n) is a JSON string; writes the bytes below U+0080 it stands for to out
 * (others as '?'); returns how many. */
static size_t
json_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;

    must(n >= 2 && s[0] == '"' && s[n - 1] == '"');
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)s[i];

        must(c >= 0x20 && c != '"');
        if (c != '\\') {
            out[o++] = c < 0x80 ? (char)c : '?';
            continue;
        }
        must(i + 1 < n - 1);
        c = (unsigned char)s[++i];
        if (c == '"' || c == '\\') {
            out[o++] = (char)c;
        } else {
            unsigned v = 0;

            must(c == 'u' && i + 4 < n - 1);
            for (int k = 1; k <= 4; k++) {
                must(hexval(s[i + k]) >= 0);
                v = v * 16 + (unsigned)hexval(s[i + k]);
            }
            i += 4;
            out[o++] = v < 0x80 ? (char)v : '?';
        }
    }
    return o;
}

/* Whether s[0 .. n) is valid UTF-8 (RFC 3629 §4), by decoding each sequence. */
static bool
utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned cp, k;

        if (s[i] < 0x80) {
            i++;
            continue;
        }
        k = s[i] >= 0xf0 ? 3 : s[i] >= 0xe0 ? 2 : s[i] >= 0xc0 ? 1 : 0;
        if (k == 0 || k >= n - i)
            return false;
        cp = s[i] & (0x3fu >> k);
        for (unsigned j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3fu);
        }
        if (cp < (k == 1 ? 0x80u : k == 2 ? 0x800u : 0x10000u) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static void
check_json(const uint8_t *data, size_t size)
{
    char out[LOGFMT_JSON_STR_MAX(MAX)], back[LOGFMT_JSON_STR_MAX(MAX)];
    size_t n = logfmt_json_str(out, data, size, MAX), m;
    bool ascii = true;

    must(n <= sizeof(out));
    must(utf8_ok((const unsigned char *)out, n));
    m = json_decode(out, n, back);
    for (size_t i = 0; i < size && i < MAX; i++)
        ascii = ascii && data[i] < 0x80;
    if (ascii && size <= MAX)
        must(m == size && memcmp(back, data, size) == 0);
    if (size > MAX)
        must(m >= 3 && memcmp(back + m - 3, "...", 3) == 0);
}

static void
check_head(const char *host)
{
    char out[LOGFMT_HEAD_MAX];
    struct logfmt_head h = { .pri = 134, .sec = 1764850462, .usec = 1, .host = host,
                             .app = "switchyard", .pid = 1, .msgid = host };
    size_t n = logfmt_rfc5424_head(out, &h);

    must(n <= sizeof(out));
    for (size_t i = 0; i < n; i++)
        must(out[i] >= 0x20 && out[i] < 0x7f);
}

static void
check_journal(const char *s)
{
    uint64_t dev, ino;
    const char *colon = strchr(s, ':');
    char *end;

    if (!logfmt_journal_stream(s, &dev, &ino))
        return;
    must(colon != NULL && colon > s && colon[1] != '\0');
    must(strspn(s, "0123456789") == (size_t)(colon - s));
    must(strspn(colon + 1, "0123456789") == strlen(colon + 1));
    must(strtoull(s, &end, 10) == dev && end == colon);
    must(strtoull(colon + 1, &end, 10) == ino && *end == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    check_json(data, size);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_head(s);
    check_journal(s);
    free(s);
    return 0;
}
