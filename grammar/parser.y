/* The grammar of the routing language (lemon). lemon turns this into
 * build/gen/grammar/parser.c and parser.h; conflicts fail the build.
 *
 * The actions only build the syntax tree (compiler/ast.h), naming its own kinds (AST_*)
 * rather than the token numbers; every value is checked later (compiler/check.c and its
 * parts), which keeps the grammar small and the messages specific. Errors: each statement
 * and each item of a block has an `error` alternative, so after a syntax error the parser
 * skips to the next statement; lemon stays quiet about further errors until a statement
 * parses completely again (DONE below), so there are no cascades. */

%name yard_parse
%token_prefix TK_
%token_type { struct loc }
%extra_argument { struct parse_ctx *ctx }
%start_symbol config

%token INCLUDE GLOBAL DEFAULTS LISTEN POOL SITE DOMAINS EXPECT
       USER GROUP CHROOT LOG STDERR SYSLOG ADMIN MODE LEVEL TIMEOUT WORKERS MAXCONN
       DONTLOGNULL ERROR FILE TEXT HTTP TLS REDIRECT FALLBACK FORWARDED_FOR MAX_HEAD
       STATUS PORT SERVER WEIGHT BACKUP SEND_PROXY SEND_PROXY_V2 ACME ALERT METRICS QUIC
       UDP LOG_FORMAT OFF SAMPLE
       ACCEPT_PROXY OPTIONAL FROM
       CHECK RELAY
       LBRACE RBRACE SEMI COMMA ARROW WORD STRING NUMBER NUMUNIT ADDR BAD RATIO.

/* Where only a name can go, a keyword or a number is taken as one: a pool may be called
 * `http`, a site `123.example`. */
%fallback WORD INCLUDE GLOBAL DEFAULTS LISTEN POOL SITE DOMAINS EXPECT
       USER GROUP CHROOT LOG STDERR SYSLOG ADMIN MODE LEVEL TIMEOUT WORKERS MAXCONN
       DONTLOGNULL ERROR FILE TEXT HTTP TLS REDIRECT FALLBACK FORWARDED_FOR MAX_HEAD
       STATUS PORT SERVER WEIGHT BACKUP SEND_PROXY SEND_PROXY_V2 ACME ALERT METRICS QUIC
       UDP LOG_FORMAT OFF SAMPLE
       ACCEPT_PROXY OPTIONAL FROM
       CHECK RELAY
       NUMBER NUMUNIT.

