/* The HTTP responses the proxy writes itself: redirects to https:// and minimal status pages
 * for statuses the table has no page for. Pure: bytes out, no I/O, no allocation. */
#ifndef RUNTIME_REPLY_H
#define RUNTIME_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The reason phrase of status (RFC 9110 §15), "Unknown" for a status it does not know. */
const char *reply_reason(int status);

/* Writes a complete redirect response into out[0 .. cap):
 *
 *     HTTP/1.1 <status> <reason>
 *     Location: https://<host>[:<port>]<path>
 *     Content-Length: 0
 *     [Connection: close | Connection: keep-alive]
 *
 * Borrows host[0 .. host_len) (the normalised Host: lowercase, no port, IPv6 in brackets)
 * and path[0 .. path_len) (path and query as the client sent them; empty means "/"). port 0
 * and 443 are left out. keep_alive false adds "Connection: close"; true with an HTTP/1.0
 * client (version_minor 0) adds "Connection: keep-alive" (RFC 9112 §9.3). The same bytes
 * answer HEAD: the body is empty either way.
 * Returns the length, or 0 when cap is too small or when host or path hold a byte that
 * must not be reflected into a header (host: anything but letters, digits, "-._:[]";
 * path: controls, space, DEL and non-ASCII, or not starting with '/'). */
size_t reply_redirect(char *out, size_t cap, int status, const char *host, size_t host_len,
                      uint16_t port, const char *path, size_t path_len, int version_minor,
                      bool keep_alive);

/* Writes a response head into out[0 .. cap): the status line, Content-Type unless
 * content_type is NULL, Content-Length, extra (whole field lines, each ending in CRLF, or
 * ""), the Connection field as reply_redirect() writes it, and the empty line. Borrows
 * content_type and extra, which must hold no CR or LF but those ending extra's lines.
 * Returns the length, or 0 when cap is too small or status is outside 100 .. 599. */
size_t reply_head(char *out, size_t cap, int status, const char *content_type,
                  uint64_t content_length, const char *extra, int version_minor,
                  bool keep_alive);

/* Writes a minimal complete error response for status into out[0 .. cap): a text/plain body
 * "<status> <reason>\n", Content-Length, Connection: close. Returns the length, or 0 when
 * cap is too small or status is outside 100 .. 599. */
size_t reply_status_page(char *out, size_t cap, int status);

#endif
