/* A host name given on the command line (`switchyard --resolve LISTENER HOST`), put in the
 * form the table's names have: what yardc makes of a domain, what the proxy looks up. */
#ifndef RUNTIME_HOSTNAME_H
#define RUNTIME_HOSTNAME_H

#include <stddef.h>
#include <sys/types.h>

/* Writes in's lookup form into out[0..cap) (NUL-terminated, cut to cap - 1 bytes): without
 * a ":port" (digits after the last colon, outside an [IPv6] literal) and one trailing dot,
 * lowercase, and with Unicode labels turned into A-labels ("Bücher.example" ->
 * "xn--bcher-kva.example") by libidn2 with yardc's flags (IDNA 2008, UTS#46
 * non-transitional, NFC). libidn2 is loaded with dlopen() on the first Unicode name only,
 * so the proxy does not link it. Borrows in. Returns the length, or -1 with *why saying
 * what failed (libidn2 missing, or the name refused). */
ssize_t hostname_normalise(const char *in, char *out, size_t cap, const char **why);

#endif
