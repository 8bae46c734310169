/* The bytes of an HTTP health check: the request it sends and the status line it reads
 * back. Pure: bytes in, result out; no sockets, no allocation, no globals.
 *
 * Only the status line is read (RFC 9112 §4): "HTTP/1.x SP 3DIGIT" and the byte after
 * it, which must be SP (reason phrase follows), CR or LF (an empty reason phrase written
 * without its SP, which servers do). Headers and body are never looked at, so a check
 * reads at most HC_STATUS_LINE_MIN bytes whatever the server sends. */
#ifndef RUNTIME_HCHECK_H
#define RUNTIME_HCHECK_H

#include <stddef.h>
#include <stdint.h>

#define HC_STATUS_LINE_MIN 13       /* "HTTP/1.1 200 ": enough to decide */
#define HC_REQUEST_MAX 2048         /* longest request (method, path, host are bounded) */

enum hc_result {
    HC_NEED_MORE = 0,               /* a strict prefix of a valid status line */
    HC_STATUS,                      /* *status holds the code, 100 .. 599 */
    HC_ERR,                         /* not an HTTP/1.x status line */
};

/* Reads the status code at the start of data[0..len); borrows data, never reads past
 * len. */
enum hc_result hc_status_line(const uint8_t *data, size_t len, uint16_t *status);

/* Writes "METHOD PATH HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\nUser-Agent:
 * switchyard-check\r\n\r\n" into out[0..cap). Borrows the strings (method_len bytes
 * etc., no NUL needed). Returns its length, or 0 when it does not fit. */
size_t hc_request(char *out, size_t cap, const char *method, size_t method_len,
                  const char *path, size_t path_len, const char *host, size_t host_len);

/* Writes the PROXY protocol header for a connection the proxy opens on its own, as a check
 * is (haproxy.org/download/2.9/doc/proxy-protocol.txt): v1 "PROXY UNKNOWN\r\n" (§2.1), v2
 * the LOCAL command without addresses (§2.2), for a server that expects one (version 1 or
 * 2) into out[0..cap). Returns its length, 0 when cap is too small or version is neither. */
size_t hc_proxy_local(int version, uint8_t *out, size_t cap);

#endif
