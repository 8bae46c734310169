/* Active health checks in the language: the `check` lines of `defaults` and of pools,
 * read and checked, then resolved per pool (the pool's own line over the defaults' over
 * the built-in values; the kind from what the pool serves) for the table. */
#ifndef COMPILER_HEALTHCK_H
#define COMPILER_HEALTHCK_H

#include "arena.h"
#include "ck.h"

/* Which options a `check` line gives (struct ck_check.set). */
enum {
    HEALTHCK_SET_INTERVAL = 1u << 0,
    HEALTHCK_SET_TIMEOUT = 1u << 1,
    HEALTHCK_SET_RISE = 1u << 2,
    HEALTHCK_SET_FALL = 1u << 3,
    HEALTHCK_SET_METHOD = 1u << 4,
    HEALTHCK_SET_PATH = 1u << 5,
    HEALTHCK_SET_HOST = 1u << 6,
    HEALTHCK_SET_STATUS = 1u << 7,
};

#define HEALTHCK_DEF_INTERVAL_MS 2000
#define HEALTHCK_DEF_RISE 2
#define HEALTHCK_DEF_FALL 3

/* The `check` line of every `defaults` block, into ck->default_check. */
void healthck_defaults(struct ck *ck);

/* Each pool's check, into its ck_pool.check: after sites and listeners are checked (the
 * kind follows what the pool serves). */
void healthck_pools(struct ck *ck);

/* The checks of the pools in table order porder (t->pools laid out): distinct records into
 * t->checks (strings appended to blob), t->pool_checks and t->default_check. */
void healthck_layout(struct ck *ck, const struct ck_pool *const *porder, struct yt_table *t,
                     struct abuf *blob);

#endif
