/* libFuzzer harness for yardc's front end: lexer, parser, checks, table building,
 * canonical text and expect evaluation, on one in-memory file. File access is off
 * (includes, domain lists and error page files fail with an error), diagnostics go
 * nowhere, and nothing is written. With a successful compile, the canonical text is
 * compiled again and must give the same digest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"
#include "yard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct yard y;

    if (len > 1 << 20)
        return 0;
    yard_init(&y, NULL);
    if (yard_compile(&y, "fuzz.yard", (const char *)data, len, false) == YARD_OK) {
        const struct yt_table *t = &y.result.table;
        struct yard again;
        struct abuf text;

        abuf_init(&text, &y.arena);
        yt_print_config(t, print_put, &text);
        yard_init(&again, NULL);
        if (yard_compile(&again, "canonical.yard", text.data, text.len, false) != YARD_OK ||
            strcmp(again.result.table.digest, t->digest) != 0) {
            fprintf(stderr, "canonical text does not compile to the same digest\n");
            abort();
        }
        yard_free(&again);
    }
    yard_free(&y);
    return 0;
}
