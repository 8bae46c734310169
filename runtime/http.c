#include "http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "alog.h"
#include "clock.h"
#include "conn.h"
#include "httpconn.h"
#include "reply.h"
#include "rewrite.h"
#include "stats.h"

struct http_engine http_eng;

void
http_set_io(struct ev_loop *loop, struct ev_io *w, int fd, int events)
{
    if (fd < 0)
        events = 0;
    if (ev_is_active(w)) {
        if (w->fd == fd && (w->events & (EV_READ | EV_WRITE)) == events)
            return;
        ev_io_stop(loop, w);
    }
    if (fd < 0) {
        ev_io_set(w, -1, 0);        /* the socket goes: a later one is a new file */
        return;
    }
    if (events == 0)
        return;
    /* The same socket: libev calls epoll_ctl only when the events differ from what it
     * registered (ev_io_set would have it register the socket again). */
    if (w->fd == fd)
        ev_io_modify(w, events);
    else
        ev_io_set(w, fd, events);
    ev_io_start(loop, w);
}

void
http_idle_client_enter(struct http_conn *c)
{
    if (c->idle_listed)
        return;
    c->idle_listed = true;
    c->idle_newer = NULL;
    c->idle_older = http_eng.idle_cli_newest;
    if (http_eng.idle_cli_newest != NULL)
        http_eng.idle_cli_newest->idle_newer = c;
    else
        http_eng.idle_cli_oldest = c;
    http_eng.idle_cli_newest = c;
}

void
http_idle_client_leave(struct http_conn *c)
{
    if (!c->idle_listed)
        return;
    c->idle_listed = false;
    if (c->idle_older != NULL)
        c->idle_older->idle_newer = c->idle_newer;
    else
        http_eng.idle_cli_oldest = c->idle_newer;
    if (c->idle_newer != NULL)
        c->idle_newer->idle_older = c->idle_older;
    else
        http_eng.idle_cli_newest = c->idle_older;
    c->idle_older = c->idle_newer = NULL;
}

/* The client side's and the server side's deadlines in the current state. */
static void
deadlines(const struct http_conn *c, ev_tstamp *client, ev_tstamp *server)
{
    const struct yt_timeouts *to = &http_eng.t->timeouts;
    uint32_t linger = to->client_ms != 0 && to->client_ms < LINGER_MS ? to->client_ms
                                                                      : LINGER_MS;

    *client = *server = DEADLINE_NONE;
    switch (c->state) {
    case HTTP_HEAD:
        if (output_pending(c))
            *client = deadline_after(c->cl.last, to->client_ms);
        else if (c->got_bytes || c->nreq == 0)
            *client = deadline_after(c->got_bytes ? c->t_req : c->cl.last,
                                     to->inspect_ms);
        else
            *client = deadline_after(c->cl.last, to->client_ms);
        break;
    case HTTP_CONNECT:
        *server = deadline_after(c->t_conn_start, to->connect_ms);
        break;
    case HTTP_RELAY:
        if (!body_is_done(&c->cl.body) || output_pending(c))
            *client = deadline_after(c->cl.last, to->client_ms);
        if (!body_is_done(&c->sv.body) || request_pending(c))
            *server = deadline_after(c->sv.last, to->server_ms);
        break;
    case HTTP_TUNNEL: {
        ev_tstamp last = c->cl.last > c->sv.last ? c->cl.last : c->sv.last;

        *client = deadline_after(last, to->tunnel_ms ? to->tunnel_ms : to->client_ms);
        break;
    }
    case HTTP_DRAIN:
        *client = c->lingering ? deadline_after(c->t_linger, linger)
                               : deadline_after(c->cl.last, to->client_ms);
        break;
    case HTTP_CLOSED:
        break;
    }
}

static void
expire(struct http_conn *c)
{
    ev_tstamp now = ev_now(c->loop), client, server;

    deadlines(c, &client, &server);
    switch (c->state) {
    case HTTP_HEAD:
        if (output_pending(c)) {
            set_term(c, "cD");
            c->state = HTTP_CLOSED;
        } else if (c->got_bytes) {
            http_answer_error(c, 408, "head-timeout", "cR");
        } else {
            set_term(c, "cR");
            c->state = HTTP_CLOSED;
        }
        break;
    case HTTP_CONNECT:
        http_connect_done(c, true);
        break;
    case HTTP_RELAY:
        if (server <= now + 0.0005) {
            if (c->status == 0) {
                http_answer_error(c, 504, "server-timeout", "sH");
                break;
            }
            c->err = "server-timeout";
            set_term(c, "sD");
        } else {
            if (c->status == 0) {
                http_answer_error(c, 408, "client-timeout", "cD");
                break;
            }
            c->err = "client-timeout";
            set_term(c, "cD");
        }
        c->state = HTTP_CLOSED;
        break;
    case HTTP_TUNNEL:
        set_term(c, "cD");
        c->err = "idle-timeout";
        c->state = HTTP_CLOSED;
        break;
    case HTTP_DRAIN:
    case HTTP_CLOSED:
        if (output_pending(c)) {
            set_term(c, "cD");
            c->err = "client-timeout";
        }
        c->state = HTTP_CLOSED;
        break;
    }
}

