/* The one main() of every CUnit suite: register the tests, run them verbosely, and turn
 * the failure count into the exit status (read before CU_cleanup_registry() clears it). */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <CUnit/Basic.h>

struct unit_test {
    const char *name;
    void (*run)(void);
};

/* Runs tests[0 .. count) as the suite `suite`. Returns 0 when all passed, 1 when some
 * failed, 2 when CUnit itself failed. */
static int
unit_run(const char *suite, const struct unit_test *tests, size_t count)
{
    CU_pSuite s;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite(suite, NULL, NULL);
    for (size_t i = 0; s != NULL && i < count; i++)
        if (CU_add_test(s, tests[i].name, tests[i].run) == NULL)
            s = NULL;
    if (s == NULL) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures == 0 ? 0 : 1;
}

#define UNIT_RUN(suite, tests) unit_run((suite), (tests), sizeof(tests) / sizeof((tests)[0]))

#endif
