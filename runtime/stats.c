#include "stats.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "pool.h"

/* Writers note each SPAN bytes of rows they write to, and readers skip the rows of spans
 * that no worker ever wrote without reading them: reading a page of a shared anonymous
 * mapping allocates it, so `show stat` or a scrape over a million untouched pools would
 * otherwise make the whole mapping resident. */
#define SPAN 4096

/* One worker's slice: a header, a byte per SPAN of rows (written or not), the arrays. */
struct slice_head {
    uint64_t live, accepted;
};

/* One counter row as stored: the errors only by class (their total is the sum), so a row
 * is 72 bytes. */
struct row {
    uint64_t conns, bytes_in, bytes_out;
    uint64_t errors[STATS_ERR_CLASS_COUNT];
    uint64_t down;
    uint64_t kernel_out, kernel_in;
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
static size_t off_touched, off_listeners, off_pools, off_servers, off_extra;
static uint32_t *admin_words;       /* after the slices: one per server, shared */

static size_t
round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

int
stats_init(const struct yt_table *t, uint32_t workers)
{
    size_t c = sizeof(struct row);
    size_t rows_len = c * ((size_t)t->listener_count + t->pool_count + t->server_count) +
                      sizeof(struct server_extra) * t->server_count;

    table = t;
    worker_count = workers > 0 ? workers : 1;
    off_touched = round8(sizeof(struct slice_head));
    off_listeners = off_touched + round8(rows_len / SPAN + 1);
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

static struct row *
at(uint8_t *slice, size_t off, uint32_t i)
{
    return (struct row *)(slice + off) + i;
}

static size_t
span_of(size_t off)
{
    return off_touched + (off - off_listeners) / SPAN;
}

/* This worker's row or server_extra at off in its slice, its span noted as written. */
static void *
written(size_t off)
{
    uint8_t *t = mine + span_of(off);

    if (__atomic_load_n(t, __ATOMIC_RELAXED) == 0)
        __atomic_store_n(t, 1, __ATOMIC_RELAXED);
    return mine + off;
}

static struct row *
row_written(size_t off, uint32_t i)
{
    return written(off + sizeof(struct row) * i);
}

static struct server_extra *
extra_written(uint32_t server)
{
    return written(off_extra + sizeof(struct server_extra) * server);
}

/* Whether some worker has written in the span of off (else all there is 0). */
static bool
ever_written(size_t off)
{
    for (uint32_t w = 0; map != NULL && w < worker_count; w++)
        if (__atomic_load_n(map + slice_len * w + span_of(off), __ATOMIC_RELAXED) != 0)
            return true;
    return false;
}

/* Worker slice's server_extra of server, to read. */
static const struct server_extra *
extra(const uint8_t *slice, uint32_t server)
{
    return (const struct server_extra *)(slice + off_extra) + server;
}

enum stats_err_class
stats_err_class(char term0)
{
    switch (term0) {
    case 'C': case 'c': return STATS_ERR_CLIENT;
    case 'S': case 's': return STATS_ERR_SERVER;
    case 'R': return STATS_ERR_RESOURCE;
    default: return STATS_ERR_PROXY;
    }
}

/* Bytes, and the error of class err unless it is STATS_ERR_CLASS_COUNT (none). */
static void
count_end(struct row *s, uint64_t in, uint64_t out, enum stats_err_class err)
{
    add(&s->bytes_in, in);
    add(&s->bytes_out, out);
    if (err != STATS_ERR_CLASS_COUNT)
        add(&s->errors[err], 1);
}

void
stats_accept(const struct yt_listener *l)
{
    if (mine == NULL)
        return;
    add(&((struct slice_head *)mine)->accepted, 1);
    add(&row_written(off_listeners, (uint32_t)(l - table->listeners))->conns, 1);
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
    enum stats_err_class err = term[0] != '-' ? stats_err_class(term[0]) : STATS_ERR_CLASS_COUNT;

    if (mine == NULL)
        return;
    count_end(row_written(off_listeners, (uint32_t)(l - table->listeners)), bytes_in,
              bytes_out, err);
    if (pool < table->pool_count) {
        add(&row_written(off_pools, pool)->conns, 1);
        count_end(row_written(off_pools, pool), bytes_in, bytes_out, err);
    }
    if (server < table->server_count) {
        add(&row_written(off_servers, server)->conns, 1);
        count_end(row_written(off_servers, server), bytes_in, bytes_out, err);
    }
}

void
stats_kernel(const struct yt_listener *l, uint64_t out, uint64_t in)
{
    struct row *r;

    if (mine == NULL || (out == 0 && in == 0))
        return;
    r = row_written(off_listeners, (uint32_t)(l - table->listeners));
    add(&r->kernel_out, out);
    add(&r->kernel_in, in);
}

void
stats_server_down(uint32_t server, uint64_t until_ms)
{
    if (mine == NULL || server >= table->server_count)
        return;
    add(&row_written(off_servers, server)->down, 1);
    __atomic_store_n(&extra_written(server)->down_until_ms, until_ms, __ATOMIC_RELAXED);
}

void
stats_server_up(uint32_t server)
{
    if (mine == NULL || server >= table->server_count)
        return;
    __atomic_store_n(&extra_written(server)->down_until_ms, 0, __ATOMIC_RELAXED);
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
    if (!ever_written(off + sizeof(struct row) * i))
        return;
    for (uint32_t w = 0; map != NULL && w < worker_count; w++) {
        const struct row *s = at(map + slice_len * w, off, i);

        out->conns += load(&s->conns);
        out->bytes_in += load(&s->bytes_in);
        out->bytes_out += load(&s->bytes_out);
        for (int k = 0; k < STATS_ERR_CLASS_COUNT; k++) {
            uint64_t e = load(&s->errors[k]);

            out->errors_by_class[k] += e;
            out->errors += e;
        }
        out->down += load(&s->down);
        out->bytes_kernel_out += load(&s->kernel_out);
        out->bytes_kernel_in += load(&s->kernel_in);
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
    if (!ever_written(off_extra + sizeof(struct server_extra) * server))
        return false;
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
    e = extra_written(server);
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
        __atomic_store_n(&extra_written(server)->check_down, down ? 1 : 0, __ATOMIC_RELAXED);
}

bool
stats_server_check(uint32_t server, struct stats_check *out)
{
    const struct server_extra *latest = NULL;
    uint64_t latest_ms = 0;

    memset(out, 0, sizeof(*out));
    if (map == NULL || server >= table->server_count ||
        !ever_written(off_extra + sizeof(struct server_extra) * server))
        return false;
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

uint32_t
stats_maint_names(char *out, size_t cap)
{
    char name[256];
    size_t len = 0;
    uint32_t n = 0;

    if (cap > 0)
        out[0] = '\0';
    for (uint32_t i = 0; admin_words != NULL && i < table->server_count; i++) {
        size_t k;

        if (!(__atomic_load_n(&admin_words[i], __ATOMIC_RELAXED) & POOL_ADMIN_MAINT))
            continue;
        k = strlen(stats_server_name(i, name, sizeof(name)));
        if (len + k + 2 > cap)
            break;
        memcpy(out + len, name, k);
        len += k;
        out[len++] = '\n';
        out[len] = '\0';
        n++;
    }
    return n;
}

uint32_t
stats_maint_restore(const char *list, uint32_t *missing)
{
    char name[256];
    uint32_t found = 0;

    *missing = 0;
    while (admin_words != NULL && *list != '\0') {
        const char *end = strchr(list, '\n');
        size_t len = end != NULL ? (size_t)(end - list) : strlen(list);
        bool hit = false;

        for (uint32_t i = 0; i < table->server_count && !hit; i++) {
            stats_server_name(i, name, sizeof(name));
            if (strlen(name) == len && memcmp(name, list, len) == 0) {
                stats_server_set_maint(i, true);
                hit = true;
            }
        }
        if (len > 0) {
            found += hit;
            *missing += !hit;
        }
        list += len + (end != NULL);
    }
    return found;
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
