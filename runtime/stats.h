/* Counters for the admin socket: per listener, per pool (the per-site counters: a site's
 * pool is "<site>/tls" or "<site>/http" unless it names a shared pool) and per server.
 *
 * Arrays indexed by the table's indices, sized from the table once at start, in one
 * anonymous shared mapping with one slice per worker: each worker writes only its own
 * slice (no locks, no atomics beyond plain loads and stores), the admin socket adds the
 * slices up. Pages of the mapping are zero until written, so a table with a million sites
 * costs address space in proportion but resident memory only for the pools and servers
 * that have seen traffic (readers skip the rows no worker wrote, since reading a page
 * would allocate it too); nothing is allocated per connection or per domain. */
#ifndef RUNTIME_STATS_H
#define RUNTIME_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

/* Errors by the first letter of the termination code (docs/runtime.md): client side
 * (C, c), server side (S, s), the proxy's decision or its shutdown (P, K), a local
 * resource (R). */
enum stats_err_class {
    STATS_ERR_CLIENT = 0, STATS_ERR_SERVER, STATS_ERR_PROXY, STATS_ERR_RESOURCE,
    STATS_ERR_CLASS_COUNT
};

static const char *const stats_err_class_names[STATS_ERR_CLASS_COUNT] = {
    "client", "server", "proxy", "resource",
};

struct stats_counters {
    uint64_t conns;                 /* listener: accepted; pool, server: connections or
                                     * requests that went to it */
    uint64_t bytes_in;              /* from the client */
    uint64_t bytes_out;             /* to the client */
    uint64_t errors;                /* ended with a termination code other than "--" */
    uint64_t errors_by_class[STATS_ERR_CLASS_COUNT];   /* the same errors, by class */
    uint64_t down;                  /* server: times marked down (failed connects) */
};

/* Maps the counters for workers processes (keeps t). Call once, before forking the
 * workers. Returns 0, or -1 with errno (ENOMEM). */
int stats_init(const struct yt_table *t, uint32_t workers);

/* Unmaps; accepts being called without stats_init(). */
void stats_fini(void);

/* Selects the slice this process writes: the worker's number (0 .. workers - 1). */
void stats_set_worker(uint32_t worker);

/* A number for a new connection (layer 4 or 7), unique across the workers of a process. */
uint64_t stats_next_id(void);

/* ---- updates, from the event loop of a worker ---- */

/* A connection was accepted on listener l (listener.c calls this). */
void stats_accept(const struct yt_listener *l);

/* Open connections of this worker right now (listener.c, once per loop iteration). */
void stats_set_live(uint32_t live);

/* The class of an error by the first letter of its termination code. */
enum stats_err_class stats_err_class(char term0);

/* A layer-4 connection or a layer-7 request ended: counts it for listener l, for pool and
 * server when they are not YT_NONE, with the bytes from the client (bytes_in) and to the
 * client (bytes_out); term is its two-letter termination code ("--" = no error). */
void stats_end(const struct yt_listener *l, uint32_t pool, uint32_t server,
               uint64_t bytes_in, uint64_t bytes_out, const char term[2]);

/* A connect to server failed and it is marked down until until_ms (monotonic ms of the
 * loop, as passed to pool_mark_down()), or a connect succeeded and it is up. */
void stats_server_down(uint32_t server, uint64_t until_ms);
void stats_server_up(uint32_t server);

/* ---- reading, for the admin socket: sums over the workers ---- */

void stats_listener(uint32_t listener, struct stats_counters *out);
void stats_pool(uint32_t pool, struct stats_counters *out);
void stats_server(uint32_t server, struct stats_counters *out);

/* Whether some worker has server marked down at now_ms. */
bool stats_server_is_down(uint32_t server, uint64_t now_ms);

/* Connections open and accepted so far, all workers. */
uint64_t stats_live(void);
uint64_t stats_accepted(void);

#endif
