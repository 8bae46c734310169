/* Log lines to stderr or syslog, never blocking the event loop.
 *
 * Every line starts with the time in ISO 8601 UTC with milliseconds (an RFC 5424 header
 * carries it there instead; a JSON line inside). Lines go out with
 * non-blocking writes; what the sink cannot take now waits in a bounded queue, flushed
 * when the sink is writable; beyond that lines are dropped and counted. */
#ifndef RUNTIME_LOG_H
#define RUNTIME_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

struct ev_loop;

/* Severities, as syslog numbers them (RFC 5424 §6.2.1). */
enum log_level {
    LOG_LEVEL_ERR = 3,
    LOG_LEVEL_WARNING = 4,
    LOG_LEVEL_NOTICE = 5,
    LOG_LEVEL_INFO = 6,
};

#define LOG_LINE_MAX 1024   /* longer lines are cut */
#define LOG_PEER_MAX 64     /* peer bytes in a line: at most this many, escaped */
#define LOG_WHOLE_MAX 800   /* a message this long is never cut, whatever the header */

/* Opens the sinks of t->logs (stderr when the table has none). Keeps t. Call before
 * chroot: a syslog socket path is resolved here. Returns 0, or -1 with the reason printed
 * to stderr. */
int log_open(const struct yt_table *t);

/* Flushes queued lines from loop (keeps loop). Before this, lines are written or queued. */
void log_start(struct ev_loop *loop);

/* Stops the watchers, gives queued lines one last short chance, restores stderr. */
void log_close(void);

/* Formats one line at level and hands it to every sink that takes that level. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands one access line text[0 .. len) to every sink at level info, with the message id
 * "access" in RFC 5424 headers; json: an object that carries its own time (no ISO time
 * first). Borrows text. */
void log_access(const char *text, size_t len, bool json);

/* Lines dropped so far because a sink's queue was full or the sink was gone. */
uint64_t log_dropped(void);

/* Writes in[0 .. len) to out for a log line: printable ASCII other than '\\', '"' and
 * space as is, anything else as \xHH; at most LOG_PEER_MAX input bytes, then "...".
 * Borrows in; out must hold 4 * LOG_PEER_MAX + 4 bytes. Returns out. */
char *log_escape(char *out, const void *in, size_t len);

/* Writes the current time as "2025-01-31T12:34:56.789Z" to out (at least 32 bytes). */
void log_time_iso(char *out);

#endif
