#include "parse.h"

#include <stdlib.h>

#include "lexer.h"
#include "parser.h"

unsigned
parse_source(struct arena *arena, struct diag *diag, struct ast *ast, uint32_t src,
             struct ast_include **includes)
{
    const struct diag_source *s = diag_source(diag, src);
    struct parse_ctx ctx = {
        .arena = arena, .diag = diag, .ast = ast, .includes = NULL,
    };
    struct lexer lx;
    struct loc tok;
    void *parser;
    int t;
    uint32_t depth = 0, err_depth = 0;
    bool recovering = false, closed;

    ctx.includes_tail = &ctx.includes;
    parser = yard_parseAlloc(malloc);
    if (parser == NULL) {
        fputs("yardc: out of memory\n", stderr);
        exit(2);
    }
    lexer_init(&lx, src, s->text, s->len);
    do {
        t = lexer_next(&lx, &tok);
        if (t == LEXER_ERROR) {
            diag_error(diag, tok, "%s", lx.error);
            ctx.errors++;
            /* A token no rule accepts: the parser resynchronises at the next statement,
             * and says nothing more about it (the error is reported already). */
            t = TK_BAD;
        }
        if (recovering && depth == err_depth)
            yard_parse_resync(parser, t);
        yard_parse(parser, t, tok, &ctx);
        if (ctx.error_seen) {
            ctx.error_seen = false;
            recovering = true;
            err_depth = depth;
        }
        closed = false;
        if (t == TK_LBRACE) {
            depth++;
        } else if (t == TK_RBRACE && depth > 0) {
            depth--;
            closed = true;
        }
        /* The parser skips the rest of a broken statement quietly. Once that statement
         * has ended (its ';' at its own nesting level, or the '}' of its block), what
         * follows is a new statement whose errors are real: report them. */
        if (recovering && ((t == TK_SEMI && depth == err_depth) ||
                           (closed && depth <= err_depth))) {
            recovering = false;
            yard_parse_quiet_end(parser);
        }
    } while (t != LEXER_EOF && !diag_is_stopped(diag));
    yard_parseFree(parser, free);
    *includes = ctx.includes;
    return ctx.errors;
}
