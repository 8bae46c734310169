#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "conn.h"
#include "http.h"
#include "log.h"
#include "quicrelay.h"
#include "scrape.h"
#include "stats.h"

#define BACKLOG 4096

struct sock {
    struct ev_io io;
    const struct yt_listener *l;
    int set;
};

static const struct yt_table *table;
static struct sock *socks;
static size_t sock_count;
static int kept_set = 0;
static struct ev_loop *lloop;
static struct ev_timer resume_timer;    /* after EMFILE / ENFILE */
static struct ev_prepare maxconn_watch; /* while paused at maxconn */
static bool paused;
static struct ev_prepare live_watch;    /* publishes the open connection count */
static bool accepting;
static int *inherited;                  /* takeover: sockets not yet matched to a bind */
static size_t inherited_count;
static int *first_fd;                   /* takeover: per bind, the set-0 socket, or -1 */
static bool adopt_only;                 /* socket activation: no socket is bound here */
static bool not_passed;                 /* open_bind() failed for want of a passed socket */

uint32_t
listener_live_count(void)
{
    return admit_live();
}

static void
bind_name(const struct yt_bind *b, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN] = "?";

    if (b->addr.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &b->addr.in4.sin_addr, a, sizeof(a));
        snprintf(out, cap, "%s:%u", a, ntohs(b->addr.in4.sin_port));
    } else {
        inet_ntop(AF_INET6, &b->addr.in6.sin6_addr, a, sizeof(a));
        snprintf(out, cap, "[%s]:%u", a, ntohs(b->addr.in6.sin6_port));
    }
}

static bool
same_addr(const union yt_addr *a, const union yt_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return false;
    if (a->sa.sa_family == AF_INET)
        return a->in4.sin_port == b->in4.sin_port &&
               a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
    return a->in6.sin6_port == b->in6.sin6_port &&
           memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr)) == 0 &&
           a->in6.sin6_scope_id == b->in6.sin6_scope_id;
}

/* Whether l's sockets take UDP datagrams (quic) rather than TCP connections. */
static bool
is_udp(const struct yt_listener *l)
{
    return l->mode == YT_MODE_QUIC;
}

bool
listener_fd_is(int fd, const struct yt_listener *l, const struct yt_bind *b)
{
    union yt_addr a;
    socklen_t len = sizeof(a);
    int v6only = 0, listening = 0, type = 0;
    socklen_t il = sizeof(int);

    if (getsockname(fd, &a.sa, &len) == -1 || !same_addr(&a, &b->addr) ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) == -1 ||
        type != (is_udp(l) ? SOCK_DGRAM : SOCK_STREAM))
        return false;
    il = sizeof(int);
    if (!is_udp(l) &&
        (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &il) == -1 || !listening))
        return false;
    il = sizeof(int);
    return a.sa.sa_family != AF_INET6 ||
           (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &il) == 0 &&
            v6only == b->v6only);
}

/* An inherited socket bound exactly as b of l asks (address, port, IPV6_V6ONLY; a
 * listening TCP socket, or a UDP one for quic): removed from the inherited ones and
 * returned, or -1. */
static int
take_inherited(const struct yt_listener *l, const struct yt_bind *b)
{
    for (size_t i = 0; i < inherited_count; i++) {
        if (!listener_fd_is(inherited[i], l, b))
            continue;
        int fd = inherited[i];

        inherited[i] = inherited[--inherited_count];
        return fd;
    }
    return -1;
}

/* Options of the listening socket that accepted sockets inherit (Linux copies them at
 * accept), so no connection pays a setsockopt for them: TCP_NODELAY, since every proxied
 * exchange is latency-bound; TCP_NOTSENT_LOWAT (see SEND_LOWAT); and on tls listeners
 * TCP_DEFER_ACCEPT. */
static void
set_accept_options(const struct yt_listener *l, int fd)
{
    int one = 1, lowat = SEND_LOWAT;

    if (is_udp(l))
        return;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
    if (l->mode == YT_MODE_TLS) {
        /* Wake up only once the ClientHello is there: most clients send it with the ACK.
         * The kernel holds a silent client back for that long before the accept (to
         * within its SYN-ACK timer, 1 s then doubling), so the wait is the least there
         * is, not the inspect timeout, which would then hold from the accept only. */
        int secs = ADMIT_DEFER_ACCEPT_S;

        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
    }
}

