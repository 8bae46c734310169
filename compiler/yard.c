#include "yard.h"

#include <string.h>

void
yard_init(struct yard *y, FILE *out)
{
    memset(y, 0, sizeof(*y));
    arena_init(&y->arena);
    diag_init(&y->diag, &y->arena, out);
    ast_init(&y->ast);
}

enum yard_status
yard_compile(struct yard *y, const char *path, const char *data, size_t len, bool allow_fs)
{
    y->load = (struct load){
        .arena = &y->arena, .diag = &y->diag, .ast = &y->ast, .allow_fs = allow_fs,
    };
    if (load_config(&y->load, path, data, len) == -1)
        return YARD_IO_ERROR;
    /* After a syntax error the tree is incomplete: checking it would report what is only
     * missing, so stop here. */
    if (y->diag.errors > 0)
        return YARD_INPUT_ERRORS;
    if (check_config(&y->load, &y->result) == -1 || y->diag.errors > 0)
        return YARD_INPUT_ERRORS;
    return YARD_OK;
}

void
yard_free(struct yard *y)
{
    if (y == NULL)
        return;
    arena_free(&y->arena);
}
