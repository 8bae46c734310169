/* `expect` statements: checked with the rest of the configuration (listener, name, path,
 * answer), then evaluated against the finished table with yt_resolve(), the lookup the
 * proxy itself uses; a failed expect is an error pointing at its answer. */
#ifndef COMPILER_EXPECTS_H
#define COMPILER_EXPECTS_H

#include "check.h"
#include "ck.h"

/* Every `expect`, normalised, into ck->expects (listeners and pools must be checked
 * first). Listener and pool indexes are the checker's until the layout renumbers them. */
void expects_check(struct ck *ck);

/* Sorts ck->expects into their canonical order, the order of the printed text, and hands
 * them to out. Returns a copy in the order written, for reporting failures in that order. */
const struct check_expect *expects_sort(struct ck *ck, struct check_result *out);

/* Evaluates es[0..count) against t (laid out from ck); reports each one that fails, with
 * a note on the site that matched. */
void expects_evaluate(struct ck *ck, const struct yt_table *t, const struct check_expect *es,
                      uint32_t count);

#endif
