/* The admin socket: a unix stream socket speaking a line protocol like HAProxy's stats
 * socket (show info, show stat, help, quit, prompt, shutdown), and the socket hand-over
 * between an old and a new binary (HAProxy's `expose-fd listeners`), which only root and
 * the proxy's own user may ask for; other users get the socket's level. See
 * docs/runtime.md. */
#ifndef RUNTIME_ADMIN_H
#define RUNTIME_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

struct ev_loop;

#define ADMIN_SESSIONS_MAX 8        /* the last one kept for root and the proxy's user */
#define ADMIN_FDS_MAX 1024          /* listening sockets handed over, at most */

struct admin_info {
    const char *version;
    uint32_t workers;
    /* "_drain": stop accepting, finish open connections, exit. Called from the loop. */
    void (*drain)(struct ev_loop *loop);
    /* The listening sockets to hand over: writes at most cap descriptors to fds, returns
     * how many (borrowed: they stay open here). */
    size_t (*sockets)(int *fds, size_t cap);
};

/* Creates t's admin socket, if it has one (keeps t): bound under a temporary name,
 * chmod()ed to admin_mode, then renamed over the path, so a new binary replaces the old
 * one's socket atomically. Call after binding the listeners and before chroot. Returns 0,
 * or -1 with the reason printed to stderr. */
int admin_open(const struct yt_table *t);

/* Serves the socket from loop (keeps loop and info). Without admin_open(), does nothing. */
void admin_start(struct ev_loop *loop, const struct admin_info *info);

/* Closes every session and the socket. remove: also removes the path, unless another
 * process has put its own socket there since (false in processes that only inherited the
 * socket through fork()). */
void admin_close(bool remove);

/* Takeover, the new binary's side. Connects to the admin socket at path, asks for the
 * listening sockets and receives them (returns owned descriptors in fds, at most cap;
 * *count says how many). Returns the connection for admin_takeover_finish(), or -1 with
 * the reason printed to stderr. Blocking, before the loop starts. */
int admin_takeover_begin(const char *path, int *fds, size_t cap, size_t *count);

/* Tells the old process (over conn, which it takes) to stop accepting and drain; waits
 * (at most 5 s) for its answer. Returns 0, or -1 with the reason printed to stderr. */
int admin_takeover_finish(int conn);

#endif
