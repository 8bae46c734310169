#include "domain.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>

const char *
domain_strerror(enum domain_result r)
{
    switch (r) {
    case DOMAIN_OK: return "valid";
    case DOMAIN_EMPTY: return "empty domain name";
    case DOMAIN_TOO_LONG: return "domain name longer than 253 bytes";
    case DOMAIN_EMPTY_LABEL: return "empty label in domain name";
    case DOMAIN_LABEL_TOO_LONG: return "label longer than 63 bytes";
    case DOMAIN_BAD_CHAR:
        return "invalid character in domain name (letters, digits and '-' only)";
    case DOMAIN_HYPHEN: return "a label cannot start or end with '-'";
    case DOMAIN_WILDCARD: return "'*' is only allowed as the whole leftmost label";
    case DOMAIN_WILDCARD_NOT_ALLOWED: return "a wildcard is not allowed here";
    case DOMAIN_IDN: return "invalid internationalised domain name";
    }
    return "invalid domain name";
}

static enum domain_result
fail(enum domain_result r, size_t off, size_t len, size_t *bad_off, size_t *bad_len)
{
    *bad_off = off;
    *bad_len = len;
    return r;
}

/* Checks and lowercases the ASCII name in[0..len) (no trailing dot) into out. base is
 * the offset of in within the caller's name, for error spans. */
static enum domain_result
check_ldh(const char *in, size_t len, size_t base, char *out, size_t *bad_off, size_t *bad_len)
{
    size_t label = 0;

    if (len == 0)
        return fail(DOMAIN_EMPTY, base, 0, bad_off, bad_len);
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)in[i] : '.';

        if (c == '.') {
            if (i == label)
                return fail(DOMAIN_EMPTY_LABEL, base + i, 1, bad_off, bad_len);
            if (i - label > 63)
                return fail(DOMAIN_LABEL_TOO_LONG, base + label, i - label, bad_off, bad_len);
            if (in[label] == '-')
                return fail(DOMAIN_HYPHEN, base + label, 1, bad_off, bad_len);
            if (in[i - 1] == '-')
                return fail(DOMAIN_HYPHEN, base + i - 1, 1, bad_off, bad_len);
            if (i < len)
                out[i] = '.';
            label = i + 1;
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (c == '*')
            return fail(DOMAIN_WILDCARD, base + i, 1, bad_off, bad_len);
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return fail(DOMAIN_BAD_CHAR, base + i, 1, bad_off, bad_len);
        out[i] = (char)c;
    }
    if (len > YT_NAME_MAX)
        return fail(DOMAIN_TOO_LONG, base, len, bad_off, bad_len);
    out[len] = '\0';
    return DOMAIN_OK;
}

enum domain_result
domain_normalize(const char *name, size_t len, bool allow_wildcard, char out[DOMAIN_BUF],
                 size_t *out_len, size_t *bad_off, size_t *bad_len, const char **idn_error)
{
    size_t start = 0, prefix = 0;
    bool unicode = false;
    enum domain_result r;

    *out_len = 0;
    out[0] = '\0';
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0)
        return fail(DOMAIN_EMPTY, 0, len, bad_off, bad_len);
    if (len >= 2 && name[0] == '*' && name[1] == '.') {
        if (!allow_wildcard)
            return fail(DOMAIN_WILDCARD_NOT_ALLOWED, 0, 1, bad_off, bad_len);
        start = 2;
        prefix = 2;
        out[0] = '*';
        out[1] = '.';
    } else if (len == 1 && name[0] == '*') {
        return fail(allow_wildcard ? DOMAIN_EMPTY : DOMAIN_WILDCARD_NOT_ALLOWED, 0, 1, bad_off,
                    bad_len);
    }
    for (size_t i = start; i < len; i++) {
        if ((unsigned char)name[i] >= 0x80)
            unicode = true;
        if (name[i] == '\0')
            return fail(DOMAIN_BAD_CHAR, i, 1, bad_off, bad_len);
    }
    if (!unicode) {
        if (len - start > 4 * DOMAIN_BUF)
            return fail(DOMAIN_TOO_LONG, 0, len, bad_off, bad_len);
        if (prefix + (len - start) > YT_NAME_MAX)
            return fail(DOMAIN_TOO_LONG, 0, len, bad_off, bad_len);
        r = check_ldh(name + start, len - start, start, out + prefix, bad_off, bad_len);
        if (r != DOMAIN_OK)
            return r;
        *out_len = prefix + (len - start);
        return DOMAIN_OK;
    }
    if (len - start > 1024)
        return fail(DOMAIN_TOO_LONG, 0, len, bad_off, bad_len);
    {
        char in[1025];
        char *ascii = NULL;
        size_t alen;
        int rc;

        memcpy(in, name + start, len - start);
        in[len - start] = '\0';
        rc = idn2_to_ascii_8z(in, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            if (idn_error != NULL)
                *idn_error = idn2_strerror(rc);
            return fail(DOMAIN_IDN, start, len - start, bad_off, bad_len);
        }
        alen = strlen(ascii);
        if (alen > 0 && ascii[alen - 1] == '.')
            alen--;
        if (prefix + alen > YT_NAME_MAX) {
            idn2_free(ascii);
            return fail(DOMAIN_TOO_LONG, 0, len, bad_off, bad_len);
        }
        r = check_ldh(ascii, alen, start, out + prefix, bad_off, bad_len);
        idn2_free(ascii);
        if (r != DOMAIN_OK) {
            /* the span points into the A-label form: show the whole name instead */
            *bad_off = start;
            *bad_len = len - start;
            return r;
        }
        *out_len = prefix + alen;
        return DOMAIN_OK;
    }
}
