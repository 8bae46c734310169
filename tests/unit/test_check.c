/* CUnit suite for the checks (compiler/check.c and its parts, addr.c, value.c, domain.c):
 * domain validation and normalisation, durations, addresses, duplicate detection, and
 * expect evaluation on the built table. Whole configurations are compiled from memory with file access off. */
#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "check.h"
#include "domain.h"
#include "yard.h"
#include "unit.h"
#include "value.h"

static void
test_domain_table(void)
{
    static const struct {
        const char *in;
        bool wild;
        enum domain_result r;
        const char *out;
    } cases[] = {
        { "example.com", false, DOMAIN_OK, "example.com" },
        { "WWW.Example.COM.", false, DOMAIN_OK, "www.example.com" },
        { "*.apps.example", true, DOMAIN_OK, "*.apps.example" },
        { "*.apps.example", false, DOMAIN_WILDCARD_NOT_ALLOWED, NULL },
        { "a.*.example", true, DOMAIN_WILDCARD, NULL },
        { "*", true, DOMAIN_EMPTY, NULL },
        { "", false, DOMAIN_EMPTY, NULL },
        { ".", false, DOMAIN_EMPTY, NULL },
        { "a..b", false, DOMAIN_EMPTY_LABEL, NULL },
        { ".a", false, DOMAIN_EMPTY_LABEL, NULL },
        { "a.b..", false, DOMAIN_EMPTY_LABEL, NULL },
        { "-a.b", false, DOMAIN_HYPHEN, NULL },
        { "a-.b", false, DOMAIN_HYPHEN, NULL },
        { "a_b.c", false, DOMAIN_BAD_CHAR, NULL },
        { "a b", false, DOMAIN_BAD_CHAR, NULL },
        { "xn--bcher-kva.example", false, DOMAIN_OK, "xn--bcher-kva.example" },
        { "bücher.example", false, DOMAIN_OK, "xn--bcher-kva.example" },
        { "BÜCHER.example", false, DOMAIN_OK, "xn--bcher-kva.example" },
        { "*.école.example", true, DOMAIN_OK, "*.xn--cole-9oa.example" },
        { "localhost", false, DOMAIN_OK, "localhost" },
        { "123.example", false, DOMAIN_OK, "123.example" },
    };
    char out[DOMAIN_BUF];
    size_t len, off, blen;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum domain_result r = domain_normalize(cases[i].in, strlen(cases[i].in), cases[i].wild,
                                                out, &len, &off, &blen, NULL);

        CU_ASSERT_EQUAL(r, cases[i].r);
        if (r != cases[i].r)
            fprintf(stderr, "domain case %zu (%s): %d\n", i, cases[i].in, (int)r);
        if (cases[i].out != NULL && r == DOMAIN_OK) {
            CU_ASSERT_STRING_EQUAL(out, cases[i].out);
            CU_ASSERT_EQUAL(len, strlen(cases[i].out));
        }
    }
}

static void
test_domain_lengths(void)
{
    char name[300], out[DOMAIN_BUF];
    size_t len, off, blen;

    /* 63-byte label: fine; 64: too long, the span covers the label */
    memset(name, 'a', 64);
    memcpy(name + 64, ".x", 3);
    CU_ASSERT_EQUAL(domain_normalize(name + 1, 65, false, out, &len, &off, &blen, NULL),
                    DOMAIN_OK);
    CU_ASSERT_EQUAL(domain_normalize(name, 66, false, out, &len, &off, &blen, NULL),
                    DOMAIN_LABEL_TOO_LONG);
    CU_ASSERT_EQUAL(off, 0);
    CU_ASSERT_EQUAL(blen, 64);
    /* 253 bytes in all: fine (with a trailing dot too); 254: too long */
    for (int i = 0; i < 254; i++)
        name[i] = i % 2 ? '.' : 'a';
    name[252] = 'a';
    CU_ASSERT_EQUAL(domain_normalize(name, 253, false, out, &len, &off, &blen, NULL),
                    DOMAIN_OK);
    name[253] = '.';
    CU_ASSERT_EQUAL(domain_normalize(name, 254, false, out, &len, &off, &blen, NULL),
                    DOMAIN_OK);
    name[253] = 'a';
    name[252] = '.';
    CU_ASSERT_EQUAL(domain_normalize(name, 255 - 1, false, out, &len, &off, &blen, NULL),
                    DOMAIN_TOO_LONG);
}

