/* The table's layout: what the checks accepted, laid out as the proxy will read it (struct
 * yt_table): sites, pools, listeners, logs and error pages each in a fixed order, so the
 * same configuration gives the same bytes; strings in one blob; then the perfect hash over
 * the site names. */
#ifndef COMPILER_LAYOUT_H
#define COMPILER_LAYOUT_H

#include "arena.h"
#include "check.h"
#include "ck.h"
#include "diag.h"
#include "table.h"

/* Fills *t from ck (checked without errors), its strings appended to blob; t->blob is
 * blob's data as it stands (the caller appends the canonical text after). Renumbers the
 * expects in ck to the table's listeners and pools, sets ck->site_loc and gives back
 * ck->sites (the table holds the sites now). */
void layout_table(struct ck *ck, struct yt_table *t, struct abuf *blob);

/* The string s[0..len) appended to blob, as a reference into it. */
struct yt_str layout_blob_add(struct abuf *blob, const char *s, size_t len);

/* Builds the perfect hash over t's site names (a wildcard "*.x.y" keyed as ".x.y") into
 * t's hash arrays, in the arena. Returns 0, or -1 when it cannot (reported). */
int layout_hash(struct arena *arena, struct diag *diag, struct yt_table *t);

#endif
