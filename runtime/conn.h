/* Client connections: one state machine per accepted socket, from the first bytes to the
 * log line. inspect -> connect -> relay -> drain -> closed. */
#ifndef RUNTIME_CONN_H
#define RUNTIME_CONN_H

#include <stdint.h>

#include "table.h"

struct ev_loop;

/* Sets up the buffer pools and server health for t (keeps t). Returns 0, or -1 (ENOMEM). */
int conn_init(const struct yt_table *t);

/* Releases what conn_init() set up; call once no connection is left. */
void conn_fini(void);

/* Takes fd, a freshly accepted non-blocking socket of listener l (a tls listener: one
 * whose mode has an inspect handler in conn.c), and serves it. Borrows peer (the client's
 * address, as accept() gave it). */
void conn_accept(struct ev_loop *loop, int fd, const struct yt_listener *l,
                 const union yt_addr *peer);

/* Ends every open connection now (the grace period is over), each with its log line;
 * but tunnels, which their owners end (conn_close()). */
void conn_close_all(struct ev_loop *loop);

/* ---- tunnels: connections another engine hands over once routed ---- */

struct conn;

/* How a tunnel ended: the bytes read from either peer since the hand-over, the
 * termination code and why (err static or NULL; err_no the errno behind it, or 0), as a
 * connection of this module would log them. */
struct conn_tunnel_end {
    uint64_t from_client, from_server;
    char term[2];
    const char *err;
    int err_no;
};

/* Called once when a tunnel ends, after its sockets are closed; borrows e. */
typedef void conn_tunnel_done(void *arg, const struct conn_tunnel_end *e);

/* Relays between client and server, the two connected non-blocking sockets of a
 * connection of listener l (a WebSocket after its 101), as an established connection of
 * this module: buffers and pipes, half-close, resets, `timeout tunnel`, and the kernel
 * relay when l's relay is the kernel's. Nothing may wait between them elsewhere, nor any
 * FIN have come. It counts nothing itself (no admission, log line or statistics: the
 * owner has its own): done(arg, ...) says when it ends and what it relayed. Takes both
 * sockets and keeps arg; returns the tunnel, or NULL when out of memory (then the
 * sockets stay the caller's). */
struct conn *conn_tunnel(struct ev_loop *loop, int client, int server,
                         const struct yt_listener *l, conn_tunnel_done *done, void *arg);

/* Ends connection c now, as the end of the grace period does (term "PD", err "shutdown");
 * a tunnel's done is called before this returns. */
void conn_close(struct ev_loop *loop, struct conn *c);

/* Size of one connection's own memory, for the documentation and benchmarks. */
size_t conn_struct_size(void);

#endif
