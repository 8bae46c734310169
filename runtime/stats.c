#include "stats.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "pool.h"

/* One worker's slice: a header, then the arrays. */
struct slice_head {
    uint64_t live, accepted;
};

struct server_extra {
    uint64_t down_until_ms;         /* 0: up */
    uint64_t check_at_ms;           /* the last check's result; 0: none */
    uint32_t check_latency_us;
    uint16_t check_result;          /* enum stats_check_result */
    uint16_t check_status;
    uint16_t check_passes, check_fails;
    uint8_t check_down;             /* 1: down by its checks or a failed connect */
    uint8_t pad[3];
};

static const struct yt_table *table;
static uint8_t *map;
static size_t map_len, slice_len;
static uint32_t worker_count;
/* Connection numbers: worker + 1, then every worker_count-th, so no two workers share one. */
static uint64_t next_id = 1, id_step = 1;
static uint8_t *mine;               /* this worker's slice */
static size_t off_listeners, off_pools, off_servers, off_extra;
static uint32_t *admin_words;       /* after the slices: one per server, shared */

static size_t
round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

int
stats_init(const struct yt_table *t, uint32_t workers)
{
    size_t c = sizeof(struct stats_counters);

    table = t;
    worker_count = workers > 0 ? workers : 1;
    off_listeners = round8(sizeof(struct slice_head));
    off_pools = off_listeners + c * t->listener_count;
    off_servers = off_pools + c * t->pool_count;
    off_extra = off_servers + c * t->server_count;
    slice_len = round8(off_extra + sizeof(struct server_extra) * t->server_count);
    map_len = slice_len * worker_count + sizeof(uint32_t) * (t->server_count + 1);
    map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        map = NULL;
        errno = ENOMEM;
        return -1;
    }
    mine = map;
    admin_words = (uint32_t *)(map + slice_len * worker_count);
    return 0;
}

void
stats_fini(void)
{
    if (map != NULL)
        munmap(map, map_len);
    map = mine = NULL;
    admin_words = NULL;
}

void
stats_set_worker(uint32_t worker)
{
    if (map != NULL && worker < worker_count)
        mine = map + slice_len * worker;
    next_id = worker + 1;
    id_step = worker_count > 0 ? worker_count : 1;
}

uint64_t
stats_next_id(void)
{
    uint64_t id = next_id;

    next_id += id_step;
    return id;
}

/* Single writer per slice: a relaxed load and store, no locked instruction. Readers in
 * another process may see a value one update old, never a torn one. */
