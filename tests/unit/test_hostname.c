/* Names given to `switchyard --resolve`, in the form the table holds them: the port and a
 * trailing dot go, ASCII is lowercased, Unicode becomes A-labels as yardc makes them
 * (whatever the case or normalisation form it was typed in), and what libidn2 refuses is
 * an error with its reason. */
#include "hostname.h"
#include "unit.h"

#include <string.h>

#define NAME_CAP 256

/* The lookup form of in, or "ERROR" when it has none. */
static const char *
norm(const char *in)
{
    static char out[NAME_CAP];
    const char *why = NULL;
    ssize_t n = hostname_normalise(in, out, sizeof(out), &why);

    if (n == -1) {
        CU_ASSERT_PTR_NOT_NULL(why);
        return "ERROR";
    }
    CU_ASSERT_EQUAL((size_t)n, strlen(out));
    return out;
}

static void
test_hostname_ascii(void)
{
    CU_ASSERT_STRING_EQUAL(norm("X.Apps.Test:443"), "x.apps.test");
    CU_ASSERT_STRING_EQUAL(norm("alpha.test."), "alpha.test");
    CU_ASSERT_STRING_EQUAL(norm("alpha.test:"), "alpha.test:");     /* no digits: no port */
    CU_ASSERT_STRING_EQUAL(norm("[::1]:443"), "[::1]");
    CU_ASSERT_STRING_EQUAL(norm(""), "");
    CU_ASSERT_STRING_EQUAL(norm("a_b.example"), "a_b.example");    /* the table says no */
}

static void
test_hostname_unicode_is_an_a_label(void)
{
    CU_ASSERT_STRING_EQUAL(norm("bücher.example"), "xn--bcher-kva.example");
    CU_ASSERT_STRING_EQUAL(norm("Bücher.EXAMPLE"), "xn--bcher-kva.example");
    CU_ASSERT_STRING_EQUAL(norm("BÜCHER.example.:8443"), "xn--bcher-kva.example");
    CU_ASSERT_STRING_EQUAL(norm("bu\xcc\x88" "cher.example"), "xn--bcher-kva.example"); /* NFD */
    CU_ASSERT_STRING_EQUAL(norm("école.xn--bcher-kva.example"),
                           "xn--cole-9oa.xn--bcher-kva.example");
    CU_ASSERT_STRING_EQUAL(norm("faß.de"), "xn--fa-hia.de");  /* non-transitional: ß stays */
}

static void
test_hostname_refused(void)
{
    CU_ASSERT_STRING_EQUAL(norm("\xff.example"), "ERROR");          /* not UTF-8 */
    CU_ASSERT_STRING_EQUAL(norm("\xe2\x98\x83.example"), "ERROR");   /* U+2603 disallowed */
    CU_ASSERT_STRING_EQUAL(norm("a\xe2\x80\x8d" "b.example"), "ERROR"); /* ZWJ, no context */
}

static void
test_hostname_cut_to_cap(void)
{
    char out[8];
    const char *why;

    CU_ASSERT_EQUAL(hostname_normalise("ABCDEFGHIJ", out, sizeof(out), &why), 7);
    CU_ASSERT_STRING_EQUAL(out, "abcdefg");
    CU_ASSERT_EQUAL(hostname_normalise("bücher.example", out, sizeof(out), &why), 7);
    CU_ASSERT_STRING_EQUAL(out, "xn--bch");
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "ascii", test_hostname_ascii },
        { "unicode_is_an_a_label", test_hostname_unicode_is_an_a_label },
        { "refused", test_hostname_refused },
        { "cut_to_cap", test_hostname_cut_to_cap },
    };

    return UNIT_RUN("hostname", tests);
}
