/* Domain names as the language accepts them, and their one normal form.
 *
 * Accepted: LDH labels (letters, digits, '-' not at either end of a label) of 1..63
 * bytes, 253 bytes in all; `*` only as the whole leftmost label of a wildcard; one
 * trailing dot. Normalised: lowercase, trailing dot dropped, Unicode labels turned into
 * A-labels ("bücher.example" -> "xn--bcher-kva.example") with libidn2 (IDNA 2008, UTS#46
 * non-transitional mapping). */
#ifndef COMPILER_DOMAIN_H
#define COMPILER_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

#define DOMAIN_BUF (YT_NAME_MAX + 2)        /* a normalised name and its NUL */

enum domain_result {
    DOMAIN_OK = 0,
    DOMAIN_EMPTY,                   /* nothing, or only a dot */
    DOMAIN_TOO_LONG,                /* more than 253 bytes */
    DOMAIN_EMPTY_LABEL,             /* "a..b", ".a" */
    DOMAIN_LABEL_TOO_LONG,          /* a label of more than 63 bytes */
    DOMAIN_BAD_CHAR,                /* not a letter, digit or '-' */
    DOMAIN_HYPHEN,                  /* a label starts or ends with '-' */
    DOMAIN_WILDCARD,                /* '*' anywhere but as the whole first label */
    DOMAIN_WILDCARD_NOT_ALLOWED,    /* a wildcard where a plain name is needed */
    DOMAIN_IDN,                     /* a Unicode name libidn2 refuses */
};

/* Normalises name[0..len) into out[0..*out_len) (NUL-terminated, DOMAIN_BUF bytes).
 * Borrows everything; allocates only for Unicode names (freed before returning). On an
 * error, *bad_off and *bad_len span the offending bytes of name, and for DOMAIN_IDN
 * *idn_error (if not NULL) says what libidn2 refused. */
enum domain_result domain_normalize(const char *name, size_t len, bool allow_wildcard,
                                    char out[DOMAIN_BUF], size_t *out_len, size_t *bad_off,
                                    size_t *bad_len, const char **idn_error);

/* A message for a result ("label longer than 63 bytes"). */
const char *domain_strerror(enum domain_result r);

#endif
