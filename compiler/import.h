/* `yardc import`: an HAProxy configuration translated into a .yard file.
 *
 * What translates, what is ignored with a warning (-Wignored) and what is an error is
 * listed in docs/import.md. Every line of the HAProxy file ends up in the output, as a
 * statement or as a comment beside one; a line that cannot be translated is an error
 * at that line, and then nothing is written. The output ends with an `expect` line per
 * route, so compiling it checks the translation. */
#ifndef COMPILER_IMPORT_H
#define COMPILER_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"

struct import_opts {
    const char *root;           /* read absolute paths (map files, error files) under this
                                 * directory; NULL: as they are */
    bool allow_fs;              /* false: reading map and error files is an error */
};

enum import_status {
    IMPORT_OK = 0,              /* translated: the text is in out */
    IMPORT_INPUT_ERRORS = 1,    /* reported through d */
    IMPORT_IO_ERROR = 2,        /* the file could not be read (reported) */
};

/* Translates the HAProxy configuration in the file at path, or in data[0..len) named
 * path when data is not NULL, and appends the .yard text to out. Borrows everything;
 * sources and text live in arena. */
enum import_status import_haproxy(struct diag *d, struct arena *arena, const char *path,
                                  const char *data, size_t len, const struct import_opts *o,
                                  struct abuf *out);

#endif
