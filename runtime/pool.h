/* Server choice and passive health for the table's pools. Pure: the caller passes the
 * time; no I/O, no globals. */
#ifndef RUNTIME_POOL_H
#define RUNTIME_POOL_H

#include <stdint.h>

#include "table.h"

struct pool_server {
    int32_t current;                /* smooth weighted round robin credit */
    uint32_t fails;                 /* consecutive failures */
    uint64_t down_until_ms;         /* marked down until then; 0 when up */
};

struct pool_health {
    const struct yt_table *t;       /* keeps */
    struct pool_server *srv;        /* one per t->servers[] */
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
 * retry time has come. When every server is down, the one whose retry time comes first
 * is tried: a pool is never refused without a connect attempt. */
uint32_t pool_pick(struct pool_health *h, uint32_t pool, uint64_t now_ms);

/* A connect to server failed: it is down until now_ms + retry_ms. */
void pool_mark_down(struct pool_health *h, uint32_t server, uint64_t now_ms, uint32_t retry_ms);

/* A connect to server succeeded. */
void pool_mark_up(struct pool_health *h, uint32_t server);

#endif