%include {
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "lexer.h"
#include "parse.h"
#include "suggest.h"

/* A statement parsed completely: report the next syntax error again. */
#define DONE() (yypParser->yyerrcnt = -1)

struct item_list {
    struct ast_item *head, *last;
};

struct server_list {
    struct ast_server *head, *last;
};

struct bind_list {
    struct ast_bind *head, *last;
};

struct pool_body {
    struct server_list servers;
    struct item_list items;         /* `check` */
};

struct expect_result {
    enum ast_expect_kind kind;
    struct loc result;
    struct ast_bind *addrs;
};

static struct ast_arg
arg(struct loc loc, enum ast_kind kind)
{
    struct ast_arg a = { .loc = loc, .kind = kind };

    return a;
}

static struct ast_arg
no_arg(void)
{
    struct ast_arg a = { .kind = AST_NONE };

    return a;
}

/* What an item without arguments reads: all absent. */
static const struct ast_arg no_args[AST_MAX_ARGS];

static struct ast_item *
item(struct parse_ctx *ctx, struct loc kw, enum ast_kind kind)
{
    struct ast_item *it = arena_zalloc(ctx->arena, sizeof(*it));

    it->kw = kw;
    it->kind = kind;
    it->argv = no_args;
    return it;
}

/* Adds an argument; absent optional ones (AST_NONE) are skipped. The array starts at one
 * (most items have one argument) and doubles, zero-filled. */
static void
item_add(struct parse_ctx *ctx, struct ast_item *it, struct ast_arg a)
{
    struct ast_arg *argv;

    if (a.kind == AST_NONE || it->argc >= AST_MAX_ARGS)
        return;
    if (it->argc == it->arg_cap) {
        uint32_t cap = it->arg_cap ? it->arg_cap * 2 : 1;

        argv = arena_calloc(ctx->arena, cap, sizeof(*argv));
        if (it->argc > 0)
            memcpy(argv, it->argv, it->argc * sizeof(*argv));
        it->argv = argv;
        it->arg_cap = cap;
    }
    argv = (struct ast_arg *)it->argv;   /* the item's own arena array */
    argv[it->argc++] = a;
}

static struct item_list
items_add(struct item_list l, struct ast_item *it)
{
    if (it == NULL)
        return l;
    it->next = NULL;
    if (l.last != NULL)
        l.last->next = it;
    else
        l.head = it;
    l.last = it;
    return l;
}

static struct server_list
servers_add(struct server_list l, struct ast_server *s)
{
    s->next = NULL;
    if (l.last != NULL)
        l.last->next = s;
    else
        l.head = s;
    l.last = s;
    return l;
}

static struct bind_list
binds_add(struct parse_ctx *ctx, struct bind_list l, struct loc addr)
{
    struct ast_bind *b = arena_zalloc(ctx->arena, sizeof(*b));

    b->addr = addr;
    if (l.last != NULL)
        l.last->next = b;
    else
        l.head = b;
    l.last = b;
    return l;
}

static void
global_add(struct parse_ctx *ctx, struct ast_item *it)
{
    AST_APPEND(ctx->ast->global_tail, it);
}

static void
defaults_add(struct parse_ctx *ctx, struct ast_item *it)
{
    AST_APPEND(ctx->ast->defaults_tail, it);
}

static void report_syntax_error(void *parser, int major, struct loc tok, struct parse_ctx *ctx);
}

/* Nothing to free (the arena owns every node); this only marks the arguments used. */
%default_destructor { (void)yypminor; (void)ctx; }
%token_destructor { (void)yypminor; (void)ctx; }

%syntax_error {
    report_syntax_error(yypParser, yymajor, yyminor, ctx);
}

%stack_overflow {
    struct loc none = { .src = DIAG_NO_SOURCE };

    diag_error(ctx->diag, none, "statement nested too deeply");
    ctx->errors++;
}

%type value { struct ast_arg }
%type numval { struct ast_arg }
%type opt_string { struct ast_arg }
%type admin_opts { struct ast_item * }
%type log_words { struct ast_item * }
%type litems { struct item_list }
%type litem { struct ast_item * }
%type lbody { struct ast_item * }
%type sitems { struct item_list }
%type sitem { struct ast_item * }
%type sopts { struct item_list }
%type sopt { struct ast_item * }
%type target { struct ast_item * }
%type server { struct ast_server * }
%type serverlist { struct server_list }
%type pitems { struct pool_body }
%type check_args { struct ast_item * }
%type check_arg { struct ast_arg }
%type binds { struct bind_list }
%type addrlist { struct bind_list }
%type ranges { struct bind_list }
%type range { struct loc }
%type opt_optional { struct ast_arg }
%type lmode { struct ast_arg }
%type proto { struct ast_arg }
%type opt_path { struct loc }
%type result { struct expect_result }

config ::= stmts.

stmts ::= .
stmts ::= stmts stmt.

/* ---- top-level statements ---- */

