/* CUnit suite for the lexer (grammar/lexer.re): token codes, offsets and lengths, and
 * the inputs it refuses. */
#include <string.h>

#include "lexer.h"
#include "parser.h"
#include "unit.h"

struct want {
    int tok;
    uint32_t off, len;
};

/* Lexes text (NUL-terminated, as the lexer requires) and compares every token. */
static void
expect_tokens(const char *text, const struct want *w, size_t n)
{
    struct lexer lx;
    struct loc tok;

    lexer_init(&lx, 0, text, (uint32_t)strlen(text));
    for (size_t i = 0; i < n; i++) {
        int t = lexer_next(&lx, &tok);

        CU_ASSERT_EQUAL(t, w[i].tok);
        CU_ASSERT_EQUAL(tok.off, w[i].off);
        CU_ASSERT_EQUAL(tok.len, w[i].len);
    }
    CU_ASSERT_EQUAL(lexer_next(&lx, &tok), LEXER_EOF);
    CU_ASSERT_EQUAL(tok.off, strlen(text));
}

static void
test_lexer_statement(void)
{
    const char *s = "site *.apps.example { tls [2001:db8::1]:443 weight 2; } # c\n";
    const struct want w[] = {
        { TK_SITE, 0, 4 }, { TK_WORD, 5, 14 }, { TK_LBRACE, 20, 1 }, { TK_TLS, 22, 3 },
        { TK_ADDR, 26, 17 }, { TK_WEIGHT, 44, 6 }, { TK_NUMBER, 51, 1 }, { TK_SEMI, 52, 1 },
        { TK_RBRACE, 54, 1 },
    };

    expect_tokens(s, w, sizeof(w) / sizeof(w[0]));
}

static void
test_lexer_values(void)
{
    const char *s = "5s 0660 16k :443 *:80 127.0.0.1:8080 \"a\\\"b\\x41\" -> send-proxy-v2 "
                    "global.example bücher.example";
    const struct want w[] = {
        { TK_NUMUNIT, 0, 2 }, { TK_NUMBER, 3, 4 }, { TK_NUMUNIT, 8, 3 }, { TK_ADDR, 12, 4 },
        { TK_ADDR, 17, 4 }, { TK_ADDR, 22, 14 }, { TK_STRING, 37, 10 }, { TK_ARROW, 48, 2 },
        { TK_SEND_PROXY_V2, 51, 13 }, { TK_WORD, 65, 14 }, { TK_WORD, 80, 15 },
    };

    expect_tokens(s, w, sizeof(w) / sizeof(w[0]));
}

/* Source ranges are one address token each; "127.0.0.1" alone stays a name. */
static void
test_lexer_ranges(void)
{
    const char *s = "accept-proxy optional from 10.0.0.0/8, 2001:db8::/32, [::1]/128, 127.0.0.1;";
    const struct want w[] = {
        { TK_ACCEPT_PROXY, 0, 12 }, { TK_OPTIONAL, 13, 8 }, { TK_FROM, 22, 4 },
        { TK_ADDR, 27, 10 }, { TK_COMMA, 37, 1 }, { TK_ADDR, 39, 13 }, { TK_COMMA, 52, 1 },
        { TK_ADDR, 54, 9 }, { TK_COMMA, 63, 1 }, { TK_WORD, 65, 9 }, { TK_SEMI, 74, 1 },
    };

    expect_tokens(s, w, sizeof(w) / sizeof(w[0]));
}

