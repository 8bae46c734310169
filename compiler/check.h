/* The semantic checks, and the compiled table they build.
 *
 * check_config() reads the syntax tree (and the files it names: domain lists, error
 * pages), reports every problem it finds, and when there is none fills a struct yt_table
 * in memory exactly as the proxy will see it: blob, sorted sites, pools, servers,
 * listeners, binds, logs, error pages, global settings, timeouts, the canonical text and
 * its digest, and the perfect hash. Then it evaluates every `expect` with yt_resolve()
 * on that table, the lookup the proxy itself uses. */
#ifndef COMPILER_CHECK_H
#define COMPILER_CHECK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "load.h"
#include "table.h"

/* A checked `expect`, normalised, for the canonical text. */
struct check_expect {
    struct loc kw, result;
    uint32_t listener;                  /* index into the table's listeners */
    const char *name;                   /* normalised */
    size_t name_len;
    const char *path;                   /* NULL: none */
    size_t path_len;
    enum ast_expect_kind kind;
    uint16_t status;                    /* STATUS, REDIRECT */
    uint32_t pool;                      /* POOL: index into the table's pools */
    struct sockaddr_in6 *addrs;         /* SERVERS */
    uint32_t addr_count;
};

struct check_result {
    struct yt_table table;              /* arrays in the arena */
    struct check_expect *expects;       /* sorted by their canonical line */
    uint32_t expect_count;
};

/* Checks what l has loaded and builds the table into *out (arena memory, no frees
 * needed). Returns 0 when the configuration is valid and every expect holds; -1 when
 * errors were reported. Warnings do not fail (unless diag->werror). */
int check_config(struct load *l, struct check_result *out);

/* Parses a duration token's text ("5s", "250ms", "1h") into milliseconds. Returns NULL,
 * or why not. */
const char *check_duration(const char *text, size_t len, uint32_t *ms);

/* Parses "[2001:db8::1]:443" into a connectable address. Returns NULL, or why not, with
 * *bad_off / *bad_len the span of text at fault. */
const char *check_server_addr(const char *text, size_t len, struct sockaddr_in6 *out,
                              size_t *bad_off, size_t *bad_len);

/* Parses a listen address (":443", "*:443", "0.0.0.0:80", "127.0.0.1:80", "[::1]:80").
 * Returns NULL, or why not, with the span at fault. */
const char *check_bind_addr(const char *text, size_t len, struct yt_bind *out,
                            size_t *bad_off, size_t *bad_len);

/* True when two listen addresses cannot both be bound (the same port, and the same
 * address or a wildcard covering the other). */
bool check_binds_overlap(const struct yt_bind *a, const struct yt_bind *b);

#endif
