/* The layer-4 relay in the kernel: BPF sockhashes and an sk_skb stream-verdict program
 * (krelay.bpf.c, compiled with clang) that sends each byte a socket receives to its
 * peer's send queue, so that relayed bytes never wake the proxy. Loaded with libbpf at
 * start, before privileges drop. See docs/runtime.md, "Kernel relay". */
#ifndef RUNTIME_KRELAY_H
#define RUNTIME_KRELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "krelay_shared.h"      /* KRELAY_REPORT_SHIFT: when the kernel reports */
#include "table.h"

/* Loads the maps and the programs, one set per worker, when a tls or http listener of t
 * (for its WebSocket tunnels) wants the kernel relay (its own `relay`, else the global's;
 * SWITCHYARD_RELAY in the environment overrides both for every listener), and logs which
 * relay is in use, why, and for which listeners when they differ. Returns whether the
 * kernel relay is on; when not, every connection is relayed in user space. */
bool krelay_load(const struct yt_table *t);

/* Whether the connections of listener l go to the kernel relay: it is on and l wants it. */
bool krelay_listener_on(const struct yt_listener *l);

/* Takes worker's set (after the fork). */
void krelay_use(uint32_t worker);

/* The ring buffer's descriptor: readable when krelay_report() has a report. */
int krelay_ring(void);

/* The next report: the tag given to krelay_link() for the direction. Returns false when
 * there is none. */
bool krelay_report(uint64_t *tag);

/* One direction of a connection in the kernel relay: what the sender's socket receives,
 * the kernel sends on to the receiver's. A connection has two, so each socket is a
 * sender and a receiver; the socket's sockmap state has one queue, which holds what is
 * redirected toward the socket and, while that is not empty, what the socket receives
 * and the program keeps for user space. Such kept bytes are not counted in the socket's
 * receive buffer: a peer that sends while it does not read, to a peer that does not read
 * either, would have the kernel take all it sends. The program gives up past keep_max
 * (krelay.bpf.c) kept bytes that user space has not read, and the connection ends. */
struct krelay_pair {
    uint64_t from, to;              /* SO_COOKIE of each socket: its key in the maps */
    struct krelay_ctl ctl;          /* what the program was told last */
};

/* The kernel's queue toward a receiver is not counted in the sockets' memory
 * (net.ipv4.tcp_mem): user space bounds what the kernel may redirect beyond what the
 * receiver's socket took (krelay_allow()), a share of KRELAY_BUDGET among a worker's
 * directions in the kernel relay, between KRELAY_QUEUE_MIN and KRELAY_QUEUE_MAX.
 * Beyond it, the relay in user space takes over until the receiver has caught up, which
 * costs the proxy what relaying in user space does. 64 MiB downloads by a client that
 * falls behind (docs/runtime.md): with 4 MiB for every connection, 37 to 60 % of their
 * bytes went through the kernel, for 0.24 to 0.41 s of the proxy's CPU per GiB; with a
 * lone connection's 16 MiB, 91 to 97 %, for 0.07 to 0.10 s. */
#define KRELAY_QUEUE_MIN (256u << 10)
#define KRELAY_QUEUE_MAX (16u << 20)
#define KRELAY_BUDGET (256u << 20)

/* Hands the direction from socket from to socket to to the kernel relay, which may
 * redirect up to limit bytes before it is allowed more; reports about it carry tag. The
 * caller must have nothing of from's left to send to to, and nothing unread in from.
 * Returns 0, or -1 (errno) with nothing changed. */
int krelay_link(struct krelay_pair *p, int from, int to, uint64_t tag, uint64_t limit);

/* What the kernel did with what the sender received: the bytes it relayed, those it kept
 * in the sender for user space (krelay_allow()), when it last took some (CLOCK_MONOTONIC,
 * ns; 0: never), whether it found the receiver's socket gone (then it keeps all), and
 * why it gave up, dropping all (KRELAY_BROKEN_*: it was handed bytes again that it could
 * not leave out, or it kept more than keep_max, krelay.bpf.c), or 0. */
struct krelay_stat {
    uint64_t bytes, held, last_ns;
    bool gone;
    uint8_t broken;
};

/* Returns 0, or -1 when the entry is gone. */
int krelay_stat(const struct krelay_pair *p, struct krelay_stat *st);

/* Tells the kernel how far it may go: redirect up to limit bytes in all; beyond, it keeps
 * what the sender receives in the sender (where recv() gets it; the window closes when
 * its receive buffer is full) and reports. relayed: how many of the bytes it kept user
 * space has sent on; until that is all of them, it keeps the next ones too. Returns 0,
 * or -1 (errno). */
int krelay_allow(struct krelay_pair *p, uint64_t relayed, uint64_t limit);

/* Tells the kernel how many of the bytes it kept user space has read (keep_max counts
 * from there: krelay.bpf.c). Returns 0, or -1 (errno). */
int krelay_read(struct krelay_pair *p, uint64_t read);

/* Bytes the kernel kept in socket fd wait in a queue of its own when the receive buffer
 * was full as they came, until something wakes the kernel's worker: this does. */
void krelay_kick(int fd);

/* How many bytes socket fd has taken since it was made: acknowledged by its peer, or
 * queued in it. Returns that count, or -1 (errno). */
int64_t krelay_taken(int fd);

/* How many of the want bytes written to socket fd (by the proxy, and by the kernel) are
 * still in the kernel's queue toward it, not yet taken by the socket. Returns that count,
 * or -1 (errno). */
int64_t krelay_backlog(int fd, uint64_t want);

/* Takes the counts out of the relay's maps (the sockets leave the sockhashes when
 * closed). */
void krelay_unlink(const struct krelay_pair *p);

#endif