static void
test_lexer_log_words(void)
{
    const char *s = "log udp 127.0.0.1:514; log sample 1/100; log off; log-format json; 1/";
    const struct want w[] = {
        { TK_LOG, 0, 3 }, { TK_UDP, 4, 3 }, { TK_ADDR, 8, 13 }, { TK_SEMI, 21, 1 },
        { TK_LOG, 23, 3 }, { TK_SAMPLE, 27, 6 }, { TK_RATIO, 34, 5 }, { TK_SEMI, 39, 1 },
        { TK_LOG, 41, 3 }, { TK_OFF, 45, 3 }, { TK_SEMI, 48, 1 },
        { TK_LOG_FORMAT, 50, 10 }, { TK_WORD, 61, 4 }, { TK_SEMI, 65, 1 },
        { TK_NUMBER, 67, 1 }, { LEXER_ERROR, 68, 1 },
    };

    expect_tokens(s, w, sizeof(w) / sizeof(w[0]));
}

static void
test_lexer_errors(void)
{
    static const struct {
        const char *text;
        size_t len;
        uint32_t off;
    } cases[] = {
        { "site a\0b", 8, 6 },          /* NUL inside the input */
        { "site \xff", 6, 5 },          /* invalid UTF-8 */
        { "site \xc3\x28", 7, 5 },      /* truncated sequence */
        { "\"open", 5, 0 },             /* unterminated string */
        { "\"a\\qb\"", 6, 2 },          /* bad escape */
        { "a ! b", 5, 2 },              /* stray character */
        { "# \xfe\n", 4, 2 },           /* invalid UTF-8 in a comment */
        { "[::1", 4, 0 },               /* unterminated bracket */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lexer lx;
        struct loc tok;
        int t, errors = 0;
        uint32_t first = UINT32_MAX;

        lexer_init(&lx, 0, cases[i].text, (uint32_t)cases[i].len);
        do {
            t = lexer_next(&lx, &tok);
            if (t == LEXER_ERROR) {
                if (errors++ == 0)
                    first = tok.off;
                CU_ASSERT_PTR_NOT_NULL(lx.error);
            }
        } while (t != LEXER_EOF);
        CU_ASSERT(errors >= 1);
        CU_ASSERT_EQUAL(first, cases[i].off);
    }
}

static void
test_lexer_keyword_table(void)
{
    CU_ASSERT_EQUAL(lexer_keyword("timeout", 7), TK_TIMEOUT);
    CU_ASSERT_EQUAL(lexer_keyword("timeouts", 8), 0);
    CU_ASSERT(lexer_is_keyword(TK_ACME));
    CU_ASSERT(!lexer_is_keyword(TK_WORD));
    CU_ASSERT_STRING_EQUAL(lexer_token_desc(TK_SEMI), "';'");
    CU_ASSERT_STRING_EQUAL(lexer_token_desc(TK_MAX_HEAD), "'max-head'");
    CU_ASSERT_STRING_EQUAL(lexer_token_desc(TK_RATIO), "a ratio");
}

/* Each keyword's description is itself in quotes: the two tables stay in step. */
static void
test_lexer_keyword_descriptions(void)
{
    static const char *const words[] = {
        "acme", "admin", "alert", "backup", "chroot", "defaults", "domains", "dontlognull",
        "error", "expect", "fallback", "file", "forwarded-for", "global", "group", "http",
        "include", "level", "listen", "log", "log-format", "max-head", "maxconn", "mode",
        "off", "pool", "port", "redirect", "sample", "send-proxy", "send-proxy-v2", "server",
        "site", "status", "stderr", "syslog", "text", "timeout", "tls", "udp", "user",
        "weight", "workers",
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        const char *d = lexer_token_desc(lexer_keyword(words[i], (uint32_t)strlen(words[i])));

        CU_ASSERT(strlen(d) == strlen(words[i]) + 2 && d[0] == '\'' &&
                  strncmp(d + 1, words[i], strlen(words[i])) == 0);
    }
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "statement", test_lexer_statement },
        { "values", test_lexer_values },
        { "log_words", test_lexer_log_words },
        { "errors", test_lexer_errors },
        { "keyword table", test_lexer_keyword_table },
        { "keyword descriptions", test_lexer_keyword_descriptions },
        { "source ranges", test_lexer_ranges },
    };

    return UNIT_RUN("lexer", tests);
}
