/* libFuzzer harness for runtime/hcheck.c.
 *
 * Input: the bytes a server answers a health check with. Beyond "no crash, no read past
 * len": the answer is decided by the first HC_STATUS_LINE_MIN bytes (what follows never
 * changes it), a status is 100 .. 599, and every strict prefix of an input that gives a
 * status needs more.
 */
#include "hcheck.h"

#include <stdbool.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must(bool promise)
{
    if (!promise)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t status = 0, again = 0;
    enum hc_result r = hc_status_line(data, size, &status);

    must(r == HC_NEED_MORE || r == HC_STATUS || r == HC_ERR);
    must(r != HC_NEED_MORE || size < HC_STATUS_LINE_MIN);
    if (size >= HC_STATUS_LINE_MIN)
        must(hc_status_line(data, HC_STATUS_LINE_MIN, &again) == r);
    if (r != HC_STATUS)
        return 0;
    must(status >= 100 && status <= 599);
    must(size < HC_STATUS_LINE_MIN || again == status);
    for (size_t n = 0; n < HC_STATUS_LINE_MIN; n++)
        must(hc_status_line(data, n, &again) == HC_NEED_MORE);
    return 0;
}
