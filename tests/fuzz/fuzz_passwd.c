/* libFuzzer harness for runtime/passwd.c.
 *
 * Input: one byte choosing a user or a group lookup, the name up to the first NUL, then
 * the file's text. Beyond "no crash, no read past len": a match is deterministic, names a
 * line that starts with "name:", never gives (uid_t)-1, and the text cut just before that
 * line finds nothing or the same ids (the first match wins).
 */
#include "passwd.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise stops the fuzzer with a crash it can report. */
static void
must(bool promise)
{
    if (!promise)
        abort();
}

static int
find(int group, const char *text, size_t len, const char *name, uint32_t *ids)
{
    return group ? pw_find_group(text, len, name, &ids[0])
                 : pw_find_user(text, len, name, &ids[0], &ids[1]);
}

/* The offset of the first line of text[0 .. len) starting with "name:", or len. */
static size_t
line_of(const char *text, size_t len, const char *name)
{
    size_t n = strlen(name);

    for (size_t off = 0; off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);

        if (len - off > n && memcmp(text + off, name, n) == 0 && text[off + n] == ':')
            return off;
        off = nl != NULL ? (size_t)(nl - text) + 1 : len;
    }
    return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *name, *text, *nul;
    uint32_t ids[2] = { 0, 0 }, again[2] = { 0, 0 };
    size_t len, at;
    int group, rc;

    if (size < 1)
        return 0;
    group = data[0] & 1;
    nul = memchr(data + 1, '\0', size - 1);
    if (nul == NULL)
        return 0;
    name = (const char *)data + 1;
    text = nul + 1;
    len = size - (size_t)(text - (const char *)data);
    rc = find(group, text, len, name, ids);
    must(find(group, text, len, name, again) == rc);
    if (rc == -1)
        return 0;
    must(memcmp(ids, again, sizeof(ids)) == 0);
    must(ids[0] != UINT32_MAX && ids[1] != UINT32_MAX);
    at = line_of(text, len, name);
    must(at < len);
    /* Lines before the first "name:" line cannot match; from it on, the answer is the same. */
    must(find(group, text, at, name, again) == -1);
    must(find(group, text + at, len - at, name, again) == 0);
    must(memcmp(ids, again, sizeof(ids)) == 0);
    return 0;
}
