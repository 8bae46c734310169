#include "errpage.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const uint16_t errpage_builtin_statuses[] = {
    400, 403, 404, 405, 408, 413, 421, 429, 431, 500, 501, 502, 503, 504, 505,
};
const size_t errpage_builtin_count =
    sizeof(errpage_builtin_statuses) / sizeof(errpage_builtin_statuses[0]);

static const struct {
    uint16_t status;
    const char *reason;
    const char *text;               /* the sentence of the built-in page */
} reasons[] = {
    { 400, "Bad Request", "Your browser sent an invalid request." },
    { 401, "Unauthorized", "You need a valid user and password to access this content." },
    { 403, "Forbidden", "Request forbidden by administrative rules." },
    { 404, "Not Found", "The resource could not be found." },
    { 405, "Method Not Allowed", "A request was made of a resource using a request method "
                                 "not supported by that resource." },
    { 407, "Proxy Authentication Required", "You need a valid user and password." },
    { 408, "Request Time-out", "Your browser didn't send a complete request in time." },
    { 410, "Gone", "The resource is no longer available." },
    { 413, "Payload Too Large", "The request is larger than the server will process." },
    { 421, "Misdirected Request", "The request was sent to a server that cannot answer it." },
    { 425, "Too Early", "Your browser sent early data." },
    { 429, "Too Many Requests", "You have sent too many requests in a given amount of time." },
    { 431, "Request Header Fields Too Large", "Your browser sent a request head that is "
                                              "too large." },
    { 500, "Internal Server Error", "An internal server error occurred." },
    { 501, "Not Implemented", "The server does not support the functionality required." },
    { 502, "Bad Gateway", "The server returned an invalid or incomplete response." },
    { 503, "Service Unavailable", "No server is available to handle this request." },
    { 504, "Gateway Time-out", "The server didn't respond in time." },
    { 505, "HTTP Version Not Supported", "The server does not support the HTTP version "
                                         "of the request." },
};

const char *
errpage_reason(uint16_t status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Error";
}

char *
errpage_wrap(struct arena *arena, uint16_t status, const char *body, size_t len,
             size_t *out_len)
{
    struct abuf b;

    abuf_init(&b, arena);
    abuf_printf(&b, "HTTP/1.1 %u %s\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n\r\n", status, errpage_reason(status), len);
    abuf_add(&b, body, len);
    abuf_addc(&b, '\0');
    *out_len = b.len - 1;
    return b.data;
}

char *
errpage_builtin(struct arena *arena, uint16_t status, size_t *len)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        char body[512];
        int n;

        if (reasons[i].status != status)
            continue;
        n = snprintf(body, sizeof(body),
                     "<html><body><h1>%u %s</h1>\n%s\n</body></html>\n", status,
                     reasons[i].reason, reasons[i].text);
        return errpage_wrap(arena, status, body, (size_t)n, len);
    }
    return NULL;
}

int
errpage_is_response(const char *data, size_t len)
{
    return len >= 7 && memcmp(data, "HTTP/1.", 7) == 0;
}

const char *
errpage_check(uint16_t status, const char *data, size_t len, size_t *bad_off)
{
    const char *end = data + len;
    const char *p, *eol;
    char want[8];
    long content_length = -1;
    int close = 0;
    size_t body;

    *bad_off = 0;
    if (len > 65536)
        return "error page larger than 64 KiB";
    if (!(len >= 12 && (memcmp(data, "HTTP/1.0 ", 9) == 0 || memcmp(data, "HTTP/1.1 ", 9) == 0)))
        return "error page must start with a status line 'HTTP/1.1 <status> <reason>'";
    snprintf(want, sizeof(want), "%u", status);
    if (memcmp(data + 9, want, 3) != 0 || (len > 12 && data[12] != ' ' && data[12] != '\r')) {
        *bad_off = 9;
        return "status in the error page does not match its 'error' status";
    }
    for (p = data;; p = eol + 2) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL) {
            *bad_off = (size_t)(p - data);
            return "error page head does not end with an empty line";
        }
        if (eol == p || eol[-1] != '\r') {
            *bad_off = (size_t)(eol - data);
            return "error page lines must end with CRLF";
        }
        eol--;                      /* at the CR */
        if (eol == p)
            break;                  /* the empty line */
        for (const char *c = p; c < eol; c++) {
            if ((unsigned char)*c < 0x20 && *c != '\t') {
                *bad_off = (size_t)(c - data);
                return "control character in error page head";
            }
        }
        if (p == data)
            continue;               /* the status line */
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p) {
            *bad_off = (size_t)(p - data);
            return "malformed header line in error page";
        }
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(eol - v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if ((size_t)(colon - p) == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            long n = 0;

            if (content_length >= 0 || vlen == 0 || vlen > 9) {
                *bad_off = (size_t)(p - data);
                return "bad or repeated Content-Length in error page";
            }
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    *bad_off = (size_t)(v - data);
                    return "bad Content-Length in error page";
                }
                n = n * 10 + (v[i] - '0');
            }
            content_length = n;
        } else if ((size_t)(colon - p) == 10 && strncasecmp(p, "Connection", 10) == 0) {
            if (vlen == 5 && strncasecmp(v, "close", 5) == 0)
                close = 1;
        } else if ((size_t)(colon - p) == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            *bad_off = (size_t)(p - data);
            return "error pages cannot use Transfer-Encoding";
        }
    }
    body = (size_t)(end - (eol + 2));
    if (content_length >= 0 && (size_t)content_length != body) {
        *bad_off = (size_t)(eol + 2 - data);
        return "Content-Length does not match the error page body";
    }
    if (content_length < 0 && !close)
        return "error page needs a Content-Length or 'Connection: close'";
    return NULL;
}
