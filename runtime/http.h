/* Layer 7: client connections of `http` and `redirect` listeners.
 *
 * One state machine per client connection: head (read and parse a request head) -> connect
 * (to the server chosen for its Host) -> relay (request body up, response down) -> head
 * again for the next request on a persistent connection, or -> tunnel after a 101, or ->
 * drain (last bytes to the client, then close). One request is in flight at a time:
 * pipelined requests wait in the client buffer and are answered in order. Every request is
 * routed on its own with yt_resolve(); the server connection is kept for the next request
 * when it goes to the same pool and both sides allow it, and otherwise parked in a
 * per-process idle pool for the next request to that server from any client. Each request
 * gets one log line. */
#ifndef RUNTIME_HTTP_H
#define RUNTIME_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

struct ev_loop;

/* Sets up the layer-7 buffer pool (sized for the largest max_head of t's listeners) and
 * server health for t (keeps t). Returns 0, or -1 (ENOMEM). */
int http_init(const struct yt_table *t);

/* Releases what http_init() set up; call once no connection is left. */
void http_fini(void);

/* Takes fd, a freshly accepted non-blocking socket of listener l (mode YT_MODE_HTTP or
 * YT_MODE_REDIRECT), and serves it. Borrows peer (the client's address from accept()).
 * Out of memory: fd is closed and the failure logged. */
void http_accept(struct ev_loop *loop, int fd, const struct yt_listener *l,
                 const union yt_addr *peer);

/* Whether some keep-alive client waits idle between requests (nothing buffered, nothing
 * owed to it). */
bool http_has_idle(void);

/* At maxconn, with a new client waiting: closes the keep-alive client that has waited idle
 * the longest (as nginx does), so the new one can be accepted. O(1): the idle clients are
 * kept in the order they became idle. Returns whether one was closed. */
bool http_reclaim_idle(void);

/* Graceful stop: connections waiting for a next request and the idle pool close now; the
 * others close once their current response is complete. */
void http_quiesce(struct ev_loop *loop);

/* Ends every open connection now (the grace period is over), each with its log line, and
 * closes the idle pool. */
void http_close_all(struct ev_loop *loop);

/* Size of one connection's own memory, for the documentation and benchmarks. */
size_t http_struct_size(void);

#endif
