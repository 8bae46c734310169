/* A listener with accept-proxy and the first bytes of a connection: whether they hold a
 * PROXY header the listener takes, and the client it names. Pure: table, address and
 * bytes in, a verdict out; conn.c (layer 4) and httpexch.c (layer 7) act on it. */
#ifndef RUNTIME_PROXYIN_H
#define RUNTIME_PROXYIN_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

enum pin_verdict {
    PIN_WAIT = 0,           /* the bytes so far may start a PROXY header: read more */
    PIN_PASS,               /* go on, after the first *used bytes (the header, or none) */
    PIN_REFUSE,             /* close the connection: *err says why */
};

/* Decides on data[0 .. len) (borrowed), the first bytes of a connection of listener l
 * (one with accept-proxy ranges) from *peer. A trusted peer (in the ranges) must send a
 * valid header (unless the listener's accept-proxy is optional, when it may send none);
 * anyone else must not start with a PROXY signature. On PIN_PASS with a header that
 * carries a TCP client, *peer becomes that client and *local the address it reached; a
 * LOCAL or UNKNOWN header leaves both. *err (on PIN_REFUSE) is static: "proxy-untrusted",
 * "proxy-missing", or pp_result_str() of a malformed header. */
enum pin_verdict pin_take(const struct yt_table *t, const struct yt_listener *l,
                          const uint8_t *data, size_t len, union yt_addr *peer,
                          union yt_addr *local, size_t *used, const char **err);

/* The address a PROXY header said was reached (local, as pin_take() left it), copied for
 * the connection to keep apart (most connections bring no header and need no room for it):
 * *out is the copy (owned) or NULL when the header named none. Returns -1 when there is no
 * memory for it. */
int pin_keep_local(const union yt_addr *local, union yt_addr **out);

#endif