stmt ::= INCLUDE(K) STRING(P) SEMI. {
    struct ast_include *inc = arena_zalloc(ctx->arena, sizeof(*inc));

    inc->kw = K;
    inc->pattern = P;
    AST_APPEND(ctx->includes_tail, inc);
    DONE();
}
stmt ::= GLOBAL LBRACE gitems RBRACE. { DONE(); }
stmt ::= DEFAULTS LBRACE ditems RBRACE. { DONE(); }
stmt ::= LISTEN(K) WORD(N) lmode(M) binds(B) lbody(I). {
    struct ast_listener *l = arena_zalloc(ctx->arena, sizeof(*l));

    l->kw = K;
    l->name = N;
    l->mode = M.loc;
    l->mode_kind = M.kind;
    l->binds = B.head;
    l->items = I;
    AST_APPEND(ctx->ast->listeners_tail, l);
    DONE();
}
stmt ::= POOL(K) WORD(N) LBRACE pitems(S) RBRACE. {
    struct ast_pool *p = arena_zalloc(ctx->arena, sizeof(*p));

    p->kw = K;
    p->name = N;
    p->servers = S.servers.head;
    p->items = S.items.head;
    AST_APPEND(ctx->ast->pools_tail, p);
    DONE();
}
stmt ::= SITE WORD(N) LBRACE sitems(I) RBRACE. {
    struct ast_site *s = arena_zalloc(ctx->arena, sizeof(*s));

    s->name = N;
    s->items = I.head;
    AST_APPEND(ctx->ast->sites_tail, s);
    DONE();
}
stmt ::= DOMAINS(K) proto(P) STRING(F) SEMI. {
    struct ast_domains *d = arena_zalloc(ctx->arena, sizeof(*d));

    d->kw = K;
    d->proto = P.loc;
    d->proto_kind = P.kind;
    d->path = F;
    AST_APPEND(ctx->ast->domains_tail, d);
    DONE();
}
stmt ::= EXPECT(K) WORD(L) WORD(N) opt_path(P) ARROW result(R) SEMI. {
    struct ast_expect *e = arena_zalloc(ctx->arena, sizeof(*e));

    e->kw = K;
    e->listener = L;
    e->name = N;
    e->path = P;
    e->kind = R.kind;
    e->result = R.result;
    e->addrs = R.addrs;
    AST_APPEND(ctx->ast->expects_tail, e);
    DONE();
}
stmt ::= error.

/* ---- global ---- */

gitems ::= .
gitems ::= gitems gitem.

gitem ::= USER(K) value(V) SEMI. {
    struct ast_item *it = item(ctx, K, AST_USER);
    item_add(ctx, it, V);
    global_add(ctx, it);
    DONE();
}
gitem ::= GROUP(K) value(V) SEMI. {
    struct ast_item *it = item(ctx, K, AST_GROUP);
    item_add(ctx, it, V);
    global_add(ctx, it);
    DONE();
}
gitem ::= CHROOT(K) value(V) SEMI. {
    struct ast_item *it = item(ctx, K, AST_CHROOT);
    item_add(ctx, it, V);
    global_add(ctx, it);
    DONE();
}
gitem ::= LOG(K) STDERR(S) SEMI. {
    struct ast_item *it = item(ctx, K, AST_LOG);
    item_add(ctx, it, arg(S, AST_STDERR));
    global_add(ctx, it);
    DONE();
}
/* The words after the socket or address: FACILITY [LEVEL] [format NAME], told apart by
 * the checks (an optional word before a keyword would not parse: %fallback). */
