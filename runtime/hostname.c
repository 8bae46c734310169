#include "hostname.h"

#include <ctype.h>
#include <dlfcn.h>
#include <idn2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool
is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* The length of in without its ":port" and one trailing dot. */
static size_t
name_len(const char *in)
{
    size_t len = strlen(in);
    const char *colon = strrchr(in, ':');

    if (colon != NULL && (in[0] == '[' ? colon > strrchr(in, ']') : strchr(in, ':') == colon)) {
        bool digits = colon[1] != '\0';

        for (const char *p = colon + 1; *p; p++)
            digits = digits && isdigit((unsigned char)*p);
        if (digits)
            len = (size_t)(colon - in);
    }
    if (len > 0 && in[len - 1] == '.')
        len--;
    return len;
}

/* Set by the linker in a dynamically linked binary only. A static binary never calls
 * dlopen(): glibc's would need the shared glibc the binary was built with. */
extern const char _DYNAMIC[] __attribute__((weak));

/* libidn2, loaded on first use. */
static struct {
    __typeof__(idn2_to_ascii_8z) *to_ascii;
    __typeof__(idn2_strerror) *strerror;
    __typeof__(idn2_free) *free;
} idn2;

static int
load_idn2(const char **why)
{
    void *lib;

    if (idn2.to_ascii != NULL)
        return 0;
    if (_DYNAMIC == NULL) {
        *why = "a Unicode name needs libidn2, which a static binary cannot load; "
               "give the name in A-labels (xn--...)";
        return -1;
    }
    lib = dlopen("libidn2.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        *why = "a Unicode name needs libidn2 (libidn2.so.0), which is not installed; "
               "give the name in A-labels (xn--...)";
        return -1;
    }
    idn2.strerror = (__typeof__(idn2.strerror))dlsym(lib, "idn2_strerror");
    idn2.free = (__typeof__(idn2.free))dlsym(lib, "idn2_free");
    idn2.to_ascii = (__typeof__(idn2.to_ascii))dlsym(lib, "idn2_to_ascii_8z");
    if (idn2.to_ascii == NULL || idn2.strerror == NULL || idn2.free == NULL) {
        idn2.to_ascii = NULL;
        *why = "libidn2.so.0 lacks idn2_to_ascii_8z";
        return -1;
    }
    return 0;
}

/* Lowercases src[0..len) into out[0..cap), NUL-terminated, cut to cap - 1 bytes. */
static size_t
copy_lower(const char *src, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)src[i]);
    out[n] = '\0';
    return n;
}

ssize_t
hostname_normalise(const char *in, char *out, size_t cap, const char **why)
{
    size_t len = name_len(in), n;
    char *name, *ascii = NULL;
    int rc;

    if (is_ascii(in, len))
        return (ssize_t)copy_lower(in, len, out, cap);
    if (load_idn2(why) == -1)
        return -1;
    name = strndup(in, len);
    if (name == NULL) {
        *why = "out of memory";
        return -1;
    }
    /* The flags yardc converts the names of the configuration with (compiler/domain.c). */
    rc = idn2.to_ascii(name, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    free(name);
    if (rc != IDN2_OK) {
        *why = idn2.strerror(rc);
        return -1;
    }
    n = copy_lower(ascii, strlen(ascii), out, cap);
    idn2.free(ascii);
    return (ssize_t)n;
}
