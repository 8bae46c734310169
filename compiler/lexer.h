/* The lexer of the routing language (grammar/lexer.re, generated with re2c).
 *
 * A pure function of the bytes of one source: no allocation, no I/O. The source must be
 * NUL-terminated (text[len] == '\0', the sentinel); NUL bytes inside it are errors.
 * Token codes are the grammar's TK_* from parser.h. */
#ifndef COMPILER_LEXER_H
#define COMPILER_LEXER_H

#include <stdint.h>

#include "diag.h"

struct lexer {
    const unsigned char *base;      /* text[0] */
    const unsigned char *cur;       /* next byte to read */
    const unsigned char *lim;       /* text + len: the sentinel */
    const unsigned char *mar;       /* re2c backtracking marker */
    uint32_t src;                   /* source index for the locations */
    const char *error;              /* after LEXER_ERROR: why */
    char msg[48];                   /* room for a message naming the byte */
};

#define LEXER_EOF 0
#define LEXER_ERROR (-1)

/* Borrows text[0..len] (keeps it for the lexer's life); text[len] must be '\0'. */
void lexer_init(struct lexer *lx, uint32_t src, const char *text, uint32_t len);

/* Reads the next token into *tok and returns its TK_ code; LEXER_EOF at the end (tok is
 * the empty span at the end); LEXER_ERROR for bytes that form no token, with lx->error
 * set and *tok the offending bytes. Lexing can go on after an error. */
int lexer_next(struct lexer *lx, struct loc *tok);

/* The keyword spelled text[0..len), or 0. */
int lexer_keyword(const char *text, uint32_t len);
/* How a token code reads in messages: "';'", "'timeout'", "a name". */
const char *lexer_token_desc(int tok);
/* True for tokens that are keywords. */
int lexer_is_keyword(int tok);

#endif
