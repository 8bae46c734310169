#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

enum scope { SCOPE_PROCESS = 0, SCOPE_LISTENER, SCOPE_POOL, SCOPE_SERVER };

/* What a sample's value is. */
enum field {
    F_INFO = 0, F_START_TIME, F_WORKERS, F_MAXCONN, F_LIVE, F_ACCEPTED,
    F_CONNS, F_BYTES_IN, F_BYTES_OUT, F_BYTES_KERNEL_OUT, F_BYTES_KERNEL_IN, F_ERRORS, F_DOWN, F_UP,
};

struct family {
    const char *name, *type, *help;
    enum scope scope;
    enum field field;
};

/* The order of the output. Counters end in _total (the format's convention). */
static const struct family families[] = {
    { "switchyard_info", "gauge", "Version and configuration digest of the running binary",
      SCOPE_PROCESS, F_INFO },
    { "switchyard_start_time_seconds", "gauge", "Start time of the process since the epoch",
      SCOPE_PROCESS, F_START_TIME },
    { "switchyard_workers", "gauge", "Worker processes", SCOPE_PROCESS, F_WORKERS },
    { "switchyard_maxconn", "gauge", "Connections each worker accepts at most (in force)",
      SCOPE_PROCESS, F_MAXCONN },
    { "switchyard_current_connections", "gauge", "Connections open now, all workers",
      SCOPE_PROCESS, F_LIVE },
    { "switchyard_connections_total", "counter", "Connections accepted, all listeners",
      SCOPE_PROCESS, F_ACCEPTED },
    { "switchyard_listener_connections_total", "counter", "Connections accepted",
      SCOPE_LISTENER, F_CONNS },
    { "switchyard_listener_bytes_in_total", "counter", "Bytes received from clients",
      SCOPE_LISTENER, F_BYTES_IN },
    { "switchyard_listener_bytes_out_total", "counter", "Bytes sent to clients",
      SCOPE_LISTENER, F_BYTES_OUT },
    { "switchyard_listener_kernel_bytes_in_total", "counter",
      "Of the bytes received from clients, those the kernel relay moved", SCOPE_LISTENER,
      F_BYTES_KERNEL_IN },
    { "switchyard_listener_kernel_bytes_out_total", "counter",
      "Of the bytes sent to clients, those the kernel relay moved", SCOPE_LISTENER,
      F_BYTES_KERNEL_OUT },
    { "switchyard_listener_errors_total", "counter",
      "Connections (layer 4) or requests (layer 7) that ended in error, by termination class",
      SCOPE_LISTENER, F_ERRORS },
    { "switchyard_pool_sessions_total", "counter",
      "Layer-4 connections and layer-7 requests sent to the pool", SCOPE_POOL, F_CONNS },
    { "switchyard_pool_bytes_in_total", "counter",
      "Bytes received from clients for the pool", SCOPE_POOL, F_BYTES_IN },
    { "switchyard_pool_bytes_out_total", "counter",
      "Bytes sent to clients from the pool", SCOPE_POOL, F_BYTES_OUT },
    { "switchyard_pool_errors_total", "counter",
      "Sessions of the pool that ended in error, by termination class", SCOPE_POOL, F_ERRORS },
    { "switchyard_pool_up", "gauge", "1 while a server of the pool is up, else 0",
      SCOPE_POOL, F_UP },
    { "switchyard_server_sessions_total", "counter",
      "Layer-4 connections and layer-7 requests sent to the server", SCOPE_SERVER, F_CONNS },
    { "switchyard_server_bytes_in_total", "counter",
      "Bytes received from clients for the server", SCOPE_SERVER, F_BYTES_IN },
    { "switchyard_server_bytes_out_total", "counter",
      "Bytes sent to clients from the server", SCOPE_SERVER, F_BYTES_OUT },
    { "switchyard_server_errors_total", "counter",
      "Sessions of the server that ended in error, by termination class", SCOPE_SERVER,
      F_ERRORS },
    { "switchyard_server_up", "gauge",
      "1 while the server is up, 0 while it is down (checks, a failed connect) or in maintenance",
      SCOPE_SERVER, F_UP },
    { "switchyard_server_marked_down_total", "counter",
      "Times a failed connect marked the server down", SCOPE_SERVER, F_DOWN },
};

#define FAMILY_COUNT (sizeof(families) / sizeof(families[0]))

static struct metrics_process facts = { .version = "", .workers = 1 };

