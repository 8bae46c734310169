/* Handing a socket from one libev I/O watcher to another without telling libev it changed.
 *
 * ev_io_set() marks the descriptor as possibly a new file behind an old number, and libev's
 * epoll back end then registers it again at the next loop turn: for a socket it already
 * watches, an epoll_ctl(ADD) that fails with EEXIST. A kept server connection passes from
 * its client's watcher to the idle pool's and back on every request with
 * `Connection: close`, so that was two wasted system calls per request. */
#ifndef RUNTIME_EVIO_H
#define RUNTIME_EVIO_H

#include <ev.h>

/* Points w at fd, a socket that has stayed open since a watcher of the same loop last
 * watched it (no close in between: a new socket on that number needs ev_io_set()). libev
 * still calls epoll_ctl when the events wanted differ from what it registered. */
static inline void
io_handover(struct ev_io *w, int fd, int events)
{
    ev_io_set(w, fd, events);
    w->events &= ~EV__IOFDSET;
}

#endif
