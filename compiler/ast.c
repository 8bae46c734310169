#include "ast.h"

#include <string.h>

void
ast_init(struct ast *ast)
{
    memset(ast, 0, sizeof(*ast));
    ast->global_tail = &ast->global;
    ast->defaults_tail = &ast->defaults;
    ast->listeners_tail = &ast->listeners;
    ast->pools_tail = &ast->pools;
    ast->sites_tail = &ast->sites;
    ast->domains_tail = &ast->domains;
    ast->expects_tail = &ast->expects;
}

int
ast_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *
ast_string(struct arena *arena, const struct diag *diag, struct loc loc, size_t *len)
{
    const char *p = diag_text(diag, loc);
    const char *end = p + loc.len;
    char *out, *o;

    if (loc.len >= 2 && p[0] == '"' && end[-1] == '"') {
        p++;
        end--;
    }
    out = o = arena_alloc(arena, (size_t)(end - p) + 1);
    /* The lexer has validated the escapes. */
    while (p < end) {
        if (*p != '\\' || p + 1 >= end) {
            *o++ = *p++;
            continue;
        }
        switch (p[1]) {
        case 'n': *o++ = '\n'; p += 2; break;
        case 'r': *o++ = '\r'; p += 2; break;
        case 't': *o++ = '\t'; p += 2; break;
        case 'x':
            if (p + 3 < end) {
                *o++ = (char)(ast_hex_digit(p[2]) * 16 + ast_hex_digit(p[3]));
                p += 4;
            } else {
                p = end;
            }
            break;
        default: *o++ = p[1]; p += 2; break;
        }
    }
    *o = '\0';
    if (len != NULL)
        *len = (size_t)(o - out);
    return out;
}
