/* Admission: how many connections are open, how many may be (maxconn), and what is done
 * when descriptors run out. The engines (conn.c, http.c) count their connections in and
 * out here and report a descriptor shortage; the listener decides on accepting from these
 * figures and registers the hook that pauses it. So the listener calls the engines and
 * both call this module, and no engine calls the listener. */
#ifndef RUNTIME_ADMIT_H
#define RUNTIME_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unsent bytes a proxied socket may hold (TCP_NOTSENT_LOWAT): accepted sockets inherit it
 * from their listener, a server socket gets it once more than this has come from the
 * client (conn.c: before that, all that went is under the bound anyway). Without
 * it the kernel takes unsent bytes up to the autotuned send buffer (megabytes), so the
 * proxy drains its sender as fast as the sender writes: backpressure never reaches the
 * sender, both ends wake up for every small write, and the queued bytes go cold in the
 * cache before the receiver reads them. Bytes in flight do not count, so the window
 * still grows to whatever the path needs. */
#define SEND_LOWAT (16 * 1024)

/* TCP_DEFER_ACCEPT on tls listeners, in seconds: a connection is accepted once its first
 * bytes are in, or after this long without any. The kernel's least, 1 s: a client accepted
 * with nothing to read has been connected for that long already (it counts against its
 * inspect timeout, see conn.c). */
#define ADMIT_DEFER_ACCEPT_S 1

/* Seconds the listener pauses accepting for, each time descriptors run out. */
#define ADMIT_PAUSE_S 0.1

/* A connection of either engine opens / closes. */
void admit_enter(void);
void admit_leave(void);

/* Open connections of every mode: what maxconn limits. */
uint32_t admit_live(void);

/* Sets the maxconn wanted (UINT32_MAX: none) with `held` descriptors already taken by
 * listening sockets, and settles it (see admit_settle()). */
void admit_start(uint32_t want, size_t held);

/* Each connection needs two descriptors (client and server), and a pipe (two more) per
 * direction while bytes move in bulk: a maxconn beyond what the descriptor limit allows
 * would turn every connection past it into an EMFILE failure, so the limit lowers maxconn
 * (with a warning), as HAProxy derives maxconn (and maxpipes, maxconn / 4) from ulimit-n,
 * and the pipes are held to their share (buf_pipe_budget(); buffers take over past it). A
 * limit raised since raises maxconn again, up to the one wanted. */
void admit_settle(void);

/* The maxconn in force, and whether it is below the one wanted. */
uint32_t admit_maxconn(void);
bool admit_is_lowered(void);

/* Called by admit_out_of_fds() to stop accepting for ADMIT_PAUSE_S; keeps fn. */
void admit_on_pause(void (*fn)(void));

/* Out of descriptors (err: EMFILE, ENFILE, ...) in `what` (accept, socket): logs once per
 * episode, settles maxconn (a limit lowered since start lowers it) and calls the pause
 * hook. */
void admit_out_of_fds(const char *what, int err);

/* An accept succeeded: ends an episode of admit_out_of_fds() (logged). */
void admit_fds_back(void);

#endif