static void
test_durations(void)
{
    static const struct {
        const char *in;
        uint32_t ms;                    /* 0: refused */
    } cases[] = {
        { "1ms", 1 }, { "5s", 5000 }, { "50000ms", 50000 }, { "10m", 600000 },
        { "1h", 3600000 }, { "24h", 86400000 }, { "25h", 0 }, { "0s", 0 }, { "5", 0 },
        { "5d", 0 }, { "s", 0 }, { "99999999999ms", 0 }, { "1440m", 86400000 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t ms = 0;
        const char *why = value_duration(cases[i].in, strlen(cases[i].in), &ms);

        if (cases[i].ms == 0) {
            CU_ASSERT_PTR_NOT_NULL(why);
        } else {
            CU_ASSERT_PTR_NULL(why);
            CU_ASSERT_EQUAL(ms, cases[i].ms);
        }
    }
}

static void
test_addresses(void)
{
    struct sockaddr_in6 a;
    struct yt_bind b;
    size_t off, len;

    CU_ASSERT_PTR_NULL(addr_server("[2601:40e:69:69::feed]:443", 26, &a, &off, &len));
    CU_ASSERT_EQUAL(ntohs(a.sin6_port), 443);
    CU_ASSERT_EQUAL(a.sin6_family, AF_INET6);
    CU_ASSERT_PTR_NOT_NULL(addr_server("10.0.0.7:443", 12, &a, &off, &len));
    CU_ASSERT_PTR_NOT_NULL(addr_server("[::1]", 5, &a, &off, &len));
    CU_ASSERT_PTR_NOT_NULL(addr_server("[::1]:0", 7, &a, &off, &len));
    CU_ASSERT_EQUAL(off, 6);
    CU_ASSERT_PTR_NOT_NULL(addr_server("[::1]:65536", 11, &a, &off, &len));
    CU_ASSERT_PTR_NOT_NULL(addr_server("[::g]:80", 8, &a, &off, &len));

    CU_ASSERT_PTR_NULL(addr_bind(":443", 4, &b, &off, &len));
    CU_ASSERT_EQUAL(b.addr.sa.sa_family, AF_INET6);
    CU_ASSERT_EQUAL(b.v6only, 0);
    CU_ASSERT_PTR_NULL(addr_bind("*:80", 4, &b, &off, &len));
    CU_ASSERT_EQUAL(b.v6only, 0);
    CU_ASSERT_PTR_NULL(addr_bind("127.0.0.1:8080", 14, &b, &off, &len));
    CU_ASSERT_EQUAL(b.addr.sa.sa_family, AF_INET);
    CU_ASSERT_EQUAL(ntohs(b.addr.in4.sin_port), 8080);
    CU_ASSERT_PTR_NULL(addr_bind("[::1]:80", 8, &b, &off, &len));
    CU_ASSERT_EQUAL(b.v6only, 1);
    CU_ASSERT_PTR_NOT_NULL(addr_bind("1.2.3:80", 8, &b, &off, &len));
    CU_ASSERT_PTR_NOT_NULL(addr_bind(":0", 2, &b, &off, &len));
}

/* Compiles text from memory; returns the status and the number of errors. */
static enum yard_status
compile(const char *text, unsigned *errors, unsigned *warnings)
{
    struct yard y;
    enum yard_status st;

    yard_init(&y, NULL);
    st = yard_compile(&y, "t.yard", text, strlen(text), false);
    *errors = y.diag.errors;
    if (warnings != NULL)
        *warnings = y.diag.warnings;
    yard_free(&y);
    return st;
}

static void
test_duplicates(void)
{
    static const struct {
        const char *text;
        unsigned errors;
    } cases[] = {
        { "listen l tls :443; site a.example { tls [::1]:1; }", 0 },
        { "listen l tls :443; site a.example { tls [::1]:1; } site A.EXAMPLE. { tls [::1]:2; }",
          1 },
        { "listen l tls :443; pool p { server [::1]:1; } pool p { server [::1]:2; }"
          "site a.example { tls p; }", 1 },
        { "listen l tls :443; listen l tls :8443; site a.example { tls [::1]:1; }", 1 },
        { "listen l tls :443; listen m tls 127.0.0.1:443; site a.example { tls [::1]:1; }", 1 },
        { "listen l tls [::1]:443; listen m tls 127.0.0.1:443; site a.example { tls [::1]:1; }",
          0 },
        { "listen l tls 0.0.0.0:443; listen m tls [::]:443; site a.example { tls [::1]:1; }",
          0 },
        { "defaults { timeout connect 1s; timeout connect 2s; }", 1 },
        { "global { user a; } global { user b; }", 1 },
        { "listen l tls :443; site a.example { tls [::1]:1, [::1]:1; }", 1 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned errors;

        compile(cases[i].text, &errors, NULL);
        CU_ASSERT_EQUAL(errors, cases[i].errors);
        if (errors != cases[i].errors)
            fprintf(stderr, "duplicate case %zu: %u errors\n", i, errors);
    }
}

static void
test_expects(void)
{
    static const char base[] =
        "listen www http :80;\n"
        "listen tls tls :443;\n"
        "listen red redirect :8080 { status 307; }\n"
        "pool apps { server [::a]:443; server [::b]:443; }\n"
        "site a.example { http [::1]:80; tls [::1]:443; acme; }\n"
        "site *.apps.example { tls apps; }\n"
        "site *.x.apps.example { tls [::c]:443; }\n"
        "site x.apps.example { tls [::d]:443; }\n";
    static const struct {
        const char *expect;
        bool holds;
    } cases[] = {
        { "expect tls a.example -> [::1]:443;", true },
        { "expect tls A.Example. -> [::1]:443;", true },
        { "expect tls a.example -> [::1]:444;", false },
        { "expect tls q.apps.example -> [::a]:443, [::b]:443;", true },
        { "expect tls q.apps.example -> [::b]:443, [::a]:443;", false },
        { "expect tls q.apps.example -> pool apps;", true },
        { "expect tls apps.example -> alert;", true },
        { "expect tls x.apps.example -> [::d]:443;", true },
        { "expect tls y.x.apps.example -> [::c]:443;", true },
        { "expect tls a.b.x.apps.example -> [::c]:443;", true },
        { "expect www nosuch.example -> 503;", true },
        { "expect www nosuch.example -> 404;", false },
        { "expect www a.example -> [::1]:80;", true },
        { "expect red a.example -> redirect 307;", true },
        { "expect red a.example \"/.well-known/acme-challenge/t\" -> [::1]:80;", true },
        { "expect red a.example \"/.well-known/acme-challenge\" -> redirect 307;", true },
        { "expect red q.apps.example \"/.well-known/acme-challenge/t\" -> redirect 307;", true },
        /* the carve-out never reaches another resource of the server */
        { "expect red a.example \"/.well-known/acme-challenge/../../admin/secret\" -> "
          "redirect 307;", true },
        { "expect red a.example \"/.well-known/acme-challenge/%2e%2e/%2E%2e/admin\" -> "
          "redirect 307;", true },
        { "expect red a.example \"/.well-known/acme-challenge/a%2fb\" -> redirect 307;", true },
        { "expect red a.example \"/.well-known/acme-challenge/./t\" -> redirect 307;", true },
        { "expect red a.example \"/.well-known/acme-challenge/..?x\" -> redirect 307;", true },
        { "expect red a.example \"/.well-known/acme-challenge/t..x?a=../%2e\" -> [::1]:80;",
          true },
        { "expect www q.apps.example -> 503;", true },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[2048];
        unsigned errors;
        enum yard_status st;

        snprintf(text, sizeof(text), "%s%s\n", base, cases[i].expect);
        st = compile(text, &errors, NULL);
        CU_ASSERT_EQUAL(st == YARD_OK, cases[i].holds);
        if ((st == YARD_OK) != cases[i].holds)
            fprintf(stderr, "expect case %zu: status %d, %u errors\n", i, (int)st, errors);
    }
}

/* The ACME carve-out: the prefix, then a path without dot segments or percent-encoding. */
static void
test_acme_path(void)
{
    static const struct {
        const char *path;
        bool ok;
    } cases[] = {
        { "/.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", true },
        { "/.well-known/acme-challenge/", true },
        { "/.well-known/acme-challenge/a.b/c..d?x=/../%2e", true },
        { "/.well-known/acme-challenge", false },
        { "/.well-known/acme-challenge/..", false },
        { "/.well-known/acme-challenge/../../admin/secret", false },
        { "/.well-known/acme-challenge/./t", false },
        { "/.well-known/acme-challenge/t/.", false },
        { "/.well-known/acme-challenge/.?q", false },
        { "/.well-known/acme-challenge/%2e%2e/admin", false },
        { "/.well-known/acme-challenge/%2E%2e/admin", false },
        { "/.well-known/acme-challenge/a%2fb", false },
        { "/.well-known/acme-challenge/a%2Fb", false },
        { "/.well-known/acme-challenge/a\\..\\b", false },
        { "/.well-known/Acme-challenge/t", false },
        { "/x/.well-known/acme-challenge/t", false },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = yt_acme_path_ok(cases[i].path, strlen(cases[i].path));

        CU_ASSERT_EQUAL(ok, cases[i].ok);
        if (ok != cases[i].ok)
            fprintf(stderr, "acme path %s: %d\n", cases[i].path, ok);
    }
    CU_ASSERT_FALSE(yt_acme_path_ok(NULL, 0));
}

static void
test_canonical_digest(void)
{
    /* the same statements in another order, with other spellings: one digest */
    static const char a[] =
        "site b.example { tls [::2]:443; }\n"
        "site a.example { tls [2001:db8:0:0::1]:443; }\n"
        "listen tls tls :443;\n"
        "defaults { timeout connect 5000ms; }\n";
    static const char b[] =
        "# comment\n"
        "listen tls tls *:443 { }\n"
        "site A.EXAMPLE. { tls [2001:db8::1]:443; }\n"
        "defaults { timeout connect 5s; }\n"
        "site b.example {\n\ttls [::2]:443;\n}\n";
    struct yard ya, yb;

    yard_init(&ya, NULL);
    yard_init(&yb, NULL);
    CU_ASSERT_EQUAL_FATAL(yard_compile(&ya, "a.yard", a, strlen(a), false), YARD_OK);
    CU_ASSERT_EQUAL_FATAL(yard_compile(&yb, "b.yard", b, strlen(b), false), YARD_OK);
    CU_ASSERT_STRING_EQUAL(ya.result.table.digest, yb.result.table.digest);
    CU_ASSERT_EQUAL(ya.result.table.site_count, 2);
    CU_ASSERT_EQUAL(memcmp(ya.result.table.blob + ya.result.table.sites[0].name.off,
                           "a.example", 9), 0);
    yard_free(&ya);
    yard_free(&yb);
}

static void
test_warnings(void)
{
    unsigned errors, warnings;

    compile("listen l tls :443; pool p { server [::1]:1; }"
            "site *.a.example { tls p; } site x.a.example { tls p; }", &errors, &warnings);
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_EQUAL(warnings, 1);
    compile("listen l tls :443; pool p { server [::1]:1; } pool q { server [::1]:2; }"
            "site a.example { tls p; }", &errors, &warnings);
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_EQUAL(warnings, 1);
}

/* yt_print_config()'s pieces, gathered in a string. */
struct text {
    char data[4096];
    size_t len;
};

static void
text_put(void *ctx, const char *s, size_t len)
{
    struct text *t = ctx;

    if (len < sizeof(t->data) - t->len) {
        memcpy(t->data + t->len, s, len);
        t->len += len;
        t->data[t->len] = '\0';
    }
}

/* The relay of the listener called name, or -1 when there is none. */
static int
listener_relay(const struct yt_table *t, const char *name)
{
    for (uint32_t i = 0; i < t->listener_count; i++) {
        const struct yt_listener *l = &t->listeners[i];

        if (l->name.len == strlen(name) && memcmp(t->blob + l->name.off, name, l->name.len) == 0)
            return l->relay;
    }
    return -1;
}

/* Compiles text (which must be valid) and checks each listener's relay against want
 * (names[i] has want[i]); prints the canonical form into out. */
static void
relay_compile(const char *text, const char *const *names, const int *want, size_t count,
              struct text *out)
{
    struct yard y;

    yard_init(&y, NULL);
    CU_ASSERT_EQUAL_FATAL(yard_compile(&y, "t.yard", text, strlen(text), false), YARD_OK);
    for (size_t i = 0; i < count; i++) {
        int got = listener_relay(&y.result.table, names[i]);

        CU_ASSERT_EQUAL(got, want[i]);
        if (got != want[i])
            fprintf(stderr, "listener %s: relay %d, want %d\n", names[i], got, want[i]);
    }
    out->len = 0;
    yt_print_config(&y.result.table, text_put, out);
    yard_free(&y);
}

static void
test_relay_per_listener(void)
{
    static const char text[] =
        "global { relay kernel; }\n"
        "listen inherits tls :443;\n"
        "listen own tls :8443 { relay user; }\n"
        "listen again tls :9443 { relay kernel; }\n"
        "listen other tls :10443 { relay auto; }\n"
        "listen www http :80;\n"
        "listen ws http :8080 { relay user; }\n"
        "listen away redirect :8081;\n"
        "site a.example { tls [::1]:1; http [::1]:2; }\n";
    static const char *const names[] = { "inherits", "own", "again", "other", "www", "ws",
                                         "away" };
    static const int want[] = { YT_RELAY_KERNEL, YT_RELAY_USER, YT_RELAY_KERNEL, YT_RELAY_AUTO,
                                YT_RELAY_KERNEL, YT_RELAY_USER, YT_RELAY_USER };
    static const int want_default[] = { YT_RELAY_USER, YT_RELAY_USER, YT_RELAY_KERNEL,
                                        YT_RELAY_AUTO, YT_RELAY_USER, YT_RELAY_USER,
                                        YT_RELAY_USER };
    struct text printed, again;
    unsigned errors;

    /* The listener's own choice over the global's; the global's where it has none; only tls
     * listeners and http ones (their WebSocket tunnels) relay at layer 4. */
    relay_compile(text, names, want, 7, &printed);
    /* The canonical form says a listener's choice only where it differs from the global's,
     * and reads back as the same table and text. */
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "    relay kernel;\n}\n\ndefaults"));
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "listen own tls :8443 {\n    relay user;\n}\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "listen other tls :10443 {\n    relay auto;\n}\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "listen again tls :9443 {\n}\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "listen inherits tls :443 {\n}\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "    max-head 16k;\n    relay user;\n}\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "listen www http :80 {\n    fallback 503;\n"
                                                "    max-head 16k;\n}\n"));
    relay_compile(printed.data, names, want, 7, &again);
    CU_ASSERT_STRING_EQUAL(again.data, printed.data);
    /* Without a global choice the default (user) is inherited. */
    relay_compile(text + strlen("global { relay kernel; }\n"), names, want_default, 7, &printed);
    CU_ASSERT_PTR_NULL(strstr(printed.data, "relay user;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(printed.data, "listen again tls :9443 {\n    relay kernel;\n}\n"));

    /* A listener whose connections are not relayed at layer 4 takes no relay; one choice
     * per listener; a known word. */
    compile("listen q quic :443 { relay kernel; } site a.example { quic [::1]:1; }", &errors,
            NULL);
    CU_ASSERT_EQUAL(errors, 1);
    compile("listen h redirect :80 { relay user; }", &errors, NULL);
    CU_ASSERT_EQUAL(errors, 1);
    compile("listen m metrics :9100 { relay kernel; }", &errors, NULL);
    CU_ASSERT_EQUAL(errors, 1);
    compile("listen h http :80 { relay kernel; } site a.example { http [::1]:1; }", &errors, NULL);
    CU_ASSERT_EQUAL(errors, 0);
    compile("listen l tls :443 { relay user; relay user; } site a.example { tls [::1]:1; }",
            &errors, NULL);
    CU_ASSERT_EQUAL(errors, 1);
    compile("listen l tls :443 { relay kernal; } site a.example { tls [::1]:1; }", &errors, NULL);
    CU_ASSERT_EQUAL(errors, 1);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "domain table", test_domain_table },
        { "domain lengths", test_domain_lengths },
        { "durations", test_durations },
        { "addresses", test_addresses },
        { "duplicates", test_duplicates },
        { "expects", test_expects },
        { "acme carve-out paths", test_acme_path },
        { "canonical digest", test_canonical_digest },
        { "warnings", test_warnings },
        { "relay per listener", test_relay_per_listener },
    };

    return UNIT_RUN("check", tests);
}
