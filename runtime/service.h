/* Running under a service manager: the listening sockets it passes (socket activation),
 * and the master's reload, which re-executes the binary from the path it was started
 * from in the same process, so that the process the manager knows stays the main one.
 * See docs/runtime.md, "Running under systemd". */
#ifndef RUNTIME_SERVICE_H
#define RUNTIME_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "table.h"

#define SERVICE_PIDS_MAX 256        /* workers, old and new, handed across a reload */

/* The listening sockets this process was started with, written to fds (at most cap,
 * *count of them; the process owns them): the master's own after a reload
 * (SWITCHYARD_FDS), else the service manager's (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES).
 * *only: they came from the manager, so every bind of t must find its socket among them
 * and no other is bound. Each socket of the manager must be a listening TCP socket bound
 * as some listener of t asks, and one named after a listener (FileDescriptorName=) as
 * that listener asks. The variables are removed from the environment. Returns 0, or -1
 * with the reason printed to stderr. */
int service_sockets(const struct yt_table *t, int *fds, size_t cap, size_t *count,
                    bool *only);

/* A master's start: remembers the path it was started from (argv[0], made absolute) and
 * the command line, to re-execute them on reload, and what the previous image passed
 * on (the workers still running, the previous binary, why a reload failed). Keeps argv.
 * Returns 0, or -1 with the reason printed to stderr. */
int service_master_init(char **argv);

/* The workers the previous image left running (they drain): at most cap pids. */
size_t service_old_workers(pid_t *pids, size_t cap);

/* Why the reload that led here failed (this is the previous binary again), or NULL. */
const char *service_reload_failed(void);

/* The start after a reload went through: the previous binary is let go. */
void service_started(void);

/* Whether this image was started by a reload (and the previous binary is still at hand). */
bool service_is_reload(void);

/* The start after a reload failed: executes the previous binary again with the sockets
 * and workers this image received, and also[0 .. n) (workers this image forked), which it
 * takes back and goes on serving with (it drains those workers). Returns when this start
 * was not a reload (or that exec failed). */
void service_fall_back(const pid_t *also, size_t n);

/* Reload: checks that the binary at the start path runs (its --version, within 5 s), then
 * executes it in this process with the listening sockets fds[0 .. n) and the running
 * workers (pids[0 .. np)). Returns only when the new binary could not be executed: -1,
 * with the reason in why (cap bytes). */
int service_reexec(const int *fds, size_t n, const pid_t *pids, size_t np, char *why,
                   size_t cap);

#endif
