/* The socket-passing environment: LISTEN_PID/LISTEN_FDS for this process or another,
 * malformed values, LISTEN_FDNAMES entries, and the proxy's own comma-separated lists. */
#include "activate.h"
#include "unit.h"

#include <string.h>

static void
test_activate_ours(void)
{
    size_t n = 99;
    const char *why = NULL;

    CU_ASSERT_EQUAL(activate_parse("812", "3", 812, 16, &n, &why), 0);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(activate_parse("812", "0", 812, 16, &n, &why), 0);
    CU_ASSERT_EQUAL(n, 0);
}

static void
test_activate_not_ours(void)
{
    size_t n = 99;
    const char *why = NULL;

    CU_ASSERT_EQUAL(activate_parse("813", "3", 812, 16, &n, &why), 0);
    CU_ASSERT_EQUAL(n, 0);
    n = 99;
    CU_ASSERT_EQUAL(activate_parse(NULL, "3", 812, 16, &n, &why), 0);
    CU_ASSERT_EQUAL(n, 0);
    n = 99;
    CU_ASSERT_EQUAL(activate_parse("812", NULL, 812, 16, &n, &why), 0);
    CU_ASSERT_EQUAL(n, 0);
}

static void
test_activate_malformed(void)
{
    size_t n;
    const char *why = NULL;

    CU_ASSERT_EQUAL(activate_parse("", "3", 812, 16, &n, &why), -1);
    CU_ASSERT_PTR_NOT_NULL(why);
    CU_ASSERT_EQUAL(activate_parse("81x", "3", 812, 16, &n, &why), -1);
    CU_ASSERT_EQUAL(activate_parse("-812", "3", 812, 16, &n, &why), -1);
    CU_ASSERT_EQUAL(activate_parse("812", "three", 812, 16, &n, &why), -1);
    CU_ASSERT_STRING_EQUAL(why, "LISTEN_FDS is not a number");
    CU_ASSERT_EQUAL(activate_parse("812", " 3", 812, 16, &n, &why), -1);
    CU_ASSERT_EQUAL(activate_parse("812", "17", 812, 16, &n, &why), -1);
    CU_ASSERT_STRING_EQUAL(why, "LISTEN_FDS: too many sockets");
    CU_ASSERT_EQUAL(activate_parse("812", "99999999999999999999", 812, 16, &n, &why), -1);
    CU_ASSERT_EQUAL(activate_parse("99999999999", "1", 812, 16, &n, &why), -1);
}

static void
test_activate_names(void)
{
    size_t len = 0;
    const char *p;

    p = activate_name("www:www-tls::last", 0, &len);
    CU_ASSERT(p != NULL && len == 3 && memcmp(p, "www", 3) == 0);
    p = activate_name("www:www-tls::last", 1, &len);
    CU_ASSERT(p != NULL && len == 7 && memcmp(p, "www-tls", 7) == 0);
    p = activate_name("www:www-tls::last", 2, &len);
    CU_ASSERT(p != NULL && len == 0);
    p = activate_name("www:www-tls::last", 3, &len);
    CU_ASSERT(p != NULL && len == 4 && memcmp(p, "last", 4) == 0);
    CU_ASSERT_PTR_NULL(activate_name("www:www-tls::last", 4, &len));
    CU_ASSERT_PTR_NULL(activate_name(NULL, 0, &len));
    p = activate_name("", 0, &len);
    CU_ASSERT(p != NULL && len == 0);
}

static void
test_activate_list(void)
{
    long v[4];

    CU_ASSERT_EQUAL(activate_list("", 0, 9, v, 4), 0);
    CU_ASSERT_EQUAL(activate_list("5", 0, 9, v, 4), 1);
    CU_ASSERT_EQUAL(v[0], 5);
    CU_ASSERT_EQUAL(activate_list("5,6,12", 3, 99, v, 4), 3);
    CU_ASSERT(v[0] == 5 && v[1] == 6 && v[2] == 12);
    CU_ASSERT_EQUAL(activate_list("5,6,7,8", 0, 9, v, 4), 4);
    CU_ASSERT_EQUAL(activate_list("5,6,7,8,9", 0, 9, v, 4), -1);   /* too many */
    CU_ASSERT_EQUAL(activate_list("5,,6", 0, 9, v, 4), -1);
    CU_ASSERT_EQUAL(activate_list("5,", 0, 9, v, 4), -1);
    CU_ASSERT_EQUAL(activate_list(",5", 0, 9, v, 4), -1);
    CU_ASSERT_EQUAL(activate_list("2", 3, 9, v, 4), -1);           /* below min */
    CU_ASSERT_EQUAL(activate_list("10", 3, 9, v, 4), -1);          /* above max */
    CU_ASSERT_EQUAL(activate_list("5 ", 0, 9, v, 4), -1);
    CU_ASSERT_EQUAL(activate_list("-5", -9, 9, v, 4), -1);
}

int
main(void)
{
    static const struct unit_test tests[] = {
        { "LISTEN_FDS for this process", test_activate_ours },
        { "LISTEN_PID of another process, or unset", test_activate_not_ours },
        { "malformed LISTEN_PID and LISTEN_FDS", test_activate_malformed },
        { "LISTEN_FDNAMES entries", test_activate_names },
        { "comma-separated lists", test_activate_list },
    };

    return UNIT_RUN("activate", tests);
}
