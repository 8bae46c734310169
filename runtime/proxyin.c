#include "proxyin.h"

#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

_Static_assert(sizeof(union yt_addr) == sizeof(union pp_addr),
               "a carried address fits the connection's");

enum pin_verdict
pin_take(const struct yt_table *t, const struct yt_listener *l, const uint8_t *data,
         size_t len, union yt_addr *peer, union yt_addr *local, size_t *used,
         const char **err)
{
    struct pp_header h;
    enum pp_result r = pp_parse(data, len, &h);

    *used = 0;
    *err = NULL;
    if (r == PP_NEED_MORE)
        return PIN_WAIT;
    /* Only the ranges may claim another address; a header from elsewhere is a forgery. */
    if (!yt_proxy_trusted(t, l, peer)) {
        if (r == PP_NONE)
            return PIN_PASS;
        *err = "proxy-untrusted";
        return PIN_REFUSE;
    }
    if (r == PP_NONE) {
        if (l->flags & YT_LISTENER_PROXY_OPTIONAL)
            return PIN_PASS;
        *err = "proxy-missing";
        return PIN_REFUSE;
    }
    if (r != PP_OK) {
        *err = pp_result_str(r);
        return PIN_REFUSE;
    }
    *used = h.len;
    if (!h.local) {
        memcpy(peer, &h.src, sizeof(*peer));
        memcpy(local, &h.dst, sizeof(*local));
    }
    return PIN_PASS;
}

int
pin_keep_local(const union yt_addr *local, union yt_addr **out)
{
    *out = NULL;
    if (local->sa.sa_family == AF_UNSPEC)
        return 0;
    *out = malloc(sizeof(**out));
    if (*out == NULL)
        return -1;
    **out = *local;
    return 0;
}
