/* The QUIC relay's stand-in, linked into the binaries whose table has no quic listener:
 * they carry neither the relay nor libcrypto. A table with a quic listener links
 * libswitchyard-quic.a before libswitchyard.a (GNUmakefile, tools/switchyard-build), whose
 * quicrelay.o defines these functions, so this object is never taken then. */
#include "quicrelay.h"

#include <stdio.h>

int
quicrelay_init(const struct yt_table *t)
{
    for (uint32_t i = 0; i < t->listener_count; i++) {
        if (t->listeners[i].mode == YT_MODE_QUIC) {
            fprintf(stderr, "switchyard: the table has a quic listener but the binary was "
                            "linked without the QUIC relay (libswitchyard-quic.a)\n");
            return -1;
        }
    }
    return 0;
}

void
quicrelay_fini(void)
{
}

void
quicrelay_read(struct ev_loop *loop, int fd, const struct yt_listener *l)
{
    (void)loop;
    (void)fd;
    (void)l;
}

void
quicrelay_close_all(struct ev_loop *loop)
{
    (void)loop;
}

size_t
quicrelay_flow_size(void)
{
    return 0;
}

size_t
quicrelay_undecided_size(void)
{
    return 0;
}
