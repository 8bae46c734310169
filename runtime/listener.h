/* Listening sockets: bind every yt_bind of the table, accept without starving the loop,
 * pause at maxconn and on descriptor exhaustion. */
#ifndef RUNTIME_LISTENER_H
#define RUNTIME_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit.h"
#include "table.h"

struct ev_loop;

#define LISTENER_ACCEPT_BURST 64    /* accepts per readiness event and listener */

/* Binds and listens on every bind of every listener of t (keeps t). reuseport sets
 * SO_REUSEPORT (several workers). Each call binds a fresh set of sockets and returns its
 * id (0, 1, ...), so a supervisor can bind one set per worker. On failure prints which
 * address could not be bound and why to stderr and returns -1. */
int listener_bind_all(const struct yt_table *t, bool reuseport);

/* Takeover: the listening sockets fds[0 .. count) received from the old process (takes
 * them) are used by the following listener_bind_all() calls instead of fresh sockets
 * wherever address, port and IPV6_V6ONLY match; worker sets beyond those the old process
 * had share the first set's sockets. only (socket activation): a bind that no socket
 * matches fails instead of binding a fresh socket. Keeps t. Returns 0, or -1 (out of
 * memory, printed). */
int listener_adopt(const struct yt_table *t, const int *fds, size_t count, bool only);

/* Whether fd is a socket of l bound as its bind b asks (address, port, IPV6_V6ONLY): a
 * listening TCP socket, or a UDP socket for a quic listener. */
bool listener_fd_is(int fd, const struct yt_listener *l, const struct yt_bind *b);

/* Closes the inherited sockets no bind wanted; returns how many. */
size_t listener_adopt_done(void);

/* Accepts on set `set` only. Closes the sockets of every other set unless keep_others
 * (the process serving the admin socket keeps them all to hand them over). */
void listener_keep_set(int set, bool keep_others);

/* The listening sockets, all sets: at most cap descriptors (borrowed) into fds. */
size_t listener_fds(int *fds, size_t cap);

/* Whether the listeners accept (false before listener_start() and after
 * listener_close_all()). */
bool listener_is_accepting(void);

/* Starts accepting on the kept sockets (the first set when listener_keep_set() was not
 * called); settles maxconn (see listener_maxconn()). Connections of tls listeners go to
 * conn_accept(), of metrics listeners to scrape_accept(), the others to http_accept(). */
void listener_start(struct ev_loop *loop);

/* The maxconn in force: the table's, lowered at listener_start() or on a descriptor
 * shortage when the descriptor limit cannot hold two descriptors per connection (see
 * admit.h). */
uint32_t listener_maxconn(void);

/* Open connections of every mode: what maxconn limits. */
uint32_t listener_live_count(void);

/* Stops accepting and closes the listening sockets (graceful shutdown). */
void listener_close_all(struct ev_loop *loop);

#endif
