/* Diagnostics in the gcc format, and the source texts they point into.
 *
 *     sites.yard:4:27: error: backends are IPv6 addresses in brackets, e.g. [2001:db8::1]:443, not host names
 *         tls web1.internal:443;
 *             ^~~~~~~~~~~~~
 *
 * Every source (the main file, included files, domain lists, error page files) is
 * registered once; a location is (source, byte offset, byte length), and the line and
 * column are worked out only when a diagnostic is printed, from a line index built on
 * first use. After DIAG_MAX_ERRORS errors diag stops printing and diag_is_stopped() tells
 * the passes to give up. */
#ifndef COMPILER_DIAG_H
#define COMPILER_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"

#define DIAG_MAX_ERRORS 20
#define DIAG_NO_SOURCE UINT32_MAX

/* A span of a source: what every token and AST node carries. */
struct loc {
    uint32_t src;                   /* index of the source, or DIAG_NO_SOURCE */
    uint32_t off, len;              /* bytes text[off .. off + len) */
};

struct diag_source {
    const char *name;               /* as given on the command line or built from it */
    const char *text;               /* NUL-terminated; text[len] == '\0' */
    uint32_t len;
    uint32_t *lines;                /* start offset of each line, built on first use */
    uint32_t line_count;
};

enum diag_warning {
    DIAG_W_SHADOWED = 0,            /* a site adds nothing to the wildcard that covers it */
    DIAG_W_UNUSED,                  /* a named pool that nothing uses */
    DIAG_W_IGNORED,                 /* yardc import: an HAProxy line without a meaning here */
    DIAG_W_COUNT
};

struct diag {
    struct arena *arena;
    FILE *out;                      /* stderr, or any stream; NULL prints nothing */
    struct diag_source *sources;
    uint32_t source_count, source_cap;
    unsigned errors, warnings;
    bool werror;                    /* warnings count as errors */
    bool enabled[DIAG_W_COUNT];
    bool stopped;                   /* the error limit was reached */
    bool last_shown;                /* notes follow the fate of their error or warning */
};

/* Borrows arena (keeps it) and out (keeps it; may be NULL). All warnings on. */
void diag_init(struct diag *d, struct arena *arena, FILE *out);

/* Registers text[0..len) (keeps name and text; text[len] must be '\0') and returns its
 * source index. */
uint32_t diag_add_source(struct diag *d, const char *name, const char *text, uint32_t len);
const struct diag_source *diag_source(const struct diag *d, uint32_t src);
/* The text of a location (not NUL-terminated). */
const char *diag_text(const struct diag *d, struct loc loc);

/* Sets a warning switch by name ("shadowed"); returns false for an unknown name. */
bool diag_set_warning(struct diag *d, const char *name, bool on);
const char *diag_warning_name(enum diag_warning w);

void diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns true when the warning was enabled (so the caller may add notes). */
bool diag_warning(struct diag *d, enum diag_warning w, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A note about the diagnostic just reported; dropped when that one was not shown. */
void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool diag_is_stopped(const struct diag *d);
/* Says so when the error limit cut the run short; call once at the end. */
void diag_finish(struct diag *d);
/* 1-based line and byte column of an offset. */
void diag_line_col(struct diag *d, uint32_t src, uint32_t off, uint32_t *line, uint32_t *col);

#endif