gitem ::= LOG(K) SYSLOG(S) opt_string(P) log_words(W) SEMI. {
    struct ast_item *it = item(ctx, K, AST_LOG);
    item_add(ctx, it, arg(S, AST_SYSLOG));
    item_add(ctx, it, P);
    for (uint32_t i = 0; i < W->argc; i++)
        item_add(ctx, it, W->argv[i]);
    global_add(ctx, it);
    DONE();
}
gitem ::= LOG(K) UDP(S) ADDR(A) log_words(W) SEMI. {
    struct ast_item *it = item(ctx, K, AST_LOG);
    item_add(ctx, it, arg(S, AST_UDP));
    item_add(ctx, it, arg(A, AST_ADDR));
    for (uint32_t i = 0; i < W->argc; i++)
        item_add(ctx, it, W->argv[i]);
    global_add(ctx, it);
    DONE();
}
gitem ::= ADMIN(K) STRING(P) admin_opts(O) SEMI. {
    struct ast_item *it = item(ctx, K, AST_ADMIN);
    item_add(ctx, it, arg(P, AST_STRING));
    for (uint32_t i = 0; i < O->argc; i++)
        item_add(ctx, it, O->argv[i]);
    global_add(ctx, it);
    DONE();
}
gitem ::= WORKERS(K) NUMBER(N) SEMI. {
    struct ast_item *it = item(ctx, K, AST_WORKERS);
    item_add(ctx, it, arg(N, AST_NUMBER));
    global_add(ctx, it);
    DONE();
}
gitem ::= MAXCONN(K) NUMBER(N) SEMI. {
    struct ast_item *it = item(ctx, K, AST_MAXCONN);
    item_add(ctx, it, arg(N, AST_NUMBER));
    global_add(ctx, it);
    DONE();
}
gitem ::= RELAY(K) WORD(W) SEMI. {
    struct ast_item *it = item(ctx, K, AST_RELAY);
    item_add(ctx, it, arg(W, AST_WORD));
    global_add(ctx, it);
    DONE();
}
gitem ::= error.

admin_opts(A) ::= . { A = item(ctx, (struct loc){ 0, 0, 0 }, AST_NONE); }
admin_opts(A) ::= admin_opts(B) MODE(K) NUMBER(N). {
    A = B;
    item_add(ctx, A, arg(K, AST_MODE));
    item_add(ctx, A, arg(N, AST_NUMBER));
}
admin_opts(A) ::= admin_opts(B) LEVEL(K) WORD(V). {
    A = B;
    item_add(ctx, A, arg(K, AST_LEVEL));
    item_add(ctx, A, arg(V, AST_WORD));
}
admin_opts(A) ::= admin_opts(B) TIMEOUT(K) numval(V). {
    A = B;
    item_add(ctx, A, arg(K, AST_TIMEOUT));
    item_add(ctx, A, V);
}

log_words(A) ::= WORD(T). {
    A = item(ctx, T, AST_NONE);
    item_add(ctx, A, arg(T, AST_WORD));
}
log_words(A) ::= log_words(B) WORD(T). {
    A = B;
    item_add(ctx, A, arg(T, AST_WORD));
}

value(A) ::= WORD(T). { A = arg(T, AST_WORD); }
value(A) ::= STRING(T). { A = arg(T, AST_STRING); }

numval(A) ::= NUMBER(T). { A = arg(T, AST_NUMBER); }
numval(A) ::= NUMUNIT(T). { A = arg(T, AST_NUMUNIT); }

opt_string(A) ::= . { A = no_arg(); }
opt_string(A) ::= STRING(T). { A = arg(T, AST_STRING); }


/* ---- defaults ---- */

ditems ::= .
ditems ::= ditems ditem.

ditem ::= TIMEOUT(K) WORD(W) numval(V) SEMI. {
    struct ast_item *it = item(ctx, K, AST_TIMEOUT);
    item_add(ctx, it, arg(W, AST_WORD));
    item_add(ctx, it, V);
    defaults_add(ctx, it);
    DONE();
}
ditem ::= DONTLOGNULL(K) SEMI. {
    defaults_add(ctx, item(ctx, K, AST_DONTLOGNULL));
    DONE();
}
ditem ::= LOG_FORMAT(K) WORD(V) SEMI. {
    struct ast_item *it = item(ctx, K, AST_LOG_FORMAT);
    item_add(ctx, it, arg(V, AST_WORD));
    defaults_add(ctx, it);
    DONE();
}
ditem ::= ERROR(K) NUMBER(N) FILE(F) STRING(P) SEMI. {
    struct ast_item *it = item(ctx, K, AST_ERROR);
    item_add(ctx, it, arg(N, AST_NUMBER));
    item_add(ctx, it, arg(F, AST_FILE));
    item_add(ctx, it, arg(P, AST_STRING));
    defaults_add(ctx, it);
    DONE();
}
ditem ::= ERROR(K) NUMBER(N) TEXT(F) STRING(P) SEMI. {
    struct ast_item *it = item(ctx, K, AST_ERROR);
    item_add(ctx, it, arg(N, AST_NUMBER));
    item_add(ctx, it, arg(F, AST_TEXT));
    item_add(ctx, it, arg(P, AST_STRING));
    defaults_add(ctx, it);
    DONE();
}
ditem ::= CHECK(K) check_args(A) SEMI. {
    A->kw = K;
    defaults_add(ctx, A);
    DONE();
}
ditem ::= error.

