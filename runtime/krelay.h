/* The layer-4 relay in the kernel: a BPF sockhash and an sk_skb stream-verdict program
 * that sends each byte a socket receives to its peer's send queue, so that relayed bytes
 * never wake the proxy. Loaded at start (before privileges drop), with the bpf() system
 * call alone: no library, no compiler at build time. See docs/runtime.md, "Kernel relay". */
#ifndef RUNTIME_KRELAY_H
#define RUNTIME_KRELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

/* Loads the maps and the program when a tls listener of t wants the kernel relay (its own
 * `relay`, else the global's; SWITCHYARD_RELAY in the environment overrides both for every
 * listener), and logs which relay is in use, why, and for which listeners when they
 * differ. Returns whether the kernel relay is on; when not, every connection is relayed
 * in user space. */
bool krelay_load(const struct yt_table *t);

/* Whether the connections of listener l go to the kernel relay: it is on and l wants it. */
bool krelay_listener_on(const struct yt_listener *l);

/* Whether krelay_load() succeeded. */
bool krelay_on(void);

/* One connection's two sockets in the kernel relay. */
struct krelay_pair {
    uint64_t cookie[2];             /* SO_COOKIE of each socket: its key in the maps */
};

/* Hands the two connected sockets fd[0] and fd[1] to the kernel relay: from now on what
 * one receives is sent to the other. The caller must have nothing of theirs left to send,
 * and nothing unread in them. Returns 0; -1 (errno) with nothing changed: relay in user
 * space then; 1 when a socket's FIN came with bytes while the two went in, which the
 * kernel kept aside: the connection cannot go on (the rare price of a handover without
 * a lock on the sockets). */
int krelay_link(struct krelay_pair *p, const int fd[2]);

/* What the kernel relayed from socket i so far, and when it last did (CLOCK_MONOTONIC,
 * ns; 0: never). Returns 0, or -1 when the entry is gone. */
int krelay_stat(const struct krelay_pair *p, int i, uint64_t *bytes, uint64_t *last_ns);

/* Whether the bytes written to socket fd, sent or queued, reach want: the kernel has
 * passed on all it took for fd. Returns 1, 0 (not yet) or -1 (errno). */
int krelay_delivered(int fd, uint64_t want);

/* Takes the pair out of the relay's maps (the sockets leave the sockhash when closed). */
void krelay_unlink(const struct krelay_pair *p);

#endif
