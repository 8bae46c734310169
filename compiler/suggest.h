/* "did you mean ...?": the closest candidate to a misspelt word. */
#ifndef COMPILER_SUGGEST_H
#define COMPILER_SUGGEST_H

#include <stddef.h>

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions) between
 * a[0..alen) and b[0..blen), capped: returns cap + 1 as soon as it must exceed cap. */
unsigned suggest_distance(const char *a, size_t alen, const char *b, size_t blen, unsigned cap);

/* The candidate closest to word[0..len), or NULL when none is close enough: at most one
 * edit for candidates of up to four characters, two for longer ones, and never the word
 * itself; one that differs only in case comes first. Borrows everything; the result is one
 * of cands. */
const char *suggest(const char *word, size_t len, const char *const *cands, size_t count);

#endif
