/* Backend pools: the named ones (`pool apps { server ...; }`) and the inline ones a site
 * writes (`tls [a]:443, [b]:443;`, named "<site>/tls"), their servers and options, and
 * the lookup of a pool by name. */
#ifndef COMPILER_POOLS_H
#define COMPILER_POOLS_H

#include "ck.h"

/* Every `pool` statement, into ck->pools and ck->pool_names. */
void pools_check(struct ck *ck);

/* A new pool without servers; returns its index. name is kept. */
uint32_t pools_new(struct ck *ck, const char *name, size_t len, struct loc loc, bool named);

/* Fills pool idx with the servers of a list; false (reported) on errors. */
bool pools_fill(struct ck *ck, uint32_t idx, const struct ast_server *list);

/* The named pool at the token name, marked used; YT_NONE (reported, with a suggestion)
 * when there is none. */
uint32_t pools_find(struct ck *ck, struct loc name);

/* Whether two pools route the same way: the same one, or two inline pools with the same
 * servers. */
bool pools_equal(const struct ck *ck, uint32_t a, uint32_t b);

/* Whether pool idx may serve a UDP protocol (quic): none of its servers asks for a PROXY
 * header, which a datagram has no room for. Otherwise reports it at `use` (with a note at
 * the pool) and returns false. */
bool pools_check_udp(struct ck *ck, uint32_t idx, struct loc use);

/* Warns about named pools nothing uses [-Wunused]. */
void pools_warn_unused(struct ck *ck);

#endif
