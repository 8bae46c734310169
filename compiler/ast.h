/* The syntax tree of a configuration, as the grammar builds it: every node keeps the
 * locations of its tokens so the checks can point at them. Nothing is interpreted yet
 * (numbers, strings, addresses and names are still source text); the checks do that.
 * All nodes live in the compilation's arena. Lists keep declaration order.
 *
 * Kinds are the tree's own (enum ast_kind): the grammar's actions name them, so the
 * lexer's token numbers (the generated parser.h) stay inside the grammar's glue. */
#ifndef COMPILER_AST_H
#define COMPILER_AST_H

#include <stdint.h>

#include "arena.h"
#include "diag.h"

#define AST_MAX_ARGS 24            /* a `check` line has the most */

/* What an argument is (a word, a string, a number ...), which keyword an item starts
 * with, a listener's mode and a domain list's protocol. */
enum ast_kind {
    AST_NONE = 0,                   /* an absent argument */
    AST_WORD, AST_STRING, AST_NUMBER, AST_NUMUNIT,
    AST_USER, AST_GROUP, AST_CHROOT, AST_LOG, AST_STDERR, AST_SYSLOG, AST_ADMIN, AST_MODE,
    AST_LEVEL, AST_TIMEOUT, AST_WORKERS, AST_MAXCONN, AST_DONTLOGNULL, AST_ERROR, AST_FILE,
    AST_TEXT, AST_HTTP, AST_TLS, AST_REDIRECT, AST_FALLBACK, AST_FORWARDED_FOR, AST_MAX_HEAD,
    AST_STATUS, AST_PORT, AST_WEIGHT, AST_BACKUP, AST_SEND_PROXY, AST_SEND_PROXY_V2, AST_ACME,
    AST_UDP, AST_ADDR, AST_LOG_FORMAT, AST_OFF, AST_SAMPLE, AST_RATIO,
    AST_ACCEPT_PROXY, AST_OPTIONAL,
    AST_METRICS,
    AST_CHECK,
    AST_QUIC,
    AST_RELAY,
};

/* A token: where it is, and what it was (AST_WORD, AST_STRING, a keyword ...). The
 * argument lists of items read AST_NONE past their end. */
struct ast_arg {
    struct loc loc;
    enum ast_kind kind;
};

struct ast_server;
struct ast_bind;

/* One statement inside a block: `user haproxy;`, `timeout connect 5s;`, `fallback 503;`,
 * `weight 2` (a server option), `tls apps;` or `tls [a]:443, [b]:443 backup;`. */
struct ast_item {
    struct loc kw;                  /* the keyword */
    uint8_t kind;                   /* the keyword's enum ast_kind */
    uint8_t argc, arg_cap;          /* at most AST_MAX_ARGS; small: items are a million */
    /* argv[argc .. AST_MAX_ARGS) read as absent (AST_NONE) when argc is 0; otherwise up to
     * arg_cap, the arena array's length. Items are a million in a big file: no fixed
     * array of AST_MAX_ARGS. */
    const struct ast_arg *argv;
    struct ast_server *servers;     /* `tls`/`http` with servers written inline */
    struct ast_bind *ranges;        /* `accept-proxy`: its source ranges */
    struct ast_item *next;
};

struct ast_server {
    struct loc addr;
    struct ast_item *opts;          /* weight, backup, send-proxy, send-proxy-v2 */
    struct ast_server *next;
};

struct ast_bind {
    struct loc addr;
    struct ast_bind *next;
};

struct ast_listener {
    struct loc kw, name, mode;
    enum ast_kind mode_kind;        /* AST_HTTP, AST_TLS, AST_REDIRECT, AST_METRICS, AST_QUIC */
    struct ast_bind *binds;
    struct ast_item *items;
    struct ast_listener *next;
};

struct ast_pool {
    struct loc kw, name;
    struct ast_server *servers;
    struct ast_item *items;         /* `check` */
    struct ast_pool *next;
};

struct ast_site {
    struct loc name;                /* (no keyword: a million sites, nothing points at it) */
    struct ast_item *items;
    struct ast_site *next;
};

struct ast_domains {
    struct loc kw, proto, path;
    enum ast_kind proto_kind;       /* AST_TLS, AST_HTTP or AST_QUIC */
    struct ast_domains *next;
};

enum ast_expect_kind {
    AST_EXPECT_SERVERS = 0,         /* -> [a]:443, [b]:443 */
    AST_EXPECT_STATUS,              /* -> 503 */
    AST_EXPECT_ALERT,               /* -> alert */
    AST_EXPECT_REDIRECT,            /* -> redirect 301 */
    AST_EXPECT_POOL,                /* -> pool apps */
};

struct ast_expect {
    struct loc kw, listener, name, path;    /* path.len == 0: none */
    enum ast_expect_kind kind;
    struct loc result;              /* the status, or the pool name; the whole answer */
    struct ast_bind *addrs;         /* AST_EXPECT_SERVERS */
    struct ast_expect *next;
};

struct ast_include {
    struct loc kw, pattern;
    struct ast_include *next;
};

struct ast {
    struct ast_item *global, **global_tail;         /* items of every global block */
    struct ast_item *defaults, **defaults_tail;     /* items of every defaults block */
    struct ast_listener *listeners, **listeners_tail;
    struct ast_pool *pools, **pools_tail;
    struct ast_site *sites, **sites_tail;
    struct ast_domains *domains, **domains_tail;
    struct ast_expect *expects, **expects_tail;
};

void ast_init(struct ast *ast);

/* The value of a STRING token (quotes included in loc) with its escapes decoded, NUL
 * terminated, in the arena; *len excludes the NUL (the value may hold "\x00"). */
char *ast_string(struct arena *arena, const struct diag *diag, struct loc loc, size_t *len);

/* The value of a hexadecimal digit, or -1 for any other character. */
int ast_hex_digit(char c);

/* Appends to a list whose tail pointer is *tailp. */
#define AST_APPEND(tailp, node) do { (node)->next = NULL; *(tailp) = (node); \
                                      (tailp) = &(node)->next; } while (0)

#endif