/* `check` and its options, read as words and values: the checks (compiler/healthck.c) know
 * the option names, so a misspelt one gets a "did you mean". */
check_args(A) ::= . { A = item(ctx, (struct loc){ 0, 0, 0 }, AST_CHECK); }
check_args(A) ::= check_args(B) check_arg(V). { A = B; item_add(ctx, A, V); }

check_arg(A) ::= WORD(T). { A = arg(T, AST_WORD); }
check_arg(A) ::= STRING(T). { A = arg(T, AST_STRING); }
check_arg(A) ::= NUMBER(T). { A = arg(T, AST_NUMBER); }
check_arg(A) ::= NUMUNIT(T). { A = arg(T, AST_NUMUNIT); }

/* ---- listen ---- */

lmode(A) ::= HTTP(T). { A = arg(T, AST_HTTP); }
lmode(A) ::= TLS(T). { A = arg(T, AST_TLS); }
lmode(A) ::= REDIRECT(T). { A = arg(T, AST_REDIRECT); }
lmode(A) ::= METRICS(T). { A = arg(T, AST_METRICS); }
lmode(A) ::= QUIC(T). { A = arg(T, AST_QUIC); }

binds(A) ::= ADDR(T). { A.head = A.last = NULL; A = binds_add(ctx, A, T); }
binds(A) ::= binds(B) COMMA ADDR(T). { A = binds_add(ctx, B, T); }

lbody(A) ::= SEMI. { A = NULL; }
lbody(A) ::= LBRACE litems(I) RBRACE. { A = I.head; }

litems(A) ::= . { A.head = A.last = NULL; }
litems(A) ::= litems(B) litem(I). { A = items_add(B, I); }

litem(A) ::= FALLBACK(K) NUMBER(N) SEMI. {
    A = item(ctx, K, AST_FALLBACK);
    item_add(ctx, A, arg(N, AST_NUMBER));
    DONE();
}
litem(A) ::= FALLBACK(K) WORD(N) SEMI. {
    A = item(ctx, K, AST_FALLBACK);
    item_add(ctx, A, arg(N, AST_WORD));
    DONE();
}
litem(A) ::= STATUS(K) NUMBER(N) SEMI. {
    A = item(ctx, K, AST_STATUS);
    item_add(ctx, A, arg(N, AST_NUMBER));
    DONE();
}
litem(A) ::= PORT(K) NUMBER(N) SEMI. {
    A = item(ctx, K, AST_PORT);
    item_add(ctx, A, arg(N, AST_NUMBER));
    DONE();
}
litem(A) ::= MAX_HEAD(K) numval(V) SEMI. {
    A = item(ctx, K, AST_MAX_HEAD);
    item_add(ctx, A, V);
    DONE();
}
litem(A) ::= FORWARDED_FOR(K) SEMI. { A = item(ctx, K, AST_FORWARDED_FOR); DONE(); }
litem(A) ::= DONTLOGNULL(K) SEMI. { A = item(ctx, K, AST_DONTLOGNULL); DONE(); }
litem(A) ::= LOG(K) OFF(V) SEMI. {
    A = item(ctx, K, AST_LOG);
    item_add(ctx, A, arg(V, AST_OFF));
    DONE();
}
litem(A) ::= LOG(K) SAMPLE(V) RATIO(R) SEMI. {
    A = item(ctx, K, AST_LOG);
    item_add(ctx, A, arg(V, AST_SAMPLE));
    item_add(ctx, A, arg(R, AST_RATIO));
    DONE();
}
litem(A) ::= LOG_FORMAT(K) WORD(V) SEMI. {
    A = item(ctx, K, AST_LOG_FORMAT);
    item_add(ctx, A, arg(V, AST_WORD));
    DONE();
}
litem(A) ::= RELAY(K) WORD(W) SEMI. {
    A = item(ctx, K, AST_RELAY);
    item_add(ctx, A, arg(W, AST_WORD));
    DONE();
}
litem(A) ::= ACCEPT_PROXY(K) opt_optional(O) FROM ranges(R) SEMI. {
    A = item(ctx, K, AST_ACCEPT_PROXY);
    item_add(ctx, A, O);
    A->ranges = R.head;
    DONE();
}

