/* QUIC passthrough: the datagrams of quic listeners, routed by the SNI of the client's
 * Initial packets (runtime/quic.c) and relayed both ways untouched, one flow per client
 * connection. See docs/quic.md. */
#ifndef RUNTIME_QUICRELAY_H
#define RUNTIME_QUICRELAY_H

#include <stddef.h>

#include "table.h"

struct ev_loop;

/* Bytes a flow holds before its server is chosen: every datagram it sent, to be sent on
 * in order once the server is known. A flow that needs more is refused. */
#define QUICRELAY_HOLD_MAX (64 * 1024)
/* Flows of one worker whose server is not chosen yet (each holds a struct quic_flow and
 * up to QUICRELAY_HOLD_MAX): a new client past it is dropped. */
#define QUICRELAY_UNDECIDED_MAX 1024
/* Datagrams read per readiness event and socket. */
#define QUICRELAY_BURST 64

/* Sets up the servers' health for t (keeps t) and loads libcrypto's ciphers while files
 * may still be opened (before the system call filter). Returns 0, or -1. */
int quicrelay_init(const struct yt_table *t);

/* Releases what quicrelay_init() set up; call once no flow is left. */
void quicrelay_fini(void);

/* The listening socket fd of quic listener l is readable: reads its datagrams (borrows
 * fd: it must stay open while flows use it, see quicrelay_close_all()). */
void quicrelay_read(struct ev_loop *loop, int fd, const struct yt_listener *l);

/* Ends every flow now, each with its log line (before the listening sockets close). */
void quicrelay_close_all(struct ev_loop *loop);

/* Memory of a flow once its server is chosen, and while it is not (both structs), for
 * the documentation and benchmarks. */
size_t quicrelay_flow_size(void);
size_t quicrelay_undecided_size(void);

#endif