static int
open_bind(const struct yt_listener *l, const struct yt_bind *b, bool reuseport)
{
    int one = 1, v6only = b->v6only, fd;
    socklen_t len = b->addr.sa.sa_family == AF_INET ? sizeof(b->addr.in4) : sizeof(b->addr.in6);
    uint32_t k = (uint32_t)(b - table->binds);

    /* Takeover: the old process's socket for this address, so that connections waiting
     * in its queue and arriving meanwhile are never refused. A worker set beyond those
     * the old process had shares the first set's socket. */
    if (first_fd != NULL) {
        fd = take_inherited(l, b);
        if (fd == -1 && first_fd[k] != -1)
            fd = fcntl(first_fd[k], F_DUPFD_CLOEXEC, 0);
        if (fd != -1) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            set_accept_options(l, fd);
            if (first_fd[k] == -1)
                first_fd[k] = fd;
            return fd;
        }
        if (adopt_only) {
            not_passed = true;
            return -1;
        }
    }
    fd = socket(b->addr.sa.sa_family,
                (is_udp(l) ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1) ||
        (b->addr.sa.sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1))
        goto fail;
    set_accept_options(l, fd);
    if (bind(fd, &b->addr.sa, len) == -1 || (!is_udp(l) && listen(fd, BACKLOG) == -1))
        goto fail;
    if (first_fd != NULL && first_fd[k] == -1)
        first_fd[k] = fd;
    return fd;
fail:;
    int e = errno;

    close(fd);
    errno = e;
    return -1;
}

int
listener_bind_all(const struct yt_table *t, bool reuseport)
{
    size_t want = 0, at;
    struct sock *s;
    int set = sock_count > 0 ? socks[sock_count - 1].set + 1 : 0;

    table = t;
    for (uint32_t i = 0; i < t->listener_count; i++)
        want += t->listeners[i].bind_count;
    s = realloc(socks, (sock_count + want) * sizeof(*s));
    if (s == NULL && want > 0) {
        fprintf(stderr, "switchyard: out of memory\n");
        return -1;
    }
    socks = s;
    at = sock_count;
    for (uint32_t i = 0; i < t->listener_count; i++) {
        const struct yt_listener *l = &t->listeners[i];

        for (uint32_t j = 0; j < l->bind_count; j++) {
            const struct yt_bind *b = &t->binds[l->first_bind + j];
            int fd = open_bind(l, b, reuseport);

            if (fd == -1) {
                char name[80];

                bind_name(b, name, sizeof(name));
                if (not_passed)
                    fprintf(stderr, "switchyard: listener %.*s: no socket for %s among those "
                            "passed (LISTEN_FDS): the socket unit lacks it\n",
                            (int)l->name.len, t->blob + l->name.off, name);
                else
                    fprintf(stderr, "switchyard: listener %.*s: cannot bind %s: %s\n",
                            (int)l->name.len, t->blob + l->name.off, name, strerror(errno));
                return -1;
            }
            socks[at] = (struct sock){ .l = l, .set = set };
            ev_io_init(&socks[at].io, NULL, fd, EV_READ);
            at++;
            sock_count = at;
        }
    }
    return set;
}

int
listener_adopt(const struct yt_table *t, const int *fds, size_t count, bool only)
{
    table = t;
    adopt_only = only;
    inherited = malloc((count + 1) * sizeof(int));
    first_fd = malloc((t->bind_count + 1) * sizeof(int));
    if (inherited == NULL || first_fd == NULL) {
        fprintf(stderr, "switchyard: out of memory\n");
        return -1;
    }
    memcpy(inherited, fds, count * sizeof(int));
    inherited_count = count;
    for (uint32_t i = 0; i < t->bind_count; i++)
        first_fd[i] = -1;
    return 0;
}

size_t
listener_adopt_done(void)
{
    size_t n;

    /* The old process had more worker sets than we have: their sockets have queues of
     * their own, which would be lost when the old process closes its copies. The first
     * set accepts on them too. */
    for (uint32_t i = 0; i < table->listener_count && sock_count > 0; i++) {
        const struct yt_listener *l = &table->listeners[i];

        for (uint32_t j = 0; j < l->bind_count; j++) {
            const struct yt_bind *b = &table->binds[l->first_bind + j];
            int fd;

            while ((fd = take_inherited(l, b)) != -1) {
                struct sock *s = realloc(socks, (sock_count + 1) * sizeof(*s));

                if (s == NULL) {
                    close(fd);
                    continue;
                }
                socks = s;
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                socks[sock_count] = (struct sock){ .l = l, .set = socks[0].set };
                ev_io_init(&socks[sock_count].io, NULL, fd, EV_READ);
                sock_count++;
            }
        }
    }
    n = inherited_count;

    for (size_t i = 0; i < inherited_count; i++)
        close(inherited[i]);
    free(inherited);
    free(first_fd);
    inherited = first_fd = NULL;
    inherited_count = 0;
    adopt_only = false;
    return n;
}

void
listener_keep_set(int set, bool keep_others)
{
    size_t n = 0;

    for (size_t i = 0; i < sock_count; i++) {
        if (socks[i].set == set || keep_others)
            socks[n++] = socks[i];
        else
            close(socks[i].io.fd);
    }
    sock_count = n;
    kept_set = set;
}

size_t
listener_fds(int *fds, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < sock_count && n < cap; i++)
        fds[n++] = socks[i].io.fd;
    return n;
}

