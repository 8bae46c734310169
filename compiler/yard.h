/* The compiler's pipeline in one call: load (and parse) → check → lay the table out →
 * print the canonical text → its digest → the perfect hash → evaluate the expects. Used by
 * the command line (main.c) and the fuzzer, which runs it on a buffer with file access
 * off; the emitter then writes the result. */
#ifndef COMPILER_YARD_H
#define COMPILER_YARD_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "ast.h"
#include "check.h"
#include "ck.h"
#include "diag.h"
#include "load.h"

enum yard_status {
    YARD_OK = 0,                        /* valid: result filled */
    YARD_INPUT_ERRORS = 1,              /* errors in the input were reported */
    YARD_IO_ERROR = 2,                  /* the main file could not be read */
};

struct yard {
    struct arena arena;
    struct arena tree_arena;            /* the syntax tree, freed once checked */
    struct diag diag;
    struct ast ast;
    struct load load;
    struct ck ck;                       /* the checker's state, for the stages after it */
    struct check_result result;
};

/* Initialises y; diagnostics go to out (NULL: nowhere). */
void yard_init(struct yard *y, FILE *out);
/* Compiles the file at path, or data[0..len) named path when data is not NULL.
 * allow_fs false refuses every file access (includes, domain lists, error pages). */
enum yard_status yard_compile(struct yard *y, const char *path, const char *data, size_t len,
                              bool allow_fs);
/* Frees everything; accepts NULL. */
void yard_free(struct yard *y);

#endif
