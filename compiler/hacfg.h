/* HAProxy configuration files, read line by line as HAProxy reads them, for
 * `yardc import`.
 *
 * A line is words separated by spaces and tabs; `#` outside quotes ends it. A word may
 * hold "double-quoted" parts (with backslash escapes) and 'single-quoted' parts (taken
 * as they are); outside quotes a backslash escapes the next character (`\ `, `\#`,
 * `\\`, `\"`, `\'`) or writes one (`\r`, `\n`, `\t`, `\xHH`). Refused, with an error at
 * the byte: an unterminated quote, an unknown escape, a NUL byte (also as `\x00`), an
 * environment variable in double quotes (its value is not known when translating),
 * more than HACFG_MAX_WORDS words. Sections start with a line whose first word is a section
 * keyword (`global`, `defaults`, `frontend`, `backend`, `listen`, ...). */
#ifndef COMPILER_HACFG_H
#define COMPILER_HACFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"

#define HACFG_MAX_WORDS 64

struct hacfg_line {
    struct loc loc;                     /* the line without its end, first to last word */
    uint32_t count;                     /* words; 0 at the end of the source */
    struct loc at[HACFG_MAX_WORDS];     /* where each word is, quotes included */
    const char *word[HACFG_MAX_WORDS];  /* each word unquoted, NUL-terminated, in the arena */
};

/* Reads the next line holding words from source src of d, from *pos on (start at 0),
 * into *out, and advances *pos. Returns true with a line, false at the end of the
 * source. A line with a lexical error is reported and skipped (d->errors grows).
 * Words live in arena. */
bool hacfg_next(struct diag *d, struct arena *arena, uint32_t src, uint32_t *pos,
                struct hacfg_line *out);

/* True when word (NUL-terminated) starts a section of an HAProxy configuration. */
bool hacfg_is_section(const char *word);

/* True when text[0..len) reads as an HAProxy configuration rather than a .yard file:
 * its first line holding something starts with a section keyword and neither it nor
 * the next such line holds `{` or `;`. *at, *at_len span that keyword. */
bool hacfg_looks_like(const char *text, size_t len, size_t *at, size_t *at_len);

#endif
