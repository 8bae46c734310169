/* The service manager's readiness protocol (sd_notify(3)): one datagram of
 * "KEY=value\n" lines to the unix socket named by $NOTIFY_SOCKET. Written here rather
 * than linked from libsystemd: it is one socket and one send, it adds no library to the
 * binary (the static build included), and the socket is connected at start, so that the
 * running proxy needs no call its system call filter does not allow. Without
 * $NOTIFY_SOCKET every call does nothing. See docs/runtime.md, "Running under systemd". */
#ifndef RUNTIME_NOTIFY_H
#define RUNTIME_NOTIFY_H

#include <stdbool.h>

/* Connects to $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), if set.
 * Call before the system call filter. Returns 0 (also without the variable), or -1 with
 * the reason printed to stderr. */
int notify_open(void);

/* Whether a service manager listens (notify_open() found $NOTIFY_SOCKET). */
bool notify_is_on(void);

/* Sends one message: the printf-formatted state lines, e.g. "READY=1\nSTATUS=...". Never
 * blocks; a message the manager cannot take is dropped. */
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1" with the MONOTONIC_USEC= that newer managers ask for beside it. */
void notify_reloading(const char *status);

/* Closes the socket (a worker: only the main process speaks to the manager). */
void notify_close(void);

#endif