static void
arm_timer(struct http_conn *c)
{
    ev_tstamp client, server, d;

    deadlines(c, &client, &server);
    d = deadline_min(client, server);
    if (deadline_is_none(d)) {
        ev_timer_stop(c->loop, &c->timer);
        return;
    }
    /* An earlier firing only re-arms for the time remaining: no restart on progress. */
    if (ev_is_active(&c->timer) && c->timer_at <= d)
        return;
    ev_timer_stop(c->loop, &c->timer);
    ev_timer_set(&c->timer, d - ev_now(c->loop) > 0 ? d - ev_now(c->loop) : 0, 0);
    ev_timer_start(c->loop, &c->timer);
    c->timer_at = d;
}

/* Watcher interest follows the buffers: read a side while its inbound buffer has room, write
 * while its outbound buffer holds bytes for it. */
static void
arm(struct http_conn *c)
{
    bool cr = false, cw = output_pending(c), sr = false, sw = false;
    bool req_room = c->cl.pipe != NULL ? !c->cl.pipe_full && !body_is_done(&c->cl.body)
                                     : c->cl.in == NULL ||
                                       buf_len(c->cl.in) + c->req_hold < req_limit();
    bool resp_room = c->sv.pipe != NULL ? !c->sv.pipe_full && !body_is_done(&c->sv.body)
                                      : c->sv.in == NULL || buf_len(c->sv.in) < c->sv.in->cap;

    switch (c->state) {
    case HTTP_HEAD:
        cr = !c->cl.eof && req_room;
        sr = c->sv.fd >= 0;
        break;
    case HTTP_CONNECT:
        cr = !c->cl.eof && req_room;
        sw = true;
        break;
    case HTTP_RELAY:
    case HTTP_TUNNEL:
        cr = !c->cl.eof && req_room;
        sr = !c->sv.eof && resp_room;
        sw = request_pending(c) && !c->server_wr_err;
        break;
    case HTTP_DRAIN:
        cr = !c->cl.eof;
        break;
    case HTTP_CLOSED:
        cw = false;
        break;
    }
    /* A pipe is held only with bytes in it, and never with bytes in the buffer before. */
    assert(c->sv.pipe == NULL || (c->sv.pipe->len > 0 && buf_len(c->sv.in) == 0));
    assert(c->cl.pipe == NULL || (c->cl.pipe->len > 0 && buf_len(c->cl.in) == 0));
    http_set_io(c->loop, &c->cl.io, c->cl.fd, (cr ? EV_READ : 0) | (cw ? EV_WRITE : 0));
    http_set_io(c->loop, &c->sv.io, c->sv.fd, (sr ? EV_READ : 0) | (sw ? EV_WRITE : 0));
    arm_timer(c);
    assert(c->state == HTTP_CLOSED || ev_is_active(&c->cl.io) || ev_is_active(&c->sv.io) ||
           ev_is_active(&c->timer));
}

static void
conn_free(struct http_conn *c)
{
    struct ev_loop *loop = c->loop;

    http_log_request(c);
    http_idle_client_leave(c);
    http_release_server(c);              /* an idle server connection outlives its client */
    http_set_io(loop, &c->cl.io, -1, 0);
    http_set_io(loop, &c->sv.io, -1, 0);
    ev_timer_stop(loop, &c->timer);
    if (c->cl.fd >= 0)
        close(c->cl.fd);
    buf_put(c->cl.in);
    buf_put(c->sv.in);
    buf_pipe_put(c->sv.pipe);
    buf_pipe_put(c->cl.pipe);
    free(c->text);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        http_eng.list = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    admit_leave();
    free(c->local);
    free(c);
}

/* The tunnel ended in conn.c: its bytes count in the exchange's, and so does its end,
 * unless the connection had one already (the end of the grace period, "K-"). */
