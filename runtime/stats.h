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
#include <stddef.h>
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
    uint64_t bytes_kernel_out;      /* listener: of bytes_out, those the kernel relay moved */
    uint64_t bytes_kernel_in;       /* listener: of bytes_in, those the kernel relay moved */
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

/* The kernel relay moved out bytes from a server to a client of listener l, and in bytes
 * the other way (counted in stats_end()'s bytes_out and bytes_in too): conn.c calls this
 * when the connection leaves it. */
void stats_kernel(const struct yt_listener *l, uint64_t out, uint64_t in);

/* A connect to server failed and it is marked down until until_ms (monotonic ms of the
 * loop, as passed to pool_mark_down()), or a connect succeeded and it is up. */
void stats_server_down(uint32_t server, uint64_t until_ms);
void stats_server_up(uint32_t server);

/* ---- active checks and maintenance ----
 *
 * Each worker checks every checked server itself (checks are not shared between workers)
 * and publishes its view in its slice; the administrative words (maintenance) are one
 * array after the slices, written by the admin socket and read by every worker's server
 * choice. A reader in another process may see the fields of two consecutive checks mixed,
 * never a torn field. */

/* How a check ended, HAProxy's names (stats_check_result_names). */
enum stats_check_result {
    STATS_CHECK_NONE = 0,           /* not checked yet */
    STATS_CHECK_L4OK,               /* the connect succeeded (tcp check) */
    STATS_CHECK_L4TOUT,             /* the connect did not finish within the timeout */
    STATS_CHECK_L4CON,              /* the connect failed (refused, unreachable) */
    STATS_CHECK_L7OK,               /* http: a status in the expected range */
    STATS_CHECK_L7STS,              /* http: a status outside the expected range */
    STATS_CHECK_L7TOUT,             /* http: no status line within the timeout */
    STATS_CHECK_L7RSP,              /* http: not an HTTP status line, or closed early */
    STATS_CHECK_SOCKERR,            /* no socket (descriptor shortage) */
    STATS_CHECK_COUNT
};

static const char *const stats_check_result_names[STATS_CHECK_COUNT] = {
    "-", "L4OK", "L4TOUT", "L4CON", "L7OK", "L7STS", "L7TOUT", "L7RSP", "SOCKERR",
};

struct stats_check {
    enum stats_check_result result;
    uint16_t status;                /* L7OK, L7STS: the response's status */
    uint16_t passes, fails;         /* consecutive, after this check */
    uint32_t latency_us;            /* from the start of the check to its result */
    uint64_t at_ms;                 /* loop time of the result; 0: none yet */
    bool down;                      /* the server's state after it */
};

enum stats_server_state {
    STATS_SERVER_UP = 0,
    STATS_SERVER_DOWN,              /* some worker has it down (checks or a failed connect) */
    STATS_SERVER_MAINT,             /* disabled from the admin socket */
    STATS_SERVER_STATE_COUNT
};

static const char *const stats_server_state_names[STATS_SERVER_STATE_COUNT] = {
    "up", "down", "maint",
};

/* This worker's check of server ended with c (a worker's event loop calls it). */
void stats_server_checked(uint32_t server, const struct stats_check *c);

/* This worker's checked server went down or up by other means than a check (a client's
 * failed connect). */
void stats_server_check_down(uint32_t server, bool down);

/* The latest check result of server over all workers, in *out; false when no worker has
 * checked it yet. */
bool stats_server_check(uint32_t server, struct stats_check *out);

/* The state of server at now_ms: maint, else down when some worker has it down (its
 * checks, or a failed connect whose retry time has not come), else up. */
enum stats_server_state stats_server_state(uint32_t server, uint64_t now_ms);

/* Puts server in or out of maintenance, for every worker (the admin socket). */
void stats_server_set_maint(uint32_t server, bool maint);

/* The servers in maintenance, by name ("POOL/[addr]:port", one per line), written
 * NUL-terminated into out[0 .. cap), for a reload to carry over. Returns how many;
 * a list that does not fit ends at the last whole line. */
uint32_t stats_maint_names(char *out, size_t cap);

/* Puts the servers named in list (as stats_maint_names writes it) in maintenance. Returns
 * how many of its names this table has; *missing counts the others. */
uint32_t stats_maint_restore(const char *list, uint32_t *missing);

/* The administrative words, one per server (POOL_ADMIN_* bits, pool.h), for the server
 * choice to read; NULL before stats_init(). */
const uint32_t *stats_server_admin_words(void);

/* ---- reading, for the admin socket: sums over the workers ---- */

/* Writes server's name as show stat prints it, "POOL/[addr]:port", NUL-terminated and cut
 * to cap bytes, into out. Returns out. */
const char *stats_server_name(uint32_t server, char *out, size_t cap);

void stats_listener(uint32_t listener, struct stats_counters *out);
void stats_pool(uint32_t pool, struct stats_counters *out);
void stats_server(uint32_t server, struct stats_counters *out);

/* Whether some worker has server marked down at now_ms. */
bool stats_server_is_down(uint32_t server, uint64_t now_ms);

/* Connections open and accepted so far, all workers. */
uint64_t stats_live(void);
uint64_t stats_accepted(void);

#endif
