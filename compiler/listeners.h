/* Listeners: name, mode (tls, http, redirect), addresses and the items their mode allows
 * (fallback, status, port, max-head, forwarded-for, dontlognull, accept-proxy); then what holds between
 * listeners: no two on overlapping addresses, a route for each, an error page for each
 * fallback status. */
#ifndef COMPILER_LISTENERS_H
#define COMPILER_LISTENERS_H

#include "ck.h"

/* Every `listen` statement, into ck->listeners (pools, sites and defaults must be
 * checked first: fallbacks name pools, routes need sites, statuses need pages). */
void listeners_check(struct ck *ck);

#endif
