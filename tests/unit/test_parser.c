/* CUnit suite for the grammar (grammar/parser.y through compiler/parse.c): the syntax
 * trees it builds, and how many errors it reports for broken input. */
#include <string.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "parse.h"
#include "unit.h"

struct fixture {
    struct arena arena;
    struct diag diag;
    struct ast ast;
    struct ast_include *includes;
    unsigned errors;
};

static void
parse(struct fixture *f, const char *text)
{
    uint32_t src;

    arena_init(&f->arena);
    diag_init(&f->diag, &f->arena, NULL);
    ast_init(&f->ast);
    src = diag_add_source(&f->diag, "t.yard", text, (uint32_t)strlen(text));
    f->errors = parse_source(&f->arena, &f->diag, &f->ast, src, &f->includes);
}

static int
text_is(struct fixture *f, struct loc l, const char *want)
{
    return l.len == strlen(want) && memcmp(diag_text(&f->diag, l), want, l.len) == 0;
}

static void
test_parser_site(void)
{
    struct fixture f;
    const struct ast_site *s;
    const struct ast_item *it;

    parse(&f, "site a.example { tls [2001:db8::1]:443 weight 2 backup, [2001:db8::2]:443;"
              " http web; acme; }");
    CU_ASSERT_EQUAL(f.errors, 0);
    s = f.ast.sites;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(text_is(&f, s->name, "a.example"));
    it = s->items;
    CU_ASSERT_EQUAL_FATAL(it->kind, AST_TLS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it->servers);
    CU_ASSERT(text_is(&f, it->servers->addr, "[2001:db8::1]:443"));
    CU_ASSERT_EQUAL(it->servers->opts->kind, AST_WEIGHT);
    CU_ASSERT(text_is(&f, it->servers->opts->argv[0].loc, "2"));
    CU_ASSERT_EQUAL(it->servers->opts->next->kind, AST_BACKUP);
    CU_ASSERT(text_is(&f, it->servers->next->addr, "[2001:db8::2]:443"));
    it = it->next;
    CU_ASSERT_EQUAL_FATAL(it->kind, AST_HTTP);
    CU_ASSERT_PTR_NULL(it->servers);
    CU_ASSERT(text_is(&f, it->argv[0].loc, "web"));
    CU_ASSERT_EQUAL(it->next->kind, AST_ACME);
    CU_ASSERT_PTR_NULL(s->next);
    arena_free(&f.arena);
}

static void
test_parser_statements(void)
{
    struct fixture f;
    const struct ast_listener *l;
    const struct ast_expect *e;

    parse(&f, "include \"x/*.yard\";\n"
              "global { user haproxy; log syslog \"/dev/log\" local1 notice; "
              "admin \"/run/a.sock\" mode 0660 timeout 30s; }\n"
              "defaults { timeout connect 5s; error 503 text \"x\"; }\n"
              "listen www http :80, [::1]:80 { fallback 503; max-head 16k; }\n"
              "listen tls tls :443;\n"           /* a keyword as a name */
              "pool apps { server [::1]:1; server [::1]:2 send-proxy; }\n"
              "domains tls \"bulk.txt\";\n"
              "expect www a.example \"/p\" -> redirect 301;\n"
              "expect www a.example -> [::1]:1, [::1]:2;\n");
    CU_ASSERT_EQUAL(f.errors, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f.includes);
    CU_ASSERT(text_is(&f, f.includes->pattern, "\"x/*.yard\""));
    CU_ASSERT_EQUAL(f.ast.global->kind, AST_USER);
    CU_ASSERT_EQUAL(f.ast.global->next->argc, 4);   /* syslog, path, facility, level */
    CU_ASSERT_EQUAL(f.ast.global->next->next->argc, 5);
    CU_ASSERT_EQUAL(f.ast.defaults->kind, AST_TIMEOUT);
    CU_ASSERT_EQUAL(f.ast.defaults->next->kind, AST_ERROR);
    l = f.ast.listeners;
    CU_ASSERT_EQUAL(l->mode_kind, AST_HTTP);
    CU_ASSERT(text_is(&f, l->binds->next->addr, "[::1]:80"));
    CU_ASSERT_EQUAL(l->items->kind, AST_FALLBACK);
    CU_ASSERT(text_is(&f, l->next->name, "tls"));
    CU_ASSERT_EQUAL(l->next->mode_kind, AST_TLS);
    CU_ASSERT(text_is(&f, f.ast.pools->servers->next->addr, "[::1]:2"));
    CU_ASSERT_EQUAL(f.ast.domains->proto_kind, AST_TLS);
    e = f.ast.expects;
    CU_ASSERT_EQUAL(e->kind, AST_EXPECT_REDIRECT);
    CU_ASSERT(text_is(&f, e->path, "\"/p\""));
    CU_ASSERT(text_is(&f, e->result, "301"));
    CU_ASSERT_EQUAL(e->next->kind, AST_EXPECT_SERVERS);
    CU_ASSERT(text_is(&f, e->next->result, "[::1]:1, [::1]:2"));
    CU_ASSERT_EQUAL(e->next->path.src, DIAG_NO_SOURCE);
    arena_free(&f.arena);
}

static void
test_parser_error_counts(void)
{
    static const struct {
        const char *text;
        unsigned errors;
    } cases[] = {
        { "", 0 },
        { "site a { tls x }", 1 },
        { "site a { tls x; }\nsite b { tls y }\nsite c { tls z; }", 1 },
        { "global { usr a; grup b; workers 2; }", 2 },
        { "sitee a { tls x; }\nsite b { tls y; }", 1 },
        { "listen www tls { fallback pool; }", 1 },
        { "expect www a 503;\nexpect www a -> ;", 2 },
        { "site a {", 1 },
        { "site a ! b;", 1 },            /* lexical error only: no syntax error after it */
        { "}}}; site a { tls x; }", 1 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fixture f;

        parse(&f, cases[i].text);
        CU_ASSERT_EQUAL(f.diag.errors, cases[i].errors);
        if (f.diag.errors != cases[i].errors)
            fprintf(stderr, "case %zu: %u errors\n", i, f.diag.errors);
        arena_free(&f.arena);
    }
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "site", test_parser_site },
        { "statements", test_parser_statements },
        { "error counts", test_parser_error_counts },
    };

    return UNIT_RUN("parser", tests);
}
