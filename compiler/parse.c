#include "parse.h"

#include <stdlib.h>

#include "lexer.h"
#include "parser.h"

/* One source being fed to the parser, with what error recovery needs to know. */
struct feed {
    void *parser;
    struct parse_ctx ctx;
    uint32_t depth, err_depth;      /* '{' not yet closed, at all and at the last error */
    bool recovering;                /* skipping the rest of a broken statement */
    struct loc open;                /* the '{' of the block the parser is in, if any */
};

static void
feed_token(struct feed *f, int t, struct loc tok)
{
    bool closed = false;

    if (t == TK_LBRACE && yard_parse_takes(f->parser, t))
        f->open = tok;
    else if (t == TK_RBRACE && yard_parse_takes(f->parser, t))
        f->open.src = DIAG_NO_SOURCE;
    if (f->recovering && f->depth == f->err_depth)
        yard_parse_resync(f->parser, t);
    yard_parse(f->parser, t, tok, &f->ctx);
    if (f->ctx.error_seen) {
        f->ctx.error_seen = false;
        f->recovering = true;
        f->err_depth = f->depth;
    }
    if (t == TK_LBRACE) {
        f->depth++;
    } else if (t == TK_RBRACE && f->depth > 0) {
        f->depth--;
        closed = true;
    }
    /* The parser skips the rest of a broken statement quietly. Once that statement has
     * ended (its ';' at its own nesting level, or the '}' of its block), what follows is
     * a new statement whose errors are real: report them. */
    if (f->recovering && ((t == TK_SEMI && f->depth == f->err_depth) ||
                          (closed && f->depth <= f->err_depth))) {
        f->recovering = false;
        yard_parse_quiet_end(f->parser);
    }
}

/* A statement keyword (or the end of input) inside a block: its '}' is missing. Reports that (after
 * the error of the unfinished item, if any), then closes the block as if the '}' were
 * there, so that the statement that follows is parsed, and checked for errors, as one. */
static void
close_open_block(struct feed *f, int t, struct loc tok)
{
    struct loc brace = { .src = tok.src, .off = tok.off, .len = 0 };
    const char *text = diag_text(f->ctx.diag, tok);
    bool fed = false;

    if (!yard_parse_takes(f->parser, TK_RBRACE)) {
        feed_token(f, t, tok);              /* the item's own error: a missing ';' ... */
        fed = true;
        if (t != LEXER_EOF && !yard_parse_takes(f->parser, TK_RBRACE))
            return;
    }
    if (t == LEXER_EOF)
        diag_error(f->ctx.diag, tok, "expected '}' at end of input");
    else
        diag_error(f->ctx.diag, tok, "expected '}' before '%.*s'", (int)tok.len, text);
    diag_note(f->ctx.diag, f->open, "'{' opened here");
    f->ctx.errors++;
    if (yard_parse_takes(f->parser, TK_RBRACE)) {
        yard_parse(f->parser, TK_RBRACE, brace, &f->ctx);
        f->depth = f->err_depth = 0;
        f->recovering = false;
        yard_parse_quiet_end(f->parser);
    }
    f->open.src = DIAG_NO_SOURCE;
    if (!fed || t != LEXER_EOF)
        feed_token(f, t, tok);              /* the parser dropped it with the error */
}

/* Whether only blanks come before text[off] on its line. */
static bool
starts_line(const char *text, uint32_t off)
{
    while (off > 0 && (text[off - 1] == ' ' || text[off - 1] == '\t'))
        off--;
    return off == 0 || text[off - 1] == '\n';
}

unsigned
parse_source(struct arena *arena, struct diag *diag, struct ast *ast, uint32_t src,
             struct ast_include **includes)
{
    const struct diag_source *s = diag_source(diag, src);
    struct feed f = {
        .ctx = { .arena = arena, .diag = diag, .ast = ast, .includes = NULL },
        .open = { .src = DIAG_NO_SOURCE },
    };
    struct lexer lx;
    struct loc tok;
    int t;

    f.ctx.includes_tail = &f.ctx.includes;
    f.parser = yard_parseAlloc(malloc);
    if (f.parser == NULL) {
        fputs("yardc: out of memory\n", stderr);
        exit(2);
    }
    lexer_init(&lx, src, s->text, s->len);
    do {
        t = lexer_next(&lx, &tok);
        if (t == LEXER_ERROR) {
            diag_error(diag, tok, "%s", lx.error);
            f.ctx.errors++;
            /* A token no rule accepts: the parser resynchronises at the next statement,
             * and says nothing more about it (the error is reported already). */
            t = TK_BAD;
        }
        /* Statements start lines: a statement keyword at the start of a line, in a block
         * where it cannot be a name, is taken for the next statement. */
        if (f.open.src != DIAG_NO_SOURCE && yard_parse_starts_statement(t) &&
            (t == LEXER_EOF || starts_line(s->text, tok.off)) &&
            !yard_parse_takes(f.parser, t))
            close_open_block(&f, t, tok);
        else
            feed_token(&f, t, tok);
    } while (t != LEXER_EOF && !diag_is_stopped(diag));
    yard_parseFree(f.parser, free);
    *includes = f.ctx.includes;
    return f.ctx.errors;
}
