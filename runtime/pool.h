/* Server choice, passive health and the state machine of active checks for the table's
 * pools. Pure: the caller passes the time and the arrays; no I/O, no globals. */
#ifndef RUNTIME_POOL_H
#define RUNTIME_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

struct pool_server {
    int32_t current;                /* smooth weighted round robin credit */
    uint32_t fails;                 /* consecutive failures */
    uint64_t down_until_ms;         /* marked down until then; 0 when up */
};

/* A server's state under active checks (rise/fall), one per server and worker, shared by
 * the worker's engines. A checked server is up or down by this alone: a failed connect of
 * a client marks it down at once (as passive health does without checks), and only `rise`
 * passing checks in a row bring it back, never the retry time. */
struct pool_check {
    uint8_t checked;                /* 1: the server's pool has a `check` line */
    uint8_t down;                   /* 1: down */
    uint16_t passes, fails;         /* consecutive, saturating */
};

enum pool_change { POOL_SAME = 0, POOL_WENT_DOWN, POOL_WENT_UP };

/* A server's administrative state word (the admin socket writes it, pool_pick() reads it). */
#define POOL_ADMIN_MAINT 1u         /* disabled: no new connection or request */

struct pool_health {
    const struct yt_table *t;       /* keeps */
    struct pool_server *srv;        /* one per t->servers[] */
    struct pool_check *chk;         /* keeps; NULL: no active checks, else one per server */
    const uint32_t *admin;          /* keeps; NULL: none, else one POOL_ADMIN_* word per
                                     * server, read with relaxed atomic loads */
};

/* Sets up all servers as up. Keeps t. Returns 0, or -1 (ENOMEM). */
int pool_health_init(struct pool_health *h, const struct yt_table *t);

/* Frees what pool_health_init() allocated; accepts a zeroed struct. */
void pool_health_free(struct pool_health *h);

/* The next server of pool `pool` as an index into t->servers (YT_NONE only for an empty
 * pool).
 * Smooth weighted round robin (each server is chosen weight times per total-weight picks,
 * spread out) among the normal servers that are up at now_ms; backup servers take part
 * only when no normal server is up. A server marked down counts as up again once its
 * retry time has come (unless it is checked: then its checks decide). When every server
 * is down, the one whose retry time comes first is tried: a pool is never refused without
 * a connect attempt. A server in maintenance is never chosen: YT_NONE when all are. */
uint32_t pool_pick(struct pool_health *h, uint32_t pool, uint64_t now_ms);

/* Makes pool_pick() read the active checks' states chk and the administrative words admin
 * (either may be NULL; both are kept). */
void pool_health_attach(struct pool_health *h, struct pool_check *chk, const uint32_t *admin);

/* A connect to server failed: it is down until now_ms + retry_ms; a checked server is down
 * until `rise` checks pass. Returns POOL_WENT_DOWN when that changed a checked server's
 * state. */
enum pool_change pool_mark_down(struct pool_health *h, uint32_t server, uint64_t now_ms,
                                uint32_t retry_ms);

/* A connect to server succeeded (a checked server's state is left to its checks). */
void pool_mark_up(struct pool_health *h, uint32_t server);

/* One check's result for c: `fall` failures in a row take an up server down, `rise` passes
 * in a row bring a down one up (rise, fall >= 1). Returns the change it made. */
enum pool_change pool_check_result(struct pool_check *c, bool passed, uint16_t rise,
                                   uint16_t fall);

/* Whether the administrative word of server says maintenance. */
bool pool_server_in_maint(const struct pool_health *h, uint32_t server);

/* Whether a connection already open to server may carry another request: not once the
 * server is in maintenance or its checks have it down (a failed connect elsewhere says
 * nothing about an open connection, so passive health does not count here). */
bool pool_server_may_reuse(const struct pool_health *h, uint32_t server);

#endif
