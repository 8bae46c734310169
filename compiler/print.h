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

/* The canonical text is the head, every site's block (yt_print_site(), runtime/table.h,
 * which the runtime also runs for --print-config), then the tail with the expects. */

/* Appends the text before the sites (global, defaults, pools, listeners) to out. */
void print_config_head(struct abuf *out, const struct yt_table *t);

/* Appends the text after the sites (the expects) to out. Borrows everything. */
void print_config_tail(struct abuf *out, const struct yt_table *t,
                       const struct check_expect *expects, uint32_t expect_count);

/* A sink for the yt_print_*() functions of runtime/table.h: appends to the abuf out. */
void print_put(void *out, const char *s, size_t len);

/* Appends s[0..len) as a quoted string of the language, escaping what needs it. */
void print_string(struct abuf *out, const char *s, size_t len);

/* Appends a duration in its largest exact unit ("50s", "1h", "250ms"). */
void print_duration(struct abuf *out, uint32_t ms);

#endif