static void
add(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static struct stats_counters *
at(uint8_t *slice, size_t off, uint32_t i)
{
    return (struct stats_counters *)(slice + off) + i;
}

static struct server_extra *
extra(uint8_t *slice, uint32_t server)
{
    return (struct server_extra *)(slice + off_extra) + server;
}

static void
count(struct stats_counters *s, uint64_t in, uint64_t out, bool error)
{
    add(&s->conns, 1);
    add(&s->bytes_in, in);
    add(&s->bytes_out, out);
    if (error)
        add(&s->errors, 1);
}

void
stats_accept(const struct yt_listener *l)
{
    if (mine == NULL)
        return;
    add(&((struct slice_head *)mine)->accepted, 1);
    add(&at(mine, off_listeners, (uint32_t)(l - table->listeners))->conns, 1);
}

void
stats_set_live(uint32_t live)
{
    if (mine != NULL)
        __atomic_store_n(&((struct slice_head *)mine)->live, live, __ATOMIC_RELAXED);
}

void
stats_end(const struct yt_listener *l, uint32_t pool, uint32_t server, uint64_t bytes_in,
          uint64_t bytes_out, const char term[2])
{
    bool error = term[0] != '-';
    struct stats_counters *s;

    if (mine == NULL)
        return;
    s = at(mine, off_listeners, (uint32_t)(l - table->listeners));
    add(&s->bytes_in, bytes_in);
    add(&s->bytes_out, bytes_out);
    if (error)
        add(&s->errors, 1);
    if (pool < table->pool_count)
        count(at(mine, off_pools, pool), bytes_in, bytes_out, error);
    if (server < table->server_count)
        count(at(mine, off_servers, server), bytes_in, bytes_out, error);
}

void
stats_server_down(uint32_t server, uint64_t until_ms)
{
    if (mine == NULL || server >= table->server_count)
        return;
    add(&at(mine, off_servers, server)->down, 1);
    __atomic_store_n(&extra(mine, server)->down_until_ms, until_ms, __ATOMIC_RELAXED);
}

void
stats_server_up(uint32_t server)
{
    if (mine == NULL || server >= table->server_count)
        return;
    __atomic_store_n(&extra(mine, server)->down_until_ms, 0, __ATOMIC_RELAXED);
}

static uint64_t
load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
sum(size_t off, uint32_t i, struct stats_counters *out)
{
    memset(out, 0, sizeof(*out));
    for (uint32_t w = 0; map != NULL && w < worker_count; w++) {
        const struct stats_counters *s = at(map + slice_len * w, off, i);

        out->conns += load(&s->conns);
        out->bytes_in += load(&s->bytes_in);
        out->bytes_out += load(&s->bytes_out);
        out->errors += load(&s->errors);
        out->down += load(&s->down);
    }
}

void
stats_listener(uint32_t listener, struct stats_counters *out)
{
    sum(off_listeners, listener, out);
}

void
stats_pool(uint32_t pool, struct stats_counters *out)
{
    sum(off_pools, pool, out);
}

void
stats_server(uint32_t server, struct stats_counters *out)
{
    sum(off_servers, server, out);
}

bool
stats_server_is_down(uint32_t server, uint64_t now_ms)
{
    for (uint32_t w = 0; map != NULL && w < worker_count; w++) {
        const struct server_extra *e = extra(map + slice_len * w, server);

        if (load(&e->down_until_ms) > now_ms || __atomic_load_n(&e->check_down,
                                                                __ATOMIC_RELAXED))
            return true;
    }
    return false;
}

void
stats_server_checked(uint32_t server, const struct stats_check *c)
{
    struct server_extra *e;

    if (mine == NULL || server >= table->server_count)
        return;
    e = extra(mine, server);
    __atomic_store_n(&e->check_latency_us, c->latency_us, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check_result, (uint16_t)c->result, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check_status, c->status, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check_passes, c->passes, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check_fails, c->fails, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check_down, c->down ? 1 : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&e->check_at_ms, c->at_ms, __ATOMIC_RELEASE);
}

void
stats_server_check_down(uint32_t server, bool down)
{
    if (mine != NULL && server < table->server_count)
        __atomic_store_n(&extra(mine, server)->check_down, down ? 1 : 0, __ATOMIC_RELAXED);
}

bool
stats_server_check(uint32_t server, struct stats_check *out)
{
    const struct server_extra *latest = NULL;
    uint64_t latest_ms = 0;

    memset(out, 0, sizeof(*out));
    for (uint32_t w = 0; map != NULL && server < table->server_count && w < worker_count;
         w++) {
        const struct server_extra *e = extra(map + slice_len * w, server);
        uint64_t at = __atomic_load_n(&e->check_at_ms, __ATOMIC_ACQUIRE);

        if (at > latest_ms) {
            latest_ms = at;
            latest = e;
        }
    }
    if (latest == NULL)
        return false;
    out->at_ms = latest_ms;
    out->latency_us = __atomic_load_n(&latest->check_latency_us, __ATOMIC_RELAXED);
    out->result = __atomic_load_n(&latest->check_result, __ATOMIC_RELAXED);
    out->status = __atomic_load_n(&latest->check_status, __ATOMIC_RELAXED);
    out->passes = __atomic_load_n(&latest->check_passes, __ATOMIC_RELAXED);
    out->fails = __atomic_load_n(&latest->check_fails, __ATOMIC_RELAXED);
    out->down = __atomic_load_n(&latest->check_down, __ATOMIC_RELAXED) != 0;
    if (out->result >= STATS_CHECK_COUNT)
        out->result = STATS_CHECK_NONE;
    return true;
}

enum stats_server_state
stats_server_state(uint32_t server, uint64_t now_ms)
{
    if (admin_words != NULL && server < table->server_count &&
        (__atomic_load_n(&admin_words[server], __ATOMIC_RELAXED) & POOL_ADMIN_MAINT))
        return STATS_SERVER_MAINT;
    return stats_server_is_down(server, now_ms) ? STATS_SERVER_DOWN : STATS_SERVER_UP;
}

void
stats_server_set_maint(uint32_t server, bool maint)
{
    if (admin_words != NULL && server < table->server_count)
        __atomic_store_n(&admin_words[server], maint ? POOL_ADMIN_MAINT : 0u, __ATOMIC_RELAXED);
}

const uint32_t *
stats_server_admin_words(void)
{
    return admin_words;
}

uint64_t
stats_live(void)
{
    uint64_t n = 0;

    for (uint32_t w = 0; map != NULL && w < worker_count; w++)
        n += load(&((const struct slice_head *)(map + slice_len * w))->live);
    return n;
}

uint64_t
stats_accepted(void)
{
    uint64_t n = 0;

    for (uint32_t w = 0; map != NULL && w < worker_count; w++)
        n += load(&((const struct slice_head *)(map + slice_len * w))->accepted);
    return n;
}

const char *
stats_server_name(uint32_t server, char *out, size_t cap)
{
    uint32_t lo = 0, hi = table != NULL ? table->pool_count : 0;
    const struct yt_pool *p;
    const struct yt_server *s;

    if (cap == 0)
        return out;
    out[0] = '\0';
    if (hi == 0 || server >= table->server_count)
        return out;
    /* Pools hold their servers in order: the last pool that starts at or before it. */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (table->pools[mid].first <= server)
            lo = mid;
        else
            hi = mid;
    }
    p = &table->pools[lo];
    s = &table->servers[server];
    snprintf(out, cap, "%.*s/%.*s", (int)p->name.len, table->blob + p->name.off,
             (int)s->name.len, table->blob + s->name.off);
    return out;
}
