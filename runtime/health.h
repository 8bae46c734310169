/* Active health checks: each worker checks the servers of the pools that have a `check`
 * line, on its own, and feeds the results into the server state both engines choose
 * servers by (pool.h: struct pool_check), the shared statistics (stats.h) and the log.
 *
 * Per checked server: one record allocated at start (a timer, a watcher, 16 bytes for the
 * status line); at most one check in flight; nothing allocated per check beyond its
 * socket. The first check runs at a random point of the first interval and each later
 * one an interval less a random jitter (up to an eighth of it) after the previous one was
 * due, so workers and servers do not check in step, and `fall` failures in a row
 * take at most interval x fall (plus one timeout when the server stops answering rather
 * than refusing). An http check of a server with `send-proxy` or `send-proxy-v2` starts
 * with the PROXY header the protocol has for health checks (v1 UNKNOWN, v2 LOCAL). */
#ifndef RUNTIME_HEALTH_H
#define RUNTIME_HEALTH_H

#include <stdint.h>

#include "pool.h"
#include "table.h"

struct ev_loop;

/* Sets up the states of t's servers (keeps t): all up, checked ones marked so. Call
 * before the engines are set up (they read health_states()). Returns 0, or -1 (ENOMEM). */
int health_init(const struct yt_table *t);

/* The worker's server states, one per t->servers[]; NULL when no pool is checked. */
struct pool_check *health_states(void);

/* Starts the checks on loop (keeps loop). */
void health_start(struct ev_loop *loop);

/* A client's connect to a checked server failed and took it down (pool_mark_down() said
 * POOL_WENT_DOWN): logs it and publishes the state. */
void health_passive_down(uint32_t server);

/* Stops the checks, closes their sockets and frees what health_init() set up. */
void health_fini(struct ev_loop *loop);

#endif
