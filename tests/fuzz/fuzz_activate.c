/* libFuzzer harness for runtime/activate.c.
 *
 * Input: three NUL-separated strings, LISTEN_PID, LISTEN_FDS and the third read both as
 * LISTEN_FDNAMES and as a comma-separated list. Beyond "no crash, no read past the end":
 * a count never exceeds the cap, a failure always says why, every name lies inside the
 * string and holds no ':', and a list's numbers are within their bounds, as many as its
 * commas plus one.
 */
#include "activate.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 8

static void
must(bool promise)
{
    if (!promise)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1), *pid, *fds, *third, *cut;
    const char *why = NULL;
    size_t count = 99, len;
    long v[CAP];

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    pid = copy;
    fds = pid + strlen(pid) + (pid + strlen(pid) < copy + size);
    third = fds + strlen(fds) + (fds + strlen(fds) < copy + size);
    if (activate_parse(pid, fds, 4242, CAP, &count, &why) == 0)
        must(count <= CAP);
    else
        must(why != NULL && count == 0);
    for (size_t i = 0; i < CAP + 2; i++) {
        const char *p = activate_name(third, i, &len);

        if (p == NULL)
            break;
        must(p >= third && p + len <= third + strlen(third));
        must(memchr(p, ':', len) == NULL && (p[len] == '\0' || p[len] == ':'));
    }
    long n = activate_list(third, 3, 1000, v, CAP);

    if (n > 0) {
        size_t commas = 0;

        for (cut = third; *cut != '\0'; cut++)
            commas += *cut == ',';
        must((size_t)n == commas + 1 && n <= CAP);
        for (long i = 0; i < n; i++)
            must(v[i] >= 3 && v[i] <= 1000);
    } else {
        must(n == -1 || (n == 0 && third[0] == '\0'));
    }
    free(copy);
    return 0;
}
