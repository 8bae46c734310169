/* Client connections of `metrics` listeners: a minimal HTTP/1.1 server of one resource.
 *
 * GET /metrics (and HEAD) is answered 200 with the counters in the Prometheus text format
 * (metrics.h) and a Content-Length; any other path 404, any other method 405 (with
 * Allow: GET, HEAD), a head the request head parser (httphead.h) refuses its status (400,
 * 431, 505 ...), a head not complete within `timeout client` 408. Connections are kept
 * for the next request unless the client or a final error says otherwise; pipelined
 * requests are answered in order. The head may be at most the listener's max-head; a
 * request with a body is answered, then the connection closes (the body is not read).
 * Scrapes are counted on the listener alone (connections, bytes, errors), never on a pool
 * or server, and write no access log line. Any worker answers: the counters of every
 * worker are in one shared mapping (stats.h). */
#ifndef RUNTIME_SCRAPE_H
#define RUNTIME_SCRAPE_H

#include <stdbool.h>

#include "table.h"

struct ev_loop;

/* Serves the metrics of t (keeps t). Call before the first scrape_accept(). */
void scrape_init(const struct yt_table *t);

/* Takes fd, a freshly accepted non-blocking socket of listener l (YT_MODE_METRICS), and
 * serves it (keeps l). Borrows peer. Out of memory: fd is closed and the failure logged. */
void scrape_accept(struct ev_loop *loop, int fd, const struct yt_listener *l,
                   const union yt_addr *peer);

/* Graceful stop: connections waiting for a next request close now, the others after their
 * answer. */
void scrape_quiesce(struct ev_loop *loop);

/* Closes every connection now. */
void scrape_close_all(struct ev_loop *loop);

#endif