void
metrics_init(const char *version, uint32_t workers)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    facts.version = version;
    facts.workers = workers > 0 ? workers : 1;
    facts.start_time = (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct metrics_process
metrics_process_now(uint64_t now_ms, uint32_t maxconn)
{
    struct metrics_process p = facts;

    p.now_ms = now_ms;
    p.maxconn = maxconn;
    p.list_all_max = METRICS_LIST_ALL_MAX;
    return p;
}

/* Output into out[0 .. cap), line by line: a line that does not fit is taken back whole. */
struct w {
    char *out;
    size_t cap, len, line_start;
    bool full;
};

static void
put(struct w *w, const char *s, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

static void
puts_(struct w *w, const char *s)
{
    put(w, s, strlen(s));
}

static void
put_u64(struct w *w, uint64_t v)
{
    char d[24];
    int n = snprintf(d, sizeof(d), "%" PRIu64, v);

    put(w, d, (size_t)n);
}

/* A label value, escaped as the format asks: backslash, double quote and line feed. */
static void
put_label_value(struct w *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\': put(w, "\\\\", 2); break;
        case '"': put(w, "\\\"", 2); break;
        case '\n': put(w, "\\n", 2); break;
        default: put(w, s + i, 1); break;
        }
    }
}

static void
put_label(struct w *w, bool first, const char *name, const char *s, size_t n)
{
    if (!first)
        put(w, ",", 1);
    puts_(w, name);
    put(w, "=\"", 2);
    put_label_value(w, s, n);
    put(w, "\"", 1);
}

static void
put_name_label(struct w *w, const struct yt_table *t, bool first, const char *label,
               struct yt_str s)
{
    put_label(w, first, label, t->blob + s.off, s.len);
}

/* Ends a line; one that did not fit is taken back, and the rest waits for the next call. */
static bool
end_line(struct w *w)
{
    put(w, "\n", 1);
    if (w->full) {
        w->len = w->line_start;
        return false;
    }
    w->line_start = w->len;
    return true;
}

/* ---- what the counters say ---- */

/* The one place a server's state becomes a value: 1 up, 0 down or in maintenance. */
static uint64_t
server_up(uint32_t server, const struct metrics_process *p)
{
    return stats_server_state(server, p->now_ms) == STATS_SERVER_UP;
}

static uint64_t
pool_up(const struct yt_table *t, uint32_t pool, const struct metrics_process *p)
{
    const struct yt_pool *pl = &t->pools[pool];

    for (uint32_t i = pl->first; i < pl->first + pl->count; i++)
        if (server_up(i, p))
            return 1;
    return 0;
}

static bool
list_all(const struct yt_table *t, const struct metrics_process *p)
{
    return (uint64_t)t->pool_count + t->server_count <= p->list_all_max;
}

static bool
server_listed(const struct yt_table *t, uint32_t server, const struct metrics_process *p)
{
    struct stats_counters c;

    if (list_all(t, p))
        return true;
    stats_server(server, &c);
    return c.conns > 0 || c.down > 0 || server_up(server, p) == 0;
}

static bool
pool_listed(const struct yt_table *t, uint32_t pool, const struct metrics_process *p)
{
    const struct yt_pool *pl = &t->pools[pool];
    struct stats_counters c;

    if (list_all(t, p))
        return true;
    stats_pool(pool, &c);
    for (uint32_t i = pl->first; c.conns == 0 && i < pl->first + pl->count; i++)
        if (server_listed(t, i, p))
            return true;
    return c.conns > 0;
}