bool
listener_is_accepting(void)
{
    return accepting;
}

static void
set_accepting(bool on)
{
    for (size_t i = 0; i < sock_count; i++) {
        /* A quic socket carries the datagrams of open flows too: it is read from
         * listener_start() to listener_close_all(); quicrelay.c admits new flows. */
        if (socks[i].set != kept_set || is_udp(socks[i].l))
            continue;
        if (on)
            ev_io_start(lloop, &socks[i].io);
        else
            ev_io_stop(lloop, &socks[i].io);
    }
}

/* Runs before the loop blocks, only while paused at maxconn. */
static void
maxconn_cb(struct ev_loop *loop, struct ev_prepare *w, int revents)
{
    (void)revents;
    if (admit_is_lowered())
        admit_settle();             /* the limit may have been raised since */
    /* With an idle keep-alive client to give way, a new client need not wait: listen
     * again, and accept_cb closes one when a client comes. */
    if (admit_live() < admit_maxconn() || http_has_idle()) {
        ev_prepare_stop(loop, w);
        paused = false;
        set_accepting(true);
    }
}

static void
resume_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    set_accepting(true);
}

static void
datagram_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct sock *s = w->data;

    (void)revents;
    quicrelay_read(loop, w->fd, s->l);
}

static void
accept_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct sock *s = w->data;

    (void)revents;
    for (int i = 0; i < LISTENER_ACCEPT_BURST; i++) {
        union yt_addr peer;
        socklen_t len = sizeof(peer);
        int fd;

        if (admit_live() >= admit_maxconn()) {
            /* The socket was readable: a client waits. The oldest idle keep-alive client
             * gives way to it (only for the first of a burst, for which one is sure to
             * wait; the watcher calls again for the next). */
            if (i > 0 && http_has_idle())
                return;
            if (i > 0 || !http_reclaim_idle()) {
                paused = true;
                set_accepting(false);
                ev_prepare_start(loop, &maxconn_watch);
                return;
            }
        }
        fd = accept4(w->fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                admit_out_of_fds("accept", errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_msg(LOG_LEVEL_WARNING, "accept: %s", strerror(errno));
            return;
        }
        admit_fds_back();
        stats_accept(s->l);
        if (s->l->mode == YT_MODE_TLS)
            conn_accept(loop, fd, s->l, &peer);
        else if (s->l->mode == YT_MODE_METRICS)
            scrape_accept(loop, fd, s->l, &peer);
        else
            http_accept(loop, fd, s->l, &peer);
        if (ev_is_active(&resume_timer))
            return;                 /* that connection found no descriptor for its server */
    }
}

/* Before the loop blocks: the open connection count, for the admin socket. */
static void
live_cb(struct ev_loop *loop, struct ev_prepare *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    stats_set_live(listener_live_count());
}

/* Out of descriptors: stops accepting for ADMIT_PAUSE_S at a time until an accept
 * succeeds, so that clients wait in the backlog instead of being accepted only to fail. */
static void
pause_for_fds(void)
{
    if (!accepting || ev_is_active(&resume_timer))
        return;
    set_accepting(false);
    ev_timer_set(&resume_timer, ADMIT_PAUSE_S, 0.);
    ev_timer_start(lloop, &resume_timer);
}

uint32_t
listener_maxconn(void)
{
    return admit_maxconn();
}

void
listener_start(struct ev_loop *loop)
{
    lloop = loop;
    admit_start(table->global.maxconn > 0 ? table->global.maxconn : UINT32_MAX, sock_count);
    admit_on_pause(pause_for_fds);
    ev_timer_init(&resume_timer, resume_cb, ADMIT_PAUSE_S, 0.);
    ev_prepare_init(&maxconn_watch, maxconn_cb);
    for (size_t i = 0; i < sock_count; i++) {
        socks[i].io.data = &socks[i];
        ev_set_cb(&socks[i].io, is_udp(socks[i].l) ? datagram_cb : accept_cb);
        if (is_udp(socks[i].l) && socks[i].set == kept_set)
            ev_io_start(loop, &socks[i].io);
    }
    ev_prepare_init(&live_watch, live_cb);
    ev_prepare_start(loop, &live_watch);
    ev_unref(loop);                 /* it alone does not keep the loop running */
    accepting = true;
    set_accepting(true);
}

void
listener_close_all(struct ev_loop *loop)
{
    if (ev_is_active(&live_watch)) {
        ev_ref(loop);
        ev_prepare_stop(loop, &live_watch);
    }
    stats_set_live(listener_live_count());
    accepting = false;
    ev_timer_stop(loop, &resume_timer);
    ev_prepare_stop(loop, &maxconn_watch);
    paused = false;
    quicrelay_close_all(loop);      /* its flows answer through the sockets closed here */
    for (size_t i = 0; i < sock_count; i++) {
        ev_io_stop(loop, &socks[i].io);
        close(socks[i].io.fd);
    }
    sock_count = 0;
}
