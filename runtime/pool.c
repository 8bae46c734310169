#include "pool.h"

#include <stdbool.h>
#include <stdlib.h>

int
pool_health_init(struct pool_health *h, const struct yt_table *t)
{
    h->t = t;
    h->chk = NULL;
    h->admin = NULL;
    h->srv = calloc(t->server_count ? t->server_count : 1, sizeof(*h->srv));
    return h->srv != NULL ? 0 : -1;
}

void
pool_health_free(struct pool_health *h)
{
    free(h->srv);
    h->srv = NULL;
}

void
pool_health_attach(struct pool_health *h, struct pool_check *chk, const uint32_t *admin)
{
    h->chk = chk;
    h->admin = admin;
}

bool
pool_server_in_maint(const struct pool_health *h, uint32_t server)
{
    return h->admin != NULL &&
           (__atomic_load_n(&h->admin[server], __ATOMIC_RELAXED) & POOL_ADMIN_MAINT) != 0;
}

static bool
is_checked(const struct pool_health *h, uint32_t server)
{
    return h->chk != NULL && h->chk[server].checked;
}

bool
pool_server_may_reuse(const struct pool_health *h, uint32_t server)
{
    return !pool_server_in_maint(h, server) && !(is_checked(h, server) && h->chk[server].down);
}

/* Whether server may get a new connection at now_ms. */
static bool
is_up(const struct pool_health *h, uint32_t server, uint64_t now_ms)
{
    if (pool_server_in_maint(h, server))
        return false;
    if (is_checked(h, server))
        return !h->chk[server].down;
    return h->srv[server].down_until_ms <= now_ms;
}

/* Smooth weighted round robin over the servers of the pool that are up and in the wanted
 * group (normal or backup): every candidate earns its weight, the richest is chosen and
 * pays the total. Returns YT_NONE when the group has no server up. */
static uint32_t
pick_group(struct pool_health *h, const struct yt_pool *p, uint64_t now_ms, bool backup)
{
    uint32_t best = YT_NONE;
    int32_t total = 0;

    for (uint32_t i = p->first; i < p->first + p->count; i++) {
        const struct yt_server *s = &h->t->servers[i];
        struct pool_server *ps = &h->srv[i];

        if (((s->flags & YT_SERVER_BACKUP) != 0) != backup || !is_up(h, i, now_ms))
            continue;
        ps->current += s->weight;
        total += s->weight;
        if (best == YT_NONE || ps->current > h->srv[best].current)
            best = i;
    }
    if (best != YT_NONE)
        h->srv[best].current -= total;
    return best;
}

uint32_t
pool_pick(struct pool_health *h, uint32_t pool, uint64_t now_ms)
{
    const struct yt_pool *p = &h->t->pools[pool];
    uint32_t s = pick_group(h, p, now_ms, false);
    uint32_t soonest = YT_NONE;

    if (s == YT_NONE)
        s = pick_group(h, p, now_ms, true);
    if (s != YT_NONE)
        return s;
    /* Every server is down. Refusing outright would turn one failed connect into an
     * outage of retry_ms; try the server whose retry time comes first instead. */
    for (uint32_t i = p->first; i < p->first + p->count; i++)
        if (!pool_server_in_maint(h, i) &&
            (soonest == YT_NONE || h->srv[i].down_until_ms < h->srv[soonest].down_until_ms))
            soonest = i;
    return soonest;
}

enum pool_change
pool_mark_down(struct pool_health *h, uint32_t server, uint64_t now_ms, uint32_t retry_ms)
{
    struct pool_server *ps = &h->srv[server];
    struct pool_check *c;

    ps->fails++;
    ps->down_until_ms = now_ms + (retry_ms ? retry_ms : 1);
    ps->current = 0;
    if (!is_checked(h, server))
        return POOL_SAME;
    c = &h->chk[server];
    c->passes = 0;
    if (c->down)
        return POOL_SAME;
    c->down = 1;
    return POOL_WENT_DOWN;
}

void
pool_mark_up(struct pool_health *h, uint32_t server)
{
    h->srv[server].fails = 0;
    h->srv[server].down_until_ms = 0;
}

enum pool_change
pool_check_result(struct pool_check *c, bool passed, uint16_t rise, uint16_t fall)
{
    if (passed) {
        c->fails = 0;
        if (c->passes < UINT16_MAX)
            c->passes++;
        if (c->down && c->passes >= rise) {
            c->down = 0;
            return POOL_WENT_UP;
        }
        return POOL_SAME;
    }
    c->passes = 0;
    if (c->fails < UINT16_MAX)
        c->fails++;
    if (!c->down && c->fails >= fall) {
        c->down = 1;
        return POOL_WENT_DOWN;
    }
    return POOL_SAME;
}
