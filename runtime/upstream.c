#include "upstream.h"

#include <assert.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "buf.h"
#include "clock.h"
#include "evio.h"
#include "health.h"
#include "proxyproto.h"
#include "stats.h"

#define IDLE_MAX 1024               /* idle server connections kept, all servers */
#define IDLE_PER_SERVER_MAX 64      /* ... and per server */

/* A parked server connection. Its watcher reads: a server must not send anything unasked,
 * so any event (bytes, EOF, error) means the connection is gone or unusable and it is
 * closed. */
struct idle {
    struct ev_io io;
    struct idle *older, *newer;     /* every parked connection, oldest first */
    struct idle *next;              /* same server, most recent first; or the free list */
    struct ups_idle *pool;
    ev_tstamp since;                /* when it was parked */
    uint32_t server;
    uint32_t nreq;                  /* requests it has carried */
    unsigned park_iter;             /* loop iteration in which it was parked */
};

struct idle_server {
    struct idle *recent;            /* most recently parked first */
    uint32_t count;
};

/* Fixed records, one list per server, one timer for the oldest. */
struct ups_idle {
    struct ev_loop *loop;           /* of the parked connections */
    struct idle recs[IDLE_MAX];
    struct idle *free, *oldest, *newest;
    struct idle_server *srv;        /* one per t->servers[] */
    struct ev_timer timer;
    uint32_t count;
    uint32_t idle_ms;
};

static void idle_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents);

int
ups_init(struct upstream *u, const struct yt_table *t, uint32_t idle_ms)
{
    struct ups_idle *ip = NULL;

    u->t = t;
    u->idle = NULL;
    if (idle_ms != 0 && t->server_count > 0) {
        ip = calloc(1, sizeof(*ip));
        if (ip == NULL || (ip->srv = calloc(t->server_count, sizeof(*ip->srv))) == NULL) {
            free(ip);
            return -1;
        }
        ip->idle_ms = idle_ms;
        ev_timer_init(&ip->timer, idle_timer_cb, 0, 0);
        ip->timer.data = ip;
        for (uint32_t i = IDLE_MAX; i-- > 0;) {
            ip->recs[i].pool = ip;
            ip->recs[i].next = ip->free;
            ip->free = &ip->recs[i];
        }
        u->idle = ip;
    }
    if (pool_health_init(&u->health, t) == -1)
        return -1;
    pool_health_attach(&u->health, health_states(), stats_server_admin_words());
    return 0;
}

void
ups_fini(struct upstream *u)
{
    ups_idle_close_all(u);
    if (u->idle != NULL)
        free(u->idle->srv);
    free(u->idle);
    u->idle = NULL;
    pool_health_free(&u->health);
}

/* ---- health ---- */

void
ups_server_down(struct upstream *u, struct ev_loop *loop, uint32_t server)
{
    if (pool_mark_down(&u->health, server, clock_ms(loop), u->t->timeouts.retry_ms) ==
        POOL_WENT_DOWN)
        health_passive_down(server);
    stats_server_down(server, clock_ms(loop) + u->t->timeouts.retry_ms);
}

void
ups_server_up(struct upstream *u, uint32_t server)
{
    pool_mark_up(&u->health, server);
    stats_server_up(server);
}

bool
ups_server_may_reuse(const struct upstream *u, uint32_t server)
{
    return pool_server_may_reuse(&u->health, server);
}

/* ---- the idle pool ---- */

/* Takes it out of both lists and back to the free list. Returns its descriptor, owned. */
static int
idle_unlink(struct idle *it)
{
    struct ups_idle *ip = it->pool;
    struct idle_server *is = &ip->srv[it->server];
    struct idle **pp = &is->recent;
    int fd = it->io.fd;

    while (*pp != it)               /* at most IDLE_PER_SERVER_MAX steps, usually none */
        pp = &(*pp)->next;
    *pp = it->next;
    is->count--;
    if (it->older != NULL)
        it->older->newer = it->newer;
    else
        ip->oldest = it->newer;
    if (it->newer != NULL)
        it->newer->older = it->older;
    else
        ip->newest = it->older;
    ev_io_stop(ip->loop, &it->io);
    it->next = ip->free;
    ip->free = it;
    ip->count--;
    return fd;
}

static void
idle_drop(struct idle *it)
{
    close(idle_unlink(it));
}

static void
idle_io_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    idle_drop(w->data);             /* closed by the server, or talking out of turn */
}

static void
idle_timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct ups_idle *ip = w->data;
    ev_tstamp limit = ev_now(loop) - clock_secs(ip->idle_ms);

    (void)revents;
    while (ip->oldest != NULL && ip->oldest->since <= limit + 0.0005)
        idle_drop(ip->oldest);
    if (ip->oldest != NULL) {
        ev_timer_set(w, ip->oldest->since - limit, 0);
        ev_timer_start(loop, w);
    }
}

bool
ups_idle_enabled(const struct upstream *u)
{
    return u->idle != NULL;
}

void
ups_idle_close_all(struct upstream *u)
{
    struct ups_idle *ip = u->idle;

    if (ip == NULL)
        return;
    while (ip->oldest != NULL)
        idle_drop(ip->oldest);
    if (ip->loop != NULL)
        ev_timer_stop(ip->loop, &ip->timer);
}

void
ups_idle_fit(struct upstream *u)
{
    struct ups_idle *ip = u->idle;

    while (ip != NULL && ip->oldest != NULL &&
           (uint64_t)ip->count + admit_live() > admit_maxconn())
        idle_drop(ip->oldest);
}