opt_optional(A) ::= . { A = no_arg(); }
opt_optional(A) ::= OPTIONAL(T). { A = arg(T, AST_OPTIONAL); }

/* A source range is an address token ("::1", "10.0.0.0/8") or, for IPv4 without a
 * prefix, a name token ("127.0.0.1"); the checks read both. */
range(A) ::= ADDR(T). { A = T; }
range(A) ::= WORD(T). { A = T; }

ranges(A) ::= range(T). { A.head = A.last = NULL; A = binds_add(ctx, A, T); }
ranges(A) ::= ranges(B) COMMA range(T). { A = binds_add(ctx, B, T); }
litem(A) ::= error. { A = NULL; }

/* ---- pool ---- */

pitems(A) ::= . { memset(&A, 0, sizeof(A)); }
pitems(A) ::= pitems(B) SERVER server(S) SEMI. {
    A = B;
    A.servers = servers_add(B.servers, S);
    DONE();
}
pitems(A) ::= pitems(B) CHECK(K) check_args(C) SEMI. {
    A = B;
    C->kw = K;
    A.items = items_add(B.items, C);
    DONE();
}
pitems(A) ::= pitems(B) error. { A = B; }

server(A) ::= ADDR(T) sopts(O). {
    A = arena_zalloc(ctx->arena, sizeof(*A));
    A->addr = T;
    A->opts = O.head;
}

sopts(A) ::= . { A.head = A.last = NULL; }
sopts(A) ::= sopts(B) sopt(O). { A = items_add(B, O); }

sopt(A) ::= WEIGHT(K) NUMBER(N). {
    A = item(ctx, K, AST_WEIGHT);
    item_add(ctx, A, arg(N, AST_NUMBER));
}
sopt(A) ::= BACKUP(K). { A = item(ctx, K, AST_BACKUP); }
sopt(A) ::= SEND_PROXY(K). { A = item(ctx, K, AST_SEND_PROXY); }
sopt(A) ::= SEND_PROXY_V2(K). { A = item(ctx, K, AST_SEND_PROXY_V2); }

/* ---- site ---- */

sitems(A) ::= . { A.head = A.last = NULL; }
sitems(A) ::= sitems(B) sitem(I). { A = items_add(B, I); }

sitem(A) ::= TLS(K) target(T) SEMI. { A = T; A->kw = K; A->kind = AST_TLS; DONE(); }
sitem(A) ::= HTTP(K) target(T) SEMI. { A = T; A->kw = K; A->kind = AST_HTTP; DONE(); }
sitem(A) ::= QUIC(K) target(T) SEMI. { A = T; A->kw = K; A->kind = AST_QUIC; DONE(); }
sitem(A) ::= ACME(K) SEMI. { A = item(ctx, K, AST_ACME); DONE(); }
sitem(A) ::= FORWARDED_FOR(K) SEMI. { A = item(ctx, K, AST_FORWARDED_FOR); DONE(); }
sitem(A) ::= error. { A = NULL; }