/* The pool a server belongs to (pools hold consecutive servers, in order). */
static uint32_t
pool_of(const struct yt_table *t, uint32_t server)
{
    uint32_t lo = 0, hi = t->pool_count;

    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (t->pools[mid].first <= server)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t
rows_of(const struct yt_table *t, enum scope scope)
{
    switch (scope) {
    case SCOPE_LISTENER: return t->listener_count;
    case SCOPE_POOL: return t->pool_count;
    case SCOPE_SERVER: return t->server_count;
    case SCOPE_PROCESS:
    default: return 1;
    }
}

static bool
row_listed(const struct yt_table *t, enum scope scope, uint32_t row,
           const struct metrics_process *p)
{
    return scope == SCOPE_POOL ? pool_listed(t, row, p) :
           scope == SCOPE_SERVER ? server_listed(t, row, p) : true;
}

static void
counters_of(enum scope scope, uint32_t row, struct stats_counters *c)
{
    if (scope == SCOPE_LISTENER)
        stats_listener(row, c);
    else if (scope == SCOPE_POOL)
        stats_pool(row, c);
    else
        stats_server(row, c);
}

static void
put_row_labels(struct w *w, const struct yt_table *t, enum scope scope, uint32_t row)
{
    if (scope == SCOPE_LISTENER) {
        put_name_label(w, t, true, "listener", t->listeners[row].name);
    } else if (scope == SCOPE_POOL) {
        put_name_label(w, t, true, "pool", t->pools[row].name);
    } else {
        put_name_label(w, t, true, "pool", t->pools[pool_of(t, row)].name);
        put_name_label(w, t, false, "server", t->servers[row].name);
    }
}

static void
process_sample(struct w *w, const struct yt_table *t, const struct family *f,
               const struct metrics_process *p)
{
    char num[80];

    puts_(w, f->name);
    switch (f->field) {
    case F_INFO:
        put(w, "{", 1);
        put_label(w, true, "version", p->version, strlen(p->version));
        snprintf(num, sizeof(num), "sha256:%s", t->digest);
        put_label(w, false, "config_digest", num, strlen(num));
        puts_(w, "} 1");
        break;
    case F_START_TIME:
        snprintf(num, sizeof(num), " %.3f", p->start_time);
        puts_(w, num);
        break;
    default:
        put(w, " ", 1);
        put_u64(w, f->field == F_WORKERS ? p->workers : f->field == F_MAXCONN ? p->maxconn :
                   f->field == F_LIVE ? stats_live() : stats_accepted());
        break;
    }
}

/* One sample of a listener, pool or server family; sub is the error class (F_ERRORS). */
static void
row_sample(struct w *w, const struct yt_table *t, const struct family *f, uint32_t row,
           uint32_t sub, const struct metrics_process *p)
{
    struct stats_counters c;
    uint64_t v;

    counters_of(f->scope, row, &c);
    switch (f->field) {
    case F_CONNS: v = c.conns; break;
    case F_BYTES_IN: v = c.bytes_in; break;
    case F_BYTES_OUT: v = c.bytes_out; break;
    case F_BYTES_KERNEL_OUT: v = c.bytes_kernel_out; break;
    case F_BYTES_KERNEL_IN: v = c.bytes_kernel_in; break;
    case F_ERRORS: v = c.errors_by_class[sub]; break;
    case F_DOWN: v = c.down; break;
    case F_UP: v = f->scope == SCOPE_POOL ? pool_up(t, row, p) : server_up(row, p); break;
    default: v = 0; break;
    }
    puts_(w, f->name);
    put(w, "{", 1);
    put_row_labels(w, t, f->scope, row);
    if (f->field == F_ERRORS)
        put_label(w, false, "class", stats_err_class_names[sub],
                  strlen(stats_err_class_names[sub]));
    put(w, "} ", 2);
    put_u64(w, v);
}

/* Moves cur to the next sample of its family, or to the next family. */
static void
advance(const struct yt_table *t, struct metrics_cursor *cur)
{
    const struct family *f = &families[cur->family];

    if (f->field == F_ERRORS && ++cur->sub < STATS_ERR_CLASS_COUNT)
        return;
    cur->sub = 0;
    if (++cur->row < rows_of(t, f->scope))
        return;
    cur->row = 0;
    cur->in_rows = false;
    cur->family++;
}

size_t
metrics_render(const struct yt_table *t, const struct metrics_process *p,
               struct metrics_cursor *cur, char *out, size_t cap)
{
    struct w w = { .out = out, .cap = cap };

    while (cur->family < FAMILY_COUNT) {
        const struct family *f = &families[cur->family];

        if (!cur->in_rows) {
            size_t head = w.len;

            puts_(&w, "# HELP ");
            puts_(&w, f->name);
            put(&w, " ", 1);
            puts_(&w, f->help);
            if (!end_line(&w))
                break;
            puts_(&w, "# TYPE ");
            puts_(&w, f->name);
            put(&w, " ", 1);
            puts_(&w, f->type);
            if (!end_line(&w)) {
                w.len = w.line_start = head;    /* HELP and TYPE go together */
                break;
            }
            cur->in_rows = true;
            if (rows_of(t, f->scope) == 0) {
                advance(t, cur);
                continue;
            }
        }
        if (f->scope != SCOPE_PROCESS && cur->sub == 0 && !row_listed(t, f->scope, cur->row, p)) {
            cur->sub = STATS_ERR_CLASS_COUNT;   /* skips every class of the row */
            advance(t, cur);
            continue;
        }
        if (f->scope == SCOPE_PROCESS)
            process_sample(&w, t, f, p);
        else
            row_sample(&w, t, f, cur->row, cur->sub, p);
        if (!end_line(&w))
            break;
        advance(t, cur);
    }
    return w.len;
}

bool
metrics_is_done(const struct metrics_cursor *cur)
{
    return cur->family >= FAMILY_COUNT;
}

char *
metrics_render_all(const struct yt_table *t, const struct metrics_process *p, size_t *len)
{
    struct metrics_cursor cur = { 0 };
    size_t cap = 16384, n = 0;
    char *out = malloc(cap);

    while (out != NULL) {
        n += metrics_render(t, p, &cur, out + n, cap - n);
        if (metrics_is_done(&cur)) {
            *len = n;
            return out;
        }
        /* The next line did not fit. */
        char *o = realloc(out, cap * 2);

        if (o == NULL)
            break;
        out = o;
        cap *= 2;
    }
    free(out);
    return NULL;
}
