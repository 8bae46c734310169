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

/* Ends every open connection now (the grace period is over), each with its log line. */
void conn_close_all(struct ev_loop *loop);

/* Size of one connection's own memory, for the documentation and benchmarks. */
size_t conn_struct_size(void);

#endif
