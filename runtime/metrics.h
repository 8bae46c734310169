/* The counters of stats.h in the Prometheus text exposition format, version 0.0.4: what
 * `show metrics` on the admin socket and the `metrics` listeners answer. See
 * docs/runtime.md, "Metrics", for the families and their labels.
 *
 * Rendering is resumable: a cursor says where the next line starts, so a caller may take
 * the text in chunks of its choice (the admin socket refills its output as the peer
 * reads it) or all at once (metrics_render_all(), one growing buffer per scrape). Every
 * sample of a family follows its HELP and TYPE lines before the next family starts.
 *
 * Large tables: a family has a line per listener, pool or server, so a table with a
 * million sites would give several million lines. Up to METRICS_LIST_ALL_MAX pools and
 * servers together, all are listed; beyond, only the pools and servers that have carried
 * traffic, have been marked down or are down now (the others' counters are all 0, and
 * their pages of the counter mapping are never written). */
#ifndef RUNTIME_METRICS_H
#define RUNTIME_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_LINE_MAX 2048       /* the longest line: room that guarantees progress */
#define METRICS_LIST_ALL_MAX 1000   /* pools + servers listed even without traffic */

/* What the process knows about itself, beside the counters of stats.h. */
struct metrics_process {
    const char *version;
    double start_time;              /* seconds since the epoch */
    uint32_t workers;
    uint32_t maxconn;               /* in force, per worker */
    uint64_t now_ms;                /* the loop's monotonic ms (servers marked down until) */
    uint32_t list_all_max;          /* METRICS_LIST_ALL_MAX, or another cap (tests) */
};

/* Records the facts of this process that do not change: version, workers, and now as its
 * start time. Call once, before forking the workers. */
void metrics_init(const char *version, uint32_t workers);

/* The facts metrics_init() recorded, with the loop's time now_ms and the maxconn in force. */
struct metrics_process metrics_process_now(uint64_t now_ms, uint32_t maxconn);

/* Where rendering goes on; all zero is the start. */
struct metrics_cursor {
    uint32_t family, row, sub;
    bool in_rows;                   /* the family's HELP and TYPE lines are out */
};

/* Writes whole lines of t's metrics into out[0 .. cap) from cur on, as many as fit, and
 * moves cur past them. Borrows t and p. Returns the bytes written: 0 only when done or
 * when cap < METRICS_LINE_MAX and the next line does not fit. */
size_t metrics_render(const struct yt_table *t, const struct metrics_process *p,
                      struct metrics_cursor *cur, char *out, size_t cap);

/* Whether every line has been written. */
bool metrics_is_done(const struct metrics_cursor *cur);

/* All of t's metrics: returns owned text (not NUL-terminated) of *len bytes, or NULL
 * when memory runs out. */
char *metrics_render_all(const struct yt_table *t, const struct metrics_process *p,
                         size_t *len);

#endif