static void
tunnel_done(void *arg, const struct conn_tunnel_end *e)
{
    struct http_conn *c = arg;

    c->tunnel = NULL;
    c->bytes_in += e->from_client;
    c->bytes_out += e->from_server;
    if (c->term[0] == '-') {
        c->term[0] = e->term[0];
        c->term[1] = e->term[1];
        c->err = e->err;
        c->err_no = e->err_no;
    }
    c->state = HTTP_CLOSED;
    conn_free(c);
}

/* A WebSocket tunnel goes to the relay of conn.c, the one that relays tls listeners'
 * connections (splice, half-close, timeout tunnel, the kernel relay when the listener
 * asks for it), once nothing waits here in either direction and neither side has
 * closed: until then (a client slow to take what came with the 101, a FIN already in)
 * it stays here. The connection keeps its request's bookkeeping, without sockets, for
 * the log line (tunnel_done()). Returns whether the tunnel went. */
static bool
tunnel_handover(struct http_conn *c)
{
    struct conn *t;

    if (request_pending(c) || output_pending(c) || buf_len(c->cl.in) > 0 ||
        buf_len(c->sv.in) > 0 || c->cl.eof || c->sv.eof || c->cl.shut || c->sv.shut ||
        c->server_wr_err)
        return false;
    http_set_io(c->loop, &c->cl.io, -1, 0);
    http_set_io(c->loop, &c->sv.io, -1, 0);
    t = conn_tunnel(c->loop, c->cl.fd, c->sv.fd, c->l, tunnel_done, c);
    if (t == NULL)
        return false;               /* no memory: relayed here (arm() watches again) */
    ev_timer_stop(c->loop, &c->timer);
    put_if_empty(&c->cl.in);
    put_if_empty(&c->sv.in);
    c->cl.fd = c->sv.fd = -1;
    c->tunnel = t;
    return true;
}

static void
finish(struct http_conn *c)
{
    if (c->state == HTTP_CLOSED) {
        conn_free(c);                   /* the one place a connection is freed */
        return;
    }
    http_uncork(c);
    if (c->state == HTTP_TUNNEL && tunnel_handover(c))
        return;
    arm(c);
}

static void
io_cb(struct ev_loop *loop, struct ev_io *w, int revents)
{
    struct http_conn *c = w->data;

    struct http_side *s = w == &c->cl.io ? &c->cl : &c->sv;
    bool full = false;

    (void)loop;
    if (s == &c->sv && c->state == HTTP_CONNECT) {
        if (revents & (EV_WRITE | EV_READ))
            http_connect_done(c, false);
        http_run(c);
        finish(c);
        return;
    }
    if (revents & EV_READ)
        full = http_read_side(c, s);
    if (revents & EV_WRITE)
        http_write_side(c, s);
    http_run(c);
    /* A read that filled its buffer leaves more queued: once forwarding made room,
     * reading again at once saves a loop turn per buffer on bulk transfers. */
    for (int i = 1; full && i < READ_ROUNDS && http_may_read_again(c, s); i++) {
        full = http_read_side(c, s);
        http_run(c);
    }
    finish(c);
}

static void
timer_cb(struct ev_loop *loop, struct ev_timer *w, int revents)
{
    struct http_conn *c = w->data;
    ev_tstamp client, server, d;

    (void)loop;
    (void)revents;
    deadlines(c, &client, &server);
    d = deadline_min(client, server);
    if (d <= ev_now(c->loop) + 0.0005) {
        expire(c);
        http_run(c);
    }
    finish(c);
}

int
http_init(const struct yt_table *t)
{
    uint32_t cap = DEFAULT_MAX_HEAD, idle_ms;
    bool l7 = false;

    for (uint32_t i = 0; i < t->listener_count; i++) {
        const struct yt_listener *l = &t->listeners[i];
        uint32_t m = l->max_head ? l->max_head : DEFAULT_MAX_HEAD;
        /* metrics listeners read their heads into buffers of their own (scrape.c) */
        bool mine = l->mode == YT_MODE_HTTP || l->mode == YT_MODE_REDIRECT;

        if (mine && m > cap)
            cap = m;
        l7 = l7 || mine;
    }
    http_eng.t = t;
    http_eng.quiescing = false;
    buf_pool_init(&http_eng.bufs, cap + RESERVE, 0, FREE_BUFS_MAX);
    buf_pipe_pool_init(&http_eng.pipes, PIPE_SIZE, PIPE_POOL_KEEP, PIPE_MAX_IN_USE);
    http_eng.splice_off = false;
    idle_ms = t->timeouts.server_ms != 0 && t->timeouts.server_ms < IDLE_TIMEOUT_MS
              ? t->timeouts.server_ms : IDLE_TIMEOUT_MS;
    return ups_init(&http_eng.ups, t, l7 ? idle_ms : 0);
}

