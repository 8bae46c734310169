/* The pure parts of the log lines: the RFC 5424 header, JSON strings of peer bytes, the
 * journald stream check's variable, the cut of a datagram. Bytes in, bytes out: no I/O,
 * no allocation, no globals, so that each is unit-tested and fuzzed alone. */
#ifndef RUNTIME_LOGFMT_H
#define RUNTIME_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What an RFC 5424 header says besides the message. */
struct logfmt_head {
    unsigned pri;                   /* facility * 8 + severity, at most 191 */
    time_t sec;                     /* the time, UTC */
    long usec;                      /* 0 .. 999999 */
    const char *host;               /* NUL-terminated; "" for none */
    const char *app;                /* NUL-terminated; "" for none */
    int pid;
    const char *msgid;              /* NUL-terminated; NULL or "" for none */
};

#define LOGFMT_FIELD_MAX 48         /* HOSTNAME, APP-NAME, MSGID: at most this many bytes */
#define LOGFMT_HEAD_MAX (5 + 2 + 32 + 3 * (LOGFMT_FIELD_MAX + 1) + 12 + 3)

/* Writes "<PRI>1 2026-12-04T11:34:22.123456Z HOST APP PID MSGID - " (RFC 5424 §6: version
 * 1, an RFC 3339 timestamp in UTC with microseconds, no structured data) to out, which
 * holds at least LOGFMT_HEAD_MAX bytes; no NUL. A field that is empty is written "-";
 * bytes outside printable US-ASCII (§6: PRINTUSASCII) become '_', fields are cut at
 * LOGFMT_FIELD_MAX bytes. Borrows h. Returns the length written. */
size_t logfmt_rfc5424_head(char *out, const struct logfmt_head *h);

/* The room logfmt_json_str() needs for max input bytes. */
#define LOGFMT_JSON_STR_MAX(max) (6 * (size_t)(max) + 5)

/* Writes in[0 .. len) as a JSON string, quotes included (RFC 8259 §7): '"' and '\\'
 * escaped, control characters and DEL as \u00XX, valid UTF-8 as it is, any byte that does
 * not start or continue a valid UTF-8 sequence (overlong forms, surrogates and code points
 * past U+10FFFF included) as \ufffd. At most max input bytes are written, then "...".
 * Borrows in; out holds LOGFMT_JSON_STR_MAX(max) bytes; no NUL. Returns the length. */
size_t logfmt_json_str(char *out, const void *in, size_t len, size_t max);

/* Parses journald's JOURNAL_STREAM, "DEV:INO" in decimal (systemd.exec(5)). Borrows s
 * (NUL-terminated, may be NULL). Returns false for anything else, overflow included. */
bool logfmt_journal_stream(const char *s, uint64_t *dev, uint64_t *ino);

/* Writes v in decimal to out (20 bytes at most, no NUL); returns the digits written. */
size_t logfmt_u64(char *out, uint64_t v);

/* Cuts a message of len bytes to at most max (> 3) bytes, the last three "..." to say so
 * (RFC 5426 §3.2 allows truncation). Returns the new length. */
size_t logfmt_cut(char *msg, size_t len, size_t max);

#endif
