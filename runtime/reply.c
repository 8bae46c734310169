#include "reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *
reply_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static bool
host_byte_ok(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == ':' || ch == '[' || ch == ']';
}

/* Appends src[0 .. len) at out + *pos if it fits in cap; false otherwise. */
static bool
put(char *out, size_t cap, size_t *pos, const char *src, size_t len)
{
    if (len > cap - *pos)
        return false;
    memcpy(out + *pos, src, len);
    *pos += len;
    return true;
}

static bool
puts_(char *out, size_t cap, size_t *pos, const char *s)
{
    return put(out, cap, pos, s, strlen(s));
}

/* The Connection field of an answer: close, or keep-alive for an HTTP/1.0 client that may
 * keep the connection (RFC 9112 §9.3), else none. */
static const char *
connection_field(int version_minor, bool keep_alive)
{
    if (!keep_alive)
        return "Connection: close\r\n";
    return version_minor == 0 ? "Connection: keep-alive\r\n" : "";
}

size_t
reply_redirect(char *out, size_t cap, int status, const char *host, size_t host_len,
               uint16_t port, const char *path, size_t path_len, int version_minor,
               bool keep_alive)
{
    char line[64];
    size_t pos = 0;
    bool ok;

    if (host_len == 0 || status < 300 || status > 399)
        return 0;
    for (size_t i = 0; i < host_len; i++)
        if (!host_byte_ok((unsigned char)host[i]))
            return 0;
    /* The target was checked by the head parser; this second look keeps a header injection
     * impossible even if that parser ever let a byte through. */
    if (path_len > 0 && path[0] != '/')
        return 0;
    for (size_t i = 0; i < path_len; i++)
        if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7f)
            return 0;
    snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, reply_reason(status));
    ok = puts_(out, cap, &pos, line) && puts_(out, cap, &pos, "Location: https://") &&
         put(out, cap, &pos, host, host_len);
    if (ok && port != 0 && port != 443) {
        snprintf(line, sizeof(line), ":%u", (unsigned)port);
        ok = puts_(out, cap, &pos, line);
    }
    ok = ok && (path_len > 0 ? put(out, cap, &pos, path, path_len) : puts_(out, cap, &pos, "/"));
    ok = ok && puts_(out, cap, &pos, "\r\nContent-Length: 0\r\n") &&
         puts_(out, cap, &pos, connection_field(version_minor, keep_alive)) &&
         puts_(out, cap, &pos, "\r\n");
    return ok ? pos : 0;
}

size_t
reply_head(char *out, size_t cap, int status, const char *content_type,
           uint64_t content_length, const char *extra, int version_minor, bool keep_alive)
{
    int n;

    if (status < 100 || status > 599)
        return 0;
    n = snprintf(out, cap, "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %" PRIu64 "\r\n%s%s\r\n",
                 status, reply_reason(status), content_type != NULL ? "Content-Type: " : "",
                 content_type != NULL ? content_type : "", content_type != NULL ? "\r\n" : "",
                 content_length, extra, connection_field(version_minor, keep_alive));
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

size_t
reply_status_page(char *out, size_t cap, int status)
{
    const char *reason = reply_reason(status);
    char body[80];
    int blen, n;

    if (status < 100 || status > 599)
        return 0;
    blen = snprintf(body, sizeof(body), "%d %s\n", status, reason);
    n = snprintf(out, cap,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: text/plain\r\n"
                 "Content-Length: %d\r\n"
                 "Cache-Control: no-cache\r\n"
                 "Connection: close\r\n"
                 "\r\n"
                 "%s",
                 status, reason, blen, body);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}
