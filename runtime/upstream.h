/* Server connections, for both engines: server choice and passive health, the connect
 * and its retry on the pool's next server, the send right after connect(), the PROXY
 * header, descriptor shortage, and (layer 7) the idle pool of kept server connections.
 * In terms of pools, servers and descriptors: it knows no client connection. */
#ifndef RUNTIME_UPSTREAM_H
#define RUNTIME_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pool.h"
#include "table.h"

struct buf;
struct ev_loop;
struct ups_idle;

/* One engine's servers: their health as that engine saw it, and its idle pool. */
struct upstream {
    const struct yt_table *t;       /* keeps */
    struct pool_health health;
    struct ups_idle *idle;          /* NULL: connections are not kept */
};

/* Sets up the health of t's servers (keeps t) and, unless idle_ms is 0, an idle pool that
 * keeps a connection for at most idle_ms. Returns 0, or -1 (ENOMEM). */
int ups_init(struct upstream *u, const struct yt_table *t, uint32_t idle_ms);

/* Closes the idle pool and frees what ups_init() set up; accepts a zeroed struct. */
void ups_fini(struct upstream *u);

/* One client's (or one request's) walk through a pool. */
struct ups_try {
    uint32_t server;                /* the current server, YT_NONE before the first */
    uint32_t tries;                 /* servers tried */
    int err_no;                     /* errno of the last failed connect or socket(), or 0 */
};

enum ups_result {
    UPS_CONNECTING = 0,             /* *fd is connecting (connect() said EINPROGRESS) */
    UPS_CONNECTED,                  /* *fd is connected already */
    UPS_REUSED,                     /* *fd is a kept connection from the idle pool */
    UPS_NO_SERVER,                  /* each server of the pool was tried (tries may be 0) */
    UPS_NO_SOCKET,                  /* socket() failed (err_no; a shortage was reported) */
};

#define UPS_TAKE_IDLE 1u            /* a kept connection to the server may serve */
#define UPS_LOWAT 2u                /* TCP_NOTSENT_LOWAT (SEND_LOWAT) on a new socket */

/* Starts on the next server of pool that is up (pool_pick()), once per server of the pool
 * (t->tries): takes a kept connection to it (UPS_TAKE_IDLE; *nreq: requests it carried),
 * or opens a non-blocking TCP_NODELAY socket and connects. A connect refused at once marks
 * the server down and goes on with the next. On a descriptor shortage, a kept connection
 * gives way and socket() is tried once more; failing again, the shortage is reported to
 * admit.h. Returns *fd (owned) for the first three results. */
enum ups_result ups_connect_next(struct upstream *u, struct ev_loop *loop, uint32_t pool,
                                 struct ups_try *t, unsigned flags, int *fd, uint32_t *nreq);

/* A connect to server failed: it is down until the retry interval has passed, or (a
 * checked server) until its checks pass `rise` times in a row. */
void ups_server_down(struct upstream *u, struct ev_loop *loop, uint32_t server);

/* A connect to server succeeded. */
void ups_server_up(struct upstream *u, uint32_t server);

/* Whether a connection a client holds to server may carry its next request
 * (pool_server_may_reuse()): not when the server is in maintenance or down by its checks. */
bool ups_server_may_reuse(const struct upstream *u, uint32_t server);

enum ups_sent {
    UPS_SENT = 0,                   /* the connect is done, *n bytes went */
    UPS_WAIT,                       /* still connecting: nothing went */
    UPS_FAILED,                     /* the connect failed (errno): nothing went */
};

/* The send right after connect(): to a nearby server the handshake is often over by the
 * time connect() returns, and sending at once saves waiting for writability (a loop turn,
 * an epoll_ctl) and asking SO_ERROR; a failed connect reports its error here, before any
 * byte left, so the next server may take over. Borrows data[0 .. len). */
enum ups_sent ups_send_first(int fd, const void *data, size_t len, ssize_t *n);

/* Puts the PROXY header a server asks for (flags: YT_SERVER_PROXY_*) in front of b's bytes,
 * in its headroom or else moving them (b must have room): peer is the client's address,
 * local the address it reached (NULL: unknown, then client_fd's own, its socket).
 * Returns the header's length, 0 when none was asked or the local address could not be
 * had. */
size_t ups_prepend_proxy(struct buf *b, uint16_t flags, int client_fd,
                         const union yt_addr *peer, const union yt_addr *local);

/* ---- the idle pool ----
 *
 * A client connection done with a clean, idle server connection parks it here instead of
 * closing it, and the next request for that server, from any client, takes it (most
 * recently parked first: it is the least likely to have been closed by the server's
 * keep-alive timeout). Bounded per server and in all (the oldest goes first) and in time
 * (see ups_init()). A parked connection holds no buffer; its descriptor counts toward maxconn. */

/* Whether u keeps connections at all. */
bool ups_idle_enabled(const struct upstream *u);

/* Takes fd, a connection to server that has carried nreq requests and is clean and idle:
 * parks it, or closes it (a server that gets a PROXY header: that binds the connection to
 * one client; or no idle pool). fd has stayed open since a watcher of loop last watched
 * it, so it is not registered with the kernel again (evio.h). */
void ups_idle_park(struct upstream *u, struct ev_loop *loop, int fd, uint32_t server,
                   uint32_t nreq);

/* Closes parked connections, oldest first, while they and the open connections together
 * exceed maxconn: each client may need a server descriptor. */
void ups_idle_fit(struct upstream *u);

/* Closes every parked connection. */
void ups_idle_close_all(struct upstream *u);

/* Whether a peer's socket holds what the proxy has not read yet: bytes, its FIN or an
 * error (one recv(MSG_PEEK), so a system call: for the moments a close or a reuse must not
 * lose or misread what already came, never per request). */
bool ups_has_unread(int fd);

#endif
