/* The environment a service manager (or the proxy's own master, across a reload) passes
 * listening sockets in: systemd's LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES (sd_listen_fds(3):
 * the sockets are descriptors 3, 4, ..., the names a colon-separated list), and lists of
 * numbers ("5,6,9"). Pure: strings in, numbers out; no getenv, no descriptor touched. */
#ifndef RUNTIME_ACTIVATE_H
#define RUNTIME_ACTIVATE_H

#include <stddef.h>

#define ACTIVATE_FD_FIRST 3         /* SD_LISTEN_FDS_START */

/* Parses LISTEN_PID (listen_pid) and LISTEN_FDS (listen_fds) for the process self.
 * Either NULL or a LISTEN_PID naming another process: *count = 0 (the sockets are not
 * ours, as sd_listen_fds() says). Otherwise both must be decimal numbers, the count at
 * most cap. Returns 0, or -1 with *why set to a static reason. */
int activate_parse(const char *listen_pid, const char *listen_fds, long self, size_t cap,
                   size_t *count, const char **why);

/* Name i (0-based) of the colon-separated LISTEN_FDNAMES names: points into names, *len
 * bytes; NULL when names is NULL or has fewer entries. */
const char *activate_name(const char *names, size_t i, size_t *len);

/* A comma-separated list of decimal numbers, each from min to max ("" is none): writes
 * them to out (at most cap). Returns how many, or -1 when malformed or too many. */
long activate_list(const char *s, long min, long max, long *out, size_t cap);

#endif
