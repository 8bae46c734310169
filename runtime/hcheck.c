#include "hcheck.h"

#include <string.h>

static int
is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* "HTTP/1." DIGIT SP DIGIT DIGIT DIGIT (SP | CR | LF): each position's test in order. The
 * first digit of the status is 1 to 5 (RFC 9110 §15: 100 .. 599). */
enum hc_result
hc_status_line(const uint8_t *data, size_t len, uint16_t *status)
{
    static const char version[] = "HTTP/1.";
    size_t vlen = sizeof(version) - 1;

    for (size_t i = 0; i < HC_STATUS_LINE_MIN; i++) {
        uint8_t c;
        int ok;

        if (i == len)
            return HC_NEED_MORE;
        c = data[i];
        if (i < vlen)
            ok = c == (uint8_t)version[i];
        else if (i == vlen)
            ok = is_digit(c);
        else if (i == vlen + 1)
            ok = c == ' ';
        else if (i == vlen + 2)
            ok = c >= '1' && c <= '5';
        else if (i < vlen + 5)
            ok = is_digit(c);
        else
            ok = c == ' ' || c == '\r' || c == '\n';
        if (!ok)
            return HC_ERR;
    }
    *status = (uint16_t)((data[vlen + 2] - '0') * 100 + (data[vlen + 3] - '0') * 10 +
                         (data[vlen + 4] - '0'));
    return HC_STATUS;
}

static size_t
put(char *out, size_t cap, size_t at, const char *s, size_t n)
{
    if (n > cap - at)
        return cap + 1;             /* does not fit: past the end, sticky */
    memcpy(out + at, s, n);
    return at + n;
}

size_t
hc_request(char *out, size_t cap, const char *method, size_t method_len, const char *path,
           size_t path_len, const char *host, size_t host_len)
{
    static const char tail[] = "\r\nConnection: close\r\nUser-Agent: switchyard-check\r\n\r\n";
    const struct {
        const char *s;
        size_t n;
    } parts[] = {
        { method, method_len }, { " ", 1 }, { path, path_len },
        { " HTTP/1.1\r\nHost: ", 17 }, { host, host_len }, { tail, sizeof(tail) - 1 },
    };
    size_t at = 0;

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && at <= cap; i++)
        at = put(out, cap, at, parts[i].s, parts[i].n);
    return at <= cap ? at : 0;
}

size_t
hc_proxy_local(int version, uint8_t *out, size_t cap)
{
    static const uint8_t v2[16] = {
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,   /* signature */
        0x20,                       /* version 2, command LOCAL */
        0x00,                       /* AF_UNSPEC, UNSPEC */
        0x00, 0x00,                 /* no address block */
    };
    static const char v1[] = "PROXY UNKNOWN\r\n";
    const void *h = version == 1 ? (const void *)v1 : v2;
    size_t n = version == 1 ? sizeof(v1) - 1 : version == 2 ? sizeof(v2) : 0;

    if (n == 0 || n > cap)
        return 0;
    memcpy(out, h, n);
    return n;
}
