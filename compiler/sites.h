/* Sites: the `site` blocks and the lines of the `domains` lists, one normalised name each
 * (exact, or a wildcard "*.example.com") with at most one pool per protocol; and the
 * warning about sites a wildcard already routes the same way. */
#ifndef COMPILER_SITES_H
#define COMPILER_SITES_H

#include "ck.h"

/* Every site block, then every domain list, into ck->sites and ck->site_names (pools
 * must be checked first). Sets ck->site_errors when some site was dropped. */
void sites_check(struct ck *ck);

/* Warns about sites the nearest covering wildcard routes the same way [-Wshadowed]. */
void sites_warn_shadowed(struct ck *ck);

#endif
