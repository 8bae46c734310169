/* Error pages: the complete HTTP/1.1 responses the proxy sends for its own answers
 * (503 for an unknown Host, 400 for a bad request ...). Built-in pages exist for the
 * statuses the proxy can produce; the configuration may replace any of them and add
 * others, with a body (wrapped here in a response) or a whole response (checked here). */
#ifndef COMPILER_ERRPAGE_H
#define COMPILER_ERRPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* The statuses with a built-in page, ascending. */
extern const uint16_t errpage_builtin_statuses[];
extern const size_t errpage_builtin_count;

/* The reason phrase of a status ("Service Unavailable"), "Error" when unknown. */
const char *errpage_reason(uint16_t status);

/* The built-in response for status, in the arena; NULL when there is none. */
char *errpage_builtin(struct arena *arena, uint16_t status, size_t *len);

/* A response around body[0..len): status line, Content-Type: text/html, Content-Length,
 * Connection: close, then the body. In the arena. */
char *errpage_wrap(struct arena *arena, uint16_t status, const char *body, size_t len,
                   size_t *out_len);

/* True when data starts like a whole response ("HTTP/1."). */
int errpage_is_response(const char *data, size_t len);

/* Checks a whole response for status: status line "HTTP/1.0|1.1 <status> reason", header
 * lines, an empty line, CRLF line ends; a Content-Length must match the body, and without
 * one the response must say "Connection: close". Returns NULL when valid, else a message
 * with *bad_off the offset of the problem in data. */
const char *errpage_check(uint16_t status, const char *data, size_t len, size_t *bad_off);

#endif
