/* The canonical text of a configuration (`yardc --print`, and what the digest covers):
 * everything that the compiled table holds, in one fixed order and layout, with every
 * default written out, includes and domain lists expanded, comments dropped. Compiling
 * the canonical text gives the same table and the same digest. */
#ifndef COMPILER_PRINT_H
#define COMPILER_PRINT_H

#include <stdint.h>

#include "arena.h"
#include "check.h"
#include "table.h"

/* Appends the canonical text of t and its expects to out. Borrows everything. */
void print_config(struct abuf *out, const struct yt_table *t, const struct check_expect *expects,
                  uint32_t expect_count);

/* Appends s[0..len) as a quoted string of the language, escaping what needs it. */
void print_string(struct abuf *out, const char *s, size_t len);

/* Appends a duration in its largest exact unit ("50s", "1h", "250ms"). */
void print_duration(struct abuf *out, uint32_t ms);

#endif