/* Returns owned: a parked connection to server that is still open, or -1; *nreq is the
 * number of requests it carried. A close that reached the loop's last poll is a pending
 * event of its watcher; one parked in this very iteration has seen no poll yet, so the
 * kernel is asked (the server may have closed right after its response). */
static int
idle_take(struct ups_idle *ip, struct ev_loop *loop, uint32_t server, uint32_t *nreq)
{
    struct idle *it;

    if (ip == NULL)
        return -1;
    while ((it = ip->srv[server].recent) != NULL) {
        bool alive = !ev_is_pending(&it->io);

        if (alive && it->park_iter == ev_iteration(loop))
            alive = !ups_has_unread(it->io.fd);
        if (alive) {
            *nreq = it->nreq;
            return idle_unlink(it);
        }
        idle_drop(it);
    }
    return -1;
}

void
ups_idle_park(struct upstream *u, struct ev_loop *loop, int fd, uint32_t server, uint32_t nreq)
{
    struct ups_idle *ip = u->idle;
    struct idle_server *is;
    struct idle *it;

    if (ip == NULL || (u->t->servers[server].flags & (YT_SERVER_PROXY_V1 | YT_SERVER_PROXY_V2))) {
        close(fd);
        return;
    }
    is = &ip->srv[server];
    if (is->count >= IDLE_PER_SERVER_MAX) {
        for (it = is->recent; it->next != NULL; it = it->next)
            ;
        idle_drop(it);              /* the server's oldest */
    }
    if (ip->free == NULL)
        idle_drop(ip->oldest);
    it = ip->free;
    ip->free = it->next;
    ip->loop = loop;
    ev_init(&it->io, idle_io_cb);
    io_handover(&it->io, fd, EV_READ);   /* its client's watcher had it until now */
    it->io.data = it;
    ev_io_start(loop, &it->io);
    it->since = ev_now(loop);
    it->server = server;
    it->nreq = nreq;
    it->park_iter = ev_iteration(loop);
    it->next = is->recent;
    is->recent = it;
    is->count++;
    it->newer = NULL;
    it->older = ip->newest;
    if (ip->newest != NULL)
        ip->newest->newer = it;
    else
        ip->oldest = it;
    ip->newest = it;
    ip->count++;
    if (!ev_is_active(&ip->timer)) {
        ev_timer_set(&ip->timer, clock_secs(ip->idle_ms), 0);
        ev_timer_start(loop, &ip->timer);
    }
}

/* ---- connecting ---- */

static int
new_socket(struct upstream *u)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1 && (errno == EMFILE || errno == ENFILE) && u->idle != NULL &&
        u->idle->oldest != NULL) {
        idle_drop(u->idle->oldest);     /* idle descriptors give way to live requests */
        fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd == -1 && (errno == EMFILE || errno == ENFILE))
        admit_out_of_fds("socket", errno);
    return fd;
}

enum ups_result
ups_connect_next(struct upstream *u, struct ev_loop *loop, uint32_t pool, struct ups_try *t,
                 unsigned flags, int *fd, uint32_t *nreq)
{
    const struct yt_pool *p = &u->t->pools[pool];

    while (t->tries < p->count) {
        uint32_t srv = pool_pick(&u->health, pool, clock_ms(loop));
        const struct yt_server *s;
        int one = 1, lowat = SEND_LOWAT;

        if (srv == YT_NONE)
            break;
        t->tries++;
        t->server = srv;
        if ((flags & UPS_TAKE_IDLE) && (*fd = idle_take(u->idle, loop, srv, nreq)) >= 0)
            return UPS_REUSED;
        if ((*fd = new_socket(u)) == -1) {
            t->err_no = errno;
            return UPS_NO_SOCKET;
        }
        setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (flags & UPS_LOWAT)
            setsockopt(*fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
        s = &u->t->servers[srv];
        if (connect(*fd, (const struct sockaddr *)&s->addr, sizeof(s->addr)) == 0)
            return UPS_CONNECTED;
        if (errno == EINPROGRESS)
            return UPS_CONNECTING;
        t->err_no = errno;
        close(*fd);
        *fd = -1;
        ups_server_down(u, loop, srv);
    }
    return UPS_NO_SERVER;
}

enum ups_sent
ups_send_first(int fd, const void *data, size_t len, ssize_t *n)
{
    *n = send(fd, data, len, MSG_NOSIGNAL);
    if (*n != -1)
        return UPS_SENT;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? UPS_WAIT : UPS_FAILED;
}

size_t
ups_prepend_proxy(struct buf *b, uint16_t flags, int client_fd, const union yt_addr *peer,
                  const union yt_addr *local)
{
    union yt_addr own;
    socklen_t len = sizeof(own);
    uint8_t hdr[PP_MAX];
    size_t n = 0;

    if (!(flags & (YT_SERVER_PROXY_V1 | YT_SERVER_PROXY_V2)))
        return 0;
    if (local == NULL) {
        if (getsockname(client_fd, &own.sa, &len) == -1)
            return 0;
        local = &own;
    }
    if (flags & YT_SERVER_PROXY_V2)
        n = pp_build_v2(&peer->sa, &local->sa, hdr, sizeof(hdr));
    else
        n = pp_build_v1(&peer->sa, &local->sa, (char *)hdr, sizeof(hdr));
    if (n == 0)
        return 0;
    if (b->start < n) {
        size_t pending = buf_len(b);

        assert(pending + n <= b->cap);
        memmove(b->data + n, b->data + b->start, pending);
        b->start = (uint32_t)n;
        b->end = (uint32_t)(n + pending);
    }
    b->start -= (uint32_t)n;
    memcpy(b->data + b->start, hdr, n);
    return n;
}

bool
ups_has_unread(int fd)
{
    char b;

    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != -1 || errno != EAGAIN;
}