void
http_fini(void)
{
    buf_pool_trim(&http_eng.bufs);
    buf_pipe_pool_trim(&http_eng.pipes);
    ups_fini(&http_eng.ups);
}

void
http_accept(struct ev_loop *loop, int fd, const struct yt_listener *l,
            const union yt_addr *peer)
{
    struct http_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        log_msg(LOG_LEVEL_ERR, "l7 listener=%.*s err=out-of-memory close", (int)l->name.len,
                http_eng.t->blob + l->name.off);
        close(fd);
        return;
    }
    c->loop = loop;
    c->l = l;
    c->cl.fd = fd;
    c->sv.fd = -1;
    c->id = stats_next_id();
    c->peer = *peer;
    c->peer_text_len = (uint32_t)alog_addr(peer, c->peer_text, sizeof(c->peer_text), true);
    c->proxy_pending = l->range_count > 0;
    c->up.server = YT_NONE;
    c->max_head = l->max_head ? l->max_head : DEFAULT_MAX_HEAD;
    if (c->max_head > req_limit())
        c->max_head = req_limit();
    ev_io_init(&c->cl.io, io_cb, fd, EV_READ);
    ev_io_init(&c->sv.io, io_cb, -1, 0);
    ev_timer_init(&c->timer, timer_cb, 0, 0);
    c->cl.io.data = c->sv.io.data = c->timer.data = c;
    http_reset_request(c);
    c->t_req = c->cl.last = ev_now(loop);
    c->req_active = true;           /* the first request is awaited from the accept on */
    /* TCP_NODELAY comes from the listening socket (listener.c). */
    c->next = http_eng.list;
    if (http_eng.list != NULL)
        http_eng.list->prev = c;
    http_eng.list = c;
    admit_enter();
    /* Each client may need a server descriptor: idle ones give way, so that descriptors stay
     * within what maxconn was settled for (two per connection). */
    ups_idle_fit(&http_eng.ups);
    if (http_eng.quiescing) {
        c->state = HTTP_CLOSED;
        finish(c);
        return;
    }
    arm(c);
}


bool
http_has_idle(void)
{
    return http_eng.idle_cli_oldest != NULL;
}

bool
http_reclaim_idle(void)
{
    struct http_conn *c = http_eng.idle_cli_oldest;

    /* A few at most: one whose next request is already in its socket is left alone (a
     * close would reset it and lose the request); it leaves the list when read. */
    for (int i = 0; c != NULL && i < 8; i++, c = c->idle_newer) {
        if (ev_is_pending(&c->cl.io) || ups_has_unread(c->cl.fd))
            continue;
        c->state = HTTP_CLOSED;     /* an idle keep-alive close: no log line */
        finish(c);
        return true;
    }
    return false;
}

/* Connections between two requests close now; the others end after their exchange. A
 * connection that has not sent its first request yet is served: it was accepted from the
 * listening socket a moment ago, its client has a request on the way (after a takeover
 * the next process accepts the ones still queued), and closing it would lose that
 * request. So is one whose next request is already in the kernel. */
void
http_quiesce(struct ev_loop *loop)
{
    struct http_conn *c = http_eng.list, *next;

    (void)loop;
    http_eng.quiescing = true;
    ups_idle_close_all(&http_eng.ups);
    for (; c != NULL; c = next) {
        next = c->next;
        if (c->state == HTTP_HEAD && c->nreq > 0 && buf_len(c->cl.in) == 0 &&
            !output_pending(c) && !ups_has_unread(c->cl.fd)) {
            if (!c->got_bytes)
                c->req_active = false;  /* nothing asked: no request to log */
            c->state = HTTP_CLOSED;
            finish(c);
        }
    }
}

void
http_close_all(struct ev_loop *loop)
{
    http_eng.quiescing = true;             /* nothing is parked from here on */
    ups_idle_close_all(&http_eng.ups);
    while (http_eng.list != NULL) {
        struct http_conn *c = http_eng.list;

        c->term[0] = 'K';
        if (c->term[1] == '\0')
            c->term[1] = '-';
        c->state = HTTP_CLOSED;
        if (c->tunnel != NULL)
            conn_close(loop, c->tunnel);    /* frees c (tunnel_done()) */
        else
            conn_free(c);
    }
}

size_t
http_struct_size(void)
{
    return sizeof(struct http_conn);
}
