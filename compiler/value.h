/* Values of the language written as text: plain numbers and durations. Pure: bytes in,
 * a number or the reason it is none out. */
#ifndef COMPILER_VALUE_H
#define COMPILER_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits s[0..len) (at least one, nothing else) into *out; false when they are
 * not that or exceed UINT32_MAX. */
bool value_u32(const char *s, size_t len, uint32_t *out);

/* Parses a duration token's text ("5s", "250ms", "1h") into milliseconds, from 1ms to 24h.
 * Returns NULL, or why not. */
const char *value_duration(const char *text, size_t len, uint32_t *ms);

#endif
