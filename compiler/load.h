/* Loading a configuration: the main file, every file its include statements name
 * (glob(3) patterns relative to the including file), and the other files a configuration
 * reads (domain lists, error pages), each registered as a diag source so diagnostics can
 * point into it. */
#ifndef COMPILER_LOAD_H
#define COMPILER_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"

#define LOAD_MAX_DEPTH 16               /* nested includes */
#define LOAD_MAX_FILE (1u << 30)        /* bytes of one file */

struct load {
    struct arena *arena;
    struct diag *diag;
    struct ast *ast;
    bool allow_fs;                      /* false: any file access is an error (fuzzing) */
    struct load_file *files;            /* every file read, for include-once and cycles */
    uint32_t file_count, file_cap;
    unsigned syntax_errors;
    struct arena *tree_arena;           /* the syntax tree's nodes; NULL: in arena */
};

/* Parses the main configuration into ast and follows its includes. With data != NULL the
 * main file is data[0..len) (not read from disk) and name is only its name for messages.
 * Returns 0, or -1 when the main file cannot be read (reported; an I/O failure, exit 2).
 * Errors in the input are reported through diag and counted in l->syntax_errors. */
int load_config(struct load *l, const char *name, const char *data, size_t len);

/* Reads the file a STRING token names, relative to the file holding the token, and
 * registers it as a source. Returns its source index, or -1 after reporting why at the
 * token (`what` says what the file is for: "domain list", "error page"). */
int64_t load_file_at(struct load *l, struct loc at, const char *what);

/* Reads the regular file at path whole into the arena, NUL-terminated (*text, *len; st
 * filled by fstat). Returns 0, or -1 with errno (EISDIR, EINVAL for a FIFO or device,
 * EFBIG from LOAD_MAX_FILE bytes on). */
int load_read_file(struct arena *arena, const char *path, char **text, uint32_t *len,
                   struct stat *st);

/* The path of rel as seen from the directory of the file named base ("a/b.yard" and
 * "c.txt" give "a/c.txt"); absolute paths stay as they are. In the arena. */
char *load_resolve(struct arena *arena, const char *base, const char *rel);

#endif
