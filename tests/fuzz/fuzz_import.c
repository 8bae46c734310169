/* libFuzzer harness for `yardc import`: the HAProxy tokenizer and the translation, on one
 * in-memory file, with file access off (map files and error pages fail with an error)
 * and diagnostics going nowhere. A translation that succeeds must compile, its expect
 * lines included: the importer never writes a .yard that yardc refuses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "import.h"
#include "yard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct import_opts o = { .allow_fs = false };
    struct arena a;
    struct diag d;
    struct abuf out;

    if (len > 1 << 20)
        return 0;
    arena_init(&a);
    diag_init(&d, &a, NULL);
    abuf_init(&out, &a);
    if (import_haproxy(&d, &a, "fuzz.cfg", (const char *)data, len, &o, &out) == IMPORT_OK) {
        struct yard y;

        yard_init(&y, NULL);
        if (yard_compile(&y, "fuzz.yard", out.data, out.len, false) != YARD_OK) {
            fprintf(stderr, "the translation does not compile:\n%.*s\n", (int)out.len,
                    out.data);
            abort();
        }
        yard_free(&y);
    }
    arena_free(&a);
    return 0;
}
