/* The semantic checks: check_config() reads the syntax tree (and the files it names:
 * domain lists, error pages) and reports every problem it finds, in the order of the
 * language's parts: global settings and defaults (settings.c), pools (pools.c), sites and
 * domain lists (sites.c), listeners (listeners.c), expects (expects.c), then the warnings.
 * What it accepts stays in the checker's state (ck.h) for the table's layout (layout.c);
 * yard.c runs the whole pipeline. */
#ifndef COMPILER_CHECK_H
#define COMPILER_CHECK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "ck.h"
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

/* What a compilation produces. */
struct check_result {
    struct yt_table table;              /* arrays in the arena */
    struct check_expect *expects;       /* sorted by their canonical line */
    uint32_t expect_count;
};

/* Checks what ck's load holds (ck from ck_init()). Returns 0 when the configuration is
 * valid, -1 when errors were reported. Warnings do not fail (unless diag->werror). */
int check_config(struct ck *ck);

#endif