target(A) ::= WORD(N). {
    A = item(ctx, N, AST_NONE);
    item_add(ctx, A, arg(N, AST_WORD));
}
target(A) ::= serverlist(L). {
    A = item(ctx, L.head->addr, AST_NONE);
    A->servers = L.head;
}

serverlist(A) ::= server(S). { A.head = A.last = NULL; A = servers_add(A, S); }
serverlist(A) ::= serverlist(B) COMMA server(S). { A = servers_add(B, S); }

/* ---- domains, expect ---- */

proto(A) ::= TLS(T). { A = arg(T, AST_TLS); }
proto(A) ::= HTTP(T). { A = arg(T, AST_HTTP); }
proto(A) ::= QUIC(T). { A = arg(T, AST_QUIC); }

opt_path(A) ::= . { A.src = DIAG_NO_SOURCE; A.off = A.len = 0; }
opt_path(A) ::= STRING(T). { A = T; }

result(A) ::= addrlist(L). {
    A.kind = AST_EXPECT_SERVERS;
    A.addrs = L.head;
    A.result = L.head->addr;
    A.result.len = L.last->addr.off + L.last->addr.len - L.head->addr.off;
}
result(A) ::= NUMBER(N). { A.kind = AST_EXPECT_STATUS; A.result = N; A.addrs = NULL; }
result(A) ::= ALERT(T). { A.kind = AST_EXPECT_ALERT; A.result = T; A.addrs = NULL; }
result(A) ::= REDIRECT(T) NUMBER(N). {
    A.kind = AST_EXPECT_REDIRECT;
    A.result = N;
    (void)T;
    A.addrs = NULL;
}
result(A) ::= POOL(T) WORD(N). {
    A.kind = AST_EXPECT_POOL;
    A.result = N;
    (void)T;
    A.addrs = NULL;
}

addrlist(A) ::= ADDR(T). { A.head = A.last = NULL; A = binds_add(ctx, A, T); }
addrlist(A) ::= addrlist(B) COMMA ADDR(T). { A = binds_add(ctx, B, T); }

%code {
/* Whether the parser, in its current state, would shift token tok, found by running its
 * reductions on a copy of the state stack. Fallbacks are not followed: a keyword that is
 * only accepted as a name does not count as expected. */
static YYACTIONTYPE
shift_action_direct(YYCODETYPE tok, YYACTIONTYPE state)
{
    int i;

    if (state > YY_MAX_SHIFT)
        return state;
    i = yy_shift_ofst[state] + tok;
    if (yy_lookahead[i] != tok)
        return yy_default[state];
    return yy_action[i];
}

static int
accepts(const yyParser *p, YYCODETYPE tok)
{
    YYACTIONTYPE stack[256];
    int top = -1;
    YYACTIONTYPE act;

    for (const yyStackEntry *e = p->yystack; e <= p->yytos; e++) {
        if (top + 1 >= (int)(sizeof(stack) / sizeof(stack[0])) - 1)
            return 0;
        stack[++top] = e->stateno;
    }
    act = stack[top];
    for (int guard = 0; guard < 1000; guard++) {
        act = shift_action_direct(tok, act);
        if (act >= YY_MIN_REDUCE) {
            unsigned rule = act - YY_MIN_REDUCE;

            top += yyRuleInfoNRhs[rule];
            if (top < 0 || top + 1 >= (int)(sizeof(stack) / sizeof(stack[0])))
                return 0;
            act = yy_find_reduce_action(stack[top], yyRuleInfoLhs[rule]);
            stack[++top] = act;
            continue;
        }
        return act <= YY_MAX_SHIFTREDUCE || (act == YY_ACCEPT_ACTION && tok == 0);
    }
    return 0;
}

/* After a syntax error lemon stays quiet until three tokens have been shifted. Once the
 * parser has skipped to a keyword or '}' that it can take as the start of the next
 * statement (or the end of the block), it is in step with the input again: report the
 * next error. */
void
yard_parse_resync(void *parser, int tok)
{
    yyParser *p = parser;

    if (p->yyerrcnt >= 0 && (lexer_is_keyword(tok) || tok == TK_RBRACE) &&
        accepts(p, (YYCODETYPE)tok))
        p->yyerrcnt = -1;
}

void
yard_parse_quiet_end(void *parser)
{
    ((yyParser *)parser)->yyerrcnt = -1;
}

bool
yard_parse_takes(void *parser, int tok)
{
    const yyParser *p = parser;

    if (tok < 0 || tok >= YYNTOKEN)
        return false;
    if (accepts(p, (YYCODETYPE)tok))
        return true;
    return (size_t)tok < sizeof(yyFallback) / sizeof(yyFallback[0]) && yyFallback[tok] != 0 &&
           accepts(p, yyFallback[tok]);
}

bool
yard_parse_starts_statement(int tok)
{
    switch (tok) {
    case 0: case TK_INCLUDE: case TK_GLOBAL: case TK_DEFAULTS: case TK_LISTEN: case TK_POOL:
    case TK_SITE: case TK_DOMAINS: case TK_EXPECT:
        return true;
    default:
        return false;
    }
}

static void
report_syntax_error(void *parser, int major, struct loc tok, struct parse_ctx *ctx)
{
    const yyParser *p = parser;
    const char *desc[YYNTOKEN];
    const char *kw[YYNTOKEN];
    size_t n = 0, nkw = 0;
    int word_ok;
    char list[512];
    size_t used = 0;
    const char *text = diag_text(ctx->diag, tok);
    int shown = tok.len > 40 ? 40 : (int)tok.len;

    ctx->error_seen = true;
    if (major == TK_BAD)
        return;                     /* the lexer has said why */
    ctx->errors++;
    word_ok = accepts(p, TK_WORD);
    for (int t = 1; t < YYNTOKEN; t++) {
        const char *d;
        size_t j;

        if (t == TK_BAD || !accepts(p, (YYCODETYPE)t))
            continue;
        if (lexer_is_keyword(t)) {
            kw[nkw++] = lexer_token_desc(t);
            if (word_ok)
                continue;           /* "a name" says it */
        }
        d = lexer_token_desc(t);
        for (j = 0; j < n && strcmp(desc[j], d) != 0; j++)
            ;
        if (j == n)
            desc[n++] = d;
    }
    list[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof(list); i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int k = snprintf(list + used, sizeof(list) - used, "%s%s", sep, desc[i]);

        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (major == 0) {
        diag_error(ctx->diag, tok, "unexpected end of input; expected %s", list);
        return;
    }
    if (major == TK_WORD && nkw > 0 && !word_ok) {
        /* candidates without their quotes */
        char names[YYNTOKEN][24];
        const char *cands[YYNTOKEN];
        const char *best;

        for (size_t i = 0; i < nkw; i++) {
            snprintf(names[i], sizeof(names[i]), "%.*s", (int)strlen(kw[i]) - 2, kw[i] + 1);
            cands[i] = names[i];
        }
        best = suggest(text, tok.len, cands, nkw);
        if (best != NULL)
            diag_error(ctx->diag, tok, "unknown keyword '%.*s'; did you mean '%s'?", shown,
                       text, best);
        else if (n <= 12)
            diag_error(ctx->diag, tok, "unknown keyword '%.*s'; expected %s", shown, text,
                       list);
        else
            diag_error(ctx->diag, tok, "unknown keyword '%.*s'", shown, text);
        return;
    }
    if (n == 0 || n > 12)
        diag_error(ctx->diag, tok, "unexpected '%.*s'", shown, text);
    else
        diag_error(ctx->diag, tok, "expected %s before '%.*s'", list, shown, text);
}
}
